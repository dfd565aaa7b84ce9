"""PLS path modelling: estimates, 0-100 indices, measurement quality and bootstrap."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from acsi_sem.errors import AcsiSemError, ModelSyntaxError
from acsi_sem.estimators.common import (
    apply_bootstrap,
    effect_keys,
    htmt_keys,
    parameter_key,
    upper_triangle,
)
from acsi_sem.estimators.options import FitOptions
from acsi_sem.estimators.pls_higher_order import (
    HigherOrderModel,
    higher_order_constructs,
    higher_order_model,
)
from acsi_sem.estimators.pls_moderation import ModeratedModel, moderated_model
from acsi_sem.model.modelfile import ModelFile
from acsi_sem.model.ram import as_frame
from acsi_sem.model.spec import ModelSpec
from acsi_sem.numerics.batched import weighted_moments
from acsi_sem.numerics.pls import PlsLayout, PlsSolution, estimate_pls, pls_layout, total_effects
from acsi_sem.resample import (
    BootstrapResult,
    FailedReplicateError,
    Replicate,
    bootstrap,
    bootstrap_batched,
)
from acsi_sem.results import FitResult
from acsi_sem.statistics.defined import evaluate_definitions
from acsi_sem.statistics.diagnostics import standardized_beyond_one
from acsi_sem.statistics.estimates import PARAMETER_COLUMNS
from acsi_sem.statistics.index import (
    acsi_index,
    index_by_group,
    index_scores,
    negative_weight_warnings,
    unstandardized_weights,
)
from acsi_sem.statistics.quality import (
    QualityInput,
    heterotrait_monotrait,
    measurement_quality,
    r_squared_from,
)
from acsi_sem.survey.prepare import PreparedData

_ESTIMATED_OPS = ("=~", "<~", "~", ":=")
# A weighted item whose variance falls below this share of its unweighted one is constant.
_CONSTANT = 1e-12


@dataclass(frozen=True)
class PlsCore:
    """Everything estimated from one (re)sample of raw items (n, p).

    Attributes:
        solution: the PLS solution in the standardized metric.
        correlation: (p, p) item correlations.
        item_means: (p,) item means.
        item_sd: (p,) item standard deviations (divisor n - 1).
        item_weights: (p,) unstandardized weights summing to 1 per block.
        index: (L,) 0-100 indices, or None without an answer scale.
    """

    solution: PlsSolution
    correlation: np.ndarray
    item_means: np.ndarray
    item_sd: np.ndarray
    item_weights: np.ndarray
    index: np.ndarray | None


def pls_core(items: np.ndarray, layout: PlsLayout, options: FitOptions,
             row_weights: np.ndarray | None = None) -> PlsCore:
    """Run PLS (or PLSc) on raw items (n, p) in ``layout.indicators`` order, each row
    weighted by ``row_weights`` (n,) when given (weighted PLS: weighted standardization,
    and so weighted outer and inner regressions, and a weighted mean for the index)."""
    means, sd, correlation = item_moments(items, row_weights)
    solution = estimate_pls(correlation, layout, scheme=options.scheme,
                            consistent=options.estimator == "plsc",
                            tolerance=options.tolerance, max_iterations=options.max_iterations)
    weights = unstandardized_weights(solution.weights, sd, layout.blocks)
    index = (None if options.scale is None
             else acsi_index(means, weights, layout.blocks, options.scale))
    return PlsCore(solution, correlation, means, sd, weights, index)


def item_moments(items: np.ndarray, row_weights: np.ndarray | None = None
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Means (p,), standard deviations (p,) and correlations (p, p) of items (n, p).

    With row weights (n,), rescaled to sum to n (so multiplying every weight by a constant
    changes nothing), the variance is ``sum w (x - mean)^2 / (n - 1)``: the usual divisor
    when every weight is 1.

    Raises:
        FailedReplicateError: an item does not vary among the rows weighted above zero.
    """
    if row_weights is None:
        sd = items.std(axis=0, ddof=1)
        if np.any(sd == 0):
            raise FailedReplicateError
        return items.mean(axis=0), sd, np.atleast_2d(np.corrcoef(items, rowvar=False))
    n = len(items)
    means, covariances = weighted_moments(items, row_weights[None])
    variance = np.diag(covariances[0]) * n / (n - 1)
    if np.any(variance <= _CONSTANT * items.var(axis=0)):
        raise FailedReplicateError
    sd = np.sqrt(variance)
    correlation = covariances[0] * n / (n - 1) / np.outer(sd, sd)
    np.fill_diagonal(correlation, 1.0)
    return means[0], sd, correlation


