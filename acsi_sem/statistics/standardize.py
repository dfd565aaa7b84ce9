"""Standardized solutions, as lavaan's ``standardizedSolution()`` computes them.

``std_lv`` scales by the model-implied standard deviations of the latent variables only;
``std_all`` scales by those of every variable. (Residual) covariances are divided by the
square roots of the (residual) variances they belong to, lavaan's ``cov.std = TRUE``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from acsi_sem.model.ram import RamModel
from acsi_sem.model.spec import ModelSpec


def row_values(spec: ModelSpec, theta: np.ndarray) -> np.ndarray:
    """Value of every ``=~``, ``~``, ``~~`` and ``~1`` row of the table at ``theta`` (q,):
    (rows,); for a stack of parameter vectors (b, q): (b, rows)."""
    free = spec.table["free"].to_numpy()
    fixed = spec.table["ustart"].to_numpy(dtype=float)
    # Intercepts are numbered after theta's parameters; they are not in theta.
    in_theta = (free > 0) & (free <= theta.shape[-1])
    values = np.broadcast_to(fixed, (*theta.shape[:-1], len(fixed))).copy()
    values[..., in_theta] = theta[..., free[in_theta] - 1]
    return values


def standardized(spec: ModelSpec, ram: RamModel, theta: np.ndarray,
                 intercepts: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``(std_lv, std_all)``, each (rows,), for the rows of ``spec.table``.

    Args:
        intercepts: (rows,) values of ``~1`` rows, if the model has a mean structure.
    """
    values = row_values(spec, theta)
    if intercepts is not None:
        values = np.where(spec.table["op"].to_numpy() == "~1", intercepts, values)
    a_matrix, s_matrix = ram.matrices(theta)
    b_matrix = ram.total_effects_inverse(a_matrix)
    total_sd = np.sqrt(np.clip(np.diag(b_matrix @ s_matrix @ b_matrix.T), 0, None))
    residual_sd = np.sqrt(np.clip(np.diag(s_matrix), 0, None))
    is_latent = np.arange(len(ram.variables)) >= ram.n_observed
    latent_sd = np.where(is_latent, total_sd, 1.0)
    latent_residual_sd = np.where(is_latent, residual_sd, 1.0)
    index = {name: i for i, name in enumerate(ram.variables)}
    std_lv = np.full(len(values), np.nan)
    std_all = np.full(len(values), np.nan)
    for row, (lhs, op, rhs) in enumerate(zip(spec.table["lhs"], spec.table["op"],
                                             spec.table["rhs"], strict=True)):
        if op == ":=":
            continue
        i = index[lhs]
        j = index.get(rhs, i)
        std_lv[row], std_all[row] = _scale(op, i, j, values[row], total_sd, residual_sd,
                                           latent_sd, latent_residual_sd)
    return _with_definitions(spec, std_lv), _with_definitions(spec, std_all)


def _scale(op: str, i: int, j: int, value: float, total_sd: np.ndarray,
           residual_sd: np.ndarray, latent_sd: np.ndarray,
           latent_residual_sd: np.ndarray) -> tuple[float, float]:
    with np.errstate(divide="ignore", invalid="ignore"):
        if op == "=~":  # latent i -> indicator j (a latent one in a second-order model)
            return value * latent_sd[i] / latent_sd[j], value * total_sd[i] / total_sd[j]
        if op == "~":  # predictor j -> outcome i
            return (value * latent_sd[j] / latent_sd[i], value * total_sd[j] / total_sd[i])
        if op in ("~1", "|"):
            return value / latent_sd[i], value / total_sd[i]
        if i == j:
            return value / latent_sd[i] ** 2, value / total_sd[i] ** 2
        return (value / (latent_residual_sd[i] * latent_residual_sd[j]),
                value / (residual_sd[i] * residual_sd[j]))


def _with_definitions(spec: ModelSpec, values: np.ndarray) -> np.ndarray:
    """Fill ``:=`` rows by applying their expressions to the standardized labelled values."""
    from acsi_sem.statistics.defined import evaluate_definitions

    if not (spec.table["op"] == ":=").any():
        return values
    labels = label_map(spec, values)
    defined = evaluate_definitions(spec, labels)
    out = values.copy()
    for row in np.flatnonzero(spec.table["op"].to_numpy() == ":="):
        out[row] = defined[spec.table.at[row, "lhs"]]
    return out


def label_map(spec: ModelSpec, values: np.ndarray) -> dict[str, float]:
    """``{label: value}`` for every labelled row, given per-row values (rows,)."""
    labels = spec.table["label"].to_numpy()
    ops = spec.table["op"].to_numpy()
    return {label: float(values[row]) for row, label in enumerate(labels)
            if label and ops[row] != ":="}


def standardized_frame(spec: ModelSpec, ram: RamModel, theta: np.ndarray) -> pd.DataFrame:
    """The table's ``lhs, op, rhs`` with ``std_lv`` and ``std_all`` columns."""
    std_lv, std_all = standardized(spec, ram, theta)
    frame = spec.table[["lhs", "op", "rhs"]].copy()
    frame["std_lv"], frame["std_all"] = std_lv, std_all
    return frame
