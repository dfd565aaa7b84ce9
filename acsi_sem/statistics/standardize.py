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
    ops = spec.table["op"].to_numpy()
    if intercepts is not None:
        values = np.where(ops == "~1", intercepts, values)
    a_matrix, s_matrix = ram.matrices(theta)
    b_matrix = ram.total_effects_inverse(a_matrix)
    total_sd = np.sqrt(np.clip(np.diag(b_matrix @ s_matrix @ b_matrix.T), 0, None))
    residual_sd = np.sqrt(np.clip(np.diag(s_matrix), 0, None))
    is_latent = np.arange(len(ram.variables)) >= ram.n_observed
    latent_sd = np.where(is_latent, total_sd, 1.0)
    latent_residual_sd = np.where(is_latent, residual_sd, 1.0)
    index = {name: i for i, name in enumerate(ram.variables)}
    rows = np.flatnonzero(ops != ":=")
    i = np.array([index[name] for name in spec.table["lhs"].to_numpy()[rows]], dtype=int)
    j = np.array([index.get(name, position) for name, position
                  in zip(spec.table["rhs"].to_numpy()[rows], i, strict=True)], dtype=int)
    std_lv = np.full(len(values), np.nan)
    std_all = np.full(len(values), np.nan)
    std_lv[rows], std_all[rows] = _scale(ops[rows], i, j, values[rows], total_sd,
                                         residual_sd, latent_sd, latent_residual_sd)
    return _with_definitions(spec, std_lv), _with_definitions(spec, std_all)


def standardized_kind(spec: ModelSpec, ram: RamModel, theta: np.ndarray, kind: str,
                      intercepts: np.ndarray | None = None) -> np.ndarray:
    """One of lavaan's standardizations (rows,) of the rows of ``spec.table``: ``"std_lv"``,
    ``"std_all"`` or ``"std_nox"`` (std.all with the observed covariates in their own units:
    a regression on one is not multiplied by its SD, nor are its own moments divided)."""
    std_lv, std_all = standardized(spec, ram, theta, intercepts)
    if kind == "std_lv":
        return std_lv
    # lavaan's ov.x: every observed variable that only predicts, fixed.x or random.
    covariates = set(spec.observed_predictors)
    if kind == "std_all" or not covariates:
        return std_all
    a_matrix, s_matrix = ram.matrices(theta)
    b_matrix = ram.total_effects_inverse(a_matrix)
    total_sd = np.sqrt(np.clip(np.diag(b_matrix @ s_matrix @ b_matrix.T), 0, None))
    sd = {name: total_sd[ram.variables.index(name)] for name in covariates}
    factor = np.ones(len(std_all))
    for row, (lhs, op, rhs) in enumerate(spec.table[["lhs", "op", "rhs"]].itertuples(
            index=False)):
        if op == "~":
            factor[row] = 1 / sd.get(rhs, 1.0)
        elif op == "~~":
            factor[row] = sd.get(lhs, 1.0) * sd.get(rhs, 1.0)
        elif op == "~1":
            factor[row] = sd.get(lhs, 1.0)
    return _with_definitions(spec, std_all * factor)


def _scale(ops: np.ndarray, i: np.ndarray, j: np.ndarray, values: np.ndarray,
           total_sd: np.ndarray, residual_sd: np.ndarray, latent_sd: np.ndarray,
           latent_residual_sd: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(std_lv, std_all)`` of rows with operators ``ops``, left-hand variables ``i``,
    right-hand ``j`` (``i`` where the right-hand side is no variable) and ``values``."""
    std_lv, std_all = np.empty(len(values)), np.empty(len(values))
    loading, regression = ops == "=~", ops == "~"
    location = (ops == "~1") | (ops == "|")
    variance = ~(loading | regression | location) & (i == j)
    covariance = ~(loading | regression | location | variance)
    with np.errstate(divide="ignore", invalid="ignore"):
        # latent i -> indicator j (a latent one in a second-order model)
        k, a, v = i[loading], j[loading], values[loading]
        std_lv[loading] = v * latent_sd[k] / latent_sd[a]
        std_all[loading] = v * total_sd[k] / total_sd[a]
        k, a, v = i[regression], j[regression], values[regression]  # predictor a -> outcome k
        std_lv[regression] = v * latent_sd[a] / latent_sd[k]
        std_all[regression] = v * total_sd[a] / total_sd[k]
        k, v = i[location], values[location]
        std_lv[location], std_all[location] = v / latent_sd[k], v / total_sd[k]
        k, v = i[variance], values[variance]
        std_lv[variance], std_all[variance] = v / latent_sd[k] ** 2, v / total_sd[k] ** 2
        k, a, v = i[covariance], j[covariance], values[covariance]
        std_lv[covariance] = v / (latent_residual_sd[k] * latent_residual_sd[a])
        std_all[covariance] = v / (residual_sd[k] * residual_sd[a])
    return std_lv, std_all


def _with_definitions(spec: ModelSpec, values: np.ndarray) -> np.ndarray:
    """Fill ``:=`` rows by applying their expressions to the standardized labelled values."""
    from acsi_sem.statistics.defined import evaluate_definitions

    if not (spec.table["op"].to_numpy() == ":=").any():
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


def first_labels(table: pd.DataFrame, values: np.ndarray) -> dict[str, float]:
    """``{label: value}`` from each label's first row, given per-row ``values`` (rows,) of a
    (multi-group) ``table`` with ``label`` and ``op`` columns (lavaan's
    ``!duplicated(free)``): a label held equal across groups takes its first group's."""
    labels: dict[str, float] = {}
    for label, op, value in zip(table["label"], table["op"], values, strict=True):
        if label and op != ":=" and label not in labels:
            labels[label] = float(value)
    return labels


def standardized_frame(spec: ModelSpec, ram: RamModel, theta: np.ndarray) -> pd.DataFrame:
    """The table's ``lhs, op, rhs`` with ``std_lv`` and ``std_all`` columns."""
    std_lv, std_all = standardized(spec, ram, theta)
    frame = spec.table[["lhs", "op", "rhs"]].copy()
    frame["std_lv"], frame["std_all"] = std_lv, std_all
    return frame
