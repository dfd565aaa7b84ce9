"""Maximum likelihood for several groups at once, lavaan's multi-group ML.

Each group g has its own covariance ``S_g`` (divisor n_g) and means; the discrepancy is the
weighted mean ``F = sum_g (n_g / N) F_g`` of the groups' mean-structure discrepancies, so
that the chi-square is ``N F = sum_g n_g F_g``. Parameters held equal across groups share
one entry of the parameter vector; standard errors come from the expected information,
lavaan's default for complete data.

With sampling weights (lavaan's ``sampling.weights``, normalization ``"total"``) the weights
are rescaled to sum to N over all groups, each group's moments are weighted and its size
n_g is the sum of its rescaled weights, so n_g / N weighs its discrepancy; the fit is MLR's.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from acsi_sem.model.groups import GroupedSpec, group_view
from acsi_sem.model.ram import RamModel, build_ram
from acsi_sem.numerics.cbsem import CbsemSolution, constraint_message, invert_information
from acsi_sem.numerics.constrained import (
    ConstrainedFit,
    constraint_system,
    minimize_constrained,
)
from acsi_sem.numerics.ml import Discrepancy, minimize_scoring, ml_mean_discrepancy
from acsi_sem.numerics.ml_hessian import observed_mean_hessian
from acsi_sem.numerics.robust import (
    RobustML,
    independence_covariance,
    independence_trace,
    mean_structure_scores,
    mean_trace,
    sandwich,
    saturated_trace,
)
from acsi_sem.numerics.robust_fiml import independence_missing_trace


@dataclass(frozen=True)
class GroupMoments:
    """The sufficient statistics of one group.

    Attributes:
        n_obs: n_g, respondents in the group (with sampling weights the sum of the group's
            weights rescaled to sum N over all groups, not a whole number).
        covariance: (p, p) covariance with divisor n_g (weighted with sampling weights).
        means: (p,) item means (weighted with sampling weights).
    """

    n_obs: float
    covariance: np.ndarray
    means: np.ndarray


@dataclass(frozen=True)
class GroupedSolution:
    """What multi-group ML found.

    Attributes:
        grouped: the multi-group specification.
        rams: one RAM form (with means) per group.
        theta: (Q,) estimates of the distinct free parameters.
        discrepancy: F at ``theta`` (weighted by group size).
        vcov: (Q, Q) covariance of the estimates, or ``None`` if the information matrix is
            singular.
        information: (Q, Q) unit expected information.
        converged: whether the gradient vanished.
        messages: remarks on the optimisation.
        constraints, equality_rank: as for
            :class:`~acsi_sem.numerics.cbsem.CbsemSolution`, over the (Q,) parameters.
    """

    grouped: GroupedSpec
    rams: tuple[RamModel, ...]
    theta: np.ndarray
    discrepancy: float
    vcov: np.ndarray | None
    information: np.ndarray
    converged: bool
    messages: tuple[str, ...]
    constraints: ConstrainedFit | None = None
    equality_rank: int = 0

    def group_solution(self, group: int) -> CbsemSolution:
        """Group ``group`` (0-based) as a single-group solution, for the per-group tables;
        without the ``:=`` rows, which may use other groups' labels (the grouped fit
        computes them, :func:`~acsi_sem.statistics.estimates.stacked_definition_rows`)."""
        view = self.grouped.views[group]
        index = view.global_index
        vcov = None if self.vcov is None else self.vcov[np.ix_(index, index)]
        return CbsemSolution(spec=view.own_spec, ram=self.rams[group], theta=self.theta[index],
                             discrepancy=self.discrepancy, vcov=vcov,
                             converged=self.converged, messages=self.messages,
                             information=self.information[np.ix_(index, index)])


def with_group_fixed_x(grouped: GroupedSpec, moments: tuple[GroupMoments, ...]
                       ) -> GroupedSpec:
    """``grouped`` with each group's fixed.x covariates' (co)variances and means fixed at
    that group's own sample moments, as lavaan's ``sem(group =)`` with ``fixed.x = TRUE``
    (each group's sample statistics are its own); unchanged without covariates.

    Args:
        moments: each group's moments (``spec.observed`` order), in group order; with
            missing answers the EM moments, which for the complete covariates are their
            sample moments.
    """
    table = grouped.spec.table
    exo = np.flatnonzero(table["exo"].to_numpy() == 1)
    if not len(exo):
        return grouped
    table = table.copy()
    position = {name: i for i, name in enumerate(grouped.spec.observed)}
    for row in exo:
        group = moments[int(table.at[row, "group"]) - 1]
        i = position[table.at[row, "lhs"]]
        table.at[row, "ustart"] = (group.means[i] if table.at[row, "op"] == "~1"
                                   else group.covariance[i, position[table.at[row, "rhs"]]])
    spec = grouped.spec.with_table(table)
    views = tuple(group_view(spec, group, label)
                  for group, label in enumerate(grouped.labels, start=1))
    return replace(grouped, spec=spec, views=views)


def grouped_discrepancy(grouped: GroupedSpec, rams: tuple[RamModel, ...],
                        moments: tuple[GroupMoments, ...], theta: np.ndarray, *,
                        with_information: bool = True) -> Discrepancy:
    """``F = sum_g (n_g/N) F_g``, its gradient (Q,) and (if asked for) expected information
    (Q, Q)."""
    total = sum(m.n_obs for m in moments)
    q = len(theta)
    value, gradient = 0.0, np.zeros(q)
    information = np.zeros((q, q)) if with_information else None
    for view, ram, group in zip(grouped.views, rams, moments, strict=True):
        index = view.global_index
        part = ml_mean_discrepancy(ram, theta[index], group.covariance, group.means,
                                   with_information=with_information)
        if not np.isfinite(part.value):
            return Discrepancy(np.inf, np.full(q, np.nan), np.full((q, q), np.nan))
        weight = group.n_obs / total
        value += weight * part.value
        gradient[index] += weight * part.gradient
        if information is not None:
            information[np.ix_(index, index)] += weight * part.information
    return Discrepancy(value, gradient, information)


def grouped_hessian(grouped: GroupedSpec, rams: tuple[RamModel, ...],
                    moments: tuple[GroupMoments, ...], theta: np.ndarray) -> np.ndarray:
    """The analytic Hessian (Q, Q) of :func:`grouped_discrepancy`'s F at ``theta`` (Q,)."""
    total = sum(m.n_obs for m in moments)
    hessian = np.zeros((len(theta), len(theta)))
    for view, ram, group in zip(grouped.views, rams, moments, strict=True):
        index = view.global_index
        hessian[np.ix_(index, index)] += group.n_obs / total * observed_mean_hessian(
            ram, theta[index], group.covariance, group.means)
    return hessian


def fit_ml_groups(grouped: GroupedSpec, moments: tuple[GroupMoments, ...],
                  start: np.ndarray, *, max_iterations: int = 200) -> GroupedSolution:
    """Fit the multi-group model from ``start`` (Q,), e.g. :func:`grouped_start_values`."""
    rams = tuple(build_ram(view.spec, means=True) for view in grouped.views)

    def evaluate(theta: np.ndarray, with_information: bool = True) -> Discrepancy:
        return grouped_discrepancy(grouped, rams, moments, theta,
                                   with_information=with_information)

    functions = (evaluate, lambda t: evaluate(t, False).gradient,
                 lambda t: evaluate(t, False).value)
    def hessian(theta: np.ndarray) -> np.ndarray:
        return grouped_hessian(grouped, rams, moments, theta)

    system = constraint_system(grouped.spec)
    constrained = None if system is None else minimize_constrained(
        *functions, start, system, max_iterations=max_iterations, hessian=hessian)
    found = (minimize_scoring(*functions, start, max_iterations=max_iterations,
                              hessian=hessian)
             if constrained is None else constrained.scoring)
    messages = convergence_messages(grouped, found, system, constrained)
    information = found.information / 2
    basis = None if constrained is None else constrained.basis
    vcov = invert_information(information, sum(m.n_obs for m in moments), basis)
    return GroupedSolution(grouped=grouped, rams=rams, theta=found.theta,
                           discrepancy=found.value, vcov=vcov, information=information,
                           converged=found.converged, messages=tuple(messages),
                           constraints=constrained,
                           equality_rank=0 if system is None else system.equality_rank(
                               found.theta))


def robust_groups(solution: GroupedSolution, items: tuple[np.ndarray, ...],
                  moments: tuple[GroupMoments, ...], covariates: tuple[int, ...] = (),
                  weights: tuple[np.ndarray, ...] | None = None) -> RobustML:
    """lavaan's MLR over groups: the sandwich ``A^-1 B A^-1 / N`` with A the observed
    information of the weighted discrepancy and B the respondents' score outer products
    (means included), and the Yuan-Bentler traces summed over groups.

    Args:
        items: each group's (n_g, p) answers, in group order.
        moments: each group's moments, in group order.
        covariates: positions of the fixed.x covariates, whose own moments leave the
            saturated trace (as :func:`~acsi_sem.numerics.robust.robust_ml_means`).
        weights: each group's (n_g,) sampling weights rescaled to sum N over all groups
            (:func:`total_unit_weights`), or None; each score then enters B times its
            weight squared.
    """
    grouped, theta = solution.grouped, solution.theta
    total = sum(len(group) for group in items)
    q = len(theta)
    meat, saturated = np.zeros((q, q)), 0.0
    for g, (view, ram, answers) in enumerate(zip(grouped.views, solution.rams, items,
                                                 strict=True)):
        index, local = view.global_index, theta[view.global_index]
        unit = None if weights is None else weights[g]
        scores = mean_structure_scores(answers - ram.implied_mean(local),
                                       ram.implied_covariance(local),
                                       ram.sigma_derivatives(local),
                                       ram.mean_derivatives(local))
        scaled = scores if unit is None else scores * unit[:, None] ** 2
        meat[np.ix_(index, index)] += scaled.T @ scores / total
        saturated += _saturated_group_trace(answers, moments[g], covariates, unit)
    bread = grouped_hessian(grouped, solution.rams, moments, theta) / 2
    basis = None if solution.constraints is None else solution.constraints.basis
    return sandwich(bread, meat, total, saturated, basis)


def total_unit_weights(weights: np.ndarray, codes: np.ndarray, labels: tuple[str, ...]
                       ) -> tuple[np.ndarray, ...]:
    """Each group's sampling weights (n_g,) rescaled so that all of them sum to N, the rows
    over all groups (lavaan's ``sampling.weights.normalization = "total"``), in ``labels``
    order; ``codes`` (N,) is each row's group label."""
    unit = weights * (len(weights) / weights.sum())
    return tuple(unit[codes == label] for label in labels)


def _saturated_group_trace(answers: np.ndarray, group: GroupMoments,
                           covariates: tuple[int, ...], unit: np.ndarray | None) -> float:
    """tr(A1^-1 B1) of one group's saturated model, means and covariances; the fixed.x
    covariates' own moments are not free."""
    if unit is None:
        # The saturated means add p (their scores and information match).
        return (answers.shape[1] - len(covariates)
                + saturated_trace(answers - answers.mean(axis=0), covariates))
    deviations = answers - group.means
    return _group_share(unit) * (
        saturated_trace(deviations, covariates, unit)
        + mean_trace(deviations, group.covariance, covariates, unit))


def _group_share(unit: np.ndarray) -> float:
    """n_g over the group's rows under total-normalized weights (n_g,): the factor between
    lavaan's group meat ``sum w^2 s s' / n_g`` and the meat of the weights rescaled to mean 1
    within the group, which the single-group traces use."""
    return float(unit.mean())


def baseline_scaling(robust: RobustML, items: tuple[np.ndarray, ...],
                     baseline_df: float, *, missing: bool = False,
                     covariates: tuple[int, ...] = (),
                     weights: tuple[np.ndarray, ...] | None = None,
                     moments: tuple[GroupMoments, ...] | None = None) -> float:
    """The Yuan-Bentler factor of the independence model fitted in every group, from the
    saturated traces ``robust`` summed already (each with its p for the means); with
    ``missing``, the independence model fitted by FIML (NaN in ``items``). The fixed.x
    ``covariates`` (positions) have no free moments in the independence model. With
    sampling ``weights`` (as :func:`robust_groups`'s), the groups' weighted ``moments``."""
    def trace(g: int, answers: np.ndarray) -> float:
        if missing:
            # Weights summing to N over all groups carry n_g / rows into the trace.
            return independence_missing_trace(np.delete(answers, list(covariates), axis=1),
                                              None if weights is None else weights[g])
        if weights is None:
            return (answers.shape[1] - len(covariates)
                    + independence_trace(answers - answers.mean(axis=0), covariates))
        unit, group = weights[g], moments[g]
        deviations = answers - group.means
        return _group_share(unit) * (
            independence_trace(deviations, covariates, unit)
            + mean_trace(deviations, independence_covariance(group.covariance, covariates),
                         covariates, unit))

    independence = sum(trace(g, a) for g, a in enumerate(items))
    return (robust.saturated_trace - independence) / baseline_df


def grouped_start_values(grouped: GroupedSpec, pooled: dict[tuple[str, str, str], float],
                         moments: tuple[GroupMoments, ...], *, pooled_means: bool = False
                         ) -> np.ndarray:
    """Start every group at the pooled single-group estimates ``{(lhs, op, rhs): value}``,
    with intercepts at the group's means and free latent means at 0, or, where the pooled
    fit modelled the means (``pooled_means``: free latent means, fixed intercepts), at its
    intercepts and means, which agree with the fixed ones."""
    theta = np.zeros(grouped.n_free)
    for view, group in zip(reversed(grouped.views), reversed(moments), strict=True):
        table = view.spec.table
        position = {name: i for i, name in enumerate(view.spec.observed)}
        for _, row in table[table["free"] > 0].iterrows():
            key = (row["lhs"], row["op"], row["rhs"])
            if row["op"] == "~1" and pooled_means and key in pooled:
                value = pooled[key]
            elif row["op"] == "~1":
                value = group.means[position[row["lhs"]]] if row["lhs"] in position else 0.0
            else:
                value = pooled.get((row["lhs"], row["op"], row["rhs"]), 0.0)
            theta[view.global_index[row["free"] - 1]] = value
    return theta


def convergence_messages(grouped: GroupedSpec, found, system, constrained) -> list[str]:
    """What to say when a multi-group fit did not converge: the constraints' state, or the
    parameter with the largest gradient (empty when it converged)."""
    if found.converged:
        return []
    if constrained is not None:
        return [constraint_message(system, constrained)]
    worst = int(np.argmax(np.abs(found.gradient)))
    return [f"the optimiser stopped with gradient {found.gradient[worst]:.2g} on parameter "
            f"{parameter_names(grouped)[worst]}"]


def parameter_names(grouped: GroupedSpec) -> list[str]:
    """``lhs op rhs [group]`` of each free parameter (Q,), named after its first row."""
    table = grouped.spec.table
    first = table[table["free"] > 0].drop_duplicates("free").sort_values("free")
    return [f"{name} [{grouped.labels[group - 1]}]" for name, group in zip(
        grouped.spec.free_parameter_names, first["group"], strict=True)]
