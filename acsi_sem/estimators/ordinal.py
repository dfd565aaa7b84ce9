"""CB-SEM for ordered answers (WLSMV): polychorics, DWLS, robust SEs, adjusted tests."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from acsi_sem.errors import AcsiSemError, DataError
from acsi_sem.estimators.checks import check_no_composites
from acsi_sem.estimators.common import apply_bootstrap
from acsi_sem.estimators.options import FitOptions
from acsi_sem.estimators.ordinal_bootstrap import bootstrap_wlsmv
from acsi_sem.model.modelfile import ModelFile
from acsi_sem.model.ram import as_frame, build_ram
from acsi_sem.model.spec import ModelSpec
from acsi_sem.numerics.cbsem import CbsemSolution, fill_fixed_x
from acsi_sem.numerics.conditional import conditional_statistics
from acsi_sem.numerics.polychoric import OrdinalStatistics, lower_triangle, ordinal_statistics
from acsi_sem.numerics.wlsmv import (
    DwlsSolution,
    baseline_test,
    catml_statistic,
    fit_dwls,
    ordinal_model,
    scaled_shifted_test,
)
from acsi_sem.results import FitResult
from acsi_sem.statistics.diagnostics import (
    improper_solution_warnings,
    singular_information_warning,
)
from acsi_sem.statistics.effects import effects_table
from acsi_sem.statistics.estimates import parameter_table, r_squared
from acsi_sem.statistics.fit_indices import OrdinalTest, ordinal_fit_indices
from acsi_sem.statistics.identification import check_identification
from acsi_sem.survey.prepare import PreparedData

# More answer categories than this and an item is better treated as continuous.
MAX_CATEGORIES = 15


def fit_wlsmv(spec: ModelSpec, data: PreparedData, model_file: ModelFile | None,
              options: FitOptions) -> FitResult:
    """Estimate ``spec`` on ordered answers by WLSMV and collect every statistic; the
    items outside ``options.ordered`` are continuous (lavaan's ``ordered =`` naming some)."""
    from acsi_sem.estimators.cbsem import cbsem_quality

    continuous = continuous_items(spec, options.ordered)
    check_ordinal_model(spec, data, options, continuous)
    check_no_composites(spec)
    check_identification(spec)
    statistics = sample_statistics(spec, data, continuous)
    if statistics.covariates:
        spec = fill_fixed_x(spec, statistics.marginal_covariance(spec.observed))
    model = ordinal_model(spec, statistics)
    dwls = fit_dwls(model, statistics)
    final = model.completed_spec(dwls.theta)
    information = (dwls.jacobian.T * statistics.weights) @ dwls.jacobian
    # A minimum with a negative derived residual variance is an improper solution, reported
    # as converged with its Heywood warning (lavaan's, and the ML path's).
    converged = dwls.converged or dwls.improper
    # The continuous items' intercepts are parameters (their means), not saturated.
    ram = build_ram(final, means=bool(continuous))
    solution = CbsemSolution(spec=final, ram=ram, theta=dwls.theta,
                             discrepancy=dwls.value, vcov=dwls.vcov, converged=converged,
                             messages=(), information=information)
    parameters = parameter_table(solution, np.zeros(len(spec.observed)), data.n_obs)
    effects = effects_table(final, solution.ram, solution.theta, solution.vcov)
    boot = None
    if options.bootstrap:
        boot = bootstrap_wlsmv(solution, dwls, statistics, data, parameters, effects, options)
        parameters, effects = apply_bootstrap(parameters, effects, boot)
    names = tuple(spec.observed)
    implied = _implied_covariance(solution)
    sample = (statistics.marginal_covariance(names) if statistics.covariates
              else statistics.covariance)
    return FitResult(
        spec=final, model_name=model_file.name if model_file is not None else "model",
        title=model_file.title if model_file is not None else "user model",
        estimator="WLSMV", data_source=data.source, n_obs=data.n_obs, n_total=data.n_total,
        parameters=parameters, fit_indices=_fit_indices(dwls, statistics),
        r2=r_squared(solution.ram, solution.theta),
        effects=effects, converged=converged,
        warnings=(*statistics.problems(), *_warnings(solution, parameters)),
        notes=(*data.notes, _categories_note(statistics),
               *(() if boot is None else (boot.summary_line(),))),
        implied_cov=as_frame(implied, names),
        sample_cov=as_frame(sample, names),
        vcov=None if dwls.vcov is None else pd.DataFrame(
            dwls.vcov, index=final.free_parameter_names, columns=final.free_parameter_names),
        quality=cbsem_quality(solution, parameters, data, correlation=(
            _correlation(sample) if statistics.covariates else statistics.polychoric)),
        missing=data.missing_report(), bootstrap=boot,
    )


def sample_statistics(spec: ModelSpec, data: PreparedData, continuous: tuple[str, ...]
                      ) -> OrdinalStatistics:
    """The items' sample statistics, conditional on the observed covariates where the
    model has any (lavaan's conditional.x)."""
    covariates = list(spec.exogenous_covariates)
    if not covariates:
        return ordinal_statistics(data.frame, continuous=continuous)
    items = [name for name in data.frame.columns if name not in covariates]
    return conditional_statistics(data.frame[items], data.frame[covariates])


def ordered_items(spec: ModelSpec, ordered: Sequence[str] | str | None) -> tuple[str, ...]:
    """The items declared ordered: ``"all"`` (or ``None``) means every observed variable
    but the exogenous covariates; a list (or one comma-separated string) names some, and
    the others are continuous.

    Raises:
        AcsiSemError: a name the model does not have, a covariate, or no item named.
    """
    covariates = spec.exogenous_covariates
    if ordered is None or ordered == "all" or tuple(ordered) == ("all",):
        return tuple(name for name in spec.observed if name not in covariates)
    names = tuple(ordered.split(",")) if isinstance(ordered, str) else tuple(ordered)
    names = tuple(name.strip() for name in names if name.strip())
    unknown = [name for name in names if name not in spec.observed]
    if unknown:
        raise AcsiSemError(f"ordered names {', '.join(unknown)}, which the model does not "
                           f"use; its items are {', '.join(spec.observed)}")
    exogenous = [name for name in names if name in covariates]
    if exogenous:
        raise AcsiSemError(f"ordered names the exogenous covariate(s) {', '.join(exogenous)}, "
                           "whose values are taken as given (fixed.x, as lavaan's); leave "
                           "them out of ordered, or code a categorical covariate as dummies")
    if not names:
        raise AcsiSemError("ordered names no item; name the ordered items, 'all', or use "
                           "estimator 'ml' (or 'dwls') for continuous items only")
    return tuple(name for name in spec.observed if name in names)


def continuous_items(spec: ModelSpec, ordered: tuple[str, ...] | None) -> tuple[str, ...]:
    """The observed variables not declared ordered, the exogenous covariates apart (none
    when ``ordered`` is ``None``)."""
    if ordered is None:
        return ()
    return tuple(name for name in spec.observed
                 if name not in ordered and name not in spec.exogenous_covariates)


def check_ordinal_model(spec: ModelSpec, data: PreparedData, options: FitOptions,
                        continuous: tuple[str, ...]) -> None:
    """Refuse what WLSMV cannot fit yet (FIML, ``~ 1``, observed covariates beside
    continuous items) and ordered columns that are not answer
    categories; also the groups' check (:mod:`acsi_sem.estimators.ordinal_groups`).

    Raises:
        AcsiSemError: an unsupported request.
        DataError: an ordered column with non-integer answers or too many categories.
    """
    unsupported = [(data.has_missing, "FIML (missing='fiml')"),
                   (spec.has_intercepts, "intercepts or means ('~ 1')"),
                   (bool(spec.exogenous_covariates) and bool(continuous),
                    "observed covariates beside continuous items")]
    for applies, what in unsupported:
        if applies:
            raise AcsiSemError(f"{what} is not available with ordered items (WLSMV) yet")
    covariates = spec.exogenous_covariates
    for name in (name for name in data.frame.columns
                 if name not in continuous and name not in covariates):
        values = data.frame[name].to_numpy()
        fractional = values[values != np.round(values)]
        if len(fractional):
            raise DataError(f"{data.source}: column {name} is declared ordered but holds "
                            f"non-integer answers such as {fractional[0]:g}")
        if len(np.unique(values)) > MAX_CATEGORIES:
            raise DataError(f"{data.source}: column {name} has {len(np.unique(values))} "
                            f"distinct answers; an ordered item needs at most "
                            f"{MAX_CATEGORIES} categories (treat it as continuous)")


def _implied_covariance(solution: CbsemSolution) -> np.ndarray:
    p = solution.ram.n_observed
    return solution.ram.full_covariance(solution.theta)[:p, :p]


def _correlation(covariance: np.ndarray) -> np.ndarray:
    sd = np.sqrt(np.diag(covariance))
    return covariance / np.outer(sd, sd)


def _fit_indices(dwls: DwlsSolution, statistics: OrdinalStatistics) -> pd.Series:
    m, npar = len(statistics.vector), len(dwls.theta)
    df = m - npar
    a, b = scaled_shifted_test(dwls.jacobian, statistics).scale_and_shift(df)
    base, base_test = baseline_test(statistics)
    # The items' implied covariance, given the covariates where there are any.
    implied = dwls.model.conditional_covariance(dwls.theta)
    p = len(implied)
    base_df = p * (p - 1) / 2
    base_a, base_b = base_test.scale_and_shift(base_df)
    catml = catml_statistic(dwls, statistics, df, base_df)
    # lavaan's SRMR for ordered items: correlation residuals, the implied covariances of
    # continuous items scaled by their sample standard deviations (srmr_bentler_nomean);
    # with covariates the residual correlations, over p(p - 1)/2 + p + nx moments
    # (lav_residuals_summary counts the covariates among its nvar).
    sd = statistics.standard_deviations
    residual = lower_triangle(statistics.polychoric - implied / np.outer(sd, sd))
    moments = p * (p + 1) / 2 + len(statistics.covariates)
    weights, sample = statistics.weights, statistics.vector
    misfit = sample - dwls.model.implied(dwls.theta)
    gfi = 1 - np.sum(weights * misfit ** 2) / np.sum(weights * sample ** 2)
    test = OrdinalTest(
        chisq=(statistics.n_obs - 1) * dwls.value, df=df, scale=a, shift=b,
        baseline_chisq=base, baseline_df=base_df, baseline_scale=base_a,
        baseline_shift=base_b,
        catml=((np.nan,) * 4 if catml is None else
               (catml.chisq, catml.scaling, catml.baseline_chisq, catml.baseline_scaling)),
        n_obs=statistics.n_obs, npar=npar,
        srmr=float(np.sqrt(np.sum(residual ** 2) / moments)),
        gfi=gfi, agfi=1 - m / df * (1 - gfi) if df > 0 else np.nan)
    return ordinal_fit_indices(test)


def _warnings(solution: CbsemSolution, parameters: pd.DataFrame) -> list[str]:
    warnings = []
    if not solution.converged:
        warnings.append("the estimator did not converge: the estimates are not a minimum of "
                        "the DWLS discrepancy and must not be reported")
    if solution.vcov is None:
        warnings.append(singular_information_warning(solution.spec, solution.information))
    return warnings + improper_solution_warnings(parameters, solution.ram, solution.theta)


def _categories_note(statistics: OrdinalStatistics) -> str:
    ordered = ~statistics.is_continuous
    counts = sorted({len(level) for level, kept in zip(statistics.levels, ordered, strict=True)
                     if kept})
    spread = "-".join(map(str, (counts[0], counts[-1]))) if len(counts) > 1 else str(counts[0])
    note = (f"ordered items: {int(ordered.sum())} items with {spread} answer categories; "
            "thresholds and polychoric correlations estimated in two steps (lavaan's WLSMV, "
            "delta parameterization)")
    if statistics.covariates:
        note += (f", given the covariates {', '.join(statistics.covariates)} (lavaan's "
                 "conditional.x: each item a probit regression on them, thresholds at "
                 "covariates 0, residual polychoric correlations)")
    if ordered.all():
        return note
    names = [item for item, kept in zip(statistics.items, ordered, strict=True) if not kept]
    return (f"{note}; continuous items: {', '.join(names)} (means, variances, polyserial "
            "and Pearson correlations)")

