"""APA tables for a paper: the number rules by hand, every cell against the result it came
from, Chinese captions for the CCSI, and the Word, Excel, LaTeX and Markdown files read back."""

from __future__ import annotations

import math
import re
import shutil
import subprocess

import numpy as np
import pytest

from acsi_sem.errors import AcsiSemError
from acsi_sem.report.paper_tables import (
    apa_interval,
    apa_number,
    apa_p,
    paper_tables,
)
from acsi_sem.report.table_files import PaperFigure, latex_text, write_tables


def number(cell: str) -> float:
    """An APA cell back to a float (true minus, no leading zero, stars dropped)."""
    return float(cell.rstrip("*").replace("−", "-"))


@pytest.mark.parametrize(("value", "bounded", "text"), [
    (0.9996, True, "1.000"), (-0.4171, True, "−.417"), (0.0504, True, ".050"),
    (12.34567, False, "12.346"), (-0.0004, True, ".000"), (-1.5, False, "−1.500"),
    (0.5, False, "0.500"), (None, True, ""), (float("nan"), False, "")])
def test_apa_numbers_follow_the_manual(value, bounded, text) -> None:
    assert apa_number(value, bounded=bounded) == text


@pytest.mark.parametrize(("pvalue", "text"), [
    (0.0004, "< .001"), (0.001, ".001"), (0.04999, ".050"), (0.5, ".500"), (1.0, "1.000"),
    (None, "")])
def test_p_values_have_no_leading_zero_and_a_floor(pvalue, text) -> None:
    assert apa_p(pvalue) == text


def test_intervals_and_index_digits() -> None:
    assert apa_interval(-0.085, 0.196) == "[−0.085, 0.196]"
    assert apa_interval(71.26, 74.04, 1) == "[71.3, 74.0]"
    assert apa_interval(None, 0.2) == ""


def parameter_rows(result, op: str):
    rows = result.parameters[result.parameters["op"] == op]
    return rows.reset_index(drop=True)


def test_estimates_table_holds_the_results_numbers(pls_fits) -> None:
    result = pls_fits["ecsi"]
    table = result.to_table("estimates")
    paths, loadings = parameter_rows(result, "~"), parameter_rows(result, "=~")
    assert len(table) == len(paths) + len(loadings)
    assert table["Part"].tolist().count("Structural paths") == 1  # not repeated
    for cells, (_, row) in zip(table.itertuples(index=False), paths.iterrows(), strict=False):
        assert cells.Path == f"{row['lhs']} ← {row['rhs']}"
        assert number(cells.B) == pytest.approx(row["est"], abs=5e-4)
        assert number(cells.SE) == pytest.approx(row["se"], abs=5e-4)
        assert cells.β.endswith("*" * (row["pvalue"] < .05) + "*" * (row["pvalue"] < .01)
                                + "*" * (row["pvalue"] < .001))
        lower, upper = cells[4].strip("[]").split(", ")
        assert (number(lower), number(upper)) == pytest.approx(
            (row["ci_lower"], row["ci_upper"]), abs=5e-4)
    assert "bootstrap percentile intervals (40 replicates)" in table.attrs["note"]
    assert table.attrs["title"].startswith("Parameter Estimates (ECSI")


def test_cb_sem_estimates_blank_the_fixed_loadings_and_keep_negative_signs(acsi_ml) -> None:
    table = acsi_ml.to_table()
    complaints = table[table["Path"] == "Complaints ← Satisfaction"].iloc[0]
    std = acsi_ml.parameters.query("lhs == 'Complaints' and op == '~'")["std_all"].iloc[0]
    assert complaints["β"].startswith("−.") and number(complaints["β"]) == pytest.approx(
        std, abs=5e-4)
    marker = table[table["Path"] == "Expectation → CUEX1"].iloc[0]
    assert marker["B"] == "1.000" and marker["SE"] == marker["95% CI"] == marker["p"] == ""
    assert "fixed for identification" in table.attrs["note"]
    assert "Wald intervals" in table.attrs["note"]


