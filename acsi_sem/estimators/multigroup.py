"""Multi-group CB-SEM: one model per group, parameters held equal as asked, one result."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import numpy as np
import pandas as pd

from acsi_sem.errors import AcsiSemError, DataError
from acsi_sem.estimators.checks import check_mean_structure, check_no_composites
from acsi_sem.estimators.common import apply_bootstrap, effect_keys, group_parameter_key
from acsi_sem.estimators.least_squares import (
    ULS_NOTE,
    check_least_squares,
    fit_least_squares_groups,
    grouped_least_squares_indices,
    observed_predictors,
    robust_sandwich,
    robust_test_indices,
)
from acsi_sem.estimators.options import FitOptions
from acsi_sem.model.groups import GroupedSpec, group_spec, with_group_labels_released
from acsi_sem.model.modelfile import ModelFile
from acsi_sem.model.ram import as_frame, build_ram
from acsi_sem.model.spec import ModelSpec, with_random_covariates
from acsi_sem.numerics.cbsem import fit_ml
from acsi_sem.numerics.constrained import solution_constraints
from acsi_sem.numerics.fiml import PatternResampler, independence_loglik
from acsi_sem.numerics.fiml_corrected import (
    ModelMoments,
    SaturatedGroup,
    fiml_corrected_test,
)
from acsi_sem.numerics.multigroup import (
    GroupedSolution,
    GroupMoments,
    baseline_scaling,
    fit_ml_groups,
    grouped_discrepancy,
    grouped_start_values,
    parameter_names,
    robust_groups,
    total_unit_weights,
    with_group_fixed_x,
)
from acsi_sem.numerics.multigroup_fiml import (
    fit_fiml_groups,
    refit_fiml_groups,
    robust_fiml_groups,
)
from acsi_sem.numerics.robust import RobustML
from acsi_sem.numerics.wls import (
    ROBUST_LEAST_SQUARES,
    WLS_ESTIMATORS,
    SandwichTest,
    base_estimator,
    least_squares_groups,
)
from acsi_sem.resample import (
    BootstrapResult,
    FailedReplicateError,
    Replicate,
    bootstrap,
    bootstrap_batched,
)
from acsi_sem.results import FitResult
from acsi_sem.statistics.diagnostics import (
    improper_solution_warnings,
    singular_information_warning,
)
from acsi_sem.statistics.effects import effect_matrices, effects_table, regression_cells
from acsi_sem.statistics.estimates import (
    parameter_table,
    r_squared,
    stacked_definition_rows,
    stacked_definition_values,
)
from acsi_sem.statistics.fit_indices import (
    MomentFit,
    grouped_fiml_fit_indices,
    grouped_fit_indices,
    robust_indices,
    with_corrected_robust_indices,
)
from acsi_sem.statistics.identification import check_identification
from acsi_sem.statistics.modification import Block
from acsi_sem.statistics.score_test import (
    ScoreTest,
    patterns_score_test,
    released_score_test,
    released_theta,
)
from acsi_sem.statistics.standardize import row_values
from acsi_sem.survey.prepare import PreparedData


def fit_cbsem_groups(spec: ModelSpec, data: PreparedData, model_file: ModelFile | None,
                     options: FitOptions) -> FitResult:
    """Fit ``spec`` in every group of ``data.groups`` by ML (or MLR), holding the classes
    ``options.group_equal`` (``"loadings"``, ``"intercepts"``, ...) equal across groups.

    Args:
        spec: the single-group specification.
        data: checked data with a group label per row.
        options: estimator settings (estimator ``"ml"`` or ``"mlr"``, no bootstrap).

    With sampling weights (``data.weights``), as lavaan's ``sem(group =, sampling.weights =)``:
    the weights rescaled to sum N over all groups, each group's moments weighted and its
    size the sum of its weights, and ML fitted as MLR (sandwich SEs, Yuan-Bentler test).
    """
    _check_group_options(options)
    _check_weighted_groups(data, options)
    estimator = base_estimator(options.estimator)
    least_squares = estimator in WLS_ESTIMATORS
    if least_squares:
        check_least_squares(spec, data, options)
        if not options.fixed_x:
            spec = with_random_covariates(spec)  # lavaan's default fixed.x = FALSE for these
    check_no_composites(spec)
    check_mean_structure(spec)
    check_identification(spec)
    labels = data.group_labels
    parts = group_data(data, labels)
    moments = group_moments(parts)
    # Each group's fixed.x covariates at its own moments (lavaan's per-group sample stats).
    grouped = with_group_fixed_x(group_spec(spec, labels, equal=options.group_equal),
                                 _fixed_x_moments(moments, least_squares=least_squares))
    start = _start_values(spec, grouped, data, moments)
    if data.has_missing:
        patterns = tuple(part.missing_patterns for part in parts)
        solution = fit_fiml_groups(grouped, patterns, start)
    else:
        solution = fit_ml_groups(grouped, moments, start)
    sandwich = None
    if least_squares:
        solution = fit_least_squares_groups(grouped, _items(parts), estimator, solution.theta)
    if options.estimator in ROBUST_LEAST_SQUARES:
        sandwich = robust_sandwich(least_squares_groups(grouped, _items(parts), estimator),
                                   solution.theta, _items(parts),
                                   None if solution.constraints is None
                                   else solution.constraints.basis)
        solution = replace(solution, vcov=sandwich.vcov)
    robust = None
    if options.estimator == "mlr" or data.weights is not None:
        items = tuple(part.frame.to_numpy() for part in parts)
        covariates = _covariate_positions(spec)
        robust = (robust_fiml_groups(solution, patterns, items, moments, covariates)
                  if data.has_missing else robust_groups(solution, items, moments, covariates,
                                                         _unit_weights(parts)))
        solution = replace(solution, vcov=robust.vcov)
    result = _result(spec, solution, parts, data, model_file, options, robust, sandwich)
    if options.bollen_stine:
        result = _with_bollen_stine(result, solution, data, options)
    if not options.bootstrap:
        return result
    boot = bootstrap_groups(solution, data, result.parameters, result.effects, options)
    parameters, effects = apply_bootstrap(result.parameters, result.effects, boot)
    return replace(result, parameters=parameters, effects=effects, bootstrap=boot,
                   notes=(*result.notes, boot.summary_line(),
                          group_bootstrap_note(estimator, data.has_missing)))


def _check_weighted_groups(data: PreparedData, options: FitOptions) -> None:
    """Sampling weights with groups: ML and MLR (FIML too), without resampling."""
    if data.weights is None:
        return
    if options.bootstrap:
        raise AcsiSemError("the bootstrap with groups and sampling weights is not available "
                           "yet (its resamples would not carry the weights); drop bootstrap=: "
                           "the weighted fit's standard errors are already robust "
                           "(Huber-White), as lavaan's")


def group_moments(parts: tuple[PreparedData, ...]) -> tuple[GroupMoments, ...]:
    """Each group's moments; with sampling weights (rescaled by :func:`group_data` to sum
    N over all groups) the weighted ones, the group's size the sum of its weights (lavaan's
    ``nobs`` of the sample statistics)."""
    return tuple(GroupMoments(n_obs=group_size(part), covariance=part.covariance,
                              means=part.means) for part in parts)


def group_size(part: PreparedData) -> float:
    """n_g: the group's rows, or with sampling weights the sum of their weights."""
    return part.n_obs if part.weights is None else float(part.weights.sum())


