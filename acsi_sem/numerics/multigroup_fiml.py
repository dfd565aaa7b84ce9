"""Full-information ML for several groups at once: lavaan's ``sem(group = , missing =
"fiml")``.

Each group contributes its FIML log-likelihood (:mod:`acsi_sem.numerics.fiml`) under its
own implied moments; the objective is minus their sum per respondent over all groups,
``-sum_g logL_g / N``, so that each group weighs ``n_g / N`` as in multi-group ML.
Parameters held equal across groups share one entry of the parameter vector. Standard
errors come from the observed information (the Hessian), lavaan's default with missing
answers; MLR puts the respondents' missing-data scores of every group in the meat.
"""

from __future__ import annotations

import numpy as np

from acsi_sem.model.groups import GroupedSpec
from acsi_sem.model.ram import RamModel, build_ram
from acsi_sem.numerics.cbsem import invert_information
from acsi_sem.numerics.constrained import (
    ConstrainedFit,
    ConstraintSystem,
    constraint_system,
    is_constrained_minimum,
    minimize_constrained,
)
from acsi_sem.numerics.fiml import (
    REFIT_SCORING_STEPS,
    REFIT_SCORING_UNTIL,
    FimlResult,
    Patterns,
    fiml_expected_information,
    fiml_objective,
    fiml_value,
    minimize_from_curvature,
    positive_definite_or_identity,
)
from acsi_sem.numerics.ml import Discrepancy, hessian_from_gradient, minimize_scoring
from acsi_sem.numerics.multigroup import (
    GroupedSolution,
    GroupMoments,
    convergence_messages,
)
from acsi_sem.numerics.robust import RobustML, sandwich
from acsi_sem.numerics.robust_fiml import (
    model_scores,
    saturated_missing_trace,
    score_products,
)


def grouped_fiml_objective(grouped: GroupedSpec, rams: tuple[RamModel, ...],
                           patterns: tuple[Patterns, ...], theta: np.ndarray
                           ) -> tuple[float, np.ndarray]:
    """Minus the log-likelihood of all groups per respondent and its gradient (Q,)."""
    total = sum(group.n_obs for group in patterns)
    value, gradient = 0.0, np.zeros(len(theta))
    for view, ram, group in zip(grouped.views, rams, patterns, strict=True):
        index = view.global_index
        part, part_gradient = fiml_objective(ram, group, theta[index])
        if not np.isfinite(part):
            return np.inf, np.zeros(len(theta))
        weight = group.n_obs / total  # each group's objective is per its own respondent
        value += weight * part
        gradient[index] += weight * part_gradient
    return value, gradient


def grouped_fiml_value(grouped: GroupedSpec, rams: tuple[RamModel, ...],
                       patterns: tuple[Patterns, ...], theta: np.ndarray) -> float:
    """:func:`grouped_fiml_objective` without its gradient, for line searches."""
    total = _n_obs(patterns)
    value = 0.0
    for view, ram, group in zip(grouped.views, rams, patterns, strict=True):
        value += group.n_obs / total * fiml_value(ram, group, theta[view.global_index])
    return value


def grouped_fiml_information(grouped: GroupedSpec, rams: tuple[RamModel, ...],
                             patterns: tuple[Patterns, ...], theta: np.ndarray
                             ) -> np.ndarray | None:
    """(Q, Q) expected information of :func:`grouped_fiml_objective`: the groups' own
    (:func:`~acsi_sem.numerics.fiml.fiml_expected_information`) weighted by n_g / N;
    ``None`` where a group's implied covariance is not positive definite."""
    total = _n_obs(patterns)
    information = np.zeros((len(theta), len(theta)))
    for view, ram, group in zip(grouped.views, rams, patterns, strict=True):
        index = view.global_index
        part = fiml_expected_information(ram, group, theta[index])
        if part is None:
            return None
        information[np.ix_(index, index)] += group.n_obs / total * part
    return information


