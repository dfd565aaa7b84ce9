"""WLSMV with groups: ordered items in several groups, thresholds held equal as asked."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import special

from acsi_sem.errors import AcsiSemError
from acsi_sem.estimators.checks import check_no_composites
from acsi_sem.estimators.common import apply_bootstrap
from acsi_sem.estimators.options import FitOptions
from acsi_sem.estimators.ordinal_bootstrap import bootstrap_wlsmv_groups
from acsi_sem.model.modelfile import ModelFile
from acsi_sem.model.ram import as_frame, build_ram
from acsi_sem.model.spec import ModelSpec
from acsi_sem.numerics.cbsem import CbsemSolution, fill_fixed_x
from acsi_sem.numerics.polychoric import OrdinalStatistics, lower_triangle
from acsi_sem.numerics.wlsmv import ordinal_model
from acsi_sem.numerics.wlsmv_groups import (
    GroupedDwls,
    OrdinalGroup,
    baseline_groups,
    completed_table,
    fit_dwls_groups,
    ordinal_groups,
    stacked_test,
)
from acsi_sem.results import FitResult
from acsi_sem.statistics.diagnostics import improper_solution_warnings
from acsi_sem.statistics.effects import effects_table
from acsi_sem.statistics.estimates import parameter_table, r_squared
from acsi_sem.statistics.fit_indices import OrdinalTest, ordinal_fit_indices
from acsi_sem.statistics.identification import check_identification
from acsi_sem.survey.prepare import PreparedData

# The group_equal classes WLSMV with groups holds equal (lavaan's names). Intercepts of
# ordered items are fixed at 0 in every group, so "intercepts" only frees latent means.
ORDINAL_EQUALITY_CLASSES = ("thresholds", "loadings", "intercepts")


def fit_wlsmv_groups(spec: ModelSpec, data: PreparedData, model_file: ModelFile | None,
                     options: FitOptions) -> FitResult:
    """Estimate ``spec`` on ordered answers in every group of ``data.groups`` by WLSMV
    (lavaan's ``sem(..., group =, ordered =, estimator = "WLSMV")``, delta
    parameterization), holding ``options.group_equal`` equal across groups."""
    from acsi_sem.estimators.multigroup import group_data
    from acsi_sem.estimators.ordinal import (
        check_ordinal_model,
        continuous_items,
        sample_statistics,
    )

    _check_group_request(spec, options)
    continuous = continuous_items(spec, options.ordered)
    check_ordinal_model(spec, data, options, continuous)
    check_no_composites(spec)
    check_identification(spec)
    labels = data.group_labels
    parts = group_data(data, labels)
    statistics = [sample_statistics(spec, part, continuous) for part in parts]
    _check_same_categories(statistics, labels)
    _check_binary_thresholds(statistics[0], options.group_equal)
    # Each group's covariates are fixed at its own moments (fixed.x).
    models = [ordinal_model(fill_fixed_x(spec, stats.marginal_covariance(spec.observed))
                            if stats.covariates else spec, stats) for stats in statistics]
    groups = ordinal_groups(models, statistics, spec, options.group_equal)
    solution = fit_dwls_groups(groups)
    return _result(spec, solution, labels, data, model_file, options)


def _check_group_request(spec: ModelSpec, options: FitOptions) -> None:
    unsupported = [name for name in options.group_equal if name not in ORDINAL_EQUALITY_CLASSES]
    if unsupported:
        raise AcsiSemError(f"with ordered items (WLSMV) and groups, group_equal takes "
                           f"{', '.join(ORDINAL_EQUALITY_CLASSES)}; "
                           f"{', '.join(map(repr, unsupported))} is not available yet: hold "
                           "such parameters equal with estimator 'ml' or 'mlr' (items "
                           "treated as continuous)")
    if "intercepts" in options.group_equal and "thresholds" not in options.group_equal:
        raise AcsiSemError("group_equal 'intercepts' without 'thresholds' leaves the latent "
                           "means of groups 2.. unidentified with ordered items (their "
                           "intercepts are fixed at 0); add 'thresholds', as lavaan's "
                           "group.equal = c('thresholds', 'loadings', 'intercepts')")
    labelled = (spec.table["label"] != "").any() or spec.group_values or spec.constraints
    if labelled or (spec.table["op"] == ":=").any():
        raise AcsiSemError("labels, c(...) modifiers, constraints and defined parameters are "
                           "not available with ordered items across groups yet; fit each "
                           "group on its own (estimator 'wlsmv') or use estimator 'ml'")


def _check_same_categories(statistics: list[OrdinalStatistics],
                           labels: tuple[str, ...]) -> None:
    """Every group must use the same answer categories of each item, as lavaan requires
    ("some categories ... are empty in group 2"): a threshold is named by its place, so a
    category missing in one group would make that group's t1 another cut than the others'."""
    first = statistics[0]
    for label, stats in zip(labels[1:], statistics[1:], strict=True):
        for item, mine, theirs in zip(first.items, first.levels, stats.levels, strict=True):
            if list(mine) != list(theirs):
                raise AcsiSemError(
                    f"item {item} has answers {_plain(theirs)} in group {label} but "
                    f"{_plain(mine)} in group {labels[0]}; every group needs the same "
                    "categories (merge the rare ones, as lavaan also refuses empty "
                    "categories in a group)")


def _check_binary_thresholds(statistics: OrdinalStatistics, equal: tuple[str, ...]) -> None:
    """With one threshold an item's equal threshold, free scale factor and the free latent
    mean cannot all be told apart (Wu & Estabrook 2016); lavaan fits and warns of a
    singular information matrix, acsi-sem says so before fitting."""
    binary = [item for item, levels in zip(statistics.items, statistics.levels, strict=True)
              if len(levels) == 2]
    if "thresholds" in equal and binary:
        raise AcsiSemError(f"{', '.join(binary)} {'has' if len(binary) == 1 else 'have'} two "
                           "answer categories: with equal thresholds its scale factor and the "
                           "latent means are not identified across groups (Wu & Estabrook "
                           "2016); fit the configural model or hold the loadings equal "
                           "without 'thresholds'")


def _plain(levels) -> list:
    """Answer categories as plain numbers (whole ones without a decimal point)."""
    return [int(v) if float(v).is_integer() else float(v) for v in levels]


def _result(spec: ModelSpec, solution: GroupedDwls, labels: tuple[str, ...],
            data: PreparedData, model_file: ModelFile | None,
            options: FitOptions) -> FitResult:
    names = tuple(spec.observed)
    tables, parts, warnings = [], [], []
    # A minimum with a negative derived residual variance is an improper solution, reported
    # as converged with its Heywood warnings (as lavaan and the ML path report it).
    converged = solution.converged or solution.improper
    if not converged:
        warnings.append("the estimator did not converge: the estimates are not a minimum of "
                        "the DWLS discrepancy and must not be reported")
    if solution.vcov is None:
        warnings.append("the information matrix is singular: the model is not identified "
                        "with these equality constraints, so there are no standard errors")
    stacked = []
    for number, (group, label) in enumerate(zip(solution.groups, labels, strict=True), 1):
        part, table, joint = _group_solution(group, solution, number)
        stacked.append(table.assign(free=[int(joint[f - 1]) + 1 if f else 0
                                          for f in table["free"]]))
        frame = parameter_table(part, np.zeros(len(names)), group.statistics.n_obs)
        frame = pd.concat([frame, _scale_rows(group, solution)], ignore_index=True)
        tables.append(frame.assign(group=label))
        parts.append(part)
        warnings += [f"{text} (group {label})" for text
                     in improper_solution_warnings(frame, part.ram, part.theta)]
    parameters = pd.concat(tables, ignore_index=True)
    parameters.insert(3, "group", parameters.pop("group"))
    effects = pd.concat([effects_table(p.spec, p.ram, p.theta, p.vcov).assign(group=label)
                         for p, label in zip(parts, labels, strict=True)], ignore_index=True)
    boot = None
    if options.bootstrap:
        boot = bootstrap_wlsmv_groups(solution, data, parameters, effects, parts, options)
        parameters, effects = apply_bootstrap(parameters, effects, boot)
    table = pd.concat(stacked, ignore_index=True)
    table["id"] = np.arange(1, len(table) + 1)
    implied = [_implied_correlation(g, solution.theta) for g in solution.groups]
    implied_cov = [_implied_moments(p, g) for p, g in zip(parts, solution.groups, strict=True)]
    return FitResult(
        spec=spec.with_table(table),
        model_name=model_file.name if model_file is not None else "model",
        title=model_file.title if model_file is not None else "user model",
        estimator="WLSMV", data_source=data.source, n_obs=data.n_obs, n_total=data.n_total,
        parameters=parameters, fit_indices=_fit_indices(solution, implied),
        r2=_by_group(labels, [r_squared(p.ram, p.theta) for p in parts]),
        effects=effects, converged=converged,
        warnings=(*[w for g in solution.groups for w in g.statistics.problems()], *warnings),
        notes=(*data.notes, _note(solution, labels, options.group_equal),
               *(() if boot is None else (boot.summary_line(),))),
        implied_cov=_by_group(labels, [as_frame(s, names) for s in implied_cov]),
        sample_cov=_by_group(labels, [as_frame(_sample_moments(g.statistics, names), names)
                                      for g in solution.groups]),
        groups={"column": str(data.groups.name), "labels": list(labels),
                "n_obs": {label: g.statistics.n_obs for label, g
                          in zip(labels, solution.groups, strict=True)},
                "equal": list(options.group_equal), "labelled": []},
        bootstrap=boot,
    )


def _group_solution(group: OrdinalGroup, solution: GroupedDwls, number: int
                    ) -> tuple[CbsemSolution, pd.DataFrame, np.ndarray]:
    """One group's completed model as a single-group solution (local parameters), its
    table (local free indices, ``group`` column) and the joint index of each local one."""
    table, joint = completed_table(group, solution.theta, number)
    local_spec = group.model.spec.with_table(table.drop(columns=["group"]))
    vcov = None if solution.vcov is None else solution.vcov[np.ix_(joint, joint)]
    part = CbsemSolution(spec=local_spec, ram=build_ram(local_spec, means=True),
                         theta=solution.theta[joint], discrepancy=solution.value, vcov=vcov,
                         converged=solution.converged or solution.improper, messages=(),
                         information=solution.information[np.ix_(joint, joint)])
    return part, table, joint


def _implied_correlation(group: OrdinalGroup, theta: np.ndarray) -> np.ndarray:
    """(p, p) the latent responses' implied correlations, Delta Sigma* Delta, given the
    covariates where there are any (and the continuous items' implied correlations: their
    variances are fitted exactly, so SRMR's residuals equal lavaan's, which scale by the
    sample's standard deviations)."""
    values = group.local(theta)
    n_cov = group.model.n_covariance
    _, s_matrix, b_matrix = group.model.closed_matrices(values[:n_cov],
                                                        group.scale_factors(values))
    items = group.model.item_indices
    sigma = b_matrix[items] @ s_matrix @ b_matrix[items].T
    scale = 1.0 / np.sqrt(np.diag(sigma))
    return sigma * np.outer(scale, scale)


def _implied_moments(part: CbsemSolution, group: OrdinalGroup) -> np.ndarray:
    """(v, v) as the sample's: the latent responses' correlations for ordered items, the
    covariances of continuous items; with covariates the marginal moments (the latent
    responses' unit variances are then conditional ones, as in the single-group fit)."""
    p = part.ram.n_observed
    sigma = part.ram.full_covariance(part.theta)[:p, :p]
    if group.statistics.covariates:
        return sigma
    scale = np.where(group.statistics.is_continuous, 1.0, 1.0 / np.sqrt(np.diag(sigma)))
    return sigma * np.outer(scale, scale)


def _sample_moments(statistics: OrdinalStatistics, names: tuple[str, ...]) -> np.ndarray:
    """(v, v) the group's sample moments in ``names`` order: the correlations (covariances
    of continuous items), marginal ones with covariates."""
    if statistics.covariates:
        return statistics.marginal_covariance(names)
    return statistics.covariance


def _scale_rows(group: OrdinalGroup, solution: GroupedDwls) -> pd.DataFrame:
    """lavaan's ``item ~*~ item`` rows: the scale factors (1 / SD of the latent response);
    their std.all is 1."""
    n_cov, n_first, n_scale = group.sizes
    position = slice(n_cov + n_first, n_cov + n_first + n_scale)
    values = group.local(solution.theta)[position]
    index = group.index[position]
    if solution.vcov is None:
        errors = np.where(index >= 0, np.nan, 0.0)
    else:
        errors = np.where(index >= 0, np.sqrt(np.diag(solution.vcov))[np.maximum(index, 0)],
                          0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(errors > 0, values / errors, np.nan)
    return pd.DataFrame({
        "lhs": group.ordered_items, "op": "~*~", "rhs": group.ordered_items,
        "label": "", "est": values, "se": errors, "z": z,
        "pvalue": 2 * special.ndtr(-np.abs(z)), "ci_lower": values - 1.959963984540054 * errors,
        "ci_upper": values + 1.959963984540054 * errors, "std_lv": values, "std_all": 1.0})


def _fit_indices(solution: GroupedDwls, implied: list[np.ndarray]) -> pd.Series:
    """lavaan's fit measures of a multi-group WLSMV fit; the catML-based ``*_robust``
    ones are undefined with groups, as in lavaan 0.6.14."""
    groups = solution.groups
    m = sum(len(g.statistics.vector) for g in groups)
    npar = len(solution.theta)
    df = m - npar
    a, b = stacked_test(list(solution.jacobians), groups).scale_and_shift(df)
    base, base_test = baseline_groups(groups)
    p = len(groups[0].statistics.items)
    base_df = len(groups) * p * (p - 1) / 2
    base_a, base_b = base_test.scale_and_shift(base_df)
    fractions = solution.fractions
    # lavaan counts the covariates among SRMR's moments (see the single-group fit).
    moments = p * (p + 1) / 2 + len(groups[0].statistics.covariates)
    srmr = sum(f * np.sqrt(np.sum(lower_triangle(g.statistics.polychoric - s) ** 2) / moments)
               for f, g, s in zip(fractions, groups, implied, strict=True))
    gfi = sum(f * _group_gfi(g, solution.theta) for f, g in zip(fractions, groups,
                                                                  strict=True))
    test = OrdinalTest(
        chisq=solution.value, df=df, scale=a, shift=b, baseline_chisq=base,
        baseline_df=base_df, baseline_scale=base_a, baseline_shift=base_b,
        catml=(np.nan,) * 4, n_obs=sum(g.statistics.n_obs for g in groups), npar=npar,
        srmr=float(srmr), gfi=float(gfi), agfi=1 - m / df * (1 - gfi) if df > 0 else np.nan,
        groups=len(groups))
    return ordinal_fit_indices(test)


def _group_gfi(group: OrdinalGroup, theta: np.ndarray) -> float:
    """lavaan's GFI of one group with the DWLS weights, ``1 - sum w (s - sigma)^2 /
    sum w s^2`` over its statistics; lavaan averages the groups' values by their sizes."""
    statistics = group.statistics
    misfit = statistics.vector - group.implied(group.local(theta))
    return 1 - (np.sum(statistics.weights * misfit ** 2)
                / np.sum(statistics.weights * statistics.vector ** 2))


def _by_group(labels: tuple[str, ...], parts: list) -> pd.Series | pd.DataFrame:
    return pd.concat(dict(zip(labels, parts, strict=True)), names=["group", None])


def _note(solution: GroupedDwls, labels: tuple[str, ...], equal: tuple[str, ...]) -> str:
    sizes = ", ".join(f"{label} {g.statistics.n_obs}"
                      for label, g in zip(labels, solution.groups, strict=True))
    held = ", ".join(equal) or "nothing (configural)"
    freed = (" (scale factors and latent means free in groups 2..)" if "thresholds" in equal
             else "")
    covariates = solution.groups[0].statistics.covariates
    given = (f", given the covariates {', '.join(covariates)} (lavaan's conditional.x)"
             if covariates else "")
    return (f"multi-group WLSMV: {len(labels)} groups ({sizes}); held equal across groups: "
            f"{held}{freed}; thresholds and polychoric correlations per group{given}, delta "
            "parameterization")