def fit_pls(spec: ModelSpec, data: PreparedData, model_file: ModelFile | None,
            options: FitOptions) -> FitResult:
    """Estimate ``spec`` by PLS path modelling and collect every statistic into a result.
    A model with interaction terms gets a construct for each (see
    :mod:`acsi_sem.estimators.pls_moderation`); ``result.spec`` is then that model."""
    moderated = _moderated(spec, data, options)
    if moderated is not None:
        spec = moderated.spec
    layout = checked_layout(spec)
    raw = data.frame[list(moderated.raw_indicators if moderated else layout.indicators)]
    raw = raw.to_numpy()
    items = moderated.items(raw, options) if moderated else raw
    core = pls_core(items, layout, options, data.weights)
    measured = _measured(layout, moderated)
    interactions = isinstance(moderated, ModeratedModel)
    parameters = pls_parameters(spec, layout, core, measured if interactions else None)
    if isinstance(moderated, HigherOrderModel) and moderated.method == "two_stage":
        parameters = _with_first_stage(parameters, moderated.first_stage_loadings(raw,
                                                                                  options))
    effects = pls_effects(layout, core.solution)
    warnings = _warnings(layout, core, parameters, options, measured)
    notes = list(data.notes) + _notes(spec, core, options, moderated)
    boot = None
    if options.bootstrap:
        boot = bootstrap_pls(spec, layout, raw, core, parameters, effects, options,
                             data.weights, moderated)
        parameters, effects = apply_bootstrap(parameters, effects, boot)
        notes.append(boot.summary_line())
    solution = core.solution
    correlation = as_frame(core.correlation, layout.indicators)
    index = None if core.index is None else pd.Series(
        core.index[measured], index=[layout.latent[j] for j in measured], name="index")
    return FitResult(
        spec=spec, model_name=model_file.name if model_file is not None else "model",
        title=model_file.title if model_file is not None else "user model",
        estimator=options.estimator.upper(), data_source=data.source, n_obs=data.n_obs,
        n_total=data.n_total, parameters=parameters, fit_indices=pd.Series(dtype=float),
        r2=pd.Series(solution.r2, index=list(layout.latent), name="r2").dropna(),
        effects=effects, converged=solution.converged, warnings=tuple(warnings),
        notes=tuple(notes), implied_cov=as_frame(solution.construct_cor, layout.latent),
        sample_cov=correlation,
        outer_weights=_outer_weights(layout, core),
        scores=_scores(items, core, layout), index=index,
        index_by_group=_group_indices(items, data, layout, core, options, measured),
        quality=pls_quality(layout, core, options), bootstrap=boot,
        sampling_weights=data.weights_report(),
        model_fit=None if moderated else pls_model_fit(layout, core, options),
    )


def _with_first_stage(parameters: pd.DataFrame, first_stage: pd.DataFrame) -> pd.DataFrame:
    """The parameter table with stage 1's lower-order loadings before the stage-2 rows."""
    rows = first_stage.reindex(columns=parameters.columns)
    rows["std_lv"] = rows["std_all"] = rows["est"]
    rows["label"] = ""
    return pd.concat([rows, parameters], ignore_index=True)


