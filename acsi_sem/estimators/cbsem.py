"""CB-SEM by maximum likelihood: estimates, fit, diagnostics, quality and bootstrap."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from acsi_sem.errors import AcsiSemError
from acsi_sem.estimators.bollen_stine import BollenStine
from acsi_sem.estimators.checks import check_mean_structure, check_no_composites
from acsi_sem.estimators.common import (
    apply_bootstrap,
    effect_keys,
    htmt_keys,
    parameter_key,
    upper_triangle,
)
from acsi_sem.estimators.least_squares import (
    ULS_NOTE,
    check_least_squares,
    fit_least_squares,
    least_squares_indices,
    observed_predictors,
    refit_least_squares,
    robust_sandwich,
    robust_test_indices,
    single_group,
)
from acsi_sem.estimators.options import FitOptions
from acsi_sem.model.modelfile import ModelFile
from acsi_sem.model.ram import as_frame, build_ram
from acsi_sem.model.spec import ModelSpec, with_labels_released
from acsi_sem.numerics.cbsem import (
    CbsemSolution,
    fill_fixed_x,
    fit_fiml,
    fit_ml,
    refit_fiml,
    refit_moments,
)
from acsi_sem.numerics.constrained import (
    ConstraintSystem,
    constraint_system,
    solution_constraints,
)
from acsi_sem.numerics.fiml import PatternResampler, independence_loglik
from acsi_sem.numerics.fiml_corrected import (
    ModelMoments,
    SaturatedGroup,
    fiml_corrected_test,
)
from acsi_sem.numerics.ml import ml_discrepancy
from acsi_sem.numerics.pls import PlsLayout, block_layout
from acsi_sem.numerics.robust import (
    RobustML,
    independence_covariance,
    independence_trace,
    mean_trace,
    robust_ml,
    robust_ml_means,
    unit_weights,
)
from acsi_sem.numerics.robust_fiml import independence_missing_trace, robust_fiml
from acsi_sem.numerics.wls import ROBUST_LEAST_SQUARES, WLS_ESTIMATORS, base_estimator
from acsi_sem.resample import (
    BootstrapResult,
    FailedReplicateError,
    Replicate,
    bootstrap,
    bootstrap_batched,
)
from acsi_sem.results import Deferred, FitResult
from acsi_sem.statistics.diagnostics import (
    improper_solution_warnings,
    singular_information_warning,
)
from acsi_sem.statistics.effects import effects_table
from acsi_sem.statistics.estimates import parameter_table, r_squared
from acsi_sem.statistics.fit_indices import (
    MomentFit,
    fiml_fit_indices,
    fit_indices,
    mean_structure_srmr,
    robust_indices,
    with_corrected_robust_indices,
)
from acsi_sem.statistics.identification import check_identification
from acsi_sem.statistics.modification import Block
from acsi_sem.statistics.quality import (
    MeasurementQuality,
    QualityInput,
    heterotrait_monotrait,
    measurement_quality,
)
from acsi_sem.statistics.score_test import (
    ScoreTest,
    patterns_score_test,
    released_score_test,
    released_theta,
)
from acsi_sem.statistics.standardize import row_values
from acsi_sem.survey.moments import SurveyMoments
from acsi_sem.survey.prepare import PreparedData


def fit_cbsem(spec: ModelSpec, data: PreparedData | SurveyMoments,
              model_file: ModelFile | None, options: FitOptions) -> FitResult:
    """Estimate ``spec`` by ML on checked data and collect every statistic into a result."""
    check_mean_structure(spec)
    check_no_composites(spec)
    check_identification(spec)
    _check_missing_options(spec, data, options)
    estimator = base_estimator(options.estimator)  # "ulsmv" fits by "uls"
    least_squares = estimator in WLS_ESTIMATORS
    sandwich = None
    if least_squares:
        check_least_squares(spec, data, options)
        solution = fit_least_squares(spec, data, estimator, fixed_x=bool(options.fixed_x))
        if options.estimator in ROBUST_LEAST_SQUARES:
            sandwich = robust_sandwich(single_group(solution, data.frame.to_numpy(), estimator),
                                       solution.theta, (data.frame.to_numpy(),),
                                       solution.basis)
            solution = replace(solution, vcov=sandwich.vcov)
    else:
        solution = fit_fiml(spec, data) if data.has_missing else fit_ml(spec, data)
    robust = None
    weighted = isinstance(data, PreparedData) and data.weights is not None
    if options.estimator == "mlr" or weighted:
        robust = _robust(solution, data)
        solution = replace(solution, vcov=robust.vcov)
    parameters = parameter_table(solution, data.means, data.n_obs,
                                 intercept_variances=None if robust is None
                                 else _mean_variances(data))
    # Tables read by the bootstrap only are computed there; elsewhere on first access.
    effects = Deferred(effects_table, solution.spec, solution.ram, solution.theta,
                       solution.vcov)
    warnings = _warnings(solution, parameters)
    notes = list(data.notes) + (list(solution.messages) if solution.converged else [])
    if weighted and options.estimator == "ml":
        notes.append(WEIGHTED_ML_NOTE)
    boot = None
    if options.bootstrap:
        boot = bootstrap_cbsem(solution, data, parameters, effects.value(), options)
        parameters, effects = apply_bootstrap(parameters, effects.value(), boot)
        notes.append(boot.summary_line())
    names = tuple(spec.observed)
    implied = solution.ram.implied_covariance(solution.theta)
    # Only the Bollen-Stine test and the robust and FIML corrections read them here.
    plain = not (least_squares or options.bollen_stine or robust is not None
                 or data.has_missing)
    indices = (Deferred(_indices, solution, data, implied) if plain
               else least_squares_indices(solution, data.frame.to_numpy(), estimator)
               if least_squares else _indices(solution, data, implied))
    if sandwich is not None:
        items = data.frame.to_numpy()
        indices = pd.concat([indices, robust_test_indices(
            indices, sandwich, single_group(solution, items, estimator), (items,),
            options.estimator, observed_predictors(solution.spec))])
    if options.estimator == "uls":
        notes.append(ULS_NOTE)
    bollen_stine = None
    if options.bollen_stine:
        bollen_stine = _bollen_stine(solution, data, options, indices["chisq"])
        indices["bollen_stine_pvalue"] = bollen_stine.pvalue
        notes.append(bollen_stine.summary_line())
    if robust is not None:
        indices = pd.concat([indices, _robust_indices(indices, robust, data,
                                                      _covariates(spec), spec.has_intercepts,
                                                      bool(solution.ram.m_rows.size))])
    if data.has_missing and not least_squares:
        indices = _with_fiml_corrected(indices, solution, data, robust=robust is not None)
    index, index_weights = None, None
    if options.scale is not None and isinstance(data, PreparedData):
        index, index_weights, index_notes = cbsem_index(solution, data, options.scale)
        notes += index_notes[:1]
        warnings += index_notes[1:]
    return FitResult(
        spec=solution.spec,
        model_name=model_file.name if model_file is not None else "model",
        title=model_file.title if model_file is not None else "user model",
        estimator="MLR" if robust is not None else options.estimator.upper(),
        data_source=data.source, n_obs=data.n_obs,
        n_total=data.n_total, parameters=parameters, fit_indices=indices,
        r2=Deferred(r_squared, solution.ram, solution.theta), effects=effects,
        converged=solution.converged, warnings=tuple(warnings), notes=tuple(notes),
        implied_cov=Deferred(as_frame, implied, names),
        sample_cov=Deferred(as_frame, data.covariance * data.n_obs / (data.n_obs - 1)
                            if least_squares else data.covariance, names),
        vcov=None if solution.vcov is None else Deferred(_vcov_frame, solution),
        # A copy: the user may edit result.parameters before quality is first read.
        quality=Deferred(cbsem_quality, solution, parameters.copy(), data), bootstrap=boot,
        missing=Deferred(data.missing_report),
        sampling_weights=data.weights_report() if isinstance(data, PreparedData) else None,
        index=index, index_weights=index_weights,
        constraints=solution_constraints(solution.spec, solution.constraints),
        score_test=None if least_squares else Deferred(_score_test, solution, data),
        bollen_stine=bollen_stine,
    )


def _vcov_frame(solution: CbsemSolution) -> pd.DataFrame:
    """The (q, q) covariance of the estimates, labelled by the free parameters' names."""
    names = list(solution.spec.free_parameter_names[:solution.ram.n_free])
    return pd.DataFrame(solution.vcov, index=names, columns=names)