def _unit_weights(parts: tuple[PreparedData, ...]) -> tuple[np.ndarray, ...] | None:
    """Each group's (n_g,) sampling weights, summing to N over all groups, or None."""
    if parts[0].weights is None:
        return None
    return tuple(part.weights for part in parts)


WEIGHTED_GROUPS_NOTE = ("with sampling weights and groups, as lavaan's sem(group =, "
                        "sampling.weights =): the weights rescaled to sum to N over all "
                        "groups, each group's moments weighted and its size the sum of its "
                        "weights ({sizes}); ML on them with robust (Huber-White) standard "
                        "errors and the Yuan-Bentler scaled test, i.e. MLR")


def _fixed_x_moments(moments: tuple[GroupMoments, ...], *, least_squares: bool
                     ) -> tuple[GroupMoments, ...]:
    """The groups' moments at which fixed.x holds the covariates: ML's (divisor n_g), or
    the least-squares estimators' sample covariance (divisor n_g - 1, as lavaan's)."""
    if not least_squares:
        return moments
    return tuple(replace(m, covariance=m.covariance * m.n_obs / (m.n_obs - 1))
                 for m in moments)


def _items(parts: tuple[PreparedData, ...]) -> tuple[np.ndarray, ...]:
    """Each group's (n_g, p) answers."""
    return tuple(part.frame.to_numpy() for part in parts)


