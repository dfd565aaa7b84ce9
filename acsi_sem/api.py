"""The one verb: :func:`fit`, from a model and data to a :class:`FitResult`.

    model file -> ModelSpec -> PreparedData -> estimator -> FitResult -> reports
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import pandas as pd

from acsi_sem.errors import AcsiSemError, DataError, ModelSyntaxError
from acsi_sem.estimators.checks import check_no_constraints, check_no_modelled_means
from acsi_sem.estimators.options import FitOptions
from acsi_sem.model.modelfile import MODEL_KINDS, ModelFile, load_model_file
from acsi_sem.model.spec import ModelSpec, parse_model, with_mean_structure
from acsi_sem.results import FitResult, replace_result
from acsi_sem.survey.moments import SurveyMoments
from acsi_sem.survey.prepare import PreparedData, prepare_data, read_table


def fit(model: str | Path | ModelFile | ModelSpec, data: pd.DataFrame | str | Path | None = None,
        *, estimator: str = "ml", scheme: str = "path", bootstrap: int = 0,
        seed: int | None = None, ci: str = "percentile", group: str | None = None,
        scale: tuple[float, float] | None = None, progress: bool = False,
        tolerance: float = 1e-7, max_iterations: int = 300,
        missing: str = "listwise", group_equal: Sequence[str] | str = (),
        ordered: Sequence[str] | str | None = None,
        chunksize: int | None = None, weights: str | None = None,
        moderation: str = "two_stage", higher_order: str = "two_stage",
        kind: str | None = None, bollen_stine: int = 0,
        fixed_x: bool | None = None) -> FitResult:
    """Fit a model to survey data.

    Args:
        model: a shipped model's name (``"acsi"``, ``"ecsi"``, ``"ccsi"``, ``"ccsi6"``), a
            model file's path, lavaan model text, a :class:`ModelFile` or a parsed
            :class:`ModelSpec`.
        data: a DataFrame (one row per respondent) or a data file's path; ``None`` uses the
            model file's default data (``# data:`` in its header).
        estimator: ``"ml"`` (CB-SEM, maximum likelihood with lavaan's defaults), ``"mlr"``
            (ML with robust standard errors and the Yuan-Bentler scaled test, lavaan's MLR),
            ``"wlsmv"`` (ordered items: polychoric correlations, DWLS, robust standard
            errors and the mean-and-variance adjusted test, lavaan's WLSMV), ``"gls"``,
            ``"uls"``, ``"dwls"``, ``"wls"`` (least squares of continuous answers),
            ``"ulsm"``, ``"ulsmv"``, ``"wlsm"`` (ULS or DWLS with robust standard errors and
            a scaled test), ``"pls"`` (PLS path modelling) or ``"plsc"`` (consistent PLS).
        scheme: PLS inner weighting: ``"path"`` (default), ``"factorial"``, ``"centroid"``.
        bootstrap: number of bootstrap replicates (0: none); standard errors and intervals
            then come from the bootstrap.
        seed: seed of the bootstrap; the same seed gives the same intervals.
        ci: bootstrap interval in ``ci_lower``/``ci_upper``: ``"percentile"`` or ``"bca"``.
        group: a column of the data naming groups. CB-SEM fits one model per group
            (a multi-group model, lavaan's ``group =``); PLS reports the 0-100 index per
            group.
        scale: the answer scale ``(lowest, highest)``; defaults to the model file's
            ``# scale:``. Answers outside it are an error; PLS uses it for the 0-100 index.
        progress: show a progress bar during the bootstrap.
        tolerance: PLS stops when the summed absolute change of the standardized outer
            weights between iterations falls below it.
        max_iterations: PLS iteration limit; a fit that reaches it is reported as not
            converged.
        missing: ``"listwise"`` (default) deletes respondents with a missing answer;
            ``"fiml"`` (or lavaan's ``"ml"``) keeps them for full-information ML
            (estimator ``"ml"`` or ``"mlr"``, with groups too), conditional on fixed.x
            covariates: a row without a covariate is deleted, with a warning, as lavaan.
        group_equal: with ``group``, the parameter classes held equal across groups, as
            lavaan's ``group.equal``: ``"loadings"``, ``"intercepts"``, ``"residuals"``,
            ``"regressions"``, ``"means"``, ``"residual.covariances"``,
            ``"lv.variances"``, ``"lv.covariances"`` (a list, or one comma-separated
            string).
        ordered: with ``estimator="wlsmv"``, the items that are ordered categories:
            ``"all"`` (the default) or their names (a list, or one comma-separated string);
            the model's other items are then continuous, entering with their means and
            variances (lavaan's ``ordered =`` naming some items).
        chunksize: read a CSV, TSV or Parquet data file in chunks of this many rows,
            keeping only N, means and covariances (files larger than memory; estimator
            ``"ml"``). Files of 256 MiB or more are read so by default when the options
            allow it.
        weights: a column of sampling weights (zero or more; none missing). Every estimate
            weights each respondent by it; see the README's "Sampling weights".
        moderation: PLS with interaction terms (``Y ~ A + B + A:B``): how each term is
            measured, ``"two_stage"`` (default), ``"product_indicator"`` or
            ``"orthogonal"``; see the README's "Moderation".
        higher_order: PLS with higher-order constructs (``H =~ A + B`` for constructs A and
            B): ``"two_stage"`` (default) or ``"repeated_indicators"``; see the README's
            "Higher-order constructs".
        kind: lavaan's function whose defaults the model gets: ``"sem"`` or ``"cfa"`` (the
            same here) or ``"growth"`` (a latent growth model: observed intercepts fixed at
            0, latent means free); defaults to the model file's ``# kind:`` or ``"sem"``.
        bollen_stine: CB-SEM (ML/MLR, complete data): replicates of the Bollen-Stine
            bootstrap of the chi-square test (lavaan's ``test = "bollen.stine"``; with
            ``group``, each group rotated to its own fitted moments and resampled within),
            seeded by ``seed``; its p-value joins the fit indices as
            ``bollen_stine_pvalue``.
        fixed_x: with a least-squares estimator (``"gls"`` ... ``"wlsm"``), ``True`` holds
            the observed covariates' variances, covariances and means at the sample's
            (lavaan's ``fixed.x = TRUE``); by default (``None`` or ``False``) they are
            estimated, lavaan's default ``fixed.x = FALSE`` for these estimators.

    Returns:
        The fitted result; ``result.summary()`` prints it, ``result.parameters`` holds the
        estimates.

    Raises:
        AcsiSemError: a subclass naming the file, line, column or variable at fault.
    """
    return fit_prepared(*prepare(
        model, data, estimator=estimator, scheme=scheme, bootstrap=bootstrap, seed=seed,
        ci=ci, group=group, scale=scale, progress=progress, tolerance=tolerance,
        max_iterations=max_iterations, missing=missing, group_equal=group_equal,
        ordered=ordered, chunksize=chunksize, weights=weights, moderation=moderation,
        higher_order=higher_order, kind=kind, bollen_stine=bollen_stine, fixed_x=fixed_x))


def prepare(model: str | Path | ModelFile | ModelSpec,
            data: pd.DataFrame | str | Path | None = None, *, estimator: str = "ml",
            scheme: str = "path", bootstrap: int = 0, seed: int | None = None,
            ci: str = "percentile", group: str | None = None,
            scale: tuple[float, float] | None = None, progress: bool = False,
            tolerance: float = 1e-7, max_iterations: int = 300, missing: str = "listwise",
            group_equal: Sequence[str] | str = (), ordered: Sequence[str] | str | None = None,
            chunksize: int | None = None, weights: str | None = None,
            moderation: str = "two_stage", higher_order: str = "two_stage",
            kind: str | None = None, bollen_stine: int = 0, fixed_x: bool | None = None
            ) -> tuple[ModelSpec, PreparedData | SurveyMoments, ModelFile | None, FitOptions]:
    """Everything :func:`fit` does before estimating, with its arguments: the parsed model,
    the read and checked data (or a big file's moments), the model file and the options.
    Several fits of one data set (e.g. the invariance steps) share it."""
    missing = missing_method(missing)
    model_file, spec = resolve_model(model)
    spec = with_kind_defaults(spec, kind or (model_file.kind if model_file else "sem"))
    if scale is None and model_file is not None:
        scale = model_file.scale
    options = FitOptions(estimator=estimator.lower(), scheme=scheme, bootstrap=bootstrap,
                         seed=seed, ci=ci, scale=scale, progress=progress,
                         tolerance=tolerance, max_iterations=max_iterations,
                         group_equal=_classes(group_equal), moderation=moderation,
                         higher_order=higher_order, bollen_stine=bollen_stine,
                         fixed_x=fixed_x)
    if spec.interactions and not options.is_pls:
        terms = ", ".join(i.term for i in spec.interactions)
        raise AcsiSemError(f"the interaction terms {terms} join constructs, which PLS "
                           "estimates here: use estimator='pls' (--estimator pls); lavaan "
                           "has no latent interaction term either")
    if ordered is not None and options.estimator != "wlsmv":
        raise AcsiSemError("ordered items are estimated by WLSMV; pass estimator='wlsmv'")
    if options.estimator == "wlsmv":
        from acsi_sem.estimators.ordinal import ordered_items

        options = replace(options, ordered=ordered_items(spec, ordered))
    if bollen_stine and missing != "listwise":
        raise AcsiSemError("the Bollen-Stine bootstrap rotates complete answers "
                           "(missing='listwise'; lavaan refuses missing data too)")
    if group_equal and group is None:
        raise AcsiSemError("group_equal needs a group column (group=...)")
    if missing == "fiml" and options.estimator not in ("ml", "mlr"):
        raise AcsiSemError(f"missing='fiml' is a maximum likelihood method; estimator "
                           f"{estimator!r} needs missing='listwise'")
    if weights is not None:
        _check_weighted_options(options, chunksize)
    if _read_in_chunks(data, chunksize, options, group, missing, weights):
        from acsi_sem.survey.moments import check_chunked_options, read_moments

        check_chunked_options(estimator=options.estimator, bootstrap=bootstrap, group=group,
                              missing=missing)
        moments = read_moments(data, spec.observed, chunksize=chunksize, scale=scale,
                               min_rows=_rows_needed(spec, pls=False), progress=progress)
        return spec, moments, model_file, options
    prepared = load_data(spec, data, model_file, scale, group=group,
                         pls=options.is_pls, missing=missing, weights=weights)
    return spec, prepared, model_file, options


FIML_NAMES = ("fiml", "ml", "direct")


def missing_method(missing: str) -> str:
    """``"listwise"`` or ``"fiml"`` for ``missing``, accepting lavaan's names of FIML
    (``"ml"``, ``"direct"``); lavaan's ``"ml.x"`` is refused, naming what to do instead."""
    name = str(missing).lower()
    if name in FIML_NAMES:
        return "fiml"
    if name == "ml.x":
        raise AcsiSemError("missing='ml.x' (covariates treated as random, rows with a missing "
                           "covariate kept) is not available; missing='fiml' follows lavaan's "
                           "default fixed.x (missing = 'ml'): FIML conditional on the "
                           "covariates, rows with a missing covariate deleted with a "
                           "warning. To keep those rows, measure the covariate by a "
                           "single-indicator latent variable (F =~ x)")
    if name != "listwise":
        raise DataError(f"unknown missing-data method {missing!r}; choose listwise or fiml "
                        "(lavaan's 'ml' and 'direct' are fiml too)")
    return name


def with_kind_defaults(spec: ModelSpec, kind: str) -> ModelSpec:
    """``spec`` with the defaults of lavaan's ``sem()``/``cfa()`` (as parsed) or
    ``growth()`` (a mean structure with observed intercepts fixed at 0 and free latent
    means; intercepts and means the model writes are kept)."""
    if kind not in MODEL_KINDS:
        raise AcsiSemError(f"unknown kind {kind!r}; choose one of {', '.join(MODEL_KINDS)}")
    return with_mean_structure(spec, growth=True) if kind == "growth" else spec


def _check_weighted_options(options: FitOptions, chunksize: int | None) -> None:
    """The estimators that take sampling weights: ML and MLR (as lavaan's
    ``sampling.weights``, with groups too, and by FIML in one group), PLS and PLSc."""
    if options.estimator == "wlsmv":
        raise AcsiSemError("sampling weights are not available with estimator 'wlsmv' yet; "
                           "use 'ml', 'mlr', 'pls' or 'plsc'")
    if chunksize is not None:
        raise AcsiSemError("sampling weights need the rows in memory (no chunksize)")


def _read_in_chunks(data: object, chunksize: int | None, options: FitOptions,
                    group: str | None, missing: str, weights: str | None) -> bool:
    """An explicit ``chunksize`` always reads in chunks (and refuses options that need the
    rows); a big file only when the options work from the moments."""
    if not isinstance(data, str | Path):
        if chunksize is not None:
            raise AcsiSemError("chunksize applies to a data file's path, not to a DataFrame")
        return False
    from acsi_sem.survey.moments import should_read_in_chunks

    if not should_read_in_chunks(data, chunksize):
        return False
    return chunksize is not None or (options.estimator == "ml" and not options.bootstrap
                                     and group is None and missing == "listwise"
                                     and weights is None)


def fit_prepared(spec: ModelSpec, data: PreparedData | SurveyMoments,
                 model_file: ModelFile | None = None,
                 options: FitOptions | None = None) -> FitResult:
    """Estimate ``spec`` on checked data (or a big file's moments, ML only) with the chosen
    estimator family."""
    options = options or FitOptions()
    result = _estimate(spec, data, model_file, options)
    if isinstance(data, PreparedData) and not options.is_pls:
        result = replace_result(result, data=data)
    data_warnings = getattr(data, "warnings", ())  # a big file's moments have none
    if not data_warnings:
        return result
    return replace_result(result, warnings=(*data_warnings, *result.warnings))


def _estimate(spec: ModelSpec, data: PreparedData | SurveyMoments,
              model_file: ModelFile | None, options: FitOptions) -> FitResult:
    if spec.group_values and (data.groups is None or options.is_pls):
        (lhs, op, rhs), (_, line) = next(iter(spec.group_values.items()))
        remedy = ("choose a CB-SEM estimator ('ml' or 'mlr')" if options.is_pls else
                  "name the group column (group=...)")
        raise ModelSyntaxError(f"c(...) on '{lhs} {op} {rhs}' gives one value per group of a "
                               f"multi-group CB-SEM model; {remedy} or write a single value",
                               source=spec.source, line=line)
    if options.is_pls or options.estimator == "wlsmv":
        check_no_constraints(spec, options.estimator.upper())
        check_no_modelled_means(spec, options.estimator.upper())
    if options.is_pls:
        from acsi_sem.estimators.pls import fit_pls

        return fit_pls(spec, data, model_file, options)
    if options.estimator == "wlsmv" and data.groups is None:
        from acsi_sem.estimators.ordinal import fit_wlsmv

        return fit_wlsmv(spec, data, model_file, options)
    if options.estimator == "wlsmv":
        from acsi_sem.estimators.ordinal_groups import fit_wlsmv_groups

        return fit_wlsmv_groups(spec, data, model_file, options)
    if data.groups is not None:
        from acsi_sem.estimators.multigroup import fit_cbsem_groups

        return fit_cbsem_groups(spec, data, model_file, options)
    from acsi_sem.estimators.cbsem import fit_cbsem

    return fit_cbsem(spec, data, model_file, options)


def _classes(group_equal: Sequence[str] | str) -> tuple[str, ...]:
    """``"loadings, intercepts"`` or ``["loadings", "intercepts"]`` as a tuple."""
    if isinstance(group_equal, str):
        group_equal = group_equal.split(",")
    if not all(isinstance(name, str) for name in group_equal):
        raise AcsiSemError(f"group_equal takes class names as text, not {list(group_equal)!r}")
    return tuple(name.strip() for name in group_equal if name.strip())


def resolve_model(model: str | Path | ModelFile | ModelSpec
                  ) -> tuple[ModelFile | None, ModelSpec]:
    """The model file (if any) and parsed specification behind ``model``."""
    if isinstance(model, ModelSpec):
        return None, model
    if isinstance(model, ModelFile):
        return model, model.spec
    if isinstance(model, str) and any(op in model for op in ("=~", " ~", "~~", "\n")):
        return None, parse_model(model)
    model_file = load_model_file(model)
    return model_file, model_file.spec


def load_data(spec: ModelSpec, data: pd.DataFrame | str | Path | None,
              model_file: ModelFile | None, scale: tuple[float, float] | None, *,
              group: str | None = None, pls: bool = False,
              missing: str = "listwise", weights: str | None = None) -> PreparedData:
    """Read (if needed) and check the data for ``spec``."""
    if data is None:
        default = model_file.default_data if model_file is not None else None
        if default is None:
            raise DataError("no data given and the model names no default data "
                            "('# data: FILE' in its header); pass data")
        data = default
    source = "<DataFrame>"
    if not isinstance(data, pd.DataFrame):
        source = str(data)
        data = read_table(data)
    return prepare_data(data, spec.observed, source=source, scale=scale, group=group,
                        min_rows=_rows_needed(spec, pls), missing=missing, weights=weights,
                        covariates=() if pls else spec.exogenous_covariates)


def _rows_needed(spec: ModelSpec, pls: bool) -> int:
    """CB-SEM: more rows than observed variables and free parameters. PLS: more rows than
    the largest regression it runs (a formative block or a construct's predictors)."""
    if not pls:
        return max(len(spec.observed) + 1, spec.n_free + 1)
    predictors = spec.table[spec.table["op"] == "~"].groupby("lhs").size()
    formative = spec.table[spec.table["op"] == "<~"].groupby("lhs").size()
    largest = max([0, *predictors.tolist(), *formative.tolist()])
    return max(largest + 2, 3)
