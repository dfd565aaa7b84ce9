"""The study's numbers for a stack of b row weightings at once: the full sample (b = 1,
every row its sampling weight) or b bootstrap replicates (counts times sampling weights).

Everything comes from each company-by-wave cell's weighted sums of the items and of their
cross-products (:class:`CellSums`):

* the measurement fit of each group of cells (all cells pooled, the ACSI practice; or one
  group per industry or company), on the group's weighted correlations: PLS outer weights,
  loadings, and the item weights of the index (unstandardized, summing to 1 per block);
* each cell's 0-100 index: the group's item weights applied to the cell's weighted item
  means;
* each cell's path coefficients and R²: OLS between the cell's composites, built with the
  group's item weights and standardized within the cell;
* each group's item weights estimated wave by wave, to test whether they change.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from acsi_sem.numerics.pls import PlsLayout, path_coefficients
from acsi_sem.numerics.pls_batched import estimate_pls_batched

# A pooled item whose variance falls below this share of its overall variance is constant.
_CONSTANT = 1e-12


@dataclass(frozen=True)
class StudyLayout:
    """How the study's cells map onto measurement groups, waves and the model.

    Attributes:
        layout: the PLS model's index structure.
        cell_group: (C,) measurement group of each cell.
        cell_wave: (C,) wave position of each cell.
        n_groups, n_waves: G and T.
        paths: (outcome, cause) construct positions of the k structural paths.
        scale: the answer scale ``(lowest, highest)`` of the 0-100 index.
        scheme, tolerance, max_iterations: the PLS settings.
    """

    layout: PlsLayout
    cell_group: np.ndarray
    cell_wave: np.ndarray
    n_groups: int
    n_waves: int
    paths: tuple[np.ndarray, np.ndarray]
    scale: tuple[float, float]
    scheme: str = "path"
    tolerance: float = 1e-7
    max_iterations: int = 300


@dataclass(frozen=True)
class CellSums:
    """Weighted sums per cell for b weightings: ``total`` (b, C), ``first`` (b, C, p) and
    ``second`` (b, C, p, p), of items centred at ``centre`` (p,)."""

    total: np.ndarray
    first: np.ndarray
    second: np.ndarray
    centre: np.ndarray


def cell_sums(centred: np.ndarray, weights: np.ndarray, starts: np.ndarray,
              stops: np.ndarray, centre: np.ndarray) -> CellSums:
    """Sums of the centred items (N, p) under row weights (b, N), cell by cell (rows
    ``starts[c]:stops[c]``)."""
    count, p = len(weights), centred.shape[1]
    cells = len(starts)
    total = np.empty((count, cells))
    first = np.empty((count, cells, p))
    second = np.empty((count, cells, p, p))
    for cell, (start, stop) in enumerate(zip(starts, stops, strict=True)):
        rows, share = centred[start:stop], weights[:, start:stop]
        products = (rows[:, :, None] * rows[:, None, :]).reshape(len(rows), p * p)
        total[:, cell] = share.sum(axis=1)
        first[:, cell] = share @ rows
        second[:, cell] = (share @ products).reshape(count, p, p)
    return CellSums(total, first, second, centre)


def moments_over(sums: CellSums, cells: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Centred means (b, p) and covariances (b, p, p) (divisor: the weights' sum) of the
    cells ``cells`` pooled."""
    total = sums.total[:, cells].sum(axis=1)
    means = sums.first[:, cells].sum(axis=1) / total[:, None]
    second = sums.second[:, cells].sum(axis=1) / total[:, None, None]
    return means, second - means[:, :, None] * means[:, None, :]


@dataclass(frozen=True)
class Measurement:
    """A measurement fit of b weightings: outer ``weights`` (b, p) (standardized, each on
    its own construct), ``loadings`` (b, p), index ``item_weights`` (b, p) and
    ``converged`` (b,) (False also where an item was constant)."""

    weights: np.ndarray
    loadings: np.ndarray
    item_weights: np.ndarray
    converged: np.ndarray


