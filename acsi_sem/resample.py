"""Nonparametric bootstrap with percentile and BCa intervals (Efron & Tibshirani 1993).

An estimator supplies a statistic: a function of the row indices of a resample that returns
every quantity to be bootstrapped as one vector. Replicates that fail (no convergence) are
counted and left out; improper ones (e.g. a negative variance) are kept and counted. Both
counts are reported with the intervals.

Two drivers share one resampling stream (the same seed draws the same rows):
:func:`bootstrap` evaluates a statistic one resample at a time; :func:`bootstrap_batched`
hands an estimator the resamples of many replicates at once as count weights (b, n), so
that it can compute their moments and iterate their estimates as stacked arrays. The
jackknife behind the BCa acceleration is computed only when BCa bounds are asked for.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd
from scipy import special


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
        jackknife_source: (g, k) leave-group-out values for the BCa acceleration, or a
            function computing them, called once and only when BCa bounds are needed.
        seed: the seed of the resampling generator.
        level: confidence level of the intervals.
        interval: the interval reported as ``ci_lower``/``ci_upper``: ``"percentile"`` or
            ``"bca"``.
        jackknife_blocks: the leave-group-out fits attempted for the jackknife; those whose
            fit failed are left out of it (0: not known).
    """

    names: tuple[str, ...]
    estimate: np.ndarray
    draws: np.ndarray
    requested: int
    failed: int
    improper: int
    jackknife_source: np.ndarray | Callable[[], np.ndarray]
    seed: int | None
    level: float = 0.95
    interval: str = "percentile"
    jackknife_blocks: int = 0

    @cached_property
    def jackknife(self) -> np.ndarray:
        """(g, k) leave-group-out values (computed on first use)."""
        source = self.jackknife_source
        return np.asarray(source() if callable(source) else source, dtype=float)

    def __getstate__(self) -> dict:
        # A pickle keeps values, not the estimator's closure: compute the jackknife now.
        state = dict(self.__dict__)
        state["jackknife_source"] = self.jackknife
        return state

    @property
    def se(self) -> np.ndarray:
        """(k,) bootstrap standard errors (SD of the draws, ddof = 1)."""
        return self.draws.std(axis=0, ddof=1) if len(self.draws) > 1 else np.full(
            len(self.names), np.nan)

    def percentile(self) -> tuple[np.ndarray, np.ndarray]:
        """Percentile interval bounds, each (k,); NaN when no replicate converged."""
        tail = (1 - self.level) / 2
        ordered = np.sort(self.draws, axis=0)
        return tuple(column_quantiles(ordered, np.full(len(self.names), level))
                     for level in (tail, 1 - tail))

    def bca(self) -> tuple[np.ndarray, np.ndarray]:
        """Bias-corrected and accelerated interval bounds, each (k,); NaN where the bias
        correction is infinite (every draw on one side of the estimate) or no replicate
        converged."""
        if not len(self.draws):
            return np.full(len(self.names), np.nan), np.full(len(self.names), np.nan)
        below = (self.draws < self.estimate).mean(axis=0)
        ties = (self.draws == self.estimate).mean(axis=0)
        with np.errstate(divide="ignore", invalid="ignore"):
            bias = special.ndtri(below + ties / 2)
            centred = self.jackknife.mean(axis=0) - self.jackknife
            acceleration = (centred ** 3).sum(axis=0) / (
                6 * ((centred ** 2).sum(axis=0)) ** 1.5)
        acceleration = np.nan_to_num(acceleration)
        tail = (1 - self.level) / 2
        ordered = np.sort(self.draws, axis=0)
        bounds = []
        for z in special.ndtri([tail, 1 - tail]):
            with np.errstate(divide="ignore", invalid="ignore"):
                adjusted = special.ndtr(bias + (bias + z) / (1 - acceleration * (bias + z)))
            bounds.append(column_quantiles(ordered, adjusted))
        return bounds[0], bounds[1]

    def derive(self, names: tuple[str, ...],
               function: Callable[[np.ndarray], np.ndarray]) -> BootstrapResult:
        """The bootstrap of m functions of the statistics: ``function`` maps an array
        (..., k) of statistics to (..., m), and is applied to the estimate, every draw and
        the jackknife (for BCa) alike, so no refit is needed."""
        return BootstrapResult(
            names=names, estimate=function(self.estimate), draws=function(self.draws),
            requested=self.requested, failed=self.failed, improper=self.improper,
            jackknife_source=lambda: function(self.jackknife), seed=self.seed,
            level=self.level, interval=self.interval, jackknife_blocks=self.jackknife_blocks)

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
        # Percentile bounds need no jackknife; only BCa pays for it.
        lower, upper = self.bca() if self.interval == "bca" else self.percentile()
        return pd.DataFrame({"estimate": self.estimate, "se": self.se, "ci_lower": lower,
                             "ci_upper": upper}, index=pd.Index(self.names, name="statistic"))

    @property
    def jackknife_failed(self) -> int:
        """Jackknife blocks whose fit failed (left out of the BCa acceleration)."""
        return max(self.jackknife_blocks - len(self.jackknife), 0)

    def summary_line(self) -> str:
        """How many replicates were requested, used, failed and improper (and, for BCa
        intervals, how many jackknife blocks the acceleration used)."""
        used = len(self.draws)
        line = (f"bootstrap: {self.requested} replicates requested (seed {self.seed}), {used} "
                f"used, {self.failed} failed (left out), {self.improper} improper (kept); "
                f"standard errors and {self.interval} intervals from the bootstrap")
        if self.interval == "bca" and self.jackknife_blocks:
            line += (f"; the BCa acceleration from {len(self.jackknife)} of "
                     f"{self.jackknife_blocks} jackknife blocks ({self.jackknife_failed} "
                     "failed, left out)")
        return line


