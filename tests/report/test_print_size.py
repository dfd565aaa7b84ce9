"""Figures at a journal's column width (85 mm) and page width (175 mm): rendered at those
sizes, every text is at least 6 pt, inside the figure and clear of every other text; each
categorical palette stays distinguishable in black and white."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from acsi_sem.errors import AcsiSemError
from acsi_sem.loyalty import (
    kano_evaluation,
    loyalty_diamond,
    loyalty_ladder,
    loyalty_matrix,
    loyalty_metrics,
    loyalty_types,
    net_promoter_score,
    retention_table,
    satisfaction_loyalty_curve,
)
from acsi_sem.loyalty import plots as loyalty_plots
from acsi_sem.report.plots import importance_performance_plot, index_by_group_plot, index_plot
from acsi_sem.report.print_size import (
    MIN_POINTS,
    for_print,
    print_problems,
    smallest_text,
    width_inches,
)
from tests.conftest import ROOT


@pytest.fixture(scope="module")
def survey() -> pd.DataFrame:
    return pd.read_csv(ROOT / "data" / "loyalty_survey.csv")


@pytest.fixture(scope="module")
def panel() -> pd.DataFrame:
    return pd.read_csv(ROOT / "data" / "loyalty_panel.csv")


def chart_factories(pls_fits, survey, panel) -> dict:
    """Every chart the package draws for a paper, from the shipped data."""
    ecsi = pls_fits["ecsi"]
    kano = pd.read_csv(ROOT / "data" / "kano_survey.csv")
    return {
        "index": lambda: index_plot(ecsi),
        "index_by_group": lambda: index_by_group_plot(grouped_fit()),
        "importance_performance": lambda: importance_performance_plot(ecsi),
        "nps": lambda: loyalty_plots.nps_figure(net_promoter_score(
            survey, "RECOMMEND", group="market", replicates=50, seed=1)),
        "loyalty_matrix": lambda: loyalty_plots.loyalty_matrix_figure(
            loyalty_matrix(survey, "SAT1", "REPURCHASE")),
        "satisfaction_loyalty": lambda: loyalty_plots.satisfaction_loyalty_figure(
            satisfaction_loyalty_curve(survey, "SAT1", "LOY1", group="market")),
        "kano": lambda: loyalty_plots.kano_figure(kano_evaluation(kano)),
        "lifetime_value": lambda: loyalty_plots.lifetime_value_figure(
            100.0, 0.1, retention_table(100.0, [0.6, 0.8], 0.1)),
        "loyalty_ladder": lambda: loyalty_plots.loyalty_ladder_figure(loyalty_ladder(
            panel, "PURCHASES", "ATTITUDE", "RECOMMEND", attitude_cut=7).table),
        "loyalty_diamond": lambda: loyalty_plots.loyalty_diamond_figure(loyalty_diamond(
            panel, "BRANDS", "INVOLVEMENT", share="SHARE")),
        "loyalty_types": lambda: loyalty_plots.loyalty_types_figure(loyalty_types(
            panel, "ATTACHMENT", "PURCHASES", "PRICE_SENSITIVITY", "SWITCHING_COST",
            "REWARDS")),
        "loyalty_metrics": lambda: loyalty_plots.loyalty_metrics_figure(loyalty_metrics(
            panel, complained="COMPLAINED", replicates=30, seed=1)),
    }


def grouped_fit():
    import acsi_sem

    data = pd.read_csv(ROOT / "data" / "mobi.csv")
    data["operator"] = np.where(np.arange(len(data)) % 3 == 0, "A", "B")
    return acsi_sem.fit("ecsi", data, estimator="pls", group="operator")


CHARTS = ("index", "index_by_group", "importance_performance", "nps", "loyalty_matrix",
          "satisfaction_loyalty", "kano", "lifetime_value", "loyalty_ladder",
          "loyalty_diamond", "loyalty_types", "loyalty_metrics")
STUDY_CHARTS = ("league", "change", "aggregates", "drivers")


@pytest.fixture(scope="module")
def study_result():
    """The index study of six companies in two industries over two waves (the studies'
    test survey), with a small bootstrap for the intervals."""
    from tests.studies.test_estimate import run, survey

    return run(survey.__wrapped__(), bootstrap=20, seed=2)


@pytest.mark.parametrize("width", ["column", "page"])
@pytest.mark.parametrize("name", STUDY_CHARTS)
def test_every_study_chart_reads_at_column_and_page_width(study_result, name, width) -> None:
    from acsi_sem.report import study_plots

    draw = {"league": study_plots.league_plot, "change": study_plots.change_chart,
            "aggregates": study_plots.aggregate_plot, "drivers": study_plots.drivers_plot}
    figure = for_print(draw[name](study_result), width)
    assert figure.get_size_inches()[0] == pytest.approx(width_inches(width))
    assert print_problems(figure) == []
    plt.close(figure)


@pytest.mark.parametrize("width", ["column", "page"])
@pytest.mark.parametrize("name", CHARTS)
def test_every_chart_reads_at_column_and_page_width(pls_fits, survey, panel, name,
                                                    width) -> None:
    figure = for_print(chart_factories(pls_fits, survey, panel)[name](), width)
    assert figure.get_size_inches()[0] == pytest.approx(width_inches(width))
    assert print_problems(figure) == []
    assert smallest_text(figure) >= MIN_POINTS
    plt.close(figure)


def test_print_widths_in_millimetres() -> None:
    assert width_inches("column") == pytest.approx(85 / 25.4)
    assert width_inches("page") == pytest.approx(175 / 25.4)
    assert width_inches(120) == pytest.approx(120 / 25.4)
    with pytest.raises(AcsiSemError, match="unknown print width 'wide'"):
        width_inches("wide")
    with pytest.raises(AcsiSemError, match="must be positive"):
        width_inches(0)


def test_problems_are_found_where_they_are() -> None:
    from matplotlib.figure import Figure

    figure = Figure(figsize=(3, 2))
    axes = figure.add_subplot()
    axes.text(0.5, 0.5, "one", fontsize=10)
    axes.text(0.5, 0.5, "two", fontsize=10)
    axes.text(5.0, 0.5, "far", fontsize=10)
    axes.text(0.1, 0.1, "tiny", fontsize=4)
    problems = print_problems(figure)
    assert "'one' overlaps 'two'" in problems
    assert "'far' leaves the figure" in problems
    assert "'tiny' is 4.0 pt" in problems


def test_a_diagram_scales_as_a_whole(pls_fits) -> None:
    """for_print keeps a diagram's drawing and shrinks it: the same proportions, every
    text smaller by the same factor."""
    from acsi_sem.report.diagram import draw_diagram

    figure = draw_diagram(pls_fits["ecsi"], indicators=False)
    width, height = figure.get_size_inches()
    before = smallest_text(figure)
    for_print(figure, "page")
    assert figure.get_size_inches() == pytest.approx(
        [width_inches("page"), height * width_inches("page") / width])
    assert smallest_text(figure) == pytest.approx(before * width_inches("page") / width)
    plt.close(figure)


@pytest.mark.parametrize(("model", "indicators"), [
    ("acsi", False), ("ecsi", False), ("ccsi", False), ("acsi", True)])
def test_diagrams_drawn_for_the_page_print_at_six_points(pls_fits, model,
                                                         indicators) -> None:
    """The constructs-only diagrams of the three models, and the ACSI with its items, drawn
    for a 175 mm page: exactly that wide, every text at least 6 pt, none on another."""
    figure = pls_fits[model].plot(indicators=indicators, width="page")
    assert figure.get_size_inches()[0] == pytest.approx(width_inches("page"))
    assert smallest_text(figure) >= MIN_POINTS
    assert print_problems(figure) == []
    plt.close(figure)


def test_group_and_nps_colours_differ_in_lightness() -> None:
    """Printed in grey, the first four group colours and the three NPS shares stay apart
    (relative luminance at least 0.1 apart), as the charts draw them."""
    import itertools

    from acsi_sem.report.palette import GROUP_COLOURS, NPS_COLOURS, relative_luminance

    for palette in (GROUP_COLOURS[:4], tuple(NPS_COLOURS.values())):
        lightness = [relative_luminance(colour) for colour in palette]
        assert min(abs(a - b) for a, b in itertools.combinations(lightness, 2)) >= 0.1
    assert relative_luminance("black") == 0.0 and relative_luminance("white") == 1.0


def test_the_charts_draw_with_the_greyscale_safe_palette(pls_fits, survey, panel) -> None:
    from matplotlib.colors import to_hex

    from acsi_sem.report.palette import GROUP_COLOURS, NPS_COLOURS

    factories = chart_factories(pls_fits, survey, panel)
    nps = factories["nps"]()
    drawn = {to_hex(bar.get_facecolor()) for bar in nps.axes[0].patches}
    assert drawn == set(NPS_COLOURS.values())
    groups = factories["index_by_group"]()
    drawn = {to_hex(bar.get_facecolor()) for bar in groups.axes[0].patches}
    assert drawn == set(GROUP_COLOURS[:2])
    plt.close("all")
