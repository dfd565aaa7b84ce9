"""The revenue file: the companies' revenues (and the sectors' GDP shares) that weight
companies into industry, sector and national indices.

A CSV (or any survey file type) with the columns ``company, revenue`` and optionally
``wave`` (a revenue per wave), ``industry``, ``sector`` (the hierarchy, when the survey does
not carry it) and ``gdp_share`` (the weight of the company's sector, or of its top level,
in the national index). Every surveyed company must have a revenue, and every company in
the file must be surveyed; a mismatch is an error naming the company.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from acsi_sem.errors import DataError
from acsi_sem.studies.design import SINGLE_WAVE, StudySurvey
from acsi_sem.survey.prepare import numeric_column, read_table


@dataclass(frozen=True)
class Revenue:
    """Revenues aligned with the survey's cells.

    Attributes:
        by_cell: (C,) revenue of each cell's company in the cell's wave.
        gdp_share: (C,) the ``gdp_share`` of each cell's row, or None without the column.
        companies: the survey's company table with ``industry`` and ``sector`` filled in
            from the file where the survey has no such column.
        source: the file's name.
    """

    by_cell: np.ndarray
    gdp_share: np.ndarray | None
    companies: pd.DataFrame
    source: str


def read_revenue(path: str | Path, survey: StudySurvey) -> Revenue:
    """Read and check the revenue file against the survey (see the module's description).

    Raises:
        DataError: a missing column, a missing or negative revenue or GDP share (naming
            the row), a company or wave in one file but not the other, a company listed
            twice, or a hierarchy that contradicts the survey's.
    """
    source = str(path)
    frame = read_table(path)
    frame.columns = [str(name).strip() for name in frame.columns]
    absent = [name for name in ("company", "revenue") if name not in frame.columns]
    if absent:
        raise DataError(f"{source}: the revenue file needs the column(s) {', '.join(absent)}; "
                        f"it has: {', '.join(frame.columns)}")
    table = pd.DataFrame({"company": _text(frame["company"], "company", source)})
    table["wave"] = _waves(frame, survey, source)
    table["revenue"] = _amounts(frame, "revenue", source)
    if "gdp_share" in frame.columns:
        table["gdp_share"] = _amounts(frame, "gdp_share", source)
    _check_unique(table, source)
    _check_companies(table, survey, source)
    if "wave" in frame.columns:
        _check_waves(table, survey, source)
    else:
        table = _every_wave(table, survey.waves)
    keyed = table.set_index(["company", "wave"])
    keys = pd.MultiIndex.from_frame(survey.cells[["company", "wave"]])
    gdp = keyed["gdp_share"].reindex(keys).to_numpy() if "gdp_share" in keyed else None
    return Revenue(keyed["revenue"].reindex(keys).to_numpy(), gdp,
                   _hierarchy(frame, table, survey.companies, source), source)


def _text(column: pd.Series, name: str, source: str) -> pd.Series:
    if column.isna().any():
        row = int(np.flatnonzero(column.isna().to_numpy())[0]) + 1
        raise DataError(f"{source}: column {name}: row {row} has no value")
    return column.map(lambda value: str(int(value)) if isinstance(value, float)
                      and value.is_integer() else str(value).strip())


def _waves(frame: pd.DataFrame, survey: StudySurvey, source: str) -> pd.Series:
    if "wave" not in frame.columns:
        return pd.Series([None] * len(frame))
    if survey.waves == (SINGLE_WAVE,):
        raise DataError(f"{source}: the revenue file has a wave column but the study has no "
                        "waves (name the survey's wave column, or drop the file's)")
    return _text(frame["wave"], "wave", source)


def _amounts(frame: pd.DataFrame, name: str, source: str) -> np.ndarray:
    values = numeric_column(frame[name], name, source).to_numpy()
    for problem, bad in (("has no value", np.isnan(values)), ("is negative", values < 0),
                         ("is infinite", np.isinf(values))):
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raise DataError(f"{source}: column {name}: row {row + 1} {problem}"
                            f"{'' if problem == 'has no value' else f' ({values[row]:g})'}")
    return values


def _check_unique(table: pd.DataFrame, source: str) -> None:
    twice = table[table.duplicated(["company", "wave"], keep=False)]
    if len(twice):
        company, wave = twice.iloc[0][["company", "wave"]]
        when = "" if wave is None else f" in wave {wave}"
        raise DataError(f"{source}: company {company} is listed more than once{when}")


def _check_companies(table: pd.DataFrame, survey: StudySurvey, source: str) -> None:
    """Every surveyed company has a revenue, and every listed one is surveyed."""
    listed = set(table["company"])
    for company in survey.companies["company"]:
        if company not in listed:
            raise DataError(f"{source}: company {company} is in the survey but not in the "
                            "revenue file")
    surveyed = set(survey.companies["company"])
    for company in table["company"].drop_duplicates():
        if company not in surveyed:
            raise DataError(f"{source}: company {company} is in the revenue file but not in "
                            f"the survey {survey.source}")


def _check_waves(table: pd.DataFrame, survey: StudySurvey, source: str) -> None:
    """Every surveyed company-wave has a revenue, and every listed one is surveyed."""
    cells = set(zip(survey.cells["company"], survey.cells["wave"], strict=True))
    rows = set(zip(table["company"], table["wave"], strict=True))
    for company, wave in sorted(cells - rows):
        raise DataError(f"{source}: company {company} is surveyed in wave {wave} but has no "
                        "revenue for that wave")
    for company, wave in sorted(rows - cells):
        raise DataError(f"{source}: company {company} has a revenue for wave {wave} but is "
                        "not surveyed in that wave")


def _every_wave(table: pd.DataFrame, waves: tuple[str, ...]) -> pd.DataFrame:
    """A file without waves: each company's revenue holds in every wave."""
    return table.assign(wave=[list(waves)] * len(table)).explode("wave", ignore_index=True)


def _hierarchy(frame: pd.DataFrame, table: pd.DataFrame, companies: pd.DataFrame,
               source: str) -> pd.DataFrame:
    companies = companies.copy()
    for level in ("industry", "sector"):
        if level not in frame.columns:
            continue
        listed = pd.DataFrame({"company": _text(frame["company"], "company", source),
                               level: _text(frame[level], level, source)}).drop_duplicates()
        twice = listed[listed["company"].duplicated(keep=False)]
        if len(twice):
            raise DataError(f"{source}: company {twice.iloc[0]['company']} is listed in several "
                            f"{level} values ({', '.join(twice[level])})")
        mapping = listed.set_index("company")[level]
        if companies[level].isna().all():
            companies[level] = companies["company"].map(mapping)
            continue
        for company, surveyed in zip(companies["company"], companies[level], strict=True):
            if mapping[company] != surveyed:
                raise DataError(f"{source}: company {company} is in {level} "
                                f"{mapping[company]} here but in {surveyed} in the survey")
    return companies
