"""PLS path modelling (Wold 1982; Lohmöller 1989), and consistent PLS (Dijkstra & Henseler
2015).

Every step of the algorithm is linear in the standardized indicators, so it runs on their
(p, p) correlation matrix ``R`` alone: with outer weights ``W`` (p, L) the composites are
``Y = X W``, their correlations ``C = W' R W``, and the indicator-proxy covariances
``R W E`` for inner weights ``E`` (L, L). Scores need the data only at the end. A bootstrap
replicate therefore costs one correlation matrix plus a few small matrix products.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from acsi_sem.model.spec import ModelSpec

SCHEMES = ("path", "factorial", "centroid")


@dataclass(frozen=True)
class PlsLayout:
    """Index structure of a PLS model.

    Attributes:
        latent: the L construct names.
        indicators: the p indicator names, block by block.
        blocks: for each construct, the positions of its indicators in ``indicators``.
        mode_b: (L,) True where the block is formative (``<~``, regression weights).
        predecessors: (L, L) boolean, ``[j, k]`` True if construct k has a path to j.
    """

    latent: tuple[str, ...]
    indicators: tuple[str, ...]
    blocks: tuple[np.ndarray, ...]
    mode_b: np.ndarray
    predecessors: np.ndarray

    @property
    def membership(self) -> np.ndarray:
        """(p, L) 0/1 matrix: indicator i belongs to construct j."""
        member = np.zeros((len(self.indicators), len(self.latent)))
        for j, block in enumerate(self.blocks):
            member[block, j] = 1.0
        return member

    @property
    def endogenous(self) -> list[int]:
        """Constructs with at least one predecessor."""
        return [j for j in range(len(self.latent)) if self.predecessors[j].any()]


def pls_layout(spec: ModelSpec) -> PlsLayout:
    """The PLS index structure of a specification (each indicator in one block)."""
    return block_layout(spec.latent, spec.indicators, spec.structural_paths, spec.modes)


def block_layout(latent: tuple[str, ...], indicators: dict[str, list[str]],
                 paths: list[tuple[str, str]], modes: dict[str, str]) -> PlsLayout:
    """The index structure of the blocks of ``latent``: each one's ``indicators``, the
    ``(outcome, predictor)`` regression ``paths`` among them and their ``modes`` (``"A"``
    or ``"B"``)."""
    items: list[str] = []
    blocks = []
    for name in latent:
        names = indicators[name]
        blocks.append(np.arange(len(items), len(items) + len(names)))
        items += names
    position = {name: j for j, name in enumerate(latent)}
    predecessors = np.zeros((len(latent), len(latent)), dtype=bool)
    for outcome, predictor in paths:
        predecessors[position[outcome], position[predictor]] = True
    mode_b = np.array([modes[lv] == "B" for lv in latent], dtype=bool)
    return PlsLayout(tuple(latent), tuple(items), tuple(blocks), mode_b, predecessors)


@dataclass(frozen=True)
class PlsSolution:
    """Converged PLS estimates, all in the standardized metric.

    Attributes:
        weights: (p, L) outer weights; column j is zero outside block j and gives a
            composite of unit variance.
        construct_cor: (L, L) correlations of the composites (PLSc: disattenuated).
        loadings: (p,) loading of each indicator on its own construct.
        cross_loadings: (p, L) correlation of every indicator with every composite.
        paths: (L, L) path coefficients, ``[j, k]`` the effect of k on j.
        r2: (L,) R-squared of each construct (NaN for exogenous ones).
        reliability: (L,) rho_A of each block (1 for single items and mode B blocks).
        iterations: outer iterations until convergence.
        converged: whether the weights stopped changing.
    """

    weights: np.ndarray
    construct_cor: np.ndarray
    loadings: np.ndarray
    cross_loadings: np.ndarray
    paths: np.ndarray
    r2: np.ndarray
    reliability: np.ndarray
    iterations: int
    converged: bool


def inner_weights(construct_cor: np.ndarray, predecessors: np.ndarray, scheme: str
                  ) -> np.ndarray:
    """(..., L, L) inner weights ``E``, ``E[k, j]`` the weight of composite k in proxy j, for
    construct correlations (..., L, L) (one matrix, or a stack of bootstrap replicates).

    Centroid: the sign of the correlation; factorial: the correlation; path: regression
    coefficients of j on its predecessors, correlations with its successors.
    """
    adjacent = predecessors | predecessors.T
    # A construct without neighbours is its own proxy (so Mode A gives its items' first
    # principal component), instead of a proxy of zero that leaves its weights undefined.
    isolated = np.flatnonzero(~adjacent.any(axis=0))
    if scheme == "centroid":
        weights = np.where(adjacent, np.sign(construct_cor), 0.0)
    else:
        weights = np.where(adjacent, construct_cor, 0.0)
    if scheme == "path":
        for j in np.flatnonzero(predecessors.any(axis=1)):
            before = np.flatnonzero(predecessors[j])
            weights[..., before, j] = _regression(construct_cor, before, j)
    weights[..., isolated, isolated] = 1.0
    return weights


def _regression(construct_cor: np.ndarray, before: np.ndarray, outcome: int) -> np.ndarray:
    """(..., k) standardized OLS coefficients of ``outcome`` on the constructs ``before``."""
    return np.linalg.solve(construct_cor[..., before[:, None], before],
                           construct_cor[..., before, outcome][..., None])[..., 0]


def outer_weights(correlation: np.ndarray, layout: PlsLayout, *, scheme: str = "path",
                  tolerance: float = 1e-7, max_iterations: int = 300
                  ) -> tuple[np.ndarray, int, bool]:
    """Iterate the PLS outer and inner estimation to convergence.

    Args:
        correlation: (p, p) correlation matrix of the indicators in ``layout`` order.
        tolerance: stop when the summed absolute change of the weights is below it.

    Returns:
        ``(W, iterations, converged)`` with W (p, L) normalized to unit-variance composites.
    """
    weights = normalize_weights(layout.membership, correlation)
    for iteration in range(1, max_iterations + 1):
        construct_cor = weights.T @ correlation @ weights
        proxy_cov = correlation @ weights @ inner_weights(construct_cor[None],
                                                          layout.predecessors, scheme)[0]
        updated = np.zeros_like(weights)
        for j, block in enumerate(layout.blocks):
            target = proxy_cov[block, j]
            if layout.mode_b[j]:
                target = np.linalg.solve(correlation[np.ix_(block, block)], target)
            updated[block, j] = target
        updated = normalize_weights(updated, correlation)
        change = np.abs(updated - weights).sum()
        weights = updated
        if change < tolerance:
            return weights, iteration, True
    return weights, max_iterations, False


def normalize_weights(weights: np.ndarray, correlation: np.ndarray) -> np.ndarray:
    """Outer weights (..., p, L) scaled to composites of unit variance under the
    correlations (..., p, p)."""
    variance = np.einsum("...pj,...pq,...qj->...j", weights, correlation, weights)
    return weights / np.sqrt(variance)[..., None, :]


def estimate_pls(correlation: np.ndarray, layout: PlsLayout, *, scheme: str = "path",
                 consistent: bool = False, tolerance: float = 1e-7,
                 max_iterations: int = 300) -> PlsSolution:
    """PLS (or PLSc) estimates from the indicators' correlation matrix (p, p)."""
    weights, iterations, converged = outer_weights(correlation, layout, scheme=scheme,
                                                   tolerance=tolerance,
                                                   max_iterations=max_iterations)
    inner = inner_estimates(weights[None], correlation[None], layout, consistent=consistent)
    return PlsSolution(weights, *(part[0] for part in inner), iterations, converged)


