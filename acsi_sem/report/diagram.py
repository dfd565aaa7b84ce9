"""Path diagrams drawn with matplotlib alone, and DOT text for Graphviz users.

The layout follows the causal order of the structural model: every construct sits in the
column of its longest path from an exogenous construct (exogenous left, loyalty right), and
within the columns the rows are chosen so that no arrow runs through a construct and few
arrows cross. Data coordinates are inches (the axes fill the figure at one unit per inch), so
sizes in points convert with a factor 72 and a layout means the same on screen and on paper.

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

from acsi_sem.model.spec import ModelSpec

if TYPE_CHECKING:
    from matplotlib.figure import Figure
    from matplotlib.transforms import Bbox

    from acsi_sem.results import FitResult

POINTS_PER_INCH = 72.0
NODE_FONT = 10.0          # construct names, points
EDGE_FONT = 8.5           # path labels
INDICATOR_FONT = 7.5      # indicator names and loadings
NODE_HEIGHT = 0.80        # ellipse height, inches
MIN_NODE_WIDTH = 1.35
BOX_HEIGHT = 0.30
BOX_GAP = 0.10            # between neighbouring indicator boxes
TIER_OFFSET = 0.65        # ellipse edge to indicator box edge
COLUMN_GAP = 1.05         # free space between columns for arrows and their labels
MARGIN = 0.25
# Fonts that cover simplified Chinese, in order of preference (Debian, macOS, Windows).
CJK_FONT_NAMES = ("Noto Sans CJK SC", "Noto Sans CJK JP", "Noto Sans CJK", "Noto Serif CJK SC",
                  "Source Han Sans SC", "Source Han Sans CN", "WenQuanYi Zen Hei",
                  "WenQuanYi Micro Hei", "Droid Sans Fallback", "AR PL UMing CN",
                  "PingFang SC", "Hiragino Sans GB", "Microsoft YaHei", "SimHei")


@dataclass(frozen=True)
class Edge:
    """One arrow: ``source -> target`` with its label (standardized estimate and stars)."""

    source: str
    target: str
    label: str
    kind: str  # "path", "loading", "weight" or "covariance"


@dataclass(frozen=True)
class Layout:
    """Where each construct and indicator goes, in inches.

    Attributes:
        layers: causal column of each structural variable (0 for exogenous).
        centres: ``{name: (x, y)}`` centre of every drawn node.
        sizes: ``{name: (width, height)}`` of every drawn node.
        shapes: ``{name: "ellipse" | "box"}``.
        indicator_side: ``{construct: +1 (above) | -1 (below)}`` where its indicators sit.
    """

    layers: dict[str, int]
    centres: dict[str, tuple[float, float]]
    sizes: dict[str, tuple[float, float]]
    shapes: dict[str, str]
    indicator_side: dict[str, int]


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


def model_labels(result: FitResult) -> dict[str, str]:
    """Display labels declared in the model file's ``# labels:`` header, if any."""
    from acsi_sem.errors import AcsiSemError
    from acsi_sem.model.modelfile import load_model_file

    try:
        return load_model_file(result.spec.source).labels
    except (AcsiSemError, OSError):
        return {}


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
        elif row.op == "=~" and indicators:
            edges.append(Edge(row.lhs, row.rhs, label, "loading"))
        elif row.op == "<~" and indicators:
            edges.append(Edge(row.rhs, row.lhs, label, "weight"))
        elif (row.op == "~~" and row.lhs != row.rhs and row.lhs in result.spec.latent
              and row.rhs in result.spec.latent):
            edges.append(Edge(row.lhs, row.rhs, label, "covariance"))
    return edges


# ----------------------------------------------------------------------------- layout

def structural_nodes(spec: ModelSpec) -> list[str]:
    """Constructs and any observed variables in regressions, in order of appearance."""
    names = list(spec.latent)
    for outcome, predictor in spec.structural_paths:
        names += [n for n in (predictor, outcome) if n not in names]
    return names


