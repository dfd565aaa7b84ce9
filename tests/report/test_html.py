"""The HTML report and the Jupyter tables: sections, numbers equal to the result's, figures
embedded and written, folder handling, and the ``acsi-sem report`` command."""

from __future__ import annotations

import base64
import re

import pytest

from acsi_sem.cli import main
from acsi_sem.errors import AcsiSemError
from acsi_sem.report.html import FIT_CUTOFFS, fit_table, write_report

SECTIONS = ["Model and data", "Warnings and notes", "Fit indices", "Path diagram",
            "Estimates", "Measurement quality", "0-100 indices", "Bootstrap"]


def table_rows(page: str, table_id: str) -> dict[str, list[str]]:
    """``{first cell: [other cells]}`` of the table with ``table_id``."""
    body = re.search(rf"<table id=\"{table_id}\">.*?<tbody>(.*?)</tbody>", page, re.S)
    rows = {}
    for row in re.findall(r"<tr>(.*?)</tr>", body.group(1), re.S):
        cells = [re.sub(r"<[^>]+>", "", c) for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>",
                                                               row, re.S)]
        rows[cells[0]] = cells[1:]
    return rows


def test_report_has_every_section_and_the_result_numbers(pls_fits, ecsi_report) -> None:
    result = pls_fits["ecsi"]
    _, page = ecsi_report
    headings = re.findall(r"<h2>(.*?)</h2>", page)
    assert headings == SECTIONS
    paths = table_rows(page, "paths")
    row = result.parameters.query("lhs == 'Loyalty' and op == '~' and rhs == 'Satisfaction'")
    assert paths["Loyalty ← Satisfaction"][0] == f"{row['est'].iloc[0]:.3f}"
    assert paths["Loyalty ← Satisfaction"][-1] == "***"
    assert paths["Value ← Expectation"][-1] == ""  # p = 0.5: no star
    index = table_rows(page, "index")
    assert index["Value"][0] == f"{result.index['Value']:.1f}"
    assert table_rows(page, "r2")["Satisfaction"] == [f"{result.r2['Satisfaction']:.3f}"]
    reliability = table_rows(page, "reliability")
    assert reliability["Quality"][0] == "7"  # items stay integers
    assert f"{result.quality.reliability.loc['Loyalty', 'alpha']:.3f}" in \
        reliability["Loyalty"][1]
    assert 'class="flag">0.452' in page  # Expectation's alpha misses 0.70
    assert "HTMT of Image and Quality is 0.929" in page
    assert "no likelihood-based test" in page
    assert set(table_rows(page, "importance-performance")) == {
        "Satisfaction", "Image", "Quality", "Expectation", "Value", "Complaints"}


def test_report_embeds_its_figures_and_writes_the_files(ecsi_report) -> None:
    folder, page = ecsi_report
    images = re.findall(r"<img src='data:image/svg\+xml;base64,([^']+)'", page)
    assert len(images) == 4  # diagram, index, importance-performance, bootstrap
    assert all(base64.b64decode(i).lstrip().startswith(b"<?xml") for i in images)
    assert b'id="node:Satisfaction"' in base64.b64decode(images[0])
    for name in ("diagram.svg", "diagram.png", "diagram.pdf", "diagram.dot", "index.svg",
                 "index.png", "importance_performance.svg", "bootstrap.png"):
        assert (folder / name).stat().st_size > 500, name
    assert (folder / "notes.txt").read_text() == "mine"
    assert not list(folder.glob(".*.tmp"))
    assert "src='http" not in page and 'src="http' not in page  # nothing fetched


def test_fit_table_flags_against_the_conventional_cutoffs(acsi_ml) -> None:
    table = fit_table(acsi_ml)
    fit = acsi_ml.fit_indices
    assert table.loc["CFI", "value"] == pytest.approx(fit["cfi"])
    assert table.loc["CFI", "verdict"] == ("good" if fit["cfi"] >= 0.95 else "poor")
    assert table.loc["RMSEA", "conventional cut-off"] == "≤ .06 (≤ .08 acceptable)"
    rmsea = FIT_CUTOFFS[3]
    assert [rmsea.verdict(v) for v in (0.05, 0.06, 0.07, 0.08, 0.081)] == \
        ["good", "good", "acceptable", "acceptable", "poor"]
    assert FIT_CUTOFFS[4].verdict(0.09) == "poor" and FIT_CUTOFFS[1].verdict(0.949) == "poor"


def test_ml_report_shows_fit_and_no_index(acsi_ml, tmp_path) -> None:
    page = write_report(acsi_ml, tmp_path / "new" / "folder", indicators=False).read_text()
    rows = table_rows(page, "fit-indices")
    fit = acsi_ml.fit_indices
    assert rows["CFI"][0] == f"{fit['cfi']:.3f}"
    assert rows["SRMR"][:2] == [f"{fit['srmr']:.3f}", "≤ .08"]
    assert rows["Degrees of freedom"][0] == "69"
    assert "No 0-100 index" in page
    assert "Bootstrap</h2>" not in page
    assert not (tmp_path / "new" / "folder" / "index.svg").exists()


def test_a_file_as_output_folder_is_refused(acsi_ml, tmp_path) -> None:
    target = tmp_path / "report.html"
    target.write_text("keep")
    with pytest.raises(AcsiSemError, match="is a file, not a folder"):
        write_report(acsi_ml, target)
    assert target.read_text() == "keep"


def test_report_command_writes_the_report(tmp_path, capsys) -> None:
    out = tmp_path / "acsi"
    assert main(["report", "acsi", "--estimator", "pls", "--no-indicators", "--out",
                 str(out)]) == 0
    assert f"wrote {out / 'report.html'}" in capsys.readouterr().out
    page = (out / "report.html").read_text()
    assert "<h1>ACSI - American Customer Satisfaction Index: PLS</h1>" in page
    assert (out / "diagram.pdf").exists() and not (out / "bootstrap.svg").exists()


def test_report_command_errors_are_one_paragraph(tmp_path, capsys) -> None:
    file = tmp_path / "taken"
    file.write_text("")
    assert main(["report", "acsi", "--out", str(file)]) == 2
    assert "acsi-sem: error:" in capsys.readouterr().err
    assert main(["report", "nonesuch", "--out", str(tmp_path / "x")]) == 2
    assert "no shipped model named 'nonesuch'" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


def test_jupyter_html_has_tables_with_the_numbers(pls_fits) -> None:
    result = pls_fits["ecsi"]
    page = result._repr_html_()
    assert "<img" not in page  # tables only: fast, no matplotlib
    paths = table_rows(page, "paths")
    assert len(paths) == 12
    assert table_rows(page, "index")["Loyalty"][0] == f"{result.index['Loyalty']:.1f}"
    assert str(result.summary()._repr_html_()) == page
