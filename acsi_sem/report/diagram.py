"""Path diagrams drawn with matplotlib alone, and DOT text for Graphviz users.

Where things go is :mod:`acsi_sem.report.diagram_layout`'s job (a model file's declared
``# layout:``, or an automatic one); this module draws: shapes, arrows, and each arrow's label
beside it, clear of every line, shape and other label. Data coordinates are inches (the axes
fill the figure at one unit per inch), so sizes in points convert with a factor 72 and a
layout means the same on screen and on paper.

Each drawn element carries a ``gid`` (``node:NAME``, ``indicator:NAME``, ``label:...``) that
tests and the SVG output use to find it.
"""

from __future__ import annotations

import itertools
import math
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from acsi_sem.model.modelfile import Position
from acsi_sem.model.spec import ModelSpec
from acsi_sem.report.diagram_layout import (
    MARGIN,
    Fonts,
    Layout,
    causal_layers,
    compute_layout,
    segment_hits_box,
)
from acsi_sem.report.labels import model_labels

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from acsi_sem.results import FitResult

# Fonts that cover simplified Chinese, in order of preference (Debian, macOS, Windows).
CJK_FONT_NAMES = ("Noto Sans CJK SC", "Noto Sans CJK JP", "Noto Sans CJK", "Noto Serif CJK SC",
                  "Source Han Sans SC", "Source Han Sans CN", "WenQuanYi Zen Hei",
                  "WenQuanYi Micro Hei", "Droid Sans Fallback", "AR PL UMing CN",
                  "PingFang SC", "Hiragino Sans GB", "Microsoft YaHei", "SimHei")
ARC_REFERENCE = 2.5       # inches: a covariance arc this long leaves at 30 degrees
TEXT_SCALES = (1.0, 1.15, 1.3, 1.5, 1.75, 2.0, 2.3, 2.6, 3.0)  # tried by draw_diagram(width=)
LABEL_GAP = 0.035         # inches between a label and the line it belongs to


@dataclass(frozen=True)
class Style:
    """Colours, line widths and font of a diagram; every colour is a grey level (or white),
    so the diagram prints the same in black and white."""

    node_fill: str
    node_edge: str
    box_fill: str
    box_edge: str
    line: str
    text: str
    family: str | None


STYLES = {
    "default": Style(node_fill="#e8e8e8", node_edge="#1a1a1a", box_fill="white",
                     box_edge="#4d4d4d", line="#262626", text="black", family=None),
    "journal": Style(node_fill="white", node_edge="black", box_fill="white",
                     box_edge="black", line="black", text="black", family="serif"),
}


@dataclass(frozen=True)
class Edge:
    """One arrow: ``source -> target`` with its label (standardized estimate and stars)."""

    source: str
    target: str
    label: str
    kind: str  # "path", "loading", "weight" or "covariance"


# ----------------------------------------------------------------------------- labels

def significance_stars(pvalue: float) -> str:
    """``***`` for p < .001, ``**`` for p < .01, ``*`` for p < .05, else (or no p) ``""``."""
    if pvalue is None or not np.isfinite(pvalue):
        return ""
    return "***" if pvalue < 0.001 else "**" if pvalue < 0.01 else "*" if pvalue < 0.05 else ""


def estimate_label(std_all: float, pvalue: float) -> str:
    """The text on an arrow: the standardized estimate to two decimals and its stars."""
    if std_all is None or not np.isfinite(std_all):
        return "NA"
    return f"{std_all:.2f}{significance_stars(pvalue)}"


def find_cjk_font() -> str | None:
    """The family name of an installed font that covers Chinese, or ``None``."""
    from matplotlib import font_manager

    installed = {entry.name for entry in font_manager.fontManager.ttflist}
    for name in CJK_FONT_NAMES:
        if name in installed:
            return name
    return next((name for name in sorted(installed) if "CJK" in name), None)