def _bollen_stine(solution: CbsemSolution, data: PreparedData | SurveyMoments,
                  options: FitOptions, chisq: float) -> BollenStine:
    """The Bollen-Stine test, for the fits whose answers it can rotate."""
    from acsi_sem.estimators.bollen_stine import bollen_stine

    if not isinstance(data, PreparedData) or data.has_missing or data.weights is not None:
        raise AcsiSemError("the Bollen-Stine bootstrap rotates complete, unweighted answers "
                           "held in memory (lavaan refuses missing data too); use "
                           "missing='listwise' without weights or chunksize")
    return bollen_stine(solution, data, options.bollen_stine, options.seed, chisq)


def _score_test(solution: CbsemSolution, data: PreparedData | SurveyMoments
                ) -> ScoreTest | None:
    """lavaan's lavTestScore() for a fit with equality constraints (shared labels or
    ``==``) and no inequalities, of complete data without a mean structure or by FIML;
    ``None`` otherwise."""
    spec = solution.spec
    released, pairs = with_labels_released(spec)
    inequality = any(not c.is_equality for c in spec.constraints)
    if inequality or not (pairs or spec.constraints):
        return None
    if data.has_missing:
        theta = released_theta(spec, released, solution.theta)
        block = Block(released, build_ram(released, means=True), theta,
                      np.arange(len(theta)), data.missing_patterns)
        return patterns_score_test(released, pairs, [block], len(theta))
    if spec.has_intercepts:
        return None  # solution.theta may leave saturated intercepts out
    theta = released_theta(spec, released, solution.theta)
    discrepancy = ml_discrepancy(build_ram(released), theta, data.covariance)
    return released_score_test(released, pairs, theta, discrepancy, data.n_obs)