def pls_model_fit(layout: PlsLayout, core: PlsCore, options: FitOptions) -> pd.DataFrame:
    """SRMR, d_ULS and d_G (rows) of the saturated and the estimated model (columns)."""
    from acsi_sem.statistics.pls_fit import DISTANCES, MODELS, composite_blocks, model_distances

    solution = core.solution
    distances = model_distances(core.correlation[None], solution.loadings[None],
                                solution.construct_cor[None], solution.paths[None], layout,
                                composite_blocks(layout, options.estimator))[0]
    return pd.DataFrame(distances.T, index=pd.Index(DISTANCES, name="distance"),
                        columns=list(MODELS))


def _moderated(spec: ModelSpec, data: PreparedData, options: FitOptions
               ) -> ModeratedModel | HigherOrderModel | None:
    """The model's PLS form with built items: a construct for each interaction term, or the
    higher-order constructs' stage-2 or repeated-indicator form; None for a plain model."""
    higher = higher_order_constructs(spec)
    if not spec.interactions and not higher:
        return None
    if spec.interactions and higher:
        raise AcsiSemError("a model with both interaction terms and higher-order constructs "
                           "is not available yet")
    if data.weights is not None:
        raise AcsiSemError("sampling weights with interaction terms or higher-order "
                           "constructs are not available yet; fit without weights=")
    if higher:
        return higher_order_model(spec, options)
    return moderated_model(spec, options)


def _measured(layout: PlsLayout, moderated: ModeratedModel | HigherOrderModel | None
              ) -> list[int]:
    """Positions of the constructs measured by survey items (all but interaction terms):
    the ones with a 0-100 index."""
    terms = set(moderated.terms) if moderated else set()
    return [j for j, name in enumerate(layout.latent) if name not in terms]


def checked_layout(spec: ModelSpec) -> PlsLayout:
    """The PLS layout of ``spec``.

    Raises:
        ModelSyntaxError: no construct, an indicator in two blocks, or a regression on an
            observed variable.
    """
    if not spec.latent:
        raise ModelSyntaxError("PLS estimates constructs and the model has none; give the "
                               "items blocks (X =~ x1 + x2, or X <~ x1 + x2 for a composite)",
                               source=spec.source)
    seen: dict[str, str] = {}
    for latent, names in spec.indicators.items():
        for name in names:
            if name in seen:
                raise ModelSyntaxError(f"indicator {name} belongs to both {seen[name]} and "
                                       f"{latent}; in PLS every indicator has one block",
                                       source=spec.source)
            seen[name] = latent
    regressed = set(spec.table.loc[spec.table["op"] == "~", "lhs"]) | set(
        spec.table.loc[spec.table["op"] == "~", "rhs"])
    observed = sorted(regressed - set(spec.latent))
    if observed:
        raise ModelSyntaxError(f"PLS regressions connect constructs only; {', '.join(observed)} "
                               "is an observed variable: give it a block (X =~ x)",
                               source=spec.source)
    return pls_layout(spec)


def pls_parameters(spec: ModelSpec, layout: PlsLayout, core: PlsCore,
                   measured: list[int] | None = None) -> pd.DataFrame:
    """The parameter table with lavaan's columns: loadings (``=~``), formative weights
    (``<~``), paths (``~``) and defined parameters (``:=``), all standardized (``std_all``)
    and so in ``est`` but for the paths of interaction terms (see :func:`term_scale`)."""
    table = spec.table[spec.table["op"].isin(_ESTIMATED_OPS)].reset_index(drop=True)
    standardized = pls_row_values(spec, layout, core.solution, table)
    frame = table[["lhs", "op", "rhs", "label"]].copy()
    frame["est"] = pls_row_values(spec, layout, core.solution, table,
                                  term_scale(layout, core, measured))
    for column in ("se", "z", "pvalue", "ci_lower", "ci_upper"):
        frame[column] = np.nan
    frame["std_lv"] = frame["std_all"] = standardized
    return frame[PARAMETER_COLUMNS]


