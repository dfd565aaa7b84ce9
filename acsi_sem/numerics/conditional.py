"""Sample statistics of ordered answers conditional on observed covariates, as lavaan
computes them for WLSMV with ``conditional.x = TRUE`` (its default with covariates).

Each item's latent response is a linear regression on the covariates x with a
standard-normal residual, so each item is a probit regression: answer k means
``tau_{k-1} - x'beta < e <= tau_k - x'beta``. Its thresholds tau (the intercepts at x = 0)
and slopes beta are ML estimates of that regression; each pair's residual polychoric
correlation maximises the pair's bivariate-probit likelihood with both regressions held
fixed (lavaan's ``lav_uvord_fit`` and ``lav_bvord_cor_twostep_fit``). Their joint
asymptotic covariance is lavaan's ``muthen1984`` with ``eXo``: casewise scores, each item's
thresholds and slopes one block of A11.

Statistics are ordered as lavaan's: the thresholds item by item, the slopes covariate by
covariate (x1~sex, ..., xp~sex, x1~age, ...), the residual correlations below the diagonal
by column. lavaan puts the open ends of the first and last categories at +-100 (not
infinity); so does this module.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize, special

from acsi_sem.errors import DataError
from acsi_sem.numerics.normal import category_limits, normal_density
from acsi_sem.numerics.polychoric import (
    RHO_BOUND,
    OrdinalStatistics,
    bivariate_normal_cdf,
    bivariate_normal_pdf,
    pair_indices,
    two_stage_covariance,
)
from acsi_sem.numerics.polyserial import PairScores

OPEN_LIMIT = 100.0   # lavaan's open ends of the outer categories (lav_uvord: o1, o2)
NEWTON_TOLERANCE = 1e-12
MAX_NEWTON_STEPS = 100
STALLED_STEP = 1e-6  # a last Newton step larger than this (relative) found no maximum


class ProbitSeparationError(ArithmeticError):
    """An ordered probit regression without a maximum: its slopes grow without bound
    (the covariates separate the item's categories)."""


@dataclass(frozen=True)
class ProbitRegression:
    """One ordered item's probit regression on the covariates.

    Attributes:
        levels: (K,) the item's answer values, lowest first.
        codes: (n,) each respondent's answer as category 0..K-1.
        thresholds: (K-1,) tau, on the latent response's residual scale.
        slopes: (nx,) beta.
        upper, lower: (n,) each respondent's category limits less x'beta (lavaan's z1, z2).
    """

    levels: np.ndarray
    codes: np.ndarray
    thresholds: np.ndarray
    slopes: np.ndarray
    upper: np.ndarray
    lower: np.ndarray

    def scores(self, covariates: np.ndarray) -> np.ndarray:
        """(n, K-1+nx) d log P(answer | x) / d (tau, beta) of each respondent
        (lavaan's ``lav_uvord_scores``)."""
        first, second, probability = _directions(self.codes, len(self.thresholds), covariates,
                                                 self.upper, self.lower)
        return ((normal_density(self.upper)[:, None] * first
                 - normal_density(self.lower)[:, None] * second) / probability[:, None])


def _limits(codes: np.ndarray, thresholds: np.ndarray, covariates: np.ndarray,
            slopes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(n,) the upper and the lower limit of each respondent's category less x'beta; the
    open ends at -+OPEN_LIMIT after subtracting x'beta, as lavaan's are where x'beta is
    small (a covariate far from 0, such as a birth year, would otherwise move an open end
    into the answers: lavaan's own fit fails there)."""
    limits = category_limits(thresholds, np.inf)
    eta = covariates @ slopes
    return (np.clip(limits[codes + 1] - eta, -OPEN_LIMIT, OPEN_LIMIT),
            np.clip(limits[codes] - eta, -OPEN_LIMIT, OPEN_LIMIT))


def _interval_probability(upper: np.ndarray, lower: np.ndarray) -> np.ndarray:
    """Phi(upper) - Phi(lower), from the upper tail where both are large (lavaan's too)."""
    high = lower > 1
    return np.where(high, special.ndtr(-lower) - special.ndtr(-upper),
                    special.ndtr(upper) - special.ndtr(lower))


def _directions(codes: np.ndarray, n_thresholds: int, covariates: np.ndarray,
                upper: np.ndarray, lower: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(n, q) d upper / d (tau, beta), (n, q) d lower / d (tau, beta), (n,) P(answer)."""
    k = np.arange(n_thresholds)
    first = np.hstack([(codes[:, None] == k).astype(float), -covariates])
    second = np.hstack([(codes[:, None] == k + 1).astype(float), -covariates])
    return first, second, _interval_probability(upper, lower)


def probit_regression(values: np.ndarray, covariates: np.ndarray) -> ProbitRegression:
    """ML ordered probit regression of (n,) answers on (n, nx) covariates, by Newton's
    method on the exact Hessian (the log-likelihood is concave), from lavaan's start; on
    the centred covariates, whose thresholds are moved back to covariates 0 (which leaves
    every respondent's limits as they are, and keeps a covariate far from 0, such as a
    birth year, from starting Newton far from its maximum).

    Raises:
        ProbitSeparationError: no maximum (the slopes grow without bound).
    """
    centre = covariates.mean(axis=0)
    centred = _centred_probit(values, covariates - centre)
    thresholds = centred.thresholds + centre @ centred.slopes
    upper, lower = _limits(centred.codes, thresholds, covariates, centred.slopes)
    return ProbitRegression(levels=centred.levels, codes=centred.codes, thresholds=thresholds,
                            slopes=centred.slopes, upper=upper, lower=lower)


def _centred_probit(values: np.ndarray, covariates: np.ndarray) -> ProbitRegression:
    levels = np.unique(values)
    codes = np.searchsorted(levels, values)
    n_thresholds = len(levels) - 1
    theta = np.concatenate([special.ndtri(np.arange(1, n_thresholds + 1) / len(levels)),
                            np.zeros(covariates.shape[1])])

    def loglik(parameters: np.ndarray) -> float:
        upper, lower = _limits(codes, parameters[:n_thresholds], covariates,
                               parameters[n_thresholds:])
        probability = _interval_probability(upper, lower)
        return float(np.sum(np.log(probability))) if np.all(probability > 0) else -np.inf

    step = np.full(len(theta), np.inf)
    for _ in range(MAX_NEWTON_STEPS):
        upper, lower = _limits(codes, theta[:n_thresholds], covariates, theta[n_thresholds:])
        first, second, probability = _directions(codes, n_thresholds, covariates, upper,
                                                 lower)
        density_upper, density_lower = normal_density(upper), normal_density(lower)
        scores = (density_upper[:, None] * first - density_lower[:, None] * second
                  ) / probability[:, None]
        # d2 log P = (phi'(z1) u1 u1' - phi'(z2) u2 u2') / P - g g', phi'(z) = -z phi(z)
        curvature = ((first.T * (-upper * density_upper / probability)) @ first
                     + (second.T * (lower * density_lower / probability)) @ second)
        hessian = curvature - scores.T @ scores
        try:
            step = np.linalg.solve(hessian, scores.sum(axis=0))
        except np.linalg.LinAlgError:
            raise ProbitSeparationError from None
        current, size = loglik(theta), 1.0
        while loglik(theta - size * step) < current and size > 1e-10:
            size /= 2
        theta = theta - size * step
        if np.max(np.abs(step)) < NEWTON_TOLERANCE:
            break
    if not np.all(np.abs(step) < STALLED_STEP * (1 + np.abs(theta))):
        raise ProbitSeparationError
    thresholds, slopes = theta[:n_thresholds], theta[n_thresholds:]
    upper, lower = _limits(codes, thresholds, covariates, slopes)
    return ProbitRegression(levels=levels, codes=codes, thresholds=thresholds, slopes=slopes,
                            upper=upper, lower=lower)


def _pair_likelihood(first: ProbitRegression, second: ProbitRegression, rho: float
                     ) -> np.ndarray:
    """(n,) each respondent's probability of the pair's answers given x (the rectangle of
    the bivariate normal between both items' limits)."""
    def cdf(h: np.ndarray, k: np.ndarray) -> np.ndarray:
        return bivariate_normal_cdf(h, k, rho)

    return (cdf(first.upper, second.upper) - cdf(first.lower, second.upper)
            - cdf(first.upper, second.lower) + cdf(first.lower, second.lower))


def residual_polychoric(first: ProbitRegression, second: ProbitRegression) -> float:
    """The pair's residual polychoric correlation: ML with both regressions fixed."""
    def negative_loglik(rho: float) -> float:
        likelihood = np.clip(_pair_likelihood(first, second, rho), 1e-300, None)
        return -float(np.sum(np.log(likelihood)))

    found = optimize.minimize_scalar(negative_loglik, bounds=(-RHO_BOUND, RHO_BOUND),
                                     method="bounded", options={"xatol": 1e-10})
    return float(found.x)


def residual_pair_scores(first: ProbitRegression, second: ProbitRegression, rho: float,
                         covariates: np.ndarray) -> PairScores:
    """Each respondent's d log pi / d rho (n,) and d log pi / d (tau, beta) of both items,
    (n, K1-1+nx) and (n, K2-1+nx) (lavaan's ``lav_bvord_cor_scores_cache`` with eXo)."""
    likelihood = _pair_likelihood(first, second, rho)
    root = np.sqrt(1 - rho * rho)
    density = (bivariate_normal_pdf(first.upper, second.upper, rho)
               - bivariate_normal_pdf(first.lower, second.upper, rho)
               - bivariate_normal_pdf(first.upper, second.lower, rho)
               + bivariate_normal_pdf(first.lower, second.lower, rho))

    def own(item: ProbitRegression, other: ProbitRegression) -> np.ndarray:
        def band(limit: np.ndarray) -> np.ndarray:
            return normal_density(limit) * (special.ndtr((other.upper - rho * limit) / root)
                                            - special.ndtr((other.lower - rho * limit) / root))

        at_upper, at_lower = band(item.upper), band(item.lower)
        k = np.arange(len(item.thresholds))
        thresholds = ((item.codes[:, None] == k) * at_upper[:, None]
                      - (item.codes[:, None] == k + 1) * at_lower[:, None])
        slopes = (at_lower - at_upper)[:, None] * covariates
        return np.hstack([thresholds, slopes]) / likelihood[:, None]

    return PairScores(rho=density / likelihood, first=own(first, second),
                      second=own(second, first))


def conditional_statistics(frame: pd.DataFrame, covariates: pd.DataFrame
                           ) -> OrdinalStatistics:
    """Thresholds, slopes, residual polychoric correlations and their NACOV of the (n, p)
    ordered answers in ``frame`` given the (n, nx) ``covariates``."""
    x = covariates.to_numpy(dtype=float)
    fits = [_item_regression(frame[name], covariates) for name in frame.columns]
    p = len(fits)
    polychoric = np.eye(p)
    for row, column in zip(*pair_indices(p), strict=True):
        polychoric[row, column] = polychoric[column, row] = residual_polychoric(
            fits[row], fits[column])
    return OrdinalStatistics(
        items=tuple(frame.columns), levels=tuple(fit.levels for fit in fits),
        thresholds=tuple(fit.thresholds for fit in fits), polychoric=polychoric,
        gamma=_asymptotic_covariance(fits, polychoric, x), n_obs=len(frame),
        continuous=np.zeros(p, dtype=bool), means=np.zeros(p), variances=np.ones(p),
        slopes=np.array([fit.slopes for fit in fits]), covariates=tuple(covariates.columns),
        covariate_covariance=np.atleast_2d(np.cov(x, rowvar=False)))


def _item_regression(item: pd.Series, covariates: pd.DataFrame) -> ProbitRegression:
    """:func:`probit_regression` of one item, or a DataError naming it and the covariates
    where the regression has no maximum."""
    try:
        return probit_regression(item.to_numpy(), covariates.to_numpy(dtype=float))
    except ProbitSeparationError:
        raise DataError(
            f"the probit regression of {item.name} on {', '.join(covariates.columns)} has no "
            "maximum: its slopes grow without bound, so the covariates (nearly) separate "
            f"{item.name}'s answer categories (e.g. a rare group whose members all chose "
            "one answer); merge the rare categories or groups, or leave the covariate out "
            "(lavaan warns and its fit does not converge)") from None


def _asymptotic_covariance(fits: list[ProbitRegression], polychoric: np.ndarray,
                           x: np.ndarray) -> np.ndarray:
    """lavaan's NACOV (``muthen1984`` with eXo): N B^-1 (sum_i s_i s_i') B^-T / N, each
    item's thresholds and slopes one diagonal block of A11."""
    n, p, nx = len(x), len(fits), x.shape[1]
    sizes = [len(fit.thresholds) for fit in fits]
    n_thresholds = sum(sizes)
    offsets = np.concatenate([[0], np.cumsum(sizes)])
    # The slopes follow the thresholds covariate by covariate: item j's k-th at j + p k.
    columns_of = [np.concatenate([np.arange(offsets[j], offsets[j + 1]),
                                  n_thresholds + j + p * np.arange(nx)]) for j in range(p)]
    n_univariate = n_thresholds + p * nx
    univariate_scores = np.zeros((n, n_univariate))
    for fit, columns in zip(fits, columns_of, strict=True):
        univariate_scores[:, columns] = fit.scores(x)
    rows, columns = pair_indices(p)
    correlation_scores = np.empty((n, len(rows)))
    cross = np.zeros((len(rows), n_univariate))
    for pair, (a, b) in enumerate(zip(rows, columns, strict=True)):
        scores = residual_pair_scores(fits[a], fits[b], polychoric[a, b], x)
        correlation_scores[:, pair] = scores.rho
        cross[pair, columns_of[a]] = scores.rho @ scores.first
        cross[pair, columns_of[b]] = scores.rho @ scores.second
    return two_stage_covariance(univariate_scores, correlation_scores, cross, columns_of)
