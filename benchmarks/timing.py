"""Wall-clock helpers shared by the benchmark scripts (run as ``python benchmarks/X.py``, so
this folder is on ``sys.path``)."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def seconds(function: Callable[[], object]) -> float:
    """Wall time of one call, in seconds."""
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def median_seconds(function: Callable[[], object], repeats: int, *, warm_up: bool = True
                   ) -> float:
    """Median wall time of ``repeats`` calls, after one untimed call unless ``warm_up`` is
    False (the caller has warmed up)."""
    if warm_up:
        function()
    return statistics.median(seconds(function) for _ in range(repeats))


def bootstrap_seconds_per_replicate(fit: Callable[..., object], replicates: int,
                                    repeats: int, seed: int) -> tuple[float, int]:
    """Seconds per bootstrap replicate of ``fit(**options)`` (the median fit with
    ``bootstrap=replicates`` less the median plain fit, over ``replicates``) and the
    failed replicates of the last bootstrap fit."""
    fit()  # warm-up: imports and caches
    plain = median_seconds(fit, repeats, warm_up=False)
    booted = []
    with_bootstrap = median_seconds(
        lambda: booted.append(fit(bootstrap=replicates, seed=seed)), repeats, warm_up=False)
    return (with_bootstrap - plain) / replicates, booted[-1].bootstrap.failed
