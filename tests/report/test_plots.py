"""Index bars (overall and by group), the importance-performance map and bootstrap
histograms: the drawn geometry equals the result's numbers."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

import acsi_sem
from acsi_sem.errors import AcsiSemError
from acsi_sem.report.plots import (
    bootstrap_plot,
    default_target,
    importance_performance,
    importance_performance_plot,
    index_by_group_plot,
    index_plot,
)
from tests.conftest import ROOT


def by_gid(figure, prefix: str) -> dict:
    """``{gid: artist}`` for single artists, ``{gid: [artists]}`` where several share it
    (a histogram's bars)."""
    found: dict = {}
    for axes in figure.axes:
        for artist in [*axes.patches, *axes.collections, *axes.texts]:
            gid = artist.get_gid()
            if gid and gid.startswith(prefix):
                found.setdefault(gid, []).append(artist)
    return {gid: items[0] if len(items) == 1 else items for gid, items in found.items()}


@pytest.fixture(scope="module")
def grouped():
    """ECSI by PLS with two made-up operators (every third respondent is 'A')."""
    data = pd.read_csv(ROOT / "data" / "mobi.csv")
    data["operator"] = np.where(np.arange(len(data)) % 3 == 0, "A", "B")
    return acsi_sem.fit("ecsi", data, estimator="pls", group="operator")


def test_index_bars_have_the_index_lengths_and_causal_order(pls_fits) -> None:
    result = pls_fits["ecsi"]
    figure = index_plot(result)
    bars = by_gid(figure, "bar:")
    assert len(bars) == 7
    for name, value in result.index.items():
        assert bars[f"bar:{name}"].get_width() == pytest.approx(value)
    heights = {gid[4:]: bar.get_y() for gid, bar in bars.items()}
    assert heights["Image"] > heights["Satisfaction"] > heights["Loyalty"]  # top to bottom
    texts = {t.get_gid(): t.get_text() for t in figure.axes[0].texts}
    assert texts["value:Value"] == f"{result.index['Value']:.1f}"
    assert "95% percentile bootstrap interval" in figure.axes[0].get_xlabel()
    plt.close(figure)


def test_index_whiskers_are_the_bootstrap_intervals(pls_fits) -> None:
    result = pls_fits["acsi"]
    figure = index_plot(result)
    whiskers = by_gid(figure, "intervals")["intervals"]
    segments = whiskers.get_segments()
    intervals = result.bootstrap.intervals()
    lows = sorted(round(s[0][0], 6) for s in segments)
    expected = sorted(round(intervals.loc[f"index: {n}", "ci_lower"], 6)
                      for n in result.index.index)
    assert lows == expected
    plt.close(figure)


def test_index_by_group_draws_one_bar_per_group_and_construct(grouped) -> None:
    figure = index_by_group_plot(grouped)
    bars = by_gid(figure, "bar:")
    assert len(bars) == 2 * 7
    table = grouped.index_by_group
    assert bars["bar:A:Loyalty"].get_width() == pytest.approx(table.loc["A", "Loyalty"])
    assert bars["bar:B:Value"].get_width() == pytest.approx(table.loc["B", "Value"])
    legend = [t.get_text() for t in figure.axes[0].get_legend().get_texts()]
    assert legend == [f"A (n = {table.loc['A', 'n']})", f"B (n = {table.loc['B', 'n']})"]
    assert table.loc["A", "n"] + table.loc["B", "n"] == 250
    plt.close(figure)


def test_importance_performance_reads_total_effects_and_indices(pls_fits) -> None:
    result = pls_fits["ecsi"]
    assert default_target(result) == "Loyalty"
    table = importance_performance(result)
    assert list(table.index) == ["Satisfaction", "Image", "Quality", "Expectation", "Value",
                                 "Complaints"]
    effect = result.effects.query("lhs == 'Loyalty' and rhs == 'Quality'")["total_std_all"]
    assert table.loc["Quality", "importance"] == pytest.approx(effect.iloc[0])
    assert table.loc["Value", "performance"] == pytest.approx(result.index["Value"])
    figure = importance_performance_plot(result)
    points = by_gid(figure, "point:")
    assert len(points) == 6
    x, y = points["point:Satisfaction"].get_offsets()[0]
    assert (x, y) == pytest.approx((table.loc["Satisfaction", "importance"],
                                    result.index["Satisfaction"]))
    plt.close(figure)


def test_importance_performance_for_another_target(pls_fits) -> None:
    table = importance_performance(pls_fits["ecsi"], "Satisfaction")
    assert set(table.index) == {"Image", "Expectation", "Quality", "Value"}
    with pytest.raises(AcsiSemError, match="no construct has an effect on 'Image'"):
        importance_performance(pls_fits["ecsi"], "Image")
    with pytest.raises(AcsiSemError, match="no construct named 'Loyal'"):
        importance_performance(pls_fits["ecsi"], "Loyal")


def test_bootstrap_histograms_hold_every_draw(pls_fits) -> None:
    result = pls_fits["acsi"]
    figure = bootstrap_plot(result)
    histograms = by_gid(figure, "hist:")
    assert len(histograms) == len(result.spec.structural_paths) == 9
    bars = histograms["hist:Loyalty ~ Satisfaction"]
    assert sum(patch.get_height() for patch in bars) == len(result.bootstrap.draws) == 40
    panel = next(a for a in figure.axes if a.get_title() == "Loyalty ~ Satisfaction")
    lines = sorted(line.get_xdata()[0] for line in panel.lines)
    row = result.bootstrap.intervals().loc["Loyalty ~ Satisfaction"]
    assert lines == pytest.approx(sorted(row[["estimate", "ci_lower", "ci_upper"]]))
    plt.close(figure)


def test_plots_say_what_they_need(acsi_ml) -> None:
    with pytest.raises(AcsiSemError, match="needs an answer scale"):
        index_plot(acsi_sem.fit("A =~ CUEX1 + CUEX2 + CUEX3\nB =~ PERQ1 + PERQ2\nB ~ A",
                                ROOT / "data" / "acsi_simulated.csv"))
    with pytest.raises(AcsiSemError, match="bootstrap=N"):
        bootstrap_plot(acsi_ml)
    with pytest.raises(AcsiSemError, match="group='COLUMN'"):
        index_by_group_plot(acsi_ml)


def test_chinese_labels_in_plots_use_a_cjk_font_or_fall_back(pls_fits, monkeypatch) -> None:
    from acsi_sem.model.modelfile import load_model_file
    from acsi_sem.report import diagram

    result = pls_fits["ccsi"]
    labels = load_model_file("ccsi").labels
    font = diagram.find_cjk_font()
    if font is not None:
        figure = index_plot(result, labels=labels)
        ticks = {t.get_text(): t for t in figure.axes[0].get_yticklabels()}
        assert ticks["顾客满意度"].get_fontfamily() == [font]
        plt.close(figure)
    monkeypatch.setattr(diagram, "find_cjk_font", lambda: None)
    with pytest.warns(UserWarning, match="no font with Chinese characters"):
        figure = importance_performance_plot(result, labels=labels)
    names = [t.get_text() for t in figure.axes[0].texts]
    assert "Satisfaction" in names and all(n.isascii() for n in names)
    plt.close(figure)
