"""The FIML-corrected test behind lavaan's robust CFI, TLI and RMSEA with missing answers.

lavaan 0.6.14 (``lav_fit_fiml_corrected``, after Zhang and Savalei 2023, "FIML-C") does not
use the FIML chi-square for its ``*.robust`` indices. It refits nothing: it treats the EM
moments as if they were complete-data sample moments and takes the ML chi-square of the
model at its FIML estimates against them (``XX3``), and the same for the baseline model at
its FIML estimates (``XX3.null``). Each statistic's expected value under the model, c-hat
times df, comes from three saturated informations at the EM moments, per respondent and
with the means first: ``Wm`` the observed information of the incomplete-data likelihood,
``Wc`` the complete-data one and, under MLR, ``Jm`` the first-order one (scores' outer
product). With ``Delta`` the model's Jacobian of (means, vech Sigma) and
``U = Wm - Wm Delta (Delta' Wm Delta)^-1 Delta' Wm``:

    MLR ("V3"):  c-hat df = tr(U Wm^-1 Wc Wm^-1 U Gamma),  Gamma = Wm^-1 Jm Wm^-1
    ML  ("V6"):  c-hat df = tr(Wc Wm^-1 U Wm^-1)

With groups the matrices are block diagonal over the groups, weighted by ``n_g / N``
(``Wm``, ``Wc``) or its inverse (``Wm^-1``, ``Gamma``), and ``Delta`` stacks the groups'
Jacobians over the shared parameters. The baseline model's ``Delta`` picks out the items'
means and variances, and under fixed.x every matrix leaves out the covariates' own
moments, as lavaan zeroes them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from acsi_sem.model.ram import RamModel
from acsi_sem.numerics.constrained import constrained_inverse
from acsi_sem.numerics.fiml import MissingPatterns, item_moments
from acsi_sem.numerics.ml import ml_value
from acsi_sem.numerics.robust import duplication_matrix
from acsi_sem.numerics.robust_fiml import covariate_moments, saturated_missing_information


@dataclass(frozen=True)
class SaturatedGroup:
    """One group's saturated model at its EM moments.

    Attributes:
        n_obs: n_g, the group's respondents.
        means, covariance: (p,) and (p, p) EM moments.
        observed: (k, k) Wm, the incomplete-data observed information per respondent,
            k = p + p(p+1)/2 (means first, then vech in ``np.triu_indices`` order).
        first_order: (k, k) Jm, the mean outer product of the respondents' scores.
        baseline_means, baseline_variances: (p,) each, the baseline model's FIML
            estimates: each item's mean and variance (divisor: its answers) on its own
            answers.
        covariates: positions of the fixed.x covariates (complete answers).
    """

    n_obs: int
    means: np.ndarray
    covariance: np.ndarray
    observed: np.ndarray
    first_order: np.ndarray
    baseline_means: np.ndarray
    baseline_variances: np.ndarray
    covariates: tuple[int, ...] = ()

    @classmethod
    def at_em(cls, patterns: MissingPatterns, items: np.ndarray, means: np.ndarray,
              covariance: np.ndarray, covariates: tuple[int, ...] = ()) -> SaturatedGroup:
        """The saturated informations of answers ``items`` (n, p; NaN where missing) at
        the EM moments ``means`` (p,) and ``covariance`` (p, p); weighted where
        ``patterns`` carry sampling weights."""
        observed, first_order = saturated_missing_information(patterns, items, means,
                                                              covariance)
        baseline = np.array([item_moments(column[~np.isnan(column)],
                                          None if patterns.row_weights is None
                                          else patterns.row_weights[~np.isnan(column)])
                             for column in items.T])
        return cls(patterns.n_obs, means, covariance, observed, first_order,
                   baseline[:, 0], baseline[:, 1], covariates)

    @property
    def kept(self) -> np.ndarray:
        """(k,) False at the covariates' own moments, which lavaan zeroes in Wm, Jm and Wc
        (and its inverse leaves out) under fixed.x."""
        return ~covariate_moments(len(self.means), self.covariates)

    @property
    def complete(self) -> np.ndarray:
        """(k, k) Wc: the complete-data information at the EM moments,
        Sigma^-1 for the means and (1/2) D'(Sigma^-1 (x) Sigma^-1) D for the covariances."""
        inverse = np.linalg.inv(self.covariance)
        duplication = duplication_matrix(len(self.means))
        return _block_diag(
            inverse, 0.5 * duplication.T @ np.kron(inverse, inverse) @ duplication)

    @property
    def baseline_covariance(self) -> np.ndarray:
        """(p, p) the baseline model's implied covariance: the items' own variances, and
        the covariates' block at their sample (co)variances."""
        covariance = np.diag(self.baseline_variances)
        block = np.ix_(self.covariates, self.covariates)
        covariance[block] = self.covariance[block]
        return covariance

    def baseline_jacobian(self) -> np.ndarray:
        """(k, 2 p') derivatives of (means, vech covariance) by the baseline model's free
        parameters, the means and variances of the p' items that are not covariates: it
        picks them out."""
        p = len(self.means)
        items = np.setdiff1d(np.arange(p), self.covariates)
        rows, cols = np.triu_indices(p)
        variances = np.flatnonzero(rows == cols)[items]
        jacobian = np.zeros((p + len(rows), 2 * len(items)))
        jacobian[items, np.arange(len(items))] = 1.0
        jacobian[p + variances, len(items) + np.arange(len(items))] = 1.0
        return jacobian