def causal_layers(spec: ModelSpec) -> dict[str, int]:
    """Column of each structural variable: the length of its longest path from an
    exogenous variable (0). A feedback loop is cut where it closes, so it cannot recurse."""
    predecessors: dict[str, list[str]] = {name: [] for name in structural_nodes(spec)}
    for outcome, predictor in spec.structural_paths:
        predecessors[outcome].append(predictor)
    layers: dict[str, int] = {}

    def depth(name: str, visiting: frozenset[str]) -> int:
        if name not in layers:
            sources = [p for p in predecessors[name] if p not in visiting]
            layers[name] = 1 + max((depth(p, visiting | {name}) for p in sources),
                                   default=-1)
        return layers[name]

    for name in predecessors:
        depth(name, frozenset())
    return layers


def _text_size(text: str, size: float, family: str | None) -> tuple[float, float]:
    """Width and height of ``text`` in inches, measured from the font's outlines."""
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import TextPath

    properties = FontProperties(family=family, size=size) if family else \
        FontProperties(size=size)
    lines = text.split("\n")
    widths = [TextPath((0, 0), line, prop=properties).get_extents().width for line in lines]
    return max(widths) / POINTS_PER_INCH, len(lines) * size * 1.25 / POINTS_PER_INCH


def _node_text(name: str, shown: dict[str, str], r2: pd.Series) -> str:
    text = shown.get(name, name)
    if name in r2.index and np.isfinite(r2[name]):
        text += f"\nR² = {r2[name]:.2f}"
    return text


def _column_positions(layers: dict[str, int], widths: dict[str, float]) -> dict[int, float]:
    """x of each column's centre: columns as wide as their widest member."""
    columns = sorted(set(layers.values()))
    column_width = {c: max(widths[n] for n, layer in layers.items() if layer == c)
                    for c in columns}
    positions, left = {}, 0.0
    for column in columns:
        positions[column] = left + column_width[column] / 2
        left += column_width[column] + COLUMN_GAP
    return positions


def _segment_distance(point: tuple, start: tuple, end: tuple) -> float:
    """Distance from ``point`` to the segment ``start``-``end`` (plain floats: the row
    search calls this tens of thousands of times)."""
    dx, dy = end[0] - start[0], end[1] - start[1]
    length = dx * dx + dy * dy
    share = 0.0 if length < 1e-12 else min(1.0, max(0.0, (
        (point[0] - start[0]) * dx + (point[1] - start[1]) * dy) / length))
    return math.hypot(point[0] - start[0] - share * dx, point[1] - start[1] - share * dy)


def _segments_cross(a: tuple, b: tuple, c: tuple, d: tuple) -> bool:
    """Whether the segments a-b and c-d cross (touching does not count)."""
    def turn(p, q, r) -> int:
        cross = (q[0] - p[0]) * (r[1] - p[1]) - (q[1] - p[1]) * (r[0] - p[0])
        return int(cross > 0) - int(cross < 0)
    return turn(a, b, c) * turn(a, b, d) < 0 and turn(c, d, a) * turn(c, d, b) < 0


def _segment_hits_box(start: tuple, end: tuple, box: tuple) -> bool:
    """Whether the segment meets the rectangle ``(left, bottom, right, top)``
    (Liang-Barsky clipping)."""
    low, high = 0.0, 1.0
    for axis, lower, upper in ((0, box[0], box[2]), (1, box[1], box[3])):
        delta = end[axis] - start[axis]
        if abs(delta) < 1e-12:
            if not lower <= start[axis] <= upper:
                return False
            continue
        entry, leave = sorted(((lower - start[axis]) / delta, (upper - start[axis]) / delta))
        low, high = max(low, entry), min(high, leave)
    return low <= high


@dataclass(frozen=True)
class _Geometry:
    """What the row search needs: x and half sizes of the constructs, the width and
    height of their indicator rows, the arrows and the distance between rows."""

    x: dict[str, float]
    half: dict[str, tuple[float, float]]
    tier_width: dict[str, float]
    tier_height: float
    edges: list[tuple[str, str]]
    row_gap: float

    def tier_box(self, name: str, centre: tuple, side: int) -> tuple:
        """The rectangle of ``name``'s indicator row (with its arrows) on ``side``."""
        near = centre[1] + side * self.half[name][1]
        far = near + side * self.tier_height
        half_width = self.tier_width[name] / 2
        return (centre[0] - half_width, min(near, far), centre[0] + half_width,
                max(near, far))


