"""Modification indices: lavaan's ``modindices()`` for a single-group ML fit.

Each parameter the model leaves out (a cross-loading, a residual covariance, a regression
between constructs) gets the score test of freeing it alone (Sörbom 1989):

    MI = N g^2 / V,   EPC = g / V,   V = I_cc - I_cf I_ff^-1 I_fc

with ``g = tr(Sigma^-1 (S - Sigma) Sigma^-1 dSigma/dc) / 2`` the unit score of the candidate
``c`` at the estimates and ``I`` the expected unit information of ML,
``I_ab = tr(Sigma^-1 dSigma/da Sigma^-1 dSigma/db) / 2``. Candidates whose ``V`` is zero up to
rounding (they are not identified beside the model's parameters, e.g. a path the reverse of
one the model has) are left out, as lavaan leaves them out. The standardized EPCs scale the
EPC as lavaan's standardized solution scales the parameter: ``sepc.lv`` by the latent
variables' standard deviations, ``sepc.all`` by every variable's (residual variances for
covariances).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from acsi_sem.errors import AcsiSemError
from acsi_sem.model.ram import RamModel, build_ram
from acsi_sem.model.spec import ModelSpec
from acsi_sem.numerics.constrained import binding_basis, constrained_inverse, constraint_system

if TYPE_CHECKING:
    from acsi_sem.results import FitResult

COLUMNS = ["lhs", "op", "rhs", "mi", "epc", "sepc_lv", "sepc_all", "sepc_nox"]
TOLERANCE = np.finfo(float).eps ** (1 / 3)  # lavaan's bound on V


@dataclass(frozen=True)
class Candidate:
    """A parameter the model leaves out: its row and its RAM cell (``A`` for ``=~`` and
    ``~``, ``S`` for ``~~``)."""

    lhs: str
    op: str
    rhs: str
    matrix: str
    row: int
    col: int


def modification_indices(spec: ModelSpec, ram: RamModel, theta: np.ndarray,
                         sample_cov: np.ndarray, n_obs: int,
                         basis: np.ndarray | None = None) -> pd.DataFrame:
    """lavaan's ``modindices(fit, sort. = FALSE)`` columns (dots as underscores).

    Args:
        spec: the fitted specification (fixed.x values filled in).
        ram: its RAM form; theta: (q,) the ML estimates.
        sample_cov: (p, p) sample covariance with divisor N; n_obs: N.
        basis: (q, q - r) the directions the model's binding constraints leave free
            (:func:`~acsi_sem.numerics.constrained.binding_basis`), or None: the candidate's
            variance then accounts for the parameters only along those directions.

    Returns:
        One row per identified candidate in lavaan's order (loadings, covariances,
        regressions).
    """
    candidates = candidate_parameters(spec, ram)
    sigma = ram.implied_covariance(theta)
    inverse = np.linalg.inv(sigma)
    free = inverse @ ram.sigma_derivatives(theta)                 # (q, p, p)
    added = inverse @ _candidate_derivatives(ram, theta, candidates)  # (k, p, p)
    info_ff = 0.5 * np.einsum("aij,bji->ab", free, free)
    info_cf = 0.5 * np.einsum("aij,bji->ab", added, free)
    info_cc = 0.5 * np.einsum("aij,aji->a", added, added)
    variance = info_cc - np.einsum("ab,ab->a", info_cf,
                                   (constrained_inverse(info_ff, basis) @ info_cf.T).T)
    residual = inverse @ (sample_cov - sigma)
    score = 0.5 * np.einsum("ij,aji->a", residual, added)
    keep = variance >= TOLERANCE
    epc = score[keep] / variance[keep]
    chosen = [c for c, k in zip(candidates, keep, strict=True) if k]
    sepc_lv, sepc_all = _standardized(spec, ram, theta, chosen, epc)
    frame = pd.DataFrame({"lhs": [c.lhs for c in chosen], "op": [c.op for c in chosen],
                          "rhs": [c.rhs for c in chosen],
                          "mi": n_obs * score[keep] ** 2 / variance[keep], "epc": epc,
                          "sepc_lv": sepc_lv, "sepc_all": sepc_all})
    frame["sepc_nox"] = frame["sepc_all"]
    if spec.exogenous_covariates:
        frame["sepc_nox"] = np.nan  # lavaan's x-unstandardized variant: not yet
    return frame[COLUMNS]


def result_modification_indices(result: FitResult) -> pd.DataFrame:
    """:func:`modification_indices` of a fitted result, in lavaan's row order.

    Raises:
        AcsiSemError: the result is not a single-group ML fit of complete data.
    """
    if result.estimator != "ML" or result.groups is not None or (
            result.missing is not None and result.missing.get("method") == "fiml"):
        raise AcsiSemError(
            f"modification indices are available for single-group ML fits of complete data "
            f"(this fit: estimator {result.estimator}"
            f"{', groups' if result.groups is not None else ''}); refit with estimator='ml'")
    spec = result.spec
    if spec.has_modelled_means:
        raise AcsiSemError("modification indices of a model with modelled means (free latent "
                           "means, fixed intercepts, growth models) are not available yet")
    ram = build_ram(spec)
    theta = np.zeros(ram.n_free)
    free = spec.table["free"].to_numpy()
    rows = free > 0
    theta[free[rows] - 1] = result.parameters["est"].to_numpy()[rows]
    system = constraint_system(spec)
    basis = None if system is None else binding_basis(
        system, theta, result.constraints["binding"].to_numpy())
    return modification_indices(spec, ram, theta, result.sample_cov.to_numpy(), result.n_obs,
                                basis)


def candidate_parameters(spec: ModelSpec, ram: RamModel) -> list[Candidate]:
    """Every loading, covariance (observed pairs, then latent pairs) and regression between
    latent variables the model does not have or fixes, in lavaan's order (lavaan frees
    every fixed parameter; a freed marker loading is left out later, as not identified,
    unless a constraint fixes the factor's scale). A regression between latent variables
    that already covary is left out, as lavaan does."""
    table = spec.table
    kept = (table["free"] > 0) | (table["exo"] == 1)
    present = set(zip(table.loc[kept, "lhs"], table.loc[kept, "op"], table.loc[kept, "rhs"],
                      strict=True))
    present |= {(rhs, "~~", lhs) for lhs, op, rhs in present if op == "~~"}
    covary = {(lhs, rhs) for lhs, op, rhs in present if op == "~~"}
    position = {name: i for i, name in enumerate(ram.variables)}
    observed = [name for name in spec.observed if name not in spec.exogenous_covariates]
    latent = list(spec.latent)
    loadings = [Candidate(lv, "=~", ov, "A", position[ov], position[lv])
                for lv in latent for ov in observed if (lv, "=~", ov) not in present]
    covariances = [Candidate(names[i], "~~", names[j], "S", position[names[i]],
                             position[names[j]])
                   for names in (observed, latent)
                   for i in range(len(names)) for j in range(i + 1, len(names))
                   if (names[i], "~~", names[j]) not in present]
    regressions = [Candidate(lhs, "~", rhs, "A", position[lhs], position[rhs])
                   for lhs in latent for rhs in latent
                   if lhs != rhs and (lhs, "~", rhs) not in present
                   and (lhs, rhs) not in covary]
    return loadings + covariances + regressions


def _candidate_derivatives(ram: RamModel, theta: np.ndarray, candidates: list[Candidate]
                           ) -> np.ndarray:
    """(k, p, p) dSigma/dc of each candidate cell at ``theta``."""
    p = ram.n_observed
    a_matrix, s_matrix = ram.matrices(theta)
    b_matrix = ram.total_effects_inverse(a_matrix)
    c_matrix = b_matrix @ s_matrix @ b_matrix.T
    derivatives = np.zeros((len(candidates), p, p))
    for k, candidate in enumerate(candidates):
        i, j = candidate.row, candidate.col
        if candidate.matrix == "A":  # dC = B E_ij C + (B E_ij C)'
            part = np.outer(b_matrix[:p, i], c_matrix[j, :p])
        else:  # dC = B (E_ij + E_ji) B'
            part = np.outer(b_matrix[:p, i], b_matrix[:p, j])
        derivatives[k] = part + part.T
    return derivatives


def _standardized(spec: ModelSpec, ram: RamModel, theta: np.ndarray,
                  candidates: list[Candidate], epc: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray]:
    """EPCs scaled as lavaan's std.lv and std.all scale the parameter."""
    _, s_matrix = ram.matrices(theta)
    total_sd = np.sqrt(np.clip(np.diag(ram.full_covariance(theta)), 0, None))
    residual_sd = np.sqrt(np.clip(np.diag(s_matrix), 0, None))
    is_latent = np.array([name in spec.latent for name in ram.variables])
    lv_sd = np.where(is_latent, total_sd, 1.0)
    sepc_lv, sepc_all = np.empty(len(epc)), np.empty(len(epc))
    with np.errstate(divide="ignore", invalid="ignore"):
        for k, (candidate, value) in enumerate(zip(candidates, epc, strict=True)):
            i, j = candidate.row, candidate.col
            if candidate.matrix == "A":  # effect of j on i
                sepc_lv[k] = value * lv_sd[j] / lv_sd[i]
                sepc_all[k] = value * total_sd[j] / total_sd[i]
            else:
                scale = residual_sd[i] * residual_sd[j]
                sepc_lv[k] = value / scale if is_latent[i] else value
                sepc_all[k] = value / scale if scale > 0 else np.nan
    return sepc_lv, sepc_all
