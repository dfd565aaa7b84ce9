"""Maximum likelihood for many covariance matrices at once (bootstrap replicates).

The ML discrepancy depends on the data only through the sample covariance S (divisor N),
so b replicates are b matrices S_b. Their moments come from count weights in one matrix
product, and Fisher scoring with step halving (Newton where scoring stalls) runs on stacked
arrays: theta (b, q), Sigma (b, p, p). dSigma/dtheta is never formed: the derivative with
respect to one RAM cell is ``U V' + V U'`` for two p-vectors, so gradient and information
are products of (b, k, p) arrays. Each replicate stops where its largest absolute gradient
element falls below the tolerance of :func:`acsi_sem.estimate.ml.minimize_ml`, so it lands on
the same optimum as the one-at-a-time fit; replicates that do not get there are reported as
not converged for the caller to refit one at a time.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from acsi_sem.ram import RamModel


def weighted_moments(items: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Means and covariances (divisor: the weights' sum) of b weighted copies of the data.

    Args:
        items: (n, p) data.
        weights: (b, n) non-negative row weights, e.g. how often a bootstrap drew each row.

    Returns:
        ``(means (b, p), covariances (b, p, p))``.
    """
    n, p = items.shape
    centre = items.mean(axis=0)
    # Centring first keeps the cross-products small, so subtracting the mean's outer product
    # loses no digits (np.cov centres the same way).
    centred = items - centre
    total = weights.sum(axis=1)[:, None]
    shifted_means = weights @ centred / total
    products = (centred[:, :, None] * centred[:, None, :]).reshape(n, p * p)
    second = (weights @ products / total).reshape(-1, p, p)
    covariances = second - shifted_means[:, :, None] * shifted_means[:, None, :]
    return shifted_means + centre, covariances


