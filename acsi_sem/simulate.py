"""Survey data drawn from a population model.

A population model is a model file in which every parameter has a value (``0.8*x``): its
implied covariance is computed through the RAM form, multivariate normal responses are
drawn with a seeded generator and, for a survey, mapped to an answer scale by
``round(mean + sd * z)`` clipped to the scale's ends.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from acsi_sem.errors import ModelSyntaxError
from acsi_sem.ram import build_ram
from acsi_sem.spec import ModelSpec


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
