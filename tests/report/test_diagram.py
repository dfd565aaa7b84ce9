"""Path diagrams: declared and automatic layouts, labels that say the estimates, nothing
overlapping (labels against labels, shapes and every arrow), the aspect, the styles, CJK
labels with and without a font, the three file formats and DOT text."""

from __future__ import annotations

import itertools
import warnings

import matplotlib.pyplot as plt
import numpy as np
import pytest

import acsi_sem
from acsi_sem.report import diagram
from acsi_sem.report.diagram import (
    causal_layers,
    diagram_dot,
    draw_diagram,
    estimate_label,
    find_cjk_font,
    save_diagram,
    significance_stars,
)
from tests.conftest import ROOT

MODELS = ("acsi", "ecsi", "ccsi")


def artists(figure, prefix: str) -> dict:
    """The figure's texts and patches whose gid starts with ``prefix``, by gid."""
    axes = figure.axes[0]
    return {a.get_gid(): a for a in [*axes.texts, *axes.patches]
            if (a.get_gid() or "").startswith(prefix)}


def expected_label(std_all: float, pvalue: float) -> str:
    stars = ("***" if pvalue < 0.001 else "**" if pvalue < 0.01
             else "*" if pvalue < 0.05 else "")
    return f"{std_all:.2f}{stars}"


def overlap(a, b) -> bool:
    """Boxes that share more than a hairline (0.5 pixel) in both directions."""
    return (min(a.x1, b.x1) - max(a.x0, b.x0) > 0.5
            and min(a.y1, b.y1) - max(a.y0, b.y0) > 0.5)


def arrow_courses(figure) -> dict:
    """Every arrow's outline (shaft and head) as ``(k, 2)`` display points, by gid."""
    axes = figure.axes[0]
    return {gid: [axes.transData.transform(polygon)
                  for polygon in patch.get_path().to_polygons(closed_only=False)]
            for gid, patch in artists(figure, "edge:").items()}


def hits(box, polygon) -> bool:
    """Whether a polyline passes through the box shrunk by half a pixel."""
    from acsi_sem.report.diagram_layout import segment_hits_box

    inner = (box.x0 + 0.5, box.y0 + 0.5, box.x1 - 0.5, box.y1 - 0.5)
    return any(segment_hits_box(tuple(a), tuple(b), inner)
               for a, b in itertools.pairwise(polygon))


def assert_nothing_overlaps(figure, what: str) -> None:
    """No two labels intersect, no arrow label covers a shape, no arrow runs through any
    label, no two shapes intersect, and everything lies inside the figure: measured on the
    rendered extents."""
    renderer = figure.canvas.get_renderer()
    texts = {gid: t.get_window_extent(renderer) for gid, t in artists(figure, "label:").items()
             if t.get_text()}
    shapes = {gid: p.get_window_extent(renderer)
              for gid, p in {**artists(figure, "node:"), **artists(figure, "indicator:")}.items()}
    assert len(texts) > 5
    for (first, a), (second, b) in itertools.combinations(texts.items(), 2):
        assert not overlap(a, b), f"{what}: {first} overlaps {second}"
    arrow_labels = {g: box for g, box in texts.items()
                    if g.split(":")[1] in ("path", "loading", "covariance")}
    for (label, a), (shape, b) in itertools.product(arrow_labels.items(), shapes.items()):
        assert not overlap(a, b), f"{what}: {label} covers {shape}"
    for (first, a), (second, b) in itertools.combinations(shapes.items(), 2):
        assert not overlap(a, b), f"{what}: {first} overlaps {second}"
    courses = arrow_courses(figure)
    assert courses
    for (label, box), (arrow, polygons) in itertools.product(texts.items(), courses.items()):
        assert not any(hits(box, polygon) for polygon in polygons), \
            f"{what}: {arrow} runs through {label}"
    inside = figure.bbox
    for gid, box in {**texts, **shapes}.items():
        assert (box.x0 >= inside.x0 and box.y0 >= inside.y0 and box.x1 <= inside.x1
                and box.y1 <= inside.y1), f"{what}: {gid} leaves the figure"


@pytest.mark.parametrize("indicators", [True, False])
@pytest.mark.parametrize("model", MODELS)
def test_no_label_overlaps_another_or_leaves_the_figure(pls_fits, model, indicators) -> None:
    figure = draw_diagram(pls_fits[model], indicators=indicators)
    assert_nothing_overlaps(figure, model)
    plt.close(figure)