def _start_values(spec: ModelSpec, grouped: GroupedSpec, data: PreparedData,
                  moments: tuple[GroupMoments, ...]) -> np.ndarray:
    """Every group started at the pooled single-group ML fit (to the EM moments with
    missing answers), intercepts at the group's means."""
    # The pooled fit only starts the groups: without the constraints, which may name the
    # labels of c(...) modifiers that exist per group only.
    pooled = fit_ml(replace(spec, constraints=(), group_values={}), data)
    values = row_values(pooled.spec, pooled.theta)
    keys = zip(pooled.spec.table["lhs"], pooled.spec.table["op"], pooled.spec.table["rhs"],
               strict=True)
    return grouped_start_values(grouped, dict(zip(keys, values, strict=True)), moments,
                                pooled_means=bool(pooled.ram.m_rows.size))


def _with_bollen_stine(result: FitResult, solution: GroupedSolution, data: PreparedData,
                       options: FitOptions) -> FitResult:
    """``result`` with the Bollen-Stine test of its chi-square (complete, unweighted data)."""
    from acsi_sem.estimators.bollen_stine import bollen_stine_groups

    if data.has_missing or data.weights is not None:
        raise AcsiSemError("the Bollen-Stine bootstrap rotates complete, unweighted answers "
                           "(lavaan refuses missing data too); use missing='listwise' "
                           "without weights")
    test = bollen_stine_groups(solution, data, options.bollen_stine, options.seed,
                               float(result.fit_indices["chisq"]))
    indices = result.fit_indices.copy()
    indices["bollen_stine_pvalue"] = test.pvalue
    return replace(result, fit_indices=indices, bollen_stine=test,
                   notes=(*result.notes, test.summary_line()))


def group_bootstrap_note(estimator: str, missing: bool) -> str:
    """What the multi-group bootstrap refitted, by which ``estimator`` (``"ml"``, ``"gls"``,
    ...; FIML where answers are ``missing``)."""
    method = "FIML" if missing else estimator.upper()
    return (f"multi-group bootstrap: respondents resampled within each group and refitted by "
            f"{method} (lavaan's se = 'bootstrap'); the SEs and intervals of the parameters "
            "and of the indirect and total effects come from it")