def _needs_cjk(text: str) -> bool:
    return any(ord(character) > 0x2E7F for character in text)


def display_labels(spec: ModelSpec, labels: dict[str, str] | None
                   ) -> tuple[dict[str, str], str | None, str | None]:
    """Names to draw for the constructs, the font family for them, and a note.

    Labels that need a CJK font are used only when one is installed; otherwise the model's
    own (ASCII) names are drawn and the note says why, so no glyph is ever missing.

    Returns:
        ``({name: shown text}, font family or None for the default, note or None)``.
    """
    labels = {name: text for name, text in (labels or {}).items() if text}
    if not any(_needs_cjk(text) for text in labels.values()):
        return labels, None, None
    font = find_cjk_font()
    if font is not None:
        return labels, font, None
    plain = {name: text for name, text in labels.items() if not _needs_cjk(text)}
    note = ("no font with Chinese characters is installed (e.g. Debian: apt-get install "
            "fonts-noto-cjk), so the diagram shows the model's own names instead of the "
            "Chinese labels")
    return plain, None, note


def _node_text(name: str, shown: dict[str, str], r2: pd.Series) -> str:
    text = shown.get(name, name)
    if name in r2.index and np.isfinite(r2[name]):
        text += f"\nR² = {r2[name]:.2f}"
    return text


def group_estimates(result: FitResult, group: str | None = None
                    ) -> tuple[pd.DataFrame, pd.Series, str | None]:
    """The parameters and R² of one group of a multi-group fit (the first by default), or
    of the whole fit when it has no groups; and the group's label (None without groups).

    Raises:
        AcsiSemError: ``group`` names no group of the fit.
    """
    if result.groups is None:
        return result.parameters, result.r2, None
    labels = [str(label) for label in result.groups["labels"]]
    label = labels[0] if group is None else str(group)
    if label not in labels:
        from acsi_sem.errors import AcsiSemError

        raise AcsiSemError(f"no group {label!r} in this fit; its groups are: "
                           f"{', '.join(labels)}")
    original = result.groups["labels"][labels.index(label)]  # r2's index keeps its type
    parameters = result.parameters
    return (parameters[parameters["group"].astype(str) == label],
            result.r2.loc[original], label)


def diagram_edges(result: FitResult, *, indicators: bool = True,
                  group: str | None = None) -> list[Edge]:
    """Arrows of the diagram with their labels, read from ``result.parameters`` (of
    ``group`` in a multi-group fit, the first group by default)."""
    parameters = group_estimates(result, group)[0]
    edges = []
    for row in parameters.itertuples(index=False):
        label = estimate_label(row.std_all, row.pvalue)
        if row.op == "~":
            edges.append(Edge(row.rhs, row.lhs, label, "path"))
        elif row.op == "=~" and row.rhs in result.spec.latent:
            # A higher-order construct's loading on a construct: an arrow between them.
            edges.append(Edge(row.lhs, row.rhs, label, "path"))
        elif row.op == "=~" and indicators:
            edges.append(Edge(row.lhs, row.rhs, label, "loading"))
        elif row.op == "<~" and indicators:
            edges.append(Edge(row.rhs, row.lhs, label, "weight"))
        elif (row.op == "~~" and row.lhs != row.rhs and row.lhs in result.spec.latent
              and row.rhs in result.spec.latent):
            edges.append(Edge(row.lhs, row.rhs, label, "covariance"))
    return edges


# ----------------------------------------------------------------------------- drawing

def model_layout(result: FitResult) -> str | dict[str, Position] | None:
    """The layout declared in the model file's ``# layout:`` header, if any.

    Raises:
        ModelSyntaxError: the declaration cannot be read (naming the file and line).
    """
    from acsi_sem.errors import AcsiSemError
    from acsi_sem.model.modelfile import load_model_file

    try:
        model_file = load_model_file(result.spec.source)
    except (AcsiSemError, OSError):
        return None
    return model_file.layout


