"""Where the path diagram puts each construct and indicator (in inches).

Three ways to place the constructs on a grid of columns (left to right) and rows (top to
bottom):

- **declared**: the model file's ``# layout:`` positions, as the model is usually drawn
  (the shipped ACSI, ECSI and CCSI files declare theirs);
- ``"auto"`` (the default for users' own models): causal order left to right, with causal
  steps merged into fewer columns until the aspect is near a page's (about 16:9 with
  indicators, 4:3 without), rows chosen so that few arrows cross or run through a construct
  or a fan of loadings; a measurement model (no paths) side by side, as CFAs are drawn;
- ``"causal"``: one column per causal step (the longest path from an exogenous construct).

The grid is then packed by what is drawn: rows evenly spaced, as close as the constructs
with their indicators allow; columns as close as the constructs beside each other allow.
Indicators sit in a row above or below their construct, or in a stack to its left or right.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

from acsi_sem.model.modelfile import INDICATOR_SIDES, LAYOUTS, Position
from acsi_sem.model.spec import ModelSpec

POINTS_PER_INCH = 72.0
NODE_HEIGHT = 0.80        # ellipse height, inches
MIN_NODE_WIDTH = 1.35
BOX_HEIGHT = 0.30
MIN_BOX_WIDTH = 0.45      # so a loading fits beside each arrow of a fan
BOX_GAP = 0.22            # between indicator boxes in a row: room for a loading beside each arrow
STACK_GAP = 0.16          # between indicator boxes stacked beside a construct
TIER_OFFSET = 0.75        # ellipse edge to a row of up to three indicators
DENSE_TIER_STEP = 0.10    # further out per indicator beyond three: room for the loadings
SIDE_OFFSET = 0.70        # ellipse edge to indicator stack
COLUMN_GAP = 0.90         # free space between columns for arrows and their labels
ROW_GAP = 0.70            # free space between rows
ROW_SHARE = 0.9           # a whole row at least this share of a whole column
MARGIN = 0.25
# Aspect (width / height) the automatic layout aims for, with and without indicators.
ASPECT_BANDS = {True: (1.3, 1.9), False: (1.2, 1.7)}
MAX_MERGED_DEPTH = 7      # causal depth up to which every merge of steps is tried
MEASUREMENT_ROW = 6       # constructs side by side in a row of a measurement model
ASPECT_WEIGHT = 300.0     # cost of a factor e away from the band (a crossing costs 10)


@dataclass(frozen=True)
class Fonts:
    """Text sizes of a diagram, points: construct names, path labels, indicator names
    (loadings are half a point smaller)."""

    node: float = 10.0
    edge: float = 8.5
    indicator: float = 7.5

    @property
    def loading(self) -> float:
        return self.indicator - 0.5

    def scaled(self, factor: float) -> Fonts:
        """Every size times ``factor``."""
        return Fonts(self.node * factor, self.edge * factor, self.indicator * factor)


@dataclass(frozen=True)
class Layout:
    """Where each construct and indicator goes, in inches.

    Attributes:
        layers: causal step of each structural variable (0 for exogenous).
        grid: ``{construct: (column, row)}`` the constructs' places on the grid.
        centres: ``{name: (x, y)}`` centre of every drawn node (y upwards).
        sizes: ``{name: (width, height)}`` of every drawn node.
        shapes: ``{name: "ellipse" | "box"}``.
        indicator_side: ``{construct: "above" | "below" | "left" | "right"}``.
        fonts: the text sizes the sizes were measured with.
    """

    layers: dict[str, int]
    grid: dict[str, tuple[float, float]]
    centres: dict[str, tuple[float, float]]
    sizes: dict[str, tuple[float, float]]
    shapes: dict[str, str]
    indicator_side: dict[str, str]
    fonts: Fonts = Fonts()

    @property
    def aspect(self) -> float:
        """Width over height of the drawn nodes' extent."""
        left, right, bottom, top = self.extent
        return (right - left) / (top - bottom)

    @property
    def extent(self) -> tuple[float, float, float, float]:
        """``(left, right, bottom, top)`` of the drawn nodes, inches."""
        xs = [(x - self.sizes[n][0] / 2, x + self.sizes[n][0] / 2)
              for n, (x, _) in self.centres.items()]
        ys = [(y - self.sizes[n][1] / 2, y + self.sizes[n][1] / 2)
              for n, (_, y) in self.centres.items()]
        return (min(a for a, _ in xs), max(b for _, b in xs), min(a for a, _ in ys),
                max(b for _, b in ys))


