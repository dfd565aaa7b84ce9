"""A study's text summary, its JSON document and its HTML tables for Jupyter."""

from __future__ import annotations

import html
import textwrap
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from acsi_sem.report.html import html_table
from acsi_sem.version import __version__

if TYPE_CHECKING:
    from acsi_sem.studies.result import StudyResult

WIDTH = 78
# Changes at least this significant are listed in the summary.
ALPHA = 0.05


class StudySummary:
    """The printable summary of a :class:`StudyResult` (``print(result.summary())``)."""

    def __init__(self, result: StudyResult) -> None:
        self.result = result

    def as_text(self) -> str:
        """The whole summary as plain text."""
        return format_study(self.result)

    def __str__(self) -> str:
        return self.as_text()

    def __repr__(self) -> str:
        return self.as_text()

    def _repr_html_(self) -> str:
        return study_html(self.result)


def design_rows(result: StudyResult) -> list[tuple[str, str]]:
    """``(label, value)`` lines describing the study: data, design, weights, errors."""
    cells = result.cells
    companies = cells["company"].nunique()
    levels = [f"{companies} companies"]
    for level in ("industry", "sector"):
        count = result.indices.loc[result.indices["level"] == level, "unit"].nunique()
        if count:
            plural = {"industry": "industries", "sector": "sectors"}[level]
            levels.append(f"{count} {plural if count > 1 else level}")
    boot = result.bootstrap
    errors = (f"bootstrap, {boot['used']} of {boot['requested']} replicates (seed "
              f"{boot['seed']}), percentile intervals" if boot
              else "linearization, normal intervals")
    return [("Data", f"{result.data_source}: {int(cells['n'].sum())} respondents"),
            ("Units", ", ".join(levels)),
            ("Waves", ", ".join(result.waves)),
            ("Sampling weights", result.columns.weights or "none"),
            ("Measurement weights", result.weights_by),
            ("Answer scale", f"{result.scale[0]:g}-{result.scale[1]:g}"),
            ("Standard errors", f"{errors} ({result.level:.0%})")]


def format_study(result: StudyResult) -> str:
    """Design, warnings, league tables per industry, aggregates, significant changes,
    notes."""
    lines = [f"acsi-sem {__version__}: index study, {result.title}", "=" * WIDTH]
    lines += [f"  {label + ':':<22}{value}" for label, value in design_rows(result)]
    if result.warnings:
        lines += ["", "WARNINGS " + "!" * (WIDTH - 9)]
        lines += [textwrap.fill(w, WIDTH, initial_indent="  ! ", subsequent_indent="    ")
                  for w in result.warnings]
        lines += ["!" * WIDTH]
    target = result.target
    lines += ["", f"{target} index by company, wave {result.waves[-1]}:"]
    lines += _indented(_rounded(result.league_table()).to_string(index=False))
    lines += ["", f"{target} index of the aggregates:"]
    lines += _indented(_aggregate_text(result, target))
    significant = result.changes[(result.changes["pvalue"] < ALPHA)
                                 & (result.changes["construct"] == target)]
    if len(result.waves) > 1:
        lines += ["", f"Significant changes of {target} (p < {ALPHA}):"]
        shown = significant[["level", "unit", "wave_from", "wave_to", "change", "se",
                             "pvalue"]]
        lines += _indented(_rounded(shown).to_string(index=False) if len(shown)
                           else "none")
    lines += ["", "Notes:"] + [textwrap.fill(note, WIDTH, initial_indent="  - ",
                                               subsequent_indent="    ")
                                 for note in result.notes]
    return "\n".join(lines)


def _aggregate_text(result: StudyResult, construct: str) -> str:
    table = aggregate_wide(result, construct)
    return _rounded(table).to_string()


def aggregate_wide(result: StudyResult, construct: str) -> pd.DataFrame:
    """Aggregates as one row per unit with ``index WAVE`` and ``se WAVE`` columns."""
    rows = result.aggregates(construct)
    wide = rows.pivot_table(index=["level", "unit"], columns="wave", values=["index", "se"],
                            sort=False)
    wide.columns = [f"{name} {wave}" for name, wave in wide.columns]
    order = [f"{name} {wave}" for wave in result.waves for name in ("index", "se")]
    return wide[[column for column in order if column in wide.columns]]


def _rounded(frame: pd.DataFrame) -> pd.DataFrame:
    digits = {column: 3 if column == "pvalue" else 1
              for column in frame.select_dtypes("number").columns if column not in ("n",
                                                                                   "rank")}
    return frame.round(digits)


def _indented(text: str) -> list[str]:
    return ["  " + line for line in text.splitlines()]


def records(frame: pd.DataFrame | None) -> list[dict] | None:
    """A DataFrame as JSON-ready records: NaN as None, numpy scalars as Python ones."""
    if frame is None:
        return None
    clean = frame.astype(object).where(frame.notna(), None)
    out = []
    for row in clean.to_dict(orient="records"):
        out.append({key: _plain(value) for key, value in row.items()})
    return out


def _plain(value):
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def study_document(result: StudyResult) -> dict:
    """The JSON document of ``acsi-sem study --json`` (its key names are stable)."""
    columns = result.columns
    return {
        "model": result.model_name, "title": result.title, "data": result.data_source,
        "version": __version__,
        "design": {"company": columns.company, "industry": columns.industry,
                   "sector": columns.sector, "wave": columns.wave,
                   "weights": columns.weights, "weights_by": result.weights_by,
                   "scale": list(result.scale), "level": result.level,
                   "se_method": result.se_method, "bootstrap": result.bootstrap or None},
        "constructs": list(result.constructs), "waves": list(result.waves),
        "warnings": list(result.warnings), "notes": list(result.notes),
        "indices": records(result.indices), "changes": records(result.changes),
        "paths": records(result.paths), "r2": records(result.r2),
        "measurement": records(result.measurement),
        "weight_changes": records(result.weight_changes),
        "composition": records(result.composition), "cells": records(result.cells),
    }


def study_html(result: StudyResult, *, heading: str = "h4") -> str:
    """The study's main tables as HTML (Jupyter shows this for a result)."""
    sub = "h5" if heading == "h4" else "h3"
    design = pd.DataFrame(design_rows(result), columns=["item", "value"]).set_index("item")
    parts = [f"<{heading}>Index study: {html.escape(result.title)}</{heading}>",
             html_table(design, table_id="study-design")]
    if result.warnings:
        items = "".join(f"<li>{html.escape(w)}</li>" for w in result.warnings)
        parts.append(f"<div class='warnings'><b>Warnings</b><ul>{items}</ul></div>")
    target = result.target
    parts += [f"<{sub}>{html.escape(target)} by company, wave "
              f"{html.escape(result.waves[-1])}</{sub}>",
              html_table(result.league_table(), digits=1, index=False, table_id="league"),
              f"<{sub}>Aggregates</{sub}>",
              html_table(aggregate_wide(result, target), digits=1, table_id="aggregates")]
    return "<div class='acsi-sem-study'>" + "".join(parts) + "</div>"
