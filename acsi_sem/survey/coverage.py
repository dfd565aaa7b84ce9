"""Covariance coverage under FIML: the share of respondents who answered both items of
each pair (lavaan's ``lavInspect(fit, "coverage")``), and lavaan's warning where it is thin."""

from __future__ import annotations

import numpy as np
import pandas as pd

SPARSE_COVERAGE = 0.1  # lavaan's threshold for its warning
NAMED_PAIRS = 5


def covariance_coverage(items: pd.DataFrame) -> pd.DataFrame:
    """(p, p) share of the rows of ``items`` (n, p) that answer both items of each pair
    (diagonal: each item's share answered)."""
    answered = items.notna().to_numpy(dtype=float)
    share = answered.T @ answered / max(len(items), 1)
    return pd.DataFrame(share, index=items.columns, columns=items.columns)


def lowest_coverage(items: pd.DataFrame) -> float:
    """The smallest share of the rows of ``items`` answering both items of a pair (each
    item's own share with a single item)."""
    coverage = covariance_coverage(items).to_numpy()
    if len(coverage) == 1:
        return float(coverage[0, 0])
    rows, cols = np.triu_indices(len(coverage), k=1)
    return float(coverage[rows, cols].min())


def sparse_coverage_warning(items: pd.DataFrame, where: str) -> str | None:
    """A warning naming the pairs of items answered together by fewer than 10% of the rows
    (lavaan warns at the same threshold), or None. Pairs nobody answered together have a
    covariance the data cannot inform: only the model gives it."""
    coverage = covariance_coverage(items).to_numpy()
    rows, cols = np.triu_indices(len(coverage), k=1)
    thin = np.flatnonzero(coverage[rows, cols] < SPARSE_COVERAGE)
    if not thin.size:
        return None
    names = items.columns
    order = thin[np.argsort(coverage[rows[thin], cols[thin]], kind="stable")]
    listed = ", ".join(f"{names[rows[k]]} and {names[cols[k]]} ({coverage[rows[k], cols[k]]:.1%})"
                       for k in order[:NAMED_PAIRS])
    more = f" and {len(order) - NAMED_PAIRS} more" if len(order) > NAMED_PAIRS else ""
    empty = int((coverage[rows[thin], cols[thin]] == 0).sum())
    unidentified = (f"; {empty} of them never answered together, so their covariance "
                    "comes from the model alone" if empty else "")
    pairs = "1 pair of items was" if len(order) == 1 else f"{len(order)} pairs of items were"
    return (f"{where}: due to missing answers, {pairs} answered together by fewer than "
            f"{SPARSE_COVERAGE:.0%} of the respondents: {listed}{more}{unidentified}; FIML "
            "estimates of these covariances rest on few answers")