# ----------------------------------------------------------------------------- causal order

def layout_paths(spec: ModelSpec) -> list[tuple[str, str]]:
    """``(outcome, cause)`` of every arrow between structural nodes: the regressions, and a
    higher-order construct's loadings on the constructs it measures (it causes them)."""
    latent = set(spec.latent)
    higher = [(item, construct) for construct, items in spec.indicators.items()
              for item in dict.fromkeys(items) if item in latent]
    return [*dict.fromkeys([*spec.structural_paths, *higher])]


def structural_nodes(spec: ModelSpec) -> list[str]:
    """Constructs and any observed variables in regressions, in order of appearance."""
    names = list(spec.latent)
    for outcome, predictor in layout_paths(spec):
        names += [n for n in (predictor, outcome) if n not in names]
    return names


def causal_layers(spec: ModelSpec) -> dict[str, int]:
    """Column of each structural variable: the length of its longest path from an
    exogenous variable (0). A feedback loop is cut where it closes, so it cannot recurse."""
    predecessors: dict[str, list[str]] = {name: [] for name in structural_nodes(spec)}
    for outcome, predictor in layout_paths(spec):
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


def text_size(text: str, size: float, family: str | None) -> tuple[float, float]:
    """Width and height of ``text`` in inches, measured from the font's outlines."""
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import TextPath

    properties = FontProperties(family=family, size=size) if family else \
        FontProperties(size=size)
    lines = text.split("\n")
    widths = [TextPath((0, 0), line, prop=properties).get_extents().width for line in lines]
    return max(widths) / POINTS_PER_INCH, len(lines) * size * 1.25 / POINTS_PER_INCH


# ----------------------------------------------------------------------------- geometry

def segment_distance(point: tuple, start: tuple, end: tuple) -> float:
    """Distance from ``point`` to the segment ``start``-``end`` (plain floats: the row
    search calls this tens of thousands of times)."""
    dx, dy = end[0] - start[0], end[1] - start[1]
    length = dx * dx + dy * dy
    share = 0.0 if length < 1e-12 else min(1.0, max(0.0, (
        (point[0] - start[0]) * dx + (point[1] - start[1]) * dy) / length))
    return math.hypot(point[0] - start[0] - share * dx, point[1] - start[1] - share * dy)


def segments_cross(a: tuple, b: tuple, c: tuple, d: tuple) -> bool:
    """Whether the segments a-b and c-d cross (touching does not count)."""
    def turn(p, q, r) -> int:
        cross = (q[0] - p[0]) * (r[1] - p[1]) - (q[1] - p[1]) * (r[0] - p[0])
        return int(cross > 0) - int(cross < 0)
    return turn(a, b, c) * turn(a, b, d) < 0 and turn(c, d, a) * turn(c, d, b) < 0


def segment_hits_box(start: tuple, end: tuple, box: tuple) -> bool:
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


# ----------------------------------------------------------------------------- indicators

def indicator_boxes(spec: ModelSpec, fonts: Fonts = Fonts()
                    ) -> dict[str, list[tuple[str, float]]]:
    """``{construct: [(indicator, box width in inches), ...]}``."""
    latent = set(spec.latent)
    # A multi-group spec lists each item once per group; a higher-order construct's
    # "indicators" that are constructs are drawn as such, not as boxes.
    observed = {construct: [item for item in dict.fromkeys(items) if item not in latent]
                for construct, items in spec.indicators.items()}
    return {construct: [(item, max(MIN_BOX_WIDTH,
                                   text_size(item, fonts.indicator, None)[0] + 0.16))
                        for item in items]
            for construct, items in observed.items() if items}


def tier_offset(items: list[tuple[str, float]]) -> float:
    """Ellipse edge to its indicator row, inches: a wider fan needs longer arrows so that
    horizontal loadings fit between them."""
    return TIER_OFFSET + DENSE_TIER_STEP * max(0, len(items) - 3)


def _row_width(items: list[tuple[str, float]]) -> float:
    return sum(width for _, width in items) + BOX_GAP * max(len(items) - 1, 0)


def _stack_height(items: list[tuple[str, float]]) -> float:
    return len(items) * BOX_HEIGHT + STACK_GAP * max(len(items) - 1, 0)


