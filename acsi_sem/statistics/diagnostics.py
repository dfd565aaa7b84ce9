"""Improper solutions, said out loud: each check returns sentences naming the parameter.

Checked: negative variances (Heywood cases), standardized values beyond 1 in absolute value,
covariance matrices that are not positive definite (latent variables, residuals, implied),
and an information matrix that cannot be inverted (empirical under-identification).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from acsi_sem.model.ram import RamModel
from acsi_sem.model.spec import ModelSpec

_TOLERANCE = 1e-8
# Latent correlations beyond this leave the data unable to separate the two constructs.
COLLINEAR_CORRELATION = 0.95


def improper_solution_warnings(parameters: pd.DataFrame, ram: RamModel, theta: np.ndarray
                               ) -> list[str]:
    """Warnings about the estimates in ``parameters`` (lavaan columns, incl. ``std_all``)."""
    return (_negative_variances(parameters) + standardized_beyond_one(parameters)
            + _not_positive_definite(ram, theta) + _near_collinear_latents(ram, theta))


def _negative_variances(parameters: pd.DataFrame) -> list[str]:
    op, lhs, rhs = (parameters[name].to_numpy() for name in ("op", "lhs", "rhs"))
    est = parameters["est"].to_numpy()
    negative = (op == "~~") & (lhs == rhs) & (est < 0)
    return [f"improper solution: negative variance {lhs[i]} {op[i]} {rhs[i]} = {est[i]:.4g} "
            "(a Heywood case)" for i in np.flatnonzero(negative)]


def standardized_beyond_one(parameters: pd.DataFrame) -> list[str]:
    op, lhs, rhs = (parameters[name].to_numpy() for name in ("op", "lhs", "rhs"))
    candidates = np.isin(op, ["=~", "~", "~~"]) & ~((op == "~~") & (lhs == rhs))
    std_all = parameters["std_all"].to_numpy(dtype=float)
    with np.errstate(invalid="ignore"):
        large = np.abs(std_all) > 1 + _TOLERANCE
    return [f"improper solution: standardized value of {lhs[i]} {op[i]} {rhs[i]} is "
            f"{std_all[i]:.3f}, beyond 1 in absolute value"
            for i in np.flatnonzero(candidates & large)]


def _not_positive_definite(ram: RamModel, theta: np.ndarray) -> list[str]:
    p = ram.n_observed
    _, s_matrix = ram.matrices(theta)
    full = ram.full_covariance(theta)
    latent = list(ram.variables[p:])
    messages = []
    checks = [("the covariance matrix of the latent variables", full[p:, p:], latent, 0.0),
              ("the residual covariance matrix of the latent variables (Psi)",
               s_matrix[p:, p:], latent, 0.0),
              ("the residual covariance matrix of the observed variables (Theta)",
               s_matrix[:p, :p], list(ram.observed), -_TOLERANCE),
              ("the model-implied covariance matrix (Sigma)", full[:p, :p],
               list(ram.observed), 0.0)]
    for title, matrix, names, floor in checks:
        if not len(matrix):
            continue
        values = np.linalg.eigvalsh(matrix)  # the vectors only to name a flagged one's
        scale = max(abs(values).max(), 1.0)
        limit = floor * scale if floor else _TOLERANCE * scale
        if values[0] < limit:
            values, vectors = np.linalg.eigh(matrix)
            involved = [names[i] for i in np.flatnonzero(np.abs(vectors[:, 0]) > 0.2)]
            messages.append(f"improper solution: {title} is not positive definite "
                            f"(smallest eigenvalue {values[0]:.3g}; involves "
                            f"{', '.join(involved)})")
    return messages


def _near_collinear_latents(ram: RamModel, theta: np.ndarray) -> list[str]:
    p = ram.n_observed
    covariance = ram.full_covariance(theta)[p:, p:]
    variances = np.diag(covariance)
    # A latent with a variance at or below 0 has no correlation to report: its negative
    # variance is named already, and a division by it printed values such as -1e150.
    proper = variances > _TOLERANCE * max(abs(variances).max(initial=0.0), 1.0)
    sd = np.sqrt(np.where(proper, variances, 1.0))
    correlation = covariance / np.outer(sd, sd)
    latent = ram.variables[p:]
    rows, cols = np.triu_indices(len(latent), k=1)
    return [f"near-collinear latent variables: {latent[i]} and {latent[j]} correlate "
            f"{correlation[i, j]:.3f}; the data can hardly tell them apart, so paths from "
            "both are unstable (check discriminant validity)"
            for i, j in zip(rows, cols, strict=True)
            if proper[i] and proper[j] and abs(correlation[i, j]) > COLLINEAR_CORRELATION]


def singular_information_warning(spec: ModelSpec, information: np.ndarray, *,
                                 names: list[str] | None = None) -> str:
    """Name the parameters along the information matrix's null direction (``names``: the
    free parameters' names, by default from ``spec``)."""
    values, vectors = np.linalg.eigh(information)
    if names is None:
        names = list(spec.free_parameter_names)
    involved = [names[int(i)] for i in np.flatnonzero(np.abs(vectors[:, 0]) > 0.1)]
    return ("standard errors could not be computed: the information matrix is singular "
            f"(smallest eigenvalue {values[0]:.2g}), a sign that the model is not identified "
            f"empirically; parameters involved: {', '.join(involved)}")
