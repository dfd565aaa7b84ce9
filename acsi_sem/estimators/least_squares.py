"""GLS, ULS, DWLS and WLS of continuous answers, and the robust ULSM, ULSMV and WLSM
(lavaan's estimators of those names): the checks, the fits in one group or several, their
fit indices, the robust.sem sandwich with its scaled tests, and the bootstrap's refits.
:mod:`acsi_sem.estimators.cbsem` and :mod:`acsi_sem.estimators.multigroup` call these; the
numerics live in :mod:`acsi_sem.numerics.wls`."""

from __future__ import annotations

import numpy as np
import pandas as pd

from acsi_sem.errors import AcsiSemError
from acsi_sem.estimators.options import FitOptions
from acsi_sem.model.groups import GroupedSpec
from acsi_sem.model.spec import ModelSpec, with_random_covariates
from acsi_sem.numerics.cbsem import CbsemSolution
from acsi_sem.numerics.constrained import constraint_system
from acsi_sem.numerics.multigroup import GroupedSolution, convergence_messages
from acsi_sem.numerics.wls import (
    ROBUST_LEAST_SQUARES,
    LeastSquaresGroup,
    SandwichTest,
    adf_gamma,
    baseline_sandwich_test,
    filled_weights,
    fit_wls,
    implied_moments,
    independence_df,
    independence_discrepancy,
    least_squares_groups,
    minimize_wls,
    ml_start,
    moment_jacobian,
    sandwich_test,
)
from acsi_sem.statistics.fit_indices import (
    LeastSquaresMoments,
    ScaledTest,
    least_squares_fit_indices,
    scaled_least_squares_indices,
)
from acsi_sem.survey.moments import SurveyMoments
from acsi_sem.survey.prepare import PreparedData

ULS_NOTE = ("ULS standard errors are lavaan's se = 'standard', ((N - 1) Delta' Delta)^-1, "
            "which treats the identity weights as the inverse of the moments' covariance; "
            "they are a rough guide only (bootstrap them, or use GLS or DWLS), and the ULS "
            "test has no p-value, as in lavaan")


def check_least_squares(spec: ModelSpec, data: PreparedData | SurveyMoments,
                        options: FitOptions) -> None:
    """Refuse what the least-squares estimators do not take here: answers not in memory,
    FIML (lavaan refuses ``missing = "ml"`` too) and sampling weights (which lavaan takes)."""
    name = options.estimator.upper()
    if not isinstance(data, PreparedData):
        raise AcsiSemError(f"{name} needs the answers in memory (its weights come from the "
                           "respondents' cross-products); drop chunksize, or use "
                           "estimator 'ml'")
    if data.has_missing:
        # lavaan: 'missing="ml" is not allowed for estimator GLS' (and ULS, WLS).
        raise AcsiSemError(f"{name} fits complete answers: lavaan refuses missing = 'ml' "
                           f"with it too; use missing='listwise' (lavaan's default for "
                           f"{name}) or estimator 'ml'/'mlr' with missing='fiml'")
    if data.weights is not None:
        raise AcsiSemError(f"sampling weights are not available with {name} yet; use "
                           "estimator 'ml' or 'mlr' (lavaan's sampling.weights)")


def fit_least_squares(spec: ModelSpec, data: PreparedData, estimator: str, *,
                      fixed_x: bool = False) -> CbsemSolution:
    """Fit ``spec`` to complete ``data`` by ``estimator``, from the ML estimates.

    Args:
        fixed_x: hold the observed covariates' moments at the sample's (lavaan's
            ``fixed.x = TRUE``); by default they are free parameters, as lavaan's default
            ``fixed.x = FALSE`` for these estimators.
    """
    if not fixed_x:
        spec = with_random_covariates(spec)
    return fit_wls(spec, data.frame.to_numpy(), estimator, ml_start(spec, data))


def least_squares_indices(solution: CbsemSolution, items: np.ndarray,
                          estimator: str) -> pd.Series:
    """lavaan's fit measures of a single-group least-squares ``solution`` of the answers
    ``items`` (n, p)."""
    _, weights = filled_weights(solution.spec, items, estimator)
    group = LeastSquaresGroup(solution.ram, weights, np.arange(solution.ram.n_free))
    moments = group_moments(group, solution.theta, observed_predictors(solution.spec))
    return least_squares_fit_indices(estimator, [moments],
                                     solution.ram.n_free - solution.equality_rank)


def observed_predictors(spec: ModelSpec) -> tuple[int, ...]:
    """Positions of the observed variables that only predict (lavaan's ov.x), random or
    fixed.x: the baseline model keeps their covariances."""
    return tuple(spec.observed.index(name) for name in spec.observed_predictors)


