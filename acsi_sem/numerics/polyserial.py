"""Continuous items beside ordered ones, as lavaan's WLSMV takes them (lavaan 0.6.14's
``lav_uvreg``, ``lav_bvreg`` and ``lav_bvmix``).

A continuous item enters with its mean and its variance (divisor N, the ML estimates). A
continuous and an ordered item are joined by the polyserial correlation: the ML estimate of
the correlation of the continuous item with the ordered item's latent response, the mean,
variance and thresholds held at their one-item estimates (two-step ML, Olsson, Drasgow &
Dorans 1982). Two continuous items are joined by their Pearson correlation. Each function
also gives the respondents' scores (first derivatives of their log-likelihood) that the
asymptotic covariance of :mod:`acsi_sem.numerics.polychoric` is built from.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import optimize, special

from acsi_sem.numerics.normal import category_limits, normal_density, threshold_sides

# lavaan's bounds for a polyserial correlation (lav_bvmix_cor_twostep_fit).
POLYSERIAL_BOUND = 0.995
# lavaan drops a respondent from the polyserial likelihood whose likelihood is below this
# (lav_bvmix_lik_cache: lik < sqrt(.Machine$double.eps) becomes NA, then na.rm).
SMALLEST_LIKELIHOOD = np.sqrt(np.finfo(float).eps)
# lavaan's stand-ins for the infinite limits of the lowest and highest category.
OPEN_LIMIT = 100.0


@dataclass(frozen=True)
class ContinuousItem:
    """One continuous item's answers and its one-item ML estimates.

    Attributes:
        values: (n,) the answers.
        mean: their mean.
        variance: their variance, divisor n.
    """

    values: np.ndarray
    mean: float
    variance: float

    @property
    def deviations(self) -> np.ndarray:
        """(n,) answers minus the mean."""
        return self.values - self.mean

    @property
    def standardized(self) -> np.ndarray:
        """(n,) z-scores with the divisor-n standard deviation."""
        return self.deviations / np.sqrt(self.variance)

    def scores(self) -> np.ndarray:
        """(n, 2) each respondent's d log f / d mean and d log f / d variance."""
        deviations, variance = self.deviations, self.variance
        return np.column_stack([deviations / variance,
                                -0.5 / variance + deviations ** 2 / (2 * variance ** 2)])


def continuous_item(values: np.ndarray) -> ContinuousItem:
    """The mean and divisor-n variance of (n,) answers (lavaan's ``lav_uvreg_fit``)."""
    values = np.asarray(values, dtype=float)
    mean = float(values.mean())
    return ContinuousItem(values=values, mean=mean,
                          variance=float(np.mean((values - mean) ** 2)))


def _category_limits(codes: np.ndarray, thresholds: np.ndarray) -> tuple[np.ndarray, ...]:
    """(n,) upper and lower limit of each respondent's category, +-100 at the open ends."""
    limits = category_limits(thresholds, OPEN_LIMIT)
    return limits[codes + 1], limits[codes]


def _conditional_probability(item: ContinuousItem, codes: np.ndarray,
                             thresholds: np.ndarray, rho: float) -> np.ndarray:
    """(n,) P(observed category | continuous answer), at least machine epsilon as lavaan."""
    upper, lower = _category_limits(codes, thresholds)
    root = np.sqrt(1 - rho * rho)
    z = item.standardized
    probability = special.ndtr((upper - rho * z) / root) - special.ndtr((lower - rho * z) / root)
    return np.maximum(probability, np.finfo(float).eps)


def polyserial_correlation(item: ContinuousItem, codes: np.ndarray,
                           thresholds: np.ndarray) -> float:
    """The two-step ML polyserial correlation of a continuous item and an ordered one.

    Args:
        item: the continuous item.
        codes: (n,) the ordered item's answers as category numbers 0..K-1.
        thresholds: (K-1,) the ordered item's thresholds.
    """
    density = normal_density(item.standardized) / np.sqrt(item.variance)

    def negative_loglik(rho: float) -> float:
        likelihood = density * _conditional_probability(item, codes, thresholds, rho)
        kept = likelihood >= SMALLEST_LIKELIHOOD
        return -float(np.sum(np.log(likelihood[kept]))) / len(codes)

    found = optimize.minimize_scalar(negative_loglik,
                                     bounds=(-POLYSERIAL_BOUND, POLYSERIAL_BOUND),
                                     method="bounded", options={"xatol": 1e-12})
    return float(found.x)