@dataclass(frozen=True)
class CorrectedTest:
    """lavaan's FIML-corrected statistics of a model and its baseline.

    Attributes:
        chisq: XX3, the model at its FIML estimates against the EM moments.
        c_hat: c-hat3, the statistic's expected value over its df.
        baseline_chisq, baseline_c_hat: the same for the baseline (independence) model.
    """

    chisq: float
    c_hat: float
    baseline_chisq: float
    baseline_c_hat: float


@dataclass(frozen=True)
class ModelMoments:
    """One group's implied moments at the FIML estimates and their Jacobian.

    Attributes:
        means, covariance: (p,) and (p, p) implied moments.
        jacobian: (k, Q) derivatives of (means, vech covariance) by the Q parameters of
            the whole model (zero columns for another group's own parameters).
    """

    means: np.ndarray
    covariance: np.ndarray
    jacobian: np.ndarray

    @classmethod
    def of_ram(cls, ram: RamModel, theta: np.ndarray, index: np.ndarray | None = None,
               n_total: int | None = None) -> ModelMoments:
        """The moments of ``ram`` at its parameters ``theta`` (q,); ``index`` (q,) places
        them among ``n_total`` parameters of a multi-group model (all of them by default)."""
        p = ram.n_observed
        rows, cols = np.triu_indices(p)
        local = np.vstack([ram.mean_derivatives(theta).T,
                           ram.sigma_derivatives(theta)[:, rows, cols].T])
        if index is None:
            jacobian = local
        else:
            jacobian = np.zeros((len(local), n_total))
            np.add.at(jacobian.T, index, local.T)  # two local parameters may share one
        return cls(ram.implied_mean(theta), ram.implied_covariance(theta), jacobian)


def fiml_corrected_test(groups: list[SaturatedGroup], models: list[ModelMoments],
                        df: float, baseline_df: float, *, robust: bool,
                        basis: np.ndarray | None = None) -> CorrectedTest:
    """lavaan's ``lav_fit_fiml_corrected``: the statistics and c-hats of the model and its
    baseline, one entry of ``groups`` and ``models`` per group.

    Args:
        df, baseline_df: degrees of freedom of the model and of the baseline model.
        robust: MLR (lavaan's version "V3", with the scores) or ML ("V6").
        basis: (Q, Q - r) the directions binding constraints leave free, or None.

    Every entry is NaN where an information cannot be inverted, as lavaan's.
    """
    try:
        return _corrected_test(groups, models, df, baseline_df, robust=robust, basis=basis)
    except np.linalg.LinAlgError:
        return CorrectedTest(np.nan, np.nan, np.nan, np.nan)


