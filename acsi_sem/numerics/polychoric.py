"""Sample statistics of ordered answers, as lavaan computes them for WLSMV.

Each item is taken as a coarse reading of a standard-normal latent response: answer k means
the response fell between thresholds tau_{k-1} and tau_k. The thresholds come from the
item's cumulative proportions; each pair's polychoric correlation maximises the likelihood of
the pair's cross-table with the thresholds held fixed (two-step ML, Olsson 1979). Their joint
asymptotic covariance (Muthén 1984) is built from casewise scores, as lavaan's ``muthen1984``:
outer products of scores, not Hessians.

Statistics are ordered as lavaan orders them: every item's thresholds, item by item, then
the correlations column by column below the diagonal, (2,1), (3,1), ..., (p,1), (3,2), ...
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize, special

# lavaan's bounds for a polychoric correlation.
RHO_BOUND = 0.999


@dataclass(frozen=True)
class OrdinalStatistics:
    """Thresholds, polychoric correlations and their asymptotic covariance.

    Attributes:
        items: the p item names.
        levels: each item's answer values, lowest first (K_j of them).
        thresholds: each item's K_j - 1 thresholds on the standard-normal scale.
        polychoric: (p, p) polychoric correlations, unit diagonal.
        gamma: (m, m) asymptotic covariance of ``vector`` times N (lavaan's NACOV), with
            m = sum(K_j - 1) + p(p - 1)/2.
        n_obs: N, respondents.
    """

    items: tuple[str, ...]
    levels: tuple[np.ndarray, ...]
    thresholds: tuple[np.ndarray, ...]
    polychoric: np.ndarray
    gamma: np.ndarray
    n_obs: int

    @property
    def n_thresholds(self) -> int:
        """Number of thresholds over all items."""
        return sum(len(t) for t in self.thresholds)

    @property
    def vector(self) -> np.ndarray:
        """(m,) the thresholds, then the correlations below the diagonal by column."""
        return np.concatenate([*self.thresholds, lower_triangle(self.polychoric)])

    @property
    def weights(self) -> np.ndarray:
        """(m,) the DWLS weights, 1 / diag(gamma)."""
        return 1.0 / np.diag(self.gamma)

    def problems(self) -> list[str]:
        """Warnings about the sample statistics: correlations stuck at the bound, and a
        polychoric matrix that is not positive definite."""
        messages = [f"the polychoric correlation of {self.items[a]} and {self.items[b]} is "
                    f"{self.polychoric[a, b]:+.3f}, at its bound: the two items cannot be "
                    "told apart and the estimates near them are unreliable"
                    for a, b in zip(*pair_indices(len(self.items)), strict=True)
                    if abs(self.polychoric[a, b]) >= RHO_BOUND - 1e-6]
        smallest = np.linalg.eigvalsh(self.polychoric)[0]
        if smallest <= 0:
            messages.append(f"the polychoric correlation matrix is not positive definite "
                            f"(smallest eigenvalue {smallest:.3g}); the robust (catML) fit "
                            "indices are undefined and the model may be unstable")
        return messages


def _normal_density(x: np.ndarray) -> np.ndarray:
    return np.exp(-0.5 * np.square(x)) / np.sqrt(2 * np.pi)


def lower_triangle(matrix: np.ndarray) -> np.ndarray:
    """Elements below the diagonal of a (p, p) matrix, column by column: (p(p-1)/2,)."""
    columns, rows = np.triu_indices(len(matrix), k=1)
    return matrix[rows, columns]


def pair_indices(p: int) -> tuple[np.ndarray, np.ndarray]:
    """Row and column of each correlation in :func:`lower_triangle` order."""
    columns, rows = np.triu_indices(p, k=1)
    return rows, columns


def bivariate_normal_cdf(h: np.ndarray, k: np.ndarray, rho: float) -> np.ndarray:
    """P(X <= h, Y <= k) for standard bivariate normal X, Y with correlation ``rho``.

    Owen's T form, exact to rounding: Phi2 = (Phi(h) + Phi(k))/2 - T(h, a_h) - T(k, a_k)
    - beta (Owen 1956). Infinite limits are allowed.
    """
    h, k = np.broadcast_arrays(np.asarray(h, dtype=float), np.asarray(k, dtype=float))
    result = np.zeros(h.shape)
    finite = np.isfinite(h) & np.isfinite(k)
    result[np.isposinf(h) & np.isfinite(k)] = special.ndtr(k[np.isposinf(h) & np.isfinite(k)])
    result[np.isposinf(k) & np.isfinite(h)] = special.ndtr(h[np.isposinf(k) & np.isfinite(h)])
    result[np.isposinf(h) & np.isposinf(k)] = 1.0
    # Owen's formula divides by h and k; a zero limit moves by a negligible amount.
    x = np.where(h[finite] == 0, 1e-12, h[finite])
    y = np.where(k[finite] == 0, 1e-12, k[finite])
    root = np.sqrt(1 - rho * rho)
    beta = np.where(x * y > 0, 0.0, 0.5)
    result[finite] = ((special.ndtr(x) + special.ndtr(y)) / 2
                      - special.owens_t(x, (y - rho * x) / (x * root))
                      - special.owens_t(y, (x - rho * y) / (y * root)) - beta)
    return np.clip(result, 0.0, 1.0)


def bivariate_normal_pdf(h: np.ndarray, k: np.ndarray, rho: float) -> np.ndarray:
    """The standard bivariate normal density at (h, k), 0 at infinite limits."""
    h, k = np.broadcast_arrays(np.asarray(h, dtype=float), np.asarray(k, dtype=float))
    finite = np.isfinite(h) & np.isfinite(k)
    density = np.zeros(h.shape)
    x, y = h[finite], k[finite]
    one_minus = 1 - rho * rho
    density[finite] = (np.exp(-(x * x - 2 * rho * x * y + y * y) / (2 * one_minus))
                       / (2 * np.pi * np.sqrt(one_minus)))
    return density


def ordinal_statistics(frame: pd.DataFrame) -> OrdinalStatistics:
    """Thresholds, polychorics and NACOV of the (n, p) answers in ``frame``."""
    levels = tuple(np.unique(frame[name].to_numpy()) for name in frame.columns)
    codes = np.column_stack([np.searchsorted(level, frame[name].to_numpy())
                             for level, name in zip(levels, frame.columns, strict=True)])
    thresholds = tuple(_thresholds(codes[:, j], len(level)) for j, level in enumerate(levels))
    p = codes.shape[1]
    polychoric = np.eye(p)
    for row, column in zip(*pair_indices(p), strict=True):
        table = _cross_table(codes[:, row], codes[:, column], len(levels[row]),
                             len(levels[column]))
        polychoric[row, column] = polychoric[column, row] = _polychoric(
            table, thresholds[row], thresholds[column])
    gamma = _asymptotic_covariance(codes, thresholds, polychoric)
    return OrdinalStatistics(items=tuple(frame.columns), levels=levels, thresholds=thresholds,
                             polychoric=polychoric, gamma=gamma, n_obs=len(frame))


def _thresholds(codes: np.ndarray, categories: int) -> np.ndarray:
    counts = np.bincount(codes, minlength=categories)
    return special.ndtri(np.cumsum(counts)[:-1] / len(codes))


def _cross_table(first: np.ndarray, second: np.ndarray, rows: int, columns: int) -> np.ndarray:
    return np.bincount(first * columns + second, minlength=rows * columns).reshape(rows, columns)


def _limits(thresholds: np.ndarray) -> np.ndarray:
    return np.concatenate([[-np.inf], thresholds, [np.inf]])


def cell_probabilities(first: np.ndarray, second: np.ndarray, rho: float) -> np.ndarray:
    """(K1, K2) probabilities of the cross-table's cells given both items' thresholds."""
    cdf = bivariate_normal_cdf(_limits(first)[:, None], _limits(second)[None, :], rho)
    return np.diff(np.diff(cdf, axis=0), axis=1)


def _cell_density_differences(first: np.ndarray, second: np.ndarray, rho: float
                              ) -> np.ndarray:
    """(K1, K2) derivatives of the cell probabilities with respect to rho."""
    pdf = bivariate_normal_pdf(_limits(first)[:, None], _limits(second)[None, :], rho)
    return np.diff(np.diff(pdf, axis=0), axis=1)


def _polychoric(table: np.ndarray, first: np.ndarray, second: np.ndarray) -> float:
    def negative_loglik(rho: float) -> float:
        probabilities = np.clip(cell_probabilities(first, second, rho), 1e-300, None)
        return -float(np.sum(table * np.log(probabilities)))

    found = optimize.minimize_scalar(negative_loglik, bounds=(-RHO_BOUND, RHO_BOUND),
                                     method="bounded", options={"xatol": 1e-10})
    return float(found.x)


def _asymptotic_covariance(codes: np.ndarray, thresholds: tuple[np.ndarray, ...],
                           polychoric: np.ndarray) -> np.ndarray:
    """lavaan's NACOV: N B^-1 (sum_i s_i s_i') B^-T / N with B from score outer products."""
    n, p = codes.shape
    threshold_scores = np.column_stack([_threshold_scores(codes[:, j], thresholds[j])
                                        for j in range(p)])
    offsets = np.concatenate([[0], np.cumsum([len(t) for t in thresholds])])
    rows, columns = pair_indices(p)
    correlation_scores = np.empty((n, len(rows)))
    cross = np.zeros((len(rows), offsets[-1]))
    for pair, (a, b) in enumerate(zip(rows, columns, strict=True)):
        scores, first, second = _pair_scores(codes[:, a], codes[:, b], thresholds[a],
                                             thresholds[b], polychoric[a, b])
        correlation_scores[:, pair] = scores
        cross[pair, offsets[a]:offsets[a + 1]] = scores @ first
        cross[pair, offsets[b]:offsets[b + 1]] = scores @ second
    scores = np.hstack([threshold_scores, correlation_scores])
    inner = scores.T @ scores
    m_threshold = offsets[-1]
    a11 = np.zeros((m_threshold, m_threshold))
    for j in range(p):
        block = slice(offsets[j], offsets[j + 1])
        a11[block, block] = inner[block, block]
    a11_inverse = np.linalg.inv(a11)
    a22_inverse = np.diag(1.0 / np.sum(correlation_scores ** 2, axis=0))
    b_inverse = np.block([[a11_inverse, np.zeros((m_threshold, len(rows)))],
                          [-a22_inverse @ cross @ a11_inverse, a22_inverse]])
    return n * b_inverse @ inner @ b_inverse.T


def _threshold_scores(codes: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """(n, K-1) d log P(answer) / d tau_k of each respondent."""
    limits = _limits(thresholds)
    probability = special.ndtr(limits[codes + 1]) - special.ndtr(limits[codes])
    density = _normal_density(thresholds)
    k = np.arange(len(thresholds))
    # tau_k is the upper limit of category k and the lower limit of category k + 1.
    sign = (codes[:, None] == k).astype(float) - (codes[:, None] == k + 1)
    return sign * density / probability[:, None]


def _pair_scores(first_codes: np.ndarray, second_codes: np.ndarray, first: np.ndarray,
                 second: np.ndarray, rho: float) -> tuple[np.ndarray, ...]:
    """Each respondent's d log pi / d rho (n,), and d log pi / d tau of the pair's two
    items' thresholds, (n, K1-1) and (n, K2-1)."""
    probability = cell_probabilities(first, second, rho)
    with np.errstate(divide="ignore", invalid="ignore"):  # cells nobody answered: unused
        rho_scores = _cell_density_differences(first, second, rho) / probability
    cell_probability = probability[first_codes, second_codes]
    first_part = _bivariate_threshold_derivatives(first, second, rho)
    second_part = _bivariate_threshold_derivatives(second, first, rho).transpose(1, 0, 2)
    return (rho_scores[first_codes, second_codes],
            first_part[first_codes, second_codes] / cell_probability[:, None],
            second_part[first_codes, second_codes] / cell_probability[:, None])


def _bivariate_threshold_derivatives(own: np.ndarray, other: np.ndarray, rho: float
                                     ) -> np.ndarray:
    """(K_own, K_other, K_own - 1): d pi_kl / d tau_m of the ``own`` item's thresholds."""
    limits = _limits(other)
    root = np.sqrt(1 - rho * rho)
    # P(own* at tau_m, other* below each limit) along the own threshold tau_m.
    conditional = special.ndtr((limits[None, :] - rho * own[:, None]) / root)
    band = np.diff(conditional, axis=1) * _normal_density(own)[:, None]   # (K_own-1, K_other)
    k = np.arange(len(own) + 1)[:, None]
    m = np.arange(len(own))[None, :]
    sign = (k == m).astype(float) - (k == m + 1)                          # (K_own, K_own-1)
    return sign[:, None, :] * band.T[None, :, :]
