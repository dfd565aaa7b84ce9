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

With sampling weights (as lavaan's ``sampling.weights``, rescaled to sum to N) the moments
are weighted, and so is every respondent's score: the meat is ``sum w_i^2 s_i s_i' / N``,
the variance of a weighted total, and the bread the weighted (observed) information.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from acsi_sem.model.ram import RamModel
from acsi_sem.numerics.constrained import constrained_inverse
from acsi_sem.numerics.ml_hessian import observed_hessian, observed_mean_hessian


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
              covariates: tuple[int, ...] = (), weights: np.ndarray | None = None,
              meanstructure: bool = False, basis: np.ndarray | None = None) -> RobustML:
    """The MLR sandwich and traces at the ML estimate ``theta`` (q,) for raw answers (n, p);
    ``covariates`` are the positions of fixed.x covariates, whose moments are not data;
    ``weights`` (n,) are sampling weights (any scale) or None; ``meanstructure`` adds the
    saturated means' terms to both traces (they cancel without weights); ``basis``
    (q, q - r) the directions binding constraints leave free, or None."""
    n = len(items)
    unit = unit_weights(weights, n)
    deviations = items - unit @ items / n
    sample_cov = (deviations * unit[:, None]).T @ deviations / n
    sigma = ram.implied_covariance(theta)
    scores = covariance_scores(deviations, sigma, ram.sigma_derivatives(theta))
    meat = (scores * unit[:, None] ** 2).T @ scores / n
    bread = observed_hessian(ram, theta, sample_cov) / 2
    robust = sandwich(bread, meat, n, saturated_trace(deviations, covariates, weights), basis)
    if not meanstructure or weights is None:
        return robust
    return replace(robust,
                   model_trace=robust.model_trace + mean_trace(deviations, sigma, covariates,
                                                               weights),
                   saturated_trace=robust.saturated_trace + mean_trace(
                       deviations, sample_cov, covariates, weights))


def robust_ml_means(ram: RamModel, theta: np.ndarray, items: np.ndarray,
                    covariates: tuple[int, ...] = (), basis: np.ndarray | None = None,
                    weights: np.ndarray | None = None) -> RobustML:
    """The MLR sandwich and traces of an ML fit with a modelled mean structure (``ram``
    places the means): scores of the means and covariances together, the bread the observed
    information of the mean-structure discrepancy, and the saturated means' ``p`` (less the
    fixed.x covariates') in the saturated trace, as lavaan's MLR with ``meanstructure``.
    With sampling ``weights`` (n,; any scale) the moments are weighted, each score enters
    the meat times its weight squared, and the saturated means' term is :func:`mean_trace`.

    Args:
        theta: (q,) the estimates; items: (n, p) answers.
        covariates: positions of fixed.x covariates; basis: as for :func:`robust_ml`.
    """
    n, p = items.shape
    unit = unit_weights(weights, n)
    means = unit @ items / n
    deviations = items - means
    sample_cov = (deviations * unit[:, None]).T @ deviations / n
    scores = mean_structure_scores(items - ram.implied_mean(theta), ram.implied_covariance(theta),
                                   ram.sigma_derivatives(theta), ram.mean_derivatives(theta))
    bread = observed_mean_hessian(ram, theta, sample_cov, means) / 2
    saturated = saturated_trace(deviations, covariates, weights) + (
        p - len(covariates) if weights is None
        else mean_trace(deviations, sample_cov, covariates, weights))
    meat = (scores * unit[:, None] ** 2).T @ scores / n
    return sandwich(bread, meat, n, saturated, basis)


def mean_trace(deviations: np.ndarray, covariance: np.ndarray, covariates: tuple[int, ...],
               weights: np.ndarray | None) -> float:
    """The saturated means' part of tr(A^-1 B) under the covariance (p, p) of a model:
    ``tr(A_mm^-1 B_mm)`` with ``A = Sigma^-1`` and ``B = Sigma^-1 W Sigma^-1``, ``W`` the
    weighted second moments ``sum w^2 d d' / N`` of the deviations (n, p); fixed.x
    covariates' means are not free."""
    n, p = deviations.shape
    unit = unit_weights(weights, n)
    second = (deviations * unit[:, None] ** 2).T @ deviations / n
    inverse = np.linalg.inv(covariance)
    free = np.setdiff1d(np.arange(p), covariates)
    meat = (inverse @ second @ inverse)[np.ix_(free, free)]
    return float(np.trace(np.linalg.solve(inverse[np.ix_(free, free)], meat)))