def test_fit_table_matches_the_fit_indices(acsi_ml) -> None:
    fit = acsi_ml.fit_indices
    row = acsi_ml.to_table("fit").iloc[0]
    assert number(row["χ²"]) == pytest.approx(fit["chisq"], abs=5e-4)
    assert row["df"] == f"{fit['df']:g}"
    assert number(row["CFI"]) == pytest.approx(fit["cfi"], abs=5e-4)
    rmsea, interval = row["RMSEA [90% CI]"].split(" ", 1)
    assert rmsea.startswith(".")
    assert number(rmsea) == pytest.approx(fit["rmsea"], abs=5e-4)
    assert interval == apa_interval(fit["rmsea_ci_lower"], fit["rmsea_ci_upper"],
                                    bounded=True)
    assert number(row["SRMR"]) == pytest.approx(fit["srmr"], abs=5e-4)


def test_measurement_table_matches_the_quality_tables(pls_fits) -> None:
    result = pls_fits["ecsi"]
    table = result.to_table("measurement")
    reliability = result.quality.reliability
    firsts = table[table["Construct"] != ""]
    assert firsts["Construct"].tolist() == reliability.index.tolist()
    for _, row in firsts.iterrows():
        expected = reliability.loc[row["Construct"]]
        for column, key in (("α", "alpha"), ("ρA", "rho_a"), ("ρC", "rho_c"), ("AVE", "ave")):
            if np.isnan(expected[key]):  # alpha of a single item
                assert row[column] == ""
            else:
                assert number(row[column]) == pytest.approx(expected[key], abs=5e-4)
    loadings = result.quality.loadings
    assert [number(cell) for cell in table["Loading"]] == pytest.approx(
        loadings["loading"].tolist(), abs=5e-4)


def test_fornell_larcker_diagonal_is_the_root_of_the_ave(pls_fits) -> None:
    result = pls_fits["ecsi"]
    table = result.to_table("fornell_larcker").set_index("Construct")
    ave = result.quality.reliability["ave"]
    names = table.index.tolist()
    for position, latent in enumerate(names):
        assert number(table.loc[latent, latent]) == pytest.approx(math.sqrt(ave[latent]),
                                                                  abs=5e-4)
        assert all(table.loc[latent, other] == "" for other in names[position + 1:])


def test_htmt_table_is_the_strict_lower_triangle(pls_fits) -> None:
    result = pls_fits["ecsi"]
    htmt = result.quality.htmt
    table = result.to_table("htmt").set_index("Construct")
    names = htmt.index.tolist()
    assert table.index.tolist() == names[1:] and table.columns.tolist() == names[:-1]
    for row in range(1, len(names)):
        for column in range(row):
            assert number(table.iloc[row - 1, column]) == pytest.approx(
                htmt.iloc[row, column], abs=5e-4)


def test_index_table_has_one_decimal_and_the_bootstrap_interval(pls_fits) -> None:
    result = pls_fits["acsi"]
    table = result.to_table("index").set_index("Construct")
    for latent, value in result.index.items():
        assert table.loc[latent, "Index"] == f"{value:.1f}"
    assert table["95% CI"].str.match(r"^\[\d+\.\d, \d+\.\d\]$").all()
    assert "outer weights" in table.attrs["note"]


def test_cb_sem_index_note_names_factor_score_weights(acsi_ml) -> None:
    table = acsi_ml.to_table("index")
    assert "factor-score weights" in table.attrs["note"]
    assert [float(v) for v in table["Index"]] == pytest.approx(acsi_ml.index.tolist(),
                                                               abs=0.05)


def test_ccsi_tables_are_in_chinese_with_the_declared_labels(pls_fits) -> None:
    result = pls_fits["ccsi"]
    table = result.to_table("measurement")
    assert table.attrs["title"].startswith("测量模型")
    assert "品牌形象" in table["潜变量"].tolist()
    english = result.to_table("measurement", language="en")
    assert english.attrs["title"].startswith("Measurement Model")
    assert "BrandImage" in english["Construct"].tolist()
    estimates = result.to_table()
    assert estimates.columns[0] == "类别" and "← 品牌形象" in " ".join(estimates["路径"])


