"""The HTML report and the Jupyter tables: sections, numbers equal to the result's, figures
embedded and written, folder handling, and the ``acsi-sem report`` command."""

from __future__ import annotations

import base64
import html
import re

import pytest

import acsi_sem
from acsi_sem.cli.main import main
from acsi_sem.errors import AcsiSemError
from acsi_sem.report.html import FIT_CUTOFFS, fit_table, write_report

SECTIONS = ["Model and data", "Warnings and notes", "Fit indices", "Path diagram",
            "Estimates", "Measurement quality", "0-100 indices", "Mediation", "Bootstrap"]


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


def test_ml_report_shows_fit_and_the_factor_score_index(acsi_ml, tmp_path) -> None:
    page = write_report(acsi_ml, tmp_path / "new" / "folder", indicators=False).read_text()
    rows = table_rows(page, "fit-indices")
    fit = acsi_ml.fit_indices
    assert rows["CFI"][0] == f"{fit['cfi']:.3f}"
    assert rows["SRMR"][:2] == [f"{fit['srmr']:.3f}", "≤ .08"]
    assert rows["Degrees of freedom"][0] == "69"
    index_rows = table_rows(page, "index")
    assert index_rows["Satisfaction"][0] == f"{acsi_ml.index['Satisfaction']:.1f}"
    assert "Bootstrap</h2>" not in page
    assert (tmp_path / "new" / "folder" / "index.svg").exists()
    # The modification indices of an ML fit, largest first, those significant at 5%.
    expected = acsi_ml.modification_indices(3.84)
    body = re.search(r'<table id="modindices">.*?<tbody>(.*?)</tbody>', page, re.S).group(1)
    rows = [[re.sub(r"<[^>]+>", "", cell) for cell in
             re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
            for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)]
    assert len(rows) == min(len(expected), 20)
    first = expected.iloc[0]
    assert rows[0][:4] == [first["lhs"], html.escape(first["op"]), first["rhs"],
                           f"{first['mi']:.3f}"]


def test_pls_report_has_no_modification_indices(ecsi_report) -> None:
    _, page = ecsi_report
    assert "Modification indices</h2>" not in page


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


def test_report_command_draws_the_journal_style_and_another_layout(tmp_path) -> None:
    """--style journal: black lines on white, no grey fill; --layout causal: one column
    per causal step, so the ACSI diagram is wider than the model file's layout."""
    declared, causal = tmp_path / "declared", tmp_path / "causal"
    assert main(["report", "acsi", "--estimator", "pls", "--style", "journal",
                 "--out", str(declared)]) == 0
    assert main(["report", "acsi", "--estimator", "pls", "--layout", "causal",
                 "--out", str(causal)]) == 0
    journal = (declared / "diagram.svg").read_text()
    assert "#e8e8e8" not in journal and "serif" in journal.lower()
    assert "#e8e8e8" in (causal / "diagram.svg").read_text()

    def width_per_height(svg: str) -> float:
        import re

        width, height = (float(v) for v in re.search(
            r'width="([\d.]+)pt" height="([\d.]+)pt"', svg).groups())
        return width / height

    assert width_per_height((causal / "diagram.svg").read_text()) > \
        width_per_height(journal) + 0.3


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


@pytest.fixture(scope="module")
def two_schools(root):
    """The Holzinger-Swineford CFA fitted per school (multi-group ML)."""
    import acsi_sem

    return acsi_sem.fit(root / "tests/fixtures/models/hs_cfa.lav",
                        root / "tests/fixtures/data/holzinger1939.csv", group="school")


def test_multi_group_report_has_one_diagram_per_group(two_schools, tmp_path) -> None:
    page = write_report(two_schools, tmp_path).read_text(encoding="utf-8")
    for stem in ("diagram_1", "diagram_2"):
        assert (tmp_path / f"{stem}.pdf").exists() and (tmp_path / f"{stem}.dot").exists()
    assert not (tmp_path / "diagram.svg").exists()
    assert "Path diagram, group Grant-White" in page
    loadings = table_rows(page, "loadings")
    row = two_schools.parameters.query("group == 'Grant-White' and lhs == 'visual' "
                                       "and rhs == 'x2'")
    assert loadings["[Grant-White] visual → x2"][0] == f"{row['est'].iloc[0]:.3f}"
    r2 = table_rows(page, "r2")
    assert r2["Pasteur: x1"] == [f"{two_schools.r2.loc[('Pasteur', 'x1')]:.3f}"]
    assert "Not computed for this fit" in page  # no measurement quality across groups