def bootstrap_groups(solution: GroupedSolution, data: PreparedData, parameters: pd.DataFrame,
                     effects: pd.DataFrame, options: FitOptions) -> BootstrapResult:
    """Refit the multi-group model on resamples drawn within each group, every replicate
    started from the full-sample estimates and under the model's constraints.

    Args:
        effects: the full-sample effects table (with its ``group`` column); its indirect
            and total effects are bootstrapped too.

    Returns:
        The draws of every free parameter of every group (``"lhs op rhs [group]"``), of
        the defined parameters and of the effects (``"total: lhs <- rhs [group]"``).
    """
    grouped = solution.grouped
    labels, raw = grouped.labels, data.frame.to_numpy()
    codes = data.groups.to_numpy()
    masks = [_bootstrapped_rows(view.spec, first=g == 0) for g, view in enumerate(grouped.views)]
    names = [group_parameter_key(lhs, op, rhs, group if op != ":=" else "")
             for mask, view, group in zip(masks, grouped.views, labels, strict=True)
             for lhs, op, rhs in view.spec.table.loc[mask, ["lhs", "op", "rhs"]].itertuples(
                 index=False)]
    names += effect_keys(effects, "indirect") + effect_keys(effects, "total")
    keyed = dict(zip((group_parameter_key(*row) for row in parameters[
        ["lhs", "op", "rhs", "group"]].itertuples(index=False)), parameters["est"],
        strict=True))
    keyed.update(zip(effect_keys(effects, "indirect"), effects["indirect"], strict=True))
    keyed.update(zip(effect_keys(effects, "total"), effects["total"], strict=True))
    effect_cells = _group_effect_cells(solution, effects)

    estimator = base_estimator(options.estimator)
    least_squares = estimator in WLS_ESTIMATORS
    if data.has_missing:
        refit = _fiml_replicates(solution, raw, codes)
    elif least_squares:
        refit = _least_squares_replicates(solution, raw, codes, estimator)
    else:
        refit = _ml_replicates(solution, raw, codes)

    def statistic(rows: np.ndarray) -> Replicate:
        try:
            theta, converged = refit(rows)
        except np.linalg.LinAlgError as error:
            raise FailedReplicateError from error
        if not converged:
            raise FailedReplicateError
        values = [_view_values(grouped, g, theta)[mask] for g, mask in enumerate(masks)]
        values += _group_effects(solution, theta, effect_cells)
        improper = any((row_values(view.spec, theta[view.global_index])[
            view.spec.variance_rows] < 0).any() for view in grouped.views)
        return Replicate(np.concatenate(values), improper)

    settings = {"replicates": options.bootstrap, "seed": options.seed, "names": tuple(names),
                "estimate": np.array([keyed[name] for name in names]),
                "progress": options.progress, "interval": options.ci, "strata": codes}
    if data.has_missing or solution.constraints is not None or least_squares:
        # The batched iterations know neither FIML, constraints nor least squares.
        return bootstrap(statistic, data.n_obs, **settings)
    from acsi_sem.estimators.multigroup_batched import batched_group_statistic

    batched = batched_group_statistic(
        solution, raw, codes, masks, effect_cells, statistic,
        lambda theta: _view_values(grouped, 0, theta))
    return bootstrap_batched(batched, data.n_obs, **settings)


def _group_effect_cells(solution: GroupedSolution, effects: pd.DataFrame
                        ) -> list[tuple[tuple[np.ndarray, np.ndarray], np.ndarray, np.ndarray]]:
    """Per group: its regression cells and the RAM positions of its rows of ``effects``
    (outcome, cause), in the table's order (which lists the groups in order)."""
    cells = []
    for view, ram, label in zip(solution.grouped.views, solution.rams,
                                solution.grouped.labels, strict=True):
        index = {name: i for i, name in enumerate(ram.variables)}
        rows = effects[effects["group"] == label]
        cells.append((regression_cells(view.spec, ram),
                      np.array([index[name] for name in rows["lhs"]], dtype=int),
                      np.array([index[name] for name in rows["rhs"]], dtype=int)))
    return cells


def _group_effects(solution: GroupedSolution, theta: np.ndarray, effect_cells: list
                   ) -> list[np.ndarray]:
    """``[indirect effects, total effects]`` (each over every group's rows) at ``theta``."""
    indirect, total = [], []
    for view, ram, (cells, outcomes, causes) in zip(solution.grouped.views, solution.rams,
                                                     effect_cells, strict=True):
        direct, totals = effect_matrices(ram, theta[view.global_index], cells)
        indirect.append(totals[outcomes, causes] - direct[outcomes, causes])
        total.append(totals[outcomes, causes])
    return [np.concatenate(indirect), np.concatenate(total)]


Refit = Callable[[np.ndarray], tuple[np.ndarray, bool]]


def _ml_replicates(solution: GroupedSolution, raw: np.ndarray, codes: np.ndarray) -> Refit:
    """A function from a resample's rows (into ``raw`` (n, p), group ``codes`` (n,)) to its
    multi-group ML estimates (Q,) and whether they converged."""
    labels = solution.grouped.labels

    def refit(rows: np.ndarray) -> tuple[np.ndarray, bool]:
        sample, sample_codes = raw[rows], codes[rows]
        parts = [sample[sample_codes == label] for label in labels]
        if min(len(part) for part in parts) < 2:  # a jackknife replicate emptied a group
            return solution.theta, False
        moments = tuple(GroupMoments(n_obs=len(part), means=part.mean(axis=0),
                                     covariance=np.cov(part, rowvar=False, bias=True))
                        for part in parts)
        fitted = fit_ml_groups(solution.grouped, moments, solution.theta, max_iterations=50)
        return fitted.theta, fitted.converged

    return refit