@pytest.mark.parametrize(("arguments", "message"), [
    ({"kind": "anova"}, "unknown table 'anova'"),
    ({"kind": "fit"}, "no chi-square fit indices"),
    ({"kind": "mediation"}, "no mediation table"),
    ({"kind": "estimates", "language": "fr"}, "unknown table language 'fr'"),
    ({"kind": "estimates", "style": "chicago"}, "unknown table style 'chicago'")])
def test_misuse_is_named(pls_fits, arguments, message) -> None:
    with pytest.raises(AcsiSemError, match=message):
        pls_fits["acsi"].to_table(**arguments)


def test_every_table_the_fit_has(pls_fits, acsi_ml) -> None:
    kinds = [table.kind for table in paper_tables(pls_fits["ecsi"].to_dict())]
    assert kinds == ["estimates", "measurement", "fornell_larcker", "htmt", "index"]
    assert "fit" in [table.kind for table in paper_tables(acsi_ml.to_dict())]


@pytest.fixture(scope="module")
def ecsi_tables(pls_fits):
    return paper_tables(pls_fits["ecsi"].to_dict())


def test_excel_cells_read_back_equal_the_tables(ecsi_tables, tmp_path) -> None:
    from openpyxl import load_workbook

    path = write_tables(ecsi_tables, tmp_path / "ecsi.xlsx")
    book = load_workbook(path)
    assert len(book.sheetnames) == len(ecsi_tables)
    for sheet, table in zip(book.worksheets, ecsi_tables, strict=True):
        rows = [[cell if cell is not None else "" for cell in row]
                for row in sheet.iter_rows(values_only=True)]
        width = len(table.frame.columns)
        assert rows[1][0] == table.title and sheet["A1"].font.bold
        assert rows[2][:width] == list(table.frame.columns)
        assert [row[:width] for row in rows[3:-1]] == table.frame.to_numpy().tolist()
        assert rows[-1][0] == f"Note. {table.note}"


def test_word_tables_read_back_equal_the_tables_and_hold_the_diagram(pls_fits,
                                                                     tmp_path) -> None:
    import docx

    result = pls_fits["ecsi"]
    path = result.write_tables(tmp_path / "ecsi.docx")
    document = docx.Document(str(path))
    tables = paper_tables(result.to_dict())
    assert len(document.tables) == len(tables)
    for grid, table in zip(document.tables, tables, strict=True):
        cells = [[cell.text for cell in row.cells] for row in grid.rows]
        assert cells[0] == list(table.frame.columns)
        assert cells[1:] == table.frame.to_numpy().tolist()
    rules = document.tables[0]._tbl.tblPr.xml
    assert 'w:top w:val="single"' in rules and 'w:bottom w:val="single"' in rules
    assert "w:insideH" not in rules and "w:left" not in rules  # APA: no inner or side lines
    assert 'w:bottom w:val="single"' in document.tables[0].rows[0].cells[0]._tc.tcPr.xml
    assert len(document.inline_shapes) == 1
    assert document.inline_shapes[0].width == pytest.approx(docx.shared.Mm(160), rel=1e-3)
    text = "\n".join(paragraph.text for paragraph in document.paragraphs)
    assert "Table 5" in text and "Figure 1" in text and "Note. " in text


def test_latex_uses_booktabs_and_escapes_every_symbol(ecsi_tables, tmp_path) -> None:
    text = write_tables(ecsi_tables, tmp_path / "ecsi.tex").read_text(encoding="utf-8")
    assert text.count(r"\toprule") == text.count(r"\bottomrule") == len(ecsi_tables)
    assert "[$-$0." in text and r"$\leftarrow$" in text and r"$\rho_A$" in text
    assert not [character for character in text if ord(character) > 127]
    assert latex_text("a_b & 5% ~x^2 #1") == r"a\_b \& 5\% \textasciitilde{}x\^{}2 \#1"


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="no TeX engine installed")
def test_latex_compiles(acsi_ml, tmp_path) -> None:
    write_tables(paper_tables(acsi_ml.to_dict()), tmp_path / "tables.tex")
    (tmp_path / "paper.tex").write_text(
        "\\documentclass{article}\\usepackage{booktabs}\n"
        "\\begin{document}\\input{tables.tex}\\end{document}\n")
    finished = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error",
                               "paper.tex"], cwd=tmp_path, capture_output=True, text=True,
                              timeout=120)
    assert finished.returncode == 0, finished.stdout[-2000:]
    assert (tmp_path / "paper.pdf").stat().st_size > 0