WEIGHTED_ML_NOTE = ("with sampling weights, ML is lavaan's sem(sampling.weights = ): ML on the "
                    "weighted moments with robust (Huber-White) standard errors and the "
                    "Yuan-Bentler scaled test, i.e. MLR")


def _mean_variances(data: PreparedData) -> np.ndarray:
    """(p,) N times the sampling variance of each item's (weighted) mean: the sample
    variances, or with sampling weights ``sum w^2 (x - mean)^2 / N``."""
    if data.weights is None:
        return np.diag(data.covariance)
    unit = unit_weights(data.weights, data.n_obs)
    return unit ** 2 @ (data.frame.to_numpy() - data.means) ** 2 / data.n_obs


def _indices(solution: CbsemSolution, data: PreparedData, implied: np.ndarray) -> pd.Series:
    moments = _moment_fit(solution, data, implied)
    if not data.has_missing:
        return fit_indices(moments)
    # lavaan's fixed.x: every log-likelihood is conditional on the covariates (their own,
    # the same in all three models, left out), whose answers are complete here.
    conditional = moments.covariate_loglik
    outcomes = np.delete(data.frame.to_numpy(), moments.covariates, axis=1)
    srmr = mean_structure_srmr(data.covariance, implied, data.means, moments.implied_means)
    return fiml_fit_indices(moments.size, -solution.discrepancy * data.n_obs - conditional,
                            data.unrestricted_loglik - conditional,
                            independence_loglik(outcomes, data.missing_patterns.row_weights),
                            srmr)


def _check_missing_options(spec: ModelSpec, data: PreparedData, options: FitOptions) -> None:
    weighted = isinstance(data, PreparedData) and data.weights is not None
    if weighted and data.has_missing and options.bootstrap:
        raise AcsiSemError("the bootstrap of a FIML fit with sampling weights is not "
                           "available yet; drop bootstrap= (the weighted FIML standard "
                           "errors are robust, Huber-White, as lavaan's) or the weights")
    covariates = list(spec.exogenous_covariates)
    if (isinstance(data, PreparedData) and data.has_missing and covariates
            and data.frame[covariates].isna().any().any()):
        # The likelihood then no longer factors into the covariates' and the rest's.
        raise AcsiSemError(f"FIML conditions on the fixed.x covariates ({', '.join(covariates)})"
                           ", so every row it uses must have them: prepare the data with "
                           "prepare_data(..., covariates=spec.exogenous_covariates), as "
                           "acsi_sem.fit does")