def _reach(size: tuple[float, float], items: list[tuple[str, float]], side: str
           ) -> tuple[float, float, float, float]:
    """How far a construct with its indicators on ``side`` reaches from its centre:
    ``(left, right, down, up)`` in inches."""
    half_w, half_h = size[0] / 2, size[1] / 2
    if not items:
        return half_w, half_w, half_h, half_h
    if side in ("above", "below"):
        wide = max(half_w, _row_width(items) / 2)
        far = half_h + tier_offset(items) + BOX_HEIGHT
        return wide, wide, *((half_h, far) if side == "above" else (far, half_h))
    tall = max(half_h, _stack_height(items) / 2)
    far = half_w + SIDE_OFFSET + max(width for _, width in items)
    return (*((far, half_w) if side == "left" else (half_w, far)), tall, tall)


def tier_box(centre: tuple[float, float], size: tuple[float, float],
             items: list[tuple[str, float]], side: str) -> tuple[float, float, float, float]:
    """The rectangle ``(left, bottom, right, top)`` of a construct's indicators and their
    arrows on ``side`` (the ellipse itself excluded)."""
    left, right, down, up = _reach(size, items, side)
    x, y = centre
    half_w, half_h = size[0] / 2, size[1] / 2
    return {"above": (x - left, y + half_h, x + right, y + up),
            "below": (x - left, y - down, x + right, y - half_h),
            "left": (x - left, y - down, x - half_w, y + up),
            "right": (x + half_w, y - down, x + right, y + up)}[side]


def _place_indicators(centre: tuple[float, float], size: tuple[float, float],
                      items: list[tuple[str, float]], side: str
                      ) -> dict[str, tuple[float, float]]:
    """Centres of the indicator boxes: a row centred above or below the construct, or a
    stack centred beside it (inner edges aligned)."""
    x, y = centre
    if side in ("above", "below"):
        sign = 1 if side == "above" else -1
        row_y = y + sign * (size[1] / 2 + tier_offset(items) + BOX_HEIGHT / 2)
        left, centres = x - _row_width(items) / 2, {}
        for item, width in items:
            centres[item] = (left + width / 2, row_y)
            left += width + BOX_GAP
        return centres
    sign = 1 if side == "right" else -1
    top = y + _stack_height(items) / 2
    return {item: (x + sign * (size[0] / 2 + SIDE_OFFSET + width / 2),
                   top - BOX_HEIGHT / 2 - k * (BOX_HEIGHT + STACK_GAP))
            for k, (item, width) in enumerate(items)}


# ----------------------------------------------------------------------------- grid packing

def _pack(values: list[float], near: dict[float, float], far: dict[float, float],
          gap: float) -> dict[float, float]:
    """Centre coordinate of each grid line: consecutive lines ``far + gap + near`` apart."""
    ordered = sorted(set(values))
    position, centres = 0.0, {}
    for previous, value in zip([None, *ordered], ordered, strict=False):
        if previous is not None:
            position += far[previous] + gap + near[value]
        centres[value] = position
    return centres


def place_grid(grid: dict[str, tuple[float, float]], sides: dict[str, str],
               sizes: dict[str, tuple[float, float]],
               boxes: dict[str, list[tuple[str, float]]]) -> dict[str, tuple[float, float]]:
    """Centres (inches, y upwards) of the constructs on ``grid`` and of their indicators.

    Rows and columns are as close as the constructs with their indicators allow, a wide
    row of indicators pushing only what is beside it; between constructs that do not
    meet, a fractional step is that share of a full one.
    """
    reach = {name: _reach(sizes[name], boxes.get(name, []), sides.get(name, "above"))
             for name in grid}
    # First every pair of rows kept clear, then only the constructs that share a width;
    # the columns are packed again for the rows' final heights.
    y = _rows(grid, reach, sizes, lambda a, b: True)
    x = _pack_columns(grid, reach, sizes, y)
    left = {name: x[name] - reach[name][0] for name in grid}
    right = {name: x[name] + reach[name][1] for name in grid}
    y = _rows(grid, reach, sizes, lambda a, b: left[a] < right[b] + BOX_GAP
              and left[b] < right[a] + BOX_GAP)
    x = _pack_columns(grid, reach, sizes, y)
    centres = {name: (x[name], y[name]) for name in grid}
    for name, items in boxes.items():
        if name in centres and items:
            centres.update(_place_indicators(centres[name], sizes[name], items,
                                             sides.get(name, "above")))
    return centres


