"""Pieces both estimator families share: statistic names and bootstrap columns."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import special

from acsi_sem.resample import BootstrapResult

# Bootstrap spread below this (relative to the estimate) is rounding error, not sampling error.
CONSTANT_SPREAD = 1e-10


def parameter_key(lhs: str, op: str, rhs: str) -> str:
    """The bootstrap name of a parameter-table row, e.g. ``"Loyalty ~ Satisfaction"``."""
    return f"{lhs} {op} {rhs}".strip()


def effect_keys(effects: pd.DataFrame, kind: str) -> list[str]:
    """Bootstrap names of the ``kind`` (indirect or total) effects, e.g.
    ``"total: Loyalty <- Quality"``, with the group where the table has one
    (``"total: speed <- visual [Pasteur]"``)."""
    keys = [f"{kind}: {lhs} <- {rhs}" for lhs, rhs in zip(effects["lhs"], effects["rhs"],
                                                          strict=True)]
    if "group" not in effects.columns:
        return keys
    return [f"{key} [{group}]" for key, group in zip(keys, effects["group"], strict=True)]


def htmt_keys(latent: tuple[str, ...]) -> list[str]:
    """Bootstrap names of the HTMT values above the diagonal."""
    return [f"htmt: {latent[a]}, {latent[b]}" for a in range(len(latent))
            for b in range(a + 1, len(latent))]


def upper_triangle(matrix: np.ndarray) -> np.ndarray:
    """Elements above the diagonal, row by row (the order of :func:`htmt_keys`)."""
    return matrix[np.triu_indices(len(matrix), 1)]


def group_parameter_key(lhs: str, op: str, rhs: str, group: str) -> str:
    """The bootstrap name of a multi-group parameter row, ``"visual =~ x2 [Pasteur]"``
    (a defined parameter, with no group, keeps its plain name)."""
    key = parameter_key(lhs, op, rhs)
    return f"{key} [{group}]" if group else key


def apply_bootstrap(parameters: pd.DataFrame, effects: pd.DataFrame, boot: BootstrapResult
                    ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Replace standard errors, z, p-values and intervals by their bootstrap versions (of
    the effects too, where the bootstrap has them)."""
    table = boot.intervals()
    lower, upper = "ci_lower", "ci_upper"
    parameters = parameters.copy()
    if "group" in parameters.columns:
        keys = [group_parameter_key(*row) for row in
                parameters[["lhs", "op", "rhs", "group"]].itertuples(index=False)]
    else:
        keys = [parameter_key(*row) for row in parameters[["lhs", "op", "rhs"]].itertuples(
            index=False)]
    found = np.array([key in table.index for key in keys])
    if found.any():
        picked = table.loc[[k for k, f in zip(keys, found, strict=True) if f]]
        parameters.loc[found, "se"] = picked["se"].to_numpy()
        parameters.loc[found, "ci_lower"] = picked[lower].to_numpy()
        parameters.loc[found, "ci_upper"] = picked[upper].to_numpy()
        se = parameters.loc[found, "se"]
        # A statistic fixed by construction (a single item's loading of 1) varies only by
        # rounding error; like lavaan's fixed parameters it gets se 0 and no z or p-value.
        constant = se <= CONSTANT_SPREAD * np.maximum(1.0, parameters.loc[found, "est"].abs())
        parameters.loc[found, "se"] = se.where(~constant, 0.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            z = (parameters.loc[found, "est"] / se).where(~constant, np.nan)
        parameters.loc[found, "z"] = z
        parameters.loc[found, "pvalue"] = 2 * special.ndtr(-(np.abs(z)))
    effects = effects.copy()
    for kind in ("indirect", "total"):
        names = effect_keys(effects, kind)
        if not any(name in table.index for name in names):
            continue  # not bootstrapped: the delta-method SEs stay
        effects[f"se_{kind}"] = [table.at[n, "se"] if n in table.index else np.nan
                                 for n in names]
        effects[f"ci_lower_{kind}"] = [table.at[n, lower] if n in table.index else np.nan
                                       for n in names]
        effects[f"ci_upper_{kind}"] = [table.at[n, upper] if n in table.index else np.nan
                                       for n in names]
    return parameters, effects