def _robust(solution: CbsemSolution, data: PreparedData) -> RobustML:
    items = data.frame.to_numpy()
    if not data.has_missing and solution.ram.m_rows.size:
        return robust_ml_means(solution.ram, solution.theta, items, _covariates(solution.spec),
                               basis=solution.basis, weights=data.weights)
    if not data.has_missing:
        return robust_ml(solution.ram, solution.theta, items, _covariates(solution.spec),
                         data.weights, meanstructure=solution.spec.has_intercepts,
                         basis=solution.basis)
    return robust_fiml(solution.ram, data.missing_patterns, items, solution.theta,
                       data.means, data.covariance, bread=solution.information,
                       basis=solution.basis, covariates=_covariates(solution.spec))


def _robust_indices(indices: pd.Series, robust: RobustML, data: PreparedData,
                    covariates: tuple[int, ...], meanstructure: bool,
                    modelled_means: bool = False) -> pd.Series:
    items = data.frame.to_numpy()
    independence = (independence_missing_trace(np.delete(items, covariates, axis=1),
                                               data.missing_patterns.row_weights)
                    if data.has_missing
                    else independence_trace(items - data.means, covariates, data.weights))
    if modelled_means and not data.has_missing and data.weights is None:
        independence += items.shape[1] - len(covariates)  # the baseline's saturated means
    if (meanstructure or modelled_means) and data.weights is not None and not data.has_missing:
        independence += mean_trace(items - data.means, independence_covariance(
            data.covariance, covariates), covariates, data.weights)
    baseline_scaling = (robust.saturated_trace - independence) / indices["baseline_df"]
    return robust_indices(indices, robust.scaling_factor(indices["df"]), baseline_scaling)


def _with_fiml_corrected(indices: pd.Series, solution: CbsemSolution, data: PreparedData, *,
                         robust: bool) -> pd.Series:
    """``indices`` with lavaan's robust CFI, TLI and RMSEA under FIML, which lavaan reports
    for ML as well as MLR: from the FIML-corrected statistics
    (:mod:`acsi_sem.numerics.fiml_corrected`), the scores entering under MLR only."""
    items = data.frame.to_numpy()
    saturated = SaturatedGroup.at_em(data.missing_patterns, items, data.means,
                                     data.covariance, _covariates(solution.spec))
    model = ModelMoments.of_ram(solution.ram, solution.theta)
    corrected = fiml_corrected_test([saturated], [model], indices["df"],
                                    indices["baseline_df"], robust=robust,
                                    basis=solution.basis)
    return with_corrected_robust_indices(indices, corrected)


CBSEM_INDEX_NOTE = ("0-100 index from CB-SEM: each construct's regression factor-score weights "
                    "on its own items, normalized to sum to 1, applied to the (weighted) item "
                    "means on the {low:g}-{high:g} scale (the PLS index uses outer weights)")


def cbsem_index(solution: CbsemSolution, data: PreparedData, scale: tuple[float, float]
                ) -> tuple[Deferred | None, Deferred | None, list[str]]:
    """The 0-100 index of each reflective construct (a Series), its item weights (latent,
    indicator, weight), both deferred, and ``[note, *warnings]`` (the weights' warnings
    now); no index for a model with composites or without constructs."""
    from acsi_sem.statistics.index import (
        acsi_index,
        factor_score_weights,
        negative_weight_warnings,
    )

    layout = construct_layout(solution.spec)
    if not layout.latent:
        return None, None, []
    variables = solution.ram.variables
    positions = np.array([solution.spec.observed.index(name) for name in layout.indicators])
    weights = factor_score_weights(solution.ram.full_covariance(solution.theta),
                                   solution.ram.n_observed,
                                   [variables.index(name) for name in layout.latent],
                                   layout.blocks, positions)
    index = acsi_index(data.means[positions], weights, layout.blocks, scale)
    note = CBSEM_INDEX_NOTE.format(low=scale[0], high=scale[1])
    return (Deferred(_index_series, index, layout), Deferred(_index_weights, weights, layout),
            [note, *negative_weight_warnings(weights, layout.blocks, layout.latent,
                                             layout.indicators)])