def _rows(grid: dict[str, tuple[float, float]],
          reach: dict[str, tuple[float, float, float, float]],
          sizes: dict[str, tuple[float, float]], beside) -> dict[str, float]:
    """y of each construct (downwards from 0): rows as close as the constructs allow, and a
    whole row at least ROW_SHARE of a whole column (so the grid's cells are not flat)."""
    widest = max(sizes[name][0] for name in grid)
    bare_step = max(NODE_HEIGHT + ROW_GAP, ROW_SHARE * (widest + COLUMN_GAP))
    needs = []
    for a, b in itertools.permutations(grid, 2):
        step = grid[b][1] - grid[a][1]
        if step <= 0:
            continue
        if grid[a][0] == grid[b][0] or beside(a, b):
            needs.append((a, b, reach[a][2] + ROW_GAP + reach[b][3]))
        else:
            needs.append((a, b, min(1.0, step) * bare_step))
    return {name: -position for name, position in _axis(grid, 1, needs).items()}


def _pack_columns(grid: dict[str, tuple[float, float]],
                  reach: dict[str, tuple[float, float, float, float]],
                  sizes: dict[str, tuple[float, float]], y: dict[str, float]
                  ) -> dict[str, float]:
    """x of each construct: columns as close as the constructs allow, counting the
    indicators only of constructs that share a height."""
    span = {name: (y[name] - reach[name][2], y[name] + reach[name][3]) for name in grid}
    needs = []
    for a, b in itertools.permutations(grid, 2):
        step = grid[b][0] - grid[a][0]
        if step <= 0:
            continue
        if span[a][0] < span[b][1] + BOX_GAP and span[b][0] < span[a][1] + BOX_GAP:
            needs.append((a, b, reach[a][1] + COLUMN_GAP + reach[b][0]))
        else:
            needs.append((a, b, min(1.0, step) * (sizes[a][0] / 2 + COLUMN_GAP
                                                   + sizes[b][0] / 2)))
    return _axis(grid, 0, needs)


def _axis(grid: dict[str, tuple[float, float]], axis: int,
          needs: list[tuple[str, str, float]]) -> dict[str, float]:
    """Positions along one axis: each grid value as low as every ``(a, b, distance)``
    need (``b`` at least ``distance`` beyond ``a``) allows; the first at 0. A longest-path
    pass over the sorted values (the needs only point from lower to higher values)."""
    values = sorted({place[axis] for place in grid.values()})
    position: dict[float, float] = {}
    for value in values:
        position[value] = max((position[grid[a][axis]] + distance
                               for a, b, distance in needs
                               if grid[b][axis] == value and grid[a][axis] in position),
                              default=0.0)
    return {name: position[place[axis]] for name, place in grid.items()}


def _arrow_crossings(grid_centres: dict[str, tuple[float, float]],
                     edges: list[tuple[str, str]]) -> int:
    return sum(len({a, b, c, d}) == 4 and segments_cross(
        grid_centres[a], grid_centres[b], grid_centres[c], grid_centres[d])
        for (a, b), (c, d) in itertools.combinations(edges, 2))


# ----------------------------------------------------------------------------- row search

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


def _row_sides(rows: dict[str, int], columns: dict[str, int], geometry: _Geometry
               ) -> dict[str, int]:
    """Indicators go on the free side of a construct with a neighbour in its column;
    otherwise on the side fewer arrows cross, away from the middle row on a tie."""
    centre = {n: (geometry.x[n], rows[n] * geometry.row_gap) for n in rows}
    sides = {}
    for name in rows:
        column = [m for m in rows if columns[m] == columns[name] and m != name]
        above = any(rows[m] > rows[name] for m in column)
        below = any(rows[m] < rows[name] for m in column)
        if above != below:
            sides[name] = -1 if above else 1
            continue
        hits = {}
        for side in (1, -1):
            box = geometry.tier_box(name, centre[name], side)
            # The construct's own arrows count too: one leaving through its indicator
            # row would cross the loadings.
            hits[side] = sum(segment_hits_box(centre[a], centre[b], box)
                             for a, b in geometry.edges)
        outward = 1 if rows[name] >= 0 else -1  # away from the middle of the diagram
        sides[name] = outward if hits[1] == hits[-1] else min(hits, key=hits.get)
    return sides


def _passes_close(start: tuple, end: tuple, centre: tuple, half: tuple[float, float]
                  ) -> bool:
    """Whether the segment passes a construct (half sizes ``half``) closer than room for a
    label: measured where the ellipse grown by that room is the unit circle."""
    sx, sy = half[0] + 0.25, half[1] + 0.3
    return segment_distance((centre[0] / sx, centre[1] / sy), (start[0] / sx, start[1] / sy),
                            (end[0] / sx, end[1] / sy)) < 1.0


