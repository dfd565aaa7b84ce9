"""Full-information maximum likelihood for answers missing at random.

Each respondent contributes the normal log-likelihood of the answers they gave, under the
model-implied means and covariances of those items. Respondents are grouped by their
pattern of given answers, so the work grows with the number of patterns, not of people.
The saturated model (free means and covariances) is fitted by EM; it gives the
unrestricted log-likelihood the chi-square is measured against.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

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
    """

    answered: np.ndarray
    counts: np.ndarray
    means: tuple[np.ndarray, ...]
    scatter: tuple[np.ndarray, ...]
    rows: tuple[np.ndarray, ...]

    @classmethod
    def from_items(cls, items: np.ndarray) -> MissingPatterns:
        """Group the rows of ``items`` (n, p; NaN for a missing answer) by pattern."""
        answered = ~np.isnan(items)
        unique, inverse = np.unique(answered, axis=0, return_inverse=True)
        inverse = inverse.ravel()
        rows = tuple(np.flatnonzero(inverse == k) for k in range(len(unique)))
        means, scatter = [], []
        for mask, members in zip(unique, rows, strict=True):
            values = items[np.ix_(members, mask)]
            means.append(values.mean(axis=0))
            deviations = values - means[-1]
            scatter.append(deviations.T @ deviations / len(members))
        return cls(unique, np.array([len(r) for r in rows]), tuple(means), tuple(scatter),
                   rows)

    @property
    def n_obs(self) -> int:
        """Respondents with at least one answer."""
        return int(self.counts.sum())


def loglik(patterns: MissingPatterns, mu: np.ndarray, sigma: np.ndarray) -> float:
    """The observed-data log-likelihood at means ``mu`` (p,) and covariance ``sigma`` (p, p);
    ``-inf`` where a pattern's covariance is not positive definite."""
    return loglik_and_derivatives(patterns, mu, sigma, with_derivatives=False)[0]


def loglik_and_derivatives(patterns: MissingPatterns, mu: np.ndarray, sigma: np.ndarray, *,
                           with_derivatives: bool = True
                           ) -> tuple[float, np.ndarray | None, np.ndarray | None]:
    """The observed-data log-likelihood, and (if asked for) its derivatives by sigma (p, p;
    entries treated as unconstrained) and by mu (p,), each pattern's covariance factorized
    once; ``-inf`` where a pattern's covariance is not positive definite."""
    p = len(mu)
    by_sigma, by_mu = (np.zeros((p, p)), np.zeros(p)) if with_derivatives else (None, None)
    total = 0.0
    for mask, count, mean, scatter in _zip(patterns):
        cells = np.ix_(mask, mask)
        sign, logdet = np.linalg.slogdet(sigma[cells])
        if sign <= 0:
            return -np.inf, by_sigma, by_mu
        inverse = np.linalg.inv(sigma[cells])
        difference = mean - mu[mask]
        moments = scatter + np.outer(difference, difference)
        total -= count / 2 * (mask.sum() * _LOG_2PI + logdet + np.sum(inverse * moments))
        if with_derivatives:
            by_sigma[cells] -= count / 2 * (inverse - inverse @ moments @ inverse)
            by_mu[mask] += count * inverse @ difference
    return float(total), by_sigma, by_mu


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
    n, p = items.shape
    first, second = np.zeros(p), np.zeros((p, p))
    for mask, members in zip(patterns.answered, patterns.rows, strict=True):
        filled = np.tile(mu, (len(members), 1))
        filled[:, mask] = items[np.ix_(members, mask)]
        conditional = np.zeros((p, p))
        gone = ~mask
        if gone.any():
            regression = np.linalg.solve(sigma[np.ix_(mask, mask)], sigma[np.ix_(mask, gone)])
            filled[:, gone] += (filled[:, mask] - mu[mask]) @ regression
            conditional[np.ix_(gone, gone)] = (sigma[np.ix_(gone, gone)]
                                               - sigma[np.ix_(gone, mask)] @ regression)
        first += filled.sum(axis=0)
        second += filled.T @ filled + len(members) * conditional
    mu = first / n
    return mu, second / n - np.outer(mu, mu)


def independence_loglik(items: np.ndarray) -> float:
    """Log-likelihood of the baseline model (free means and variances, no covariances): each
    item on its own answers."""
    total = 0.0
    for column in items.T:
        values = column[~np.isnan(column)]
        total -= len(values) / 2 * (_LOG_2PI + np.log(values.var()) + 1)
    return float(total)


def fiml_objective(ram: RamModel, patterns: MissingPatterns, theta: np.ndarray
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


def _zip(patterns: MissingPatterns):
    return zip(patterns.answered, patterns.counts, patterns.means, patterns.scatter,
               strict=True)
