"""ACSI-style 0-100 indices from unstandardized outer weights.

The ACSI reports each construct as a weighted mean of its items on the answer scale,
rescaled to 0-100 (Fornell et al. 1996, p. 10): the standardized outer weights are divided
by the items' standard deviations, normalized to sum to 1 within the block, applied to the
item means, and ``100 (value - lowest) / (highest - lowest)`` maps the answer scale onto 0-100.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def unstandardized_weights(weights: np.ndarray, item_sd: np.ndarray,
                           blocks: tuple[np.ndarray, ...]) -> np.ndarray:
    """(p,) weights in the items' own metric, summing to 1 within each block.

    Args:
        weights: (p, L) standardized outer weights (zero outside each block).
        item_sd: (p,) standard deviations of the raw items.
        blocks: positions of each construct's items.
    """
    raw = weights.sum(axis=1) / item_sd
    normalized = np.zeros_like(raw)
    for block in blocks:
        normalized[block] = raw[block] / raw[block].sum()
    return normalized


def index_scores(items: np.ndarray, weights: np.ndarray, blocks: tuple[np.ndarray, ...],
                 scale: tuple[float, float]) -> np.ndarray:
    """(n, L) 0-100 scores of each respondent from raw items (n, p) and normalized weights."""
    low, high = scale
    scores = np.column_stack([items[:, block] @ weights[block] for block in blocks])
    return 100 * (scores - low) / (high - low)


def acsi_index(item_means: np.ndarray, weights: np.ndarray, blocks: tuple[np.ndarray, ...],
               scale: tuple[float, float]) -> np.ndarray:
    """(L,) 0-100 index of each construct: the mean of the respondents' scores, which is
    the score of the (weighted) item means (p,), as the score is linear in the items."""
    return index_scores(item_means[None], weights, blocks, scale)[0]


def index_by_group(items: np.ndarray, groups: pd.Series, weights: np.ndarray,
                   blocks: tuple[np.ndarray, ...], scale: tuple[float, float],
                   latent: tuple[str, ...], row_weights: np.ndarray | None = None
                   ) -> pd.DataFrame:
    """(groups, L) indices per group, with the pooled weights, and each group's size ``n``;
    with sampling weights ``row_weights`` (n,), each group's weighted mean."""
    scores = pd.DataFrame(index_scores(items, weights, blocks, scale), columns=list(latent))
    shares = np.ones(len(items)) if row_weights is None else row_weights
    keys = groups.to_numpy()
    weighted = scores.mul(shares, axis=0).groupby(keys, sort=True).sum()
    table = weighted.div(pd.Series(shares).groupby(keys, sort=True).sum(), axis=0)
    table.insert(0, "n", scores.groupby(keys, sort=True).size())
    table.index.name = groups.name
    return table


def negative_weight_warnings(weights: np.ndarray, blocks: tuple[np.ndarray, ...],
                             latent: tuple[str, ...], indicators: tuple[str, ...]) -> list[str]:
    """The index is a weighted mean only if every weight of a block is positive."""
    warnings = []
    for j, block in enumerate(blocks):
        negative = [indicators[i] for i in block if weights[i] < 0]
        if negative:
            warnings.append(f"the 0-100 index of {latent[j]} has negative weights on "
                            f"{', '.join(negative)}: it is not a weighted mean of its items "
                            "and may fall outside 0-100")
    return warnings


def factor_score_weights(full_covariance: np.ndarray, n_observed: int,
                         latent_positions: list[int], blocks: tuple[np.ndarray, ...],
                         indicator_positions: np.ndarray) -> np.ndarray:
    """(p_blocks,) CB-SEM index weights: each construct's regression (Thurstone) factor-score
    weights ``Cov(eta, x) Sigma^-1`` on its own items, normalized to sum to 1.

    The factor score weights act on the raw items, so they are in the items' metric
    already; weights on other constructs' items are dropped, as the ACSI's index is a
    weighted mean of the construct's own items.

    Args:
        full_covariance: (m, m) model-implied covariance of all variables, observed first.
        n_observed: p, the observed variables' count (Sigma is the top-left block).
        latent_positions: each construct's row in ``full_covariance``.
        blocks: each construct's items, as positions in ``indicator_positions``.
        indicator_positions: (k,) each indicator's position among the observed variables.
    """
    sigma = full_covariance[:n_observed, :n_observed]
    scores = np.linalg.solve(sigma, full_covariance[:n_observed, latent_positions]).T
    weights = np.zeros(len(indicator_positions))
    for j, block in enumerate(blocks):
        own = scores[j, indicator_positions[block]]
        weights[block] = own / own.sum()
    return weights
