"""The normal-theory maximum likelihood discrepancy, its gradient and Fisher information.

``F(theta) = log|Sigma| + tr(S Sigma^-1) - log|S| - p`` with ``S`` the sample covariance
divided by N, as lavaan uses for ``likelihood = "normal"``; the chi-square is ``N F``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from acsi_sem.model.ram import RamModel
from acsi_sem.numerics.ml_hessian import observed_hessian


@dataclass(frozen=True)
class Discrepancy:
    """ML discrepancy at one parameter vector.

    Attributes:
        value: F (dimensionless), ``inf`` where Sigma is not positive definite.
        gradient: (q,) dF/dtheta.
        information: (q, q) expected Hessian of F, ``tr(Sigma^-1 dSigma_k Sigma^-1 dSigma_l)``;
            the unit expected information is half of it. ``None`` where not asked for.
    """

    value: float
    gradient: np.ndarray
    information: np.ndarray | None


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
    if not np.isfinite(value):
        q = ram.n_free
        return Discrepancy(value, np.full(q, np.nan), np.full((q, q), np.nan))
    gradient, information = _covariance_terms(np.linalg.inv(sigma), ram.sigma_derivatives(theta),
                                              sample_cov, with_information=True)
    return Discrepancy(value, gradient, information)


def ml_gradient(ram: RamModel, theta: np.ndarray, sample_cov: np.ndarray) -> np.ndarray:
    """dF/dtheta (q,) alone, without the information matrix."""
    sigma_inv = np.linalg.inv(ram.implied_covariance(theta))
    return _covariance_terms(sigma_inv, ram.sigma_derivatives(theta), sample_cov,
                             with_information=False)[0]


def _covariance_terms(sigma_inv: np.ndarray, derivatives: np.ndarray, moments: np.ndarray, *,
                      with_information: bool) -> tuple[np.ndarray, np.ndarray | None]:
    """The covariance part of dF/dtheta (q,) for second moments ``moments`` (p, p), and of
    the expected information (q, q) if asked for."""
    weight = sigma_inv - sigma_inv @ moments @ sigma_inv
    gradient = np.einsum("ij,kij->k", weight, derivatives)
    if not with_information:
        return gradient, None
    q, p = len(derivatives), len(sigma_inv)
    scaled = (sigma_inv @ derivatives).reshape(q, p * p)
    transposed = (derivatives @ sigma_inv).reshape(q, p * p)
    # tr(A_k A_l) with A_k = Sigma^-1 dSigma_k equals <A_k, A_l'>, and A_l' = dSigma_l Sigma^-1.
    return gradient, scaled @ transposed.T


def ml_mean_discrepancy(ram: RamModel, theta: np.ndarray, sample_cov: np.ndarray,
                        sample_means: np.ndarray, *, with_information: bool = True
                        ) -> Discrepancy:
    """F_ML with a modelled mean structure, ``F + (ybar - mu)' Sigma^-1 (ybar - mu)``, its
    gradient and (if asked for) expected information at ``theta`` (q,); ``ram`` must place
    the means.

    Args:
        sample_cov: (p, p) covariance with divisor N.
        sample_means: (p,) means.
    """
    sigma = ram.implied_covariance(theta)
    value = ml_value(sigma, sample_cov)
    q = ram.n_free
    if not np.isfinite(value):
        return Discrepancy(value, np.full(q, np.nan), np.full((q, q), np.nan))
    sigma_inv = np.linalg.inv(sigma)
    residual = sample_means - ram.implied_mean(theta)
    weighted_residual = sigma_inv @ residual
    mean_derivatives = ram.mean_derivatives(theta)
    gradient, information = _covariance_terms(
        sigma_inv, ram.sigma_derivatives(theta), sample_cov + np.outer(residual, residual),
        with_information=with_information)
    gradient = gradient - 2 * mean_derivatives @ weighted_residual
    if information is not None:
        information = information + 2 * mean_derivatives @ sigma_inv @ mean_derivatives.T
    return Discrepancy(value + float(residual @ weighted_residual), gradient, information)


def hessian_from_gradient(gradient: Callable[[np.ndarray], np.ndarray], theta: np.ndarray,
                          relative_step: float = 1e-5) -> np.ndarray:
    """(q, q) symmetrized Jacobian of an analytic ``gradient`` (q,) -> (q,) at ``theta``, by
    central differences with steps ``relative_step * max(1, |theta_k|)``."""
    q = len(theta)
    hessian = np.empty((q, q))
    for index in range(q):
        step = relative_step * max(1.0, abs(theta[index]))
        up, down = theta.copy(), theta.copy()
        up[index] += step
        down[index] -= step
        hessian[:, index] = (gradient(up) - gradient(down)) / (2 * step)
    return (hessian + hessian.T) / 2


NEWTON_BELOW = 1e-2
# A bootstrap refit whose largest gradient element grows this many times beyond its value at
# the full-sample estimate is heading for the boundary, where no optimum lies; on ECSI/mobi
# (an improper solution) every replicate that converged did so below 300 times.
REFIT_RUNAWAY = 1e3


@dataclass(frozen=True)
class ScoringResult:
    """Outcome of the optimisation: the estimate, whether the gradient vanished, and the
    expected information (q, q; twice the unit information) there."""

    theta: np.ndarray
    value: float
    gradient: np.ndarray
    iterations: int
    converged: bool
    information: np.ndarray | None = None


def minimize_ml(ram: RamModel, theta: np.ndarray, sample_cov: np.ndarray, *,
                max_iterations: int = 200, tolerance: float = 1e-9,
                runaway: float = np.inf) -> ScoringResult:
    """Minimise F_ML from ``theta`` (q,); see :func:`minimize_scoring`. Its Newton steps use
    the analytic Hessian (differencing the gradient costs 2q gradients per step)."""
    return minimize_scoring(
        lambda t: ml_discrepancy(ram, t, sample_cov),
        lambda t: ml_gradient(ram, t, sample_cov),
        lambda t: ml_value(ram.implied_covariance(t), sample_cov),
        theta, max_iterations=max_iterations, tolerance=tolerance,
        hessian=lambda t: observed_hessian(ram, t, sample_cov), runaway=runaway)


def minimize_scoring(evaluate: Callable[[np.ndarray], Discrepancy],
                     gradient: Callable[[np.ndarray], np.ndarray],
                     value: Callable[[np.ndarray], float], theta: np.ndarray, *,
                     max_iterations: int = 200, tolerance: float = 1e-9,
                     hessian: Callable[[np.ndarray], np.ndarray] | None = None,
                     runaway: float = np.inf) -> ScoringResult:
    """Minimise a discrepancy from ``theta`` (q,) with step halving: Fisher scoring far from
    the optimum, Newton steps on the observed Hessian near it (Fisher scoring alone converges
    only linearly where the model misfits or latent variables are nearly collinear).

    Args:
        evaluate: the discrepancy with its gradient and expected information at theta.
        gradient: the gradient alone (q,), differenced for the observed Hessian unless
            ``hessian`` gives it (q, q).
        value: the discrepancy alone, ``inf`` where the model is not admissible.
        runaway: stop (not converged) once the largest gradient element exceeds this many
            times its value at ``theta``.

    Converged means the largest absolute gradient element fell below ``tolerance``.
    """
    current = evaluate(theta)
    if not np.isfinite(current.value):  # e.g. a singular sample covariance: no minimum
        return ScoringResult(theta, current.value, current.gradient, 0, False,
                             current.information)
    limit = runaway * np.max(np.abs(current.gradient), initial=0.0)
    for iteration in range(max_iterations):
        largest = np.max(np.abs(current.gradient), initial=0.0)
        if largest < tolerance:
            return ScoringResult(theta, current.value, current.gradient, iteration, True,
                                 current.information)
        if largest > limit:
            break
        step = _newton_step(hessian or (lambda t: hessian_from_gradient(gradient, t)), theta,
                            current) if largest < NEWTON_BELOW else None
        if step is None:
            step = np.linalg.lstsq(current.information, current.gradient, rcond=None)[0]
        candidate = halve_until_better(value, theta, step, current.value)
        if candidate is None:
            break
        theta = candidate
        current = evaluate(theta)
    converged = bool(np.max(np.abs(current.gradient), initial=0.0) < 1e-5)
    return ScoringResult(theta, current.value, current.gradient, max_iterations, converged,
                         current.information)


def _newton_step(observed_hessian: Callable[[np.ndarray], np.ndarray], theta: np.ndarray,
                 current: Discrepancy) -> np.ndarray | None:
    hessian = observed_hessian(theta)
    try:
        np.linalg.cholesky(hessian)
    except np.linalg.LinAlgError:
        return None
    return np.linalg.solve(hessian, current.gradient)


def halve_until_better(value: Callable[[np.ndarray], float], theta: np.ndarray,
                       step: np.ndarray, current: float) -> np.ndarray | None:
    """``theta - step``, the step halved (up to 30 times) until ``value`` is no worse than
    ``current``; ``None`` if no such step exists."""
    for _ in range(30):
        candidate = theta - step
        if value(candidate) <= current + 1e-12:
            return candidate
        step = step / 2
    return None
