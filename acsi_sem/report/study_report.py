"""The study's HTML report: one self-contained ``report.html`` (figures embedded) with the
figure files beside it, in the style of ``acsi-sem report``.

Sections: the design, warnings and notes, league tables per industry, the aggregates,
change between waves (table and chart), the drivers per industry and the measurement
weights.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import TYPE_CHECKING

from acsi_sem.errors import AcsiSemError
from acsi_sem.report.html import REPORT_NAME, STYLE, html_table, output_folder, save_figure
from acsi_sem.report.study_summary import ALPHA, aggregate_wide, design_rows
from acsi_sem.survey.files import write_atomically
from acsi_sem.version import __version__

if TYPE_CHECKING:
    from acsi_sem.studies.result import StudyResult


def write_study_report(result: StudyResult, out_dir: str | Path,
                       construct: str | None = None) -> Path:
    """Write ``report.html`` and the figures (``league``, ``change``, ``aggregates``,
    ``drivers``; each ``.svg`` and ``.png``) into ``out_dir``.

    Args:
        result: the study.
        out_dir: the folder (created if missing; other files in it are left alone).
        construct: the index the tables and figures show (default: Satisfaction, or the
            model's last construct).

    Returns:
        The path of ``report.html``.
    """
    from acsi_sem.report import study_plots

    construct = construct or result.target
    if construct not in result.constructs:
        raise AcsiSemError(f"no construct named {construct!r}; the model's constructs are: "
                           f"{', '.join(result.constructs)}")
    folder = output_folder(out_dir)
    drawings = {
        "league": (study_plots.league_plot(result, construct),
                   f"{construct} index per company, wave {result.waves[-1]}"),
        "aggregates": (study_plots.aggregate_plot(result, construct),
                       f"{construct} index of industries, sectors and the nation by wave"),
        "change": (study_plots.change_chart(result, construct),
                   f"{construct} index this wave against the wave before"),
    }
    drivers = _drivers(result, construct)
    if drivers is not None:
        drawings["drivers"] = (study_plots.drivers_plot(result, construct),
                               f"Drivers of {construct} per industry")
    figures = {name: save_figure(folder, name, figure, caption)
               for name, (figure, caption) in drawings.items()}
    path = folder / REPORT_NAME
    write_atomically(path, study_page(result, figures, construct, drivers).encode("utf-8"))
    return path


def _drivers(result: StudyResult, construct: str):
    try:
        return result.drivers(construct)
    except AcsiSemError:  # an exogenous construct has no drivers
        return None


def study_page(result: StudyResult, figures: dict[str, str], construct: str,
               drivers=None) -> str:
    """The whole HTML document; ``figures`` maps names to ready ``<figure>`` blocks."""
    design = html_table(_frame(design_rows(result)), table_id="study-design")
    sections = [("design", "Study design", design),
                ("warnings", "Warnings and notes", _warnings_html(result)),
                ("league", f"{construct}: league table per industry",
                 html_table(result.league_table(construct), digits=1, index=False,
                            table_id="league") + figures.get("league", "")),
                ("aggregates", "Industries, sectors and the nation",
                 html_table(aggregate_wide(result, construct), digits=1,
                            table_id="aggregates") + figures.get("aggregates", "")),
                ("change", "Change between waves", _change_section(result, construct,
                                                                   figures)),
                ("drivers", "Drivers per industry", _drivers_section(drivers, figures)),
                ("measurement", "Measurement weights",
                 html_table(result.measurement, index=False, table_id="measurement"))]
    body = "".join(f"<section id='section-{key}'><h2>{html.escape(title)}</h2>{content}"
                   "</section>" for key, title, content in sections)
    title = html.escape(f"Index study: {result.title}")
    return (f"<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
            f"<meta name='viewport' content='width=device-width, initial-scale=1'>"
            f"<title>{title}</title><style>{STYLE}</style></head><body>"
            f"<h1>{title}</h1><p class='files'>Report by acsi-sem {__version__}</p>{body}"
            f"</body></html>\n")


def _frame(rows: list[tuple[str, str]]):
    import pandas as pd

    return pd.DataFrame(rows, columns=["item", "value"]).set_index("item")


def _warnings_html(result: StudyResult) -> str:
    parts = []
    if result.warnings:
        items = "".join(f"<li>{html.escape(w)}</li>" for w in result.warnings)
        parts.append(f"<div class='warnings' id='warnings'><b>Warnings</b><ul>{items}</ul>"
                     "</div>")
    items = "".join(f"<li>{html.escape(n)}</li>" for n in result.notes)
    parts.append(f"<div id='notes'><b>Notes</b><ul>{items}</ul></div>")
    return "".join(parts)


def _change_section(result: StudyResult, construct: str, figures: dict[str, str]) -> str:
    if len(result.waves) < 2:
        return "<p>The study has one wave: no change to report.</p>"
    rows = result.changes[result.changes["construct"] == construct]
    table = rows.drop(columns=["construct"])
    significant = int((rows["pvalue"] < ALPHA).sum())
    return (f"<p>{significant} of {len(rows)} changes are significant at {ALPHA:.0%} "
            "(two-sided z test of no change).</p>"
            + html_table(table, index=False, table_id="changes") + figures.get("change", ""))


def _drivers_section(drivers, figures: dict[str, str]) -> str:
    if drivers is None:
        return "<p>The construct shown has no drivers in the model.</p>"
    return (html_table(drivers, index=False, table_id="drivers") + figures.get("drivers", ""))
