"""A study's design: which columns name the company, industry, sector, wave and weight, and
the checked survey sorted into company-by-wave cells.

A design can be written down once in a TOML file, so that a study reruns with one command:

    data = "study_survey.csv"        # beside the design file, or a shipped data set
    revenue = "study_revenue.csv"
    company = "company"
    industry = "industry"
    sector = "sector"
    wave = "wave"
    weights = "weight"
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np
import pandas as pd

from acsi_sem.errors import DataError
from acsi_sem.model.modelfile import data_dir
from acsi_sem.survey.prepare import PreparedData

# The label of the one wave of a study without a wave column.
SINGLE_WAVE = "all"


@dataclass(frozen=True)
class StudyColumns:
    """The survey's design columns (None: the study has no such level)."""

    company: str
    industry: str | None = None
    sector: str | None = None
    wave: str | None = None
    weights: str | None = None


@dataclass(frozen=True)
class DesignFile:
    """A study design read from a TOML file; paths resolved beside the file."""

    columns: StudyColumns
    data: Path | None
    revenue: Path | None


def read_design_file(path: str | Path) -> DesignFile:
    """Read a study design (TOML; see the module's description).

    Raises:
        DataError: the file is missing, not TOML, names an unknown key or no company column.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such study design file")
    try:
        settings = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise DataError(f"{path}: not a TOML study design: {error}") from error
    known = {field.name for field in fields(StudyColumns)} | {"data", "revenue"}
    unknown = sorted(set(settings) - known)
    if unknown:
        raise DataError(f"{path}: unknown key(s) {', '.join(unknown)}; a study design knows "
                        f"{', '.join(sorted(known))}")
    if not isinstance(settings.get("company"), str):
        raise DataError(f"{path}: the design must name its company column (company = \"...\")")
    columns = StudyColumns(**{name: settings.get(name) for name in
                              ("company", "industry", "sector", "wave", "weights")})
    return DesignFile(columns, _beside(path, settings.get("data")),
                      _beside(path, settings.get("revenue")))


def _beside(design: Path, name: str | None) -> Path | None:
    if name is None:
        return None
    beside = design.parent / name
    return beside if beside.is_file() else data_dir() / name


@dataclass(frozen=True)
class StudySurvey:
    """The checked survey, its rows sorted by company-by-wave cell.

    Attributes:
        items: (N, p) answers in the PLS layout's indicator order.
        row_weights: (N,) sampling weights (ones without a weight column).
        cells: one row per cell: ``company``, ``wave``, ``n``, ``start``, ``stop`` (its rows
            are ``items[start:stop]``), ``weight_sum`` and ``effective_n``.
        companies: one row per company: ``company``, ``industry``, ``sector`` (None where
            the survey has no such column).
        waves: the wave labels in time order.
        source: the data's file name.
        notes: remarks from reading the data (listwise deletion, weights).
    """

    items: np.ndarray
    row_weights: np.ndarray
    cells: pd.DataFrame
    companies: pd.DataFrame
    waves: tuple[str, ...]
    source: str
    notes: tuple[str, ...]

    @property
    def starts(self) -> np.ndarray:
        """(C,) first row of each cell."""
        return self.cells["start"].to_numpy()

    @property
    def stops(self) -> np.ndarray:
        """(C,) one past the last row of each cell."""
        return self.cells["stop"].to_numpy()


def study_survey(raw: pd.DataFrame, prepared: PreparedData, indicators: tuple[str, ...],
                 columns: StudyColumns) -> StudySurvey:
    """Sort the respondents kept by ``prepare_data`` into cells and read their design
    columns.

    Raises:
        DataError: a missing wave, industry or sector of a kept respondent, a company in
            two industries (or an industry in two sectors), or a cell of one respondent.
    """
    source = prepared.source
    kept = raw.iloc[prepared.rows].reset_index(drop=True)
    design = pd.DataFrame({"company": prepared.groups.to_numpy()})
    for level in ("wave", "industry", "sector"):
        name = getattr(columns, level)
        if name is not None:
            design[level] = _labels(raw, kept, name, prepared.rows, source)
    if "wave" not in design:
        design["wave"] = SINGLE_WAVE
    waves = _wave_order(design["wave"])
    wave_rank = design["wave"].map({wave: rank for rank, wave in enumerate(waves)})
    order = np.lexsort((wave_rank.to_numpy(), _first_seen(design["company"])))
    design = design.iloc[order].reset_index(drop=True)
    items = prepared.frame[list(indicators)].to_numpy()[order]
    weights = (np.ones(len(items)) if prepared.weights is None else prepared.weights[order])
    cells = _cells(design, weights, source)
    return StudySurvey(items, weights, cells, _companies(design, source), waves, source,
                       prepared.notes)


def _labels(raw: pd.DataFrame, kept: pd.DataFrame, name: str, rows: np.ndarray,
            source: str) -> pd.Series:
    if name not in raw.columns:
        raise DataError(f"{source}: no column {name!r}; the data has columns: "
                        f"{', '.join(map(str, raw.columns))}")
    values = kept[name]
    if values.isna().any():
        row = int(rows[int(np.flatnonzero(values.isna().to_numpy())[0])]) + 1
        raise DataError(f"{source}: column {name}: row {row} has no value; every respondent "
                        "of a study needs one")
    spelled = {value: _text(value) for value in pd.unique(values)}
    return values.map(spelled).reset_index(drop=True)


def _text(value: object) -> str:
    """A label as the user would write it: 2025.0 as '2025'."""
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    return str(value)


def _wave_order(waves: pd.Series) -> tuple[str, ...]:
    """Waves in time order: numerically when every label is a number, else as text."""
    labels = list(pd.unique(waves))
    try:
        return tuple(sorted(labels, key=float))
    except ValueError:
        return tuple(sorted(labels))


def _first_seen(labels: pd.Series) -> np.ndarray:
    """Each label's rank by first appearance (companies keep the data's order)."""
    ranks = {label: rank for rank, label in enumerate(pd.unique(labels))}
    return labels.map(ranks).to_numpy()


def _cells(design: pd.DataFrame, weights: np.ndarray, source: str) -> pd.DataFrame:
    keys = design["company"] + "\x1f" + design["wave"]
    change = np.flatnonzero(np.r_[True, keys.to_numpy()[1:] != keys.to_numpy()[:-1]])
    stops = np.r_[change[1:], len(design)]
    totals = np.add.reduceat(weights, change)
    squares = np.add.reduceat(weights ** 2, change)
    weighted = np.add.reduceat((weights > 0).astype(int), change)
    cells = pd.DataFrame({"company": design["company"].to_numpy()[change],
                          "wave": design["wave"].to_numpy()[change],
                          "n": stops - change, "start": change, "stop": stops,
                          "weight_sum": totals,
                          "effective_n": totals ** 2 / np.where(squares > 0, squares, 1)})
    small = np.flatnonzero(weighted < 2)
    if len(small):
        first = cells.iloc[small[0]]
        where = "" if first["wave"] == SINGLE_WAVE else f" in wave {first['wave']}"
        raise DataError(f"{source}: company {first['company']}{where} has {first['n']} "
                        f"respondent(s), {weighted[small[0]]} with a positive weight; a "
                        "company's index needs at least 2")
    return cells


def _companies(design: pd.DataFrame, source: str) -> pd.DataFrame:
    frame = pd.DataFrame({"company": pd.unique(design["company"])})
    for level in ("industry", "sector"):
        parent = "industry" if level == "sector" and "industry" in design else "company"
        if level not in design:
            frame[level] = None
            continue
        pairs = design[[parent, level]].drop_duplicates()
        twice = pairs[pairs[parent].duplicated(keep=False)]
        if len(twice):
            owner = twice.iloc[0][parent]
            names = ", ".join(twice.loc[twice[parent] == owner, level])
            raise DataError(f"{source}: {parent} {owner} appears in several {level} values "
                            f"({names}); each {parent} belongs to one {level}")
        frame[level] = frame["company"].map(
            design.drop_duplicates("company").set_index("company")[level])
    return frame