def term_scale(layout: PlsLayout, core: PlsCore, measured: list[int] | None) -> np.ndarray:
    """(L,) the standard deviation each construct's scores are given before the paths are
    estimated: 1, but for an interaction term the loading-weighted mean SD of its built
    items (Henseler & Chin's 2010 variance adjustment, as seminr). Its path is then the
    effect of the product of the standardized constructs, so that A's simple slope at a
    moderator value of m SD is b_A + b_AB m."""
    scale = np.ones(len(layout.latent))
    if measured is None:
        return scale
    for j in sorted(set(range(len(layout.latent))) - set(measured)):
        block = layout.blocks[j]
        loadings = np.abs(core.solution.loadings[block])
        scale[j] = (core.item_sd[block] * loadings).sum() / loadings.sum()
    return scale


def pls_row_values(spec: ModelSpec, layout: PlsLayout, solution: PlsSolution,
                   table: pd.DataFrame, path_scale: np.ndarray | None = None) -> np.ndarray:
    """Estimate of each row of ``table`` (ops ``=~ <~ ~ :=``) from a PLS solution; a path
    from construct k is divided by ``path_scale[k]`` (L,) when given."""
    latent = {name: j for j, name in enumerate(layout.latent)}
    item = {name: i for i, name in enumerate(layout.indicators)}
    values = np.full(len(table), np.nan)
    labels: dict[str, float] = {}
    for row, (lhs, op, rhs, label) in enumerate(table[["lhs", "op", "rhs", "label"]]
                                                .itertuples(index=False)):
        if op == "=~":
            values[row] = solution.loadings[item[rhs]]
        elif op == "<~":
            values[row] = solution.weights[item[rhs], latent[lhs]]
        elif op == "~":
            values[row] = solution.paths[latent[lhs], latent[rhs]]
            if path_scale is not None:
                values[row] /= path_scale[latent[rhs]]
        if label and op != ":=":
            labels[label] = values[row]
    defined = table["op"].to_numpy() == ":="
    if defined.any():
        results = evaluate_definitions(spec, labels)
        values[defined] = [results[name] for name in table.loc[defined, "lhs"]]
    return values


def pls_effects(layout: PlsLayout, solution: PlsSolution) -> pd.DataFrame:
    """Direct, indirect and total effects between constructs (standardized)."""
    total = total_effects(solution.paths)
    pairs = np.argwhere(np.abs(total) > 1e-12)
    pairs = pairs[np.lexsort((pairs[:, 1], pairs[:, 0]))]
    direct = solution.paths[pairs[:, 0], pairs[:, 1]]
    total_values = total[pairs[:, 0], pairs[:, 1]]
    names = np.array(layout.latent)
    return pd.DataFrame({
        "lhs": names[pairs[:, 0]], "rhs": names[pairs[:, 1]], "direct": direct,
        "indirect": total_values - direct, "total": total_values,
        "se_direct": np.nan, "se_indirect": np.nan, "se_total": np.nan,
        "total_std_all": total_values})


def pls_quality(layout: PlsLayout, core: PlsCore, options: FitOptions):
    """Quality tables; f^2 re-estimates the model without each path, as seminr does."""
    solution = core.solution
    loadings = solution.loadings
    return measurement_quality(QualityInput(
        latent=layout.latent, indicators=layout.indicators, blocks=layout.blocks,
        reflective=~layout.mode_b, correlation=core.correlation, loadings=loadings,
        residuals=1 - loadings ** 2, construct_cor=solution.construct_cor,
        predecessors=layout.predecessors, cross_loadings=solution.cross_loadings,
        rho_a=solution.reliability, effect_sizes=_refit_f_squared(layout, core, options)))