def _least_squares_replicates(solution: GroupedSolution, raw: np.ndarray, codes: np.ndarray,
                              estimator: str) -> Refit:
    """:func:`_ml_replicates` by a least-squares ``estimator``, each group's weights
    recomputed from its resampled rows."""
    labels = solution.grouped.labels

    def refit(rows: np.ndarray) -> tuple[np.ndarray, bool]:
        sample, sample_codes = raw[rows], codes[rows]
        parts = tuple(sample[sample_codes == label] for label in labels)
        if min(len(part) for part in parts) <= sample.shape[1]:
            return solution.theta, False  # too few rows for the group's weights
        fitted = fit_least_squares_groups(solution.grouped, parts, estimator, solution.theta,
                                          max_iterations=50)
        return fitted.theta, fitted.converged

    return refit


def _fiml_replicates(solution: GroupedSolution, raw: np.ndarray, codes: np.ndarray
                     ) -> Refit:
    """:func:`_ml_replicates` for incomplete answers (NaN in ``raw``), by FIML: each group's
    answer patterns are found once, and a resample only reweights their rows."""
    members = [np.flatnonzero(codes == label) for label in solution.grouped.labels]
    resamplers = [PatternResampler.from_items(raw[rows]) for rows in members]

    def refit(rows: np.ndarray) -> tuple[np.ndarray, bool]:
        drawn = np.bincount(rows, minlength=len(raw)).astype(float)
        return refit_fiml_groups(solution, tuple(
            resampler.resample(drawn[inside])
            for resampler, inside in zip(resamplers, members, strict=True)))

    return refit


def _bootstrapped_rows(spec: ModelSpec, *, first: bool) -> np.ndarray:
    """The free parameters of one group's table (and its defined ones, in the first)."""
    table = spec.table
    free = (table["free"] > 0) & table["op"].isin(["=~", "~", "~~", "~1"])
    return (free | ((table["op"] == ":=") & first)).to_numpy()


def _view_values(grouped: GroupedSpec, group: int, theta: np.ndarray) -> np.ndarray:
    """Group ``group``'s (0-based) table values (rows,) at the global ``theta`` (Q,); the
    first group's table carries the ``:=`` rows, computed over every group's labels."""
    view = grouped.views[group]
    values = row_values(view.spec, theta[view.global_index])
    defined = view.spec.table["op"].to_numpy() == ":="
    if group == 0 and defined.any():
        values = values.copy()
        values[defined] = stacked_definition_values(grouped.spec, theta)
    return values


def group_data(data: PreparedData, labels: tuple[str, ...]) -> tuple[PreparedData, ...]:
    """Each group's rows as data of their own (its moments, and with missing answers its
    answer patterns and EM moments), in ``labels`` order, checked for estimation. Sampling
    weights are rescaled to sum to N over all groups (lavaan's normalization ``"total"``),
    so each group's weights sum to its size n_g."""
    groups = data.groups.to_numpy()
    weights = (None if data.weights is None
               else total_unit_weights(data.weights, groups, labels))
    parts = []
    for g, label in enumerate(labels):
        inside = groups == label
        frame = data.frame[inside].reset_index(drop=True)
        part = PreparedData(frame=frame, source=data.source, n_total=len(frame),
                            missing_per_item=frame.isna().sum(),
                            rows=None if data.rows is None else data.rows[inside],
                            fiml=data.fiml, weights=None if weights is None else weights[g],
                            weights_column=data.weights_column, weights_rescaled=True)
        _check_group_rows(data, label, part)
        parts.append(part)
    return tuple(parts)