def _boundary_point(layout: Layout, name: str, towards: tuple[float, float]
                    ) -> np.ndarray:
    """Where the ray from ``name``'s centre towards ``towards`` leaves its shape."""
    centre = np.array(layout.centres[name])
    direction = np.array(towards) - centre
    length = float(np.hypot(*direction))
    half_w, half_h = layout.sizes[name][0] / 2, layout.sizes[name][1] / 2
    dx, dy = direction / length if length > 1e-9 else (1.0, 0.0)
    if layout.shapes[name] == "ellipse":
        reach = 1.0 / math.sqrt((dx / half_w) ** 2 + (dy / half_h) ** 2)
    else:
        reach = min(half_w / abs(dx) if dx else math.inf, half_h / abs(dy) if dy else math.inf)
    return centre + reach * np.array([dx, dy])


@dataclass(frozen=True)
class _DrawnArrow:
    """An arrow as drawn: its edge and its course (``(k, 2)`` points in inches)."""

    edge: Edge
    course: np.ndarray


def draw_diagram(result: FitResult, *, indicators: bool = True,
                 labels: dict[str, str] | None = None, title: str | None = None,
                 group: str | None = None, layout: str | dict[str, Position] | None = None,
                 style: str = "default", width: str | float | None = None) -> Figure:
    """The path diagram of a fitted model as a matplotlib Figure.

    Constructs are ellipses (with R² inside the endogenous ones), indicators boxes; arrows
    carry standardized estimates (``std_all``) with stars for p < .05, .01, .001 (no stars
    without p-values, e.g. PLS without a bootstrap), set beside the arrow, clear of lines and
    other labels where room allows.

    Args:
        result: the fit.
        indicators: draw the indicators and their loadings (or formative weights).
        labels: ``{construct: shown name}``; default: the model file's ``# labels:``.
            Labels needing a CJK font fall back to the model's names (with a
            ``UserWarning``) when no such font is installed.
        title: text above the diagram; default the model title and estimator (and group).
        group: in a multi-group fit, the group whose estimates are drawn (default: first).
        layout: ``"auto"``, ``"causal"`` or ``{construct: Position}``; default: the model
            file's ``# layout:`` (the shipped models draw as their papers do), else auto.
        style: ``"default"`` (grey fills) or ``"journal"`` (black and white, serif, no fills).
        width: for print: ``"column"`` (85 mm), ``"page"`` (175 mm) or millimetres. The
            text is set larger before the diagram is scaled down to the width, as far as
            needed for its smallest text to print at 6 pt clear of the other texts (up to
            three times the screen sizes); where no scale gets there the screen sizes are
            scaled down (see README: the constructs-only diagrams of the shipped models
            print at 6 pt or more across a page).
            Default: the natural size (about 10 inches wide for the shipped models).

    Returns:
        A Figure sized in inches to its content; ``fig.savefig("d.svg")`` (or .png, .pdf).
    """
    if style not in STYLES:
        from acsi_sem.errors import AcsiSemError

        raise AcsiSemError(f"unknown diagram style {style!r}; choose one of "
                           f"{', '.join(STYLES)}")
    shown, family, note = display_labels(result.spec, labels if labels is not None
                                         else model_labels(result))
    if note:
        warnings.warn(note, UserWarning, stacklevel=2)
    placement = layout if layout is not None else model_layout(result) or "auto"
    options = {"indicators": indicators, "shown": shown, "family": family, "title": title,
               "group": group, "placement": placement, "look": STYLES[style]}
    if width is None:
        return _draw(result, fonts=Fonts(), **options)
    return _draw_for_print(result, width, options)