def _refit_f_squared(layout: PlsLayout, core: PlsCore, options: FitOptions
                     ) -> list[tuple[int, int, float]]:
    out = []
    for j, k in zip(*np.nonzero(layout.predecessors), strict=True):
        reduced = layout.predecessors.copy()
        reduced[j, k] = False
        r2_with = core.solution.r2[j]
        if not reduced[j].any():  # nothing left to explain j
            out.append((int(j), int(k), r2_with / (1 - r2_with)))
            continue
        without = PlsLayout(layout.latent, layout.indicators, layout.blocks, layout.mode_b,
                            reduced)
        refit = estimate_pls(core.correlation, without, scheme=options.scheme,
                             consistent=options.estimator == "plsc",
                             tolerance=options.tolerance, max_iterations=options.max_iterations)
        r2_without = refit.r2[j]
        if not np.isfinite(r2_without):  # the refit isolated a construct: use the scores
            r2_without = r_squared_from(core.solution.construct_cor,
                                        np.flatnonzero(reduced[j]), int(j))
        out.append((int(j), int(k), (r2_with - r2_without) / (1 - r2_with)))
    return out


def _outer_weights(layout: PlsLayout, core: PlsCore) -> pd.DataFrame:
    owner = [name for name, block in zip(layout.latent, layout.blocks, strict=True)
             for _ in block]
    return pd.DataFrame({"latent": owner, "indicator": list(layout.indicators),
                         "weight": core.solution.weights.sum(axis=1),
                         "unstandardized": core.item_weights})


def _scores(items: np.ndarray, core: PlsCore, layout: PlsLayout) -> pd.DataFrame:
    standardized = (items - core.item_means) / core.item_sd
    return pd.DataFrame(standardized @ core.solution.weights, columns=list(layout.latent))


def _group_indices(items: np.ndarray, data: PreparedData, layout: PlsLayout, core: PlsCore,
                   options: FitOptions, measured: list[int]) -> pd.DataFrame | None:
    if data.groups is None or options.scale is None:
        return None
    return index_by_group(items, data.groups, core.item_weights,
                          tuple(layout.blocks[j] for j in measured), options.scale,
                          tuple(layout.latent[j] for j in measured), data.weights)


def _warnings(layout: PlsLayout, core: PlsCore, parameters: pd.DataFrame,
              options: FitOptions, measured: list[int]) -> list[str]:
    solution = core.solution
    warnings = []
    if not solution.converged:
        warnings.append(f"PLS did not converge in {options.max_iterations} iterations (outer "
                        f"weights still changing by more than {options.tolerance:g}); the "
                        "estimates must not be reported")
    warnings += standardized_beyond_one(parameters)
    names = layout.latent
    for a in range(len(names)):
        for b in range(a + 1, len(names)):
            if abs(solution.construct_cor[a, b]) > 1:
                warnings.append(f"improper solution: the consistent (PLSc) correlation of "
                                f"{names[a]} and {names[b]} is "
                                f"{solution.construct_cor[a, b]:.3f}, beyond 1")
    if options.scale is not None:
        warnings += negative_weight_warnings(core.item_weights,
                                             tuple(layout.blocks[j] for j in measured),
                                             tuple(names[j] for j in measured),
                                             layout.indicators)
    return warnings


def _notes(spec: ModelSpec, core: PlsCore, options: FitOptions,
           moderated: ModeratedModel | HigherOrderModel | None) -> list[str]:
    notes = [f"PLS converged in {core.solution.iterations} iterations ({options.scheme} "
             f"weighting{', consistent PLS' if options.estimator == 'plsc' else ''})"]
    if moderated is not None:
        notes.append(moderated.note)
    user_covariances = spec.table[(spec.table["op"] == "~~") & (spec.table["user"] == 1)]
    if len(user_covariances):
        notes.append("PLS does not estimate (co)variances; the model's '~~' lines are ignored")
    if options.scale is None:
        notes.append("no answer scale declared ('# scale: 1-10' or scale=...): no 0-100 index")
    return notes


