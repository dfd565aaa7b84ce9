"""Figures sized for print: a journal's column (85 mm) or its page width (175 mm).

``for_print(figure, "column")`` resizes any figure of the package in place and returns it.
A chart (index bars, loyalty and Kano figures, ...) is set at the width with journal text
sizes (7 pt in a column, 8 pt across the page) and laid out again, so its text stays
legible; a path diagram, whose geometry is measured in its own text, is scaled as a whole,
as a printer would. :func:`print_problems` lists what would make the printed figure hard to
read: text below 6 pt, text leaving the figure, texts on top of each other.
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING

from acsi_sem.errors import AcsiSemError

if TYPE_CHECKING:
    from matplotlib.figure import Figure
    from matplotlib.text import Text

MM_PER_INCH = 25.4
WIDTHS_MM = {"column": 85.0, "page": 175.0}
TEXT_POINTS = {"column": 7.0, "page": 8.0}   # body text of a chart at that width
MIN_POINTS = 6.0                              # the smallest text most journals accept
CREATED_POINTS = 10.0                         # matplotlib's default text size


def width_inches(width: str | float) -> float:
    """``"column"``, ``"page"`` or a width in millimetres, as inches.

    Raises:
        AcsiSemError: an unknown name or a width that is not positive.
    """
    if isinstance(width, str):
        if width not in WIDTHS_MM:
            raise AcsiSemError(f"unknown print width {width!r}; choose one of "
                               f"{', '.join(WIDTHS_MM)} or give millimetres")
        return WIDTHS_MM[width] / MM_PER_INCH
    if not width > 0:
        raise AcsiSemError(f"a print width must be positive millimetres, not {width!r}")
    return float(width) / MM_PER_INCH


def is_diagram(figure: Figure) -> bool:
    """Whether ``figure`` is a path diagram of :mod:`acsi_sem.report.diagram`."""
    return any(text.get_gid() == "label:title" for axes in figure.axes for text in axes.texts)


def for_print(figure: Figure, width: str | float = "page") -> Figure:
    """Resize ``figure`` (in place) to ``width``: ``"column"`` (85 mm), ``"page"``
    (175 mm) or millimetres. Returns the figure, e.g.
    ``for_print(result.plot(), "page").savefig("model.pdf")``."""
    inches = width_inches(width)
    if is_diagram(figure):
        _scale_uniformly(figure, inches / figure.get_size_inches()[0])
        return figure
    points = TEXT_POINTS["column" if inches <= width_inches("column") + 1e-9 else "page"]
    factor = points / CREATED_POINTS
    old_height = figure.get_size_inches()[1]
    # Text shrinks by ``factor``; the height follows it, so rows of bars or labels keep
    # their spacing relative to the text.
    figure.set_size_inches(inches, max(old_height * factor, inches * 0.45))
    for text in _texts(figure):
        text.set_fontsize(max(MIN_POINTS, text.get_fontsize() * factor))
    for axes in figure.axes:
        # Tick labels are made anew at each draw, from the axis' tick settings.
        for name, axis in (("x", axes.xaxis), ("y", axes.yaxis)):
            size = axis.get_tick_params().get("labelsize", CREATED_POINTS)
            size = size if isinstance(size, (int, float)) else CREATED_POINTS
            axes.tick_params(axis=name, labelsize=max(MIN_POINTS, size * factor))
    _wrap_long_texts(figure)
    separate_point_labels(figure)
    return figure


# Where a point's label may sit, best first: (x, y) offset in points and its alignment.
_LABEL_SPOTS = (((4, 4), "left", "bottom"), ((4, -4), "left", "top"),
                ((-4, 4), "right", "bottom"), ((-4, -4), "right", "top"),
                ((0, 7), "center", "bottom"), ((0, -7), "center", "top"))


def separate_point_labels(figure: Figure) -> None:
    """Move each label of a point (an annotation offset in points) to the first spot
    around its point where it overlaps no other text and stays inside its axes."""
    from matplotlib.text import Annotation

    renderer = _renderer(figure)
    for axes in figure.axes:
        labels = [text for text in axes.texts if isinstance(text, Annotation)
                  and text.get_text() and text.anncoords == "offset points"]
        others = [text.get_window_extent(renderer) for text in _texts(figure)
                  if text not in labels]
        frame = axes.get_window_extent(renderer)
        for label in labels:
            for offset, horizontal, vertical in _LABEL_SPOTS:
                label.set_position(offset)
                label.set_ha(horizontal)
                label.set_va(vertical)
                box = label.get_window_extent(renderer)
                inside = (frame.x0 <= box.x0 and box.x1 <= frame.x1 and frame.y0 <= box.y0
                          and box.y1 <= frame.y1)
                if inside and not any(_meet(box, other) for other in others):
                    break
            others.append(label.get_window_extent(renderer))


def _meet(a, b) -> bool:
    return min(a.x1, b.x1) - max(a.x0, b.x0) > 1 and min(a.y1, b.y1) - max(a.y0, b.y0) > 1


def _scale_uniformly(figure: Figure, factor: float) -> None:
    """Everything smaller by ``factor``: size, text, lines and arrow heads."""
    width, height = figure.get_size_inches()
    figure.set_size_inches(width * factor, height * factor)
    for text in _texts(figure):
        text.set_fontsize(text.get_fontsize() * factor)
    for axes in figure.axes:
        for patch in axes.patches:
            patch.set_linewidth(patch.get_linewidth() * factor)
            if hasattr(patch, "set_mutation_scale"):
                patch.set_mutation_scale(patch.get_mutation_scale() * factor)


def _texts(figure: Figure) -> list[Text]:
    """The texts a rendering shows: visible, not empty, and for tick labels only those of
    ticks inside the axis' view (matplotlib keeps a few outside, undrawn)."""
    from matplotlib.text import Text

    hidden = set()
    for axes in figure.axes:
        for axis in (axes.xaxis, axes.yaxis):
            low, high = sorted(axis.get_view_interval())
            span = (high - low) * 1e-9
            for tick in [*axis.get_major_ticks(), *axis.get_minor_ticks()]:
                if not axes.axison or not low - span <= tick.get_loc() <= high + span:
                    hidden.update((id(tick.label1), id(tick.label2)))
    return [text for text in figure.findobj(Text)
            if text.get_visible() and text.get_text() and id(text) not in hidden]