def _draw_for_print(result: FitResult, width: str | float, options: dict) -> Figure:
    """The diagram at ``width``, drawn at the first text scale of TEXT_SCALES whose
    smallest text prints at MIN_POINTS with no text on another once the drawing is
    scaled to the width; failing that, at the scale whose smallest text is largest."""
    import matplotlib.pyplot as plt

    from acsi_sem.report.print_size import MIN_POINTS, for_print, print_problems, smallest_text

    best, best_points = None, 0.0
    for scale in TEXT_SCALES:
        figure = for_print(_draw(result, fonts=Fonts().scaled(scale), **options), width)
        points = smallest_text(figure)
        if not any("overlaps" in problem or "leaves" in problem
                   for problem in print_problems(figure)) and points > best_points:
            if best is not None:
                plt.close(best)
            best, best_points = figure, points
            if points >= MIN_POINTS:
                break
        else:
            plt.close(figure)
    if best is None:
        best, best_points = for_print(_draw(result, fonts=Fonts(), **options), width), 0.0
    if best_points < MIN_POINTS:
        warnings.warn(f"at this width the diagram's smallest text prints at "
                      f"{smallest_text(best):.1f} pt (journals ask for {MIN_POINTS:g}); draw the "
                      "constructs only (indicators=False) or give it a wider page",
                      UserWarning, stacklevel=3)
    return best


def _draw(result: FitResult, *, indicators: bool, shown: dict[str, str], family: str | None,
          title: str | None, group: str | None, placement, look: Style, fonts: Fonts
          ) -> Figure:
    import matplotlib.pyplot as plt

    _, r2, label = group_estimates(result, group)
    layers = causal_layers(result.spec)
    texts = {name: _node_text(name, shown, r2) for name in layers}
    node_family = family or look.family
    placed = compute_layout(result.spec, texts, indicators=indicators, family=node_family,
                            placement=placement, fonts=fonts)
    figure = plt.figure(figsize=(4, 3))
    axes = figure.add_axes((0, 0, 1, 1))
    axes.set_axis_off()
    _draw_nodes(axes, placed, texts, look, node_family)
    _set_limits(figure, axes, placed)
    arrows = [_draw_arrow(axes, placed, edge, look)
              for edge in diagram_edges(result, indicators=indicators, group=label)
              if edge.source in placed.centres and edge.target in placed.centres]
    _label_arrows(axes, arrows, look, fonts)
    caption = title if title is not None else f"{result.title}: {result.estimator}" + (
        f", group {label}" if label is not None else "")
    axes.text(0, 0, caption, fontsize=fonts.node + 1, ha="left", va="bottom",
              gid="label:title", family=node_family, color=look.text)
    _fit_to_content(figure, axes, figure.canvas.get_renderer())
    return figure


def _draw_nodes(axes, layout: Layout, texts: dict[str, str], look: Style,
                family: str | None) -> None:
    from matplotlib.patches import Ellipse, Rectangle

    for name, (cx, cy) in layout.centres.items():
        width, height = layout.sizes[name]
        is_node = name in layout.layers
        if layout.shapes[name] == "ellipse":
            patch = Ellipse((cx, cy), width, height, facecolor=look.node_fill,
                            edgecolor=look.node_edge, linewidth=1.3)
        else:
            patch = Rectangle((cx - width / 2, cy - height / 2), width, height,
                              facecolor=look.box_fill if not is_node else look.node_fill,
                              edgecolor=look.box_edge, linewidth=0.9)
        kind = "node" if is_node else "indicator"
        patch.set_gid(f"{kind}:{name}")
        axes.add_patch(patch)
        axes.text(cx, cy, texts[name] if is_node else name, ha="center", va="center",
                  fontsize=layout.fonts.node if is_node else layout.fonts.indicator,
                  family=family if is_node else look.family, color=look.text,
                  gid=f"label:{kind}:{name}", linespacing=1.25)