def measure(covariances: np.ndarray, reference: np.ndarray, study: StudyLayout) -> Measurement:
    """PLS on the correlations of covariances (b, p, p); ``reference`` (p,) holds item
    variances below which a pooled item counts as constant. A stack the PLS cannot solve
    (a singular formative block) is solved one weighting at a time."""
    try:
        return _measure_stack(covariances, reference, study)
    except np.linalg.LinAlgError:
        parts = []
        for covariance in covariances:
            try:
                parts.append(_measure_stack(covariance[None], reference, study))
            except np.linalg.LinAlgError:
                p = len(covariance)
                parts.append(Measurement(*(np.full((1, p), np.nan) for _ in range(3)),
                                         np.zeros(1, dtype=bool)))
        return Measurement(*(np.concatenate([getattr(part, name) for part in parts])
                             for name in ("weights", "loadings", "item_weights", "converged")))


def _measure_stack(covariances: np.ndarray, reference: np.ndarray, study: StudyLayout
                   ) -> Measurement:
    p = covariances.shape[1]
    variances = np.einsum("bii->bi", covariances)
    constant = (variances <= _CONSTANT * reference).any(axis=1)
    sd = np.sqrt(np.where(constant[:, None], 1.0, variances))
    correlations = covariances / (sd[:, :, None] * sd[:, None, :])
    correlations[constant] = np.eye(p)
    layout = study.layout
    solution = estimate_pls_batched(correlations, layout, scheme=study.scheme,
                                    tolerance=study.tolerance,
                                    max_iterations=study.max_iterations)
    weights = solution.weights.sum(axis=2)
    raw = weights / sd
    item_weights = np.empty_like(raw)
    for block in layout.blocks:
        item_weights[:, block] = raw[:, block] / raw[:, block].sum(axis=1, keepdims=True)
    converged = solution.converged & ~constant & np.isfinite(item_weights).all(axis=1)
    return Measurement(weights, solution.loadings, item_weights, converged)


@dataclass(frozen=True)
class StudyEstimates:
    """The study's numbers for b weightings.

    Attributes:
        index: (b, C, L) 0-100 index of each cell and construct.
        paths: (b, C, k) path coefficients per cell (NaN where a cell's composites are
            constant or collinear).
        r2: (b, C, L) R² per cell (NaN for exogenous constructs).
        measurement: the groups' fits, arrays (b, G, p) and ``converged`` (b, G).
        wave_item_weights: (b, G, T, p) each group's item weights fitted wave by wave
            (NaN where a group has no cell in a wave), or None when not asked for.
        failed: (b,) weightings where a group's measurement fit failed.
    """

    index: np.ndarray
    paths: np.ndarray
    r2: np.ndarray
    measurement: Measurement
    wave_item_weights: np.ndarray | None
    failed: np.ndarray


def estimate_study(sums: CellSums, reference: np.ndarray, study: StudyLayout, *,
                   by_wave: bool) -> StudyEstimates:
    """Every number of the study from cell sums (see the module's description); with
    ``by_wave`` also the wave-by-wave item weights."""
    fits = [measure(moments_over(sums, np.flatnonzero(study.cell_group == g))[1], reference,
                    study) for g in range(study.n_groups)]
    measurement = Measurement(*(np.stack([getattr(fit, name) for fit in fits], axis=1)
                                for name in ("weights", "loadings", "item_weights",
                                             "converged")))
    item_weights = measurement.item_weights[:, study.cell_group]  # (b, C, p)
    means = sums.first / sums.total[:, :, None] + sums.centre
    membership = study.layout.membership
    low, high = study.scale
    index = 100 * (np.einsum("bcp,bcp,pl->bcl", item_weights, means, membership) - low) / (
        high - low)
    paths, r2 = _cell_paths(sums, item_weights, study)
    wave_weights = _wave_item_weights(sums, reference, study) if by_wave else None
    return StudyEstimates(index, paths, r2, measurement, wave_weights,
                          ~measurement.converged.all(axis=1))