def _corrected_test(groups: list[SaturatedGroup], models: list[ModelMoments], df: float,
                    baseline_df: float, *, robust: bool, basis: np.ndarray | None
                    ) -> CorrectedTest:
    saturated = _SaturatedBlocks.of(groups)
    model_jacobian = np.vstack([model.jacobian[group.kept]
                                for model, group in zip(models, groups, strict=True)])
    baseline_jacobian = _block_diag(*[group.baseline_jacobian()[group.kept]
                                            for group in groups])
    return CorrectedTest(
        chisq=sum(_ml_chisq(g, m.means, m.covariance) for g, m in zip(groups, models,
                                                                       strict=True)),
        c_hat=(saturated.expected_statistic(model_jacobian, basis, robust=robust) / df
               if df > 0 else np.nan),
        baseline_chisq=sum(_ml_chisq(g, g.baseline_means, g.baseline_covariance)
                           for g in groups),
        baseline_c_hat=saturated.expected_statistic(baseline_jacobian, None,
                                                    robust=robust) / baseline_df)


@dataclass(frozen=True)
class _SaturatedBlocks:
    """The saturated informations of all groups as block-diagonal matrices over the kept
    moments, each group weighted as lavaan: ``observed`` (Wm) and ``complete`` (Wc) by
    f_g = n_g / N, ``observed_inv`` (Wm^-1) and ``gamma`` (Wm^-1 Jm Wm^-1) by 1 / f_g."""

    observed: np.ndarray
    observed_inv: np.ndarray
    complete: np.ndarray
    gamma: np.ndarray

    @classmethod
    def of(cls, groups: list[SaturatedGroup]) -> _SaturatedBlocks:
        n_total = sum(group.n_obs for group in groups)
        parts = []
        for group in groups:
            weight, kept = group.n_obs / n_total, np.ix_(group.kept, group.kept)
            observed = group.observed[kept]
            inverse = np.linalg.inv(observed)
            parts.append((weight * observed, inverse / weight, weight * group.complete[kept],
                          inverse @ group.first_order[kept] @ inverse / weight))
        return cls(*(_block_diag(*blocks) for blocks in zip(*parts, strict=True)))

    def expected_statistic(self, jacobian: np.ndarray, basis: np.ndarray | None, *,
                           robust: bool) -> float:
        """c-hat times df of a model with this (K, Q) Jacobian: lavaan's k.fimlc."""
        weighted = self.observed @ jacobian
        information = jacobian.T @ weighted
        residual = self.observed - weighted @ constrained_inverse(information, basis) @ (
            weighted.T)
        if robust:
            return float(np.trace(residual @ self.observed_inv @ self.complete
                                  @ self.observed_inv @ residual @ self.gamma))
        return float(np.trace(self.complete @ self.observed_inv @ residual
                              @ self.observed_inv))


def _ml_chisq(group: SaturatedGroup, means: np.ndarray, covariance: np.ndarray) -> float:
    """n_g F_ML of implied ``means`` and ``covariance`` against the EM moments, as
    lavaan's test of a fit to sample moments (means included); ``inf`` where the implied
    covariance is not positive definite."""
    residual = group.means - means
    discrepancy = ml_value(covariance, group.covariance)
    if np.isfinite(discrepancy):
        discrepancy += residual @ np.linalg.solve(covariance, residual)
    return float(group.n_obs * discrepancy)


def _block_diag(*blocks: np.ndarray) -> np.ndarray:
    """scipy's ``block_diag``, imported on first use: scipy.linalg costs every complete-data
    fit 0.07 s to import."""
    from scipy.linalg import block_diag

    return block_diag(*blocks)