def _check_group_rows(data: PreparedData, label: str, part: PreparedData) -> None:
    """Enough rows, every item answered and not constant, and a covariance matrix (the EM
    one with missing answers) of full rank in the group."""
    where = f"{data.source}: group {label!r} of column {data.groups.name}"
    names = np.array(data.frame.columns)
    rows, p = part.frame.to_numpy(), len(names)
    if len(rows) <= p:
        kind = "rows" if data.has_missing else "complete rows"
        raise DataError(f"{where} has only {len(rows)} {kind}; a multi-group model "
                        f"needs more rows than observed variables ({p}) in every group")
    weighed = None if part.weights is None else int((part.weights > 0).sum())
    if weighed is not None and weighed <= p:
        raise DataError(f"{where} has only {weighed} rows with a positive weight (column "
                        f"{data.weights_column}); a multi-group model needs more than the "
                        f"observed variables ({p}) in every group")
    unanswered = names[np.isnan(rows).all(axis=0)]
    if len(unanswered):
        raise DataError(f"{where}: nobody in that group answered {', '.join(unanswered)}; "
                        "drop the item or merge groups")
    constant = names[np.nanmax(rows, axis=0) == np.nanmin(rows, axis=0)]
    if len(constant):
        raise DataError(f"{where}: every answer to {', '.join(constant)} is the same; the "
                        "item carries no information in that group")
    sd = np.sqrt(np.diag(part.covariance))
    values, vectors = np.linalg.eigh(part.covariance / np.outer(sd, sd))
    if values[0] < 1e-10:
        involved = names[np.abs(vectors[:, 0]) > 0.2]
        raise DataError(f"{where}: the answers to {', '.join(involved)} are linearly "
                        "dependent in that group (their covariance matrix is singular); "
                        "drop one of the items or merge groups")


def _check_group_options(options: FitOptions) -> None:
    if options.estimator not in ("ml", "mlr", *WLS_ESTIMATORS, *ROBUST_LEAST_SQUARES):
        raise AcsiSemError(f"multi-group models are fitted by ML or MLR (with FIML for "
                           f"missing answers), GLS, ULS, DWLS, WLS, ULSM, ULSMV or WLSM or, "
                           f"with ordered items, WLSMV; estimator {options.estimator!r} is "
                           f"not available with groups yet")