def _cell_paths(sums: CellSums, item_weights: np.ndarray, study: StudyLayout
                ) -> tuple[np.ndarray, np.ndarray]:
    """Paths (b, C, k) and R² (b, C, L) from each cell's composite correlations."""
    count, cells, _ = sums.first.shape
    means = sums.first / sums.total[:, :, None]
    covariances = (sums.second / sums.total[:, :, None, None]
                   - means[:, :, :, None] * means[:, :, None, :])
    composite = item_weights[..., None] * study.layout.membership  # (b, C, p, L)
    construct = np.swapaxes(composite, -1, -2) @ covariances @ composite
    size = construct.shape[-1]
    flat = construct.reshape(count * cells, size, size)
    variances = np.einsum("bii->bi", flat)
    scale = np.sqrt(np.where(variances > 0, variances, np.nan))
    correlations = flat / (scale[:, :, None] * scale[:, None, :])
    usable = np.isfinite(correlations).all(axis=(1, 2))
    correlations[~usable] = np.eye(size)
    paths, r2 = _paths_each(correlations, study.layout.predecessors)
    paths[~usable], r2[~usable] = np.nan, np.nan
    outcome, cause = study.paths
    return (paths[:, outcome, cause].reshape(count, cells, len(outcome)),
            r2.reshape(count, cells, size))


def _paths_each(correlations: np.ndarray, predecessors: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray]:
    try:
        return path_coefficients(correlations, predecessors)
    except np.linalg.LinAlgError:
        size = correlations.shape[-1]
        paths = np.full((len(correlations), size, size), np.nan)
        r2 = np.full((len(correlations), size), np.nan)
        for position, matrix in enumerate(correlations):
            try:
                found = path_coefficients(matrix[None], predecessors)
            except np.linalg.LinAlgError:
                continue
            paths[position], r2[position] = found[0][0], found[1][0]
        return paths, r2


def _wave_item_weights(sums: CellSums, reference: np.ndarray, study: StudyLayout
                       ) -> np.ndarray:
    count, _, p = sums.first.shape
    values = np.full((count, study.n_groups, study.n_waves, p), np.nan)
    for group in range(study.n_groups):
        for wave in range(study.n_waves):
            cells = np.flatnonzero((study.cell_group == group) & (study.cell_wave == wave))
            if len(cells):
                fit = measure(moments_over(sums, cells)[1], reference, study)
                values[:, group, wave] = np.where(fit.converged[:, None], fit.item_weights,
                                                  np.nan)
    return values


def linearized_variance(items: np.ndarray, row_weights: np.ndarray, starts: np.ndarray,
                        stops: np.ndarray, item_weights: np.ndarray,
                        study: StudyLayout) -> np.ndarray:
    """(C, L) sampling variance of each cell's index with the item weights taken as known:
    the weighted mean's linearization ``n/(n-1) sum w^2 (s - m)^2 / (sum w)^2`` over the
    respondents' 0-100 scores s.

    Args:
        items: (N, p) raw answers; row_weights: (N,) sampling weights.
        item_weights: (C, p) the item weights each cell's index uses.
    """
    low, high = study.scale
    membership = study.layout.membership
    variances = np.empty((len(starts), membership.shape[1]))
    for cell, (start, stop) in enumerate(zip(starts, stops, strict=True)):
        weights = row_weights[start:stop]
        scores = 100 * (items[start:stop] @ (item_weights[cell][:, None] * membership)
                        - low) / (high - low)
        mean = weights @ scores / weights.sum()
        n = stop - start
        variances[cell] = (n / (n - 1) * (weights ** 2) @ (scores - mean) ** 2
                           / weights.sum() ** 2)
    return variances
