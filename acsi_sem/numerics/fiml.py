"""Full-information maximum likelihood for answers missing at random.

Each respondent contributes the normal log-likelihood of the answers they gave, under the
model-implied means and covariances of those items. Respondents are grouped by their
pattern of given answers, so the work grows with the number of patterns, not of people.
The saturated model (free means and covariances) is fitted by EM; it gives the
unrestricted log-likelihood the chi-square is measured against.

With sampling weights (lavaan's ``sampling.weights`` with ``missing = "ml"``) each
respondent's log-likelihood counts times their weight, rescaled to sum N: a pattern's count
is its rows' weight sum, its means and scatter are weighted, and so is EM.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from acsi_sem.model.ram import RamModel
from acsi_sem.numerics.ml import hessian_from_gradient

_LOG_2PI = np.log(2 * np.pi)


@dataclass(frozen=True)
class MissingPatterns:
    """Respondents grouped by which items they answered.

    Attributes:
        answered: (k, p) True where the pattern has an answer.
        counts: (k,) respondents per pattern.
        means: per pattern, the mean of its answered items.
        scatter: per pattern, the covariance (divisor: its count) of its answered items.
        rows: per pattern, the respondents' row positions.
        row_weights: (n,) each row's sampling weight (rescaled to sum n), or None; the
            counts are then weight sums and the means and scatter weighted.
    """

    answered: np.ndarray
    counts: np.ndarray
    means: tuple[np.ndarray, ...]
    scatter: tuple[np.ndarray, ...]
    rows: tuple[np.ndarray, ...]
    row_weights: np.ndarray | None = None

    @classmethod
    def from_items(cls, items: np.ndarray, weights: np.ndarray | None = None
                   ) -> MissingPatterns:
        """Group the rows of ``items`` (n, p; NaN for a missing answer) by pattern; with
        sampling ``weights`` (n,), taken as given (e.g. rescaled to sum n), the patterns'
        counts, means and scatter are weighted."""
        answered = ~np.isnan(items)
        unique, inverse = np.unique(answered, axis=0, return_inverse=True)
        inverse = inverse.ravel()
        rows = tuple(np.flatnonzero(inverse == k) for k in range(len(unique)))
        means, scatter = [], []
        for mask, members in zip(unique, rows, strict=True):
            values = items[np.ix_(members, mask)]
            own = None if weights is None else weights[members]
            if own is not None and not own.sum() > 0:
                # Respondents who all weigh 0 count 0 times: their pattern adds nothing.
                means.append(values.mean(axis=0))
                scatter.append(np.zeros((int(mask.sum()), int(mask.sum()))))
                continue
            means.append(np.average(values, axis=0, weights=own))
            deviations = values - means[-1]
            scatter.append(deviations.T @ deviations / len(members) if own is None
                           else (deviations * own[:, None]).T @ deviations / own.sum())
        counts = (np.array([len(r) for r in rows]) if weights is None
                  else np.array([weights[r].sum() for r in rows]))
        return cls(unique, counts, tuple(means), tuple(scatter), rows, weights)

    @property
    def n_obs(self) -> float:
        """Respondents with at least one answer; with sampling weights their weight sum
        (n_g of lavaan's "total" normalization in a group, n in one group)."""
        if self.row_weights is None:
            return int(self.counts.sum())
        return float(self.counts.sum())

    def pattern_weights(self, pattern: int) -> np.ndarray:
        """(n_k,) the weights of pattern ``pattern``'s rows (ones without weights)."""
        members = self.rows[pattern]
        return np.ones(len(members)) if self.row_weights is None else self.row_weights[members]

    @cached_property
    def stacked(self) -> StackedPatterns:
        """The same patterns as padded arrays (built once), for the vectorised likelihood."""
        k, p = self.answered.shape
        means, scatter = np.zeros((k, p)), np.zeros((k, p, p))
        for index, mask in enumerate(self.answered):
            means[index, mask] = self.means[index]
            scatter[index][np.ix_(mask, mask)] = self.scatter[index]
        return StackedPatterns(self.answered, self.counts.astype(float), means, scatter)


@dataclass(frozen=True)
class StackedPatterns:
    """Answer patterns as arrays padded to all p items, so that the likelihood of every
    pattern is computed at once (one batched factorization instead of a loop).

    Attributes:
        answered: (k, p) True where the pattern has an answer.
        counts: (k,) respondents per pattern (a resample's summed count weights).
        means: (k, p) mean of each pattern's answered items, 0 where not answered.
        scatter: (k, p, p) covariance (divisor: the count) of the answered items, 0 in every
            row and column of an item not answered.
    """

    answered: np.ndarray
    counts: np.ndarray
    means: np.ndarray
    scatter: np.ndarray

    @property
    def n_obs(self) -> int:
        """Respondents with at least one answer."""
        return round(float(self.counts.sum()))

    @property
    def stacked(self) -> StackedPatterns:
        """Itself, so that the likelihood takes either form."""
        return self


@dataclass(frozen=True)
class PatternResampler:
    """One group's answers arranged once for its bootstrap: a resample only reweights the
    rows within each answer pattern, so every pattern's count, means and scatter are
    weighted sums over the same rows (no regrouping by pattern per replicate).

    Attributes:
        answered: (k, p) True where the pattern has an answer.
        membership: (k, n) 1 where row i has pattern k, else 0.
        centres: (k, p) each pattern's full-sample means (0 where not answered), subtracted
            from its rows so that the resample's scatter loses no digits to the means.
        centred: (n, p) each row minus its pattern's centre, 0 where not answered.
        products: (n, p * p) each centred row's outer product.
    """

    answered: np.ndarray
    membership: np.ndarray
    centres: np.ndarray
    centred: np.ndarray
    products: np.ndarray

    @classmethod
    def from_items(cls, items: np.ndarray) -> PatternResampler:
        """Arrange ``items`` (n, p; NaN for a missing answer) by pattern."""
        full = MissingPatterns.from_items(items).stacked
        answered = ~np.isnan(items)
        pattern = np.unique(answered, axis=0, return_inverse=True)[1].ravel()
        centred = np.where(answered, items, 0.0) - full.means[pattern]
        membership = (pattern[None, :] == np.arange(len(full.answered))[:, None]).astype(
            float)
        products = (centred[:, :, None] * centred[:, None, :]).reshape(len(items), -1)
        return cls(full.answered, membership, full.means, centred, products)

    def resample(self, weights: np.ndarray) -> StackedPatterns:
        """The patterns of a resample that drew row i ``weights[i]`` times (n,); patterns
        nobody was drawn from are left out."""
        weighted = self.membership * weights
        counts = weighted.sum(axis=1)
        drawn = counts > 0
        weighted, counts = weighted[drawn], counts[drawn]
        k, p = len(counts), self.centred.shape[1]
        shift = weighted @ self.centred / counts[:, None]
        second = (weighted @ self.products).reshape(k, p, p) / counts[:, None, None]
        scatter = second - shift[:, :, None] * shift[:, None, :]
        return StackedPatterns(self.answered[drawn], counts, self.centres[drawn] + shift,
                               scatter)


# Either form of the patterns: every likelihood function reads ``patterns.stacked``.
Patterns = MissingPatterns | StackedPatterns


def loglik(patterns: Patterns, mu: np.ndarray, sigma: np.ndarray) -> float:
    """The observed-data log-likelihood at means ``mu`` (p,) and covariance ``sigma`` (p, p);
    ``-inf`` where a pattern's covariance is not positive definite."""
    return loglik_and_derivatives(patterns, mu, sigma, with_derivatives=False)[0]


def loglik_and_derivatives(patterns: Patterns, mu: np.ndarray, sigma: np.ndarray, *,
                           with_derivatives: bool = True
                           ) -> tuple[float, np.ndarray | None, np.ndarray | None]:
    """The observed-data log-likelihood, and (if asked for) its derivatives by sigma (p, p;
    entries treated as unconstrained) and by mu (p,), every pattern's covariance factorized
    at once; ``-inf`` where a pattern's covariance is not positive definite."""
    stacked = patterns.stacked
    inverses = pattern_inverses(stacked.answered, sigma)
    if inverses is None:
        p = len(mu)
        return (-np.inf, *((np.zeros((p, p)), np.zeros(p)) if with_derivatives
                           else (None, None)))
    precision, logdet = inverses
    counts, answered = stacked.counts, stacked.answered
    difference = (stacked.means - mu) * answered
    moments = stacked.scatter + difference[:, :, None] * difference[:, None, :]
    traces = np.einsum("kij,kij->k", precision, moments)
    total = -0.5 * counts @ (answered.sum(axis=1) * _LOG_2PI + logdet + traces)
    if not with_derivatives:
        return float(total), None, None
    weighted = precision * counts[:, None, None]
    # matmul, not a three-operand einsum, which numpy evaluates without BLAS (40 times slower).
    by_sigma = -0.5 * (weighted - weighted @ moments @ precision).sum(axis=0)
    by_mu = np.einsum("kij,kj->i", weighted, difference)
    return float(total), by_sigma, by_mu


def pattern_inverses(answered: np.ndarray, sigma: np.ndarray
                     ) -> tuple[np.ndarray, np.ndarray] | None:
    """Each pattern's inverse covariance of its answered items, padded with zeros to (k, p,
    p), and its log-determinant (k,); ``None`` where one is not positive definite.

    The unanswered items' rows and columns are replaced by the identity's, which leaves the
    answered block's inverse and determinant as they are and gives every pattern one shape.
    """
    outer = answered[:, :, None] & answered[:, None, :]
    unanswered = np.eye(len(sigma), dtype=bool) & ~outer
    blocks = np.where(outer, sigma, 0.0) + unanswered
    try:
        factors = np.linalg.cholesky(blocks)
    except np.linalg.LinAlgError:
        return None
    logdet = 2 * np.log(np.diagonal(factors, axis1=1, axis2=2)).sum(axis=1)
    return np.linalg.inv(blocks) * outer, logdet


def saturated_em(patterns: MissingPatterns, items: np.ndarray, *, tolerance: float = 1e-12,
                 max_iterations: int = 10_000) -> tuple[np.ndarray, np.ndarray, float]:
    """ML means (p,) and covariance (p, p) of incomplete ``items`` (n, p) by EM, and the
    log-likelihood there (the unrestricted, h1, log-likelihood)."""
    mu = np.nanmean(items, axis=0)
    sigma = np.diag(np.nanvar(items, axis=0))
    previous = -np.inf
    for _ in range(max_iterations):
        mu, sigma = _em_step(patterns, items, mu, sigma)
        current = loglik(patterns, mu, sigma)
        if abs(current - previous) < tolerance * max(1.0, abs(current)):
            break
        previous = current
    return mu, sigma, current


def _em_step(patterns: MissingPatterns, items: np.ndarray, mu: np.ndarray,
             sigma: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    p = items.shape[1]
    n = float(patterns.counts.sum())
    first, second = np.zeros(p), np.zeros((p, p))
    for k, (mask, members) in enumerate(zip(patterns.answered, patterns.rows, strict=True)):
        own = patterns.pattern_weights(k)  # ones without weights
        filled = np.tile(mu, (len(members), 1))
        filled[:, mask] = items[np.ix_(members, mask)]
        conditional = np.zeros((p, p))
        gone = ~mask
        if gone.any():
            regression = np.linalg.solve(sigma[np.ix_(mask, mask)], sigma[np.ix_(mask, gone)])
            filled[:, gone] += (filled[:, mask] - mu[mask]) @ regression
            conditional[np.ix_(gone, gone)] = (sigma[np.ix_(gone, gone)]
                                               - sigma[np.ix_(gone, mask)] @ regression)
        if patterns.row_weights is None:
            first += filled.sum(axis=0)
            second += filled.T @ filled + len(members) * conditional
        else:
            first += own @ filled
            second += (filled * own[:, None]).T @ filled + own.sum() * conditional
    mu = first / n
    return mu, second / n - np.outer(mu, mu)


def independence_loglik(items: np.ndarray, weights: np.ndarray | None = None) -> float:
    """Log-likelihood of the baseline model (free means and variances, no covariances): each
    item on its own answers; with sampling ``weights`` (n,), rescaled to sum n, weighted."""
    total = 0.0
    for column in items.T:
        answered = ~np.isnan(column)
        own = None if weights is None else weights[answered]
        values = column[answered]
        _, variance = item_moments(values, own)
        size = len(values) if own is None else own.sum()
        total -= size / 2 * (_LOG_2PI + np.log(variance) + 1)
    return float(total)


def item_moments(values: np.ndarray, weights: np.ndarray | None = None
                 ) -> tuple[float, float]:
    """Mean and variance (divisor: the weights' sum) of one item's answers (m,), weighted
    by ``weights`` (m,) or not."""
    mean = float(np.average(values, weights=weights))
    return mean, float(np.average((values - mean) ** 2, weights=weights))


def fiml_value(ram: RamModel, patterns: Patterns, theta: np.ndarray) -> float:
    """Minus the log-likelihood per respondent at ``theta`` (q,) alone (``inf`` where a
    pattern's implied covariance is not positive definite), for line searches."""
    value = loglik(patterns, ram.implied_mean(theta), ram.implied_covariance(theta))
    return -value / patterns.n_obs if np.isfinite(value) else np.inf


def fiml_objective(ram: RamModel, patterns: Patterns, theta: np.ndarray
                   ) -> tuple[float, np.ndarray]:
    """Minus the log-likelihood per respondent and its gradient (q,) at ``theta``."""
    sigma, mu = ram.implied_covariance(theta), ram.implied_mean(theta)
    value, by_sigma, by_mu = loglik_and_derivatives(patterns, mu, sigma)
    if not np.isfinite(value):
        return np.inf, np.zeros(ram.n_free)
    gradient = (np.einsum("ij,kij->k", by_sigma, ram.sigma_derivatives(theta))
                + ram.mean_derivatives(theta) @ by_mu)
    n = patterns.n_obs
    return -value / n, -gradient / n


def fiml_expected_information(ram: RamModel, patterns: Patterns, theta: np.ndarray
                              ) -> np.ndarray | None:
    """(q, q) expected Hessian of :func:`fiml_objective` (per respondent) at ``theta``,
    ``sum_k n_k [tr(P_k dSigma_i P_k dSigma_j) / 2 + dmu_i' P_k dmu_j] / n`` over the
    patterns k with ``P_k`` their padded inverse covariance; ``None`` where a pattern's
    covariance is not positive definite.

    Positive (semi)definite by construction, unlike the observed Hessian away from the
    maximum, so a step on it always descends (lavaan's expected information with missing
    data, h1 structured).
    """
    stacked = patterns.stacked
    inverses = pattern_inverses(stacked.answered, ram.implied_covariance(theta))
    if inverses is None:
        return None
    precision = inverses[0]
    counts, p = stacked.counts, ram.n_observed
    # tr(P dS_i P dS_j) = vec(dS_i)' (P kron P) vec(dS_j): the patterns' Kronecker
    # products are summed once, then both derivative sides are applied.
    flat = precision.reshape(len(counts), p * p)
    kronecker = ((counts[:, None] * flat).T @ flat).reshape(p, p, p, p).transpose(
        0, 2, 1, 3).reshape(p * p, p * p)
    by_sigma = ram.sigma_derivatives(theta).reshape(ram.n_free, p * p)
    by_mu = ram.mean_derivatives(theta)
    pooled = np.tensordot(counts, precision, axes=1)
    information = 0.5 * by_sigma @ kronecker @ by_sigma.T + by_mu @ pooled @ by_mu.T
    return (information + information.T) / (2 * stacked.n_obs)


def fiml_hessian(ram: RamModel, patterns: MissingPatterns, theta: np.ndarray) -> np.ndarray:
    """(q, q) Hessian of minus the log-likelihood per respondent, by central differences of
    the analytic gradient (lavaan's observed information)."""
    return hessian_from_gradient(lambda t: fiml_objective(ram, patterns, t)[1], theta)


@dataclass(frozen=True)
class FimlResult:
    """Minimiser of the FIML objective: estimates, objective and whether it converged."""

    theta: np.ndarray
    value: float
    gradient: np.ndarray
    converged: bool


def minimize_fiml(ram: RamModel, patterns: MissingPatterns, start: np.ndarray, *,
                  tolerance: float = 1e-8) -> FimlResult:
    """Minimise the FIML objective from ``start`` (q,) with :func:`minimize_loglik`."""
    return minimize_loglik(lambda t: fiml_objective(ram, patterns, t),
                           lambda t: fiml_hessian(ram, patterns, t), start,
                           tolerance=tolerance)


# A bootstrap refit takes up to REFIT_SCORING_STEPS Fisher scoring steps, fewer where the
# largest gradient element falls below REFIT_SCORING_UNTIL (where a full fit turns to Newton
# steps), before BFGS. BFGS at once from the full-sample estimates and information strode
# into another maximum of resamples with several (2 of 70 HS resamples), which the full
# fit's steps from the same start do not reach; with two scoring steps first none did, at
# the fewest evaluations (about 30 a replicate).
REFIT_SCORING_UNTIL, REFIT_SCORING_STEPS = 1e-2, 2


def positive_definite_or_identity(information: np.ndarray | None, size: int) -> np.ndarray:
    """``information`` (size, size) where it is positive definite, else the identity (a
    singular expected information of an empirically unidentified resample)."""
    if information is not None:
        try:
            np.linalg.cholesky(information)
            return information
        except np.linalg.LinAlgError:
            pass
    return np.eye(size)


def minimize_from_curvature(objective: Callable[[np.ndarray], tuple[float, np.ndarray]],
                            start: np.ndarray, information: np.ndarray, *,
                            tolerance: float = 1e-9, max_iterations: int = 100
                            ) -> FimlResult:
    """Minimise ``objective(theta) -> (value, gradient (q,))`` from ``start`` (q,) by BFGS
    whose first inverse Hessian is ``information`` (q, q, positive definite) inverted: near
    a known minimum, e.g. a bootstrap replicate from the full-sample estimates and their
    observed information, the first steps are nearly Newton's and the updates make them
    superlinear at one gradient per step (no differenced Hessian).

    Each step is backtracked until it decreases the objective by at least 1e-4 of the
    predicted amount (Armijo); an update that would lose positive definiteness is skipped.
    Converged means the largest gradient element fell below ``tolerance``.
    """
    inverse = np.linalg.inv(information)
    theta, (value, gradient) = start, objective(start)
    for _ in range(max_iterations):
        if np.max(np.abs(gradient)) < tolerance:
            break
        direction = -inverse @ gradient
        slope = gradient @ direction
        for _ in range(30):
            trial = theta + direction
            trial_value, trial_gradient = objective(trial)
            # At the minimum the objective's changes are rounding, so a step that ends below
            # the tolerance needs no decrease beyond it.
            finished = (np.max(np.abs(trial_gradient)) < tolerance
                        and trial_value <= value + 1e-13 * abs(value))
            if finished or trial_value <= value + 1e-4 * slope:
                break
            direction, slope = direction / 2, slope / 2
        else:
            break
        step, change = trial - theta, trial_gradient - gradient
        curvature = step @ change
        if curvature > 1e-12 * np.linalg.norm(step) * np.linalg.norm(change):
            # The BFGS update of the inverse Hessian (Nocedal & Wright 2006, eq. 6.17).
            scaled = inverse @ change
            inverse = (inverse + ((curvature + change @ scaled) / curvature ** 2)
                       * np.outer(step, step)
                       - (np.outer(scaled, step) + np.outer(step, scaled)) / curvature)
        theta, value, gradient = trial, trial_value, trial_gradient
    return FimlResult(theta, value, gradient, bool(np.max(np.abs(gradient)) < tolerance))


def minimize_loglik(objective: Callable[[np.ndarray], tuple[float, np.ndarray]],
                    hessian: Callable[[np.ndarray], np.ndarray], start: np.ndarray, *,
                    tolerance: float = 1e-8) -> FimlResult:
    """Minimise minus a log-likelihood per respondent, ``objective(theta) -> (value,
    gradient (q,))``, from ``start`` (q,): quasi-Newton, then Newton steps on ``hessian``
    (q, q) until the largest gradient element is below ``tolerance``. One group's FIML
    objective or the sum over groups."""
    from scipy import optimize  # only here: importing it costs about 0.1 s

    found = optimize.minimize(objective, start, jac=True, method="BFGS",
                              options={"gtol": 1e-7, "maxiter": 2000})
    theta = found.x
    value, gradient = objective(theta)
    for _ in range(20):
        if np.max(np.abs(gradient)) < tolerance:
            break
        step = np.linalg.lstsq(hessian(theta), gradient, rcond=None)[0]
        for _ in range(30):
            candidate_value, candidate_gradient = objective(theta - step)
            if candidate_value <= value + 1e-14:
                theta, value, gradient = theta - step, candidate_value, candidate_gradient
                break
            step = step / 2
        else:
            break
    return FimlResult(theta, value, gradient, bool(np.max(np.abs(gradient)) < 1e-5))