def test_factor_covariances_are_labelled_double_arrows(root) -> None:
    result = acsi_sem.fit(root / "tests/fixtures/models/hs_cfa.lav",
                          root / "tests/fixtures/data/holzinger1939.csv")
    figure = draw_diagram(result)
    assert_nothing_overlaps(figure, "hs_cfa")
    labels = {gid: t.get_text() for gid, t in artists(figure, "label:covariance:").items()}
    row = result.parameters.query("lhs == 'visual' and op == '~~' and rhs == 'textual'")
    assert labels["label:covariance:visual->textual"] == expected_label(
        row["std_all"].iloc[0], row["pvalue"].iloc[0])
    assert len(labels) == 3
    plt.close(figure)


def node_centres(figure) -> dict:
    return {gid.split(":")[1]: patch.center for gid, patch in artists(figure, "node:").items()}


@pytest.mark.parametrize("model", MODELS)
def test_causal_layout_gives_each_step_a_column(pls_fits, model) -> None:
    result = pls_fits[model]
    figure = draw_diagram(result, indicators=False, layout="causal")
    centre = node_centres(figure)
    for outcome, predictor in result.spec.structural_paths:
        assert centre[predictor][0] < centre[outcome][0], (predictor, outcome)
    exogenous = result.spec.latent[0]
    assert causal_layers(result.spec)[exogenous] == 0
    assert min(centre, key=lambda n: centre[n][0]) == exogenous
    assert max(centre, key=lambda n: centre[n][0]) == "Loyalty"
    plt.close(figure)


@pytest.mark.parametrize("layout", [None, "auto"])
@pytest.mark.parametrize("indicators", [True, False])
@pytest.mark.parametrize("model", MODELS)
def test_layouts_keep_a_page_aspect_and_no_arrow_points_left(pls_fits, model, indicators,
                                                            layout) -> None:
    """The shipped models' declared layouts and the automatic one: width / height between
    1.1 and 2.0 (the causal layout of the ECSI was 2.4), nothing overlapping, and in the
    automatic layout every arrow left to right or vertical."""
    result = pls_fits[model]
    figure = draw_diagram(result, indicators=indicators, layout=layout)
    width, height = figure.get_size_inches()
    assert 1.1 <= width / height <= 2.0, (model, width, height)
    centre = node_centres(figure)
    for outcome, predictor in result.spec.structural_paths:
        assert layout is None or centre[predictor][0] <= centre[outcome][0] + 1e-9, \
            (predictor, outcome)
    assert_nothing_overlaps(figure, f"{model} {layout}")
    plt.close(figure)


def test_the_acsi_is_drawn_as_its_model_file_declares(pls_fits) -> None:
    """Expectation above Quality on the left, Value between them to the right,
    Satisfaction right of Value on its row, Complaints above Loyalty on the right; Value's
    items stacked on its left, Satisfaction's below it."""
    figure = draw_diagram(pls_fits["acsi"])
    centre = node_centres(figure)
    x = {name: point[0] for name, point in centre.items()}
    y = {name: point[1] for name, point in centre.items()}
    assert x["Expectation"] == x["Quality"] < x["Value"] < x["Satisfaction"] < x["Loyalty"]
    assert x["Complaints"] == x["Loyalty"]
    assert y["Expectation"] > y["Value"] == y["Satisfaction"] == y["Loyalty"] > y["Quality"]
    assert y["Complaints"] > y["Loyalty"]
    boxes = {gid.split(":")[1]: patch.get_center()
             for gid, patch in artists(figure, "indicator:").items()}
    assert boxes["PERV1"][0] == pytest.approx(boxes["PERV2"][0], abs=0.01)
    assert boxes["PERV1"][0] < x["Value"]
    assert boxes["PERV1"][1] > y["Value"] > boxes["PERV2"][1]
    assert all(boxes[item][1] < y["Satisfaction"] for item in ("CUSA1", "CUSA2", "CUSA3"))
    assert all(boxes[item][1] > y["Expectation"] for item in ("CUEX1", "CUEX2", "CUEX3"))
    plt.close(figure)


def test_a_layout_given_in_python_places_the_constructs(pls_fits) -> None:
    from acsi_sem.model.modelfile import Position

    layout = {"Expectation": Position(0, 1), "Quality": Position(1, 0, "above"),
              "Value": Position(2, 1, "right"), "Satisfaction": Position(1, 2, "below"),
              "Complaints": Position(3, 0), "Loyalty": Position(3, 2)}
    figure = draw_diagram(pls_fits["acsi"], layout=layout)
    centre = node_centres(figure)
    assert centre["Quality"][0] == centre["Satisfaction"][0]
    assert centre["Quality"][1] > centre["Expectation"][1] > centre["Satisfaction"][1]
    boxes = {gid.split(":")[1]: patch.get_center()
             for gid, patch in artists(figure, "indicator:").items()}
    assert boxes["PERV1"][0] > centre["Value"][0]
    plt.close(figure)


