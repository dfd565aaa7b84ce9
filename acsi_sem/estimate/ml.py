"""The normal-theory maximum likelihood discrepancy, its gradient and Fisher information.

``F(theta) = log|Sigma| + tr(S Sigma^-1) - log|S| - p`` with ``S`` the sample covariance
divided by N, as lavaan uses for ``likelihood = "normal"``; the chi-square is ``N F``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from acsi_sem.ram import RamModel


@dataclass(frozen=True)
class Discrepancy:
    """ML discrepancy at one parameter vector.

    Attributes:
        value: F (dimensionless), ``inf`` where Sigma is not positive definite.
        gradient: (q,) dF/dtheta.
        information: (q, q) expected Hessian of F, ``tr(Sigma^-1 dSigma_k Sigma^-1 dSigma_l)``;
            the unit expected information is half of it.
    """

    value: float
    gradient: np.ndarray
    information: np.ndarray


def ml_value(sigma: np.ndarray, sample_cov: np.ndarray) -> float:
    """F_ML for a model-implied ``sigma`` (p, p) and sample covariance (p, p)."""
    sign, logdet_sigma = np.linalg.slogdet(sigma)
    if sign <= 0:
        return np.inf
    _, logdet_sample = np.linalg.slogdet(sample_cov)
    trace = np.trace(np.linalg.solve(sigma, sample_cov))
    return float(logdet_sigma + trace - logdet_sample - len(sigma))


def ml_discrepancy(ram: RamModel, theta: np.ndarray, sample_cov: np.ndarray) -> Discrepancy:
    """F_ML, its gradient and expected information at ``theta`` (q,)."""
    sigma = ram.implied_covariance(theta)
    value = ml_value(sigma, sample_cov)
    q = ram.n_free
    if not np.isfinite(value):
        return Discrepancy(value, np.full(q, np.nan), np.full((q, q), np.nan))
    sigma_inv = np.linalg.inv(sigma)
    derivatives = ram.sigma_derivatives(theta)
    weight = sigma_inv - sigma_inv @ sample_cov @ sigma_inv
    gradient = np.einsum("ij,kij->k", weight, derivatives)
    scaled = np.einsum("ij,kjl->kil", sigma_inv, derivatives)
    information = np.einsum("kij,lji->kl", scaled, scaled)
    return Discrepancy(value, gradient, information)


@dataclass(frozen=True)
class ScoringResult:
    """Outcome of Fisher scoring: the estimate and whether the gradient vanished."""

    theta: np.ndarray
    value: float
    gradient: np.ndarray
    iterations: int
    converged: bool


def fisher_scoring(ram: RamModel, theta: np.ndarray, sample_cov: np.ndarray, *,
                   max_iterations: int = 200, tolerance: float = 1e-9) -> ScoringResult:
    """Minimise F_ML by Fisher scoring with step halving, from ``theta`` (q,).

    Converged means the largest absolute gradient element fell below ``tolerance``.
    """
    current = ml_discrepancy(ram, theta, sample_cov)
    for iteration in range(max_iterations):
        if np.max(np.abs(current.gradient), initial=0.0) < tolerance:
            return ScoringResult(theta, current.value, current.gradient, iteration, True)
        step = np.linalg.lstsq(current.information, current.gradient, rcond=None)[0]
        for _ in range(30):
            candidate = theta - step
            value = ml_value(ram.implied_covariance(candidate), sample_cov)
            if value <= current.value + 1e-12:
                break
            step = step / 2
        else:
            break
        theta = candidate
        current = ml_discrepancy(ram, theta, sample_cov)
    converged = bool(np.max(np.abs(current.gradient), initial=0.0) < 1e-5)
    return ScoringResult(theta, current.value, current.gradient, max_iterations, converged)
