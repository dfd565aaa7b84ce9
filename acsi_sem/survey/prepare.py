"""Reading survey files and checking them against a model.

:func:`read_table` reads CSV, TSV, Excel, SPSS (.sav), Stata (.dta) and Parquet files;
:func:`prepare_data` keeps the model's indicators, checks that each is present, numeric,
not constant and within the declared answer scale, removes incomplete rows (listwise) and
reports what it removed.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from acsi_sem.errors import DataError
from acsi_sem.survey.collinearity import check_collinearity
from acsi_sem.survey.coverage import lowest_coverage, sparse_coverage_warning
from acsi_sem.survey.text_files import text_format
from acsi_sem.survey.weights import check_total, check_weights, weights_note, weights_report

if TYPE_CHECKING:
    from acsi_sem.numerics.fiml import MissingPatterns

READERS = {".csv": "csv", ".txt": "csv", ".tsv": "tsv", ".xlsx": "excel", ".xls": "excel",
           ".sav": "spss", ".zsav": "spss", ".dta": "stata", ".parquet": "parquet"}


@dataclass(frozen=True)
class PreparedData:
    """The indicator columns of complete respondents, ready for estimation.

    Attributes:
        frame: (n, p) float columns in the model's observed-variable order.
        source: file name, or ``<DataFrame>``.
        n_total: rows before listwise deletion.
        missing_per_item: number of missing answers per indicator (before deletion).
        notes: human-readable remarks (listwise deletion) for the result's report.
        groups: (n,) group label (as text) of each kept row, if a grouping column was named.
        group_labels: every group's label in the order of first appearance in the data
            before any row was removed (lavaan's group order).
        weights: (n,) sampling weight of each kept row, or None (every row counts once).
        weights_column: the data column the weights came from.
        warnings: problems of the data the result must show (nearly collinear items).
        rows: (n,) position of each kept row in the data given (0-based), to read other
            columns of the same respondents.
        fiml: whether ``missing="fiml"`` was asked for.
        weights_rescaled: the weights are on lavaan's scale already (one group's share of
            weights rescaled to sum N over all groups) and FIML takes them as given, not
            rescaled to sum this data's n.
    """

    frame: pd.DataFrame
    source: str
    n_total: int
    missing_per_item: pd.Series
    notes: tuple[str, ...] = field(default=())
    groups: pd.Series | None = None
    group_labels: tuple[str, ...] = ()
    weights: np.ndarray | None = None
    weights_column: str | None = None
    rows: np.ndarray | None = field(default=None, repr=False)
    warnings: tuple[str, ...] = ()
    fiml: bool = False
    weights_rescaled: bool = False

    @property
    def n_obs(self) -> int:
        """Rows used in estimation."""
        return len(self.frame)

    @cached_property
    def has_missing(self) -> bool:
        """Whether the fit is by FIML: asked for (``missing="fiml"``, even where every kept
        row is complete: lavaan's ``missing="ml"`` then still models the means and takes
        observed-information SEs), or incomplete rows were kept."""
        return self.fiml or bool(self.frame.isna().to_numpy().any())

    @cached_property
    def missing_patterns(self) -> MissingPatterns:
        """The kept rows grouped by answer pattern (a ``MissingPatterns``), for FIML; with
        sampling weights, weighted by them rescaled to sum n (lavaan's normalization)."""
        from acsi_sem.numerics.fiml import MissingPatterns

        unit = self.weights
        if unit is not None and not self.weights_rescaled:
            unit = unit * (self.n_obs / unit.sum())
        return MissingPatterns.from_items(self.frame.to_numpy(), unit)

    @cached_property
    def covariance(self) -> np.ndarray:
        """(p, p) sample covariance with divisor N (lavaan's ML convention); with sampling
        weights, weighted with divisor their sum (lavaan's); with missing answers, its ML
        (EM) estimate."""
        if self.has_missing:
            return self._saturated[1]
        if self.weights is not None:
            return self._weighted_moments[1]
        return np.atleast_2d(np.cov(self.frame.to_numpy(), rowvar=False, bias=True))

    @cached_property
    def means(self) -> np.ndarray:
        """(p,) sample means (weighted with sampling weights); with missing answers, their
        ML (EM) estimate."""
        if self.has_missing:
            return self._saturated[0]
        if self.weights is not None:
            return self._weighted_moments[0]
        return self.frame.to_numpy().mean(axis=0)

    @cached_property
    def _weighted_moments(self) -> tuple[np.ndarray, np.ndarray]:
        from acsi_sem.numerics.batched import weighted_moments

        means, covariances = weighted_moments(self.frame.to_numpy(), self.weights[None])
        return means[0], covariances[0]

    @cached_property
    def _saturated(self) -> tuple[np.ndarray, np.ndarray, float]:
        from acsi_sem.numerics.fiml import saturated_em

        return saturated_em(self.missing_patterns, self.frame.to_numpy())

    @property
    def unrestricted_loglik(self) -> float:
        """Log-likelihood of the saturated model (EM with missing answers)."""
        if self.has_missing:
            return self._saturated[2]
        n, p = self.frame.shape
        _, logdet = np.linalg.slogdet(self.covariance)
        return float(-n / 2 * (p * np.log(2 * np.pi) + logdet + p))

    def weights_report(self) -> dict | None:
        """The sampling weights used (column, sum, range, Kish effective n), or None."""
        if self.weights is None:
            return None
        return weights_report(self.weights, self.weights_column)

    def missing_report(self) -> dict:
        """Missing answers per item, complete rows and answer patterns of the kept rows;
        under FIML also the ``lowest_coverage``, the smallest share of them answering both
        items of a pair (:mod:`acsi_sem.survey.coverage`)."""
        answered = ~np.isnan(self.frame.to_numpy())
        patterns = len(np.unique(answered, axis=0)) if self.has_missing else 1
        report = {"method": "fiml" if self.has_missing else "listwise",
                  "missing_per_item": {k: int(v) for k, v in self.missing_per_item.items()},
                  "complete_cases": int(answered.all(axis=1).sum()),
                  "patterns": patterns}
        if self.has_missing:
            report["lowest_coverage"] = lowest_coverage(self.frame)
        return report


def read_table(path: str | Path) -> pd.DataFrame:
    """Read a survey file into a DataFrame, choosing the reader by the file's suffix.

    Raises:
        DataError: the file is missing, empty, of an unknown type or unreadable.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such data file")
    if path.stat().st_size == 0:
        raise DataError(f"{path}: the data file is empty")
    kind = READERS.get(path.suffix.lower())
    if kind is None:
        known = ", ".join(sorted(READERS))
        raise DataError(f"{path}: cannot tell the file type from '{path.suffix}'; use one of "
                        f"{known}")
    try:
        frame = _read(path, kind)
    except (ValueError, OSError, pd.errors.ParserError, ImportError) as error:
        raise DataError(f"{path}: cannot read the file as {kind}: {error}") from error
    if frame.empty:
        raise DataError(f"{path}: the data file has no rows")
    return frame


def _read(path: Path, kind: str) -> pd.DataFrame:
    if kind in ("csv", "tsv"):
        form = text_format(path, separator="\t" if kind == "tsv" else None)
        try:
            return pd.read_csv(path, **form.read_options())
        except pd.errors.EmptyDataError as error:
            raise ValueError("no columns in the file") from error
    if kind == "excel":
        return pd.read_excel(path)
    if kind == "parquet":
        return pd.read_parquet(path)
    import pyreadstat

    reader = pyreadstat.read_sav if kind == "spss" else pyreadstat.read_dta
    frame, _ = reader(str(path))
    return frame


def prepare_data(data: pd.DataFrame, variables: list[str] | tuple[str, ...], *,
                 source: str = "<DataFrame>", scale: tuple[float, float] | None = None,
                 min_rows: int = 2, group: str | None = None,
                 missing: str = "listwise", weights: str | None = None,
                 covariates: tuple[str, ...] = ()) -> PreparedData:
    """Check and keep the model's indicator columns, deleting incomplete rows.

    Args:
        data: the survey, one row per respondent.
        variables: the observed variables the model names.
        source: the data's file name, used in error messages.
        scale: the declared answer range ``(lowest, highest)``, e.g. ``(1, 10)``; answers
            outside it are an error.
        min_rows: the fewest complete rows the model needs.
        group: a column whose values label groups (e.g. company); rows without a label are
            removed with the incomplete ones.
        missing: ``"listwise"`` deletes rows with a missing answer; ``"fiml"`` keeps every
            row with at least one answer for full-information ML.
        weights: a column of sampling weights (zero or more, none missing).
        covariates: the model's fixed.x covariates (among ``variables``); with FIML a row
            without one of them is deleted, with a warning, as lavaan does: the likelihood
            is conditional on the covariates.

    Raises:
        DataError: naming the file and the column (and row) at fault.
    """
    if missing not in ("listwise", "fiml"):
        raise DataError(f"unknown missing-data method {missing!r}; choose listwise or fiml")
    _check_columns(data, variables, source)
    frame = _numeric_frame(data, variables, source)
    answers = ~np.isnan(frame.to_numpy())
    missing_counts = pd.Series((~answers).sum(axis=0), index=frame.columns)
    labels = _group_column(data, group, source)
    row_weights = _weight_column(data, weights, variables, source)
    kept = answers.any(axis=1) if missing == "fiml" else answers.all(axis=1)
    answered = int(kept.sum())
    warnings = []
    if missing == "fiml" and covariates:
        kept_rows, warning = _with_covariates(frame, pd.Series(kept, index=frame.index),
                                              covariates)
        kept = kept_rows.to_numpy()
        warnings += [warning] if warning else []
    if labels is not None:
        kept = kept & labels.notna().to_numpy()
    complete = frame if kept.all() else frame[kept]
    notes = []
    if missing_counts.any():
        counts = ", ".join(f"{name} {count}" for name, count
                           in missing_counts[missing_counts > 0].items())
        if missing == "fiml":
            notes.append(f"FIML: {int(complete.notna().all(axis=1).sum())} of {len(complete)} "
                         f"rows complete, {int(complete.notna().drop_duplicates().shape[0])} "
                         f"answer patterns; {len(frame) - answered} rows without any "
                         f"answer removed (missing per item: {counts})")
        else:
            notes.append(f"listwise deletion: {len(frame) - len(complete)} of {len(frame)} "
                         f"rows removed for missing answers (missing per item: {counts})")
    _check_variation(complete, source)
    if scale is not None:
        _check_scale(complete, scale, source, np.flatnonzero(kept))
    if len(complete) < min_rows:
        raise DataError(f"{source}: only {len(complete)} complete rows, but the model needs at "
                        f"least {min_rows} (more rows than observed variables and than free "
                        "parameters)")
    warnings += check_collinearity(complete, source)
    if missing == "fiml":
        warnings += _coverage_warnings(complete, labels[kept] if labels is not None
                                       else None, source)
    kept_groups, group_labels = None, ()
    if labels is not None:
        kept_groups = labels[kept].reset_index(drop=True)
        group_labels = tuple(pd.unique(labels.dropna()))
        dropped = int(labels.isna().sum())
        if dropped:
            notes.append(f"{dropped} rows without a value in the group column {group} removed")
    kept_weights = None
    if row_weights is not None:
        kept_weights = row_weights.to_numpy()[kept]
        check_total(kept_weights, weights, source)
        notes.append(weights_note(kept_weights, weights))
    # One new frame of the kept rows, numbered from 0.
    kept_frame = pd.DataFrame(complete.to_numpy(dtype=float), columns=complete.columns)
    return PreparedData(frame=kept_frame, source=source,
                        n_total=len(frame), missing_per_item=missing_counts, notes=tuple(notes),
                        groups=kept_groups, group_labels=group_labels, weights=kept_weights,
                        weights_column=weights, warnings=tuple(warnings),
                        rows=np.flatnonzero(kept), fiml=missing == "fiml")


def _numeric_frame(data: pd.DataFrame, variables: list[str] | tuple[str, ...], source: str
                   ) -> pd.DataFrame:
    """The ``variables`` columns of ``data`` as floats, each checked by
    :func:`numeric_column`; columns that are all plain numbers are converted at once."""
    names = list(variables)
    dtypes = dict(zip(data.columns, data.dtypes, strict=True))
    plain = data.columns.is_unique and all(
        isinstance(dtypes[name], np.dtype) and dtypes[name].kind in "iuf" for name in names)
    if not plain:
        return pd.DataFrame({name: numeric_column(data[name], name, source)
                             for name in variables})
    values = np.empty((len(data), len(names)))
    for position, name in enumerate(names):  # cheaper than data[names].to_numpy()
        values[:, position] = data[name].to_numpy()
    infinite = np.isinf(values)
    if infinite.any():  # the first column at fault, as numeric_column would report it
        column = int(np.flatnonzero(infinite.any(axis=0))[0])
        _finite(pd.Series(values[:, column], name=names[column]), source, 0)
    return pd.DataFrame(values, index=data.index, columns=names)


def _coverage_warnings(complete: pd.DataFrame, labels: pd.Series | None, source: str
                       ) -> list[str]:
    """lavaan's sparse-coverage warning, per group when there are groups."""
    if labels is None:
        parts = [(source, complete)]
    else:
        parts = [(f"{source}, group {label}", complete[labels.to_numpy() == label])
                 for label in pd.unique(labels)]
    return [warning for where, items in parts
            if (warning := sparse_coverage_warning(items, where)) is not None]


def _with_covariates(frame: pd.DataFrame, kept_rows: pd.Series, covariates: tuple[str, ...]
                     ) -> tuple[pd.Series, str]:
    """The rows FIML keeps once those without an answer to a covariate are deleted, and the
    warning that says how many were (empty if none)."""
    answered = frame[list(covariates)].notna().all(axis=1)
    deleted = int((kept_rows & ~answered).sum())
    if not deleted:
        return kept_rows, ""
    names = ", ".join(name for name in covariates if frame[name].isna().any())
    return kept_rows & answered, (
        f"{deleted} rows deleted for a missing value of the observed covariate(s) {names}: "
        "with fixed.x (lavaan's default) FIML conditions on the covariates and cannot use "
        "such a row, as lavaan's missing = 'ml' (which warns the same); model a covariate "
        "as a single-indicator latent variable to keep its rows")


def _weight_column(data: pd.DataFrame, column: str | None, variables, source: str
                   ) -> pd.Series | None:
    if column is None:
        return None
    if column not in data.columns:
        raise DataError(f"{source}: no weight column {column!r}; the data has columns: "
                        f"{', '.join(map(str, data.columns))}")
    if column in variables:
        raise DataError(f"{source}: the weight column {column} is also an indicator of the "
                        "model; weights must be a column of their own")
    values = numeric_column(data[column], column, source, finite=False)
    check_weights(values.to_numpy(), column, source)
    return values


def _group_column(data: pd.DataFrame, group: str | None, source: str) -> pd.Series | None:
    if group is None:
        return None
    if group not in data.columns:
        raise DataError(f"{source}: no column {group!r} to group by; the data has columns: "
                        f"{', '.join(map(str, data.columns))}")
    raw = data[group]
    labels = raw.map(_label_text, na_action="ignore").rename(group)
    # One pass over the distinct (label, raw value) pairs, not one per label.
    pairs = pd.DataFrame({"label": labels.to_numpy(), "raw": raw.to_numpy()}).dropna()
    pairs = pairs.drop_duplicates()
    twice = pairs[pairs["label"].duplicated(keep=False)]
    if len(twice):
        spellings = twice.loc[twice["label"] == twice["label"].iloc[0], "raw"]
        raise DataError(f"{source}: group column {group} spells one group in several "
                        f"ways ({', '.join(map(repr, spellings))}); make them one value")
    return labels


def _label_text(value: object) -> str:
    """A group label as text: 2.0 as '2', as the user would write it."""
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    return str(value)


def _check_columns(data: pd.DataFrame, variables, source: str) -> None:
    columns = [str(c) for c in data.columns]
    absent = [name for name in variables if name not in columns]
    if not absent:
        return
    hints = []
    for name in absent:
        close = difflib.get_close_matches(name, columns, n=1)
        hints.append(f"{name} (did you mean {close[0]}?)" if close else name)
    raise DataError(f"{source}: the model names indicator(s) not in the data: "
                    f"{', '.join(hints)}. The data has columns: {', '.join(columns)}")


def numeric_column(column: pd.Series, name: str, source: str, first_row: int = 0, *,
                   finite: bool = True) -> pd.Series:
    """``column`` as floats (text digits converted, blanks missing), named ``name``;
    ``first_row`` is the file row of its first element (a chunk of a big file); ``finite``
    refuses infinities (a caller with its own message for them passes False).

    Raises:
        DataError: a boolean, non-numeric or (with ``finite``) infinite column, naming the
            first row at fault.
    """
    if pd.api.types.is_bool_dtype(column) or not (
            pd.api.types.is_numeric_dtype(column) or column.dtype == object
            or pd.api.types.is_string_dtype(column)):
        raise DataError(f"{source}: column {name} is not numeric (type {column.dtype})")
    if pd.api.types.is_numeric_dtype(column):
        numbers = column.astype(float).rename(name)
        return _finite(numbers, source, first_row) if finite else numbers
    stripped = column.astype("string").str.strip().replace("", pd.NA)
    converted = pd.to_numeric(stripped, errors="coerce")
    bad = converted.isna() & stripped.notna()
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise DataError(f"{source}: column {name} is not numeric: row {first_row + row + 1} "
                        f"holds {column.iloc[row]!r}")
    numbers = converted.astype(float).rename(name)
    return _finite(numbers, source, first_row) if finite else numbers


def _finite(column: pd.Series, source: str, first_row: int) -> pd.Series:
    """``column`` unchanged if no answer is infinite (``inf`` in a file, a division by zero
    in a spreadsheet)."""
    infinite = np.isinf(column.to_numpy())
    if infinite.any():
        row = int(np.flatnonzero(infinite)[0])
        raise DataError(f"{source}: column {column.name}, row {first_row + row + 1} holds "
                        f"{column.iloc[row]}, not a number an answer can be")
    return column


def _check_variation(frame: pd.DataFrame, source: str) -> None:
    values = frame.to_numpy(dtype=float)
    if not np.isnan(values).any():  # the nan-functions cost several times more
        spread = (values.max(axis=0, initial=-np.inf)
                  - values.min(axis=0, initial=np.inf))
    else:
        with np.errstate(invalid="ignore"):
            spread = (np.nanmax(values, axis=0, initial=-np.inf)
                      - np.nanmin(values, axis=0, initial=np.inf))
    for name, width, column in zip(frame.columns, spread, values.T, strict=True):
        if width == 0:
            raise DataError(f"{source}: column {name} is constant (every answer is "
                            f"{column[~np.isnan(column)][0]:g}); it carries no information "
                            "for the model")


def _check_scale(frame: pd.DataFrame, scale: tuple[float, float], source: str,
                 positions: np.ndarray, first_row: int = 0) -> None:
    """Raise for the first answer outside ``scale``; ``positions`` (n,) are the frame's
    rows' 0-based places in the data read (after ``first_row`` rows of earlier chunks)."""
    low, high = scale
    values = frame.to_numpy(dtype=float)
    outside = (values < low) | (values > high)
    if not outside.any():
        return
    column = int(np.flatnonzero(outside.any(axis=0))[0])  # the first column at fault
    position = int(np.flatnonzero(outside[:, column])[0])
    row = first_row + int(positions[position]) + 1
    raise DataError(f"{source}: column {frame.columns[column]}, row {row} holds "
                    f"{values[position, column]:g}, outside the answer scale "
                    f"{low:g}-{high:g}; fix the answer or the declared scale")
