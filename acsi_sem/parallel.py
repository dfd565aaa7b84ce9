"""Independent batches of work on one core, local processes (joblib) or a Dask cluster.

The caller splits its work into batches whose results do not depend on where or in which
order they run (each batch carries its own seed, spawned from one
``numpy.random.SeedSequence``), so the same seed gives the same numbers on any scheduler.
Data every batch needs (``shared``) is sent to each Dask worker once, not with every batch.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from acsi_sem.errors import AcsiSemError


def run_batches(function: Callable[[Any, Any], Any], shared: Any, batches: Sequence[Any], *,
                jobs: int = 1, scheduler: Any = None, progress: bool = False,
                description: str = "batches") -> list:
    """``[function(shared, batch) for batch in batches]``, possibly in parallel.

    Args:
        function: a module-level (picklable) function of the shared data and one batch.
        shared: what every batch needs (e.g. the survey's items).
        batches: the batches' own arguments (e.g. a seed and a replicate count).
        jobs: local worker processes (joblib; -1: every core); ignored with ``scheduler``.
        scheduler: address of a Dask distributed scheduler (``tcp://host:8786``) or a
            ``dask.distributed.Client``; the batches then run on its workers.
        progress: show a tqdm bar of the batches done on standard error.
        description: the bar's label.

    Returns:
        The results in the order of ``batches``.
    """
    if scheduler is not None:
        return _run_on_dask(function, shared, batches, scheduler, progress, description)
    if jobs == 1 or len(batches) < 2:
        return [function(shared, batch)
                for batch in _bar(batches, progress, len(batches), description)]
    from joblib import Parallel, delayed

    runner = Parallel(n_jobs=jobs, return_as="generator")
    return list(_bar(runner(delayed(function)(shared, batch) for batch in batches), progress,
                     len(batches), description))


def _run_on_dask(function: Callable[[Any, Any], Any], shared: Any, batches: Sequence[Any],
                 scheduler: Any, progress: bool, description: str) -> list:
    try:
        from dask.distributed import Client, as_completed
    except ImportError as error:
        raise AcsiSemError("--scheduler needs Dask: pip install 'acsi-sem[parallel]'"
                           ) from error
    client = scheduler if isinstance(scheduler, Client) else Client(scheduler)
    try:
        [everywhere] = client.scatter([shared], broadcast=True)
        futures = client.map(function, [everywhere] * len(batches), batches, pure=False)
        order = {future.key: index for index, future in enumerate(futures)}
        outputs: list = [None] * len(batches)
        for future in _bar(as_completed(futures), progress, len(batches), description):
            outputs[order[future.key]] = future.result()
        return outputs
    finally:
        if client is not scheduler:
            client.close()


def _bar(iterable, show: bool, total: int, description: str):
    if not show:
        return iterable
    from tqdm import tqdm

    return tqdm(iterable, total=total, desc=description, unit="batch", leave=False)