def _indicator_sides(rows: dict[str, int], layers: dict[str, int], geometry: _Geometry
                     ) -> dict[str, int]:
    """Indicators go on the free side of a construct with a neighbour in its column;
    otherwise on the side fewer arrows cross, away from the middle row on a tie."""
    centre = {n: (geometry.x[n], rows[n] * geometry.row_gap) for n in rows}
    sides = {}
    for name in rows:
        column = [m for m in rows if layers[m] == layers[name] and m != name]
        above = any(rows[m] > rows[name] for m in column)
        below = any(rows[m] < rows[name] for m in column)
        if above != below:
            sides[name] = -1 if above else 1
            continue
        hits = {}
        for side in (1, -1):
            box = geometry.tier_box(name, centre[name], side)
            hits[side] = sum(_segment_hits_box(centre[a], centre[b], box)
                             for a, b in geometry.edges if name not in (a, b))
        outward = 1 if rows[name] >= 0 else -1  # away from the middle of the diagram
        sides[name] = outward if hits[1] == hits[-1] else min(hits, key=hits.get)
    return sides


def _layout_cost(rows: dict[str, int], layers: dict[str, int], geometry: _Geometry
                 ) -> float:
    """Arrows through constructs or indicator rows (100 each), crossings (10), vertical
    travel (1 per row)."""
    centre = {n: (geometry.x[n], rows[n] * geometry.row_gap) for n in rows}
    sides = _indicator_sides(rows, layers, geometry) if geometry.tier_height else {}
    cost = 0.0
    for source, target in geometry.edges:
        start, end = centre[source], centre[target]
        for other in rows:
            if other in (source, target):
                continue
            # Scaled so the ellipse (plus room for a label) becomes the unit circle.
            sx, sy = geometry.half[other][0] + 0.25, geometry.half[other][1] + 0.3
            point = (centre[other][0] / sx, centre[other][1] / sy)
            if _segment_distance(point, (start[0] / sx, start[1] / sy),
                                 (end[0] / sx, end[1] / sy)) < 1.0:
                cost += 100.0
        for other, side in sides.items():
            if other not in (source, target) and _segment_hits_box(
                    start, end, geometry.tier_box(other, centre[other], side)):
                cost += 100.0
        cost += abs(rows[source] - rows[target])
    for (a, b), (c, d) in itertools.combinations(geometry.edges, 2):
        if len({a, b, c, d}) == 4 and _segments_cross(centre[a], centre[b], centre[c],
                                                      centre[d]):
            cost += 10.0
    return cost + 0.01 * sum(abs(r) for r in rows.values())