def grouped_fiml_hessian(grouped: GroupedSpec, rams: tuple[RamModel, ...],
                         patterns: tuple[Patterns, ...], theta: np.ndarray
                         ) -> np.ndarray:
    """(Q, Q) Hessian of :func:`grouped_fiml_objective`, by central differences of its
    analytic gradient (lavaan's observed information)."""
    return hessian_from_gradient(
        lambda t: grouped_fiml_objective(grouped, rams, patterns, t)[1], theta)


def fiml_group_rams(grouped: GroupedSpec) -> tuple[RamModel, ...]:
    """One RAM form with means per group."""
    return tuple(build_ram(view.spec, means=True) for view in grouped.views)


def fit_fiml_groups(grouped: GroupedSpec, patterns: tuple[Patterns, ...],
                    start: np.ndarray) -> GroupedSolution:
    """Fit the multi-group model by FIML from ``start`` (Q,), e.g.
    :func:`~acsi_sem.numerics.multigroup.grouped_start_values` on the groups' EM moments.

    Args:
        patterns: each group's respondents grouped by answer pattern, in group order.
    """
    rams = fiml_group_rams(grouped)
    system = constraint_system(grouped.spec)
    found, constrained = _minimize(grouped, rams, patterns, start, system)
    messages = convergence_messages(grouped, found, system, constrained)
    information = grouped_fiml_hessian(grouped, rams, patterns, found.theta)
    basis = None if constrained is None else constrained.basis
    return GroupedSolution(grouped=grouped, rams=rams, theta=found.theta,
                           discrepancy=found.value,
                           vcov=invert_information(information, _n_obs(patterns), basis),
                           information=information, converged=found.converged,
                           messages=tuple(messages), constraints=constrained,
                           equality_rank=0 if system is None else system.equality_rank(
                               found.theta))


def refit_fiml_groups(solution: GroupedSolution, patterns: tuple[Patterns, ...]
                      ) -> tuple[np.ndarray, bool]:
    """The FIML estimates (Q,) of one resample (each group's ``patterns``) from the
    full-sample estimates, under the model's constraints, and whether they converged.

    A few Fisher scoring steps on the expected information
    (:data:`~acsi_sem.numerics.fiml.REFIT_SCORING_STEPS`), as a full fit starts, then BFGS
    from the expected information there
    (:func:`~acsi_sem.numerics.fiml.minimize_from_curvature`: one gradient a step where
    the full fit's Newton steps difference a Hessian each); where that does not converge,
    the full fit's steps take over.
    """
    grouped, rams = solution.grouped, solution.rams
    system = constraint_system(grouped.spec)
    # Under constraints the search runs along the directions the full sample's binding
    # ones leave free; the answer is kept where it is a constrained minimum with the same
    # constraints binding, else the full fit's active-set search takes over.
    basis = (np.eye(len(solution.theta)) if solution.constraints is None
             else solution.constraints.basis)

    def along(phi: np.ndarray) -> np.ndarray:
        return solution.theta + basis @ phi

    def objective(phi: np.ndarray) -> tuple[float, np.ndarray]:
        value, gradient = grouped_fiml_objective(grouped, rams, patterns, along(phi))
        return value, basis.T @ gradient

    def evaluate(phi: np.ndarray) -> Discrepancy:
        value, gradient = objective(phi)
        information = grouped_fiml_information(grouped, rams, patterns, along(phi))
        return Discrepancy(value, gradient, None if information is None
                           else basis.T @ information @ basis)

    scored = minimize_scoring(evaluate, lambda phi: objective(phi)[1],
                              lambda phi: grouped_fiml_value(grouped, rams, patterns,
                                                             along(phi)),
                              np.zeros(basis.shape[1]), tolerance=REFIT_SCORING_UNTIL,
                              max_iterations=REFIT_SCORING_STEPS)
    curvature = positive_definite_or_identity(scored.information, basis.shape[1])
    found = minimize_from_curvature(objective, scored.theta, curvature)
    theta = along(found.theta)
    if found.converged and (system is None or is_constrained_minimum(
            system, theta, grouped_fiml_objective(grouped, rams, patterns, theta)[1],
            solution.constraints.active)):
        return theta, True
    start = theta if np.isfinite(found.value) and system is None else solution.theta
    refitted, _ = _minimize(grouped, rams, patterns, start, system, max_iterations=50)
    return refitted.theta, refitted.converged


