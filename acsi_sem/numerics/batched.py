"""Maximum likelihood for many covariance matrices at once (bootstrap replicates).

The ML discrepancy depends on the data only through the sample covariance S (divisor N),
so b replicates are b matrices S_b. Their moments come from count weights in one matrix
product, and Fisher scoring with step halving (Newton where scoring stalls) runs on stacked
arrays: theta (b, q), Sigma (b, p, p). dSigma/dtheta is never formed: the derivative with
respect to one RAM cell is ``U V' + V U'`` for two p-vectors, so gradient and information
are products of (b, k, p) arrays. Each replicate stops where its largest absolute gradient
element falls below the tolerance of :func:`acsi_sem.numerics.ml.minimize_ml`, so it lands on
the same optimum as the one-at-a-time fit; replicates that do not get there are reported as
not converged for the caller to refit one at a time.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from acsi_sem.model.ram import RamModel


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
class _FreeCells:
    """Free RAM cells: paths ``(a_rows, a_cols)`` (k_a,), symmetric cells ``(s_rows, s_cols)``
    (k_s,) with ``s_half`` 0.5 on the diagonal; ``u_columns`` and ``u_scale`` (k,) pick and
    scale the columns of B that are the cells' U vectors (paths first)."""

    a_rows: np.ndarray
    a_cols: np.ndarray
    s_rows: np.ndarray
    s_cols: np.ndarray
    s_half: np.ndarray
    u_columns: np.ndarray
    u_scale: np.ndarray


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
        respect to free cell k is ``U_k V_k' + V_k U_k'``."""
        return self.cell_vectors_of(*self.covariances(thetas))

    def cell_vectors_of(self, b_matrix: np.ndarray, c_matrix: np.ndarray
                        ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """:meth:`cell_vectors` from ``B`` and ``C`` (b, m, m).

        dC/dA_ij = B E_ij C (+ transpose) gives ``U_k = B[:p, i]``, ``V_k = C[j, :p]``;
        dC/dS_ij = B (E_ij + E_ji) B' gives ``U_k = B[:p, i]``, ``V_k = B[:p, j]``, halved on
        the diagonal because it is one cell (as in :meth:`RamModel.sigma_derivatives`).
        """
        cells, p = self.free_cells, self.ram.n_observed
        observed_b = b_matrix[:, :p]
        u = observed_b[:, :, cells.u_columns] * cells.u_scale
        v = np.concatenate([c_matrix[:, :p, cells.a_cols], observed_b[:, :, cells.s_cols]],
                           axis=2)
        return c_matrix[:, :p, :p], u.transpose(0, 2, 1), v.transpose(0, 2, 1)

    @cached_property
    def free_cells(self) -> _FreeCells:
        """Positions of the free path cells and the free symmetric cells."""
        ram = self.ram
        free_a, free_s = ram.a_free >= 0, ram.s_free >= 0
        s_rows, s_cols = ram.s_rows[free_s], ram.s_cols[free_s]
        half = np.where(s_rows == s_cols, 0.5, 1.0)
        return _FreeCells(ram.a_rows[free_a], ram.a_cols[free_a], s_rows, s_cols, half,
                          np.concatenate([ram.a_rows[free_a], s_rows]),
                          np.concatenate([np.ones(free_a.sum()), half]))

    def second_derivative_terms(self, point: Point) -> np.ndarray:
        """``tr(W d2Sigma / dk dl)`` (b, k, k) per pair of free cells, ``W`` = ``point.weight``.

        With ``b_i = B[:p, i]``, ``c_j = C[:p, j]``, ``dC/dA_ij = b_i c_j' + c_j b_i'`` and
        ``dB/dA_kl = B E_kl B``: for two path cells ``(i, j)``, ``(k, l)`` the trace is
        ``2 [B_li b_k'W c_j + B_jk b_i'W c_l + C_lj b_k'W b_i]``; for a path cell and a
        symmetric cell ``(c, d)`` it is ``2 [B_jc b_d'W b_i + B_jd b_c'W b_i]`` (halved on the
        diagonal); two symmetric cells: 0 (Sigma is linear in S).
        """
        cells, p = self.free_cells, self.ram.n_observed
        b_matrix, c_matrix = point.b_matrix, point.c_matrix
        weighted_b = point.weight @ b_matrix[:, :p]  # (b, p, m)
        wbb = b_matrix[:, :p].transpose(0, 2, 1) @ weighted_b  # b_x' W b_y, (b, m, m)
        wbc = weighted_b.transpose(0, 2, 1) @ c_matrix[:, :p]  # b_x' W c_y
        i, j = cells.a_rows[:, None], cells.a_cols[:, None]
        k, ell = cells.a_rows[None, :], cells.a_cols[None, :]
        paths = 2 * (b_matrix[:, ell, i] * wbc[:, k, j] + b_matrix[:, j, k] * wbc[:, i, ell]
                     + c_matrix[:, ell, j] * wbb[:, k, i])
        c, d = cells.s_rows[None, :], cells.s_cols[None, :]
        mixed = 2 * cells.s_half * (b_matrix[:, j, c] * wbb[:, d, i]
                                    + b_matrix[:, j, d] * wbb[:, c, i])
        count, k_a, k_s = len(b_matrix), len(cells.a_rows), len(cells.s_rows)
        terms = np.zeros((count, k_a + k_s, k_a + k_s))
        terms[:, :k_a, :k_a] = paths
        terms[:, :k_a, k_a:] = mixed
        terms[:, k_a:, :k_a] = mixed.transpose(0, 2, 1)
        return terms

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

    def cells_to_parameters(self, cell_matrices: np.ndarray) -> np.ndarray:
        """Per-cell second derivatives (b, k, k) summed into per-parameter ones (b, q, q)."""
        if self.one_cell_each is not None:
            order = self.one_cell_each
            return cell_matrices[:, order][:, :, order]
        scatter = self.cell_scatter
        return scatter.T @ cell_matrices @ scatter


# A weighted item whose variance falls below this share of the sample's is constant (the
# moments leave a rounding residue of about 1e-15 for a constant column).
CONSTANT_VARIANCE = 1e-12


@dataclass(frozen=True)
class WeightedCorrelations:
    """Moments of b weighted copies of the data: ``means`` (b, p), ``covariances``
    (b, p, p) (divisor: the weights' sum), ``correlations`` (b, p, p; the identity where
    ``failed``) and ``failed`` (b,): an item is constant among the rows weighted above 0."""

    means: np.ndarray
    covariances: np.ndarray
    correlations: np.ndarray
    failed: np.ndarray


def weighted_correlations(items: np.ndarray, weights: np.ndarray) -> WeightedCorrelations:
    """:func:`weighted_moments` with correlations, flagging the weightings (b, n) under
    which an item of items (n, p) is constant."""
    means, covariances = weighted_moments(items, weights)
    variances = np.einsum("bii->bi", covariances)
    failed = (variances <= CONSTANT_VARIANCE * items.var(axis=0)).any(axis=1)
    sd = np.sqrt(np.where(failed[:, None], 1.0, variances))
    correlations = covariances / (sd[:, :, None] * sd[:, None, :])
    correlations[failed] = np.eye(items.shape[1])
    return WeightedCorrelations(means, covariances, correlations, failed)


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


# Below this largest gradient element a replicate takes Newton steps on the analytic
# Hessian (quadratic convergence) where that Hessian is positive definite; above it Fisher
# scoring, whose first steps from the full-sample estimate are the safer ones.
NEWTON_BELOW = 1e-2
# Below this largest gradient element the last Newton step was short enough that its Hessian
# still serves (a chord step, no new Hessian); the steps stay all but quadratic.
CHORD_BELOW = 1e-4


def minimize_ml_batched(ram: RamModel, start: np.ndarray, sample_covs: np.ndarray, *,
                        max_iterations: int = 100, tolerance: float = 1e-9,
                        runaway: float = np.inf, minimum_norm: bool = False) -> BatchedFit:
    """Minimise F_ML for b sample covariances at once: Fisher scoring, then Newton steps on
    the analytic Hessian once max |gradient| < :data:`NEWTON_BELOW` (reused for chord steps
    below :data:`CHORD_BELOW`), each step halved until F does not rise. The trial point of
    a step is evaluated once, value and gradient together, and becomes the next iterate when
    F did not rise.

    Args:
        ram: the model.
        start: (q,) starting values shared by every replicate (the full-sample estimate).
        sample_covs: (b, p, p) sample covariances, divisor N.
        tolerance: convergence when max |dF/dtheta| < tolerance, as in ``minimize_ml``.
        runaway: a replicate whose max |dF/dtheta| grows beyond this many times its value at
            the start stops unconverged (F falling while the gradient grows means it is
            heading for the boundary, where no optimum lies).
        minimum_norm: where the matrix of a step is (nearly) singular, take the
            minimum-norm step (nothing along its null directions) instead of giving up
            (:func:`minimum_norm_each`). From start values a two-indicator factor
            uncorrelated with the rest is not identified; the full-sample estimates of a
            bootstrap are, so its refits leave this off.
    """
    batched = BatchedRam.of(ram)
    count = len(sample_covs)
    theta = np.tile(start, (count, 1))
    converged = np.zeros(count, dtype=bool)
    logdet_samples = np.linalg.slogdet(sample_covs)[1]
    active = np.arange(count)
    point = evaluate_point(batched, theta, sample_covs, logdet_samples)
    limits = (np.full(count, np.inf) if np.isinf(runaway)
              else runaway * np.abs(point.gradient).max(axis=1))
    hessians = np.empty((count, ram.n_free, ram.n_free))
    has_hessian = np.zeros(count, dtype=bool)
    for _ in range(max_iterations):
        largest = np.abs(point.gradient).max(axis=1)
        done = point.finite & (largest < tolerance)
        converged[active[done]] = True
        # The rest are stuck: Sigma not positive definite, or running away.
        moving = point.finite & ~done & (largest <= limits[active])
        if not moving.any():
            break
        active, point, largest = active[moving], point.rows(moving), largest[moving]
        step = _steps_or_chords(batched, point, largest, active, hessians, has_hessian,
                                minimum_norm)
        usable = np.isfinite(step).all(axis=1)
        active, point, step = active[usable], point.rows(usable), step[usable]
        theta[active], point, better = _step_until_better(
            batched, theta[active], step, point, sample_covs[active], logdet_samples[active])
        active, point = active[better], point.rows(better)
    return BatchedFit(theta, converged)


def ml_hessian(batched: BatchedRam, thetas: np.ndarray, covs: np.ndarray) -> np.ndarray:
    """The analytic (observed) Hessian of F (b, q, q) at ``thetas`` (b, q) for sample
    covariances ``covs`` (b, p, p): the expected information plus
    :func:`cell_hessian_correction`."""
    point = evaluate_point(batched, thetas, covs, np.linalg.slogdet(covs)[1])
    products = cell_products(point.u, point.v, point.sigma_inv)
    cells = cell_information(*products) + cell_hessian_correction(batched, point, *products)
    return batched.cells_to_parameters(cells)


def _steps_or_chords(batched: BatchedRam, point: Point, largest: np.ndarray,
                     active: np.ndarray, hessians: np.ndarray, has_hessian: np.ndarray,
                     minimum_norm: bool = False) -> np.ndarray:
    """Steps (b, q) for the ``active`` replicates at ``point``: where the largest gradient
    element is below :data:`CHORD_BELOW` and an earlier Newton step left its Hessian in
    ``hessians`` (count, q, q), that Hessian again (a chord step: the Hessian has barely
    changed since); elsewhere :func:`_steps`, whose Newton Hessians are kept."""
    chord = (largest < CHORD_BELOW) & has_hessian[active]
    fresh = ~chord
    step = np.empty_like(point.gradient)
    if chord.any():
        step[chord] = solve_each(hessians[active[chord]], point.gradient[chord])
    if fresh.any():
        rows = active[fresh]
        step[fresh], matrices, newton = _steps(batched, point.rows(fresh),
                                               largest[fresh] < NEWTON_BELOW, minimum_norm)
        hessians[rows[newton]] = matrices[newton]
        has_hessian[rows[newton]] = True
    return step


@dataclass(frozen=True)
class Point:
    """F and what its derivatives are made of at b parameter vectors.

    ``finite`` (b,) is False where Sigma is not positive definite (the other fields are then
    meaningless). ``b_matrix``, ``c_matrix`` (b, m, m) are ``(I - A)^-1`` and the covariance of
    all variables; ``u``, ``v`` (b, k, p) the cell vectors of :meth:`BatchedRam.cell_vectors`;
    ``sigma_inv``, ``weight`` (b, p, p) are ``Sigma^-1`` and ``Sigma^-1 (Sigma - S) Sigma^-1``.
    """

    value: np.ndarray
    gradient: np.ndarray
    finite: np.ndarray
    b_matrix: np.ndarray
    c_matrix: np.ndarray
    u: np.ndarray
    v: np.ndarray
    sigma_inv: np.ndarray
    weight: np.ndarray

    def rows(self, selected: np.ndarray) -> Point:
        """The replicates picked by ``selected`` (a mask or indices)."""
        if selected.dtype == bool and selected.all():
            return self  # the common case: nothing to copy
        return Point(*(getattr(self, name)[selected] for name in POINT_FIELDS))


POINT_FIELDS = tuple(Point.__dataclass_fields__)


def evaluate_point(batched: BatchedRam, thetas: np.ndarray, covs: np.ndarray,
              logdet_samples: np.ndarray) -> Point:
    """:class:`Point` at ``thetas`` (b, q) for ``covs`` (b, p, p) whose log-determinants
    are ``logdet_samples`` (b,)."""
    p = batched.ram.n_observed
    b_matrix, c_matrix = batched.covariances(thetas)
    sigma, u, v = batched.cell_vectors_of(b_matrix, c_matrix)
    sign, logdet_sigma = np.linalg.slogdet(sigma)
    finite = (sign > 0) & np.isfinite(logdet_sigma)
    # Rows without a positive definite Sigma get the identity so the stacked inverse runs.
    if not finite.all():
        sigma = np.where(finite[:, None, None], sigma, np.eye(p))
    sigma_inv = np.linalg.inv(sigma)
    values = np.where(finite, logdet_sigma + (sigma_inv * covs).sum(axis=(1, 2))
                      - logdet_samples - p, np.inf)
    weight = sigma_inv - sigma_inv @ covs @ sigma_inv
    # tr(W dSigma_k) = 2 U_k' W V_k for symmetric W.
    gradient = batched.to_parameters(2 * ((u @ weight) * v).sum(axis=2))
    return Point(values, gradient, finite, b_matrix, c_matrix, u, v, sigma_inv, weight)


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
    point = evaluate_point(batched, thetas, covs, np.linalg.slogdet(covs)[1])
    information = None
    if with_information:
        products = cell_products(point.u, point.v, point.sigma_inv)
        information = batched.cells_to_parameters(cell_information(*products))
    return MLState(point.value, point.gradient, information, point.finite)


def _steps(batched: BatchedRam, point: Point, near: np.ndarray, minimum_norm: bool = False
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Steps to subtract from theta: Newton on the analytic Hessian for the ``near`` (b,)
    replicates whose Hessian is positive definite, Fisher scoring for the others.

    Returns:
        ``(steps (b, q), the matrices solved (b, q, q), newton (b,))``: steps are NaN where
        the matrix is singular; ``newton`` marks the rows whose matrix is the Hessian.
    """
    gradient = point.gradient
    products = cell_products(point.u, point.v, point.sigma_inv)
    cells = cell_information(*products)
    newton = np.zeros(len(near), dtype=bool)
    matrices = batched.cells_to_parameters(cells)
    if near.any():
        if not near.all():  # copy only when some rows keep scoring
            point, cells = point.rows(near), cells[near]
            products = tuple(product[near] for product in products)
        cells += cell_hessian_correction(batched, point, *products)
        hessian = batched.cells_to_parameters(cells)
        definite = positive_definite_each(hessian)
        rows = np.flatnonzero(near)[definite]
        matrices[rows], newton[rows] = hessian[definite], True
    if not minimum_norm or newton.all():
        return solve_each(matrices, gradient), matrices, newton
    # A positive definite Hessian is regular; only the scoring steps' information may not be.
    steps = minimum_norm_each(matrices, gradient)
    if newton.any():
        steps[newton] = solve_each(matrices[newton], gradient[newton])
    return steps, matrices, newton


def _step_until_better(batched: BatchedRam, theta: np.ndarray, step: np.ndarray,
                       point: Point, covs: np.ndarray, logdet_samples: np.ndarray
                       ) -> tuple[np.ndarray, Point, np.ndarray]:
    """Per replicate, the first of ``theta - step / 2^k`` (k < 30) where F does not rise.

    Returns:
        ``(theta (b, q), the point there, better (b,))``; replicates without such a step keep
        ``theta`` and have ``better`` False (the returned point's rows are then stale).
    """
    theta, step = theta.copy(), step.copy()
    trial = evaluate_point(batched, theta - step, covs, logdet_samples)
    better = trial.finite & (trial.value <= point.value + 1e-12)
    theta[better] -= step[better]
    pending = np.flatnonzero(~better)
    for _ in range(29):
        if not len(pending):
            break
        step[pending] /= 2
        candidate = theta[pending] - step[pending]
        shorter = evaluate_point(batched, candidate, covs[pending], logdet_samples[pending])
        ok = shorter.finite & (shorter.value <= point.value[pending] + 1e-12)
        accepted = pending[ok]
        theta[accepted] = candidate[ok]
        for name in POINT_FIELDS:
            getattr(trial, name)[accepted] = getattr(shorter, name)[ok]
        better[accepted] = True
        pending = pending[~ok]
    return theta, trial, better


def positive_definite_each(matrices: np.ndarray) -> np.ndarray:
    """(b,) whether each stacked symmetric matrix (b, q, q) is positive definite."""
    try:
        np.linalg.cholesky(matrices)
        return np.ones(len(matrices), dtype=bool)
    except np.linalg.LinAlgError:
        pass  # one of them is not: check one at a time
    return _eigenvalues_each(matrices).min(axis=1) > 0


def _eigenvalues_each(matrices: np.ndarray) -> np.ndarray:
    """Eigenvalues (b, q) of stacked symmetric matrices; -inf rows where not finite."""
    finite = np.isfinite(matrices).all(axis=(1, 2))
    values = np.full(matrices.shape[:2], -np.inf)
    if finite.any():
        values[finite] = np.linalg.eigvalsh(matrices[finite])
    return values


def cell_information(uu: np.ndarray, vv: np.ndarray, uv: np.ndarray) -> np.ndarray:
    """Expected information per pair of free cells (b, k, k),
    ``tr(Sigma^-1 dSigma_k Sigma^-1 dSigma_l)``, from the :func:`cell_products` of the cell
    vectors with ``P = Sigma^-1``.

    With ``dSigma_k = U_k V_k' + V_k U_k'`` the trace is
    ``2 [(U_k'P U_l)(V_k'P V_l) + (U_k'P V_l)(V_k'P U_l)]``: (k, k) products of p-vectors
    instead of (p, p) matrices per parameter.
    """
    information = uu * vv
    information += uv * uv.transpose(0, 2, 1)
    information *= 2
    return information


def cell_products(u: np.ndarray, v: np.ndarray, middle: np.ndarray
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(U'M U, V'M V, U'M V)``, each (b, k, k), for cell vectors (b, k, p) and a symmetric
    ``middle`` (b, p, p): one product of the stacked ``[U; V]``."""
    k = u.shape[1]
    both = np.concatenate([u, v], axis=1)
    products = both @ middle @ both.transpose(0, 2, 1)
    return products[:, :k, :k], products[:, k:, k:], products[:, :k, k:]


def cell_hessian_correction(batched: BatchedRam, point: Point, uu: np.ndarray,
                             vv: np.ndarray, uv: np.ndarray) -> np.ndarray:
    """Observed minus expected Hessian of F per pair of free cells (b, k, k), given the
    :func:`cell_products` with ``P = Sigma^-1``.

    ``d2F/dk dl = tr(P Sigma_k P Sigma_l) - 2 tr(P Sigma_l W Sigma_k) + tr(W Sigma_kl)`` with
    ``W = P (Sigma - S) P``; the middle term is expanded in the cell vectors as the
    information is, the last one needs the second derivatives of Sigma, which only pairs
    with a path cell have (:meth:`BatchedRam.second_derivative_terms`).
    """
    wuu, wvv, wuv = cell_products(point.u, point.v, point.weight)
    # tr(P (X Y' + Y X') W (U V' + V U')) for cell k = (U, V), cell l = (X, Y): the sum of
    # (U'W Y)(V'P X) and its transpose, plus (V'W Y)(U'P X) + (U'W X)(V'P Y).
    crossed = wuv * uv.transpose(0, 2, 1)
    mixed = crossed + crossed.transpose(0, 2, 1)
    mixed += wvv * uu
    mixed += wuu * vv
    mixed *= -2
    mixed += batched.second_derivative_terms(point)
    return mixed


# An eigenvalue below this times the largest (at least 1) counts as zero in a minimum-norm step.
SINGULAR_BELOW = 1e-10


def minimum_norm_each(matrices: np.ndarray, gradient: np.ndarray) -> np.ndarray:
    """:func:`solve_each` for symmetric positive semi-definite matrices (b, q, q) that may
    be singular: where one is (nearly) so, the minimum-norm step ``V diag(1/w) V' g`` over
    its eigenvalues w above :data:`SINGULAR_BELOW` times the largest (at least 1). Steps
    (b, q); NaN where a matrix is not finite."""
    steps = np.full(gradient.shape, np.nan)
    finite = np.isfinite(matrices).all(axis=(1, 2))
    # A (nearly) singular matrix has a (nearly) zero Cholesky pivot, or none; the others
    # are solved as by solve_each, the eigendecomposition costing several times more.
    scale = np.maximum(np.einsum("bii->bi", matrices).max(axis=1, initial=0.0), 1.0)
    try:
        pivots = np.einsum("bii->bi", np.linalg.cholesky(np.where(
            finite[:, None, None], matrices, np.eye(matrices.shape[1])))) ** 2
        singular = finite & (pivots.min(axis=1, initial=np.inf) <= SINGULAR_BELOW * scale)
    except np.linalg.LinAlgError:
        singular = finite
    regular = finite & ~singular
    if regular.any():
        steps[regular] = solve_each(matrices[regular], gradient[regular])
    if singular.any():
        values, vectors = np.linalg.eigh(matrices[singular])
        kept = values > SINGULAR_BELOW * np.maximum(np.abs(values).max(axis=1), 1.0)[:, None]
        along = np.einsum("bqk,bq->bk", vectors, gradient[singular])
        along = np.divide(along, values, out=np.zeros_like(along), where=kept)
        steps[singular] = np.einsum("bqk,bk->bq", vectors, along)
    return steps


def solve_each(information: np.ndarray, gradient: np.ndarray) -> np.ndarray:
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
