"""PLS (and PLSc) for many correlation matrices at once (bootstrap replicates).

PLS path modelling on standardized indicators depends on the data only through their
correlation matrix R, so b replicates are b matrices R_b, and the outer/inner iterations of
:func:`acsi_sem.estimate.pls.outer_weights` run on stacked arrays: weights (b, p, L),
construct correlations (b, L, L). Each replicate stops at the iteration where the one-at-a-
time loop would stop (the summed absolute change of its weights below the tolerance), so
its estimates are the one-at-a-time estimates.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from acsi_sem.estimate.pls import PlsLayout


@dataclass(frozen=True)
class BatchedPlsSolution:
    """:class:`acsi_sem.estimate.pls.PlsSolution` of b replicates, stacked on axis 0.

    Attributes:
        weights: (b, p, L); construct_cor: (b, L, L); loadings: (b, p);
        paths: (b, L, L); r2: (b, L); reliability: (b, L);
        converged: (b,) whether the weights stopped changing.
    """

    weights: np.ndarray
    construct_cor: np.ndarray
    loadings: np.ndarray
    paths: np.ndarray
    r2: np.ndarray
    reliability: np.ndarray
    converged: np.ndarray


def estimate_pls_batched(correlations: np.ndarray, layout: PlsLayout, *, scheme: str = "path",
                         consistent: bool = False, tolerance: float = 1e-7,
                         max_iterations: int = 300) -> BatchedPlsSolution:
    """PLS (or PLSc) estimates from correlation matrices (b, p, p), as ``estimate_pls``
    computes them for one."""
    weights, converged = outer_weights_batched(correlations, layout, scheme=scheme,
                                               tolerance=tolerance,
                                               max_iterations=max_iterations)
    construct_cor = weights.transpose(0, 2, 1) @ correlations @ weights
    cross_loadings = correlations @ weights
    loadings = (cross_loadings * layout.membership).sum(axis=2)
    reliability = _rho_a(weights, correlations, layout)
    if consistent:
        construct_cor, loadings = _disattenuate(construct_cor, weights, reliability, layout,
                                                loadings)
    paths, r2 = _path_coefficients(construct_cor, layout.predecessors)
    return BatchedPlsSolution(weights, construct_cor, loadings, paths, r2, reliability,
                              converged)


def outer_weights_batched(correlations: np.ndarray, layout: PlsLayout, *, scheme: str,
                          tolerance: float, max_iterations: int
                          ) -> tuple[np.ndarray, np.ndarray]:
    """``(W (b, p, L), converged (b,))``: the iterations of ``outer_weights`` per replicate;
    a replicate keeps the weights of the iteration where it converged."""
    count = len(correlations)
    weights = _normalize(np.broadcast_to(layout.membership, (count, *layout.membership.shape)),
                         correlations)
    converged = np.zeros(count, dtype=bool)
    for _ in range(max_iterations):
        active = np.flatnonzero(~converged)
        if not len(active):
            break
        correlation = correlations[active]
        current = weights[active]
        construct_cor = current.transpose(0, 2, 1) @ correlation @ current
        proxy_cov = correlation @ current @ _inner_weights(construct_cor, layout.predecessors,
                                                           scheme)
        updated = np.zeros_like(current)
        for j, block in enumerate(layout.blocks):
            target = proxy_cov[:, block, j]
            if layout.mode_b[j]:
                target = np.linalg.solve(correlation[:, block][:, :, block],
                                         target[:, :, None])[:, :, 0]
            updated[:, block, j] = target
        updated = _normalize(updated, correlation)
        change = np.abs(updated - current).sum(axis=(1, 2))
        weights[active] = updated
        converged[active[change < tolerance]] = True
    return weights, converged


def _normalize(weights: np.ndarray, correlations: np.ndarray) -> np.ndarray:
    variance = np.einsum("bpj,bpq,bqj->bj", weights, correlations, weights)
    return weights / np.sqrt(variance)[:, None, :]


def _inner_weights(construct_cor: np.ndarray, predecessors: np.ndarray, scheme: str
                   ) -> np.ndarray:
    """(b, L, L) inner weights, as ``acsi_sem.estimate.pls.inner_weights``."""
    adjacent = predecessors | predecessors.T
    if scheme == "centroid":
        return np.where(adjacent, np.sign(construct_cor), 0.0)
    weights = np.where(adjacent, construct_cor, 0.0)
    if scheme == "path":
        for j in np.flatnonzero(predecessors.any(axis=1)):
            before = np.flatnonzero(predecessors[j])
            weights[:, before, j] = _regression(construct_cor, before, j)
    return weights


def _regression(construct_cor: np.ndarray, before: np.ndarray, outcome: int) -> np.ndarray:
    """(b, k) standardized OLS coefficients of ``outcome`` on the constructs ``before``."""
    return np.linalg.solve(construct_cor[:, before][:, :, before],
                           construct_cor[:, before, outcome][:, :, None])[:, :, 0]


def _path_coefficients(construct_cor: np.ndarray, predecessors: np.ndarray
                       ) -> tuple[np.ndarray, np.ndarray]:
    count, size, _ = construct_cor.shape
    paths = np.zeros((count, size, size))
    r2 = np.full((count, size), np.nan)
    for j in np.flatnonzero(predecessors.any(axis=1)):
        before = np.flatnonzero(predecessors[j])
        beta = _regression(construct_cor, before, j)
        paths[:, j, before] = beta
        r2[:, j] = (beta * construct_cor[:, before, j]).sum(axis=1)
    return paths, r2


def _rho_a(weights: np.ndarray, correlations: np.ndarray, layout: PlsLayout) -> np.ndarray:
    """(b, L) rho_A, as ``acsi_sem.estimate.pls.rho_a``."""
    values = np.ones((len(weights), len(layout.latent)))
    for j, block in enumerate(layout.blocks):
        if len(block) < 2 or layout.mode_b[j]:
            continue
        w = weights[:, block, j]
        off_correlation = correlations[:, block][:, :, block] - np.eye(len(block))
        squares = (w * w).sum(axis=1)
        between = np.einsum("bi,bij,bj->b", w, off_correlation, w)
        # w'(ww' - diag(ww'))w = (w'w)^2 - sum(w^4)
        values[:, j] = squares ** 2 * between / (squares ** 2 - (w ** 4).sum(axis=1))
    return values


def _disattenuate(construct_cor: np.ndarray, weights: np.ndarray, reliability: np.ndarray,
                  layout: PlsLayout, loadings: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """PLSc, as ``acsi_sem.estimate.pls._disattenuate``."""
    scale = np.sqrt(reliability)
    consistent = construct_cor / (scale[:, :, None] * scale[:, None, :])
    size = construct_cor.shape[1]
    consistent[:, np.arange(size), np.arange(size)] = 1.0
    loadings = loadings.copy()
    for j, block in enumerate(layout.blocks):
        if len(block) < 2 or layout.mode_b[j]:
            continue
        w = weights[:, block, j]
        loadings[:, block] = w * (scale[:, j] / (w * w).sum(axis=1))[:, None]
    return consistent, loadings