def _index_series(index: np.ndarray, layout: PlsLayout) -> pd.Series:
    """The (L,) indices named by construct."""
    return pd.Series(index, index=list(layout.latent), name="index")


def _index_weights(weights: np.ndarray, layout: PlsLayout) -> pd.DataFrame:
    """``latent, indicator, weight``: the (p,) item weights of the index."""
    owner = [lv for lv, block in zip(layout.latent, layout.blocks, strict=True) for _ in block]
    return pd.DataFrame({"latent": owner, "indicator": list(layout.indicators),
                         "weight": weights})


def construct_layout(spec: ModelSpec) -> PlsLayout:
    """The blocks of latent variables and their indicators, with the regressions among
    latent variables only (a path to or from an observed variable is not between blocks)."""
    # A second-order factor has no items of its own: it is not a block.
    first_order = tuple(lv for lv in spec.latent
                        if any(item not in spec.latent for item in spec.indicators[lv]))
    paths = [(outcome, predictor) for outcome, predictor in spec.structural_paths
             if outcome in first_order and predictor in first_order]
    return block_layout(first_order, spec.indicators, paths, spec.modes)


def _covariates(spec: ModelSpec) -> tuple[int, ...]:
    """Positions of the fixed.x covariates among the observed variables."""
    return tuple(spec.observed.index(name) for name in spec.exogenous_covariates)


def _moment_fit(solution: CbsemSolution, data: PreparedData, implied: np.ndarray
                ) -> MomentFit:
    spec, ram = solution.spec, solution.ram
    p = len(spec.observed)
    meanstructure = spec.has_intercepts or data.has_missing
    # Without modelled means (ram.m_rows) the intercepts are the saturated sample means.
    implied_means = ram.implied_mean(solution.theta) if ram.m_rows.size else data.means
    return MomentFit(sample_cov=data.covariance, implied_cov=implied, n_obs=data.n_obs,
                     npar=spec.n_free - solution.equality_rank,
                     n_moments=p * (p + 1) // 2 + (p if meanstructure else 0),
                     meanstructure=meanstructure, covariates=_covariates(spec),
                     sample_means=data.means if meanstructure else None,
                     implied_means=implied_means if meanstructure else None)


def _warnings(solution: CbsemSolution, parameters: pd.DataFrame) -> list[str]:
    warnings = list(solution.messages if not solution.converged else ())
    if not solution.converged:
        warnings.insert(0, "the estimator did not converge: the estimates are not a maximum "
                           "of the likelihood and must not be reported")
    if solution.vcov is None:
        warnings.append(singular_information_warning(solution.spec, solution.information))
    return warnings + improper_solution_warnings(parameters, solution.ram, solution.theta)


def cbsem_quality(solution: CbsemSolution, parameters: pd.DataFrame,
                  data: PreparedData, *, correlation: np.ndarray | None = None
                  ) -> MeasurementQuality | None:
    """Reliability and validity from the standardized solution and the items' correlations
    (``correlation``, (p, p) in ``spec.observed`` order; Pearson's from the data by
    default, the polychorics for ordered items). The tables describe constructs and their
    indicators: regressions on observed variables are left out of them."""
    layout = construct_layout(solution.spec)
    if not layout.latent:
        return None  # a model of observed variables only has no constructs to describe
    keyed = dict(zip(zip(parameters["lhs"], parameters["op"], parameters["rhs"], strict=True),
                     parameters["std_all"], strict=True))
    owner = [lv for lv, block in zip(layout.latent, layout.blocks, strict=True) for _ in block]
    loadings = np.array([keyed[(lv, "=~", ind)] for lv, ind in zip(owner, layout.indicators,
                                                                   strict=True)])
    residuals = np.array([keyed[(ind, "~~", ind)] for ind in layout.indicators])
    full = solution.ram.full_covariance(solution.theta)
    position = {name: i for i, name in enumerate(solution.ram.variables)}
    rows = [position[name] for name in layout.indicators]
    cols = [position[name] for name in layout.latent]
    sd = np.sqrt(np.clip(np.diag(full), 1e-300, None))
    correlation_all = full / np.outer(sd, sd)
    return measurement_quality(QualityInput(
        latent=layout.latent, indicators=layout.indicators, blocks=layout.blocks,
        reflective=~layout.mode_b,
        correlation=(_indicator_correlation(data, layout.indicators) if correlation is None
                     else _reorder(correlation, solution.spec.observed, layout.indicators)),
        loadings=loadings, residuals=residuals,
        construct_cor=correlation_all[np.ix_(cols, cols)], predecessors=layout.predecessors,
        cross_loadings=correlation_all[np.ix_(rows, cols)]))


