"""Colours of the charts, chosen to stay apart in black and white: neighbouring group
colours differ in lightness (samples of matplotlib's cividis map, made for readers with
colour-blindness and for greyscale printing), and marker shapes tell groups apart beyond
four."""

from __future__ import annotations

# cividis at 0, 0.78, 0.42, 0.62, 0.2, 0.9: relative luminance 0.02, 0.45, 0.15, 0.29,
# 0.06, 0.62, so the first four differ by at least 0.13.
GROUP_COLOURS = ("#00224e", "#c3b369", "#6b6d72", "#999277", "#35456c", "#e5cf52")
GROUP_MARKERS = ("o", "s", "^", "D", "v", "P")
BAR_COLOUR = "#3b6ea8"
# Detractors dark, passives light, promoters between (luminance 0.03, 0.69, 0.26).
NPS_COLOURS = {"share_detractors": "#67001f", "share_passives": "#d9d9d9",
               "share_promoters": "#4393c3"}


def relative_luminance(colour) -> float:
    """WCAG relative luminance of a matplotlib colour: 0 for black, 1 for white."""
    from matplotlib.colors import to_rgb

    def linear(channel: float) -> float:
        return channel / 12.92 if channel <= 0.04045 else ((channel + 0.055) / 1.055) ** 2.4

    red, green, blue = (linear(channel) for channel in to_rgb(colour))
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue
