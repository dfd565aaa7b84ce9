"""Nonparametric bootstrap with percentile and BCa intervals (Efron & Tibshirani 1993).

An estimator supplies a statistic: a function of the row indices of a resample that returns
every quantity to be bootstrapped as one vector. Replicates that fail (no convergence) are
counted and left out; improper ones (e.g. a negative variance) are kept and counted. Both
counts are reported with the intervals.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats


class FailedReplicateError(Exception):
    """A replicate for which the estimator produced no estimate."""


@dataclass(frozen=True)
class Replicate:
    """The statistic's values on one resample, and whether that solution is improper."""

    values: np.ndarray
    improper: bool = False


@dataclass(frozen=True)
class BootstrapResult:
    """Bootstrap draws of k named statistics.

    Attributes:
        names: the k statistic names.
        estimate: (k,) full-sample values.
        draws: (b, k) values on the successful replicates.
        requested: replicates asked for; ``failed`` of them gave no estimate, ``improper``
            of the successful ones were improper solutions.
        jackknife: (g, k) leave-group-out values for the BCa acceleration.
        seed: the seed of the resampling generator.
        level: confidence level of the intervals.
        interval: the interval reported as ``ci_lower``/``ci_upper``: ``"percentile"`` or
            ``"bca"``.
    """

    names: tuple[str, ...]
    estimate: np.ndarray
    draws: np.ndarray
    requested: int
    failed: int
    improper: int
    jackknife: np.ndarray
    seed: int | None
    level: float = 0.95
    interval: str = "percentile"

    @property
    def se(self) -> np.ndarray:
        """(k,) bootstrap standard errors (SD of the draws, ddof = 1)."""
        return self.draws.std(axis=0, ddof=1) if len(self.draws) > 1 else np.full(
            len(self.names), np.nan)

    def percentile(self) -> tuple[np.ndarray, np.ndarray]:
        """Percentile interval bounds, each (k,)."""
        tail = (1 - self.level) / 2
        return (np.quantile(self.draws, tail, axis=0),
                np.quantile(self.draws, 1 - tail, axis=0))

    def bca(self) -> tuple[np.ndarray, np.ndarray]:
        """Bias-corrected and accelerated interval bounds, each (k,); NaN where the bias
        correction is infinite (every draw on one side of the estimate)."""
        below = (self.draws < self.estimate).mean(axis=0)
        ties = (self.draws == self.estimate).mean(axis=0)
        with np.errstate(divide="ignore", invalid="ignore"):
            bias = stats.norm.ppf(below + ties / 2)
            centred = self.jackknife.mean(axis=0) - self.jackknife
            acceleration = (centred ** 3).sum(axis=0) / (
                6 * ((centred ** 2).sum(axis=0)) ** 1.5)
        acceleration = np.nan_to_num(acceleration)
        tail = (1 - self.level) / 2
        bounds = []
        for z in stats.norm.ppf([tail, 1 - tail]):
            with np.errstate(divide="ignore", invalid="ignore"):
                adjusted = stats.norm.cdf(bias + (bias + z) / (1 - acceleration * (bias + z)))
            bound = np.full(len(self.names), np.nan)
            ok = np.isfinite(adjusted)
            for index in np.flatnonzero(ok):
                bound[index] = np.quantile(self.draws[:, index], adjusted[index])
            bounds.append(bound)
        return bounds[0], bounds[1]

    def table(self) -> pd.DataFrame:
        """One row per statistic: estimate, se, percentile and BCa bounds."""
        pct_lower, pct_upper = self.percentile()
        bca_lower, bca_upper = self.bca()
        return pd.DataFrame({"estimate": self.estimate, "se": self.se,
                             "pct_lower": pct_lower, "pct_upper": pct_upper,
                             "bca_lower": bca_lower, "bca_upper": bca_upper},
                            index=pd.Index(self.names, name="statistic"))

    def intervals(self) -> pd.DataFrame:
        """One row per statistic: ``estimate, se, ci_lower, ci_upper`` with the chosen
        interval."""
        table = self.table()
        prefix = "bca" if self.interval == "bca" else "pct"
        return pd.DataFrame({"estimate": table["estimate"], "se": table["se"],
                             "ci_lower": table[f"{prefix}_lower"],
                             "ci_upper": table[f"{prefix}_upper"]})

    def summary_line(self) -> str:
        """How many replicates were requested, used, failed and improper."""
        used = len(self.draws)
        return (f"bootstrap: {self.requested} replicates requested (seed {self.seed}), {used} "
                f"used, {self.failed} failed (left out), {self.improper} improper (kept); "
                f"standard errors and {self.interval} intervals from the bootstrap")


def bootstrap(statistic: Callable[[np.ndarray], Replicate], n_rows: int, *, replicates: int,
              seed: int | None, names: tuple[str, ...], estimate: np.ndarray,
              progress: bool = False, level: float = 0.95, interval: str = "percentile",
              jackknife_groups: int = 250) -> BootstrapResult:
    """Resample rows with replacement ``replicates`` times and evaluate ``statistic``.

    Args:
        statistic: maps row indices (n,) of a resample to a :class:`Replicate`; raises
            :class:`FailedReplicateError` when the estimator gives no answer.
        n_rows: n, the number of respondents.
        seed: seed of ``numpy.random.default_rng``; the same seed gives the same draws.
        names, estimate: the statistics' names and full-sample values (k,).
        progress: show a tqdm progress bar on standard error.
        level, interval: confidence level, and the interval (``"percentile"`` or ``"bca"``)
            that :meth:`BootstrapResult.intervals` reports.
        jackknife_groups: at most this many leave-group-out fits for the BCa acceleration
            (leave-one-out when n is not larger).
    """
    rng = np.random.default_rng(seed)
    draws, failed, improper = [], 0, 0
    for _ in _progress(range(replicates), progress, "bootstrap"):
        rows = rng.integers(0, n_rows, size=n_rows)
        try:
            replicate = statistic(rows)
        except FailedReplicateError:
            failed += 1
            continue
        draws.append(replicate.values)
        improper += int(replicate.improper)
    matrix = np.array(draws).reshape(len(draws), len(names))
    jackknife = _jackknife(statistic, n_rows, min(jackknife_groups, n_rows), len(names))
    return BootstrapResult(tuple(names), np.asarray(estimate, dtype=float), matrix,
                           replicates, failed, improper, jackknife, seed, level, interval)


def _jackknife(statistic: Callable[[np.ndarray], Replicate], n_rows: int, groups: int,
               size: int) -> np.ndarray:
    """Leave-one-group-out values (g, k); contiguous groups of near-equal size."""
    values = []
    for kept in np.array_split(np.arange(n_rows), groups):
        rows = np.setdiff1d(np.arange(n_rows), kept, assume_unique=True)
        try:
            values.append(statistic(rows).values)
        except FailedReplicateError:
            continue
    return np.array(values).reshape(len(values), size)


def _progress(iterable, show: bool, description: str):
    if not show:
        return iterable
    from tqdm import tqdm

    return tqdm(iterable, desc=description, unit="rep", leave=False)
