"""Least-squares estimators of the covariance structure: lavaan's GLS, ULS, DWLS and WLS for
continuous answers.

Each minimizes ``F = (s - sigma)' W (s - sigma)`` over ``s = vech(S)`` and ``sigma =
vech(Sigma(theta))``, with lavaan's conventions for these estimators: ``S`` divided by N - 1,
the test ``(N - 1) F``, and standard errors from ``((N - 1) Delta' W Delta)^-1`` with
``Delta = d sigma / d theta`` (lavaan's ``se = "standard"``, ``information = "expected"``).
The weights:

* GLS: ``W = (1/2) D' (S^-1 (x) S^-1) D``, normal theory (Browne 1974); its standard errors
  are valid for normal answers;
* ULS: ``W = I``; lavaan's standard errors then assume ``W`` is the inverse of the moments'
  covariance, which it is not, so they are only a rough guide (use the bootstrap);
* WLS (ADF): ``W = Gamma^-1`` with ``Gamma`` the (p*, p*) covariance of the respondents'
  cross-products, free of any distributional assumption but hungry for respondents;
* DWLS: ``W = diag(Gamma)^-1``, WLS's diagonal.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from acsi_sem.model.ram import RamModel, build_ram
from acsi_sem.model.spec import ModelSpec
from acsi_sem.numerics.cbsem import CbsemSolution, fill_fixed_x, fit_ml, invert_information
from acsi_sem.numerics.constrained import constraint_system, minimize_constrained
from acsi_sem.numerics.ml import Discrepancy, minimize_scoring
from acsi_sem.survey.prepare import PreparedData

WLS_ESTIMATORS = ("gls", "uls", "dwls", "wls")


@dataclass(frozen=True)
class MomentWeights:
    """The estimator's weight matrix and the moments it weights.

    Attributes:
        estimator: one of :data:`WLS_ESTIMATORS`.
        sample_cov: (p, p) sample covariance with divisor N - 1.
        weight: (p*, p*) W, p* = p (p + 1) / 2, over ``vech`` in row-major upper order.
        n_obs: N.
    """

    estimator: str
    sample_cov: np.ndarray
    weight: np.ndarray
    n_obs: int

    @property
    def moments(self) -> np.ndarray:
        """(p*,) ``vech(S)``."""
        return vech(self.sample_cov)

    @property
    def multiplier(self) -> int:
        """N - 1: the test is ``(N - 1) F`` and the information ``(N - 1) Delta' W Delta``."""
        return self.n_obs - 1


def vech(matrix: np.ndarray) -> np.ndarray:
    """The (p*,) upper triangle of a symmetric (p, p) matrix, row by row (lavaan's order
    does not matter to the quadratic forms; the weights use the same one)."""
    rows, cols = np.triu_indices(len(matrix))
    return matrix[rows, cols]


def moment_weights(estimator: str, items: np.ndarray) -> MomentWeights:
    """The weights of ``estimator`` for the answers ``items`` (n, p)."""
    from acsi_sem.numerics.robust import duplication_matrix

    n, p = items.shape
    deviations = items - items.mean(axis=0)
    sample_cov = deviations.T @ deviations / (n - 1)
    if estimator == "gls":
        inverse = np.linalg.inv(sample_cov)
        duplication = duplication_matrix(p)  # vec(M) = D vech(M), vech as here
        weight = 0.5 * duplication.T @ np.kron(inverse, inverse) @ duplication
    elif estimator == "uls":
        weight = np.eye(p * (p + 1) // 2)
    else:
        gamma = cross_product_covariance(deviations)
        weight = np.diag(1 / np.diag(gamma)) if estimator == "dwls" else np.linalg.inv(gamma)
    return MomentWeights(estimator, sample_cov, weight, n)


def cross_product_covariance(deviations: np.ndarray) -> np.ndarray:
    """(p*, p*) Gamma: the covariance (divisor n) of the respondents' cross-products
    ``vech(d d')`` of their deviations (n, p) from the means (Browne 1984's ADF weights)."""
    rows, cols = np.triu_indices(deviations.shape[1])
    products = deviations[:, rows] * deviations[:, cols]
    centred = products - products.mean(axis=0)
    return centred.T @ centred / len(deviations)


def wls_discrepancy(ram: RamModel, theta: np.ndarray, weights: MomentWeights) -> Discrepancy:
    """F, its gradient (q,) and its Gauss-Newton information ``2 Delta' W Delta`` (q, q)."""
    residual = weights.moments - vech(ram.implied_covariance(theta))
    delta = moment_jacobian(ram, theta)
    weighted = weights.weight @ residual
    return Discrepancy(float(residual @ weighted), -2 * delta.T @ weighted,
                       2 * delta.T @ weights.weight @ delta)


def moment_jacobian(ram: RamModel, theta: np.ndarray) -> np.ndarray:
    """(p*, q) Delta = d vech(Sigma) / d theta."""
    rows, cols = np.triu_indices(ram.n_observed)
    return ram.sigma_derivatives(theta)[:, rows, cols].T


def independence_discrepancy(weights: MomentWeights) -> float:
    """F of the baseline model (uncorrelated items) fitted by the same estimator: the
    variances that minimize F, in closed form since Sigma is linear in them."""
    p = len(weights.sample_cov)
    rows, cols = np.triu_indices(p)
    design = np.zeros((len(rows), p))
    diagonal = np.flatnonzero(rows == cols)
    design[diagonal, rows[diagonal]] = 1.0
    variances = np.linalg.solve(design.T @ weights.weight @ design,
                                design.T @ weights.weight @ weights.moments)
    residual = weights.moments - design @ variances
    return float(residual @ weights.weight @ residual)


def fit_wls(spec: ModelSpec, data: PreparedData, estimator: str) -> CbsemSolution:
    """Fit ``spec`` by ``estimator`` (:data:`WLS_ESTIMATORS`) to complete answers, from the
    ML estimates (lavaan starts from its simple values; the minimum is the same).

    Returns:
        A solution whose ``discrepancy`` is F and whose ``vcov`` is
        ``((N - 1) Delta' W Delta)^-1``; ``information`` holds ``Delta' W Delta``.
    """
    weights = moment_weights(estimator, data.frame.to_numpy())
    spec = fill_fixed_x(spec, weights.sample_cov, data.means)
    ram = build_ram(spec)
    start = fit_ml(spec, data).theta[: ram.n_free]
    functions = (lambda t: wls_discrepancy(ram, t, weights),
                 lambda t: wls_discrepancy(ram, t, weights).gradient,
                 lambda t: wls_discrepancy(ram, t, weights).value
                 if np.all(np.isfinite(ram.implied_covariance(t))) else np.inf)
    system = constraint_system(spec)
    found = (minimize_scoring(*functions, start) if system is None
             else minimize_constrained(*functions, start, system))
    scoring = found if system is None else found.scoring
    information = wls_discrepancy(ram, scoring.theta, weights).information / 2
    basis = None if system is None else found.basis
    messages = () if scoring.converged else (
        f"the optimiser stopped with gradient {np.max(np.abs(scoring.gradient)):.2g}",)
    return CbsemSolution(spec=spec, ram=ram, theta=scoring.theta, discrepancy=scoring.value,
                         vcov=invert_information(information, weights.multiplier, basis),
                         converged=scoring.converged, messages=messages,
                         information=information,
                         constraints=None if system is None else found,
                         equality_rank=0 if system is None else system.equality_rank(
                             scoring.theta))