def _covariance_arc(layout: Layout, edge: Edge) -> tuple[np.ndarray, np.ndarray, float]:
    """Ends and ``arc3`` curvature of a covariance. Between constructs stacked in one
    column it leaves and enters their right-hand sides and bulges right; between
    constructs on one row it leaves their tops (bottoms, if their indicators sit above)
    and bulges that way; either way further the longer it is, so it passes the
    constructs in between."""
    (x1, y1), (x2, y2) = layout.centres[edge.source], layout.centres[edge.target]
    same_column, same_row = abs(x1 - x2) < 1e-6, abs(y1 - y2) < 1e-6
    if not (same_column or same_row):
        start = _boundary_point(layout, edge.source, (x2, y2))
        end = _boundary_point(layout, edge.target, (x1, y1))
        return start, end, 0.3
    if same_column:
        start = np.array([x1 + layout.sizes[edge.source][0] / 2, y1])
        end = np.array([x2 + layout.sizes[edge.target][0] / 2, y2])
        chord, turn = abs(y2 - y1), (1 if y2 > y1 else -1)
    else:
        up = 1 if "above" not in (layout.indicator_side.get(edge.source),
                                  layout.indicator_side.get(edge.target)) else -1
        chord, toward = abs(x2 - x1), (1 if x2 > x1 else -1)
        # Short arcs leave nearer the partner's side, long ones nearer the top, so the
        # arcs of one construct fan out instead of sharing a point.
        angle = math.radians(90 - 60 * min(1.0, ARC_REFERENCE / chord))
        (w1, h1), (w2, h2) = layout.sizes[edge.source], layout.sizes[edge.target]
        start = np.array([x1 + toward * w1 / 2 * math.cos(angle),
                          y1 + up * h1 / 2 * math.sin(angle)])
        end = np.array([x2 - toward * w2 / 2 * math.cos(angle),
                        y2 + up * h2 / 2 * math.sin(angle)])
        turn = -up * toward
    bulge = 0.3 + 0.12 * chord
    # matplotlib's arc3 puts the control point at mid + rad * (dy, -dx); the curve's
    # farthest point is half-way there.
    return start, end, 2 * bulge / chord * turn


def _arc_course(start: np.ndarray, end: np.ndarray, rad: float, points: int = 17
                ) -> np.ndarray:
    """Points along matplotlib's ``arc3`` curve (a quadratic Bezier), ``(points, 2)``."""
    delta = end - start
    control = (start + end) / 2 + rad * np.array([delta[1], -delta[0]])
    t = np.linspace(0.0, 1.0, points)[:, None]
    return (1 - t) ** 2 * start + 2 * t * (1 - t) * control + t ** 2 * end


def _draw_arrow(axes, layout: Layout, edge: Edge, look: Style) -> _DrawnArrow:
    from matplotlib.patches import FancyArrowPatch

    if edge.kind == "covariance":
        start, end, rad = _covariance_arc(layout, edge)
    else:
        start = _boundary_point(layout, edge.source, layout.centres[edge.target])
        end = _boundary_point(layout, edge.target, layout.centres[edge.source])
        rad = 0.0
    structural = edge.kind in ("path", "covariance")
    axes.add_patch(FancyArrowPatch(
        tuple(start), tuple(end), arrowstyle="<|-|>" if edge.kind == "covariance" else "-|>",
        mutation_scale=12 if structural else 8, shrinkA=0, shrinkB=1,
        linewidth=1.2 if structural else 0.7, color=look.line,
        linestyle="--" if edge.kind == "covariance" else "-",
        connectionstyle=f"arc3,rad={rad}", gid=f"edge:{edge.source}->{edge.target}"))
    course = _arc_course(start, end, rad) if rad else np.array([start, end])
    return _DrawnArrow(edge, course)


# Where along an arrow its label may go, best first: structural paths near the middle,
# loadings nearer the indicator, where the fan of arrows is widest.
_SHARES = {"path": (0.5, 0.4, 0.6, 0.3, 0.7, 0.22, 0.78, 0.15, 0.85),
           "covariance": (0.5, 0.4, 0.6, 0.3, 0.7),
           "loading": (0.78, 0.66, 0.88, 0.55, 0.45, 0.35),
           "weight": (0.22, 0.34, 0.12, 0.45, 0.55, 0.65)}