def test_multi_group_diagram_draws_the_chosen_group(two_schools) -> None:
    import matplotlib.pyplot as plt

    from acsi_sem.report.diagram import diagram_dot, draw_diagram

    figure = draw_diagram(two_schools, group="Grant-White")
    texts = {t.get_gid(): t.get_text() for t in figure.axes[0].texts}
    row = two_schools.parameters.query("group == 'Grant-White' and lhs == 'visual' "
                                       "and op == '~~' and rhs == 'textual'")
    assert texts["label:covariance:visual->textual"].startswith(f"{row['std_all'].iloc[0]:.2f}")
    assert texts["label:title"].endswith("group Grant-White")
    plt.close(figure)
    dot = diagram_dot(two_schools, group="Pasteur")
    pasteur = two_schools.parameters.query("group == 'Pasteur' and lhs == 'speed' "
                                           "and rhs == 'x9'")
    assert f'"speed" -> "x9" [label="{pasteur["std_all"].iloc[0]:.2f}' in dot
    with pytest.raises(AcsiSemError, match="no group 'Nowhere' in this fit; its groups are: "
                                           "Pasteur, Grant-White"):
        draw_diagram(two_schools, group="Nowhere")


def test_wlsmv_fit_table_judges_the_scaled_test(root) -> None:
    import acsi_sem

    result = acsi_sem.fit("acsi", root / "tests/fixtures/data/acsi_ordinal.csv",
                          estimator="wlsmv")
    table = fit_table(result)
    fit = result.fit_indices
    assert table.loc["Scaled CFI", "value"] == pytest.approx(fit["cfi_scaled"])
    assert table.loc["Scaled RMSEA", "verdict"] == FIT_CUTOFFS[3].verdict(fit["rmsea_scaled"])
    assert table.loc["Robust CFI", "value"] == pytest.approx(fit["cfi_robust"])


def test_extra_sections_are_rendered_with_their_figures(pls_fits, root, tmp_path) -> None:
    import pandas as pd

    from acsi_sem.loyalty import loyalty_sections

    survey = pd.read_csv(root / "data" / "loyalty_survey.csv")
    sections = loyalty_sections(survey, recommend="RECOMMEND", group="market",
                                replicates=50, seed=1)
    page = write_report(pls_fits["acsi"], tmp_path, sections=sections).read_text()
    assert re.findall(r"<h2>(.*?)</h2>", page)[-1] == sections[0].title
    nps = sections[0].tables["nps"]
    rows = table_rows(page, "nps-nps")
    assert set(rows) == {str(label) for label in nps.index}
    assert (tmp_path / "nps_nps.svg").exists() and "figure-nps_nps" in page


def test_pdf_without_a_browser_is_refused_before_anything_is_written(tmp_path, capsys,
                                                                      monkeypatch) -> None:
    from acsi_sem.cli.main import main
    from acsi_sem.report import pdf

    monkeypatch.setattr(pdf, "find_browser", lambda: None)
    folder = tmp_path / "report"
    assert main(["report", "ecsi", "--out", str(folder), "--pdf"]) == 2
    assert "--pdf needs Chromium or Chrome" in capsys.readouterr().err
    assert not (folder / "report.html").exists()


def test_figures_scale_to_the_page_and_open_full_size(ecsi_report) -> None:
    folder, page = ecsi_report
    figures = re.findall(r"<figure id='figure-([^']+)'><a href='([^']+)'", page)
    assert figures and all(link == f"{name}.svg" for name, link in figures)
    assert all((folder / link).exists() for _, link in figures)
    assert "img{max-width:none}" not in page and "@media print" in page


def test_report_shows_the_constraints_and_the_score_tests(root, tmp_path) -> None:
    data = root / "tests" / "fixtures" / "data" / "holzinger1939.csv"
    constrained = acsi_sem.fit(root / "tests" / "fixtures" / "models" / "hs_constraints.lav",
                               data)
    page = write_report(constrained, tmp_path / "constrained", indicators=False).read_text()
    rows = table_rows(page, "constraints")
    assert rows["a+b"][:3] == ["==", "1.2", "1.200"]
    assert "Score tests of the equality" not in page  # '<' in the model: lavaan has none
    metric = acsi_sem.fit(root / "tests" / "fixtures" / "models" / "hs_cfa.lav", data,
                          group="school", group_equal="loadings")
    page = write_report(metric, tmp_path / "metric", indicators=False).read_text()
    rows = table_rows(page, "score-test")
    expected = metric.score_test.univariate.iloc[2]
    assert rows[expected["lhs"]][2] == f"{expected['X2']:.3f}"
    assert "all 6 at once" in page
