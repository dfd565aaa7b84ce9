"""The RAM (reticular action model) form of a specification.

Every variable, observed or latent, is one row of two matrices:

* ``A`` (m, m): directed paths, ``A[i, j]`` is the effect of variable j on variable i
  (loadings and regressions);
* ``S`` (m, m): symmetric (residual) variances and covariances.

With ``B = (I - A)^-1`` the covariance of all variables is ``C = B S B'`` and the
model-implied covariance of the observed ones is its top-left (p, p) block ``Sigma``
(McArdle & McDonald 1984). Observed variables come first, in ``spec.observed`` order.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from acsi_sem.model.spec import ModelSpec


@dataclass(frozen=True)
class RamModel:
    """Where each parameter of a specification sits in the RAM matrices.

    Attributes:
        variables: observed variables first, then latent ones; length m.
        n_observed: p, the number of observed variables.
        n_free: q, the number of distinct free parameters.
        a_rows, a_cols: (k_a,) cell positions of directed paths.
        a_free: (k_a,) 0-based free-parameter index of each path, -1 where fixed.
        a_fixed: (k_a,) value of the fixed paths (ignored where free).
        s_rows, s_cols, s_free, s_fixed: the same for the symmetric cells (one per pair).
        m_rows, m_free, m_fixed: the same for intercepts and latent means (empty without a
            modelled mean structure).
    """

    variables: tuple[str, ...]
    n_observed: int
    n_free: int
    a_rows: np.ndarray
    a_cols: np.ndarray
    a_free: np.ndarray
    a_fixed: np.ndarray
    s_rows: np.ndarray
    s_cols: np.ndarray
    s_free: np.ndarray
    s_fixed: np.ndarray
    m_rows: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=int))
    m_free: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=int))
    m_fixed: np.ndarray = field(default_factory=lambda: np.zeros(0))

    @property
    def observed(self) -> tuple[str, ...]:
        """The p observed variables, in the order of Sigma's rows."""
        return self.variables[: self.n_observed]

    def matrices(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(A, S)``, each (m, m), at the free parameter vector ``theta`` (q,)."""
        size = len(self.variables)
        a_values = _gather(theta, self.a_free, self.a_fixed)
        s_values = _gather(theta, self.s_free, self.s_fixed)
        a_matrix = np.zeros((size, size))
        a_matrix[self.a_rows, self.a_cols] = a_values
        s_matrix = np.zeros((size, size))
        s_matrix[self.s_rows, self.s_cols] = s_values
        s_matrix[self.s_cols, self.s_rows] = s_values
        return a_matrix, s_matrix

    def total_effects_inverse(self, a_matrix: np.ndarray) -> np.ndarray:
        """``B = (I - A)^-1``, (m, m)."""
        return np.linalg.inv(np.eye(len(self.variables)) - a_matrix)

    def full_covariance(self, theta: np.ndarray) -> np.ndarray:
        """``C = B S B'``, (m, m): covariance of all variables, latent ones included."""
        a_matrix, s_matrix = self.matrices(theta)
        b_matrix = self.total_effects_inverse(a_matrix)
        return b_matrix @ s_matrix @ b_matrix.T

    def implied_covariance(self, theta: np.ndarray) -> np.ndarray:
        """``Sigma``, (p, p): the model-implied covariance of the observed variables."""
        p = self.n_observed
        return self.full_covariance(theta)[:p, :p]

    def full_mean(self, theta: np.ndarray) -> np.ndarray:
        """``B m``, (m,): means of all variables, latent ones included, with m the
        intercepts and latent means."""
        a_matrix, _ = self.matrices(theta)
        return self.total_effects_inverse(a_matrix) @ self._mean_vector(theta)

    def implied_mean(self, theta: np.ndarray) -> np.ndarray:
        """``mu``, (p,): model-implied means of the observed variables, ``(B m)`` observed
        block."""
        return self.full_mean(theta)[: self.n_observed]

    def mean_derivatives(self, theta: np.ndarray) -> np.ndarray:
        """``dmu / dtheta``, (q, p)."""
        p = self.n_observed
        a_matrix, _ = self.matrices(theta)
        b_matrix = self.total_effects_inverse(a_matrix)
        full_mean = b_matrix @ self._mean_vector(theta)
        derivatives = np.zeros((self.n_free, p))
        free_a = self.a_free >= 0
        # d(B m)/dA_ij = B E_ij B m: column i of B times the mean of variable j.
        _accumulate(derivatives, self.a_free[free_a],
                  b_matrix[:p, self.a_rows[free_a]].T * full_mean[self.a_cols[free_a], None])
        free_m = self.m_free >= 0
        _accumulate(derivatives, self.m_free[free_m], b_matrix[:p, self.m_rows[free_m]].T)
        return derivatives

    def _mean_vector(self, theta: np.ndarray) -> np.ndarray:
        vector = np.zeros(len(self.variables))
        vector[self.m_rows] = _gather(theta, self.m_free, self.m_fixed)
        return vector

    def sigma_derivatives(self, theta: np.ndarray) -> np.ndarray:
        """``dSigma / dtheta``, (q, p, p): one symmetric matrix per free parameter."""
        p = self.n_observed
        a_matrix, s_matrix = self.matrices(theta)
        b_matrix = self.total_effects_inverse(a_matrix)
        c_matrix = b_matrix @ s_matrix @ b_matrix.T
        derivatives = np.zeros((self.n_free, p, p))
        free_a = self.a_free >= 0
        # dC/dA_ij = B E_ij C + (B E_ij C)'; only the observed block is kept.
        u = b_matrix[:p, self.a_rows[free_a]].T
        v = c_matrix[self.a_cols[free_a], :p]
        _accumulate(derivatives, self.a_free[free_a], u[:, :, None] * v[:, None, :])
        free_s = self.s_free >= 0
        # dC/dS_ij = B (E_ij + E_ji) B', halved on the diagonal because it is one cell.
        u = b_matrix[:p, self.s_rows[free_s]].T
        v = b_matrix[:p, self.s_cols[free_s]].T
        half = np.where(self.s_rows[free_s] == self.s_cols[free_s], 0.5, 1.0)
        _accumulate(derivatives, self.s_free[free_s],
                  half[:, None, None] * u[:, :, None] * v[:, None, :])
        return derivatives + derivatives.transpose(0, 2, 1)


def build_ram(spec: ModelSpec, fixed_values: dict[int, float] | None = None, *,
              means: bool = False) -> RamModel:
    """Place the ``=~``, ``~`` and ``~~`` rows of ``spec`` into RAM cells.

    Args:
        spec: the model specification.
        fixed_values: values for fixed rows whose ``ustart`` is missing (the fixed.x
            covariates), keyed by the row's position in ``spec.table``.
        means: also place the ``~1`` rows, so that the intercepts are parameters of the
            model (FIML) rather than the saturated sample means.
    """
    variables = tuple(spec.observed) + tuple(spec.latent)
    index = {name: i for i, name in enumerate(variables)}
    table = spec.table
    fixed = table["ustart"].to_numpy(dtype=float).copy()
    for position, value in (fixed_values or {}).items():
        fixed[position] = value
    free = table["free"].to_numpy() - 1
    ops = table["op"].to_numpy()
    directed = np.flatnonzero((ops == "=~") | (ops == "~"))
    symmetric = np.flatnonzero(ops == "~~")
    # lhs =~ rhs puts the path lhs -> rhs in A[rhs, lhs]; y ~ x puts x -> y in A[y, x].
    targets = np.where(ops[directed] == "=~", table["rhs"].to_numpy()[directed],
                       table["lhs"].to_numpy()[directed])
    sources = np.where(ops[directed] == "=~", table["lhs"].to_numpy()[directed],
                       table["rhs"].to_numpy()[directed])
    intercepts = np.flatnonzero(ops == "~1") if means else np.zeros(0, dtype=int)
    return RamModel(
        variables=variables, n_observed=len(spec.observed),
        n_free=spec.n_free if means else spec.n_covariance_free,
        a_rows=_positions(targets, index), a_cols=_positions(sources, index),
        a_free=free[directed], a_fixed=np.nan_to_num(fixed[directed]),
        s_rows=_positions(table["lhs"].to_numpy()[symmetric], index),
        s_cols=_positions(table["rhs"].to_numpy()[symmetric], index),
        s_free=free[symmetric], s_fixed=np.nan_to_num(fixed[symmetric]),
        m_rows=_positions(table["lhs"].to_numpy()[intercepts], index),
        m_free=free[intercepts], m_fixed=np.nan_to_num(fixed[intercepts]),
    )


def _accumulate(target: np.ndarray, index: np.ndarray, values: np.ndarray) -> None:
    """``target[index] += values``, adding up repeated indices (parameters shared by a
    label); plain indexing where none repeats, which is much faster than ``np.add.at``."""
    if len(np.unique(index)) == len(index):
        target[index] += values
    else:
        np.add.at(target, index, values)


def _gather(theta: np.ndarray, free: np.ndarray, fixed: np.ndarray) -> np.ndarray:
    """Cell values: ``theta[free]`` where a cell is free (free >= 0), else the fixed value."""
    values = fixed.copy()
    mask = free >= 0
    values[mask] = theta[free[mask]]
    return values


def _positions(names: np.ndarray, index: dict[str, int]) -> np.ndarray:
    return np.array([index[name] for name in names], dtype=int)


def as_frame(matrix: np.ndarray, names: tuple[str, ...]) -> pd.DataFrame:
    """Label a square matrix with variable names."""
    return pd.DataFrame(matrix, index=list(names), columns=list(names))
