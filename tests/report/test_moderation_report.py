"""Moderation in the summary, the JSON, the HTML report, the slope plot and the CLI."""

from __future__ import annotations

import json

import matplotlib.pyplot as plt
import numpy as np
import pytest

import acsi_sem
from acsi_sem.cli.main import main
from acsi_sem.report.html import write_report
from tests.conftest import ROOT

MODEL = ROOT / "tests" / "fixtures" / "models" / "mobi_moderation.lav"


@pytest.fixture(scope="module")
def moderated() -> acsi_sem.FitResult:
    return acsi_sem.fit(MODEL, estimator="pls", bootstrap=100, seed=2)


def test_slope_plot_draws_each_simple_slope(moderated) -> None:
    figure = moderated.plot_simple_slopes()
    slopes = moderated.moderation()["estimate"].iloc[1:].to_numpy()
    lines = {line.get_gid(): line for line in figure.axes[0].get_lines()}
    assert set(lines) == {"slope:-1", "slope:0", "slope:+1"}
    for gid, slope in zip(("slope:-1", "slope:0", "slope:+1"), slopes, strict=True):
        x, y = lines[gid].get_data()
        assert (y[1] - y[0]) / (x[1] - x[0]) == pytest.approx(slope, rel=1e-12)
    plt.close(figure)
    with pytest.raises(acsi_sem.AcsiSemError, match="no interaction term 'A:B'"):
        moderated.plot_simple_slopes("A:B")


def test_summary_json_and_report_show_the_moderation(moderated, tmp_path) -> None:
    table = moderated.moderation()
    assert "Moderation (interaction" in str(moderated.summary())
    assert f"{table['estimate'].iloc[1]:.3f}" in str(moderated.summary())
    records = moderated.to_dict()["moderation"]
    assert [r["effect"] for r in records] == ["interaction", "slope at -1 SD",
                                              "slope at the moderator's mean", "slope at +1 SD"]
    assert np.isclose(records[0]["f2"], table["f2"].iloc[0])
    page = write_report(moderated, tmp_path / "report").read_text(encoding="utf-8")
    assert "id='section-moderation'" in page and "simple_slopes_1.svg" in page
    assert (tmp_path / "report" / "simple_slopes_1.svg").exists()


def test_cli_fits_by_the_chosen_method_and_writes_the_moderation(tmp_path, capsys) -> None:
    target = tmp_path / "m.json"
    code = main(["fit", str(MODEL), "--estimator", "pls", "--moderation", "orthogonal",
                 "--json", str(target)])
    assert code == 0
    document = json.loads(target.read_text())
    reference = acsi_sem.fit(MODEL, estimator="pls", moderation="orthogonal").moderation()
    assert document["moderation"][0]["estimate"] == pytest.approx(
        reference["estimate"].iloc[0], abs=1e-12)
    assert "orthogonal approach" in " ".join(document["notes"])
    assert "Moderation" in capsys.readouterr().out
