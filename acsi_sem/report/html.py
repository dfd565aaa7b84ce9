"""The HTML report: one self-contained file (figures embedded as data URIs) plus the figure
files beside it, and the HTML tables Jupyter shows for a result.

The table builders import nothing heavy, so ``result._repr_html_()`` stays fast; only
:func:`write_report` draws figures (matplotlib).
"""

from __future__ import annotations

import base64
import html
import io
import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np
import pandas as pd

from acsi_sem.errors import AcsiSemError
from acsi_sem.report.diagram import significance_stars
from acsi_sem.report.labels import ESTIMATOR_TEXT, display_path, model_labels
from acsi_sem.survey.files import write_atomically
from acsi_sem.version import __version__

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from acsi_sem.results import FitResult

REPORT_NAME = "report.html"


class ReportSectionLike(Protocol):
    """An extra report section (``acsi_sem.loyalty.sections.ReportSection`` is one)."""

    key: str
    title: str
    text: str
    tables: dict[str, pd.DataFrame]
    figures: dict[str, Figure]
TABLE_IDS = {"~": "paths", "=~": "loadings", "<~": "weights"}


@dataclass(frozen=True)
class Cutoff:
    """A conventional fit criterion: ``good`` and (optionally) ``acceptable`` bounds."""

    measure: str
    text: str
    good: float
    acceptable: float | None = None
    higher_is_better: bool = True

    def verdict(self, value: float) -> str:
        """``"good"``, ``"acceptable"`` or ``"poor"`` (``""`` for an undefined value)."""
        if value is None or not np.isfinite(value):
            return ""
        def meets(bound: float) -> bool:
            return value >= bound if self.higher_is_better else value <= bound
        if meets(self.good):
            return "good"
        return "acceptable" if self.acceptable is not None and meets(self.acceptable) \
            else "poor"


# Hu & Bentler (1999), Structural Equation Modeling 6(1), 1-55; RMSEA's .08 as "acceptable"
# from Browne & Cudeck (1993); the chi-square test at the 5% level.
FIT_CUTOFFS = (
    Cutoff("pvalue", "p ≥ .05 (exact fit not rejected)", 0.05),
    Cutoff("cfi", "≥ .95", 0.95),
    Cutoff("tli", "≥ .95", 0.95),
    Cutoff("rmsea", "≤ .06 (≤ .08 acceptable)", 0.06, 0.08, higher_is_better=False),
    Cutoff("srmr", "≤ .08", 0.08, higher_is_better=False),
)

STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans",sans-serif;
 margin:2em auto;max-width:1100px;color:#1b1b1b;line-height:1.4;padding:0 1em}
h1{font-size:1.6em;margin-bottom:.2em}h2{border-bottom:2px solid #1f3b73;padding-bottom:.2em;
 margin-top:2em}table{border-collapse:collapse;margin:.6em 0;font-size:.9em}
