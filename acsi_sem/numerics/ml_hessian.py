"""Analytic Hessians of the ML discrepancy, without and with a modelled mean structure.

Newton steps and the observed information (MLR's bread) once differenced the analytic
gradient: 2q gradients per Hessian, the bulk of a refit's time. Here the covariance part is
:func:`acsi_sem.numerics.batched.ml_hessian`; the mean structure adds, with
``P = Sigma^-1``, ``r = ybar - mu`` and ``F = F_cov(Sigma; S + r r')``:

    d2F/dk dl = H_cov(M)_kl + 2 (mu_l' P Sigma_k P r + mu_k' P Sigma_l P r)
                + 2 mu_k' P mu_l - 2 mu_kl' P r,

``H_cov(M)`` the covariance Hessian with the second moments ``M = S + r r'`` held fixed,
``Sigma_k``, ``mu_k`` the first and ``mu_kl`` the second derivatives of the implied
moments (``mu = (B m)`` observed, ``B = (I - A)^-1``).
"""

from __future__ import annotations

import numpy as np

from acsi_sem.model.ram import RamModel
from acsi_sem.numerics.batched import BatchedRam, ml_hessian


def observed_hessian(ram: RamModel, theta: np.ndarray, sample_cov: np.ndarray) -> np.ndarray:
    """(q, q) Hessian of F_ML at ``theta`` (q,) for ``sample_cov`` (p, p)."""
    return ml_hessian(BatchedRam.of(ram), theta[None], sample_cov[None])[0]


def observed_mean_hessian(ram: RamModel, theta: np.ndarray, sample_cov: np.ndarray,
                          sample_means: np.ndarray) -> np.ndarray:
    """(q, q) Hessian of the mean-structure discrepancy of
    :func:`acsi_sem.numerics.ml.ml_mean_discrepancy` at ``theta`` (q,); ``ram`` places the
    means, ``sample_cov`` (p, p) has divisor N, ``sample_means`` is (p,)."""
    p = ram.n_observed
    a_matrix, s_matrix = ram.matrices(theta)
    b_matrix = ram.total_effects_inverse(a_matrix)
    precision = np.linalg.inv((b_matrix @ s_matrix @ b_matrix.T)[:p, :p])
    full_mean = ram.full_mean(theta)
    residual = sample_means - full_mean[:p]
    weighted = precision @ residual
    moments = sample_cov + np.outer(residual, residual)
    hessian = observed_hessian(ram, theta, moments)
    mean_derivatives = ram.mean_derivatives(theta)  # (q, p)
    projected = mean_derivatives @ precision  # row l: mu_l' P
    crossed = projected @ (ram.sigma_derivatives(theta) @ weighted).T  # [l, k]
    hessian += 2 * (crossed + crossed.T) + 2 * projected @ mean_derivatives.T
    # w_x = b_x' P r for every variable x, b_x the observed part of B's column x.
    hessian -= 2 * _mean_curvature(ram, b_matrix, full_mean, b_matrix[:p].T @ weighted)
    return hessian


def _mean_curvature(ram: RamModel, b_matrix: np.ndarray, full_mean: np.ndarray,
                    weights: np.ndarray) -> np.ndarray:
    """(q, q) ``mu_kl' P r`` from ``B`` (m, m), the means ``B m`` (m,) and ``weights`` (m,)
    ``w_x = b_x' P r``.

    For path cells ``(i, j)``, ``(k, l)``: ``d2(B m) = B E_kl B E_ij B m + B E_ij B E_kl B m``,
    so the term is ``T + T'`` with ``T = nu_j B_li w_k``, ``nu = B m``; a path cell and a mean
    cell ``k``: ``w_i B_jk``; two mean cells, or any variance cell: 0.
    """
    free_a, free_m = ram.a_free >= 0, ram.m_free >= 0
    rows, cols = ram.a_rows[free_a], ram.a_cols[free_a]
    paths = full_mean[cols][:, None] * b_matrix[cols[None, :], rows[:, None]] * weights[rows]
    mixed = weights[rows][:, None] * b_matrix[cols[:, None], ram.m_rows[free_m][None, :]]
    path_scatter = _scatter(ram.a_free[free_a], ram.n_free)
    mean_scatter = _scatter(ram.m_free[free_m], ram.n_free)
    between = path_scatter.T @ mixed @ mean_scatter
    return path_scatter.T @ (paths + paths.T) @ path_scatter + between + between.T


def _scatter(free: np.ndarray, q: int) -> np.ndarray:
    """(cells, q): 1 where cell c is parameter j."""
    scatter = np.zeros((len(free), q))
    scatter[np.arange(len(free)), free] = 1.0
    return scatter
