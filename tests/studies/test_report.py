"""The study's summary, JSON, drivers and HTML report."""

from __future__ import annotations

import json

import numpy as np
import pytest

import acsi_sem
from acsi_sem.cli.main import main
from tests.studies.test_estimate import run, survey  # noqa: F401 (fixture)


@pytest.fixture(scope="module")
def result(survey):  # noqa: F811
    return run(survey, bootstrap=60, seed=2)


def test_drivers_are_the_total_effects_through_every_mediator(result) -> None:
    drivers = result.drivers()
    paths = result.paths[result.paths["wave"] == "2026"]
    composition = result.composition
    shares = composition[(composition["level"] == "industry") & (composition["unit"] == "I1")
                         & (composition["wave"] == "2026")].set_index("member")["weight"]
    totals = []
    for company in shares.index:
        b = paths[paths["company"] == company].set_index(["lhs", "rhs"])["est"]
        # Expectation -> Satisfaction: directly, via Quality, via Value, via both.
        totals.append(b["Satisfaction", "Expectation"]
                      + b["Quality", "Expectation"] * b["Satisfaction", "Quality"]
                      + b["Value", "Expectation"] * b["Satisfaction", "Value"]
                      + b["Quality", "Expectation"] * b["Value", "Quality"]
                      * b["Satisfaction", "Value"])
    row = drivers[(drivers["industry"] == "I1") & (drivers["construct"] == "Expectation")]
    assert row["importance"].iloc[0] == pytest.approx(np.array(totals) @ shares.to_numpy())
    industry = result.aggregates("Expectation")
    assert row["performance"].iloc[0] == pytest.approx(industry.loc[
        (industry["unit"] == "I1") & (industry["wave"] == "2026"), "index"].iloc[0])
    assert set(drivers["construct"]) == {"Expectation", "Quality", "Value"}


def test_summary_and_json_carry_the_tables(result) -> None:
    text = str(result.summary())
    assert "Satisfaction index by company, wave 2026" in text
    assert "bootstrap, 60 of 60 replicates (seed 2)" in text
    document = json.loads(result.to_json())
    assert document["design"]["weights_by"] == "pooled"
    assert document["design"]["se_method"] == "bootstrap"
    national = [row for row in document["indices"] if row["level"] == "national"
                and row["construct"] == "Satisfaction" and row["wave"] == "2026"]
    expected = result.aggregates().query("level == 'national' and wave == '2026'")
    assert national[0]["index"] == pytest.approx(expected["index"].iloc[0])
    assert len(document["changes"]) == len(result.changes)
    assert "<table" in result._repr_html_()


def test_report_has_every_section_and_figure(result, tmp_path) -> None:
    path = result.write_report(tmp_path / "rep")
    page = path.read_text()
    for section in ("design", "warnings", "league", "aggregates", "change", "drivers",
                    "measurement"):
        assert f"id='section-{section}'" in page
    for figure in ("league", "aggregates", "change", "drivers"):
        assert (tmp_path / "rep" / f"{figure}.svg").is_file()
        assert f"id='figure-{figure}'" in page
    svg = (tmp_path / "rep" / "change.svg").read_text()
    assert all(f'id="company:C{i}"' in svg for i in range(6))


def test_command_writes_json_and_report(tmp_path, survey, capsys) -> None:  # noqa: F811
    data = tmp_path / "survey.csv"
    survey.to_csv(data, index=False)
    code = main(["study", "acsi", "--data", str(data), "--company", "company", "--industry",
                 "industry", "--wave", "wave", "--weights", "w", "--json",
                 str(tmp_path / "out.json"), "--report", str(tmp_path / "rep")])
    assert code == 0
    out = capsys.readouterr()
    assert "Satisfaction index by company" in out.out and "report.html" in out.err
    document = json.loads((tmp_path / "out.json").read_text())
    direct = acsi_sem.study("acsi", survey, company="company", industry="industry",
                            wave="wave", weights="w")
    assert [row["index"] for row in document["indices"]] == pytest.approx(
        direct.indices["index"].tolist())
    assert (tmp_path / "rep" / "report.html").is_file()