def _layout_cost(rows: dict[str, int], columns: dict[str, int], geometry: _Geometry
                 ) -> float:
    """Arrows through constructs or indicator rows (100 each), crossings (10), vertical
    travel (1 per row)."""
    centre = {n: (geometry.x[n], rows[n] * geometry.row_gap) for n in rows}
    sides = _row_sides(rows, columns, geometry) if geometry.tier_height else {}
    cost = 0.0
    for source, target in geometry.edges:
        start, end = centre[source], centre[target]
        cost += 100.0 * sum(_passes_close(start, end, centre[other], geometry.half[other])
                            for other in rows if other not in (source, target))
        for other, side in sides.items():
            if segment_hits_box(start, end, geometry.tier_box(other, centre[other], side)):
                cost += 100.0
        cost += abs(rows[source] - rows[target])
    cost += 10.0 * _arrow_crossings(centre, geometry.edges)
    return cost + 0.01 * sum(abs(r) for r in rows.values())


def _choose_rows(columns: dict[str, int], geometry: _Geometry) -> tuple[dict[str, int], float]:
    """Rows (0 centre, +1 above, ...) that minimise :func:`_layout_cost`, and that cost.

    Coordinate descent from a few deterministic starts: each move puts one construct in
    another free row of its column; the best of the local optima wins.
    """
    by_column: dict[int, list[str]] = {}
    for name, column in columns.items():
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
        cost = _layout_cost(rows, columns, geometry)
        improved = True
        while improved:
            improved = False
            for name in columns:
                taken = {rows[m] for m in by_column[columns[name]] if m != name}
                for row in candidates:
                    if row in taken or row == rows[name]:
                        continue
                    trial = {**rows, name: row}
                    trial_cost = _layout_cost(trial, columns, geometry)
                    if trial_cost < cost - 1e-9:
                        rows, cost, improved = trial, trial_cost, True
        if cost < best_cost:
            best, best_cost = rows, cost
    return best, best_cost


def _searched_grid(spec: ModelSpec, columns: dict[str, int],
                   sizes: dict[str, tuple[float, float]],
                   boxes: dict[str, list[tuple[str, float]]]
                   ) -> tuple[dict[str, tuple[float, float]], dict[str, str], float]:
    """Rows chosen for the given columns: the grid, the indicator sides and the cost."""
    widths = {name: max(sizes[name][0], _row_width(boxes.get(name, []))) for name in columns}
    column_width = {c: max(widths[n] for n in columns if columns[n] == c)
                    for c in set(columns.values())}
    x_of = _pack(list(column_width), {c: w / 2 for c, w in column_width.items()},
                 {c: w / 2 for c, w in column_width.items()}, COLUMN_GAP)
    tier_height = TIER_OFFSET + BOX_HEIGHT if boxes else 0.0
    geometry = _Geometry(
        x={name: x_of[columns[name]] for name in columns},
        half={name: (sizes[name][0] / 2, sizes[name][1] / 2) for name in columns},
        tier_width={name: _row_width(boxes.get(name, [])) for name in columns},
        tier_height=tier_height, edges=[(p, o) for o, p in layout_paths(spec)],
        row_gap=max(size[1] for size in sizes.values()) + ROW_GAP + tier_height)
    rows, cost = _choose_rows(columns, geometry)
    sides = _row_sides(rows, columns, geometry) if boxes else {n: 1 for n in columns}
    grid = {name: (float(columns[name]), float(-rows[name])) for name in columns}
    return grid, {n: "above" if s > 0 else "below" for n, s in sides.items()}, cost


def _aspect_penalty(aspect: float, indicators: bool) -> float:
    low, high = ASPECT_BANDS[indicators]
    return ASPECT_WEIGHT * max(0.0, math.log(aspect / high), math.log(low / aspect))


def placement_cost(centres: dict[str, tuple[float, float]], sides: dict[str, str],
                   sizes: dict[str, tuple[float, float]],
                   boxes: dict[str, list[tuple[str, float]]], edges: list[tuple[str, str]]
                   ) -> float:
    """What is wrong with a finished placement: an arrow passing a construct closely (100),
    a clash of indicators (100, :func:`tier_clashes`), two arrows crossing (10)."""
    cost = 0.0
    for source, target in edges:
        start, end = centres[source], centres[target]
        cost += 100.0 * sum(_passes_close(start, end, centres[other],
                                          (sizes[other][0] / 2, sizes[other][1] / 2))
                            for other in sizes if other not in (source, target))
    cost += 100.0 * sum(tier_clashes(name, sides[name], centres, sizes, boxes, edges)
                        for name in boxes)
    return cost + 10.0 * _arrow_crossings(centres, edges)


