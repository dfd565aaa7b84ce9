"""The bootstrap of a WLSMV fit (lavaan's ``se = "bootstrap"`` with ordered items).

Each replicate is a full two-step fit on the resampled rows: the thresholds, polychoric
and polyserial correlations, the continuous items' moments and the DWLS weights are
recomputed from those rows, and DWLS is refitted from the full-sample estimates (lavaan's
bootstrapLavaan refits from them too). A resample in which an ordered item loses one of
its answer categories has no thresholds for the empty category (lavaan's sample
statistics fail there), so it counts as a failed replicate, as one that does not converge
does. A replicate that converges to a negative derived residual variance (an ordered
item's latent response with more than its unit variance explained) or a negative free
variance is kept and counted as improper, as lavaan keeps its non-admissible replicates.
With groups the rows are drawn within each group.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import numpy as np
import pandas as pd

from acsi_sem.errors import DataError
from acsi_sem.estimators.common import (
    effect_keys,
    group_parameter_key,
    htmt_keys,
    parameter_key,
    upper_triangle,
)
from acsi_sem.estimators.options import FitOptions
from acsi_sem.numerics.cbsem import CbsemSolution
from acsi_sem.numerics.conditional import conditional_statistics
from acsi_sem.numerics.polychoric import OrdinalStatistics, ordinal_statistics
from acsi_sem.numerics.wlsmv import DwlsSolution, fit_dwls
from acsi_sem.numerics.wlsmv_groups import GroupedDwls, completed_table, fit_dwls_groups
from acsi_sem.resample import BootstrapResult, FailedReplicateError, Replicate, bootstrap
from acsi_sem.statistics.effects import effect_matrices, regression_cells
from acsi_sem.statistics.quality import heterotrait_monotrait
from acsi_sem.statistics.standardize import row_values
from acsi_sem.survey.prepare import PreparedData

# The rows whose free parameters are bootstrapped: lavaan's coef(), thresholds included.
BOOTSTRAPPED_OPS = ("=~", "~", "~~", "|", "~1")
# Gauss-Newton from the full-sample estimates needs a handful of steps; a replicate that
# has not converged in this many is counted as failed.
REPLICATE_ITERATIONS = 100


class ResampledStatistics:
    """The sample statistics of resampled rows of one set of answers, or a failed
    replicate where a resample loses an answer category of an ordered item.

    Args:
        frame: (n, p) the answers, columns in ``statistics.items`` order.
        statistics: the full sample's statistics (their categories are the ones every
            resample must keep).
        covariates: (n, nx) the observed covariates the statistics are conditional on
            (lavaan's conditional.x), or None.
    """

    def __init__(self, frame: pd.DataFrame, statistics: OrdinalStatistics,
                 covariates: pd.DataFrame | None = None) -> None:
        self.frame = frame
        self.covariates = covariates
        self.continuous = tuple(item for item, kept in zip(
            statistics.items, statistics.is_continuous, strict=True) if kept)
        ordered = ~statistics.is_continuous
        self.codes = [np.searchsorted(levels, frame[item].to_numpy())
                      for item, levels, kept in zip(statistics.items, statistics.levels,
                                                    ordered, strict=True) if kept]
        self.categories = [len(levels) for levels, kept
                           in zip(statistics.levels, ordered, strict=True) if kept]

    def __call__(self, rows: np.ndarray) -> OrdinalStatistics:
        """The statistics of the rows ``rows`` (n_b,) of ``frame``.

        Raises:
            FailedReplicateError: an ordered item with an empty category in the resample,
                or statistics that cannot be computed (a singular score matrix, or a
                probit regression on the covariates without a maximum).
        """
        for codes, categories in zip(self.codes, self.categories, strict=True):
            if np.bincount(codes[rows], minlength=categories).min() == 0:
                raise FailedReplicateError
        try:
            if self.covariates is not None:
                return conditional_statistics(self.frame.iloc[rows],
                                              self.covariates.iloc[rows])
            return ordinal_statistics(self.frame.iloc[rows], continuous=self.continuous)
        except (np.linalg.LinAlgError, DataError) as error:
            # DataError: a covariate that separates an item's answers in this resample.
            raise FailedReplicateError from error


def bootstrap_wlsmv(solution: CbsemSolution, dwls: DwlsSolution,
                    statistics: OrdinalStatistics, data: PreparedData,
                    parameters: pd.DataFrame, effects: pd.DataFrame,
                    options: FitOptions) -> BootstrapResult:
    """Refit a single-group WLSMV model on ``options.bootstrap`` resamples.

    Args:
        solution: the full-sample fit as a CB-SEM solution (completed specification, RAM,
            estimates theta (q,)).
        dwls: its DWLS solution (the ordinal model and the estimates the replicates start
            from).
        statistics: the full sample's statistics (conditional on the observed covariates
            where the model has any, and then recomputed so for every resample; the
            DWLS fit to them does not use the covariates' own moments).

    Returns:
        The draws of every free parameter (thresholds included), of the defined
        parameters, of the indirect and total effects and of the HTMT ratios (from the
        resample's polychoric correlations).
    """
    from acsi_sem.estimators.cbsem import _replicate_statistics, construct_layout

    spec = solution.spec
    table = spec.table
    values_rows = np.flatnonzero(table["op"].isin(BOOTSTRAPPED_OPS).to_numpy()
                                 & (table["free"] > 0).to_numpy())
    defined = np.flatnonzero(table["op"].to_numpy() == ":=")
    layout = construct_layout(spec)
    indicators = [list(statistics.items).index(name) for name in layout.indicators]
    free_variances = spec.variance_rows & (table["free"] > 0).to_numpy()
    names = ([parameter_key(*table.loc[i, ["lhs", "op", "rhs"]]) for i in values_rows]
             + [parameter_key(*table.loc[i, ["lhs", "op", "rhs"]]) for i in defined]
             + effect_keys(effects, "indirect") + effect_keys(effects, "total")
             + htmt_keys(layout.latent))
    covariates = list(statistics.covariates)
    resampled = ResampledStatistics(data.frame[list(statistics.items)], statistics,
                                    data.frame[covariates] if covariates else None)

    def htmt(correlation: np.ndarray) -> np.ndarray:
        if not layout.latent:
            return np.zeros(0)
        return upper_triangle(heterotrait_monotrait(
            correlation[np.ix_(indicators, indicators)], layout.blocks))

    def statistic(rows: np.ndarray) -> Replicate:
        sample = resampled(rows)
        try:
            fitted = fit_dwls(dwls.model, sample, start=dwls.theta,
                              max_iterations=REPLICATE_ITERATIONS)
        except np.linalg.LinAlgError as error:
            raise FailedReplicateError from error
        if not (fitted.converged or fitted.improper):
            raise FailedReplicateError
        values = row_values(spec, fitted.theta)
        extra = _replicate_statistics(solution, fitted.theta, effects)
        return Replicate(np.concatenate([values[values_rows], *extra,
                                         htmt(sample.polychoric)]),
                         improper=fitted.improper or bool((values[free_variances] < 0).any()))

    estimate = np.concatenate([parameters["est"].to_numpy()[values_rows],
                               parameters["est"].to_numpy()[defined],
                               effects["indirect"].to_numpy(), effects["total"].to_numpy(),
                               htmt(statistics.polychoric)])
    return bootstrap(statistic, data.n_obs, replicates=options.bootstrap, seed=options.seed,
                     names=tuple(names), estimate=estimate, progress=options.progress,
                     interval=options.ci)


def bootstrap_wlsmv_groups(solution: GroupedDwls, data: PreparedData,
                           parameters: pd.DataFrame, effects: pd.DataFrame,
                           parts: list[CbsemSolution], options: FitOptions
                           ) -> BootstrapResult:
    """Refit a multi-group WLSMV model on ``options.bootstrap`` resamples drawn within
    each group (every resample keeps the groups' sizes, as lavaan's bootstrap).

    Args:
        solution: the full-sample fit; its joint estimates theta (q,) start every
            replicate.
        parameters, effects: the full-sample tables (with their ``group`` columns).
        parts: each group's completed model as a single-group solution (local
            parameters), for its effects.

    Returns:
        The draws of every free parameter of every group, scale factors (``~*~``) and
        latent means included (``"lhs op rhs [group]"``), and of the indirect and total
        effects (``"total: lhs <- rhs [group]"``).
    """
    labels = data.group_labels
    codes = data.groups.to_numpy()
    members = [np.flatnonzero(codes == label) for label in labels]
    covariates = list(solution.groups[0].statistics.covariates)
    resamplers = [ResampledStatistics(data.frame.iloc[rows][list(g.statistics.items)],
                                      g.statistics,
                                      data.frame.iloc[rows][covariates] if covariates else None)
                  for rows, g in zip(members, solution.groups, strict=True)]
    positions, names = _group_positions(solution, labels)
    names += effect_keys(effects, "indirect") + effect_keys(effects, "total")
    effects_of = _group_effects(solution, parts, effects, labels)
    keyed = dict(zip((group_parameter_key(*row) for row in parameters[
        ["lhs", "op", "rhs", "group"]].itertuples(index=False)), parameters["est"],
        strict=True))
    keyed.update(zip(effect_keys(effects, "indirect"), effects["indirect"], strict=True))
    keyed.update(zip(effect_keys(effects, "total"), effects["total"], strict=True))
    variances = _free_variances(solution)

    def statistic(rows: np.ndarray) -> Replicate:
        local = _rows_by_group(rows, codes, members, labels)
        groups = tuple(replace(group, statistics=resample(part)) for group, resample, part
                       in zip(solution.groups, resamplers, local, strict=True))
        try:
            fitted = fit_dwls_groups(groups, start=solution.theta,
                                     max_iterations=REPLICATE_ITERATIONS)
        except np.linalg.LinAlgError as error:
            raise FailedReplicateError from error
        if not (fitted.converged or fitted.improper):
            raise FailedReplicateError
        theta = fitted.theta
        return Replicate(np.concatenate([theta[positions], effects_of(theta)]),
                         improper=fitted.improper or bool((theta[variances] < 0).any()))

    return bootstrap(statistic, data.n_obs, replicates=options.bootstrap, seed=options.seed,
                     names=tuple(names), estimate=np.array([keyed[name] for name in names]),
                     progress=options.progress, interval=options.ci, strata=codes)


def _rows_by_group(rows: np.ndarray, codes: np.ndarray, members: list[np.ndarray],
                   labels: tuple[str, ...]) -> list[np.ndarray]:
    """Each group's resampled rows as positions within that group's own rows.

    Raises:
        FailedReplicateError: a group left with fewer than two rows (a jackknife
            replicate that emptied it).
    """
    local = []
    for label, own in zip(labels, members, strict=True):
        picked = rows[codes[rows] == label]
        if len(picked) < 2:
            raise FailedReplicateError
        local.append(np.searchsorted(own, picked))
    return local


def _group_positions(solution: GroupedDwls, labels: tuple[str, ...]
                     ) -> tuple[np.ndarray, list[str]]:
    """The joint position of every free row of every group's table and its bootstrap
    name (``"lhs op rhs [group]"``), the scale factors and latent means included."""
    positions, names = [], []
    for number, (group, label) in enumerate(zip(solution.groups, labels, strict=True), 1):
        table, joint = completed_table(group, solution.theta, number)
        free = table[(table["free"] > 0) & table["op"].isin(BOOTSTRAPPED_OPS)]
        positions += [int(joint[f - 1]) for f in free["free"]]
        names += [group_parameter_key(lhs, op, rhs, label) for lhs, op, rhs
                  in free[["lhs", "op", "rhs"]].itertuples(index=False)]
        n_cov, n_first, n_scale = group.sizes
        scale = slice(n_cov + n_first, n_cov + n_first + n_scale)
        for item, index in zip(group.ordered_items, group.index[scale], strict=True):
            if index >= 0:
                positions.append(int(index))
                names.append(group_parameter_key(item, "~*~", item, label))
    return np.array(positions, dtype=int), names


def _group_effects(solution: GroupedDwls, parts: list[CbsemSolution],
                   effects: pd.DataFrame, labels: tuple[str, ...]
                   ) -> Callable[[np.ndarray], np.ndarray]:
    """A function from joint estimates (q,) to the indirect effects then the total
    effects of every group's rows of ``effects``, in the table's order."""
    cells = []
    for group, part, label in zip(solution.groups, parts, labels, strict=True):
        _, joint = completed_table(group, solution.theta, 1)
        index = {name: i for i, name in enumerate(part.ram.variables)}
        rows = effects[effects["group"] == label]
        cells.append((joint, part, regression_cells(part.spec, part.ram),
                      [index[name] for name in rows["lhs"]],
                      [index[name] for name in rows["rhs"]]))

    def evaluate(theta: np.ndarray) -> np.ndarray:
        indirect, total = [], []
        for joint, part, regression, outcomes, causes in cells:
            direct, totals = effect_matrices(part.ram, theta[joint], regression)
            indirect.append(totals[outcomes, causes] - direct[outcomes, causes])
            total.append(totals[outcomes, causes])
        return np.concatenate([*indirect, *total])

    return evaluate


def _free_variances(solution: GroupedDwls) -> np.ndarray:
    """Joint positions of the free variances (``x ~~ x``), to flag improper replicates."""
    found = set()
    for group in solution.groups:
        table = group.model.spec.table
        rows = table[(table["op"] == "~~") & (table["lhs"] == table["rhs"])
                     & (table["free"] > 0)]
        found.update(int(group.index[f - 1]) for f in rows["free"])
    return np.array(sorted(found), dtype=int)
