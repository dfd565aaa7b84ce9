"""The PLS bootstrap statistic for many replicates at once.

:func:`batched_pls_statistic` turns count weights (b, n) into the vector of
:func:`acsi_sem.estimators.pls.bootstrap_pls`'s one-at-a-time statistic for each replicate:
parameter-table rows, outer weights, indirect and total effects, 0-100 indices and HTMT.
Means and correlations come from one matrix product; the PLS iterations run batched
(:mod:`acsi_sem.numerics.pls_batched`). Replicates the batch cannot settle (not converged, a
constant column, a singular system) go to the one-at-a-time statistic.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from acsi_sem.estimators.cbsem_batched import batched_htmt
from acsi_sem.estimators.options import FitOptions
from acsi_sem.model.spec import ModelSpec
from acsi_sem.numerics.batched import weighted_correlations
from acsi_sem.numerics.pls import PlsLayout, total_effects
from acsi_sem.numerics.pls_batched import BatchedPlsSolution, estimate_pls_batched
from acsi_sem.resample import Replicate, ReplicateBatch, settle_failed


def batched_pls_statistic(spec: ModelSpec, layout: PlsLayout, items: np.ndarray,
                          table: pd.DataFrame, pairs: tuple[np.ndarray, np.ndarray],
                          options: FitOptions, size: int,
                          one_at_a_time: Callable[[np.ndarray], Replicate],
                          row_weights: np.ndarray | None = None
                          ) -> Callable[[np.ndarray], ReplicateBatch]:
    """A batched bootstrap statistic.

    Args:
        items: (n, p) raw items in ``layout.indicators`` order.
        table: the parameter-table rows bootstrapped (ops ``=~ <~ ~ :=``).
        pairs: (outcome, cause) construct positions of the bootstrapped effects.
        size: k, the length of the statistic vector.
        one_at_a_time: the one-at-a-time statistic, given row indices.
        row_weights: (n,) sampling weights, multiplied into each replicate's counts.
    """
    rows = _RowMap.of(layout, table)

    def statistic(counts: np.ndarray) -> ReplicateBatch:
        weights = counts if row_weights is None else counts * row_weights
        moments = weighted_correlations(items, weights)
        means, covariances, correlations = (moments.means, moments.covariances,
                                             moments.correlations)
        failed = moments.failed.copy()
        sd = np.sqrt(np.where(failed[:, None], 1.0, np.einsum("bii->bi", covariances)))
        try:
            solution = estimate_pls_batched(
                correlations, layout, scheme=options.scheme,
                consistent=options.estimator == "plsc", tolerance=options.tolerance,
                max_iterations=options.max_iterations)
        except np.linalg.LinAlgError:
            return _one_at_a_time(counts, one_at_a_time, size)
        # np.std(ddof=1) of the resample, as pls_core computes it.
        total = weights.sum(axis=1)
        item_sd = sd * np.sqrt(total / (total - 1))[:, None]
        parts = [rows.values(spec, solution), solution.weights.sum(axis=2)]
        totals = total_effects(solution.paths)[:, pairs[0], pairs[1]]
        parts += [totals - solution.paths[:, pairs[0], pairs[1]], totals]
        if options.scale is not None:
            parts.append(_indices(means, solution.weights, item_sd, layout, options.scale))
        parts.append(batched_htmt(covariances, layout.blocks))
        values = np.concatenate(parts, axis=1)
        upper = np.triu_indices(len(layout.latent), 1)
        improper = (np.abs(solution.construct_cor[:, upper[0], upper[1]]) > 1).any(axis=1)
        failed |= ~solution.converged | ~np.isfinite(values).all(axis=1)
        return settle_failed(counts, values, improper, failed, one_at_a_time)

    return statistic


def _one_at_a_time(weights: np.ndarray, one_at_a_time: Callable[[np.ndarray], Replicate],
                   columns: int) -> ReplicateBatch:
    count = len(weights)
    return settle_failed(weights, np.full((count, columns), np.nan), np.zeros(count, dtype=bool),
                   np.ones(count, dtype=bool), one_at_a_time)





def _indices(means: np.ndarray, weights: np.ndarray, item_sd: np.ndarray, layout: PlsLayout,
             scale: tuple[float, float]) -> np.ndarray:
    """(b, L) 0-100 indices: ``acsi_index`` from the resample's item means (the index is
    linear in the items)."""
    raw = weights.sum(axis=2) / item_sd
    low, high = scale
    values = []
    for block in layout.blocks:
        normalized = raw[:, block] / raw[:, block].sum(axis=1, keepdims=True)
        values.append((means[:, block] * normalized).sum(axis=1))
    return 100 * (np.stack(values, axis=1) - low) / (high - low)


class _RowMap:
    """Where each bootstrapped table row's estimate sits in a batched solution."""

    def __init__(self, kinds: np.ndarray, first: np.ndarray, second: np.ndarray,
                 table: pd.DataFrame) -> None:
        self.kinds, self.first, self.second, self.table = kinds, first, second, table

    @classmethod
    def of(cls, layout: PlsLayout, table: pd.DataFrame) -> _RowMap:
        latent = {name: j for j, name in enumerate(layout.latent)}
        item = {name: i for i, name in enumerate(layout.indicators)}
        kinds, first, second = [], [], []
        for lhs, op, rhs in table[["lhs", "op", "rhs"]].itertuples(index=False):
            kinds.append(op)
            if op == "=~":
                first.append(item[rhs]), second.append(0)
            elif op == "<~":
                first.append(item[rhs]), second.append(latent[lhs])
            elif op == "~":
                first.append(latent[lhs]), second.append(latent[rhs])
            else:
                first.append(0), second.append(0)
        return cls(np.array(kinds), np.array(first, dtype=int), np.array(second, dtype=int),
                   table)

    def values(self, spec: ModelSpec, solution: BatchedPlsSolution) -> np.ndarray:
        """(b, rows) estimates, as ``pls_row_values`` for one solution."""
        count = len(solution.weights)
        values = np.full((count, len(self.kinds)), np.nan)
        for op, source in (("=~", lambda f, s: solution.loadings[:, f]),
                           ("<~", lambda f, s: solution.weights[:, f, s]),
                           ("~", lambda f, s: solution.paths[:, f, s])):
            mask = self.kinds == op
            values[:, mask] = source(self.first[mask], self.second[mask])
        defined = self.kinds == ":="
        if defined.any():
            values[:, defined] = self._definitions(spec, values)
        return values

    def _definitions(self, spec: ModelSpec, values: np.ndarray) -> np.ndarray:
        from acsi_sem.statistics.defined import evaluate_definitions

        labels = self.table["label"].to_numpy()
        labelled = [(row, label) for row, label in enumerate(labels)
                    if label and self.kinds[row] != ":="]
        names = self.table.loc[self.kinds == ":=", "lhs"].tolist()
        results = []
        for replicate in values:
            found = evaluate_definitions(spec, {label: replicate[row] for row, label
                                                in labelled})
            results.append([found[name] for name in names])
        return np.array(results)
