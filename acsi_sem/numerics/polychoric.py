"""Sample statistics of ordered answers, as lavaan computes them for WLSMV.

Each item is taken as a coarse reading of a standard-normal latent response: answer k means
the response fell between thresholds tau_{k-1} and tau_k. The thresholds come from the
item's cumulative proportions; each pair's polychoric correlation maximises the likelihood of
the pair's cross-table with the thresholds held fixed (two-step ML, Olsson 1979), as lavaan
0.6.14 defines it for tables with empty cells (its zero.add for 2x2 tables, its floor on a
cell's probability, its start; see :func:`_polychorics`). Their joint
asymptotic covariance (Muthén 1984) is built from casewise scores, as lavaan's ``muthen1984``:
outer products of scores, not Hessians.

Continuous items may stand beside the ordered ones (lavaan's ``ordered =`` naming some
items): each enters with its mean and variance, and its pairs with the polyserial or
Pearson correlation of :mod:`acsi_sem.numerics.polyserial`; the statistics then hold the
covariances of those pairs, not their correlations, as lavaan's do.

Statistics are ordered as lavaan orders them: item by item an ordered item's thresholds or a
continuous item's mean, then the continuous items' variances, then the correlations (or
covariances) column by column below the diagonal, (2,1), (3,1), ..., (p,1), (3,2), ...
lavaan stores minus the mean (and flips the sign of its rows of Gamma); this module keeps the
mean itself, which changes no estimate, standard error or test.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

import numpy as np
import pandas as pd
from scipy import special

from acsi_sem.numerics.normal import category_limits, normal_density, threshold_sides
from acsi_sem.numerics.polyserial import (
    POLYSERIAL_BOUND,
    ContinuousItem,
    PairScores,
    continuous_item,
    pearson_correlation,
    pearson_scores,
    polyserial_correlation,
    polyserial_scores,
)

# lavaan's bounds for a polychoric correlation.
RHO_BOUND = 0.999


@dataclass(frozen=True)
class OrdinalStatistics:
    """Thresholds, polychoric correlations and their asymptotic covariance; with continuous
    items also their means and variances and the polyserial and Pearson correlations.

    Attributes:
        items: the p item names.
        levels: each item's answer values, lowest first (K_j of them; none for a continuous
            item).
        thresholds: each item's K_j - 1 thresholds on the standard-normal scale (none for a
            continuous item).
        polychoric: (p, p) correlations, unit diagonal: polychoric between ordered items,
            polyserial between an ordered and a continuous one, Pearson between continuous.
        gamma: (m, m) asymptotic covariance of ``vector`` times N (lavaan's NACOV), with
            m = sum(K_j - 1) + 2 c + p(p - 1)/2 for c continuous items.
        n_obs: N, respondents.
        continuous: (p,) whether each item is continuous.
        means: (p,) the continuous items' means (0 for ordered items).
        variances: (p,) the continuous items' variances, divisor N (1 for ordered items).
        slopes: (p, nx) with observed covariates (lavaan's conditional.x) each item's
            probit slopes on them, the thresholds then the intercepts at x = 0 and the
            correlations residual ones (:mod:`acsi_sem.numerics.conditional`); ``None``
            without.
        covariates: the nx covariates' names (none without).
        covariate_covariance: (nx, nx) their sample covariance, divisor N - 1 (lavaan's
            ``cov.x`` under WLSMV), for the fixed.x rows and the marginal moments.
        messages: warnings met while computing the statistics (a polychoric correlation
            whose Newton steps did not settle), reported first by :meth:`problems`.
    """

    items: tuple[str, ...]
    levels: tuple[np.ndarray, ...]
    thresholds: tuple[np.ndarray, ...]
    polychoric: np.ndarray
    gamma: np.ndarray
    n_obs: int
    continuous: np.ndarray | None = None
    means: np.ndarray | None = None
    variances: np.ndarray | None = None
    slopes: np.ndarray | None = None
    covariates: tuple[str, ...] = ()
    covariate_covariance: np.ndarray | None = None
    messages: tuple[str, ...] = ()

    @property
    def is_continuous(self) -> np.ndarray:
        """(p,) whether each item is continuous (all False with ordered items only)."""
        if self.continuous is None:
            return np.zeros(len(self.items), dtype=bool)
        return np.asarray(self.continuous, dtype=bool)

    @property
    def n_thresholds(self) -> int:
        """Number of thresholds over all items."""
        return sum(len(t) for t in self.thresholds)

    @property
    def n_slopes(self) -> int:
        """Number of slopes on the covariates (0 without covariates)."""
        return 0 if self.slopes is None else self.slopes.size

    @property
    def n_univariate(self) -> int:
        """Number of statistics before the correlations: thresholds, means, slopes,
        variances."""
        return self.n_thresholds + self.n_slopes + 2 * int(self.is_continuous.sum())

    @property
    def standard_deviations(self) -> np.ndarray:
        """(p,) the continuous items' standard deviations, 1 for the ordered items."""
        if self.variances is None:
            return np.ones(len(self.items))
        return np.sqrt(self.variances)

    @property
    def covariance(self) -> np.ndarray:
        """(p, p) the correlations scaled by the continuous items' standard deviations
        (lavaan's sample ``cov``; the polychorics with ordered items only)."""
        sd = self.standard_deviations
        return self.polychoric * np.outer(sd, sd)

    def marginal_covariance(self, names: Sequence[str]) -> np.ndarray:
        """(v, v) the items' and covariates' covariance in ``names`` order (items and
        covariates, any order): given x the items' is ``covariance``, so marginally
        ``covariance + Pi Cxx Pi'``, with ``Pi Cxx`` between items and covariates."""
        slopes, cxx = self.slopes, self.covariate_covariance
        block = np.block([[self.covariance + slopes @ cxx @ slopes.T, slopes @ cxx],
                          [cxx @ slopes.T, cxx]])
        order = [(*self.items, *self.covariates).index(name) for name in names]
        return block[np.ix_(order, order)]

    @property
    def vector(self) -> np.ndarray:
        """(m,) item by item the thresholds or the mean, then the slopes covariate by
        covariate, the continuous items' variances, the covariances below the diagonal by
        column."""
        continuous = self.is_continuous
        first = [np.array([self.means[j]]) if continuous[j] else self.thresholds[j]
                 for j in range(len(self.items))]
        slopes = np.zeros(0) if self.slopes is None else self.slopes.ravel(order="F")
        variances = (self.variances[continuous] if continuous.any() else np.zeros(0))
        return np.concatenate([*first, slopes, variances, lower_triangle(self.covariance)])

    @property
    def weights(self) -> np.ndarray:
        """(m,) the DWLS weights, 1 / diag(gamma)."""
        return 1.0 / np.diag(self.gamma)

    def problems(self) -> list[str]:
        """Warnings about the sample statistics: correlations that did not converge or are
        stuck at their bound, and a correlation matrix that is not positive definite."""
        continuous = self.is_continuous
        messages = list(self.messages)
        for a, b in zip(*pair_indices(len(self.items)), strict=True):
            mixed = continuous[a] != continuous[b]
            bound = POLYSERIAL_BOUND if mixed else RHO_BOUND
            if (continuous[a] and continuous[b]) or abs(self.polychoric[a, b]) < bound - 1e-6:
                continue
            kind = "polyserial" if mixed else "polychoric"
            # lavaan fixes a binary pair with two empty cells at +-1 (see _add_to_empty_cells).
            cause = (" (two empty cells in their 2x2 table)"
                     if abs(self.polychoric[a, b]) == 1 else "")
            messages.append(f"the {kind} correlation of {self.items[a]} and {self.items[b]} "
                            f"is {self.polychoric[a, b]:+.3f}, at its bound{cause}: the two "
                            "items cannot be told apart and the estimates near them are "
                            "unreliable")
        smallest = np.linalg.eigvalsh(self.polychoric)[0]
        if smallest <= 0:
            matrix = ("matrix of polychoric, polyserial and Pearson correlations"
                      if continuous.any() else "polychoric correlation matrix")
            messages.append(f"the {matrix} is not positive definite (smallest eigenvalue "
                            f"{smallest:.3g}); the robust (catML) fit indices are undefined "
                            "and the model may be unstable")
        return messages


def lower_triangle(matrix: np.ndarray) -> np.ndarray:
    """Elements below the diagonal of a (p, p) matrix, column by column: (p(p-1)/2,)."""
    rows, columns = pair_indices(len(matrix))
    return matrix[rows, columns]


@cache
def pair_indices(p: int) -> tuple[np.ndarray, np.ndarray]:
    """Row and column of each correlation in :func:`lower_triangle` order (cached: DWLS
    evaluates the model's correlations thousands of times; read-only arrays)."""
    columns, rows = np.triu_indices(p, k=1)
    rows.flags.writeable = columns.flags.writeable = False
    return rows, columns


def bivariate_normal_cdf(h: np.ndarray, k: np.ndarray, rho: float | np.ndarray
                         ) -> np.ndarray:
    """P(X <= h, Y <= k) for standard bivariate normal X, Y with correlation ``rho`` (a
    number, or an array that broadcasts with ``h`` and ``k``: one per pair of items).

    Owen's T form, exact to rounding: Phi2 = (Phi(h) + Phi(k))/2 - T(h, a_h) - T(k, a_k)
    - beta (Owen 1956). Infinite limits are allowed.
    """
    h, k, rho = np.broadcast_arrays(np.asarray(h, dtype=float), np.asarray(k, dtype=float),
                                    np.asarray(rho, dtype=float))
    result = np.zeros(h.shape)
    finite = np.isfinite(h) & np.isfinite(k)
    result[np.isposinf(h) & np.isfinite(k)] = special.ndtr(k[np.isposinf(h) & np.isfinite(k)])
    result[np.isposinf(k) & np.isfinite(h)] = special.ndtr(h[np.isposinf(k) & np.isfinite(h)])
    result[np.isposinf(h) & np.isposinf(k)] = 1.0
    # rho = +-1 (two empty cells of a 2x2 table): X = Y or X = -Y.
    same, opposite = finite & (rho == 1), finite & (rho == -1)
    result[same] = special.ndtr(np.minimum(h[same], k[same]))
    result[opposite] = np.maximum(special.ndtr(h[opposite]) + special.ndtr(k[opposite]) - 1,
                                  0.0)
    inside = finite & (np.abs(rho) < 1)
    # Owen's formula divides by h and k; a zero limit moves by a negligible amount.
    x = np.where(h[inside] == 0, 1e-12, h[inside])
    y = np.where(k[inside] == 0, 1e-12, k[inside])
    r = rho[inside]
    root = np.sqrt(1 - r * r)
    beta = np.where(x * y > 0, 0.0, 0.5)
    result[inside] = ((special.ndtr(x) + special.ndtr(y)) / 2
                      - special.owens_t(x, (y - r * x) / (x * root))
                      - special.owens_t(y, (x - r * y) / (y * root)) - beta)
    return np.clip(result, 0.0, 1.0)


def bivariate_normal_pdf(h: np.ndarray, k: np.ndarray, rho: float | np.ndarray
                         ) -> np.ndarray:
    """The standard bivariate normal density at (h, k), 0 at infinite limits (``rho`` as
    in :func:`bivariate_normal_cdf`)."""
    return _density_and_slope(h, k, rho)[0]


def _density_and_slope(h: np.ndarray, k: np.ndarray, rho: float | np.ndarray
                       ) -> tuple[np.ndarray, np.ndarray]:
    """The standard bivariate normal density phi2 at (h, k) and its derivative with
    respect to rho, both 0 at infinite limits: d log phi2 / d rho = rho / (1 - rho^2)
    + (h k (1 - rho^2) - rho (h^2 - 2 rho h k + k^2)) / (1 - rho^2)^2."""
    h, k, rho = np.broadcast_arrays(np.asarray(h, dtype=float), np.asarray(k, dtype=float),
                                    np.asarray(rho, dtype=float))
    finite = np.isfinite(h) & np.isfinite(k)
    density, slope = np.zeros(h.shape), np.zeros(h.shape)
    x, y, r = h[finite], k[finite], rho[finite]
    one_minus = 1 - r * r
    quadratic = x * x - 2 * r * x * y + y * y
    density[finite] = (np.exp(-quadratic / (2 * one_minus))
                       / (2 * np.pi * np.sqrt(one_minus)))
    slope[finite] = density[finite] * (r / one_minus + (x * y * one_minus - r * quadratic)
                                       / one_minus ** 2)
    return density, slope


@dataclass(frozen=True)
class _Item:
    """One item on its own: an ordered item's categories or a continuous item's moments."""

    levels: np.ndarray
    codes: np.ndarray | None
    thresholds: np.ndarray
    continuous: ContinuousItem | None


def _item(values: np.ndarray, continuous: bool) -> _Item:
    if continuous:
        return _Item(levels=np.zeros(0), codes=None, thresholds=np.zeros(0),
                     continuous=continuous_item(values))
    levels = np.unique(values)
    codes = np.searchsorted(levels, values)
    return _Item(levels=levels, codes=codes, thresholds=_thresholds(codes, len(levels)),
                 continuous=None)


def ordinal_statistics(frame: pd.DataFrame, continuous: Sequence[str] = ()) -> OrdinalStatistics:
    """Thresholds, correlations and NACOV of the (n, p) answers in ``frame``; the columns
    named in ``continuous`` are continuous items, the others ordered."""
    items = [_item(frame[name].to_numpy(), name in continuous) for name in frame.columns]
    p = len(items)
    polychoric = np.eye(p)
    ordered_pairs = [(a, b) for a, b in zip(*pair_indices(p), strict=True)
                     if items[a].continuous is None and items[b].continuous is None]
    messages = []
    if ordered_pairs:
        first, second = np.array(ordered_pairs).T
        rho, unsettled = _polychorics(items, first, second)
        polychoric[first, second] = polychoric[second, first] = rho
        names = frame.columns
        messages = [f"the polychoric correlation of {names[first[k]]} and "
                    f"{names[second[k]]} did not converge in {MAX_RHO_STEPS} Newton steps "
                    f"(it stays at {rho[k]:+.3f}); the estimates near these items are "
                    "unreliable" for k in unsettled]
    for row, column in zip(*pair_indices(p), strict=True):
        if items[row].continuous is not None or items[column].continuous is not None:
            polychoric[row, column] = polychoric[column, row] = _pair_correlation(
                items[row], items[column])
    is_continuous = np.array([item.continuous is not None for item in items])
    moments = [item.continuous for item in items]
    return OrdinalStatistics(
        items=tuple(frame.columns), levels=tuple(item.levels for item in items),
        thresholds=tuple(item.thresholds for item in items), polychoric=polychoric,
        gamma=_asymptotic_covariance(items, polychoric), n_obs=len(frame),
        continuous=is_continuous,
        means=np.array([0.0 if m is None else m.mean for m in moments]),
        variances=np.array([1.0 if m is None else m.variance for m in moments]),
        messages=tuple(messages))


def _pair_correlation(first: _Item, second: _Item) -> float:
    """Polyserial or Pearson correlation of two items, as their kinds ask (at least one
    continuous; the polychorics come from :func:`_polychorics`)."""
    if first.continuous is not None and second.continuous is not None:
        return pearson_correlation(first.continuous, second.continuous)
    numeric, ordered = (first, second) if first.continuous is not None else (second, first)
    return polyserial_correlation(numeric.continuous, ordered.codes, ordered.thresholds)


def _thresholds(codes: np.ndarray, categories: int) -> np.ndarray:
    counts = np.bincount(codes, minlength=categories)
    return special.ndtri(np.cumsum(counts)[:-1] / len(codes))


def cell_probabilities(first: np.ndarray, second: np.ndarray, rho: float) -> np.ndarray:
    """(K1, K2) probabilities of the cross-table's cells given both items' thresholds."""
    cdf = bivariate_normal_cdf(category_limits(first)[:, None],
                               category_limits(second)[None, :], rho)
    return np.diff(np.diff(cdf, axis=0), axis=1)


# lavaan's lav_dbinorm evaluates the bivariate density at |rho| <= 0.9999 (it matters only
# for a correlation fixed at +-1, whose scores then stay finite).
DENSITY_BOUND = 0.9999


def _cell_density_differences(first: np.ndarray, second: np.ndarray, rho: float
                              ) -> np.ndarray:
    """(K1, K2) derivatives of the cell probabilities with respect to rho (the density
    taken at rho within +-``DENSITY_BOUND``, as lavaan's)."""
    pdf = bivariate_normal_pdf(category_limits(first)[:, None],
                               category_limits(second)[None, :],
                               np.clip(rho, -DENSITY_BOUND, DENSITY_BOUND))
    return np.diff(np.diff(pdf, axis=0), axis=1)


# Steps on rho stop below this (the log-likelihood is then at its maximum to rounding).
RHO_TOLERANCE = 1e-12
MAX_RHO_STEPS = 200
# lavaan's floor on a cell probability in the polychoric likelihood and its scores,
# sqrt(.Machine$double.eps) (lav_bvord_noexo_pi_cache).
LIKELIHOOD_FLOOR = float(np.sqrt(np.finfo(float).eps))


def _polychorics(items: list[_Item], first: np.ndarray, second: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray]:
    """(P,) the polychoric correlation of each pair of ordered items ``items[first[k]]``,
    ``items[second[k]]``: a maximum of the pair's cross-table likelihood with the
    thresholds held fixed, in [-RHO_BOUND, RHO_BOUND]; and the positions k of the pairs
    still unsettled after ``MAX_RHO_STEPS`` steps (their last step is kept).

    All pairs are solved at once, from lavaan's start (the Pearson correlation of the
    category numbers) up lavaan's likelihood (cell probabilities floored at
    ``LIKELIHOOD_FLOOR``; :func:`_ascend`, :func:`_highest_of_several_maxima`): the
    cross-tables and cell probabilities are stacked (P, K, K) arrays, every item padded to
    the most categories K with empty categories (limits at +inf, no answers).
    """
    size = max(len(items[j].levels) for j in (*first, *second))
    limits = {j: np.concatenate([category_limits(items[j].thresholds),
                                 np.full(size - len(items[j].levels), np.inf)])
              for j in set(first) | set(second)}
    upper = np.stack([limits[j] for j in first])[:, :, None]     # (P, K+1, 1)
    lower = np.stack([limits[j] for j in second])[:, None, :]    # (P, 1, K+1)
    codes = np.stack([items[a].codes * size + items[b].codes for a, b
                      in zip(first, second, strict=True)])
    offsets = (np.arange(len(first)) * size * size)[:, None]
    tables = np.bincount((codes + offsets).ravel(), minlength=len(first) * size * size
                         ).reshape(len(first), size, size).astype(float)
    binary = np.array([len(items[a].levels) == 2 and len(items[b].levels) == 2
                       for a, b in zip(first, second, strict=True)], dtype=bool)
    tables, fixed = _add_to_empty_cells(tables, binary)
    rho = np.where(np.isnan(fixed), _pearson_starts(items, first, second), fixed)
    estimated = np.flatnonzero(np.isnan(fixed))
    rho, unsettled = _ascend(tables, upper, lower, rho, estimated)
    return _highest_of_several_maxima(tables, upper, lower, rho, estimated), unsettled


# The longest step on rho; steps halve (up to MAX_HALVINGS times) until the log-likelihood
# rises by more than GAIN_TOLERANCE relative (rounding, or a flat ridge, is no rise); a
# Newton step below NEWTON_TRUST is taken as it is (the log-likelihood is quadratic there).
MAX_RHO_STEP = 0.5
# The step where the log-likelihood is not concave: short, not to leap over a maximum.
UPHILL_STEP = 0.05
MAX_HALVINGS = 40
GAIN_TOLERANCE = 1e-13
NEWTON_TRUST = 1e-4


def _ascend(tables: np.ndarray, upper: np.ndarray, lower: np.ndarray, rho: np.ndarray,
            active: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Climb each pair's log-likelihood from ``rho`` (P,) to its nearest maximum, as
    lavaan's nlminb does from its start: Newton steps where the curvature is negative,
    otherwise ``UPHILL_STEP`` uphill, halved until the log-likelihood rises, within the
    bounds. With lavaan's probability floor the likelihood may have several maxima (one at
    a bound) and flat ridges; a root search on the score could settle on any of them.

    Args:
        tables, upper, lower: as :func:`_loglik_derivatives`, (P, ...).
        rho: (P,) the starts; pairs outside ``active`` (positions) are left as they are.

    Returns:
        rho (P,) and the positions still moving after ``MAX_RHO_STEPS`` steps.
    """
    rho = rho.copy()
    value, score, curvature = (np.zeros(len(rho)) for _ in range(3))
    value[active], score[active], curvature[active] = _loglik_derivatives(
        tables[active], upper[active], lower[active], rho[active])
    for _ in range(MAX_RHO_STEPS):
        if not len(active):
            break
        step = _ascent_step(rho[active], score[active], curvature[active])
        trusted = (curvature[active] < 0) & (np.abs(step) < NEWTON_TRUST)
        pending = np.abs(step) >= RHO_TOLERANCE
        for _ in range(MAX_HALVINGS):
            if not pending.any():
                break
            who = active[pending]
            trial = rho[who] + step[pending]
            found = _loglik_derivatives(tables[who], upper[who], lower[who], trial)
            better = trusted[pending] | (found[0] - value[who]
                                         > GAIN_TOLERANCE * np.abs(value[who]))
            took = who[better]
            rho[took] = trial[better]
            value[took], score[took], curvature[took] = (part[better] for part in found)
            positions = np.flatnonzero(pending)
            step[positions[~better]] /= 2
            pending[positions[better]] = False
        # No step found uphill even after MAX_HALVINGS halvings: a maximum to rounding.
        settled = (np.abs(step) < RHO_TOLERANCE) | pending
        active = active[~settled]
    return rho, active


# Grid of starts over [-RHO_BOUND, RHO_BOUND] where a likelihood may have several maxima.
GRID_POINTS = 41


def _highest_of_several_maxima(tables: np.ndarray, upper: np.ndarray, lower: np.ndarray,
                               rho: np.ndarray, estimated: np.ndarray) -> np.ndarray:
    """(P,) ``rho``, or where a pair's likelihood may have several maxima - an answered
    cell at the probability floor, or rho at its bound - the higher maximum climbed from
    the best point of a grid. The floor makes the likelihood flat beyond the point where a
    far cell's probability falls below it, so a long step from lavaan's start can land on
    that plateau past the maximum lavaan finds (a 4x3 table: 0.999 instead of 0.957)."""
    r = rho[estimated][:, None, None]
    probability = np.diff(np.diff(bivariate_normal_cdf(upper[estimated], lower[estimated], r),
                                  axis=1), axis=2)
    floored = np.any((tables[estimated] > 0) & (probability <= LIKELIHOOD_FLOOR), axis=(1, 2))
    doubtful = estimated[floored | (np.abs(rho[estimated]) >= RHO_BOUND)]
    if not len(doubtful):
        return rho
    grid = np.linspace(-RHO_BOUND, RHO_BOUND, GRID_POINTS)
    repeat = np.repeat(doubtful, GRID_POINTS)
    values = _loglik_derivatives(tables[repeat], upper[repeat], lower[repeat],
                                 np.tile(grid, len(doubtful)))[0].reshape(-1, GRID_POINTS)
    starts = _with(rho, doubtful, grid[np.argmax(values, axis=1)])
    climbed, _ = _ascend(tables, upper, lower, starts, doubtful)
    before, after = (_loglik_derivatives(tables[doubtful], upper[doubtful], lower[doubtful],
                                         candidate[doubtful])[0] for candidate in (rho, climbed))
    higher = doubtful[after > before]
    return _with(rho, higher, climbed[higher])


def _with(values: np.ndarray, positions: np.ndarray, replacement: np.ndarray) -> np.ndarray:
    """A copy of ``values`` with ``replacement`` at ``positions``."""
    copy = values.copy()
    copy[positions] = replacement
    return copy


def _ascent_step(rho: np.ndarray, score: np.ndarray, curvature: np.ndarray) -> np.ndarray:
    """(P,) the Newton step where the curvature is negative, else ``UPHILL_STEP`` uphill,
    no longer than ``MAX_RHO_STEP`` and ending within [-RHO_BOUND, RHO_BOUND]."""
    with np.errstate(divide="ignore", invalid="ignore"):
        newton = -score / curvature
    step = np.where(curvature < 0, newton, np.sign(score) * UPHILL_STEP)
    step = np.clip(np.nan_to_num(step), -MAX_RHO_STEP, MAX_RHO_STEP)
    return np.clip(rho + step, -RHO_BOUND, RHO_BOUND) - rho


def _pearson_starts(items: list[_Item], first: np.ndarray, second: np.ndarray
                    ) -> np.ndarray:
    """(P,) lavaan's start for each polychoric correlation (lav_bvord_init_cache): the
    Pearson correlation of the two items' category numbers, 0 where it is undefined or
    +-1, within the bounds (nlminb's box)."""
    used = sorted(set(first) | set(second))
    where = {j: k for k, j in enumerate(used)}
    with np.errstate(divide="ignore", invalid="ignore"):
        pearson = np.corrcoef(np.column_stack([items[j].codes for j in used]), rowvar=False)
    start = np.atleast_2d(pearson)[[where[a] for a in first], [where[b] for b in second]]
    usable = np.isfinite(start) & (np.abs(start) < 1)
    return np.where(usable, np.clip(start, -RHO_BOUND, RHO_BOUND), 0.0)


# lavaan's zero.add = c(0.5, 0): half a respondent moves into the empty cell of a 2x2 table.
ZERO_ADD = 0.5


def _add_to_empty_cells(tables: np.ndarray, binary: np.ndarray
                        ) -> tuple[np.ndarray, np.ndarray]:
    """lavaan's treatment of empty cells in binary pairs (``lav_bvord_cor_twostep_fit``
    with its defaults zero.add = c(0.5, 0), zero.keep.margins = TRUE): one empty cell of a
    2x2 table gets ``ZERO_ADD``, so does the cell diagonally opposite, and the other two
    lose as much (the margins, and so the thresholds, stay); without it the likelihood
    rises to a flat ridge along the bound. Two empty cells fix rho at +1 (the diagonal
    answered) or -1. Larger tables are left alone (zero.add[2] = 0).

    Args:
        tables: (P, K, K) cross-tables, a binary pair's in its top-left 2x2 corner.
        binary: (P,) whether both items of a pair have two categories.

    Returns:
        The adjusted tables (P, K, K) and (P,) the fixed correlations: +1 or -1 for two
        empty cells, NaN where rho is to be estimated.
    """
    tables = tables.copy()
    fixed = np.full(len(tables), np.nan)
    corner = tables[:, :2, :2]
    empty = np.sum(corner == 0, axis=(1, 2))
    two = binary & (empty == 2)
    fixed[two] = np.where(corner[two, 0, 0] > 0, 1.0, -1.0)
    one = np.flatnonzero(binary & (empty == 1))
    on_diagonal = (corner[one, 0, 0] == 0) | (corner[one, 1, 1] == 0)
    sign = np.where(on_diagonal, 1.0, -1.0)[:, None, None]
    tables[one, :2, :2] += sign * ZERO_ADD * np.array([[1.0, -1.0], [-1.0, 1.0]])
    return tables, fixed


def _loglik_derivatives(tables: np.ndarray, upper: np.ndarray, lower: np.ndarray,
                        rho: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(P,) each pair's log L, d log L / d rho and d^2 log L / d rho^2 at ``rho`` (P,),
    with ``tables`` (P, K, K) the cross-tables and ``upper`` (P, K+1, 1), ``lower``
    (P, 1, K+1) the two items' category limits: the cells' d pi / d rho are the
    differences of the density phi2 at their corners (d Phi2 / d rho = phi2), their second
    derivatives those of d phi2 / d rho."""
    r = rho[:, None, None]
    cdf = bivariate_normal_cdf(upper, lower, r)
    density, slope = _density_and_slope(upper, lower, r)

    def cells(corners: np.ndarray) -> np.ndarray:
        return np.diff(np.diff(corners, axis=1), axis=2)

    probability = cells(cdf)
    # lavaan floors a cell's probability at LIKELIHOOD_FLOOR, so an answered cell below it
    # (a far corner at rho near the bound) adds a constant to the log-likelihood and
    # nothing to the gradient and Hessian (lav_bvord_gradient_cache); dividing by its
    # underflowing probability overflowed, and moved rho away from lavaan's.
    answered = tables > 0
    counted = answered & (probability > LIKELIHOOD_FLOOR)
    loglik = np.sum(np.where(answered, tables * np.log(np.maximum(probability,
                                                                    LIKELIHOOD_FLOOR)), 0.0),
                    axis=(1, 2))
    probability = np.where(counted, probability, 1.0)
    first = cells(density) / probability
    second = cells(slope) / probability
    score = np.sum(np.where(counted, tables * first, 0.0), axis=(1, 2))
    curvature = np.sum(np.where(counted, tables * (second - first ** 2), 0.0), axis=(1, 2))
    return loglik, score, curvature


def _asymptotic_covariance(items: list[_Item], polychoric: np.ndarray) -> np.ndarray:
    """lavaan's NACOV (``muthen1984``): N B^-1 (sum_i s_i s_i') B^-T / N with B from score
    outer products, then turned from correlations to covariances where continuous items
    take part (the delta method, lavaan's H)."""
    n, p = _n_respondents(items), len(items)
    columns_of = _univariate_columns(items)
    n_univariate = sum(len(c) for c in columns_of)
    univariate_scores = np.zeros((n, n_univariate))
    for item, columns in zip(items, columns_of, strict=True):
        univariate_scores[:, columns] = (
            item.continuous.scores() if item.continuous is not None
            else _threshold_scores(item.codes, item.thresholds))
    rows, columns = pair_indices(p)
    correlation_scores = np.empty((n, len(rows)))
    cross = np.zeros((len(rows), n_univariate))
    for pair, (a, b) in enumerate(zip(rows, columns, strict=True)):
        scores = _correlation_scores(items[a], items[b], polychoric[a, b])
        correlation_scores[:, pair] = scores.rho
        cross[pair, columns_of[a]] = scores.rho @ scores.first
        cross[pair, columns_of[b]] = scores.rho @ scores.second
    gamma = two_stage_covariance(univariate_scores, correlation_scores, cross, columns_of)
    if all(item.continuous is None for item in items):
        return gamma
    to_covariance = _covariance_jacobian(items, columns_of, polychoric)
    return to_covariance @ gamma @ to_covariance.T


def _n_respondents(items: list[_Item]) -> int:
    item = items[0]
    return len(item.codes) if item.continuous is None else len(item.continuous.values)


def _univariate_columns(items: list[_Item]) -> list[np.ndarray]:
    """Each item's columns among the univariate statistics: an ordered item's thresholds,
    or a continuous item's mean (in the item's place) and variance (after all items)."""
    sizes = [1 if item.continuous is not None else len(item.thresholds) for item in items]
    offsets = np.concatenate([[0], np.cumsum(sizes)])
    variance_column = offsets[-1]
    columns = []
    for j, item in enumerate(items):
        if item.continuous is None:
            columns.append(np.arange(offsets[j], offsets[j + 1]))
        else:
            columns.append(np.array([offsets[j], variance_column]))
            variance_column += 1
    return columns


def _correlation_scores(first: _Item, second: _Item, rho: float) -> PairScores:
    """The pair's scores, ``first`` and ``second`` for the two items' own parameters."""
    if first.continuous is None and second.continuous is None:
        return PairScores(*_pair_scores(first.codes, second.codes, first.thresholds,
                                        second.thresholds, rho))
    if first.continuous is not None and second.continuous is not None:
        return pearson_scores(first.continuous, second.continuous, rho)
    if first.continuous is not None:
        return polyserial_scores(first.continuous, second.codes, second.thresholds, rho)
    scores = polyserial_scores(second.continuous, first.codes, first.thresholds, rho)
    return PairScores(rho=scores.rho, first=scores.second, second=scores.first)


def _covariance_jacobian(items: list[_Item], columns_of: list[np.ndarray],
                         polychoric: np.ndarray) -> np.ndarray:
    """(m, m) d statistics / d (univariate statistics, correlations) where a continuous
    item's correlations become covariances, r_ab sd_a sd_b (lavaan's H in muthen1984)."""
    n_univariate = sum(len(c) for c in columns_of)
    rows, columns = pair_indices(len(items))
    jacobian = np.eye(n_univariate + len(rows))
    sd = np.array([1.0 if item.continuous is None else np.sqrt(item.continuous.variance)
                   for item in items])
    for pair, (a, b) in enumerate(zip(rows, columns, strict=True)):
        index = n_univariate + pair
        jacobian[index, index] = sd[a] * sd[b]
        for own, other in ((a, b), (b, a)):
            if items[own].continuous is not None:
                # d (r sd_a sd_b) / d var_own = r sd_other / (2 sd_own)
                jacobian[index, columns_of[own][1]] = (polychoric[a, b] * sd[other]
                                                       / (2 * sd[own]))
    return jacobian


def _threshold_scores(codes: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """(n, K-1) d log P(answer) / d tau_k of each respondent."""
    limits = category_limits(thresholds)
    probability = special.ndtr(limits[codes + 1]) - special.ndtr(limits[codes])
    upper, lower = threshold_sides(codes, len(thresholds))
    return ((upper.astype(float) - lower) * normal_density(thresholds)
            / probability[:, None])


def _pair_scores(first_codes: np.ndarray, second_codes: np.ndarray, first: np.ndarray,
                 second: np.ndarray, rho: float) -> tuple[np.ndarray, ...]:
    """Each respondent's d log pi / d rho (n,), and d log pi / d tau of the pair's two
    items' thresholds, (n, K1-1) and (n, K2-1); 0 for a respondent whose cell's probability
    is at most ``LIKELIHOOD_FLOOR`` (lavaan's scores are NA there and its sums leave them
    out)."""
    probability = cell_probabilities(first, second, rho)
    # Cells below the floor (nobody's, or lavaan's left-out ones) are divided by 1.
    usable = probability > LIKELIHOOD_FLOOR
    probability = np.where(usable, probability, 1.0)
    rho_scores = np.where(usable, _cell_density_differences(first, second, rho)
                          / probability, 0.0)
    first_part = _bivariate_threshold_derivatives(first, second, rho)
    second_part = _bivariate_threshold_derivatives(second, first, rho).transpose(1, 0, 2)
    cell = usable[first_codes, second_codes][:, None]
    cell_probability = probability[first_codes, second_codes][:, None]
    return (rho_scores[first_codes, second_codes],
            np.where(cell, first_part[first_codes, second_codes] / cell_probability, 0.0),
            np.where(cell, second_part[first_codes, second_codes] / cell_probability, 0.0))


def _bivariate_threshold_derivatives(own: np.ndarray, other: np.ndarray, rho: float
                                     ) -> np.ndarray:
    """(K_own, K_other, K_own - 1): d pi_kl / d tau_m of the ``own`` item's thresholds."""
    limits = category_limits(other)
    root = np.sqrt(1 - rho * rho)
    if root == 0:
        # rho = +-1: lavaan's lav_bvord_cor_scores_cache takes half the density for every
        # cell (its stand-in for the degenerate conditional probabilities).
        band = np.repeat(0.5 * normal_density(own)[:, None], len(limits) - 1, axis=1)
    else:
        # P(own* at tau_m, other* below each limit) along the own threshold tau_m.
        conditional = special.ndtr((limits[None, :] - rho * own[:, None]) / root)
        band = np.diff(conditional, axis=1) * normal_density(own)[:, None]  # (K_own-1, K_o)
    k = np.arange(len(own) + 1)[:, None]
    m = np.arange(len(own))[None, :]
    sign = (k == m).astype(float) - (k == m + 1)                          # (K_own, K_own-1)
    return sign[:, None, :] * band.T[None, :, :]


def two_stage_covariance(univariate_scores: np.ndarray, correlation_scores: np.ndarray,
                         cross: np.ndarray, columns_of: list[np.ndarray]) -> np.ndarray:
    """lavaan's NACOV of two-stage statistics (muthen1984): ``N B^-1 (S'S) B^-T`` from the
    respondents' scores of the univariate statistics (n, u) and of the correlations (n, r),
    with ``B`` block triangular: each item's own univariate block (``columns_of``) of
    ``S'S``, the correlations' diagonal, and ``cross`` (r, u), each correlation's score
    against its two items' univariate statistics."""
    n, n_univariate = univariate_scores.shape
    scores = np.hstack([univariate_scores, correlation_scores])
    inner = scores.T @ scores
    a11 = np.zeros((n_univariate, n_univariate))
    for own in columns_of:
        a11[np.ix_(own, own)] = inner[np.ix_(own, own)]
    a11_inverse = np.linalg.inv(a11)
    a22_inverse = np.diag(1.0 / np.sum(correlation_scores ** 2, axis=0))
    b_inverse = np.block([[a11_inverse, np.zeros((n_univariate, correlation_scores.shape[1]))],
                          [-a22_inverse @ cross @ a11_inverse, a22_inverse]])
    return n * b_inverse @ inner @ b_inverse.T
