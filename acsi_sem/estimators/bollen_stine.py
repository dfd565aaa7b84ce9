"""The Bollen-Stine bootstrap of the chi-square test (Bollen & Stine 1992), as lavaan's
``test = "bollen.stine"``.

The answers are rotated so that the model holds exactly in them,

    Y* = (Y - ybar) S^-1/2 Sigma^1/2 (+ mu with modelled means),

with ``S`` the sample covariance (divisor N), ``Sigma`` and ``mu`` the fitted moments and
symmetric square roots; resamples of ``Y*`` are drawn from a population where the model is
true, so their refitted chi-squares are the test's distribution under the null even where
the answers are not normal (Likert items). The p-value is lavaan's, the share of converged
replicates whose chi-square exceeds the sample's: ``#(T*_b > T) / B``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from acsi_sem.model.ram import build_ram
from acsi_sem.numerics.cbsem import CbsemSolution, fill_fixed_x, refit_moments
from acsi_sem.numerics.constrained import constraint_system
from acsi_sem.numerics.ml import ml_value
from acsi_sem.resample import resampled_rows
from acsi_sem.survey.prepare import PreparedData

if TYPE_CHECKING:
    from acsi_sem.numerics.multigroup import GroupedSolution, GroupMoments


@dataclass(frozen=True)
class BollenStine:
    """The bootstrap test.

    Attributes:
        statistic: T, the sample's chi-square.
        pvalue: ``#(T*_b > T) / B`` over the B converged replicates.
        draws: (B,) the replicates' chi-squares.
        requested: replicates asked for; ``requested - len(draws)`` did not converge.
        seed: the seed of the resampling.
    """

    statistic: float
    pvalue: float
    draws: np.ndarray
    requested: int
    seed: int | None

    def summary_line(self) -> str:
        """One line for the result's notes."""
        failed = self.requested - len(self.draws)
        return (f"Bollen-Stine bootstrap: {self.requested} replicates of the rotated data "
                f"(seed {self.seed}), {len(self.draws)} used, {failed} not converged (left "
                f"out); p = {self.pvalue:.3f} (share of replicates with a larger chi-square)")


def rotated_answers(items: np.ndarray, implied_cov: np.ndarray,
                    implied_means: np.ndarray | None = None) -> np.ndarray:
    """(n, p) answers whose covariance (divisor N) is ``implied_cov`` and whose means are
    ``implied_means`` (0 when ``None``): Bollen and Stine's transformation of ``items``."""
    from scipy.linalg import sqrtm  # here: scipy.linalg costs every fit 0.07 s to import

    deviations = items - items.mean(axis=0)
    sample_cov = deviations.T @ deviations / len(items)
    rotation = np.real(np.linalg.inv(sqrtm(sample_cov)) @ sqrtm(implied_cov))
    rotated = deviations @ rotation
    return rotated if implied_means is None else rotated + implied_means


def bollen_stine(solution: CbsemSolution, data: PreparedData, replicates: int,
                 seed: int | None, chisq: float) -> BollenStine:
    """The Bollen-Stine test of a single-group ML fit of complete, unweighted data.

    Args:
        solution: the ML solution (its estimates start every replicate).
        data: the checked data.
        replicates: B, the number of resamples.
        seed: seed of the resampling (:func:`acsi_sem.resample.resampled_rows`).
        chisq: T, the sample's chi-square.
    """
    ram, theta, spec = solution.ram, solution.theta, solution.spec
    modelled_means = bool(ram.m_rows.size)
    rotated = rotated_answers(data.frame.to_numpy(), ram.implied_covariance(theta),
                              ram.implied_mean(theta) if modelled_means else None)
    system = constraint_system(spec)
    has_covariates = bool((spec.table["exo"] == 1).any())
    n = len(rotated)
    draws = []
    for rows in resampled_rows(n, replicates, seed):
        sample = rotated[rows]
        means = sample.mean(axis=0)
        covariance = (sample - means).T @ (sample - means) / n
        model = (build_ram(fill_fixed_x(spec, covariance, means), means=modelled_means)
                 if has_covariates else ram)
        try:
            fitted = refit_moments(model, theta, covariance, means, system)
        except np.linalg.LinAlgError:
            continue
        if fitted.converged:
            draws.append(n * _discrepancy(model, fitted.theta, covariance, means))
    values = np.array(draws)
    pvalue = float(np.mean(values > chisq)) if len(values) else np.nan
    return BollenStine(chisq, pvalue, values, replicates, seed)


def bollen_stine_groups(solution: GroupedSolution, data: PreparedData, replicates: int,
                        seed: int | None, chisq: float) -> BollenStine:
    """The Bollen-Stine test of a multi-group ML fit of complete, unweighted data: each
    group's answers rotated to its own fitted covariance and means, resamples drawn within
    the groups (as the group bootstrap draws them) and refitted across the groups under the
    model's equalities; a replicate's statistic is the multi-group chi-square
    ``sum_g n_g F_g``.

    Args:
        solution: the multi-group ML solution (its estimates start every replicate).
        data: the checked data with its group labels.
        replicates, seed, chisq: as for :func:`bollen_stine`.
    """
    from acsi_sem.numerics.multigroup import fit_ml_groups, with_group_fixed_x

    grouped = solution.grouped
    codes = data.groups.to_numpy()
    answers = data.frame.to_numpy()
    rotated = np.empty_like(answers)
    for view, ram, label in zip(grouped.views, solution.rams, grouped.labels, strict=True):
        local, members = solution.theta[view.global_index], codes == label
        rotated[members] = rotated_answers(answers[members], ram.implied_covariance(local),
                                           ram.implied_mean(local))
    draws = []
    for rows in resampled_rows(len(rotated), replicates, seed, strata=codes):
        sample, sample_codes = rotated[rows], codes[rows]
        moments = tuple(_moments(sample[sample_codes == label]) for label in grouped.labels)
        # The resample's covariates at their own moments, as lavaan refits it: otherwise
        # their block's misfit (zero in a fit of the rows themselves) would inflate every
        # replicate (the ML estimates do not depend on them, the chi-square does).
        refilled = with_group_fixed_x(grouped, moments)
        try:
            fitted = fit_ml_groups(refilled, moments, solution.theta, max_iterations=50)
        except np.linalg.LinAlgError:
            continue
        if fitted.converged:
            draws.append(len(rotated) * fitted.discrepancy)
    values = np.array(draws)
    pvalue = float(np.mean(values > chisq)) if len(values) else np.nan
    return BollenStine(chisq, pvalue, values, replicates, seed)


def _moments(part: np.ndarray) -> GroupMoments:
    from acsi_sem.numerics.multigroup import GroupMoments

    means = part.mean(axis=0)
    return GroupMoments(n_obs=len(part), means=means,
                        covariance=(part - means).T @ (part - means) / len(part))


def _discrepancy(ram, theta: np.ndarray, covariance: np.ndarray, means: np.ndarray) -> float:
    """F_ML at the replicate's estimate, the means' misfit included where modelled."""
    sigma = ram.implied_covariance(theta)
    value = ml_value(sigma, covariance)
    if ram.m_rows.size:
        residual = means - ram.implied_mean(theta)
        value += float(residual @ np.linalg.solve(sigma, residual))
    return value