def inner_estimates(weights: np.ndarray, correlations: np.ndarray, layout: PlsLayout, *,
                    consistent: bool) -> tuple[np.ndarray, ...]:
    """What follows from the outer weights (b, p, L) and correlations (b, p, p), for a
    stack of b replicates: construct correlations (b, L, L), cross-loadings (b, p, L),
    loadings (b, p), paths (b, L, L), R-squared (b, L) and rho_A (b, L); with
    ``consistent`` the PLSc correlations and loadings."""
    construct_cor = weights.transpose(0, 2, 1) @ correlations @ weights
    cross_loadings = correlations @ weights
    loadings = (cross_loadings * layout.membership).sum(axis=2)
    reliability = rho_a(weights, correlations, layout)
    if consistent:
        construct_cor, loadings = _disattenuate(construct_cor, weights, reliability, layout,
                                                loadings)
    paths, r2 = path_coefficients(construct_cor, layout.predecessors)
    return construct_cor, loadings, cross_loadings, paths, r2, reliability


def path_coefficients(construct_cor: np.ndarray, predecessors: np.ndarray
                      ) -> tuple[np.ndarray, np.ndarray]:
    """Standardized OLS paths (b, L, L) and R-squared (b, L) from construct correlations
    (b, L, L)."""
    count, size, _ = construct_cor.shape
    paths = np.zeros((count, size, size))
    r2 = np.full((count, size), np.nan)
    for j in np.flatnonzero(predecessors.any(axis=1)):
        before = np.flatnonzero(predecessors[j])
        beta = _regression(construct_cor, before, j)
        paths[:, j, before] = beta
        r2[:, j] = (beta * construct_cor[:, before, j]).sum(axis=1)
    return paths, r2


def rho_a(weights: np.ndarray, correlations: np.ndarray, layout: PlsLayout) -> np.ndarray:
    """Dijkstra-Henseler rho_A (b, L) per block of each replicate; 1 for single items and
    mode B blocks.

    rho_A = (w'w)^2 w'(R - diag R)w / w'(ww' - diag ww')w  (Dijkstra & Henseler 2015, eq. 9).
    """
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
    """PLSc: correlations of the common factors (b, L, L) and their consistent loadings
    (b, p)."""
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


def total_effects(paths: np.ndarray) -> np.ndarray:
    """(..., L, L) total effects ``(I - B)^-1 - I`` of path matrices ``B`` (one or a stack)."""
    identity = np.eye(paths.shape[-1])
    return np.linalg.inv(identity - paths) - identity
