"""The CB-SEM bootstrap statistic for many replicates at once.

:func:`batched_cbsem_statistic` turns count weights (b, n) into the same vector per replicate
as the one-at-a-time statistic of :func:`acsi_sem.estimators.cbsem.bootstrap_cbsem`: free
parameters, defined parameters, indirect and total effects, HTMT. Moments come from one
matrix product, estimates from batched ML iterations started at the full-sample solution;
a replicate whose batched iterations do not reach the gradient tolerance is handed to the
one-at-a-time statistic, so every replicate ends where the one-at-a-time path ends.

fixed.x covariates change the model with every resample (their moments are held at the
resample's values). The batch frees them instead: with complete data, ML estimates of the
covariates' (co)variances (and means) are their sample moments and the other estimates do
not change (the likelihood factors into the covariates' marginal and the rest given them),
so one model serves every replicate. A modelled mean structure (growth models, latent
means) is fitted as the covariance structure of :mod:`acsi_sem.numerics.augmented`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from acsi_sem.model.ram import build_ram
from acsi_sem.model.spec import ModelSpec, number_free_parameters
from acsi_sem.numerics.augmented import augmented_moments, augmented_ram
from acsi_sem.numerics.batched import BatchedRam, minimize_ml_batched, weighted_moments
from acsi_sem.numerics.cbsem import CbsemSolution
from acsi_sem.numerics.ml import REFIT_RUNAWAY
from acsi_sem.numerics.pls import PlsLayout, total_effects
from acsi_sem.resample import Replicate, ReplicateBatch, settle_failed
from acsi_sem.statistics.standardize import row_values


def batched_cbsem_statistic(solution: CbsemSolution, items: np.ndarray, effects: pd.DataFrame,
                            layout: PlsLayout, one_at_a_time: Callable[[np.ndarray], Replicate],
                            row_weights: np.ndarray | None = None
                            ) -> Callable[[np.ndarray], ReplicateBatch]:
    """A batched bootstrap statistic (complete data, no constraints).

    Args:
        solution: the full-sample ML solution (its ``theta`` starts every replicate).
        items: (n, p) data in ``spec.observed`` order.
        effects: the full-sample effects table (its ``lhs, rhs`` pairs are bootstrapped).
        layout: the blocks whose HTMT is bootstrapped.
        one_at_a_time: the one-at-a-time statistic, given row indices, for replicates the
            batch leaves unconverged.
        row_weights: (n,) sampling weights, multiplying the resample counts, or None.
    """
    table = solution.spec.table
    free = table["free"].to_numpy()
    modelled_means = bool(solution.ram.m_rows.size)
    bootstrapped = ["=~", "~", "~~", "~1"] if modelled_means else ["=~", "~", "~~"]
    values_rows = np.flatnonzero(table["op"].isin(bootstrapped).to_numpy() & (free > 0))
    spec, start = covariate_moments_freed(solution)
    ram = (solution.ram if spec is solution.spec
           else build_ram(spec, means=modelled_means))
    if modelled_means:
        ram = augmented_ram(ram)
    variance_rows = solution.spec.variance_rows
    has_definitions = bool((table["op"] == ":=").any())
    position = {name: i for i, name in enumerate(ram.variables)}
    pairs = (np.array([position[name] for name in effects["lhs"]], dtype=int),
             np.array([position[name] for name in effects["rhs"]], dtype=int))
    regression = table[table["op"] == "~"]
    cells = (np.array([position[name] for name in regression["lhs"]], dtype=int),
             np.array([position[name] for name in regression["rhs"]], dtype=int))
    indicator_columns = [spec.observed.index(name) for name in layout.indicators]
    batched_ram = BatchedRam.of(ram)

    def statistic(weights: np.ndarray) -> ReplicateBatch:
        means, covariances = weighted_moments(items, weights if row_weights is None
                                              else weights * row_weights)
        moments = augmented_moments(means, covariances) if modelled_means else covariances
        fitted = minimize_ml_batched(ram, start, moments, runaway=REFIT_RUNAWAY)
        theta = fitted.theta
        rows = row_values(spec, theta)
        parts = [rows[:, values_rows]]
        if has_definitions:
            parts.append(_definitions(spec, rows))
        a_matrix, _ = batched_ram.matrices(theta)
        parts += list(path_effects(a_matrix, cells, pairs))
        parts.append(batched_htmt(covariances[:, indicator_columns][:, :, indicator_columns],
                                  layout.blocks))
        values = np.concatenate(parts, axis=1)
        improper = (rows[:, variance_rows] < 0).any(axis=1)
        return settle_failed(weights, values, improper, ~fitted.converged, one_at_a_time)

    return statistic


def covariate_moments_freed(solution: CbsemSolution) -> tuple[ModelSpec, np.ndarray]:
    """``(spec, theta (q',))``: the solution's specification with its fixed.x covariates'
    (co)variances (and, in its mean structure, means) made free parameters, and its
    estimates with those moments in their places; the solution's own where it has no
    covariates."""
    spec = solution.spec
    table = spec.table
    moments = ["~~", "~1"] if solution.ram.m_rows.size else ["~~"]
    held = ((table["exo"] == 1) & table["op"].isin(moments)).to_numpy()
    if not held.any():
        return spec, solution.theta
    values = row_values(spec, solution.theta)
    freed = table.copy()
    freed.loc[held, "free"] = 1
    freed["free"] = number_free_parameters(freed)
    freed_spec = spec.with_table(freed)
    numbers = freed["free"].to_numpy()
    theta = np.empty(numbers.max())
    theta[numbers[numbers > 0] - 1] = values[numbers > 0]
    # Saturated intercepts are numbered after the RAM's parameters and are not among them.
    count = freed_spec.n_free if solution.ram.m_rows.size else freed_spec.n_covariance_free
    return freed_spec, theta[:count]


def _definitions(spec, rows: np.ndarray) -> np.ndarray:
    """(b, d) defined parameters, one replicate at a time (user expressions)."""
    from acsi_sem.statistics.defined import evaluate_definitions
    from acsi_sem.statistics.standardize import label_map

    return np.array([list(evaluate_definitions(spec, label_map(spec, row)).values())
                     for row in rows])


def path_effects(a_matrix: np.ndarray, cells: tuple[np.ndarray, np.ndarray],
                 pairs: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Indirect and total effects (b, e) of the ``pairs`` (Bollen 1987: total
    ``(I - Beta)^-1 - I``), ``Beta`` holding the regression cells of ``a_matrix`` (b, m, m)."""
    structural = np.zeros_like(a_matrix)
    structural[:, cells[0], cells[1]] = a_matrix[:, cells[0], cells[1]]
    total = total_effects(structural)
    picked_total = total[:, pairs[0], pairs[1]]
    picked_direct = structural[:, pairs[0], pairs[1]]
    return picked_total - picked_direct, picked_total


def batched_htmt(covariances: np.ndarray, blocks: tuple[np.ndarray, ...]) -> np.ndarray:
    """HTMT above the diagonal, row by row, (b, L(L-1)/2), of b indicator covariance
    matrices (b, k, k): ``heterotrait_monotrait`` on their correlations (absolute values,
    single items count as 1)."""
    sd = np.sqrt(np.einsum("bii->bi", covariances))
    correlation = np.abs(covariances / (sd[:, :, None] * sd[:, None, :]))
    monotrait = []
    for block in blocks:
        if len(block) > 1:
            upper = np.triu_indices(len(block), 1)
            inner = correlation[:, block][:, :, block]
            monotrait.append(inner[:, upper[0], upper[1]].mean(axis=1))
        else:
            monotrait.append(np.ones(len(covariances)))
    values = []
    for a in range(len(blocks)):
        for b in range(a + 1, len(blocks)):
            hetero = correlation[:, blocks[a]][:, :, blocks[b]].mean(axis=(1, 2))
            values.append(hetero / np.sqrt(monotrait[a] * monotrait[b]))
    return np.stack(values, axis=1) if values else np.zeros((len(covariances), 0))