def _renderer(figure: Figure):
    """A renderer for ``figure``; pyplot-free figures get an Agg canvas first."""
    if not hasattr(figure.canvas, "get_renderer"):
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        FigureCanvasAgg(figure)
    figure.canvas.draw()
    return figure.canvas.get_renderer()


def _wrap_long_texts(figure: Figure) -> None:
    """Break titles and axis labels wider than the figure into lines that fit."""
    import textwrap

    renderer = _renderer(figure)
    frame = figure.bbox
    # matplotlib has no public accessor for these Text artists (get_suptitle() gives the
    # string); read them defensively so a rename costs only the wrapping.
    suptitle = getattr(figure, "_suptitle", None)
    headings = [*figure.texts, *([suptitle] if suptitle else [])]
    for axes in figure.axes:
        headings += [axes.title, getattr(axes, "_left_title", axes.title),
                     getattr(axes, "_right_title", axes.title), axes.xaxis.label,
                     axes.yaxis.label]
    for text in headings:
        extent = text.get_window_extent(renderer)
        longest = max(extent.width, extent.height)   # a y label runs upwards
        outside = extent.x0 < frame.x0 or extent.x1 > frame.x1
        room = frame.width * (0.75 if outside else 0.92)
        if text.get_text() and (longest > room or outside):
            fits = max(12, int(len(text.get_text()) * room / longest))
            text.set_text("\n".join(textwrap.wrap(text.get_text(), fits)))


def smallest_text(figure: Figure) -> float:
    """The smallest font size (points) of any visible text of ``figure``."""
    return min(text.get_fontsize() for text in _texts(figure))


def print_problems(figure: Figure) -> list[str]:
    """What would make ``figure`` hard to read as printed at its size: texts under
    MIN_POINTS, texts (partly) outside the figure, and texts overlapping each other.

    Returns:
        One sentence per problem, naming the texts; empty when the figure reads well.
    """
    renderer = _renderer(figure)
    shown = [(text, text.get_window_extent(renderer)) for text in _texts(figure)]
    problems = [f"{text.get_text()!r} is {text.get_fontsize():.1f} pt"
                for text, _ in shown if text.get_fontsize() < MIN_POINTS - 1e-9]
    frame = figure.bbox
    problems += [f"{text.get_text()!r} leaves the figure" for text, box in shown
                 if box.x0 < frame.x0 - 1 or box.y0 < frame.y0 - 1
                 or box.x1 > frame.x1 + 1 or box.y1 > frame.y1 + 1]
    for (first, a), (second, b) in itertools.combinations(shown, 2):
        if _meet(a, b):
            problems.append(f"{first.get_text()!r} overlaps {second.get_text()!r}")
    return problems