def test_unknown_layout_or_style_is_refused(pls_fits) -> None:
    with pytest.raises(acsi_sem.AcsiSemError, match="unknown layout 'grid'"):
        draw_diagram(pls_fits["acsi"], layout="grid")
    with pytest.raises(acsi_sem.AcsiSemError, match="unknown diagram style 'colour'"):
        draw_diagram(pls_fits["acsi"], style="colour")


def colours(figure) -> list[tuple[float, float, float]]:
    """RGB of every face, edge and text colour drawn (fully transparent ones left out)."""
    from matplotlib.colors import to_rgba

    axes = figure.axes[0]
    found = [to_rgba(c) for p in axes.patches for c in (p.get_facecolor(), p.get_edgecolor())]
    found += [to_rgba(t.get_color()) for t in axes.texts]
    return [rgba[:3] for rgba in found if rgba[3] > 0]


@pytest.mark.parametrize("style", ["default", "journal"])
def test_every_colour_is_a_grey_so_the_diagram_prints_in_black_and_white(pls_fits,
                                                                        style) -> None:
    figure = draw_diagram(pls_fits["ecsi"], style=style)
    for red, green, blue in colours(figure):
        assert red == pytest.approx(green) == pytest.approx(blue)
    arrows = artists(figure, "edge:")
    assert {a.get_linestyle() for a in arrows.values()} == {"-"}
    plt.close(figure)


def test_journal_style_is_black_on_white_in_a_serif_font(pls_fits) -> None:
    from matplotlib.colors import to_rgb

    figure = draw_diagram(pls_fits["acsi"], style="journal")
    axes = figure.axes[0]
    assert {to_rgb(p.get_facecolor()) for p in axes.patches
            if not (p.get_gid() or "").startswith("edge:")} == {(1.0, 1.0, 1.0)}
    assert {to_rgb(p.get_edgecolor()) for p in axes.patches} == {(0.0, 0.0, 0.0)}
    assert {t.get_fontfamily()[0] for t in axes.texts} == {"serif"}
    assert_nothing_overlaps(figure, "journal")
    plt.close(figure)


def test_loadings_and_paths_are_written_horizontally(pls_fits) -> None:
    figure = draw_diagram(pls_fits["ecsi"])
    labels = artists(figure, "label:")
    assert any(gid.startswith("label:loading:") for gid in labels)
    assert {text.get_rotation() for text in labels.values()} == {0.0}
    plt.close(figure)


def test_acsi_layers_are_longest_paths(pls_fits) -> None:
    assert causal_layers(pls_fits["acsi"].spec) == {
        "Expectation": 0, "Quality": 1, "Value": 2, "Satisfaction": 3, "Complaints": 4,
        "Loyalty": 5}


def test_arrows_carry_standardized_estimates_with_stars(pls_fits) -> None:
    result = pls_fits["ecsi"]
    figure = draw_diagram(result)
    labels = {gid: t.get_text() for gid, t in artists(figure, "label:").items()}
    rows = result.parameters[result.parameters["op"].isin(["~", "=~"])]
    for row in rows.itertuples():
        kind, source, target = (("path", row.rhs, row.lhs) if row.op == "~"
                                else ("loading", row.lhs, row.rhs))
        assert labels[f"label:{kind}:{source}->{target}"] == expected_label(row.std_all,
                                                                            row.pvalue)
    # Known values on mobi: a strong, a weak and a middling path.
    assert labels["label:path:Satisfaction->Loyalty"].startswith("0.49")
    assert labels["label:path:Expectation->Value"] == "0.05"
    assert labels["label:path:Image->Loyalty"].endswith("*")
    plt.close(figure)


def test_r_squared_is_inside_the_endogenous_ellipses(pls_fits) -> None:
    result = pls_fits["ecsi"]
    figure = draw_diagram(result, indicators=False)
    renderer = figure.canvas.get_renderer()
    texts = artists(figure, "label:node:")
    for name, value in result.r2.items():
        text = texts[f"label:node:{name}"]
        assert f"R² = {value:.2f}" in text.get_text()
        ellipse = artists(figure, f"node:{name}")[f"node:{name}"]
        inner, outer = text.get_window_extent(renderer), ellipse.get_window_extent(renderer)
        assert outer.x0 < inner.x0 and inner.x1 < outer.x1
        assert outer.y0 < inner.y0 and inner.y1 < outer.y1
    assert "R²" not in texts["label:node:Image"].get_text()  # exogenous: no R²
    plt.close(figure)