def _choose_rows(layers: dict[str, int], geometry: _Geometry) -> dict[str, int]:
    """Rows (0 centre, +1 above, ...) that minimise :func:`_layout_cost`.

    Coordinate descent from a few deterministic starts: each move puts one construct in
    another free row of its column; the best of the local optima wins.
    """
    by_column: dict[int, list[str]] = {}
    for name, column in layers.items():
        by_column.setdefault(column, []).append(name)
    tallest = max(len(members) for members in by_column.values())
    reach = max(1, (tallest + 1) // 2)
    candidates = list(range(-reach, reach + 1))

    def start(sign: int) -> dict[str, int]:
        rows = {}
        for column, members in by_column.items():
            offset = sign if column % 2 else 0
            slots = sorted(candidates, key=lambda r: (abs(r - offset), -r * sign))
            rows.update(zip(members, slots, strict=False))
        return rows

    best, best_cost = {}, math.inf
    for rows in (start(0), start(1), start(-1)):
        cost = _layout_cost(rows, layers, geometry)
        improved = True
        while improved:
            improved = False
            for name in layers:
                taken = {rows[m] for m in by_column[layers[name]] if m != name}
                for row in candidates:
                    if row in taken or row == rows[name]:
                        continue
                    trial = {**rows, name: row}
                    trial_cost = _layout_cost(trial, layers, geometry)
                    if trial_cost < cost - 1e-9:
                        rows, cost, improved = trial, trial_cost, True
        if cost < best_cost:
            best, best_cost = rows, cost
    return best


def compute_layout(spec: ModelSpec, node_texts: dict[str, str], *, indicators: bool = True,
                   family: str | None = None) -> Layout:
    """Place constructs by causal column and chosen row, indicators in a row beside them.

    Args:
        spec: the model.
        node_texts: the text drawn in each structural node (sizes follow from it).
        indicators: whether the indicators are drawn.
        family: font family of the construct texts (None: matplotlib's default).
    """
    layers = causal_layers(spec)
    sizes: dict[str, tuple[float, float]] = {}
    shapes: dict[str, str] = {}
    for name in layers:
        width, height = _text_size(node_texts[name], NODE_FONT, family)
        if name in spec.latent:
            sizes[name] = (max(MIN_NODE_WIDTH, width * 1.25 + 0.3),
                           max(NODE_HEIGHT, height * 1.3 + 0.15))
            shapes[name] = "ellipse"
        else:
            sizes[name] = (width + 0.3, BOX_HEIGHT + height)
            shapes[name] = "box"
    boxes = _indicator_boxes(spec) if indicators else {}
    widths = {name: max(sizes[name][0], _row_width(boxes.get(name, []))) for name in layers}
    column_x = _column_positions(layers, widths)
    tallest = max(size[1] for size in sizes.values())
    tier_height = TIER_OFFSET + BOX_HEIGHT if boxes else 0.0
    geometry = _Geometry(
        x={name: column_x[layers[name]] for name in layers},
        half={name: (sizes[name][0] / 2, sizes[name][1] / 2) for name in layers},
        tier_width={name: _row_width(boxes.get(name, [])) for name in layers},
        tier_height=tier_height, edges=[(p, o) for o, p in spec.structural_paths],
        row_gap=tallest + 0.9 + tier_height)
    rows = _choose_rows(layers, geometry)
    centres = {name: (geometry.x[name], rows[name] * geometry.row_gap) for name in layers}
    side = _indicator_sides(rows, layers, geometry) if boxes else {n: 1 for n in layers}
    for construct, items in boxes.items():
        cx, cy = centres[construct]
        y = cy + side[construct] * (sizes[construct][1] / 2 + TIER_OFFSET + BOX_HEIGHT / 2)
        left = cx - _row_width(items) / 2
        for item, width in items:
            centres[item] = (left + width / 2, y)
            sizes[item] = (width, BOX_HEIGHT)
            shapes[item] = "box"
            left += width + BOX_GAP
    return Layout(layers, centres, sizes, shapes, side)


def _indicator_boxes(spec: ModelSpec) -> dict[str, list[tuple[str, float]]]:
    """``{construct: [(indicator, box width in inches), ...]}``."""
    return {construct: [(item, _text_size(item, INDICATOR_FONT, None)[0] + 0.16)
                        for item in items]
            for construct, items in spec.indicators.items() if items}


def _row_width(items: list[tuple[str, float]]) -> float:
    return sum(width for _, width in items) + BOX_GAP * max(len(items) - 1, 0)


# ----------------------------------------------------------------------------- drawing

def _boundary_point(layout: Layout, name: str, towards: tuple[float, float]
                    ) -> np.ndarray:
    """Where the ray from ``name``'s centre towards ``towards`` leaves its shape."""
    centre = np.array(layout.centres[name])
    direction = np.array(towards) - centre
    length = float(np.hypot(*direction)) or 1.0
    half_w, half_h = layout.sizes[name][0] / 2, layout.sizes[name][1] / 2
    dx, dy = direction / length
    if layout.shapes[name] == "ellipse":
        reach = 1.0 / math.sqrt((dx / half_w) ** 2 + (dy / half_h) ** 2)
    else:
        reach = min(half_w / abs(dx) if dx else math.inf, half_h / abs(dy) if dy else math.inf)
    return centre + reach * np.array([dx, dy])


def _overlap_area(box: Bbox, others: list[Bbox]) -> float:
    total = 0.0
    for other in others:
        width = min(box.x1, other.x1) - max(box.x0, other.x0)
        height = min(box.y1, other.y1) - max(box.y0, other.y0)
        if width > 0 and height > 0:
            total += width * height
    return total


def _place_label(text, start: np.ndarray, end: np.ndarray, renderer, obstacles: list
                 ) -> None:
    """Move ``text`` along the arrow (and a little to either side) to the first spot
    where it overlaps nothing already drawn; failing that, to the least crowded one."""
    direction = end - start
    normal = np.array([-direction[1], direction[0]]) / (np.hypot(*direction) or 1.0)
    best, best_overlap = None, math.inf
    for shift in (0.0, 0.14, -0.14, 0.26, -0.26):
        for share in (0.5, 0.4, 0.6, 0.3, 0.7, 0.22, 0.78):
            text.set_position(tuple(start + share * direction + shift * normal))
            overlap = _overlap_area(text.get_window_extent(renderer), obstacles)
            if overlap == 0.0:
                obstacles.append(text.get_window_extent(renderer))
                return
            if overlap < best_overlap:
                best, best_overlap = text.get_position(), overlap
    text.set_position(best)
    obstacles.append(text.get_window_extent(renderer))


def draw_diagram(result: FitResult, *, indicators: bool = True,
                 labels: dict[str, str] | None = None, title: str | None = None,
                 group: str | None = None) -> Figure:
    """The path diagram of a fitted model as a matplotlib Figure.

    Constructs are ellipses (with R² inside the endogenous ones), indicators boxes; arrows
    carry standardized estimates (``std_all``) with stars for p < .05, .01, .001 (no stars
    without p-values, e.g. PLS without a bootstrap).

    Args:
        result: the fit.
        indicators: draw the indicators and their loadings (or formative weights).
        labels: ``{construct: shown name}``; default: the model file's ``# labels:``.
            Labels needing a CJK font fall back to the model's names (with a
            ``UserWarning``) when no such font is installed.
        title: text above the diagram; default the model title and estimator (and group).
        group: in a multi-group fit, the group whose estimates are drawn (default: first).

    Returns:
        A Figure sized in inches to its content; ``fig.savefig("d.svg")`` (or .png, .pdf).
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import Ellipse, FancyArrowPatch, FancyBboxPatch

    shown, family, note = display_labels(result.spec, labels if labels is not None
                                         else model_labels(result))
    if note:
        warnings.warn(note, UserWarning, stacklevel=2)
    _, r2, label = group_estimates(result, group)
    layers = causal_layers(result.spec)
    texts = {name: _node_text(name, shown, r2) for name in layers}
    layout = compute_layout(result.spec, texts, indicators=indicators, family=family)
    figure = plt.figure(figsize=(4, 3))
    axes = figure.add_axes((0, 0, 1, 1))
    axes.set_axis_off()
    renderer = figure.canvas.get_renderer()
    for name, (cx, cy) in layout.centres.items():
        width, height = layout.sizes[name]
        if layout.shapes[name] == "ellipse":
            patch = Ellipse((cx, cy), width, height, facecolor="#eef3fb", edgecolor="#1f3b73",
                            linewidth=1.3)
        else:
            patch = FancyBboxPatch((cx - width / 2, cy - height / 2), width, height,
                                   boxstyle="square,pad=0", facecolor="white",
                                   edgecolor="#555555", linewidth=0.9)
        kind = "node" if name in layers else "indicator"
        patch.set_gid(f"{kind}:{name}")
        axes.add_patch(patch)
        is_node = name in layers
        axes.text(cx, cy, texts[name] if is_node else name, ha="center", va="center",
                  fontsize=NODE_FONT if is_node else INDICATOR_FONT,
                  family=family if is_node and family else None,
                  gid=f"label:{kind}:{name}", linespacing=1.25)
    _set_limits(figure, axes, layout)
    obstacles = [patch.get_window_extent(renderer) for patch in axes.patches]
    for edge in diagram_edges(result, indicators=indicators, group=label):
        _draw_edge(axes, layout, edge, renderer, obstacles, FancyArrowPatch)
    caption = title if title is not None else f"{result.title}: {result.estimator}" + (
        f", group {label}" if label is not None else "")
    axes.text(0, 0, caption, fontsize=NODE_FONT + 1, ha="left", va="bottom",
              gid="label:title", family=family)
    _fit_to_content(figure, axes, renderer)
    return figure


def _covariance_arc(layout: Layout, edge: Edge) -> tuple[np.ndarray, np.ndarray, float]:
    """Ends and ``arc3`` curvature of a covariance: between constructs stacked in one
    column it leaves and enters their right-hand sides and bulges right, further the more
    rows it spans, so it passes the constructs in between."""
    (x1, y1), (x2, y2) = layout.centres[edge.source], layout.centres[edge.target]
    if abs(x1 - x2) > 1e-6:
        start = _boundary_point(layout, edge.source, (x2, y2))
        end = _boundary_point(layout, edge.target, (x1, y1))
        return start, end, 0.3
    start = np.array([x1 + layout.sizes[edge.source][0] / 2, y1])
    end = np.array([x2 + layout.sizes[edge.target][0] / 2, y2])
    chord = abs(y2 - y1)
    bulge = 0.3 + 0.12 * chord
    # matplotlib's arc3 puts the control point at mid + rad * (dy, -dx); the curve's
    # farthest point is half-way there.
    return start, end, 2 * bulge / chord * (1 if y2 > y1 else -1)


def _draw_edge(axes, layout: Layout, edge: Edge, renderer, obstacles: list,
               arrow_class) -> None:
    if edge.source not in layout.centres or edge.target not in layout.centres:
        return
    if edge.kind == "covariance":
        start, end, rad = _covariance_arc(layout, edge)
    else:
        start = _boundary_point(layout, edge.source, layout.centres[edge.target])
        end = _boundary_point(layout, edge.target, layout.centres[edge.source])
        rad = 0.0
    structural = edge.kind in ("path", "covariance")
    arrow = arrow_class(tuple(start), tuple(end),
                        arrowstyle="<|-|>" if edge.kind == "covariance" else "-|>",
                        mutation_scale=12 if structural else 8, shrinkA=0, shrinkB=1,
                        linewidth=1.2 if structural else 0.7, color="#333333",
                        linestyle="--" if edge.kind == "covariance" else "-",
                        connectionstyle=f"arc3,rad={rad}",
                        gid=f"edge:{edge.source}->{edge.target}")
    axes.add_patch(arrow)
    if rad:
        # The label sits on the curve's middle, not on the chord.
        delta = end - start
        middle = (start + end) / 2 + 0.5 * rad * np.array([delta[1], -delta[0]])
        start, end = middle - 0.01 * delta, middle + 0.01 * delta
    text = axes.text(0, 0, edge.label, ha="center", va="center",
                     fontsize=EDGE_FONT if structural else INDICATOR_FONT - 0.5,
                     gid=f"label:{edge.kind}:{edge.source}->{edge.target}",
                     bbox={"boxstyle": "round,pad=0.12", "facecolor": "white",
                           "edgecolor": "none", "alpha": 0.9})
    if not structural:
        angle = math.degrees(math.atan2(end[1] - start[1], end[0] - start[0]))
        text.set_rotation(angle - 180 if abs(angle) > 90 else angle)
        text.set_rotation_mode("anchor")
    _place_label(text, start, end, renderer, obstacles)


def _set_limits(figure, axes, layout: Layout) -> None:
    """One data unit per inch: limits and figure size from the nodes' extent."""
    left = min(x - layout.sizes[n][0] / 2 for n, (x, _) in layout.centres.items())
    right = max(x + layout.sizes[n][0] / 2 for n, (x, _) in layout.centres.items())
    bottom = min(y - layout.sizes[n][1] / 2 for n, (_, y) in layout.centres.items())
    top = max(y + layout.sizes[n][1] / 2 for n, (_, y) in layout.centres.items())
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