def bootstrap_pls(spec: ModelSpec, layout: PlsLayout, items: np.ndarray, core: PlsCore,
                  parameters: pd.DataFrame, effects: pd.DataFrame, options: FitOptions,
                  row_weights: np.ndarray | None = None,
                  moderated: ModeratedModel | HigherOrderModel | None = None
                  ) -> BootstrapResult:
    """Re-estimate on resampled rows of the items (n, p): parameters, weights, effects,
    indices and HTMT, in batches of stacked arrays (:mod:`acsi_sem.estimators.pls_batched`).
    A respondent drawn into a resample brings its sampling weight (``row_weights`` (n,))
    along. With interaction terms (``moderated``) each resample builds their items anew from
    its survey items, one resample at a time."""
    table = spec.table[spec.table["op"].isin(_ESTIMATED_OPS)].reset_index(drop=True)
    owner = [name for name, block in zip(layout.latent, layout.blocks, strict=True)
             for _ in block]
    pairs = (np.array([layout.latent.index(n) for n in effects["lhs"]], dtype=int),
             np.array([layout.latent.index(n) for n in effects["rhs"]], dtype=int))
    measured = _measured(layout, moderated)
    names = ([parameter_key(*row) for row in table[["lhs", "op", "rhs"]].itertuples(index=False)]
             + [f"weight: {lv} <- {ind}" for lv, ind in zip(owner, layout.indicators,
                                                            strict=True)]
             + effect_keys(effects, "indirect") + effect_keys(effects, "total")
             + ([f"index: {layout.latent[j]}" for j in measured] if core.index is not None
                else [])
             + htmt_keys(layout.latent))

    def vector(sample_core: PlsCore) -> np.ndarray:
        solution = sample_core.solution
        total = total_effects(solution.paths)[pairs]
        direct = solution.paths[pairs]
        scale = term_scale(layout, sample_core,
                           measured if isinstance(moderated, ModeratedModel) else None)
        parts = [pls_row_values(spec, layout, solution, table, scale),
                 solution.weights.sum(axis=1), total - direct, total]
        if sample_core.index is not None:
            parts.append(sample_core.index[measured])
        parts.append(upper_triangle(heterotrait_monotrait(sample_core.correlation,
                                                          layout.blocks)))
        return np.concatenate(parts)

    def statistic(rows: np.ndarray) -> Replicate:
        try:
            resample = items[rows] if moderated is None else moderated.items(items[rows],
                                                                             options)
            sample_core = pls_core(resample, layout, options,
                                   None if row_weights is None else row_weights[rows])
        except np.linalg.LinAlgError as error:
            raise FailedReplicateError from error
        if not sample_core.solution.converged:
            raise FailedReplicateError
        improper = bool(np.any(np.abs(upper_triangle(sample_core.solution.construct_cor)) > 1))
        return Replicate(vector(sample_core), improper)

    settings = {"replicates": options.bootstrap, "seed": options.seed, "names": tuple(names),
                "estimate": vector(core), "progress": options.progress,
                "interval": options.ci}
    if moderated is not None:
        return bootstrap(statistic, len(items), **settings)
    from acsi_sem.estimators.pls_batched import batched_pls_statistic

    batched = batched_pls_statistic(spec, layout, items, table, pairs, options, len(names),
                                    statistic, row_weights)
    return bootstrap_batched(batched, len(items), **settings)


def index_scores_frame(result: FitResult, data: pd.DataFrame, scale: tuple[float, float]
                       ) -> pd.DataFrame:
    """0-100 scores of each respondent in ``data`` with a fitted result's item weights."""
    weights = result.outer_weights
    blocks = [np.flatnonzero(weights["latent"].to_numpy() == lv)
              for lv in dict.fromkeys(weights["latent"])]
    items = data[weights["indicator"].tolist()].to_numpy(dtype=float)
    return pd.DataFrame(index_scores(items, weights["unstandardized"].to_numpy(),
                                     tuple(blocks), scale),
                        columns=list(dict.fromkeys(weights["latent"])))