def _minimize(grouped: GroupedSpec, rams: tuple[RamModel, ...],
              patterns: tuple[Patterns, ...], start: np.ndarray,
              system: ConstraintSystem | None, *, max_iterations: int = 200
              ) -> tuple[FimlResult, ConstrainedFit | None]:
    """The minimum of the grouped objective, and the constrained fit where the model has
    ``==``/``<``/``>`` rows.

    Fisher scoring on the expected information, then Newton steps on the observed
    information near the minimum wherever that is positive definite, each step halved until
    the objective does not rise (:func:`~acsi_sem.numerics.ml.minimize_scoring`). The step
    matrix is always positive definite, so every step descends: Newton steps on an
    indefinite observed information (the earlier method under constraints) could point
    uphill and stop the fit short of the maximum (issue 14).
    """
    def evaluate(t: np.ndarray) -> Discrepancy:
        value, gradient = grouped_fiml_objective(grouped, rams, patterns, t)
        information = (grouped_fiml_information(grouped, rams, patterns, t)
                       if np.isfinite(value) else None)
        return Discrepancy(value, gradient, information)

    def gradient(t: np.ndarray) -> np.ndarray:
        return grouped_fiml_objective(grouped, rams, patterns, t)[1]

    def value(t: np.ndarray) -> float:
        return grouped_fiml_value(grouped, rams, patterns, t)

    if system is None:
        found = minimize_scoring(evaluate, gradient, value, start,
                                 max_iterations=max_iterations)
        return FimlResult(found.theta, found.value, found.gradient, found.converged), None
    constrained = minimize_constrained(evaluate, gradient, value, start, system,
                                       max_iterations=max_iterations)
    scoring = constrained.scoring
    return FimlResult(scoring.theta, scoring.value, scoring.gradient,
                      scoring.converged), constrained


def robust_fiml_groups(solution: GroupedSolution, patterns: tuple[Patterns, ...],
                       items: tuple[np.ndarray, ...], moments: tuple[GroupMoments, ...],
                       covariates: tuple[int, ...] = ()) -> RobustML:
    """lavaan's MLR under FIML over groups: the observed information of the grouped
    objective as bread, every group's respondents' missing-data scores as meat, and the
    groups' saturated traces (at their EM moments) summed for the Yuan-Bentler factor.

    Args:
        items: each group's (n_g, p) answers, NaN where missing, in group order.
        moments: each group's EM means and covariance, in group order.
        covariates: positions of the fixed.x covariates (complete answers), whose own
            moments leave the saturated traces.
    """
    theta, total = solution.theta, _n_obs(patterns)
    meat, saturated = np.zeros((len(theta), len(theta))), 0.0
    for view, ram, group, answers, em in zip(solution.grouped.views, solution.rams, patterns,
                                             items, moments, strict=True):
        index = view.global_index
        scores = model_scores(ram, group, answers, theta[index])
        # With sampling weights (rescaled to sum N over all groups) each score counts
        # times its weight squared.
        meat[np.ix_(index, index)] += score_products(scores, group.row_weights, total)
        # The grouped information is block diagonal with weights n_g / N in both A1 and
        # B1, so the trace of A1^-1 B1 is the sum of the groups' own traces.
        saturated += saturated_missing_trace(group, answers, em.means, em.covariance,
                                             covariates)
    basis = None if solution.constraints is None else solution.constraints.basis
    return sandwich(solution.information, meat, total, saturated, basis)


def _n_obs(patterns: tuple[Patterns, ...]) -> float:
    return sum(group.n_obs for group in patterns)
