"""The study's bootstrap, stratified by company-by-wave cell.

Each replicate draws, within every cell, as many respondents as the cell has, with
replacement; a drawn respondent brings their sampling weight. The whole study is then
re-estimated on the replicate - the measurement weights, every cell's index and paths - so
the aggregates and changes computed from the replicate's cells carry the sampling error of
the companies and of the weights, with the same replicates for every level.

Replicates run in batches, each with its own seed spawned from the study's seed and a size
fixed by the study's shape, so the draws are the same on one core, under joblib or on a
Dask cluster.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from acsi_sem.parallel import run_batches
from acsi_sem.studies.estimate import (
    Measurement,
    StudyEstimates,
    StudyLayout,
    cell_sums,
    estimate_study,
)

# Floats in the largest per-batch array (replicates x cells x items x items): about 160 MB.
_BATCH_FLOATS = 20_000_000
_MOST_PER_BATCH = 250


@dataclass(frozen=True)
class StudySample:
    """What every replicate needs: centred items (N, p) sorted by cell, sampling weights
    (N,), the cells' row ranges (C,), the items' overall mean (p,) and variance (p,)."""

    centred: np.ndarray
    row_weights: np.ndarray
    starts: np.ndarray
    stops: np.ndarray
    centre: np.ndarray
    reference: np.ndarray
    study: StudyLayout
    by_wave: bool


@dataclass(frozen=True)
class _Batch:
    replicates: int
    seed: np.random.SeedSequence


def full_sample(sample: StudySample) -> StudyEstimates:
    """The study's estimates on the data as surveyed (every row its sampling weight)."""
    sums = cell_sums(sample.centred, sample.row_weights[None], sample.starts, sample.stops,
                     sample.centre)
    return estimate_study(sums, sample.reference, sample.study, by_wave=sample.by_wave)


def bootstrap_study(sample: StudySample, replicates: int, seed: int | None, *, jobs: int = 1,
                    scheduler=None, progress: bool = False) -> StudyEstimates:
    """``replicates`` stratified bootstrap replicates of the study, stacked on axis 0."""
    size = batch_size(len(sample.starts), sample.centred.shape[1])
    counts = [min(size, replicates - start) for start in range(0, replicates, size)]
    seeds = np.random.SeedSequence(seed).spawn(len(counts))
    batches = [_Batch(count, seed) for count, seed in zip(counts, seeds, strict=True)]
    parts = run_batches(_run_batch, sample, batches, jobs=jobs, scheduler=scheduler,
                        progress=progress, description="study bootstrap")
    return _stack(parts)


def batch_size(cells: int, items: int) -> int:
    """Replicates per batch: as many as keep the batch's arrays near 160 MB."""
    return int(np.clip(_BATCH_FLOATS // (cells * items * items), 1, _MOST_PER_BATCH))


def _run_batch(sample: StudySample, batch: _Batch) -> StudyEstimates:
    rng = np.random.default_rng(batch.seed)
    counts = stratified_counts(rng, sample.starts, sample.stops, batch.replicates)
    sums = cell_sums(sample.centred, counts * sample.row_weights, sample.starts,
                     sample.stops, sample.centre)
    return estimate_study(sums, sample.reference, sample.study, by_wave=sample.by_wave)


def stratified_counts(rng: np.random.Generator, starts: np.ndarray, stops: np.ndarray,
                      replicates: int) -> np.ndarray:
    """(b, N) how often each row is drawn when every cell's rows are resampled within the
    cell (a cell of n rows gets n draws)."""
    total = int(stops[-1])
    counts = np.zeros((replicates, total))
    offsets = np.arange(replicates)[:, None]
    for start, stop in zip(starts, stops, strict=True):
        size = int(stop - start)
        draws = rng.integers(0, size, size=(replicates, size))
        counts[:, start:stop] = np.bincount((offsets * size + draws).ravel(),
                                            minlength=replicates * size
                                            ).reshape(replicates, size)
    return counts


def _stack(parts: list[StudyEstimates]) -> StudyEstimates:
    def joined(name: str, source=lambda part: part) -> np.ndarray | None:
        values = [getattr(source(part), name) for part in parts]
        return None if values[0] is None else np.concatenate(values)

    measurement = Measurement(*(joined(name, lambda part: part.measurement)
                                for name in ("weights", "loadings", "item_weights",
                                             "converged")))
    return StudyEstimates(joined("index"), joined("paths"), joined("r2"), measurement,
                          joined("wave_item_weights"), joined("failed"))