def test_ml_labels_use_ml_p_values(acsi_ml) -> None:
    figure = draw_diagram(acsi_ml, indicators=False)
    labels = {gid: t.get_text() for gid, t in artists(figure, "label:path:").items()}
    paths = acsi_ml.parameters[acsi_ml.parameters["op"] == "~"]
    assert len(labels) == len(paths) == 9
    for row in paths.itertuples():
        assert labels[f"label:path:{row.rhs}->{row.lhs}"] == expected_label(row.std_all,
                                                                             row.pvalue)
    plt.close(figure)


def test_hiding_indicators_draws_only_constructs(pls_fits) -> None:
    result = pls_fits["acsi"]
    shown, hidden = draw_diagram(result), draw_diagram(result, indicators=False)
    assert len(artists(shown, "indicator:")) == len(result.spec.observed) == 14
    assert artists(hidden, "indicator:") == {}
    assert len(artists(hidden, "node:")) == 6
    assert hidden.get_size_inches()[1] < shown.get_size_inches()[1]
    plt.close("all")


def test_stars_and_labels_at_the_thresholds() -> None:
    assert [significance_stars(p) for p in (0.0009, 0.001, 0.0099, 0.01, 0.049, 0.05)] == \
        ["***", "**", "**", "*", "*", ""]
    assert significance_stars(np.nan) == ""
    assert estimate_label(-0.1234, 0.002) == "-0.12**"
    assert estimate_label(np.nan, 0.5) == "NA"


def test_chinese_labels_fall_back_to_names_without_a_cjk_font(pls_fits, monkeypatch) -> None:
    monkeypatch.setattr(diagram, "find_cjk_font", lambda: None)
    with pytest.warns(UserWarning, match="fonts-noto-cjk"):
        figure = draw_diagram(pls_fits["ccsi"], indicators=False)
    texts = [t.get_text() for t in artists(figure, "label:node:").values()]
    assert any(t.startswith("BrandImage") for t in texts)
    assert all(t.isascii() or "R²" in t for t in texts)
    assert all(ch.isascii() or ch == "²" for t in texts for ch in t)
    plt.close(figure)


def test_chinese_labels_render_with_a_cjk_font(pls_fits) -> None:
    font = find_cjk_font()
    if font is None:
        pytest.skip("no CJK font installed (Debian: apt-get install fonts-noto-cjk)")
    from matplotlib import font_manager
    from matplotlib.ft2font import FT2Font

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # neither our fallback note nor a missing glyph
        figure = draw_diagram(pls_fits["ccsi"], indicators=False)
        figure.canvas.draw()
    text = artists(figure, "label:node:")["label:node:Satisfaction"]
    assert text.get_text().startswith("顾客满意度")
    path = font_manager.findfont(text.get_fontproperties(), fallback_to_default=False)
    charmap = FT2Font(path).get_charmap()
    assert all(ord(ch) in charmap for ch in "顾客满意度品牌形象")
    plt.close(figure)


def test_labels_argument_overrides_the_model_file(pls_fits) -> None:
    figure = draw_diagram(pls_fits["acsi"], indicators=False,
                          labels={"Satisfaction": "Customer satisfaction"})
    text = artists(figure, "label:node:Satisfaction")["label:node:Satisfaction"].get_text()
    assert text.startswith("Customer satisfaction\nR² = ")
    plt.close(figure)