def _result(spec: ModelSpec, solution: GroupedSolution, groups: tuple[PreparedData, ...],
            data: PreparedData, model_file: ModelFile | None, options: FitOptions,
            robust: RobustML | None, sandwich: SandwichTest | None = None) -> FitResult:
    labels = solution.grouped.labels
    parts = [solution.group_solution(g) for g in range(len(labels))]
    tables, warnings = [], _convergence_warnings(solution)
    for g, (part, group) in enumerate(zip(parts, groups, strict=True)):
        table = parameter_table(part, group.means, group.n_obs)
        tables.append(table.assign(group=labels[g]))
        warnings += [f"{text} (group {labels[g]})"
                     for text in improper_solution_warnings(table, part.ram, part.theta)]
    parameters = pd.concat(tables, ignore_index=True)
    if (spec.table["op"] == ":=").any():
        definitions = stacked_definition_rows(solution.grouped.spec, solution.theta,
                                              solution.vcov, parameters)
        parameters = pd.concat([parameters, definitions.assign(group="")], ignore_index=True)
    parameters.insert(3, "group", parameters.pop("group"))
    names = tuple(spec.observed)
    covariates = _covariate_positions(spec)
    # With missing answers the groups' sample moments are their EM estimates (lavaan's h1).
    fit_groups = [MomentFit(sample_cov=m.covariance, implied_cov=p.ram.implied_covariance(
        p.theta), n_obs=group_size(m), npar=0, n_moments=len(names) * (len(names) + 3) // 2,
        meanstructure=True, sample_means=m.means, implied_means=p.ram.implied_mean(p.theta),
        covariates=covariates) for m, p in zip(groups, parts, strict=True)]
    free_names = parameter_names(solution.grouped)
    estimator = base_estimator(options.estimator)
    least_squares = estimator in WLS_ESTIMATORS
    if least_squares:
        indices = grouped_least_squares_indices(solution, _items(groups), estimator)
        # lavaan's sample covariance of these estimators has divisor N_g - 1.
        fit_groups = [replace(f, sample_cov=f.sample_cov * f.n_obs / (f.n_obs - 1))
                      for f in fit_groups]
    else:
        indices = _fit_indices(solution, fit_groups, groups, robust)
    if sandwich is not None:
        indices = pd.concat([indices, robust_test_indices(
            indices, sandwich, least_squares_groups(solution.grouped, _items(groups),
                                                    estimator),
            _items(groups), options.estimator,
            observed_predictors(solution.grouped.views[0].spec))])
    notes = (*data.notes, _groups_note(solution, groups),
             *((ULS_NOTE,) if options.estimator == "uls" else ()),
             *(_weighted_note(solution, groups) if data.weights is not None else ()))
    return FitResult(
        spec=solution.grouped.spec,
        model_name=model_file.name if model_file is not None else "model",
        title=model_file.title if model_file is not None else "user model",
        estimator="MLR" if robust is not None else options.estimator.upper(),
        data_source=data.source, n_obs=data.n_obs,
        n_total=data.n_total, parameters=parameters,
        fit_indices=indices,
        r2=_by_group(labels, [r_squared(p.ram, p.theta) for p in parts]),
        effects=pd.concat([effects_table(p.spec, p.ram, p.theta, p.vcov).assign(group=label)
                           for p, label in zip(parts, labels, strict=True)],
                          ignore_index=True),
        converged=solution.converged, warnings=tuple(warnings),
        notes=notes,
        implied_cov=_by_group(labels, [as_frame(f.implied_cov, names) for f in fit_groups]),
        sample_cov=_by_group(labels, [as_frame(f.sample_cov, names) for f in fit_groups]),
        vcov=None if solution.vcov is None else pd.DataFrame(solution.vcov, index=free_names,
                                                             columns=free_names),
        groups={"column": str(data.groups.name), "labels": list(labels),
                "n_obs": {label: m.n_obs for label, m in zip(labels, groups, strict=True)},
                "equal": list(solution.grouped.equal),
                "labelled": list(solution.grouped.labelled)},
        constraints=solution_constraints(solution.grouped.spec, solution.constraints),
        score_test=None if least_squares else _score_test(solution, groups),
        missing=data.missing_report() if data.has_missing else None,
        sampling_weights=data.weights_report(),
    )


def _weighted_note(solution: GroupedSolution, groups: tuple[PreparedData, ...]
                   ) -> tuple[str]:
    sizes = ", ".join(f"{label} {group_size(g):.6g}" for label, g
                      in zip(solution.grouped.labels, groups, strict=True))
    return (WEIGHTED_GROUPS_NOTE.format(sizes=sizes),)


def _covariate_positions(spec: ModelSpec) -> tuple[int, ...]:
    """Positions of the fixed.x covariates among the observed variables (every group's)."""
    return tuple(spec.observed.index(name) for name in spec.exogenous_covariates)


def _fit_indices(solution: GroupedSolution, fit_groups: list[MomentFit],
                 groups: tuple[PreparedData, ...], robust: RobustML | None) -> pd.Series:
    """lavaan's fit measures of a multi-group fit: from the groups' moments, or under FIML
    from the log-likelihoods summed over groups (saturated by EM, the baseline each item on
    its own answers in each group)."""
    npar = solution.grouped.n_free - solution.equality_rank
    items = tuple(group.frame.to_numpy() for group in groups)
    missing = any(group.has_missing for group in groups)
    if missing:
        # lavaan's fixed.x: every log-likelihood is conditional on the covariates (whose
        # answers are complete), their own left out of the model's, h1's and the baseline's.
        conditional = sum(f.covariate_loglik for f in fit_groups)
        covariates = list(fit_groups[0].covariates)
        indices = grouped_fiml_fit_indices(
            fit_groups, npar,
            -solution.discrepancy * sum(g.n_obs for g in groups) - conditional,
            sum(group.unrestricted_loglik for group in groups) - conditional,
            sum(independence_loglik(np.delete(group.frame.to_numpy(), covariates, axis=1),
                                    group.weights)
                for group in groups))
    else:
        indices = grouped_fit_indices(fit_groups, npar)
    if robust is not None:
        indices = pd.concat([indices, robust_indices(
            indices, robust.scaling_factor(indices["df"]),
            baseline_scaling(robust, items, indices["baseline_df"], missing=missing,
                             covariates=fit_groups[0].covariates,
                             weights=_unit_weights(groups),
                             moments=group_moments(groups)),
            groups=len(groups))])
    if missing:
        indices = _with_fiml_corrected(indices, solution, groups, robust=robust is not None)
    return indices