def _reorder(matrix: np.ndarray, names: tuple[str, ...], order: tuple[str, ...]
             ) -> np.ndarray:
    positions = [names.index(name) for name in order]
    return matrix[np.ix_(positions, positions)]


def _indicator_correlation(data: PreparedData | SurveyMoments, indicators: tuple[str, ...]
                           ) -> np.ndarray:
    if isinstance(data, SurveyMoments):  # a big file read in chunks: only its moments
        return data.correlation(indicators)
    if data.has_missing and data.weights is None:
        return pairwise_correlation(data.frame[list(indicators)].to_numpy())
    if data.weights is not None:  # weighted, by EM with missing answers
        columns = [data.frame.columns.get_loc(name) for name in indicators]
        covariance = data.covariance[np.ix_(columns, columns)]
        sd = np.sqrt(np.diag(covariance))
        return covariance / np.outer(sd, sd)
    return np.atleast_2d(np.corrcoef(data.frame[list(indicators)].to_numpy(), rowvar=False))


def bootstrap_cbsem(solution: CbsemSolution, data: PreparedData, parameters: pd.DataFrame,
                    effects: pd.DataFrame, options: FitOptions) -> BootstrapResult:
    """Refit the model on resampled rows by its estimator (ML, FIML or least squares), each
    started from the full-sample estimates: ML in batches of stacked arrays
    (:mod:`acsi_sem.estimators.cbsem_batched`), the others and fits under constraints one
    at a time."""
    spec = solution.spec
    layout = construct_layout(spec)
    modelled_means = bool(solution.ram.m_rows.size)
    bootstrapped_ops = ["=~", "~", "~~", "~1"] if modelled_means else ["=~", "~", "~~"]
    values_rows = np.flatnonzero(spec.table["op"].isin(bootstrapped_ops).to_numpy()
                                 & (spec.table["free"] > 0).to_numpy())
    defined = np.flatnonzero(spec.table["op"].to_numpy() == ":=")
    names = ([parameter_key(*spec.table.loc[i, ["lhs", "op", "rhs"]]) for i in values_rows]
             + [parameter_key(*spec.table.loc[i, ["lhs", "op", "rhs"]]) for i in defined]
             + effect_keys(effects, "indirect") + effect_keys(effects, "total")
             + htmt_keys(layout.latent))
    raw = data.frame.to_numpy()
    indicator_columns = [spec.observed.index(name) for name in layout.indicators]
    variance_rows = spec.variance_rows
    system = constraint_system(spec)
    resampler = PatternResampler.from_items(raw) if data.has_missing else None
    estimator = base_estimator(options.estimator)
    least_squares = estimator in WLS_ESTIMATORS

    def statistic(rows: np.ndarray) -> Replicate:
        sample = raw[rows]
        try:
            if resampler is not None:
                theta, correlation = _fiml_replicate(solution, resampler, rows, sample,
                                                     system, indicator_columns)
            elif least_squares:
                theta, correlation = _least_squares_replicate(solution, sample, estimator,
                                                              indicator_columns)
            else:
                theta, correlation = _complete_replicate(solution, sample, data, rows,
                                                         system, indicator_columns)
        except np.linalg.LinAlgError as error:
            raise FailedReplicateError from error
        replicate_spec_values = row_values(spec, theta)
        replicate = _replicate_statistics(solution, theta, effects)
        values = np.concatenate([replicate_spec_values[values_rows], replicate[0],
                                 replicate[1], replicate[2],
                                 upper_triangle(heterotrait_monotrait(correlation,
                                                                      layout.blocks))])
        improper = bool((replicate_spec_values[variance_rows] < 0).any())
        return Replicate(values, improper)

    estimate = np.concatenate([parameters["est"].to_numpy()[values_rows],
                               parameters["est"].to_numpy()[defined],
                               effects["indirect"].to_numpy(), effects["total"].to_numpy(),
                               upper_triangle(heterotrait_monotrait(
                                   _indicator_correlation(data, layout.indicators),
                                   layout.blocks))])
    settings = {"replicates": options.bootstrap, "seed": options.seed, "names": tuple(names),
                "estimate": estimate, "progress": options.progress, "interval": options.ci}
    if system is not None or data.has_missing or least_squares:
        # The batched iterations know neither constraints, FIML nor least squares.
        return bootstrap(statistic, data.n_obs, **settings)
    from acsi_sem.estimators.cbsem_batched import batched_cbsem_statistic

    batched = batched_cbsem_statistic(solution, raw, effects, layout, statistic, data.weights)
    return bootstrap_batched(batched, data.n_obs, **settings)


