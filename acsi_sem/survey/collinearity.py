"""Items that repeat one another: a column pasted twice, a reverse-coded copy, or an item
that is an exact sum of others makes the item covariance singular, and every estimator then
fails or returns infinities. They are found before estimating, and named."""

from __future__ import annotations

import numpy as np
import pandas as pd

from acsi_sem.errors import DataError

# An eigenvalue of the item correlation matrix this small (per item) is exact dependence up to
# rounding; one below NEAR_EIGENVALUE leaves an item all but determined by the others.
EXACT_EIGENVALUE = 1e-10
NEAR_EIGENVALUE = 1e-3
NEAR_CORRELATION = 0.98


def check_collinearity(frame: pd.DataFrame, source: str) -> list[str]:
    """Refuse items that are identical or exactly collinear; warn about nearly collinear ones.

    Args:
        frame: (n, p) numeric answers, columns named by item; incomplete rows are left out.
        source: the data's name for the messages.

    Returns:
        Warnings (possibly none) naming nearly collinear items.

    Raises:
        DataError: two items are identical or perfectly correlated, or a set of items is
            linearly dependent (the smallest such set is named).
    """
    complete = frame.dropna() if frame.isna().to_numpy().any() else frame
    if frame.shape[1] < 2 or len(complete) <= frame.shape[1]:
        return []  # too few rows to tell; the row count check speaks for itself
    with np.errstate(invalid="ignore", divide="ignore"):
        correlation = np.corrcoef(complete.to_numpy(dtype=float), rowvar=False)
    if not np.isfinite(correlation).all():
        return []  # an item without variance among the complete rows: checked elsewhere
    names = list(frame.columns)
    _refuse_identical(complete, correlation, names, source)
    singular = _smallest_dependent_set(correlation, EXACT_EIGENVALUE * len(names))
    if singular:
        items = ", ".join(names[i] for i in singular)
        raise DataError(f"{source}: items {items} are linearly dependent (each is an exact "
                        "combination of the others), so their covariance matrix is singular; "
                        "remove one of them")
    return _near_warnings(correlation, names)


def _refuse_identical(complete: pd.DataFrame, correlation: np.ndarray, names: list[str],
                      source: str) -> None:
    rows, cols = np.triu_indices(len(names), 1)
    perfect = np.abs(correlation[rows, cols]) > 1 - 1e-12
    if not perfect.any():
        return
    first, second = names[rows[perfect][0]], names[cols[perfect][0]]
    if complete[first].equals(complete[second]):
        raise DataError(f"{source}: items {first} and {second} are identical (the same answer "
                        "in every row); remove one of them")
    r = correlation[rows[perfect][0], cols[perfect][0]]
    raise DataError(f"{source}: items {first} and {second} are perfectly correlated "
                    f"(r = {r:.3f}: one is a rescaled copy of the other); remove one of them")


def _smallest_dependent_set(correlation: np.ndarray, tolerance: float) -> list[int]:
    """Positions of a minimal set of items whose correlation matrix is singular, or []."""
    if np.linalg.eigvalsh(correlation)[0] >= tolerance:
        return []
    members = list(range(len(correlation)))
    for item in list(members):
        rest = [i for i in members if i != item]
        if len(rest) > 1 and np.linalg.eigvalsh(correlation[np.ix_(rest, rest)])[0] < tolerance:
            members = rest
    return members


def _near_warnings(correlation: np.ndarray, names: list[str]) -> list[str]:
    rows, cols = np.triu_indices(len(names), 1)
    close = np.abs(correlation[rows, cols]) >= NEAR_CORRELATION
    warnings = [f"items {names[i]} and {names[j]} correlate {correlation[i, j]:.3f}: nearly the "
                "same item, so their estimates are unstable"
                for i, j in zip(rows[close], cols[close], strict=True)]
    if not warnings:
        nearly = _smallest_dependent_set(correlation, NEAR_EIGENVALUE)
        if nearly:
            warnings.append(f"items {', '.join(names[i] for i in nearly)} are nearly linearly "
                            "dependent (the smallest eigenvalue of their correlation matrix is "
                            "below 0.001), so their estimates are unstable")
    return warnings