@dataclass(frozen=True)
class BatchedRam:
    """A :class:`RamModel`'s cell-to-parameter maps as scatter matrices for stacked
    parameter vectors."""

    ram: RamModel
    a_scatter: np.ndarray  # (k_a, q): 1 where path cell k is parameter j
    s_scatter: np.ndarray  # (k_s, q)

    @classmethod
    def of(cls, ram: RamModel) -> BatchedRam:
        """Scatter matrices of ``ram``'s free cells."""
        return cls(ram, _scatter(ram.a_free, ram.n_free), _scatter(ram.s_free, ram.n_free))

    def matrices(self, thetas: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(A, S)``, each (b, m, m), at parameter vectors ``thetas`` (b, q)."""
        ram = self.ram
        size, count = len(ram.variables), len(thetas)
        a_values = np.where(ram.a_free >= 0, thetas[:, np.maximum(ram.a_free, 0)], ram.a_fixed)
        s_values = np.where(ram.s_free >= 0, thetas[:, np.maximum(ram.s_free, 0)], ram.s_fixed)
        a_matrix = np.zeros((count, size, size))
        a_matrix[:, ram.a_rows, ram.a_cols] = a_values
        s_matrix = np.zeros((count, size, size))
        s_matrix[:, ram.s_rows, ram.s_cols] = s_values
        s_matrix[:, ram.s_cols, ram.s_rows] = s_values
        return a_matrix, s_matrix

    def covariances(self, thetas: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(B, C)``: ``(I - A)^-1`` and ``B S B'``, each (b, m, m)."""
        a_matrix, s_matrix = self.matrices(thetas)
        b_matrix = _inverse_each(np.eye(a_matrix.shape[1]) - a_matrix)
        return b_matrix, b_matrix @ s_matrix @ b_matrix.transpose(0, 2, 1)

    def implied(self, thetas: np.ndarray) -> np.ndarray:
        """Sigma (b, p, p)."""
        p = self.ram.n_observed
        return self.covariances(thetas)[1][:, :p, :p]

    def cell_vectors(self, thetas: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(Sigma (b, p, p), U (b, k, p), V (b, k, p))``: the derivative of Sigma with
        respect to free cell k is ``U_k V_k' + V_k U_k'``.

        dC/dA_ij = B E_ij C (+ transpose) gives ``U_k = B[:p, i]``, ``V_k = C[j, :p]``;
        dC/dS_ij = B (E_ij + E_ji) B' gives ``U_k = B[:p, i]``, ``V_k = B[:p, j]``, halved on
        the diagonal because it is one cell (as in :meth:`RamModel.sigma_derivatives`).
        """
        ram, p = self.ram, self.ram.n_observed
        b_matrix, c_matrix = self.covariances(thetas)
        free_a, free_s = ram.a_free >= 0, ram.s_free >= 0
        half = np.where(ram.s_rows[free_s] == ram.s_cols[free_s], 0.5, 1.0)
        u = np.concatenate([b_matrix[:, :p, ram.a_rows[free_a]],
                            b_matrix[:, :p, ram.s_rows[free_s]] * half], axis=2)
        v = np.concatenate([c_matrix[:, ram.a_cols[free_a], :p].transpose(0, 2, 1),
                            b_matrix[:, :p, ram.s_cols[free_s]]], axis=2)
        return c_matrix[:, :p, :p], u.transpose(0, 2, 1), v.transpose(0, 2, 1)

    @cached_property
    def cell_scatter(self) -> np.ndarray:
        """(k, q): 1 where free cell k (paths first, then symmetric cells) is parameter j."""
        ram = self.ram
        return np.concatenate([self.a_scatter[ram.a_free >= 0], self.s_scatter[ram.s_free >= 0]])

    @cached_property
    def one_cell_each(self) -> np.ndarray | None:
        """(q,) the cell of each parameter when every parameter has exactly one cell (no
        equality constraints), else ``None``."""
        scatter = self.cell_scatter
        if scatter.shape[0] != scatter.shape[1] or not (scatter.sum(axis=0) == 1).all():
            return None
        return np.argmax(scatter, axis=0)

    def to_parameters(self, cell_values: np.ndarray) -> np.ndarray:
        """Per-cell derivatives (b, k) summed into per-parameter ones (b, q)."""
        if self.one_cell_each is not None:
            return cell_values[:, self.one_cell_each]
        return cell_values @ self.cell_scatter


def _inverse_each(matrices: np.ndarray) -> np.ndarray:
    """Inverses of stacked (b, m, m) matrices; NaN for the singular ones."""
    try:
        return np.linalg.inv(matrices)
    except np.linalg.LinAlgError:
        pass  # one of them is singular: invert one at a time to find which
    inverses = np.full_like(matrices, np.nan)
    for index, matrix in enumerate(matrices):
        try:
            inverses[index] = np.linalg.inv(matrix)
        except np.linalg.LinAlgError:
            continue
    return inverses


def _scatter(free: np.ndarray, q: int) -> np.ndarray:
    scatter = np.zeros((len(free), q))
    rows = np.flatnonzero(free >= 0)
    scatter[rows, free[rows]] = 1.0
    return scatter


def ml_values(sigmas: np.ndarray, sample_covs: np.ndarray) -> np.ndarray:
    """F_ML (b,) for implied (b, p, p) and sample (b, p, p) covariances; ``inf`` where a
    Sigma is not positive definite."""
    sign, logdet_sigma = np.linalg.slogdet(sigmas)
    _, logdet_sample = np.linalg.slogdet(sample_covs)
    values = np.full(len(sigmas), np.inf)
    ok = sign > 0
    if ok.any():
        trace = np.trace(np.linalg.solve(sigmas[ok], sample_covs[ok]), axis1=1, axis2=2)
        values[ok] = logdet_sigma[ok] + trace - logdet_sample[ok] - sigmas.shape[1]
    return values


@dataclass(frozen=True)
class BatchedFit:
    """Estimates of b replicates.

    Attributes:
        theta: (b, q) estimates (the last iterate where not converged).
        converged: (b,) whether the largest absolute gradient element fell below the
            tolerance.
    """

    theta: np.ndarray
    converged: np.ndarray


# Fisher scoring converges linearly; where one step shrinks the gradient by less than this
# factor, Newton's quadratic steps pay for their 2q extra gradient evaluations.
SLOW_SCORING = 0.8


def minimize_ml_batched(ram: RamModel, start: np.ndarray, sample_covs: np.ndarray, *,
                        max_iterations: int = 100, tolerance: float = 1e-9) -> BatchedFit:
    """Minimise F_ML for b sample covariances at once: Fisher scoring with step halving,
    switching a replicate to Newton steps on the observed Hessian (central differences of
    the analytic gradient, as ``minimize_ml``) once max |gradient| < 1e-2 and scoring
    shrinks it by less than :data:`SLOW_SCORING` per step. Newton costs 2q gradients, so
    replicates where scoring converges fast keep scoring.

    Args:
        ram: the model.
        start: (q,) starting values shared by every replicate (the full-sample estimate).
        sample_covs: (b, p, p) sample covariances, divisor N.
        tolerance: convergence when max |dF/dtheta| < tolerance, as in ``minimize_ml``.
    """
    batched = BatchedRam.of(ram)
    count = len(sample_covs)
    theta = np.tile(start, (count, 1))
    converged = np.zeros(count, dtype=bool)
    stuck = np.zeros(count, dtype=bool)
    previous = np.full(count, np.inf)
    for _ in range(max_iterations):
        active = np.flatnonzero(~converged & ~stuck)
        if not len(active):
            break
        state = ml_state(batched, theta[active], sample_covs[active])
        stuck[active[~state.finite]] = True
        largest = np.abs(state.gradient).max(axis=1)
        slow = largest > SLOW_SCORING * previous[active]
        previous[active] = largest
        converged[active[state.finite & (largest < tolerance)]] = True
        moving = state.finite & (largest >= tolerance)
        if not moving.any():
            continue
        positions, covs = active[moving], sample_covs[active[moving]]
        step = _solve_each(state.information[moving], state.gradient[moving])
        near = (largest < 1e-2)[moving] & slow[moving]
        if near.any():
            newton = _newton_steps(batched, theta[positions[near]], covs[near],
                                   state.gradient[moving][near])
            usable = np.isfinite(newton).all(axis=1)
            step[np.flatnonzero(near)[usable]] = newton[usable]
        bad = ~np.isfinite(step).all(axis=1)
        stuck[positions[bad]] = True
        theta[positions[~bad]] = _halve_until_better(batched, theta[positions[~bad]],
                                                     step[~bad], covs[~bad],
                                                     state.value[moving][~bad], stuck,
                                                     positions[~bad])
    return BatchedFit(theta, converged)


@dataclass(frozen=True)
class MLState:
    """F (b,), its gradient (b, q) and expected information (b, q, q); ``finite`` (b,) is
    False where Sigma is not positive definite (the other rows are then meaningless)."""

    value: np.ndarray
    gradient: np.ndarray
    information: np.ndarray
    finite: np.ndarray


def ml_state(batched: BatchedRam, thetas: np.ndarray, covs: np.ndarray, *,
             with_information: bool = True) -> MLState:
    """F, gradient and (optionally) expected information at ``thetas`` (b, q) for sample
    covariances ``covs`` (b, p, p)."""
    sigma, u, v = batched.cell_vectors(thetas)
    sign, logdet_sigma = np.linalg.slogdet(sigma)
    finite = (sign > 0) & np.isfinite(logdet_sigma)
    # Rows without a positive definite Sigma get the identity so the stacked inverse runs.
    sigma = np.where(finite[:, None, None], sigma, np.eye(sigma.shape[1]))
    sigma_inv = np.linalg.inv(sigma)
    _, logdet_sample = np.linalg.slogdet(covs)
    values = np.where(finite, logdet_sigma + (sigma_inv * covs).sum(axis=(1, 2))
                      - logdet_sample - sigma.shape[1], np.inf)
    weight = sigma_inv - sigma_inv @ covs @ sigma_inv
    # tr(W dSigma_k) = 2 U_k' W V_k for symmetric W.
    gradient = batched.to_parameters(2 * ((u @ weight) * v).sum(axis=2))
    information = _information(sigma_inv, u, v, batched) if with_information else None
    return MLState(values, gradient, information, finite)


def _newton_steps(batched: BatchedRam, thetas: np.ndarray, covs: np.ndarray,
                  gradient: np.ndarray, relative_step: float = 1e-5) -> np.ndarray:
    """Newton steps (b, q) on the observed Hessian by central differences of the analytic
    gradient (``hessian_from_gradient``'s steps); NaN where the Hessian is not positive
    definite."""
    count, q = thetas.shape
    hessian = np.empty((count, q, q))
    for index in range(q):
        step = relative_step * np.maximum(1.0, np.abs(thetas[:, index]))
        shifted = np.concatenate([thetas, thetas])
        shifted[:count, index] += step
        shifted[count:, index] -= step
        both = ml_state(batched, shifted, np.concatenate([covs, covs]),
                      with_information=False).gradient
        hessian[:, :, index] = (both[:count] - both[count:]) / (2 * step[:, None])
    hessian = (hessian + hessian.transpose(0, 2, 1)) / 2
    steps = np.full((count, q), np.nan)
    eigenvalues = _eigenvalues_each(hessian)
    definite = eigenvalues.min(axis=1) > 0
    if definite.any():
        steps[definite] = np.linalg.solve(hessian[definite], gradient[definite][:, :, None]
                                          )[:, :, 0]
    return steps


def _eigenvalues_each(matrices: np.ndarray) -> np.ndarray:
    """Eigenvalues (b, q) of stacked symmetric matrices; -inf rows where not finite."""
    finite = np.isfinite(matrices).all(axis=(1, 2))
    values = np.full(matrices.shape[:2], -np.inf)
    if finite.any():
        values[finite] = np.linalg.eigvalsh(matrices[finite])
    return values


def _information(sigma_inv: np.ndarray, u: np.ndarray, v: np.ndarray,
                 batched: BatchedRam) -> np.ndarray:
    """Expected information (b, q, q) of F, ``tr(Sigma^-1 dSigma_k Sigma^-1 dSigma_l)``.

    With ``dSigma_k = U_k V_k' + V_k U_k'`` the trace is
    ``2 [(U_k'P U_l)(V_k'P V_l) + (U_k'P V_l)(V_k'P U_l)]``, ``P = Sigma^-1``: (k, k)
    products of p-vectors instead of (p, p) matrices per parameter.
    """
    pu, pv = u @ sigma_inv, v @ sigma_inv
    uu = pu @ u.transpose(0, 2, 1)
    vv = pv @ v.transpose(0, 2, 1)
    uv = pu @ v.transpose(0, 2, 1)
    cells = 2 * (uu * vv + uv * uv.transpose(0, 2, 1))
    if batched.one_cell_each is not None:
        order = batched.one_cell_each
        return cells[:, order][:, :, order]
    scatter = batched.cell_scatter
    return scatter.T @ cells @ scatter


def _solve_each(information: np.ndarray, gradient: np.ndarray) -> np.ndarray:
    """Steps (b, q): ``information^-1 gradient`` per replicate, NaN where singular."""
    count, q = gradient.shape
    try:
        return np.linalg.solve(information, gradient[:, :, None])[:, :, 0]
    except np.linalg.LinAlgError:
        pass  # one of them is singular: solve one at a time to find which
    steps = np.full((count, q), np.nan)
    for index in range(count):
        try:
            steps[index] = np.linalg.solve(information[index], gradient[index])
        except np.linalg.LinAlgError:
            continue
    return steps


def _halve_until_better(batched: BatchedRam, theta: np.ndarray, step: np.ndarray,
                        covs: np.ndarray, values: np.ndarray, stuck: np.ndarray,
                        positions: np.ndarray) -> np.ndarray:
    """Per replicate, the first of ``theta - step / 2^k`` (k < 30) that does not raise F;
    replicates without one keep ``theta`` and are marked in ``stuck`` at ``positions``."""
    result = theta.copy()
    pending = np.arange(len(theta))
    for _ in range(30):
        candidate = theta[pending] - step[pending]
        better = ml_values(batched.implied(candidate), covs[pending]) <= values[pending] + 1e-12
        result[pending[better]] = candidate[better]
        pending = pending[~better]
        if not len(pending):
            return result
        step[pending] /= 2
    stuck[positions[pending]] = True
    return result
