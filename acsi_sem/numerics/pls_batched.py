"""PLS (and PLSc) for many correlation matrices at once (bootstrap replicates).

PLS path modelling on standardized indicators depends on the data only through their
correlation matrix R, so b replicates are b matrices R_b, and the outer/inner iterations of
:func:`acsi_sem.numerics.pls.outer_weights` run on stacked arrays: weights (b, p, L),
construct correlations (b, L, L). Each replicate stops at the iteration where the one-at-a-
time loop would stop (the summed absolute change of its weights below the tolerance), so
its estimates are the one-at-a-time estimates.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from acsi_sem.numerics.pls import (
    PlsLayout,
    inner_estimates,
    inner_weights,
    normalize_weights,
)


@dataclass(frozen=True)
class BatchedPlsSolution:
    """:class:`acsi_sem.numerics.pls.PlsSolution` of b replicates, stacked on axis 0.

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
    construct_cor, loadings, _, paths, r2, reliability = inner_estimates(
        weights, correlations, layout, consistent=consistent)
    return BatchedPlsSolution(weights, construct_cor, loadings, paths, r2, reliability,
                              converged)


def outer_weights_batched(correlations: np.ndarray, layout: PlsLayout, *, scheme: str,
                          tolerance: float, max_iterations: int
                          ) -> tuple[np.ndarray, np.ndarray]:
    """``(W (b, p, L), converged (b,))``: the iterations of ``outer_weights`` per replicate;
    a replicate keeps the weights of the iteration where it converged."""
    count = len(correlations)
    weights = normalize_weights(
        np.broadcast_to(layout.membership, (count, *layout.membership.shape)), correlations)
    converged = np.zeros(count, dtype=bool)
    for _ in range(max_iterations):
        active = np.flatnonzero(~converged)
        if not len(active):
            break
        correlation = correlations[active]
        current = weights[active]
        construct_cor = current.transpose(0, 2, 1) @ correlation @ current
        proxy_cov = correlation @ current @ inner_weights(construct_cor, layout.predecessors,
                                                          scheme)
        updated = np.zeros_like(current)
        for j, block in enumerate(layout.blocks):
            target = proxy_cov[:, block, j]
            if layout.mode_b[j]:
                target = np.linalg.solve(correlation[:, block][:, :, block],
                                         target[:, :, None])[:, :, 0]
            updated[:, block, j] = target
        updated = normalize_weights(updated, correlation)
        change = np.abs(updated - current).sum(axis=(1, 2))
        weights[active] = updated
        converged[active[change < tolerance]] = True
    return weights, converged