def _label_arrows(axes, arrows: list[_DrawnArrow], look: Style, fonts: Fonts) -> None:
    """Set every arrow's label beside it, clear of all lines, shapes and other labels:
    loadings first (they have the least room), then covariances and paths."""
    renderer = axes.figure.canvas.get_renderer()
    to_pixels = axes.transData.transform
    obstacles = [patch.get_window_extent(renderer) for patch in axes.patches
                 if not (patch.get_gid() or "").startswith("edge:")]
    obstacles += [text.get_window_extent(renderer) for text in axes.texts]
    lines = [to_pixels(arrow.course) for arrow in arrows]
    order = sorted(arrows, key=lambda a: a.edge.kind in ("path", "covariance"))
    for arrow in order:
        structural = arrow.edge.kind in ("path", "covariance")
        text = axes.text(0, 0, arrow.edge.label, ha="center", va="center", color=look.text,
                         fontsize=fonts.edge if structural else fonts.loading,
                         family=look.family,
                         gid=f"label:{arrow.edge.kind}:{arrow.edge.source}->"
                             f"{arrow.edge.target}")
        _place_label(text, arrow, renderer, obstacles, lines)


def _along(course: np.ndarray, share: float) -> tuple[np.ndarray, np.ndarray]:
    """The point ``share`` of the way along a course and the unit normal there."""
    steps = np.diff(course, axis=0)
    lengths = np.hypot(steps[:, 0], steps[:, 1])
    where = share * lengths.sum()
    k = min(int(np.searchsorted(np.cumsum(lengths), where)), len(steps) - 1)
    before = lengths[:k].sum()
    point = course[k] + (where - before) / (lengths[k] or 1.0) * steps[k]
    tangent = steps[k] / (lengths[k] or 1.0)
    return point, np.array([-tangent[1], tangent[0]])


def _place_label(text, arrow: _DrawnArrow, renderer, obstacles: list, lines: list) -> None:
    """Move ``text`` to the first spot beside its arrow (on either side, along it) where
    it touches no line, shape or label; failing that, to the least crowded spot."""
    extent = text.get_window_extent(renderer)
    dpi = text.figure.dpi
    width, height = extent.width / dpi, extent.height / dpi   # inches = data units
    to_pixels = text.axes.transData.transform
    best, best_score = None, math.inf
    for clearance in (LABEL_GAP, LABEL_GAP + 0.12):
        for share in _SHARES[arrow.edge.kind]:
            point, normal = _along(arrow.course, share)
            offset = (width * abs(normal[0]) + height * abs(normal[1])) / 2 + clearance
            for sign in (1.0, -1.0):
                spot = point + sign * offset * normal
                centre = to_pixels(spot)
                box = (centre[0] - extent.width / 2 - 1, centre[1] - extent.height / 2 - 1,
                       centre[0] + extent.width / 2 + 1, centre[1] + extent.height / 2 + 1)
                score = _crowding(box, obstacles, lines)
                if score < best_score:
                    best, best_score = spot, score
                if score == 0.0:
                    break
            if best_score == 0.0:
                break
        if best_score == 0.0:
            break
    text.set_position(tuple(best))
    obstacles.append(text.get_window_extent(renderer))


def _crowding(box: tuple, obstacles: list, lines: list) -> float:
    """Lines through the box (a million each) plus its overlap (pixels²) with shapes
    and labels: 0 for a free spot."""
    hits = sum(segment_hits_box(tuple(a), tuple(b), box)
               for course in lines for a, b in itertools.pairwise(course))
    overlap = 0.0
    for other in obstacles:
        width = min(box[2], other.x1) - max(box[0], other.x0)
        height = min(box[3], other.y1) - max(box[1], other.y0)
        if width > 0 and height > 0:
            overlap += width * height
    return 1e6 * hits + overlap


