"""Robust maximum likelihood (lavaan's MLR) for complete data.

Standard errors are Huber-White sandwiches, ``A^-1 B A^-1 / N``, with ``A`` the observed
information (the Hessian of the per-respondent negative log-likelihood at the estimate)
and ``B`` the mean outer product of the respondents' scores. The test statistic is divided
by the Yuan-Bentler scaling factor in Mplus's form, as lavaan's
``test = "yuan.bentler.mplus"``:

    c = (tr(A1^-1 B1) - tr(A0^-1 B0)) / df

where ``A0, B0`` belong to the model and ``A1, B1`` to the saturated model, whose
information is the expected one at the sample covariance. Means are saturated, so their
terms are equal in both traces and cancel.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from acsi_sem.model.ram import RamModel
from acsi_sem.numerics.ml import numerical_hessian


@dataclass(frozen=True)
class RobustML:
    """Sandwich covariance and Yuan-Bentler scaling of one ML solution.

    Attributes:
        vcov: (q, q) robust covariance of the free parameters, or ``None`` if the observed
            information is singular.
        model_trace: tr(A0^-1 B0) of the model.
        saturated_trace: tr(A1^-1 B1) of the saturated covariance model.
    """

    vcov: np.ndarray | None
    model_trace: float
    saturated_trace: float

    def scaling_factor(self, df: float) -> float:
        """The chi-square scaling factor c for a model with ``df`` degrees of freedom."""
        return (self.saturated_trace - self.model_trace) / df if df > 0 else np.nan


def covariance_scores(deviations: np.ndarray, sigma: np.ndarray,
                      derivatives: np.ndarray) -> np.ndarray:
    """(n, q) scores: the derivative of each respondent's log-likelihood by each parameter.

    Args:
        deviations: (n, p) answers minus their sample means.
        sigma: (p, p) model-implied covariance.
        derivatives: (q, p, p) dSigma/dtheta.
    """
    sigma_inv = np.linalg.inv(sigma)
    weighted = deviations @ sigma_inv
    quadratic = np.einsum("ni,kij,nj->nk", weighted, derivatives, weighted, optimize=True)
    return 0.5 * (quadratic - np.einsum("ij,kji->k", sigma_inv, derivatives)[None, :])


def mean_structure_scores(residual: np.ndarray, sigma: np.ndarray, derivatives: np.ndarray,
                          mean_derivatives: np.ndarray) -> np.ndarray:
    """(n, q) scores of a model with modelled means: :func:`covariance_scores` plus
    ``residual' Sigma^-1 dmu/dtheta``.

    Args:
        residual: (n, p) answers minus the model-implied means.
        sigma: (p, p) model-implied covariance.
        derivatives: (q, p, p) dSigma/dtheta; mean_derivatives: (q, p) dmu/dtheta.
    """
    return (covariance_scores(residual, sigma, derivatives)
            + residual @ np.linalg.solve(sigma, mean_derivatives.T))


def robust_ml(ram: RamModel, theta: np.ndarray, items: np.ndarray,
              covariates: tuple[int, ...] = ()) -> RobustML:
    """The MLR sandwich and traces at the ML estimate ``theta`` (q,) for raw answers (n, p);
    ``covariates`` are the positions of fixed.x covariates, whose moments are not data."""
    n = len(items)
    deviations = items - items.mean(axis=0)
    sample_cov = deviations.T @ deviations / n
    scores = covariance_scores(deviations, ram.implied_covariance(theta),
                               ram.sigma_derivatives(theta))
    meat = scores.T @ scores / n
    bread = numerical_hessian(ram, theta, sample_cov) / 2
    return sandwich(bread, meat, n, saturated_trace(deviations, covariates))


def sandwich(bread: np.ndarray, meat: np.ndarray, n_obs: int,
             saturated: float) -> RobustML:
    """``A^-1 B A^-1 / N`` and tr(A^-1 B) from the (q, q) bread A (unit observed
    information) and meat B (mean score outer product); ``saturated`` is tr(A1^-1 B1)."""
    try:
        bread_inv = np.linalg.inv(bread)
    except np.linalg.LinAlgError:
        return RobustML(None, np.nan, saturated)
    return RobustML(bread_inv @ meat @ bread_inv / n_obs, float(np.trace(bread_inv @ meat)),
                    saturated)


def saturated_trace(deviations: np.ndarray, covariates: tuple[int, ...] = ()) -> float:
    """tr(A1^-1 B1) of the saturated covariance model at the sample covariance.

    Args:
        deviations: (n, p) answers minus their sample means.
        covariates: positions of fixed.x covariates; their own (co)variances are fixed in
            the saturated model too, so they leave the trace.
    """
    n, p = deviations.shape
    sample_cov = deviations.T @ deviations / n
    duplication = duplication_matrix(p)
    inverse = np.linalg.inv(sample_cov)
    information = 0.5 * duplication.T @ np.kron(inverse, inverse) @ duplication
    weighted = deviations @ inverse
    outer = (weighted[:, :, None] * weighted[:, None, :] - inverse).reshape(n, p * p)
    scores = 0.5 * outer @ duplication
    meat = scores.T @ scores / n
    rows, cols = np.triu_indices(p)
    free = ~(np.isin(rows, covariates) & np.isin(cols, covariates))
    return float(np.trace(np.linalg.solve(information[np.ix_(free, free)],
                                          meat[np.ix_(free, free)])))


def independence_trace(deviations: np.ndarray, covariates: tuple[int, ...] = ()) -> float:
    """tr(A0^-1 B0) of the independence (baseline) model: free variances only (the
    covariates' are fixed).

    Args:
        deviations: (n, p) answers minus their sample means.
        covariates: positions of fixed.x covariates.
    """
    deviations = np.delete(deviations, list(covariates), axis=1)
    variances = (deviations ** 2).mean(axis=0)
    # Each variance's score is (d^2 - v) / (2 v^2) and its information 1 / (2 v^2).
    fourth = ((deviations ** 2 - variances) ** 2).mean(axis=0)
    return float(np.sum(fourth / (2 * variances ** 2)))


def duplication_matrix(p: int) -> np.ndarray:
    """(p*p, p(p+1)/2) matrix D with vec(M) = D vech(M) for symmetric M (row-major vech)."""
    rows, cols = np.triu_indices(p)
    matrix = np.zeros((p * p, len(rows)))
    columns = np.arange(len(rows))
    matrix[rows * p + cols, columns] = 1.0
    matrix[cols * p + rows, columns] = 1.0
    return matrix
