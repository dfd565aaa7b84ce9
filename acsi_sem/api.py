"""The one verb: :func:`fit`, from a model and data to a :class:`FitResult`.

    model file -> ModelSpec -> PreparedData -> estimator -> FitResult -> reports
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from acsi_sem.data import PreparedData, prepare_data, read_table
from acsi_sem.errors import AcsiSemError, DataError, ModelSyntaxError
from acsi_sem.estimate.cbsem import fit_ml
from acsi_sem.modelfile import ModelFile, load_model_file
from acsi_sem.ram import as_frame
from acsi_sem.results import FitResult
from acsi_sem.spec import ModelSpec
from acsi_sem.statistics.diagnostics import (
    improper_solution_warnings,
    singular_information_warning,
)
from acsi_sem.statistics.effects import effects_table
from acsi_sem.statistics.estimates import parameter_table, r_squared
from acsi_sem.statistics.fit_indices import MomentFit, fit_indices
from acsi_sem.statistics.identification import check_identification
from acsi_sem.syntax import parse_model

ESTIMATORS = ("ml",)


def fit(model: str | Path | ModelFile | ModelSpec, data: pd.DataFrame | str | Path | None = None,
        *, estimator: str = "ml", scale: tuple[float, float] | None = None) -> FitResult:
    """Fit a model to survey data.

    Args:
        model: a shipped model's name (``"acsi"``, ``"ecsi"``, ``"ccsi"``), a model file's
            path, lavaan model text, a :class:`ModelFile` or a parsed :class:`ModelSpec`.
        data: a DataFrame (one row per respondent) or a data file's path; ``None`` uses the
            model file's default data (``# data:`` in its header).
        estimator: ``"ml"`` (maximum likelihood, lavaan's defaults).
        scale: the answer scale ``(lowest, highest)``; defaults to the model file's
            ``# scale:``. Answers outside it are an error.

    Returns:
        The fitted result; ``result.summary()`` prints it, ``result.parameters`` holds the
        estimates.

    Raises:
        AcsiSemError: a subclass naming the file, line, column or variable at fault.
    """
    if estimator.lower() not in ESTIMATORS:
        raise AcsiSemError(f"unknown estimator {estimator!r}; available: "
                           f"{', '.join(ESTIMATORS)}")
    model_file, spec = resolve_model(model)
    if scale is None and model_file is not None:
        scale = model_file.scale
    prepared = load_data(spec, data, model_file, scale)
    return fit_prepared(spec, prepared, model_file)


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
              model_file: ModelFile | None, scale: tuple[float, float] | None
              ) -> PreparedData:
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
    p = len(spec.observed)
    needed = max(p + 1, spec.n_free + 1)
    return prepare_data(data, spec.observed, source=source, scale=scale, min_rows=needed)


def fit_prepared(spec: ModelSpec, data: PreparedData,
                 model_file: ModelFile | None = None) -> FitResult:
    """Estimate ``spec`` on checked data and collect every statistic into a result."""
    _check_mean_structure(spec)
    check_identification(spec)
    solution = fit_ml(spec, data)
    parameters = parameter_table(solution, data.means, data.n_obs)
    p = len(spec.observed)
    meanstructure = spec.has_intercepts
    moments = MomentFit(sample_cov=data.covariance,
                        implied_cov=solution.ram.implied_covariance(solution.theta),
                        n_obs=data.n_obs, npar=spec.n_free,
                        n_moments=p * (p + 1) // 2 + (p if meanstructure else 0),
                        meanstructure=meanstructure)
    warnings = list(solution.messages if not solution.converged else ())
    if not solution.converged:
        warnings.insert(0, "the estimator did not converge: the estimates are not a maximum "
                           "of the likelihood and must not be reported")
    if solution.vcov is None:
        warnings.append(singular_information_warning(spec, solution.information))
    warnings += improper_solution_warnings(parameters, solution.ram, solution.theta)
    notes = list(data.notes) + (list(solution.messages) if solution.converged else [])
    names = tuple(spec.observed)
    free_names = [solution.spec.parameter_name(i) for i in range(solution.ram.n_free)]
    return FitResult(
        spec=solution.spec,
        model_name=model_file.name if model_file is not None else "model",
        title=model_file.title if model_file is not None else "user model",
        estimator="ML", data_source=data.source, n_obs=data.n_obs, n_total=data.n_total,
        parameters=parameters, fit_indices=fit_indices(moments),
        r2=r_squared(solution.ram, solution.theta),
        effects=effects_table(solution.spec, solution.ram, solution.theta, solution.vcov),
        converged=solution.converged, warnings=tuple(warnings), notes=tuple(notes),
        implied_cov=as_frame(moments.implied_cov, names),
        sample_cov=as_frame(data.covariance, names),
        vcov=None if solution.vcov is None else pd.DataFrame(solution.vcov, index=free_names,
                                                             columns=free_names),
    )


def _check_mean_structure(spec: ModelSpec) -> None:
    """Only saturated mean structures are estimated: free observed intercepts, latent
    means fixed at 0."""
    rows = spec.table[spec.table["op"] == "~1"]
    latent = rows["lhs"].isin(spec.latent)
    bad = rows[(latent & (rows["free"] > 0)) | (~latent & (rows["free"] == 0))
               | (latent & (rows["ustart"].fillna(0) != 0))]
    if len(bad):
        row = bad.iloc[0]
        what = "a free latent mean" if row["lhs"] in spec.latent else "a fixed intercept"
        raise ModelSyntaxError(f"'{row['lhs']} ~ 1' makes {what}; the ML estimator handles "
                               "only free observed intercepts with latent means fixed at 0",
                               source=spec.source, line=int(row["line"]) or None)