def _complete_replicate(solution: CbsemSolution, sample: np.ndarray, data: PreparedData,
                        rows: np.ndarray, system: ConstraintSystem | None,
                        indicator_columns: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """The ML estimates of one resample of complete answers and its items' correlations."""
    spec = solution.spec
    row_weights = None if data.weights is None else data.weights[rows]
    covariance = np.cov(sample, rowvar=False, bias=True, aweights=row_weights)
    means = np.average(sample, axis=0, weights=row_weights)
    ram = (build_ram(fill_fixed_x(spec, covariance, means), means=bool(solution.ram.m_rows.size))
           if (spec.table["exo"] == 1).any() else solution.ram)
    fitted = refit_moments(ram, solution.theta, covariance, means, system)
    if not fitted.converged:
        raise FailedReplicateError
    indicators = covariance[np.ix_(indicator_columns, indicator_columns)]
    sd = np.sqrt(np.diag(indicators))
    return fitted.theta, indicators / np.outer(sd, sd)


def _least_squares_replicate(solution: CbsemSolution, sample: np.ndarray, estimator: str,
                             indicator_columns: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """The least-squares estimates of one resample of complete answers (the estimator's
    weights from the resample) and its items' correlations."""
    theta, converged = refit_least_squares(solution, sample, estimator)
    if not converged:
        raise FailedReplicateError
    return theta, np.corrcoef(sample[:, indicator_columns], rowvar=False)


def _fiml_replicate(solution: CbsemSolution, resampler: PatternResampler, rows: np.ndarray,
                    sample: np.ndarray, system: ConstraintSystem | None,
                    indicator_columns: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """The FIML estimates of the resample ``rows`` (n,) of incomplete answers (arranged by
    pattern once, in ``resampler``) and the pairwise correlations of its answers ``sample``
    (n, p)."""
    # fixed.x covariates are complete under FIML, so the likelihood factors into theirs and
    # that of the rest given them: the free estimates do not depend on the values their
    # moments are held at, and the full-sample model serves every resample.
    drawn = np.bincount(rows, minlength=resampler.membership.shape[1]).astype(float)
    theta, converged = refit_fiml(solution.ram, resampler.resample(drawn), solution.theta,
                                  system)
    if not converged:
        raise FailedReplicateError
    return theta, pairwise_correlation(sample[:, indicator_columns])


def pairwise_correlation(items: np.ndarray) -> np.ndarray:
    """(p, p) correlations of answers (n, p) over the rows where both items are answered."""
    return pd.DataFrame(items).corr().to_numpy()


def _replicate_statistics(solution: CbsemSolution, theta: np.ndarray, effects: pd.DataFrame
                          ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Defined parameters, indirect and total effects (same pairs as the full sample)."""
    from acsi_sem.statistics.defined import evaluate_definitions
    from acsi_sem.statistics.effects import effect_matrices, regression_cells
    from acsi_sem.statistics.standardize import label_map

    spec, ram = solution.spec, solution.ram
    defined = evaluate_definitions(spec, label_map(spec, row_values(spec, theta)))
    direct, total = effect_matrices(ram, theta, regression_cells(spec, ram))
    index = {name: i for i, name in enumerate(ram.variables)}
    rows = [index[name] for name in effects["lhs"]]
    cols = [index[name] for name in effects["rhs"]]
    return (np.array(list(defined.values())), total[rows, cols] - direct[rows, cols],
            total[rows, cols])