@dataclass(frozen=True)
class PairScores:
    """Each respondent's derivatives of one pair's log-likelihood.

    Attributes:
        rho: (n,) with respect to the correlation.
        first, second: (n, k) with respect to each item's own univariate parameters: an
            ordered item's thresholds, or a continuous item's mean and variance.
    """

    rho: np.ndarray
    first: np.ndarray
    second: np.ndarray


def polyserial_scores(item: ContinuousItem, codes: np.ndarray, thresholds: np.ndarray,
                      rho: float) -> PairScores:
    """Scores of a polyserial pair (lavaan's ``lav_bvmix_cor_scores_cache``): ``first`` is
    the continuous item's (mean, variance), ``second`` the ordered item's thresholds."""
    root = np.sqrt(1 - rho * rho)
    z = item.standardized
    upper, lower = _category_limits(codes, thresholds)
    upper_star, lower_star = (upper - rho * z) / root, (lower - rho * z) / root
    upper_density, lower_density = normal_density(upper_star), normal_density(lower_star)
    inverse = 1 / _conditional_probability(item, codes, thresholds, rho)
    band = upper_density - lower_density
    sd = np.sqrt(item.variance)
    d_mean = (z + inverse * (rho / root) * band) / sd
    d_variance = ((z * z - 1) + inverse * rho * z / root * band) / (2 * item.variance)
    # A threshold is the upper limit of its own category and the lower one of the next.
    upper_side, lower_side = threshold_sides(codes, len(thresholds))
    d_thresholds = ((upper_side * upper_density[:, None] - lower_side * lower_density[:, None])
                    * (inverse / root)[:, None])
    d_rho = (inverse / root ** 3 * (upper_density * (upper * rho - z)
                                    - lower_density * (lower * rho - z)))
    return PairScores(rho=d_rho, first=np.column_stack([d_mean, d_variance]),
                      second=d_thresholds)


def pearson_scores(first: ContinuousItem, second: ContinuousItem, rho: float) -> PairScores:
    """Scores of a pair of continuous items (lavaan's ``lav_bvreg_cor_scores_cache``);
    ``first`` and ``second`` are each item's (mean, variance)."""
    one_minus = 1 - rho * rho
    d1, d2 = first.deviations, second.deviations
    v1, v2 = first.variance, second.variance
    sds = np.sqrt(v1 * v2)
    d_mean1 = (d1 / v1 - rho * d2 / sds) / one_minus
    d_mean2 = (d2 / v2 - rho * d1 / sds) / one_minus
    d_var1 = -(0.5 / v1 - (d1 * d1 / v1 ** 2 - rho * d1 * d2 / (v1 * sds)) / (2 * one_minus))
    d_var2 = -(0.5 / v2 - (d2 * d2 / v2 ** 2 - rho * d1 * d2 / (v2 * sds)) / (2 * one_minus))
    quadratic = d1 * d1 / v1 - 2 * rho * d1 * d2 / sds + d2 * d2 / v2
    d_rho = rho / one_minus + d1 * d2 / (sds * one_minus) - quadratic * rho / one_minus ** 2
    return PairScores(rho=d_rho, first=np.column_stack([d_mean1, d_var1]),
                      second=np.column_stack([d_mean2, d_var2]))


def pearson_correlation(first: ContinuousItem, second: ContinuousItem) -> float:
    """The Pearson correlation of two continuous items (lavaan's two-step ML estimate
    with complete answers)."""
    return float(np.mean(first.deviations * second.deviations)
                 / np.sqrt(first.variance * second.variance))