def _merged_columns(layers: dict[str, int]) -> list[dict[str, int]]:
    """Every way to merge neighbouring causal steps into shared columns (order kept, so
    no arrow points left): ``2**depth`` column assignments."""
    depth = max(layers.values())
    if depth > MAX_MERGED_DEPTH:
        # 2**depth would take minutes: evenly merged steps into each number of columns.
        return [{name: round(step * (count - 1) / depth) for name, step in layers.items()}
                for count in range(depth + 1, 1, -1)]
    assignments = []
    for cuts in itertools.product((0, 1), repeat=depth):
        column_of_step = list(itertools.accumulate(cuts, initial=0))
        assignments.append({name: column_of_step[step] for name, step in layers.items()})
    return assignments


def _measurement_grid(layers: dict[str, int]) -> tuple[dict[str, tuple[float, float]],
                                                       dict[str, str]]:
    """A model without paths (a measurement model), as such models are drawn: the
    constructs side by side, up to six to a row, indicators below, covariances arching
    above."""
    per_row = min(len(layers), MEASUREMENT_ROW)
    grid = {name: (float(k % per_row), float(k // per_row)) for k, name in enumerate(layers)}
    return grid, dict.fromkeys(layers, "below")


def _column_holds_a_triangle(columns: dict[str, int], edges: list[tuple[str, str]]) -> bool:
    """Whether three constructs joined pairwise by arrows share a column: in any order
    one of their arrows would run through the middle one."""
    linked = {frozenset(edge) for edge in edges}
    return any(len({columns[a], columns[b], columns[c]}) == 1 and {frozenset((a, b)),
               frozenset((b, c)), frozenset((a, c))} <= linked
               for a, b, c in itertools.combinations(columns, 3))


def _rough_aspect(columns: dict[str, int], sizes: dict[str, tuple[float, float]],
                  boxes: dict[str, list[tuple[str, float]]]) -> float:
    """Aspect before the row search: exact width, height of the tallest column."""
    widths = {name: max(sizes[name][0], _row_width(boxes.get(name, []))) for name in columns}
    column_width: dict[int, float] = {}
    for name, column in columns.items():
        column_width[column] = max(column_width.get(column, 0.0), widths[name])
    width = sum(column_width.values()) + COLUMN_GAP * (len(column_width) - 1)
    tier = TIER_OFFSET + BOX_HEIGHT if boxes else 0.0
    tallest = max(list(columns.values()).count(c) for c in column_width)
    step = max(NODE_HEIGHT + tier + ROW_GAP,
               ROW_SHARE * (max(size[0] for size in sizes.values()) + COLUMN_GAP))
    return width / ((tallest - 1) * step + NODE_HEIGHT + 2 * tier)


def _auto_grid(spec: ModelSpec, layers: dict[str, int], sizes: dict[str, tuple[float, float]],
               boxes: dict[str, list[tuple[str, float]]], candidates: int = 8,
               refined: int = 3) -> tuple[dict[str, tuple[float, float]], dict[str, str]]:
    """The best of the merged-column layouts: rows searched (on the quick geometry) for the
    ``candidates`` whose rough aspect is nearest the page's; the ``refined`` best of those
    then moved construct by construct on the finished placement, where the indicators'
    sides and every clash are known."""
    indicators = bool(boxes)
    edges = [(p, o) for o, p in layout_paths(spec)]
    merged = [columns for columns in _merged_columns(layers)
              if not _column_holds_a_triangle(columns, edges)]
    ranked = sorted(merged or _merged_columns(layers), key=lambda columns: (
        round(_aspect_penalty(_rough_aspect(columns, sizes, boxes), indicators), 6),
        -len(set(columns.values()))))
    searched = []
    for columns in ranked[:candidates]:
        grid = _searched_grid(spec, columns, sizes, boxes)[0]
        searched.append((_grid_score(grid, sizes, boxes, edges), grid))
    searched.sort(key=lambda scored: scored[0][0])
    best = min((_refine(grid, score, sizes, boxes, edges)
                for score, grid in searched[:refined]), key=lambda scored: scored[0][0])
    (_, sides), grid = best
    return grid, sides


def _grid_score(grid: dict[str, tuple[float, float]], sizes: dict[str, tuple[float, float]],
                boxes: dict[str, list[tuple[str, float]]], edges: list[tuple[str, str]]
                ) -> tuple[float, dict[str, str]]:
    """A grid's cost on its finished placement (sides chosen) plus its aspect's penalty."""
    sides = _declared_sides(grid, {name: Position(*place) for name, place in grid.items()},
                            sizes, boxes, edges)
    centres = place_grid(grid, sides, sizes, boxes)
    cost = placement_cost(centres, sides, sizes, boxes, edges) + _aspect_penalty(
        _aspect_of(centres, sizes, boxes), bool(boxes))
    return cost, sides


def _refine(grid: dict[str, tuple[float, float]], score: tuple[float, dict[str, str]],
            sizes: dict[str, tuple[float, float]], boxes: dict[str, list[tuple[str, float]]],
            edges: list[tuple[str, str]]) -> tuple[tuple[float, dict[str, str]], dict]:
    """Coordinate descent on the finished placement: each move puts one construct in
    another free row of its column (one row beyond the used ones allowed)."""
    rows = [row for _, row in grid.values()]
    candidates = range(int(min(rows)) - 1, int(max(rows)) + 2)
    improved = True
    while improved:
        improved = False
        for name, (column, row) in grid.items():
            taken = {r for n, (c, r) in grid.items() if c == column and n != name}
            for new_row in candidates:
                if new_row in taken or new_row == row:
                    continue
                trial = {**grid, name: (column, float(new_row))}
                trial_score = _grid_score(trial, sizes, boxes, edges)
                if trial_score[0] < score[0] - 1e-9:
                    grid, score, improved = trial, trial_score, True
                    break
    return score, grid


def _aspect_of(centres: dict[str, tuple[float, float]], sizes: dict[str, tuple[float, float]],
               boxes: dict[str, list[tuple[str, float]]]) -> float:
    every_size = {**sizes, **{item: (width, BOX_HEIGHT) for items in boxes.values()
                              for item, width in items}}
    xs = [x + sign * every_size[n][0] / 2 for n, (x, _) in centres.items() for sign in (-1, 1)]
    ys = [y + sign * every_size[n][1] / 2 for n, (_, y) in centres.items() for sign in (-1, 1)]
    return (max(xs) - min(xs)) / (max(ys) - min(ys))


def tier_clashes(name: str, side: str, centres: dict[str, tuple[float, float]],
                 sizes: dict[str, tuple[float, float]],
                 boxes: dict[str, list[tuple[str, float]]], edges: list[tuple[str, str]]
                 ) -> int:
    """How often ``name``'s indicators on ``side`` would meet other things: another
    construct's arrow through a box or a loading, the construct's own arrow leaving within
    the fan of its loadings, or a box on another construct."""
    centre = centres[name]
    placed = _place_indicators(centre, sizes[name], boxes[name], side)
    widths = dict(boxes[name])
    rects = [(x - widths[item] / 2, y - BOX_HEIGHT / 2, x + widths[item] / 2,
              y + BOX_HEIGHT / 2) for item, (x, y) in placed.items()]
    angles = [math.atan2(y - centre[1], x - centre[0]) for x, y in placed.values()]
    clashes = 0
    for a, b in edges:
        if name in (a, b):
            other = centres[b if a == name else a]
            clashes += _within_fan(math.atan2(other[1] - centre[1], other[0] - centre[0]),
                                   angles)
            continue
        clashes += any(segment_hits_box(centres[a], centres[b], rect) for rect in rects)
        clashes += any(segments_cross(centres[a], centres[b], centre, point)
                       for point in placed.values())
    for other in centres:
        if other != name and other in sizes:
            (x, y), (w, h) = centres[other], sizes[other]
            node = (x - w / 2, y - h / 2, x + w / 2, y + h / 2)
            clashes += 10 * any(_rects_meet(node, rect) for rect in rects)
    return clashes


def _within_fan(angle: float, fan: list[float], margin: float = math.radians(8)) -> bool:
    """Whether the direction ``angle`` lies inside the angular span of ``fan`` (radians)."""
    middle = math.atan2(sum(math.sin(a) for a in fan), sum(math.cos(a) for a in fan))
    spread = max(abs(math.remainder(a - middle, math.tau)) for a in fan)
    return abs(math.remainder(angle - middle, math.tau)) <= spread + margin


def _rects_meet(a: tuple, b: tuple) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _declared_sides(grid: dict[str, tuple[float, float]], declared: dict[str, Position],
                    sizes: dict[str, tuple[float, float]],
                    boxes: dict[str, list[tuple[str, float]]], edges: list[tuple[str, str]]
                    ) -> dict[str, str]:
    """The declared indicator sides; each undeclared one where its indicators clash least
    (:func:`tier_clashes`; top row above, others below on a tie)."""
    top = min(row for _, row in grid.values())
    sides = {name: place.side or ("above" if grid[name][1] == top else "below")
             for name, place in declared.items()}
    centres = place_grid(grid, sides, sizes, boxes)
    for name, place in declared.items():
        if place.side is None and boxes.get(name):
            sides[name] = min(INDICATOR_SIDES, key=lambda side, name=name: (
                tier_clashes(name, side, centres, sizes, boxes, edges), side != sides[name]))
    return sides


# ----------------------------------------------------------------------------- entry point

def _check_placement(placement: dict[str, Position], layers: dict[str, int]) -> None:
    """A layout given in Python places every structural node once, each at its own place."""
    from acsi_sem.errors import AcsiSemError

    missing = [name for name in layers if name not in placement]
    unknown = [name for name in placement if name not in layers]
    places = [(place.column, place.row) for place in placement.values()]
    if missing or unknown or len(set(places)) < len(places):
        raise AcsiSemError("a layout must give every construct its own (column, row): "
                           f"missing {missing or 'none'}, unknown {unknown or 'none'}"
                           + (", two at one place" if len(set(places)) < len(places) else ""))


def node_sizes(spec: ModelSpec, node_texts: dict[str, str], family: str | None,
               fonts: Fonts = Fonts()
               ) -> tuple[dict[str, tuple[float, float]], dict[str, str]]:
    """Sizes (inches) and shapes of the structural nodes, from the text drawn in them."""
    sizes: dict[str, tuple[float, float]] = {}
    shapes: dict[str, str] = {}
    for name, text in node_texts.items():
        width, height = text_size(text, fonts.node, family)
        if name in spec.latent:
            sizes[name] = (max(MIN_NODE_WIDTH, width * 1.25 + 0.3),
                           max(NODE_HEIGHT, height * 1.3 + 0.15))
            shapes[name] = "ellipse"
        else:
            sizes[name] = (width + 0.3, BOX_HEIGHT + height)
            shapes[name] = "box"
    return sizes, shapes


def compute_layout(spec: ModelSpec, node_texts: dict[str, str], *, indicators: bool = True,
                   family: str | None = None,
                   placement: str | dict[str, Position] = "auto",
                   fonts: Fonts = Fonts()) -> Layout:
    """Place the constructs on a grid and their indicators beside them.

    Args:
        spec: the model.
        node_texts: ``{structural variable: text drawn in it}`` (sizes follow from it).
        indicators: whether the indicators are drawn.
        family: font family of the construct texts (None: matplotlib's default).
        placement: ``"auto"``, ``"causal"`` or ``{construct: Position}`` (a model file's
            ``# layout:``).
        fonts: the text sizes.
    """
    layers = causal_layers(spec)
    sizes, shapes = node_sizes(spec, node_texts, family, fonts)
    boxes = indicator_boxes(spec, fonts) if indicators else {}
    boxes = {name: items for name, items in boxes.items() if name in layers}
    if isinstance(placement, dict):
        _check_placement(placement, layers)
        grid = {name: (place.column, place.row) for name, place in placement.items()}
        sides = _declared_sides(grid, placement, sizes, boxes,
                                [(p, o) for o, p in layout_paths(spec)])
    elif placement == "causal":
        grid, sides, _ = _searched_grid(spec, layers, sizes, boxes)
    elif placement == "auto" and max(layers.values()) == 0:
        grid, sides = _measurement_grid(layers)
    elif placement == "auto":
        grid, sides = _auto_grid(spec, layers, sizes, boxes)
    else:
        from acsi_sem.errors import AcsiSemError

        raise AcsiSemError(f"unknown layout {placement!r}; choose one of {', '.join(LAYOUTS)} "
                           "or give {construct: Position}")
    centres = place_grid(grid, sides, sizes, boxes)
    for items in boxes.values():
        for item, width in items:
            sizes[item] = (width, BOX_HEIGHT)
            shapes[item] = "box"
    return Layout(layers, grid, centres, sizes, shapes, sides, fonts)
