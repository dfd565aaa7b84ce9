"""Survey data drawn from a population model.

A population model is a model file in which every parameter has a value (``0.8*x``): its
implied covariance is computed through the RAM form, multivariate normal responses are
drawn with a seeded generator and, for a survey, mapped to an answer scale by
``round(mean + sd * z)`` clipped to the scale's ends.

:func:`population_from_model` also takes a model with free parameters: fitted to its data,
its estimates are the population (:class:`Population`), from which :func:`draw_survey`
draws respondents for ``acsi-sem simulate`` and the Monte Carlo power study.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from acsi_sem.errors import AcsiSemError, ModelSyntaxError
from acsi_sem.model.ram import build_ram
from acsi_sem.model.spec import ModelSpec

if TYPE_CHECKING:
    from acsi_sem.model.modelfile import ModelFile


def population_covariance(spec: ModelSpec) -> pd.DataFrame:
    """(p, p) implied covariance of a population model whose parameters are all fixed."""
    free = spec.table[(spec.table["free"] > 0) & (spec.table["op"] != "~1")]
    if len(free):
        row = free.iloc[0]
        raise ModelSyntaxError(f"the population model leaves {row['lhs']} {row['op']} "
                               f"{row['rhs']} free; give every parameter a value (e.g. "
                               "0.7*x)", source=spec.source, line=int(row["line"]) or None)
    ram = build_ram(spec)
    sigma = ram.implied_covariance(np.zeros(0))
    return pd.DataFrame(sigma, index=list(spec.observed), columns=list(spec.observed))


def simulate_survey(spec: ModelSpec, n: int, *, seed: int,
                    scale: tuple[int, int] | None = None,
                    item_mean: float | dict[str, float] = 0.0,
                    item_sd: float | dict[str, float] = 1.0) -> pd.DataFrame:
    """Draw ``n`` respondents from a population model.

    Args:
        spec: a population model (every parameter fixed); its standardized metric is used.
        n: number of respondents.
        seed: seed of ``numpy.random.default_rng``.
        scale: answer scale ``(lowest, highest)``; ``None`` keeps continuous responses.
        item_mean, item_sd: each item's mean and standard deviation on the answer scale
            (one number for all items or a dict by item).

    Returns:
        (n, p) DataFrame with one column per observed variable.
    """
    sigma = population_covariance(spec)
    sd = np.sqrt(np.diag(sigma))
    correlation = sigma.to_numpy() / np.outer(sd, sd)
    rng = np.random.default_rng(seed)
    z = rng.multivariate_normal(np.zeros(len(sd)), correlation, size=n, method="cholesky")
    names = list(sigma.columns)
    means = np.array([_per_item(item_mean, name) for name in names])
    sds = np.array([_per_item(item_sd, name) for name in names])
    values = means + sds * z
    if scale is not None:
        values = np.clip(np.rint(values), scale[0], scale[1]).astype(int)
    return pd.DataFrame(values, columns=names)


def _per_item(value: float | dict[str, float], name: str) -> float:
    return value[name] if isinstance(value, dict) else value


@dataclass(frozen=True)
class Population:
    """Normal population of survey answers.

    Attributes:
        variables: the p observed variables.
        means: (p,) population means.
        covariance: (p, p) population covariance.
        description: where the values come from (for reports).
        standardized: whether the values are in a standardized metric (a population model
            file) rather than on the answer scale (a fitted model).
    """

    variables: tuple[str, ...]
    means: np.ndarray
    covariance: np.ndarray
    description: str
    standardized: bool = False


def population_from_model(model: str | Path | ModelFile | ModelSpec,
                          data: pd.DataFrame | str | Path | None = None) -> Population:
    """The population behind ``model``.

    A model whose every parameter has a value (``0.8*x``) is itself the population (means
    0). A ``.json`` file written by ``acsi-sem fit --json`` is read by
    :func:`population_from_result`. Any other model is fitted by ML to ``data`` (default:
    the model file's data) and the fitted result is the population: its implied covariance
    and the sample means.
    """
    from acsi_sem.api import fit_prepared, load_data, resolve_model

    if isinstance(model, str | Path) and str(model).lower().endswith(".json"):
        return population_from_result(model)
    model_file, spec = resolve_model(model)
    if model_file is not None and model_file.kind == "growth":
        raise AcsiSemError(f"{model_file.path}: a growth model's population needs its latent "
                           "means, which populations do not carry yet")
    if _is_population(spec):
        sigma = population_covariance(spec)
        return Population(tuple(spec.observed), np.zeros(len(sigma)), sigma.to_numpy(),
                          f"population model {model_file.name if model_file else 'given'}",
                          standardized=True)
    scale = model_file.scale if model_file is not None else None
    prepared = load_data(spec, data, model_file, scale)
    result = fit_prepared(spec, prepared, model_file)
    if not result.converged:
        raise AcsiSemError("the model did not converge on its data, so its estimates cannot "
                           "serve as population values")
    return Population(tuple(spec.observed), prepared.means,
                      result.implied_cov.to_numpy(),
                      f"{result.model_name} fitted to {prepared.source} (n = {result.n_obs})")


def population_from_result(path: str | Path) -> Population:
    """The population of a CB-SEM result saved by ``acsi-sem fit --json``: every ``=~``,
    ``~`` and ``~~`` estimate fixed at its value; means from the ``~1`` rows, else 0.

    Raises:
        DataError: the file is not such a result (or a PLS one, which has no covariance
            model).
    """
    from acsi_sem.errors import DataError
    from acsi_sem.model.spec import parse_model

    path = Path(path)
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        rows, estimator = document["parameters"], document["estimator"]
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise DataError(f"{path}: not a result file of 'acsi-sem fit --json' ({error})"
                        ) from error
    if estimator not in ("ML", "MLR"):
        raise DataError(f"{path}: a {estimator} result has no covariance model to draw from; "
                        "fit the model with estimator ml")
    lines = [f"{row['lhs']} {row['op']} {row['est']!r}*{row['rhs']}" for row in rows
             if row["op"] in ("=~", "~", "~~")]
    spec = parse_model("\n".join(lines), source=str(path))
    if any(row["op"] == "~1" and row["lhs"] in spec.latent and row["est"] for row in rows):
        raise DataError(f"{path}: the result has latent means (a growth model or free factor "
                        "means), which a population drawn from it does not carry yet")
    sigma = population_covariance(spec)
    intercepts = {row["lhs"]: row["est"] for row in rows if row["op"] == "~1"}
    means = np.array([intercepts.get(name, 0.0) for name in spec.observed])
    return Population(tuple(spec.observed), means, sigma.to_numpy(),
                      f"{document.get('model', 'model')} result {path.name}")


def _is_population(spec: ModelSpec) -> bool:
    table = spec.table
    return not ((table["free"] > 0) & (table["op"] != "~1")).any()


def draw_survey(population: Population, n: int, *, seed: int | np.random.Generator,
                scale: tuple[float, float] | None = None) -> pd.DataFrame:
    """Draw ``n`` respondents (n, p) from a normal population.

    Args:
        seed: seed of ``numpy.random.default_rng``, or a generator.
        scale: answer scale ``(lowest, highest)``: answers rounded and clipped to it;
            ``None`` keeps continuous values (what the ML population values describe). A
            standardized population is first placed on the scale as
            ``midpoint + (highest - lowest) / 6 * z``.
    """
    rng = np.random.default_rng(seed)
    values = rng.multivariate_normal(population.means, population.covariance, size=n,
                                     method="cholesky")
    if scale is not None:
        low, high = scale
        if population.standardized:
            values = (low + high) / 2 + (high - low) / 6 * values
        values = np.clip(np.rint(values), low, high)
    return pd.DataFrame(values, columns=list(population.variables))