def test_svg_png_and_pdf_are_written(pls_fits, tmp_path) -> None:
    figure = draw_diagram(pls_fits["acsi"])
    paths = save_diagram(figure, str(tmp_path / "acsi"))
    assert [p.rsplit(".", 1)[1] for p in paths] == ["svg", "png", "pdf"]
    svg = (tmp_path / "acsi.svg").read_text()
    assert 'id="node:Satisfaction"' in svg and 'id="label:path:Value-&gt;Satisfaction"' in svg
    assert (tmp_path / "acsi.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (tmp_path / "acsi.pdf").read_bytes()[:5] == b"%PDF-"
    plt.close(figure)


def test_dot_text_has_layers_shapes_and_labels(pls_fits) -> None:
    result = pls_fits["ecsi"]
    dot = diagram_dot(result)
    assert dot.startswith('digraph "ecsi" {') and "rankdir=LR;" in dot
    assert '"Image" [shape=ellipse, label="Image"];' in dot
    assert f'"Satisfaction" [shape=ellipse, label="Satisfaction\\nR² = ' \
           f'{result.r2["Satisfaction"]:.2f}"];' in dot
    assert '"PERQ7" [shape=box];' in dot
    assert "{ rank=same; \"Loyalty\"; }" in dot
    row = result.parameters.query("lhs == 'Loyalty' and op == '~' and rhs == 'Satisfaction'")
    label = expected_label(row["std_all"].iloc[0], row["pvalue"].iloc[0])
    assert f'"Satisfaction" -> "Loyalty" [label="{label}"];' in dot
    assert dot.count(" -> ") == 12 + 24
    assert diagram_dot(result, indicators=False).count(" -> ") == 12
    assert "顾客满意度" in diagram_dot(pls_fits["ccsi"])


def test_result_plot_returns_the_diagram(pls_fits) -> None:
    from matplotlib.figure import Figure

    figure = pls_fits["acsi"].plot(indicators=False, title="")
    assert isinstance(figure, Figure)
    assert len(artists(figure, "node:")) == 6
    assert artists(figure, "label:title")["label:title"].get_text() == ""
    plt.close(figure)


def test_importing_the_package_does_not_import_matplotlib() -> None:
    import subprocess
    import sys

    code = "import sys, acsi_sem; print('matplotlib' in sys.modules)"
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True, cwd=ROOT)
    assert output.stdout.strip() == "False"


def test_a_multi_group_diagram_centres_each_construct_over_its_items(root) -> None:
    """A multi-group spec lists every item once per group: each box is drawn once, under
    or beside its own construct, and nothing overlaps."""
    result = acsi_sem.fit(root / "tests/fixtures/models/hs_cfa.lav",
                          root / "tests/fixtures/data/holzinger1939.csv", group="school")
    figure = draw_diagram(result)
    assert_nothing_overlaps(figure, "groups")
    boxes = {gid.split(":")[1]: patch.get_center()
             for gid, patch in artists(figure, "indicator:").items()}
    assert len(boxes) == 9
    centre = node_centres(figure)
    for factor, items in (("visual", "x1 x2 x3"), ("textual", "x4 x5 x6")):
        xs = [boxes[item][0] for item in items.split()]
        assert np.mean(xs) == pytest.approx(centre[factor][0], abs=0.01)
    plt.close(figure)


def test_a_second_order_construct_points_at_its_constructs(root) -> None:
    """Second-order: the first-order constructs are ellipses the higher one points at (a
    column to its right), not indicator boxes; its loadings are labelled arrows."""
    text = ("quality =~ x1 + x2 + x3\nspeed =~ x7 + x8 + x9\ntextual =~ x4 + x5 + x6\n"
            "general =~ quality + speed + textual\n")
    result = acsi_sem.fit(text, root / "tests/fixtures/data/holzinger1939.csv")
    for indicators in (True, False):
        figure = draw_diagram(result, indicators=indicators)
        assert_nothing_overlaps(figure, "second order")
        centre = node_centres(figure)
        assert set(centre) == {"general", "quality", "speed", "textual"}
        assert all(centre["general"][0] < centre[name][0]
                   for name in ("quality", "speed", "textual"))
        labels = artists(figure, "label:path:general->")
        assert len(labels) == 3
        assert not artists(figure, "indicator:quality")
        plt.close(figure)


def test_deep_models_try_only_even_merges_of_their_steps() -> None:
    """Every merge of 7 causal steps is tried (2**7), a chain of 12 only the even ones (one
    per number of columns), so its layout takes a moment, not minutes."""
    from acsi_sem.report.diagram_layout import MAX_MERGED_DEPTH, _merged_columns

    short = {f"F{k}": k for k in range(MAX_MERGED_DEPTH + 1)}
    deep = {f"F{k}": k for k in range(12)}
    assert len(_merged_columns(short)) == 2 ** MAX_MERGED_DEPTH
    merged = _merged_columns(deep)
    assert len(merged) == 11
    for columns in merged:
        steps = [columns[f"F{k}"] for k in range(12)]
        assert steps == sorted(steps) and steps[0] == 0


def test_a_layout_in_python_must_place_each_construct_once(pls_fits) -> None:
    from acsi_sem.model.modelfile import Position

    layout = {"Expectation": Position(0, 0), "Quality": Position(0, 0),
              "Value": Position(1, 1), "Satisfaction": Position(2, 1),
              "Complaints": Position(3, 0)}
    with pytest.raises(acsi_sem.AcsiSemError, match=r"missing \['Loyalty'\].*two at one"):
        draw_diagram(pls_fits["acsi"], layout=layout)
