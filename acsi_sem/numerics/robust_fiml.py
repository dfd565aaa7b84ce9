"""Robust ML with missing answers: lavaan's MLR under FIML.

The sandwich takes the observed information of the FIML objective as bread and the
respondents' missing-data scores (each on the items they answered) as meat. The
Yuan-Bentler factor compares traces as for complete data, but the saturated model's
information is the observed information of the incomplete-data likelihood at the EM
moments (lavaan's ``lav_mvnorm_missing_information_observed_samplestats``), and its meat the
respondents' saturated scores there.

With sampling weights (``MissingPatterns.row_weights``, rescaled to sum N) the likelihoods,
informations and EM moments are weighted, and each respondent's score enters the meat
times their weight squared, ``sum w_i^2 s_i s_i' / N``, as for complete data.
"""

from __future__ import annotations

import numpy as np

from acsi_sem.model.ram import RamModel
from acsi_sem.numerics.fiml import MissingPatterns, fiml_hessian
from acsi_sem.numerics.robust import (
    RobustML,
    duplication_matrix,
    mean_structure_scores,
    sandwich,
)


def robust_fiml(ram: RamModel, patterns: MissingPatterns, items: np.ndarray,
                theta: np.ndarray, em_means: np.ndarray, em_cov: np.ndarray, *,
                bread: np.ndarray | None = None, basis: np.ndarray | None = None,
                covariates: tuple[int, ...] = ()) -> RobustML:
    """The MLR sandwich and traces of a FIML solution ``theta`` (q,).

    Args:
        items: (n, p) answers, NaN where missing.
        em_means, em_cov: (p,) and (p, p) saturated ML moments (EM).
        bread: (q, q) the FIML Hessian at ``theta`` if the fit has it already.
        basis: (q, q - r) the directions binding constraints leave free, or None.
        covariates: positions of the fixed.x covariates (complete answers), whose own
            moments are not parameters of the saturated model.
    """
    n = patterns.n_obs
    scores = model_scores(ram, patterns, items, theta)
    if bread is None:
        bread = fiml_hessian(ram, patterns, theta)
    return sandwich(bread, score_products(scores, patterns.row_weights, n), n,
                    saturated_missing_trace(patterns, items, em_means, em_cov, covariates),
                    basis)


def model_scores(ram: RamModel, patterns: MissingPatterns, items: np.ndarray,
                 theta: np.ndarray) -> np.ndarray:
    """(n, q) derivatives of each respondent's log-likelihood (answered items only)."""
    sigma, mu = ram.implied_covariance(theta), ram.implied_mean(theta)
    sigma_derivatives, mean_derivatives = ram.sigma_derivatives(theta), ram.mean_derivatives(
        theta)
    scores = np.zeros((len(items), ram.n_free))
    for mask, members in zip(patterns.answered, patterns.rows, strict=True):
        residual = items[np.ix_(members, mask)] - mu[mask]
        scores[members] = mean_structure_scores(residual, sigma[np.ix_(mask, mask)],
                                                sigma_derivatives[:, mask][:, :, mask],
                                                mean_derivatives[:, mask])
    return scores


def score_products(scores: np.ndarray, weights: np.ndarray | None, size: float
                   ) -> np.ndarray:
    """(q, q) the meat ``sum w_i^2 s_i s_i' / size`` of the respondents' scores (n, q),
    each ``w_i`` 1 without sampling weights (n,); ``size`` is n, or the weights' sum (a
    group's n_g under lavaan's "total" normalization)."""
    scaled = scores if weights is None else scores * weights[:, None] ** 2
    return scaled.T @ scores / size


def saturated_missing_trace(patterns: MissingPatterns, items: np.ndarray, means: np.ndarray,
                            covariance: np.ndarray, covariates: tuple[int, ...] = ()) -> float:
    """tr(A1^-1 B1) of the saturated model (free means and covariances) at the EM moments,
    the fixed.x covariates' own means and (co)variances left out of A1 and B1 (lavaan's
    Yuan-Bentler test drops them)."""
    information, first_order = saturated_missing_information(patterns, items, means,
                                                             covariance)
    fixed = covariate_moments(len(means), covariates)
    return float(np.trace(np.linalg.solve(information[np.ix_(~fixed, ~fixed)],
                                          first_order[np.ix_(~fixed, ~fixed)])))