th,td{padding:.25em .7em;border-bottom:1px solid #ddd;text-align:right}
th:first-child,td:first-child{text-align:left}thead th{background:#eef3fb}
.warnings{border:2px solid #b00;background:#fff4f4;padding:.5em 1em;color:#800}
.good{color:#176b2c}.acceptable{color:#946200}.poor,.flag{color:#b00;font-weight:600}
figure{margin:1em 0}figure img{max-width:100%;height:auto;border:1px solid #eee}
figure a{display:block;cursor:zoom-in}
figcaption{font-size:.85em;color:#555}.files{font-size:.85em;color:#555}
.table-wrap{overflow-x:auto}
#summary td{text-align:left}
@media print{body{max-width:none;margin:0;font-size:10pt}
 section{break-before:page}section:first-of-type{break-before:auto}
 h2,h3{break-after:avoid}table,figure,tr{break-inside:avoid}
 figure img{max-height:24cm;object-fit:contain}a{color:inherit;text-decoration:none}}
"""


def _number(value, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return ""
    if isinstance(value, (int, np.integer)):
        return str(value)
    return f"{value:.{digits}f}"


def html_table(frame: pd.DataFrame, *, digits: int = 3, index: bool = True,
               table_id: str | None = None, classes: pd.DataFrame | None = None) -> str:
    """A DataFrame as an HTML table with fixed decimals, blanks for NaN and optional
    per-cell CSS classes (same shape as ``frame``)."""
    head = ([html.escape(str(frame.index.name or ""))] if index else []) + \
        [html.escape(str(c)) for c in frame.columns]
    rows = []
    for position, label in enumerate(frame.index):
        cells = [f"<th>{html.escape(str(label))}</th>"] if index else []
        for column in frame.columns:
            # Cell by cell, not iterrows(), so integer columns stay integers.
            value = frame[column].iloc[position]
            css = classes[column].iloc[position] if classes is not None else ""
            text = html.escape(_number(value, digits) if not isinstance(value, str) else value)
            cells.append(f'<td class="{css}">{text}</td>' if css else f"<td>{text}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    identity = f' id="{table_id}"' if table_id else ""
    # A table wider than the page scrolls inside its own box, not the page.
    return (f"<div class='table-wrap'><table{identity}><thead><tr>"
            + "".join(f"<th>{h}</th>" for h in head)
            + "</tr></thead><tbody>" + "".join(rows) + "</tbody></table></div>")


def fit_table(result: FitResult) -> pd.DataFrame:
    """Fit indices beside their conventional cut-offs and the verdict (CB-SEM only)."""
    fit = result.fit_indices
    rows = [("Chi-square", fit["chisq"], "", ""), ("Degrees of freedom", int(fit["df"]), "", "")]
    names = {"pvalue": "P-value (chi-square)", "cfi": "CFI", "tli": "TLI", "rmsea": "RMSEA",
             "srmr": "SRMR"}
    for cutoff in FIT_CUTOFFS:
        value = fit[cutoff.measure]
        rows.append((names[cutoff.measure], value, cutoff.text, cutoff.verdict(value)))
        if cutoff.measure == "rmsea":
            rows.append(("RMSEA 90% CI", f"[{fit['rmsea_ci_lower']:.3f}, "
                         f"{fit['rmsea_ci_upper']:.3f}]", "", ""))
    if "cfi_scaled" in fit and "shift_parameter" in fit:
        # WLSMV: the scaled-shifted test is the one to judge (lavaan's .scaled columns).
        rows += [("Scaled chi-square", fit["chisq_scaled"], "", ""),
                 ("Scaled p-value", fit["pvalue_scaled"], FIT_CUTOFFS[0].text,
                  FIT_CUTOFFS[0].verdict(fit["pvalue_scaled"])),
                 ("Scaled CFI", fit["cfi_scaled"], "≥ .95",
                  FIT_CUTOFFS[1].verdict(fit["cfi_scaled"])),
                 ("Scaled RMSEA", fit["rmsea_scaled"], "≤ .06",
                  FIT_CUTOFFS[3].verdict(fit["rmsea_scaled"]))]
    if "cfi_robust" in fit:
        rows += [("Robust CFI", fit["cfi_robust"], "≥ .95", FIT_CUTOFFS[1].verdict(
            fit["cfi_robust"])), ("Robust RMSEA", fit["rmsea_robust"], "≤ .06",
                                  FIT_CUTOFFS[3].verdict(fit["rmsea_robust"]))]
    table = pd.DataFrame(rows, columns=["measure", "value", "conventional cut-off",
                                        "verdict"]).set_index("measure")
    return table


def _fit_section(result: FitResult) -> str:
    if not len(result.fit_indices):
        text = ("<p>PLS path modelling has no likelihood-based test of the model; judge it "
                "by R², measurement quality and the bootstrap intervals.")
        if result.model_fit is None:
            return text + "</p>"
        return (text + " The distances of the sample indicator correlations from the "
                "model-implied ones (SRMR below .08 is the usual rule of thumb; d_G with "
                "base-10 logarithms, as ADANCO; <code>acsi-sem fit --exact-fit 499</code> "
                "tests exact fit by the bootstrap):</p>"
                + html_table(result.model_fit, table_id="model-fit"))
    table = fit_table(result)
    classes = pd.DataFrame("", index=table.index, columns=table.columns)
    classes["verdict"] = table["verdict"]
    return (html_table(table, table_id="fit-indices", classes=classes) +
            "<p class='files'>Cut-offs: Hu &amp; Bentler (1999); RMSEA ≤ .08 acceptable "
            "(Browne &amp; Cudeck 1993). They are conventions, not tests.</p>")


def _group_prefix(rows: pd.DataFrame) -> list[str]:
    """``"[group] "`` before each row's name in a multi-group fit, else nothing."""
    if "group" not in rows:
        return [""] * len(rows)
    return [f"[{group}] " if str(group) else "" for group in rows["group"]]


def _estimates(result: FitResult, op: str) -> pd.DataFrame:
    rows = result.parameters[result.parameters["op"] == op]
    arrow = {"~": " ← ", "=~": " → ", "<~": " ← "}[op]
    names = [f"{prefix}{lhs}{arrow}{rhs}" for prefix, lhs, rhs in
             zip(_group_prefix(rows), rows["lhs"], rows["rhs"], strict=True)]
    frame = pd.DataFrame({
        "estimate": rows["est"].to_numpy(), "se": rows["se"].to_numpy(),
        "z": rows["z"].to_numpy(), "p": rows["pvalue"].to_numpy(),
        "ci_lower": rows["ci_lower"].to_numpy(), "ci_upper": rows["ci_upper"].to_numpy(),
        "std_all": rows["std_all"].to_numpy(),
        "sig.": [significance_stars(p) for p in rows["pvalue"]]},
        index=pd.Index(names, name="path" if op == "~" else "loading"))
    return frame.dropna(axis=1, how="all")


def r2_table(result: FitResult) -> pd.DataFrame:
    """R² per variable (``group: variable`` in a multi-group fit)."""
    r2 = result.r2
    names = ([f"{group}: {name}" for group, name in r2.index]
             if isinstance(r2.index, pd.MultiIndex) else list(r2.index))
    return pd.DataFrame({"R²": r2.to_numpy()}, index=pd.Index(names, name="variable"))


def _quality_classes(quality) -> pd.DataFrame:
    """'flag' on the reliability cells that miss their thresholds (as quality.flags)."""
    from acsi_sem.statistics.quality import THRESHOLDS

    table = quality.reliability
    classes = pd.DataFrame("", index=table.index, columns=table.columns)
    for column in ("alpha", "rho_c", "rho_a", "ave"):
        if column in table:
            low = table[column] < THRESHOLDS[column]
            classes.loc[low & (table["items"] > 1), column] = "flag"
    if "rho_c" in table:
        too_high = (table["rho_c"] > THRESHOLDS["rho_c_max"]) & (table["items"] > 1)
        classes.loc[too_high, "rho_c"] = "flag"
    return classes


def quality_section(result: FitResult) -> str:
    """Reliability and AVE, HTMT, Fornell-Larcker and the list of flagged values."""
    quality = result.quality
    if quality is None:
        return ""
    parts = ["<h3>Reliability and convergent validity</h3>",
             html_table(quality.reliability, table_id="reliability",
                        classes=_quality_classes(quality)),
             "<p class='files'>Thresholds (Hair et al. 2019): alpha, rho_C, rho_A ≥ 0.70 "
             "(rho_C ≤ 0.95), AVE ≥ 0.50, loadings ≥ 0.708; HTMT ≤ 0.90 (Henseler et al. "
             "2015).</p>",
             "<h3>HTMT</h3>", html_table(quality.htmt, table_id="htmt"),
             "<h3>Fornell-Larcker (diagonal: square root of AVE)</h3>",
             html_table(quality.fornell_larcker, table_id="fornell-larcker")]
    if quality.flags:
        items = "".join(f"<li>{html.escape(flag)}</li>" for flag in quality.flags)
        parts.append(f"<h3>Below the usual thresholds</h3><ul id='quality-flags'>{items}</ul>")
    return "".join(parts)


def index_table(result: FitResult) -> pd.DataFrame | None:
    """The 0-100 index with its bootstrap interval where there is one."""
    if result.index is None:
        return None
    table = result.index.to_frame("index")
    table.index.name = "construct"
    if result.bootstrap is not None:
        intervals = result.bootstrap.intervals()
        keys = [f"index: {name}" for name in table.index]
        if all(key in intervals.index for key in keys):
            table["ci_lower"] = intervals.loc[keys, "ci_lower"].to_numpy()
            table["ci_upper"] = intervals.loc[keys, "ci_upper"].to_numpy()
    return table


def _summary_rows(result: FitResult) -> pd.DataFrame:
    used = f"{result.n_obs} of {result.n_total}" if result.n_obs != result.n_total \
        else str(result.n_obs)
    rows = [("Model", f"{result.model_name} ({display_path(result.spec.source)})"),
            ("Title", result.title),
            ("Constructs", f"{len(result.spec.latent)}: {', '.join(result.spec.latent)}"),
            ("Indicators", str(sum(len(v) for v in result.spec.indicators.values()))),
            ("Data", display_path(result.data_source)),
            ("Respondents used", used),
            ("Estimator", ESTIMATOR_TEXT.get(result.estimator, result.estimator)),
            ("Converged", "yes" if result.converged else "NO")]
    if result.bootstrap is not None:
        rows.append(("Bootstrap", result.bootstrap.summary_line()))
    return pd.DataFrame(rows, columns=["item", "value"]).set_index("item")


def _warnings_html(result: FitResult, extra_notes: tuple[str, ...] = ()) -> str:
    parts = []
    if result.warnings:
        items = "".join(f"<li>{html.escape(w)}</li>" for w in result.warnings)
        parts.append(f"<div class='warnings' id='warnings'><b>Warnings</b><ul>{items}</ul>"
                     "</div>")
    notes = (*result.notes, *extra_notes)
    if notes:
        items = "".join(f"<li>{html.escape(n)}</li>" for n in notes)
        parts.append(f"<div id='notes'><b>Notes</b><ul>{items}</ul></div>")
    return "".join(parts)


def result_tables_html(result: FitResult, *, heading: str = "h4") -> str:
    """The tables of a result (no figures): summary, warnings, fit with cut-offs, paths,
    loadings, R², index and reliability. Jupyter shows this for a result."""
    sub = "h5" if heading == "h4" else "h3"
    parts = [f"<{heading}>{html.escape(result.title)}: {html.escape(result.estimator)}, "
             f"N = {result.n_obs}</{heading}>",
             html_table(_summary_rows(result), table_id="summary"), _warnings_html(result),
             f"<{sub}>Fit</{sub}>", _fit_section(result)]
    for op, title in (("~", "Paths"), ("=~", "Loadings"), ("<~", "Formative weights")):
        table = _estimates(result, op)
        if len(table):
            parts += [f"<{sub}>{title}</{sub}>", html_table(table, table_id=TABLE_IDS[op])]
    parts += [f"<{sub}>R²</{sub}>", html_table(r2_table(result), table_id="r2")]
    index = index_table(result)
    if index is not None:
        parts += [f"<{sub}>0-100 index</{sub}>", html_table(index, digits=1,
                                                             table_id="index")]
    if result.quality is not None:
        parts += [f"<{sub}>Reliability</{sub}>",
                  html_table(result.quality.reliability, classes=_quality_classes(
                      result.quality))]
    return "<div class='acsi-sem-result'>" + "".join(parts) + "</div>"


# ----------------------------------------------------------------------------- the report

def _svg_bytes(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="svg")
    return buffer.getvalue()


def _figure_html(name: str, svg: bytes, caption: str) -> str:
    """A figure scaled to the page's width (embedded, so the page stands alone), linked to
    its SVG file beside the report to open it at full size."""
    encoded = base64.b64encode(svg).decode("ascii")
    return (f"<figure id='figure-{name}'><a href='{name}.svg' title='open full size'>"
            f"<img src='data:image/svg+xml;base64,{encoded}' alt='{html.escape(caption)}'></a>"
            f"<figcaption>{html.escape(caption)} (files: {name}.svg, {name}.png; click to "
            "open full size)</figcaption></figure>")


def _draw_figures(result: FitResult, *, indicators: bool, labels: dict[str, str] | None,
                  target: str | None, style: str = "default", layout: str | None = None
                  ) -> tuple[dict[str, tuple[Figure, str]], list[str]]:
    """``{file stem: (figure, caption)}`` and the notes raised while drawing."""
    from acsi_sem.report import diagram, plots

    labels = labels if labels is not None else model_labels(result)
    caption = ("Path diagram{}: standardized estimates; * p < .05, ** p < .01, *** p < .001; "
               "R² inside the endogenous constructs")
    figures: dict[str, tuple[Figure, str]] = {}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for stem, group in diagram_stems(result).items():
            figures[stem] = (diagram.draw_diagram(result, indicators=indicators,
                                                  labels=labels, group=group, style=style,
                                                  layout=layout),
                             caption.format(f", group {group}" if group is not None else ""))
        if result.index is not None:
            figures["index"] = (plots.index_plot(result, labels=labels),
                                "0-100 index per construct")
            figures["importance_performance"] = (
                plots.importance_performance_plot(result, target, labels=labels),
                "Importance-performance map: standardized total effect against the index")
        if result.index_by_group is not None:
            figures["index_by_group"] = (plots.index_by_group_plot(result, labels=labels),
                                         "Index by group")
    # One note per cause: every figure that fell back says the same thing.
    notes = list(dict.fromkeys(str(w.message) for w in caught
                               if issubclass(w.category, UserWarning)))
    if result.bootstrap is not None:
        figures["bootstrap"] = (plots.bootstrap_plot(result),
                                "Bootstrap distributions of the structural paths")
    for number, interaction in enumerate(result.spec.interactions, start=1):
        figures[f"simple_slopes_{number}"] = (
            plots.simple_slopes_figure(result, interaction.term),
            f"Simple slopes of {interaction.independent} on {interaction.outcome} at "
            f"{interaction.moderator}'s mean and one SD either side")
    return figures, notes


def diagram_stems(result: FitResult) -> dict[str, str | None]:
    """File stems of the diagrams: ``diagram``, or ``diagram_1``, ``diagram_2``, ... one
    per group of a multi-group fit, mapped to the group."""
    if result.groups is None:
        return {"diagram": None}
    return {f"diagram_{number}": str(label)
            for number, label in enumerate(result.groups["labels"], start=1)}


def check_output_folder(out_dir: str | Path) -> Path:
    """``out_dir`` as a Path; an error if it exists and is not a folder."""
    folder = Path(out_dir)
    if folder.exists() and not folder.is_dir():
        raise AcsiSemError(f"{folder}: is a file, not a folder; give --out a folder for the "
                           "report and its figures")
    return folder


def output_folder(out_dir: str | Path) -> Path:
    """``out_dir``, created if missing (an error if it is a file)."""
    folder = check_output_folder(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def write_report(result: FitResult, out_dir: str | Path, *, indicators: bool = True,
                 labels: dict[str, str] | None = None, target: str | None = None,
                 sections: Sequence[ReportSectionLike] = (), style: str = "default",
                 layout: str | None = None) -> Path:
    """Write ``report.html`` (self-contained) and the figure files into ``out_dir``.

    Files: ``report.html``; ``diagram.svg/.png/.pdf`` and ``diagram.dot`` (``diagram_1``,
    ``diagram_2``, ... one per group of a multi-group fit); for PLS with an index
    ``index``, ``importance_performance`` and (with groups) ``index_by_group``; with a
    bootstrap ``bootstrap``; each plot as ``.svg`` and ``.png``; each figure of an extra
    section as ``KEY_NAME.svg/.png``. Other files in the folder are left alone; every file
    is written whole or not at all.

    Args:
        result: the fit.
        out_dir: the folder (created if missing; an error if it is a file).
        indicators: draw the indicators in the diagram.
        labels: construct names to show (default: the model file's ``# labels:``).
        target: construct of the importance-performance map (default: the last in the
            causal order, e.g. Loyalty).
        sections: extra sections after the model's, each with ``key, title, text, tables,
            figures`` (e.g. ``acsi_sem.loyalty.loyalty_sections(...)``).
        style: the diagram's style, ``"default"`` or ``"journal"`` (black and white, serif).
        layout: the diagram's layout, ``"auto"`` or ``"causal"``; default the model file's
            ``# layout:`` (else auto).

    Returns:
        The path of ``report.html``.
    """
    from acsi_sem.report.diagram import diagram_dot

    folder = output_folder(out_dir)
    figures, notes = _draw_figures(result, indicators=indicators, labels=labels,
                                   target=target, style=style, layout=layout)
    blocks = {name: save_figure(folder, name, figure, caption,
                                 pdf=name.startswith("diagram"))
              for name, (figure, caption) in figures.items()}
    for stem, group in diagram_stems(result).items():
        write_atomically(folder / f"{stem}.dot", diagram_dot(
            result, indicators=indicators, labels=labels, group=group).encode("utf-8"))
    extra = [(section.key, section.title, _extra_section_html(folder, section))
             for section in sections]
    page = report_page(result, blocks, tuple(notes), target=target, extra=extra)
    path = folder / REPORT_NAME
    write_atomically(path, page.encode("utf-8"))
    return path


def save_figure(folder: Path, name: str, figure: Figure, caption: str, *,
                pdf: bool = False) -> str:
    """Write ``name.svg`` and ``name.png`` (and ``.pdf``), close the figure, and return
    its embedded ``<figure>`` block."""
    import matplotlib.pyplot as plt

    svg = _svg_bytes(figure)
    write_atomically(folder / f"{name}.svg", svg)
    for extension in ("png", "pdf") if pdf else ("png",):
        buffer = io.BytesIO()
        figure.savefig(buffer, format=extension, dpi=150)
        write_atomically(folder / f"{name}.{extension}", buffer.getvalue())
    plt.close(figure)
    return _figure_html(name, svg, caption)


def _extra_section_html(folder: Path, section: ReportSectionLike) -> str:
    parts = [f"<p>{html.escape(section.text)}</p>"]
    for name, table in section.tables.items():
        parts += [f"<h3>{html.escape(name.replace('_', ' '))}</h3>",
                  html_table(table, table_id=f"{section.key}-{name}")]
    for name, figure in section.figures.items():
        parts.append(save_figure(folder, f"{section.key}_{name}", figure,
                                  f"{section.title}: {name.replace('_', ' ')}"))
    return "".join(parts)


def _index_section(result: FitResult, figures: dict[str, str], target: str | None) -> str:
    from acsi_sem.report.plots import importance_performance

    table = index_table(result)
    if table is None:
        return ("<p>No 0-100 index: it needs a declared answer scale, and PLS, PLSc or a "
                "single-group ML or MLR fit.</p>")
    parts = [html_table(table, digits=1, table_id="index"), figures.get("index", "")]
    if result.index_by_group is not None:
        parts += ["<h3>By group</h3>", html_table(result.index_by_group, digits=1,
                                                  table_id="index-by-group"),
                  figures.get("index_by_group", "")]
    ipma = importance_performance(result, target)
    parts += ["<h3>Importance-performance map</h3>",
              html_table(ipma, table_id="importance-performance"),
              figures.get("importance_performance", "")]
    return "".join(parts)


def report_page(result: FitResult, figures: dict[str, str], notes: tuple[str, ...] = (),
                *, target: str | None = None,
                extra: Sequence[tuple[str, str, str]] = ()) -> str:
    """The whole HTML document; ``figures`` maps names to ready ``<figure>`` blocks and
    ``extra`` adds ``(key, title, html)`` sections at the end."""
    rows = result.effects
    effects = rows[["direct", "indirect", "total", "total_std_all"]].set_axis(
        pd.Index([f"{prefix}{lhs} ← {rhs}" for prefix, lhs, rhs in
                  zip(_group_prefix(rows), rows["lhs"], rows["rhs"], strict=True)],
                 name="effect"))
    sections = [
        ("model", "Model and data", html_table(_summary_rows(result), table_id="summary")),
        ("warnings", "Warnings and notes",
         _warnings_html(result, notes) or "<p>No warnings.</p>"),
        ("fit", "Fit indices", _fit_section(result)),
        ("diagram", "Path diagram", "".join(figures.get(stem, "")
                                            for stem in diagram_stems(result))),
        ("estimates", "Estimates", _estimates_section(result, effects)),
        ("quality", "Measurement quality",
         quality_section(result) or "<p>Not computed for this fit.</p>"),
        ("indices", "0-100 indices", _index_section(result, figures, target)),
    ]
    for key, title, content in (("mediation", "Mediation", _mediation_section(result)),
                                ("moderation", "Moderation",
                                 _moderation_section(result, figures)),
                                ("constraints", "Constraints", _constraints_section(result)),
                                ("score-test", "Score tests of the equality constraints",
                                 _score_test_section(result)),
                                ("modindices", "Modification indices",
                                 _modindices_section(result))):
        if content:
            sections.append((key, title, content))
    if "bootstrap" in figures:
        sections.append(("bootstrap", "Bootstrap", figures["bootstrap"]))
    sections += list(extra)
    body = "".join(f"<section id='section-{key}'><h2>{title}</h2>{content}</section>"
                   for key, title, content in sections)
    title = html.escape(f"{result.title}: {result.estimator}")
    return (f"<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
            f"<meta name='viewport' content='width=device-width, initial-scale=1'>"
            f"<title>{title}</title><style>{STYLE}</style></head><body>"
            f"<h1>{title}</h1><p class='files'>Report by acsi-sem {__version__}</p>{body}"
            f"</body></html>\n")


def _mediation_section(result: FitResult) -> str:
    """Specific indirect effects and mediation types of a bootstrapped fit ("" otherwise)."""
    from acsi_sem.errors import AcsiSemError

    if result.bootstrap is None:
        return ""
    try:
        table = result.mediation()
    except AcsiSemError:
        return ""
    shown = table[table["type"] != "direct"].drop(columns=["cause", "outcome"])
    return ("<p>Every specific indirect effect (the product of the paths along it), each "
            "pair's total indirect and total effect, with the bootstrap's intervals; the "
            "type is Zhao, Lynch and Chen's (2010), an effect counting as significant when "
            "its interval excludes 0.</p>"
            + html_table(shown, index=False, table_id="mediation"))


def _moderation_section(result: FitResult, figures: dict[str, str]) -> str:
    """Interaction effects, f² and simple slopes, with the slope plots ("" without
    interaction terms)."""
    if not result.spec.interactions:
        return ""
    table = result.moderation().drop(columns=["independent", "moderator"])
    plots = "".join(figures.get(f"simple_slopes_{number}", "")
                    for number in range(1, len(result.spec.interactions) + 1))
    return ("<p>Each interaction's path is the effect of the product of the standardized "
            "constructs (A's simple slope at the moderator's value m, in SD, is "
            "b<sub>A</sub> + b<sub>A:B</sub> m); f² compares R² with and without the "
            "interaction. Intervals are the bootstrap's, when the fit has one.</p>"
            + html_table(table, index=False, table_id="moderation") + plots)


def _constraints_section(result: FitResult) -> str:
    """The ``==``/``<``/``>`` constraints with both sides at the estimates ("" without)."""
    if result.constraints is None:
        return ""
    return ("<p>The constraints of the model, both sides at the estimates; a binding "
            "inequality holds with equality, and its parameters have no sampling variance of "
            "their own (SE 0).</p>"
            + html_table(result.constraints, index=False, table_id="constraints"))


def _score_test_section(result: FitResult) -> str:
    """lavTestScore(): releasing the equality constraints ("" where the fit has none)."""
    test = result.score_test
    if test is None:
        return ""
    total = test.total
    return (f"<p>Score tests of releasing the equalities (shared labels, group_equal, '=='), "
            f"lavaan's lavTestScore(): all {int(total['df'])} at once X² = {total['X2']:.3f}, "
            f"p = {total['pvalue']:.3f}; each alone below (chi-square with 1 df). A small "
            "p-value marks an equality the data resist, e.g. a loading that is not invariant "
            "across groups.</p>"
            + html_table(test.univariate, index=False, table_id="score-test"))


MODINDEX_MINIMUM = 3.84  # the 5% critical value of chi-square with 1 df
MODINDEX_ROWS = 20


def _modindices_section(result: FitResult) -> str:
    """The largest modification indices of a CB-SEM fit by ML or MLR (with groups, FIML
    or modelled means too; one row per group with groups); "" where there are none."""
    from acsi_sem.errors import AcsiSemError

    try:
        table = result.modification_indices(MODINDEX_MINIMUM)
    except AcsiSemError:
        return ""
    cut = f"; the {MODINDEX_ROWS} largest of {len(table)}" if len(table) > MODINDEX_ROWS else ""
    intro = (f"<p>Score tests of the parameters the model leaves out, those with mi ≥ "
             f"{MODINDEX_MINIMUM} (significant at 5% one at a time), largest first{cut}"
             + ("; one row per group" if "group" in table else "") + ". "
             "Free a parameter only where theory allows it: each test assumes the rest of "
             "the model is right.</p>")
    if table.empty:
        return intro + "<p>None.</p>"
    return intro + html_table(table.head(MODINDEX_ROWS), index=False, table_id="modindices")


def _estimates_section(result: FitResult, effects: pd.DataFrame) -> str:
    parts = []
    for op, title in (("~", "Structural paths"), ("=~", "Loadings"),
                      ("<~", "Formative weights")):
        table = _estimates(result, op)
        if len(table):
            parts += [f"<h3>{title}</h3>", html_table(table, table_id=TABLE_IDS[op])]
    parts += ["<h3>R²</h3>", html_table(r2_table(result), table_id="r2"),
              "<h3>Direct, indirect and total effects</h3>",
              html_table(effects, table_id="effects")]
    return "".join(parts)