def _with_fiml_corrected(indices: pd.Series, solution: GroupedSolution,
                         groups: tuple[PreparedData, ...], *, robust: bool) -> pd.Series:
    """``indices`` with lavaan's robust CFI, TLI and RMSEA under FIML (ML and MLR), from
    the FIML-corrected statistics over the groups (each at its EM moments)."""
    covariates = _covariate_positions(solution.grouped.spec)
    saturated = [SaturatedGroup.at_em(group.missing_patterns, group.frame.to_numpy(),
                                      group.means, group.covariance, covariates)
                 for group in groups]
    n_free = len(solution.theta)
    models = [ModelMoments.of_ram(ram, solution.theta[view.global_index], view.global_index,
                                  n_free)
              for view, ram in zip(solution.grouped.views, solution.rams, strict=True)]
    basis = None if solution.constraints is None else solution.constraints.basis
    corrected = fiml_corrected_test(saturated, models, indices["df"], indices["baseline_df"],
                                    robust=robust, basis=basis)
    return with_corrected_robust_indices(indices, corrected, groups=len(groups))


def _score_test(solution: GroupedSolution, groups: tuple[PreparedData, ...]
                ) -> ScoreTest | None:
    """lavaan's lavTestScore() of the equalities across groups (``group_equal``, shared
    labels) and ``==`` rows, of complete data or by FIML; ``None`` without any or with an
    inequality."""
    moments = group_moments(groups)
    grouped = solution.grouped
    released, pairs = with_group_labels_released(grouped)
    constraints = grouped.spec.constraints
    if any(not c.is_equality for c in constraints) or not (pairs or constraints):
        return None
    theta = released_theta(grouped.spec, released.spec, solution.theta)
    rams = tuple(build_ram(view.spec, means=True) for view in released.views)
    if any(group.has_missing for group in groups):
        blocks = [Block(view.spec, ram, theta[view.global_index], view.global_index,
                        group.missing_patterns, label)
                  for view, ram, group, label in zip(released.views, rams, groups,
                                                     released.labels, strict=True)]
        return patterns_score_test(released.spec, pairs, blocks, len(theta), released.labels)
    discrepancy = grouped_discrepancy(released, rams, moments, theta)
    return released_score_test(released.spec, pairs, theta, discrepancy,
                               sum(m.n_obs for m in moments), released.labels)


def _convergence_warnings(solution: GroupedSolution) -> list[str]:
    warnings = []
    if not solution.converged:
        warnings += ["the estimator did not converge: the estimates are not a maximum of the "
                     "likelihood and must not be reported", *solution.messages]
    if solution.vcov is None:
        warnings.append(singular_information_warning(
            solution.grouped.spec, solution.information,
            names=parameter_names(solution.grouped)))
    return warnings


def _by_group(labels: tuple[str, ...], parts: list) -> pd.Series | pd.DataFrame:
    """Stack per-group Series or frames under a first index level ``group``."""
    return pd.concat(dict(zip(labels, parts, strict=True)), names=["group", None])


def _groups_note(solution: GroupedSolution, groups: tuple[PreparedData, ...]) -> str:
    sizes = ", ".join(f"{label} {g.n_obs}" for label, g
                      in zip(solution.grouped.labels, groups, strict=True))
    equal = ", ".join(solution.grouped.equal) or "nothing (configural)"
    labelled = solution.grouped.labelled
    shared = (f"; labelled parameters ({', '.join(labelled)}) are equal in every group, as "
              "in lavaan" if labelled else "")
    return (f"multi-group model: {len(groups)} groups ({sizes}); held equal across groups: "
            f"{equal}{shared}")
