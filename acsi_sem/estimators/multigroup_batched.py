"""The multi-group CB-SEM bootstrap statistic for many replicates at once.

:func:`batched_group_statistic` turns count weights (b, n) - resamples drawn within the
groups - into the same vector per replicate as the one-at-a-time statistic of
:func:`acsi_sem.estimators.multigroup.bootstrap_groups`: every group's free parameters (and
the defined ones), then the groups' indirect and total effects. Each group's moments come
from one matrix product, the estimates from :mod:`acsi_sem.numerics.batched_groups`
started at the full-sample solution; a replicate whose batched iterations do not reach the
gradient tolerance is handed to the one-at-a-time statistic.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import numpy as np

from acsi_sem.estimators.cbsem_batched import path_effects
from acsi_sem.numerics.augmented import augmented_moments, augmented_ram
from acsi_sem.numerics.batched import BatchedRam, weighted_moments
from acsi_sem.numerics.batched_groups import GroupedBatch, minimize_ml_groups_batched
from acsi_sem.numerics.multigroup import GroupedSolution
from acsi_sem.resample import Replicate, ReplicateBatch, settle_failed
from acsi_sem.statistics.standardize import row_values


def batched_group_statistic(solution: GroupedSolution, items: np.ndarray, codes: np.ndarray,
                            masks: list[np.ndarray], effect_cells: list,
                            one_at_a_time: Callable[[np.ndarray], Replicate],
                            definitions: Callable[[np.ndarray], np.ndarray]
                            ) -> Callable[[np.ndarray], ReplicateBatch]:
    """A batched bootstrap statistic for a multi-group ML fit of complete, unweighted data
    without ``==``/``<``/``>`` constraints.

    Args:
        solution: the full-sample solution (its ``theta`` starts every replicate).
        items: (n, p) answers; codes: (n,) their group labels.
        masks: per group, the table rows whose values are bootstrapped.
        effect_cells: per group, its regression cells and the (outcome, cause) positions
            of its effects, as ``_group_effect_cells`` gives them.
        one_at_a_time: the one-at-a-time statistic, given row indices.
        definitions: the first group's table values (rows,) with the defined parameters
            filled in, from the global parameter vector (Q,).
    """
    grouped = solution.grouped
    members = [np.flatnonzero(codes == label) for label in grouped.labels]
    model = GroupedBatch.of(tuple(augmented_ram(ram) for ram in solution.rams),
                            tuple(view.global_index for view in grouped.views),
                            len(solution.theta))
    paths = tuple(BatchedRam.of(ram) for ram in solution.rams)
    has_definitions = bool((grouped.views[0].spec.table["op"] == ":=").any())

    def statistic(weights: np.ndarray) -> ReplicateBatch:
        # A resample keeps the groups' sizes; a jackknife replicate does not, and one that
        # leaves a small group empty has no moments there: it fails (without NaNs reaching
        # LAPACK) and goes to the one-at-a-time statistic.
        sizes = np.stack([weights[:, rows].sum(axis=1) for rows in members], axis=1)
        empty = (sizes < 2).any(axis=1)
        usable = np.where(empty[:, None], 1.0, weights)
        moments = tuple(augmented_moments(*weighted_moments(items[rows], usable[:, rows]))
                        for rows in members)
        fitted = minimize_ml_groups_batched(model, solution.theta, moments,
                                            np.where(empty[:, None], 1.0, sizes))
        fitted = replace(fitted, converged=fitted.converged & ~empty)
        values, indirect, total = [], [], []
        improper = np.zeros(len(weights), dtype=bool)
        for g, view in enumerate(grouped.views):
            local = fitted.theta[:, view.global_index]
            rows = row_values(view.spec, local)
            if g == 0 and has_definitions:
                rows = np.array([definitions(theta) for theta in fitted.theta])
            values.append(rows[:, masks[g]])
            improper |= (rows[:, view.spec.variance_rows] < 0).any(axis=1)
            cells, outcomes, causes = effect_cells[g]
            group_indirect, group_total = path_effects(paths[g].matrices(local)[0], cells,
                                                       (outcomes, causes))
            indirect.append(group_indirect)
            total.append(group_total)
        values = np.concatenate([*values, *indirect, *total], axis=1)
        return settle_failed(weights, values, improper, ~fitted.converged, one_at_a_time)

    return statistic