def test_markdown_has_apa_captions(ecsi_tables, tmp_path) -> None:
    text = write_tables(ecsi_tables, tmp_path / "ecsi.md").read_text(encoding="utf-8")
    assert text.startswith("**Table 1**\n\n*Parameter Estimates (ECSI")
    assert text.count("*Note.*") == len(ecsi_tables)
    assert "| Image | IMAG1 |" in text


@pytest.mark.parametrize(("name", "options", "message"), [
    ("missing/t.docx", {}, "does not exist"),
    ("t.txt", {}, "cannot tell the table format from the suffix .txt"),
    ("t.md", {"file_format": "rtf"}, "unknown table format 'rtf'"),
    ("t.md", {"figures": (PaperFigure("x", b""),)}, "only in Word")])
def test_bad_targets_are_refused_and_nothing_is_written(ecsi_tables, tmp_path, name,
                                                        options, message) -> None:
    with pytest.raises(AcsiSemError, match=message):
        write_tables(ecsi_tables, tmp_path / name, **options)
    assert list(tmp_path.iterdir()) == []


def test_no_tables_is_an_error(tmp_path) -> None:
    with pytest.raises(AcsiSemError, match="no table"):
        write_tables([], tmp_path / "t.md")


def test_invariance_steps_table() -> None:
    from acsi_sem.invariance import measurement_invariance
    from tests.conftest import ROOT

    sequence = measurement_invariance("acsi", ROOT / "data" / "csi_study_survey.csv",
                                      group="industry")
    table = sequence.to_table()
    steps = sequence.table
    assert table["Model"].tolist() == steps["model"].tolist()
    assert [number(cell) for cell in table["χ²"]] == pytest.approx(steps["chisq"].tolist(),
                                                                   abs=5e-4)
    assert [number(cell) for cell in table["ΔCFI"][1:]] == pytest.approx(
        steps["delta_cfi"][1:].tolist(), abs=5e-4)
    assert table["Δχ²"].iloc[0] == "" and np.isfinite(number(table["Δχ²"].iloc[1]))
    assert "Measurement Invariance" in table.attrs["title"]


def run_cli(capsys, *arguments: str) -> tuple[int, str, str]:
    from acsi_sem.cli.main import main

    code = main(list(arguments))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_tables_command_reads_a_saved_result(capsys, pls_fits, tmp_path) -> None:
    saved = tmp_path / "ecsi.json"
    pls_fits["ecsi"].to_json(saved)
    code, out, _ = run_cli(capsys, "tables", str(saved), "--out", str(tmp_path / "t.md"),
                           "--kind", "measurement", "--kind", "htmt")
    assert code == 0 and "2 tables (measurement, htmt) written" in out
    text = (tmp_path / "t.md").read_text(encoding="utf-8")
    assert text == write_tables(paper_tables(pls_fits["ecsi"].to_dict(),
                                             ("measurement", "htmt")),
                                tmp_path / "same.md").read_text(encoding="utf-8")


@pytest.mark.parametrize(("content", "message"), [
    (None, "cannot read the result"),
    ('{"title": 1,\n  oops}', r"not JSON \(line 2, column 3"),
    ('{"title": "x"}', "not a result of acsi-sem fit --json")])
def test_tables_command_names_a_bad_result(capsys, tmp_path, content, message) -> None:
    source = tmp_path / "result.json"
    if content is not None:
        source.write_text(content)
    code, _, err = run_cli(capsys, "tables", str(source), "--out", str(tmp_path / "t.md"))
    assert code != 0 and re.search(message, err)
    assert not (tmp_path / "t.md").exists()


def test_fit_writes_a_word_document_with_the_diagram(capsys, tmp_path) -> None:
    import docx

    target = tmp_path / "acsi.docx"
    code, out, _ = run_cli(capsys, "fit", "acsi", "--tables", str(target))
    assert code == 0 and f"written to {target}" in out
    document = docx.Document(str(target))
    assert len(document.tables) == 6 and len(document.inline_shapes) == 1
    assert document.tables[1].rows[0].cells[0].text == "χ²"