def unit_weights(weights: np.ndarray | None, n: int) -> np.ndarray:
    """(n,) sampling weights rescaled to mean 1 (lavaan's normalization to sum N); ones
    without weights."""
    return np.ones(n) if weights is None else weights * (n / weights.sum())


def sandwich(bread: np.ndarray, meat: np.ndarray, n_obs: int,
             saturated: float, basis: np.ndarray | None = None) -> RobustML:
    """``A^-1 B A^-1 / N`` and tr(A^-1 B) from the (q, q) bread A (unit observed
    information) and meat B (mean score outer product); ``saturated`` is tr(A1^-1 B1).
    Under constraints ``A^-1`` is the inverse on the free directions ``basis`` (q, q - r)."""
    try:
        bread_inv = constrained_inverse(bread, basis)
    except np.linalg.LinAlgError:
        return RobustML(None, np.nan, saturated)
    return RobustML(bread_inv @ meat @ bread_inv / n_obs, float(np.trace(bread_inv @ meat)),
                    saturated)


def saturated_trace(deviations: np.ndarray, covariates: tuple[int, ...] = (),
                    weights: np.ndarray | None = None) -> float:
    """tr(A1^-1 B1) of the saturated covariance model at the sample covariance.

    Args:
        deviations: (n, p) answers minus their (weighted) sample means.
        covariates: positions of fixed.x covariates; their own (co)variances are fixed in
            the saturated model too, so they leave the trace.
        weights: (n,) sampling weights or None.
    """
    n, p = deviations.shape
    unit = unit_weights(weights, n)
    sample_cov = (deviations * unit[:, None]).T @ deviations / n
    duplication = duplication_matrix(p)
    inverse = np.linalg.inv(sample_cov)
    information = 0.5 * duplication.T @ np.kron(inverse, inverse) @ duplication
    weighted = deviations @ inverse
    outer = (weighted[:, :, None] * weighted[:, None, :] - inverse).reshape(n, p * p)
    scores = 0.5 * outer @ duplication
    meat = (scores * unit[:, None] ** 2).T @ scores / n
    rows, cols = np.triu_indices(p)
    free = ~(np.isin(rows, covariates) & np.isin(cols, covariates))
    return float(np.trace(np.linalg.solve(information[np.ix_(free, free)],
                                          meat[np.ix_(free, free)])))


def independence_trace(deviations: np.ndarray, covariates: tuple[int, ...] = (),
                       weights: np.ndarray | None = None) -> float:
    """tr(A0^-1 B0) of the independence (baseline) model: free variances only (the
    covariates' are fixed).

    Args:
        deviations: (n, p) answers minus their (weighted) sample means.
        covariates: positions of fixed.x covariates.
        weights: (n,) sampling weights or None.
    """
    deviations = np.delete(deviations, list(covariates), axis=1)
    unit = unit_weights(weights, len(deviations))
    variances = unit @ deviations ** 2 / len(deviations)
    # Each variance's score is (d^2 - v) / (2 v^2) and its information 1 / (2 v^2).
    fourth = unit ** 2 @ (deviations ** 2 - variances) ** 2 / len(deviations)
    return float(np.sum(fourth / (2 * variances ** 2)))


def independence_covariance(covariance: np.ndarray, covariates: tuple[int, ...] = ()
                            ) -> np.ndarray:
    """(p, p) covariance of the independence model at the sample ``covariance``: its
    diagonal, with the fixed.x covariates' block kept."""
    independence = np.diag(np.diag(covariance))
    block = np.ix_(covariates, covariates)
    independence[block] = covariance[block]
    return independence


def duplication_matrix(p: int) -> np.ndarray:
    """(p*p, p(p+1)/2) matrix D with vec(M) = D vech(M) for symmetric M (row-major vech)."""
    rows, cols = np.triu_indices(p)
    matrix = np.zeros((p * p, len(rows)))
    columns = np.arange(len(rows))
    matrix[rows * p + cols, columns] = 1.0
    matrix[cols * p + rows, columns] = 1.0
    return matrix