def covariate_moments(p: int, covariates: tuple[int, ...]) -> np.ndarray:
    """(p + p(p+1)/2,) True at the fixed.x covariates' own means and (co)variances among
    the saturated moments (means first, then vech in ``np.triu_indices`` order): lavaan
    zeroes them in every saturated information (``eliminate.pstar.idx``)."""
    rows, cols = np.triu_indices(p)
    return np.concatenate([np.isin(np.arange(p), covariates),
                           np.isin(rows, covariates) & np.isin(cols, covariates)])


def saturated_missing_information(patterns: MissingPatterns, items: np.ndarray,
                                  means: np.ndarray, covariance: np.ndarray
                                  ) -> tuple[np.ndarray, np.ndarray]:
    """The saturated model's observed information A1 and first-order information B1 (mean
    outer product of the respondents' scores), both per respondent, at the EM moments:
    lavaan's ``lav_mvnorm_missing_information_observed_samplestats`` and ``..._firstorder``.

    Returns:
        Two (k, k) matrices, k = p + p(p+1)/2: the means first, then vech of the
        covariance in ``np.triu_indices(p)`` order.
    """
    n, p = patterns.n_obs, len(means)
    duplication = duplication_matrix(p)
    rows, cols = np.triu_indices(p)
    halve = np.where(rows == cols, 0.5, 1.0)
    size = p + len(rows)
    information, scores = np.zeros((size, size)), np.zeros((len(items), size))
    for mask, members, count, mean, scatter in zip(
            patterns.answered, patterns.rows, patterns.counts, patterns.means,
            patterns.scatter, strict=True):
        inverse = np.zeros((p, p))
        inverse[np.ix_(mask, mask)] = np.linalg.inv(covariance[np.ix_(mask, mask)])
        information += count * _pattern_information(inverse, mask, mean, scatter, means,
                                                     covariance, duplication)
        residual = np.zeros((len(members), p))
        residual[:, mask] = items[np.ix_(members, mask)] - means[mask]
        weighted = residual @ inverse
        outer = weighted[:, :, None] * weighted[:, None, :] - inverse
        scores[members] = np.hstack([weighted, outer[:, rows, cols] * halve])
    return information / n, score_products(scores, patterns.row_weights, n)


def _pattern_information(inverse: np.ndarray, mask: np.ndarray, mean: np.ndarray,
                         scatter: np.ndarray, means: np.ndarray, covariance: np.ndarray,
                         duplication: np.ndarray) -> np.ndarray:
    """One respondent's share of the observed saturated information of a pattern."""
    p = len(means)
    difference = np.zeros(p)
    difference[mask] = mean - means[mask]
    moments = np.zeros((p, p))
    moments[np.ix_(mask, mask)] = scatter + np.outer(mean - means[mask], mean - means[mask])
    sigma = np.zeros((p, p))
    sigma[np.ix_(mask, mask)] = covariance[np.ix_(mask, mask)]
    spread = inverse @ (2 * moments - sigma) @ inverse
    cross = duplication.T @ np.kron((inverse @ difference)[:, None], inverse)
    block = 0.5 * duplication.T @ np.kron(inverse, spread) @ duplication
    return np.block([[inverse, cross.T], [cross, block]])


def independence_missing_trace(items: np.ndarray, weights: np.ndarray | None = None
                               ) -> float:
    """tr(A0^-1 B0) of the baseline model (free means and variances) fitted by FIML: each
    item on its own answers, one for its mean plus the kurtosis term of its variance. With
    sampling ``weights`` (n,), rescaled to sum n, the item's information is its answers'
    weight sum and its meat their squared weights', so the mean's term is no longer 1."""
    total = 0.0
    for column in items.T:
        answered = ~np.isnan(column)
        values = column[answered]
        if weights is None:
            deviations = values - values.mean()
            variance = np.mean(deviations ** 2)
            total += 1 + np.mean((deviations ** 2 - variance) ** 2) / (2 * variance ** 2)
            continue
        own = weights[answered]
        deviations = values - own @ values / own.sum()
        variance = own @ deviations ** 2 / own.sum()
        squared = own ** 2
        total += (squared @ deviations ** 2 / (variance * own.sum())
                  + squared @ (deviations ** 2 - variance) ** 2 / (2 * variance ** 2 * own.sum()))
    return total
