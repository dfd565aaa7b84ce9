"""Overall fit of a PLS model: SRMR, d_ULS and d_G of the model-implied indicator
correlations (Henseler et al. 2014; Dijkstra & Henseler 2015), as cSEM's ``fit()`` and
ADANCO compute them.

The implied correlations are ``Lambda V Lambda' + Theta`` with ``Theta = diag(1 - lambda²)``:
V is the constructs' correlation matrix, either as estimated (``saturated``: every construct
free to correlate) or as the structural model implies it (``estimated``: the exogenous
constructs' correlations, the paths, and residual variances 1 - R²). Within the block of a
composite the implied correlations are the sample ones (a composite model leaves them free);
within a common factor's block (PLSc) they are ``lambda_i lambda_j``.

* SRMR: the root mean square of the residuals over the p(p + 1) / 2 distinct elements;
* d_ULS: the sum of squared residuals over those elements (half the squared Frobenius norm);
* d_G: half the sum of the squared base-10 logarithms of the eigenvalues of ``S^-1 Sigma``.
  ADANCO and cSEM take base 10; Dijkstra and Henseler (2015) write the natural logarithm,
  which gives (ln 10)² = 5.30 times the value. Base 10 keeps the numbers comparable with
  what researchers report from ADANCO and SmartPLS.

All functions take stacks (b, ...) so a bootstrap evaluates many replicates at once.
"""

from __future__ import annotations

import numpy as np

from acsi_sem.numerics.pls import PlsLayout

DISTANCES = ("srmr", "d_uls", "d_g")
MODELS = ("saturated", "estimated")


def composite_blocks(layout: PlsLayout, estimator: str) -> np.ndarray:
    """(L,) True where a block is a composite: every block in PLS; in PLSc all but the
    reflective blocks of two or more items (the common factors)."""
    if estimator != "plsc":
        return np.ones(len(layout.latent), dtype=bool)
    sizes = np.array([len(block) for block in layout.blocks])
    return layout.mode_b | (sizes < 2)


def implied_construct_correlation(construct_cor: np.ndarray, paths: np.ndarray,
                                  predecessors: np.ndarray) -> np.ndarray:
    """(b, L, L) construct correlations implied by the structural model: exogenous ones as
    estimated, ``(I - B)^-1 (Gamma Phi Gamma' + Psi) (I - B)^-T`` among the rest, with
    ``Psi`` diagonal ``1 - R²`` (as cSEM)."""
    size = construct_cor.shape[-1]
    exogenous = ~predecessors.any(axis=1)
    # Put the exogenous constructs' correlations in as their "residual" covariances and
    # the endogenous ones' residual variances on the diagonal: V = (I - B)^-1 Z (I - B)^-T.
    residual = np.where(np.outer(exogenous, exogenous), construct_cor, 0.0)
    r_squared = (paths * construct_cor).sum(axis=-1)
    endogenous = np.flatnonzero(~exogenous)
    residual[..., endogenous, endogenous] = 1 - r_squared[..., endogenous]
    inverse = np.linalg.inv(np.eye(size) - paths)
    implied = inverse @ residual @ np.swapaxes(inverse, -1, -2)
    implied[..., endogenous, endogenous] = 1.0
    return implied


def implied_indicator_correlation(correlation: np.ndarray, loadings: np.ndarray,
                                  construct_cor: np.ndarray, layout: PlsLayout,
                                  composite: np.ndarray) -> np.ndarray:
    """(b, p, p) model-implied indicator correlations.

    Args:
        correlation: (b, p, p) sample correlations S.
        loadings: (b, p) each indicator's loading on its construct.
        construct_cor: (b, L, L) construct correlations V (saturated or implied).
        composite: (L,) True where a block is a composite (its within-block correlations
            are S's).
    """
    lam = layout.membership * loadings[..., :, None]
    implied = lam @ construct_cor @ np.swapaxes(lam, -1, -2)
    size = implied.shape[-1]
    implied[..., np.arange(size), np.arange(size)] = 1.0
    for j, block in enumerate(layout.blocks):
        if composite[j]:
            cells = np.ix_(block, block)
            implied[(..., *cells)] = correlation[(..., *cells)]
    return implied


def fit_distances(correlation: np.ndarray, implied: np.ndarray) -> np.ndarray:
    """(b, 3) SRMR, d_ULS and d_G of sample (b, p, p) against implied (b, p, p)
    correlations."""
    size = correlation.shape[-1]
    lower = np.tril_indices(size)
    residual = (correlation - implied)[..., lower[0], lower[1]]
    squares = (residual ** 2).sum(axis=-1)
    srmr = np.sqrt(squares / len(lower[0]))
    ratio = _solved(correlation, implied)
    defined = np.isfinite(ratio).all(axis=(-2, -1))
    d_g = np.full(defined.shape, np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        eigenvalues = np.linalg.eigvals(ratio[defined]).real
        d_g[defined] = 0.5 * (np.log10(eigenvalues) ** 2).sum(axis=-1)
    return np.stack([srmr, squares, d_g], axis=-1)


def _solved(correlation: np.ndarray, implied: np.ndarray) -> np.ndarray:
    """``S^-1 Sigma`` of each stacked pair; NaN where S is singular (too few respondents
    for the items), so d_G is undefined there and the other distances still stand."""
    try:
        return np.linalg.solve(correlation, implied)
    except np.linalg.LinAlgError:
        flat_s = correlation.reshape(-1, *correlation.shape[-2:])
        flat_sigma = implied.reshape(flat_s.shape)
        solved = np.full(flat_s.shape, np.nan)
        for index, (sample, model) in enumerate(zip(flat_s, flat_sigma, strict=True)):
            try:
                solved[index] = np.linalg.solve(sample, model)
            except np.linalg.LinAlgError:
                continue
        return solved.reshape(correlation.shape)


def model_distances(correlation: np.ndarray, loadings: np.ndarray, construct_cor: np.ndarray,
                    paths: np.ndarray, layout: PlsLayout, composite: np.ndarray
                    ) -> np.ndarray:
    """(b, 2, 3) the distances of the saturated (``[:, 0]``) and the estimated
    (``[:, 1]``) model, each SRMR, d_ULS, d_G."""
    implied = implied_construct_correlation(construct_cor, paths, layout.predecessors)
    return np.stack([fit_distances(correlation, implied_indicator_correlation(
        correlation, loadings, construct, layout, composite))
        for construct in (construct_cor, implied)], axis=-2)