def _set_limits(figure, axes, layout: Layout) -> None:
    """One data unit per inch: limits and figure size from the nodes' extent."""
    left, right, bottom, top = layout.extent
    _set_view(figure, axes, left - MARGIN, right + MARGIN, bottom - MARGIN, top + MARGIN)


def _set_view(figure, axes, left: float, right: float, bottom: float, top: float) -> None:
    figure.set_size_inches(right - left, top - bottom)
    axes.set_xlim(left, right)
    axes.set_ylim(bottom, top)


def _fit_to_content(figure, axes, renderer) -> None:
    """Grow the view so every text and patch lies inside it, the title on top left."""
    inverse = axes.transData.inverted()
    title = next(t for t in axes.texts if t.get_gid() == "label:title")
    extents = [artist.get_window_extent(renderer) for artist in
               [*axes.patches, *axes.texts] if artist is not title]
    corners = inverse.transform(np.array([[e.x0, e.y0] for e in extents] +
                                         [[e.x1, e.y1] for e in extents]))
    left, bottom = corners.min(axis=0) - MARGIN
    right, top = corners.max(axis=0) + MARGIN
    title_height = (title.get_window_extent(renderer).height / figure.dpi
                    if title.get_text() else 0.0)
    title_width = title.get_window_extent(renderer).width / figure.dpi
    right = max(right, left + title_width + 2 * MARGIN)
    title.set_position((left + MARGIN, top + 0.1))
    _set_view(figure, axes, left, right, bottom, top + title_height + 0.2)

# ----------------------------------------------------------------------------- DOT

def _dot_quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def diagram_dot(result: FitResult, *, indicators: bool = True,
                labels: dict[str, str] | None = None, group: str | None = None) -> str:
    """The diagram as Graphviz DOT text (``dot -Tsvg model.dot > model.svg``).

    Constructs are ellipses with R², indicators boxes, one ``rank=same`` group per causal
    column, drawn left to right; labels are used as given (Graphviz picks its own fonts).
    A multi-group fit gives the estimates of ``group`` (default: the first).
    """
    shown = labels if labels is not None else model_labels(result)
    _, r2, label = group_estimates(result, group)
    layers = causal_layers(result.spec)
    lines = [f"digraph {_dot_quote(result.model_name)} {{", "  rankdir=LR;",
             '  node [fontname="Helvetica"]; edge [fontname="Helvetica", fontsize=10];']
    for name in layers:
        shape = "ellipse" if name in result.spec.latent else "box"
        lines.append(f"  {_dot_quote(name)} [shape={shape}, "
                     f"label={_dot_quote(_node_text(name, shown, r2))}];")
    if indicators:
        for items in result.spec.indicators.values():
            lines += [f"  {_dot_quote(item)} [shape=box];" for item in items]
    for column in sorted(set(layers.values())):
        members = "; ".join(_dot_quote(n) for n, c in layers.items() if c == column)
        lines.append(f"  {{ rank=same; {members}; }}")
    for edge in diagram_edges(result, indicators=indicators, group=label):
        extra = ", dir=both, style=dashed, constraint=false" if edge.kind == "covariance" \
            else ""
        lines.append(f"  {_dot_quote(edge.source)} -> {_dot_quote(edge.target)} "
                     f"[label={_dot_quote(edge.label)}{extra}];")
    lines.append("}")
    return "\n".join(lines) + "\n"


def save_diagram(figure: Figure, stem: str, formats: tuple[str, ...] = ("svg", "png", "pdf")
                 ) -> list[str]:
    """Write ``figure`` as ``stem.svg``, ``stem.png`` (150 dpi) and ``stem.pdf``; returns
    the paths written."""
    paths = []
    for extension in formats:
        path = f"{stem}.{extension}"
        figure.savefig(path, dpi=150 if extension == "png" else None)
        paths.append(path)
    return paths

