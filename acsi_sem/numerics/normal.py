"""Standard-normal pieces shared by the polychoric and polyserial statistics: the density,
the limits of an ordered item's categories and which threshold bounds which answer (a module
of its own, so that :mod:`acsi_sem.numerics.polychoric` and
:mod:`acsi_sem.numerics.polyserial` both import it without importing each other)."""

from __future__ import annotations

import numpy as np


def normal_density(x: np.ndarray) -> np.ndarray:
    """The standard normal density at ``x`` (0 at infinite limits)."""
    return np.exp(-0.5 * np.square(x)) / np.sqrt(2 * np.pi)


def category_limits(thresholds: np.ndarray, open_limit: float = np.inf) -> np.ndarray:
    """(K + 1,) the limits of an ordered item's K categories: its K - 1 thresholds between
    -``open_limit`` and ``open_limit`` (lavaan's polyserial code uses +-100, not infinity)."""
    return np.concatenate([[-open_limit], thresholds, [open_limit]])


def threshold_sides(codes: np.ndarray, n_thresholds: int) -> tuple[np.ndarray, np.ndarray]:
    """(n, K - 1) each: whether threshold k is the upper limit of each respondent's
    category (the answer is category k) and whether it is the lower one (category k + 1),
    for ``codes`` (n,) the answers as category numbers 0..K-1."""
    k = np.arange(n_thresholds)
    return codes[:, None] == k, codes[:, None] == k + 1
