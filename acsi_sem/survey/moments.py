"""Survey files larger than memory: sufficient statistics accumulated chunk by chunk.

Normal-theory ML needs the data only through N, the means and the covariance matrix
(divisor N). :func:`read_moments` reads a CSV file (pandas chunks) or a Parquet file
(pyarrow record batches) in chunks of rows, checks each chunk as
:func:`acsi_sem.survey.prepare.prepare_data` checks a whole file (numeric answers, the answer scale,
the row number of a bad answer in the file), deletes incomplete rows (listwise) and merges
each chunk's count, means and centred cross-products into running totals with the
pairwise formula of Chan, Golub & LeVeque (1979), which keeps full precision however many
chunks there are. Memory stays at one chunk, whatever the file's size.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from acsi_sem.errors import AcsiSemError, DataError
from acsi_sem.survey.prepare import _check_columns, _check_scale, numeric_column
from acsi_sem.survey.text_files import text_format

# Files at least this large are read in chunks by default (CB-SEM by ML only).
BIG_FILE_BYTES = 256 * 2 ** 20
DEFAULT_CHUNKSIZE = 200_000
CHUNKED_SUFFIXES = (".csv", ".txt", ".tsv", ".parquet")


@dataclass(frozen=True)
class SurveyMoments:
    """The sufficient statistics of the complete rows of a survey, for ML estimation.

    Offers what the ML estimator reads from :class:`acsi_sem.survey.prepare.PreparedData`
    (``covariance``, ``means``, ``n_obs``, ``n_total``, ``notes``, ``source``), without the
    rows themselves.

    Attributes:
        variables: the p indicator names, in the model's observed-variable order.
        n_obs: complete rows (N).
        means: (p,) sample means.
        covariance: (p, p) sample covariance, divisor N (lavaan's ML convention).
        n_total: rows in the file.
        missing_per_item: missing answers per indicator, before listwise deletion.
        source: the file name.
        notes: human-readable remarks (listwise deletion, chunked reading).
    """

    variables: tuple[str, ...]
    n_obs: int
    means: np.ndarray
    covariance: np.ndarray
    n_total: int
    missing_per_item: pd.Series
    source: str
    notes: tuple[str, ...] = field(default=())
    groups: None = None
    has_missing: bool = False

    @property
    def unrestricted_loglik(self) -> float:
        """Log-likelihood of the saturated model."""
        p = len(self.variables)
        _, logdet = np.linalg.slogdet(self.covariance)
        return float(-self.n_obs / 2 * (p * np.log(2 * np.pi) + logdet + p))

    def missing_report(self) -> dict:
        """As :meth:`PreparedData.missing_report` for listwise deletion (one pattern)."""
        return {"method": "listwise",
                "missing_per_item": {k: int(v) for k, v in self.missing_per_item.items()},
                "complete_cases": self.n_obs, "patterns": 1}

    def correlation(self, names: tuple[str, ...] | list[str]) -> np.ndarray:
        """(k, k) sample correlations of the indicators ``names``."""
        rows = [self.variables.index(name) for name in names]
        block = self.covariance[np.ix_(rows, rows)]
        sd = np.sqrt(np.diag(block))
        return block / np.outer(sd, sd)


@dataclass
class _RunningMoments:
    """Count, means (p,) and centred cross-products (p, p) of the rows seen so far."""

    count: int
    means: np.ndarray
    cross: np.ndarray

    def add(self, rows: np.ndarray) -> None:
        """Merge a chunk (k, p) (Chan, Golub & LeVeque 1979, pairwise update)."""
        k = len(rows)
        if k == 0:
            return
        chunk_means = rows.mean(axis=0)
        centred = rows - chunk_means
        chunk_cross = centred.T @ centred
        total = self.count + k
        delta = chunk_means - self.means
        self.cross += chunk_cross + np.outer(delta, delta) * (self.count * k / total)
        self.means = self.means + delta * (k / total)
        self.count = total


def should_read_in_chunks(path: str | Path, chunksize: int | None) -> bool:
    """Whether ``path`` is read chunk by chunk: ``chunksize`` given, or a CSV, TSV or
    Parquet file of at least :data:`BIG_FILE_BYTES`."""
    path = Path(path)
    if chunksize is not None:
        return True
    return (path.suffix.lower() in CHUNKED_SUFFIXES and path.is_file()
            and path.stat().st_size >= BIG_FILE_BYTES)


def read_moments(path: str | Path, variables: tuple[str, ...] | list[str], *,
                 chunksize: int | None = None, scale: tuple[float, float] | None = None,
                 min_rows: int = 2, progress: bool = False) -> SurveyMoments:
    """N, means and covariance of the complete rows of a CSV, TSV or Parquet file, read in
    chunks.

    Args:
        path: the survey file (``.csv``, ``.txt``: separator sniffed; ``.tsv``: tab;
            ``.parquet``: record batches, needs pyarrow).
        variables: the model's observed variables (other columns are not read).
        chunksize: rows per chunk (default :data:`DEFAULT_CHUNKSIZE`).
        scale: the answer scale ``(lowest, highest)``; answers outside it are an error.
        min_rows: the fewest complete rows the model needs.
        progress: show a tqdm bar of the rows read on standard error.

    Raises:
        DataError: naming the file, the column and the row at fault, as ``prepare_data``.
    """
    path = Path(path)
    source = str(path)
    if not path.is_file():
        raise DataError(f"{path}: no such data file")
    if path.suffix.lower() not in CHUNKED_SUFFIXES:
        raise DataError(f"{path}: only CSV, TSV and Parquet files are read in chunks, not "
                        f"'{path.suffix}'; drop --chunksize")
    variables = list(variables)
    running = _RunningMoments(0, np.zeros(len(variables)), np.zeros((len(variables),) * 2))
    missing = pd.Series(0, index=variables)
    n_total = 0
    seen_values: list[set[float]] = [set() for _ in variables]
    chunks = _chunks(path, variables, chunksize or DEFAULT_CHUNKSIZE)
    bar = _bar(progress, source)
    try:
        for chunk in chunks:
            first_row = n_total
            frame = pd.DataFrame({name: numeric_column(chunk[name], name, source, first_row)
                                  for name in variables})
            n_total += len(frame)
            missing += frame.isna().sum()
            answered = frame.notna().all(axis=1).to_numpy()
            complete = frame[answered]
            if scale is not None:
                _check_scale(complete, scale, source, np.flatnonzero(answered), first_row)
            _remember_two_values(complete, seen_values)
            running.add(complete.to_numpy())
            if bar is not None:
                bar.update(len(frame))
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError,
            OSError) as error:
        raise DataError(f"{path}: cannot read the file: {error}") from error
    finally:
        if bar is not None:
            bar.close()
    if n_total == 0:
        raise DataError(f"{source}: the data file has no rows")
    _check_not_constant(variables, seen_values, source)
    if running.count < min_rows:
        raise DataError(f"{source}: only {running.count} complete rows, but the model needs at "
                        f"least {min_rows} (more rows than observed variables and than free "
                        "parameters)")
    return SurveyMoments(variables=tuple(variables), n_obs=running.count, means=running.means,
                         covariance=running.cross / running.count, n_total=n_total,
                         missing_per_item=missing, source=source,
                         notes=_notes(n_total, running.count, missing))


def _chunks(path: Path, variables: list[str], chunksize: int) -> Iterator[pd.DataFrame]:
    """The ``variables`` columns of ``path``, ``chunksize`` rows at a time, after checking
    that the file has them all."""
    source = str(path)
    if path.suffix.lower() == ".parquet":
        try:
            from pyarrow import parquet
        except ImportError as error:
            raise DataError(f"{path}: reading Parquet needs pyarrow (pip install pyarrow)"
                            ) from error
        table = parquet.ParquetFile(path)
        _check_columns(pd.DataFrame(columns=table.schema_arrow.names), variables, source)
        for batch in table.iter_batches(batch_size=chunksize, columns=variables):
            yield batch.to_pandas()
        return
    options = text_format(path, "\t" if path.suffix.lower() == ".tsv" else None).read_options()
    _check_columns(pd.read_csv(path, nrows=0, **options), variables, source)
    yield from pd.read_csv(path, usecols=variables, chunksize=chunksize, **options)


def _bar(show: bool, source: str):
    if not show:
        return None
    from tqdm import tqdm

    return tqdm(desc=f"reading {Path(source).name}", unit=" rows", unit_scale=True,
                leave=False)


def _remember_two_values(complete: pd.DataFrame, seen: list[set[float]]) -> None:
    """Keep up to two distinct answers per column: enough to tell a constant column."""
    for values, name in zip(seen, complete.columns, strict=True):
        if len(values) < 2:
            values.update(complete[name].drop_duplicates().head(2).tolist())


def _check_not_constant(variables: list[str], seen: list[set[float]], source: str) -> None:
    for name, values in zip(variables, seen, strict=True):
        if len(values) == 1:
            raise DataError(f"{source}: column {name} is constant (every answer is "
                            f"{next(iter(values)):g}); it carries no information for the "
                            "model")


def _notes(n_total: int, n_obs: int, missing: pd.Series) -> tuple[str, ...]:
    notes = [f"read in chunks: {n_total} rows, {n_obs} complete; estimated from the sample "
             "moments (N, means, covariances)"]
    if missing.any():
        counts = ", ".join(f"{name} {count}" for name, count in missing[missing > 0].items())
        notes.append(f"listwise deletion: {n_total - n_obs} of {n_total} rows removed for "
                     f"missing answers (missing per item: {counts})")
    return tuple(notes)


def check_chunked_options(*, estimator: str, bootstrap: int, group: str | None,
                          missing: str) -> None:
    """Refuse what needs the rows themselves, not only their moments.

    Raises:
        AcsiSemError: naming the option and what to do.
    """
    needs_rows = [(estimator not in ("ml",), f"estimator {estimator!r} (only 'ml' works from "
                                             "the moments)"),
                  (bootstrap > 0, "--bootstrap (resampling needs the rows)"),
                  (group is not None, "--group"),
                  (missing != "listwise", f"missing={missing!r} (FIML needs the rows)")]
    refused = [text for condition, text in needs_rows if condition]
    if refused:
        raise AcsiSemError("the data is read in chunks (a big file or --chunksize), which "
                           f"keeps only N, means and covariances; not available: "
                           f"{'; '.join(refused)}. Fit in memory (no --chunksize, a smaller "
                           "file or a sample), or drop those options")