def column_quantiles(ordered: np.ndarray, levels: np.ndarray) -> np.ndarray:
    """(k,) quantile ``levels[j]`` of column j of ``ordered`` (r, k), each column sorted
    ascending: ``np.quantile``'s default (linear) rule for every column at once; NaN where
    a level is not finite or there are no rows."""
    count, k = ordered.shape
    quantiles = np.full(k, np.nan)
    ok = np.isfinite(levels)
    if not count or not ok.any():
        return quantiles
    position = levels[ok] * (count - 1)
    below = np.clip(np.floor(position).astype(int), 0, count - 1)
    above = np.minimum(below + 1, count - 1)
    columns = np.flatnonzero(ok)
    low, high = ordered[below, columns], ordered[above, columns]
    quantiles[ok] = low + (position - below) * (high - low)
    return quantiles


def bootstrap(statistic: Callable[[np.ndarray], Replicate], n_rows: int, *, replicates: int,
              seed: int | None, names: tuple[str, ...], estimate: np.ndarray,
              progress: bool = False, level: float = 0.95, interval: str = "percentile",
              jackknife_groups: int = 250, strata: np.ndarray | None = None
              ) -> BootstrapResult:
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
        strata: (n,) group codes to resample within (:func:`resampled_rows`), or None.
    """
    draws, failed, improper = [], 0, 0
    for rows in _progress(resampled_rows(n_rows, replicates, seed, strata), progress,
                          "bootstrap", replicates):
        try:
            replicate = statistic(rows)
        except FailedReplicateError:
            failed += 1
            continue
        draws.append(replicate.values)
        improper += int(replicate.improper)
    matrix = np.array(draws).reshape(len(draws), len(names))

    blocks = min(jackknife_groups, n_rows)

    def jackknife() -> np.ndarray:
        return _jackknife(statistic, n_rows, blocks, len(names))

    return BootstrapResult(tuple(names), np.asarray(estimate, dtype=float), matrix,
                           replicates, failed, improper, jackknife, seed, level, interval,
                           jackknife_blocks=blocks)


@dataclass(frozen=True)
class ReplicateBatch:
    """A batched statistic's answer for b replicates.

    Attributes:
        values: (b, k) statistics; rows of failed replicates are ignored.
        failed: (b,) replicates without an estimate (not converged).
        improper: (b,) improper solutions (kept, counted).
    """

    values: np.ndarray
    failed: np.ndarray
    improper: np.ndarray


def bootstrap_batched(statistic: Callable[[np.ndarray], ReplicateBatch], n_rows: int, *,
                      replicates: int, seed: int | None, names: tuple[str, ...],
                      estimate: np.ndarray, progress: bool = False, level: float = 0.95,
                      interval: str = "percentile", jackknife_groups: int = 250,
                      batch_size: int = 250, strata: np.ndarray | None = None
                      ) -> BootstrapResult:
    """:func:`bootstrap` for estimators that handle many replicates at once.

    Args:
        statistic: maps count weights (b, n) - how often each row was drawn in each of b
            resamples - to a :class:`ReplicateBatch`.
        batch_size: replicates per call of ``statistic`` (bounds the memory of the batch).
        The other arguments are those of :func:`bootstrap`; the same seed draws the same
        resamples as :func:`bootstrap`, so the two drivers give the same replicates.
    """
    rows = resampled_rows(n_rows, replicates, seed, strata)
    draws, failed, improper = [], 0, 0
    bar = _bar(progress, "bootstrap", replicates)
    for start in range(0, replicates, batch_size):
        size = min(batch_size, replicates - start)
        counts = np.stack([np.bincount(next(rows), minlength=n_rows) for _ in range(size)])
        batch = statistic(counts.astype(float))
        draws.append(batch.values[~batch.failed])
        failed += int(batch.failed.sum())
        improper += int((batch.improper & ~batch.failed).sum())
        if bar is not None:
            bar.update(size)
    if bar is not None:
        bar.close()
    matrix = np.concatenate(draws).reshape(-1, len(names)) if draws else np.zeros(
        (0, len(names)))

    def jackknife() -> np.ndarray:
        groups = np.array_split(np.arange(n_rows), min(jackknife_groups, n_rows))
        values = []
        for start in range(0, len(groups), batch_size):
            weights = np.ones((len(groups[start:start + batch_size]), n_rows))
            for row, left_out in enumerate(groups[start:start + batch_size]):
                weights[row, left_out] = 0.0
            batch = statistic(weights)
            values.append(batch.values[~batch.failed])
        return np.concatenate(values).reshape(-1, len(names))

    return BootstrapResult(tuple(names), np.asarray(estimate, dtype=float), matrix,
                           replicates, failed, improper, jackknife, seed, level, interval,
                           jackknife_blocks=min(jackknife_groups, n_rows))


def resampled_rows(n_rows: int, replicates: int, seed: int | None,
                   strata: np.ndarray | None = None) -> Iterator[np.ndarray]:
    """The row indices (n,) of each resample, drawn with replacement from one seeded
    generator (both bootstrap drivers use this stream); with ``strata`` (n,) group codes,
    within each group, so that every resample keeps the groups' sizes (lavaan's bootstrap
    of a multi-group model)."""
    rng = np.random.default_rng(seed)
    members = None if strata is None else [np.flatnonzero(strata == code)
                                           for code in dict.fromkeys(strata)]
    for _ in range(replicates):
        if members is None:
            yield rng.integers(0, n_rows, size=n_rows)
        else:
            yield np.concatenate([rows[rng.integers(0, len(rows), size=len(rows))]
                                  for rows in members])


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


def _progress(iterable, show: bool, description: str, total: int | None = None):
    if not show:
        return iterable
    from tqdm import tqdm

    return tqdm(iterable, desc=description, unit="rep", leave=False, total=total)


def _bar(show: bool, description: str, total: int):
    if not show:
        return None
    from tqdm import tqdm

    return tqdm(desc=description, unit="rep", leave=False, total=total)


def settle_failed(weights: np.ndarray, values: np.ndarray, improper: np.ndarray,
                  failed: np.ndarray, one_at_a_time: Callable[[np.ndarray], Replicate]
                  ) -> ReplicateBatch:
    """Refit the ``failed`` replicates of a batch one at a time (each from its resample
    counts, ``weights`` (b, n)); those that fail again stay failed."""
    failed = failed.copy()
    for index in np.flatnonzero(failed):
        rows = np.repeat(np.arange(weights.shape[1]), weights[index].astype(int))
        try:
            replicate = one_at_a_time(rows)
        except FailedReplicateError:
            continue
        values[index], improper[index], failed[index] = (replicate.values, replicate.improper,
                                                         False)
    return ReplicateBatch(values, failed, improper)
