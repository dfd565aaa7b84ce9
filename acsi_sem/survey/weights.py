"""Sampling weights: a survey column checked and summarized.

A sampling weight says how many customers of the population a respondent stands for (e.g.
the inverse of the chance of being sampled, after post-stratification). Every estimate
weights each respondent's answers by it, so integer weights give the estimates of the data
with each row repeated that often; how standard errors count respondents is the estimator's
business (lavaan's CB-SEM rescales the weights to sum to n, PLS bootstraps respondents).
"""

from __future__ import annotations

import numpy as np

from acsi_sem.errors import DataError


def check_weights(values: np.ndarray, column: str, source: str) -> None:
    """Check a weight column's values (n,), read as floats.

    Raises:
        DataError: a missing, negative or infinite weight (naming the column and the first
            such row, counted from 1), or every weight zero.
    """
    for problem, bad in (("is missing", np.isnan(values)),
                         ("is negative", values < 0),
                         ("is infinite", np.isinf(values))):
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            shown = "" if problem == "is missing" else f" ({values[row]:g})"
            raise DataError(f"{source}: weight column {column}: the weight in row {row + 1} "
                            f"{problem}{shown}; every respondent needs a weight of zero or more")
    check_total(values, column, source)


def check_total(values: np.ndarray, column: str, source: str) -> None:
    """Raise when the weights sum to zero (nobody left to estimate from)."""
    if not values.sum() > 0:
        raise DataError(f"{source}: weight column {column}: every weight of the rows used is "
                        "zero")


def effective_sample_size(weights: np.ndarray) -> float:
    """Kish's effective sample size ``(sum w)^2 / sum w^2``: the number of equally weighted
    respondents that would give the same precision of a mean (n when all weights are equal)."""
    return float(weights.sum() ** 2 / (weights ** 2).sum())


def weights_report(weights: np.ndarray, column: str) -> dict:
    """``{"column", "n", "sum", "min", "max", "effective_n"}`` of the weights used."""
    return {"column": column, "n": len(weights), "sum": float(weights.sum()),
            "min": float(weights.min()), "max": float(weights.max()),
            "effective_n": effective_sample_size(weights)}


def weights_note(weights: np.ndarray, column: str) -> str:
    """One line for a result's notes: the weight column, its spread and effective n."""
    positive = weights[weights > 0]
    return (f"sampling weights from column {column} (min "
            f"{positive.min():.3g}, max {weights.max():.3g}, sum {weights.sum():.6g}; "
            f"Kish effective sample size {effective_sample_size(weights):.1f} of "
            f"{len(weights)} respondents)")
