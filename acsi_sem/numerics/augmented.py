"""A mean structure written as a covariance structure (McArdle's constant), so that the
covariance-only batched ML iterations fit growth and latent-mean models too.

A constant variable ``1`` with second moment 1 joins the observed variables, and every
intercept or latent mean becomes a path from it. The model's second moments are then
``Sigma* = [[Sigma + mu mu', mu], [mu', 1]]``, the sample's ``S* = [[S + m m', m], [m', 1]]``,
and since ``|Sigma*| = |Sigma|`` and ``tr(S* Sigma*^-1) = tr(S Sigma^-1) + (m - mu)'
Sigma^-1 (m - mu) + 1``, the ML discrepancy of ``S*`` and ``Sigma*`` is the mean-structure
discrepancy ``F + (m - mu)' Sigma^-1 (m - mu)`` exactly: the same function of the same
parameters, with the same minimum.
"""

from __future__ import annotations

import numpy as np

from acsi_sem.model.ram import RamModel

CONSTANT = "(1)"


def augmented_ram(ram: RamModel) -> RamModel:
    """``ram`` (which places the means) with the constant as its last observed variable,
    the means as paths from it and no mean cells; the free parameters are unchanged."""
    p = ram.n_observed
    constant = p

    def shifted(cells: np.ndarray) -> np.ndarray:
        return np.where(cells >= p, cells + 1, cells)

    variables = (*ram.variables[:p], CONSTANT, *ram.variables[p:])
    return RamModel(
        variables=variables, n_observed=p + 1, n_free=ram.n_free,
        a_rows=np.concatenate([shifted(ram.a_rows), shifted(ram.m_rows)]),
        a_cols=np.concatenate([shifted(ram.a_cols), np.full(len(ram.m_rows), constant)]),
        a_free=np.concatenate([ram.a_free, ram.m_free]),
        a_fixed=np.concatenate([ram.a_fixed, ram.m_fixed]),
        s_rows=np.append(shifted(ram.s_rows), constant),
        s_cols=np.append(shifted(ram.s_cols), constant),
        s_free=np.append(ram.s_free, -1), s_fixed=np.append(ram.s_fixed, 1.0))


def augmented_moments(means: np.ndarray, covariances: np.ndarray) -> np.ndarray:
    """``S*`` (b, p + 1, p + 1) of b samples' means (b, p) and covariances (b, p, p),
    divisor N."""
    count, p = means.shape
    moments = np.empty((count, p + 1, p + 1))
    moments[:, :p, :p] = covariances + means[:, :, None] * means[:, None, :]
    moments[:, :p, p] = moments[:, p, :p] = means
    moments[:, p, p] = 1.0
    return moments