def group_moments(group: LeastSquaresGroup, theta: np.ndarray,
                  predictors: tuple[int, ...] = ()) -> LeastSquaresMoments:
    """What the fit indices need of one group at the whole parameter vector ``theta``;
    ``predictors`` (:func:`observed_predictors`) covary freely in the baseline model."""
    weights, ram, local = group.weights, group.ram, theta[group.index]
    means = weights.meanstructure
    implied = implied_moments(ram, local, means)
    residual = weights.moments - implied
    return LeastSquaresMoments(
        discrepancy=float(residual @ weights.weight @ residual),
        baseline=independence_discrepancy(weights, predictors), n_obs=weights.n_obs,
        n_moments=len(weights.moments) - weights.n_fixed,
        baseline_df=independence_df(weights, predictors), observed=weights.moments, implied=implied,
        weight=weights.weight, sample_cov=weights.sample_cov,
        implied_cov=ram.implied_covariance(local), sample_means=weights.sample_means,
        implied_means=ram.implied_mean(local) if means else None)


def fit_least_squares_groups(grouped: GroupedSpec, items: tuple[np.ndarray, ...],
                             estimator: str, start: np.ndarray, *,
                             max_iterations: int = 200) -> GroupedSolution:
    """The multi-group least-squares fit of each group's answers ``items`` (n_g, p) from
    ``start`` (Q,), e.g. the multi-group ML estimates."""
    groups = least_squares_groups(grouped, items, estimator)
    system = constraint_system(grouped.spec)
    found = minimize_wls(groups, start, system, max_iterations=max_iterations)
    scoring = found.scoring
    return GroupedSolution(grouped=grouped, rams=tuple(g.ram for g in groups),
                           theta=scoring.theta, discrepancy=scoring.value, vcov=found.vcov,
                           information=found.information, converged=scoring.converged,
                           messages=tuple(convergence_messages(grouped, scoring, system,
                                                               found.constraints)),
                           constraints=found.constraints, equality_rank=found.equality_rank)


def grouped_least_squares_indices(solution: GroupedSolution, items: tuple[np.ndarray, ...],
                                  estimator: str) -> pd.Series:
    """lavaan's fit measures of a multi-group least-squares ``solution``."""
    groups = least_squares_groups(solution.grouped, items, estimator)
    predictors = observed_predictors(solution.grouped.views[0].spec)
    return least_squares_fit_indices(
        estimator, [group_moments(group, solution.theta, predictors) for group in groups],
        solution.grouped.n_free - solution.equality_rank)


def refit_least_squares(solution: CbsemSolution, sample: np.ndarray, estimator: str
                        ) -> tuple[np.ndarray, bool]:
    """One bootstrap replicate: the estimator, its weights (and the fixed.x covariates'
    moments) recomputed from the resample's rows ``sample`` (n, p), refitted from the
    full-sample estimates under the model's constraints."""
    fitted = fit_wls(solution.spec, sample, estimator, solution.theta, max_iterations=50)
    return fitted.theta, fitted.converged


def single_group(solution: CbsemSolution, items: np.ndarray, estimator: str
                 ) -> tuple[LeastSquaresGroup, ...]:
    """A single-group solution as the one group of the least-squares machinery."""
    _, weights = filled_weights(solution.spec, items, estimator)
    return (LeastSquaresGroup(solution.ram, weights, np.arange(solution.ram.n_free)),)


def robust_sandwich(groups: tuple[LeastSquaresGroup, ...], theta: np.ndarray,
                    items: tuple[np.ndarray, ...], basis: np.ndarray | None) -> SandwichTest:
    """lavaan's se = "robust.sem" and the traces of its scaled tests, each group's Gamma
    from its answers ``items`` (n_g, p)."""
    deltas = []
    for group in groups:
        local = moment_jacobian(group.ram, theta[group.index], group.weights.meanstructure)
        delta = np.zeros((len(local), len(theta)))
        np.add.at(delta.T, group.index, local.T)
        deltas.append(delta)
    return sandwich_test(deltas, [g.weights for g in groups], _gammas(groups, items), basis)


def _gammas(groups: tuple[LeastSquaresGroup, ...], items: tuple[np.ndarray, ...]
            ) -> list[np.ndarray]:
    return [adf_gamma(answers, meanstructure=g.weights.meanstructure,
                      covariates=g.weights.covariates)
            for g, answers in zip(groups, items, strict=True)]


def robust_test_indices(plain: pd.Series, sandwich: SandwichTest,
                        groups: tuple[LeastSquaresGroup, ...], items: tuple[np.ndarray, ...],
                        estimator: str, predictors: tuple[int, ...]) -> pd.Series:
    """The scaled and robust fit measures of a ULSM, ULSMV or WLSM fit (``estimator``)."""
    test = ROBUST_LEAST_SQUARES[estimator][1]
    weights = [g.weights for g in groups]
    baseline = baseline_sandwich_test(weights, _gammas(groups, items), predictors)
    scaled = []
    for traces, chisq, df in ((sandwich, plain["chisq"], plain["df"]),
                              (baseline, plain["baseline_chisq"], plain["baseline_df"])):
        statistic, scaling, shift = traces.scaled(chisq, df, test)
        scaled.append(ScaledTest(statistic, scaling, shift, traces.trace / df))
    return scaled_least_squares_indices(plain, *scaled, shifted=test == "scaled.shifted",
                                        groups=len(groups))
