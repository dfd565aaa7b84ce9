"""Figures of an index study: the league table per industry, the change chart, the
aggregates over waves and the drivers per industry. Each returns a matplotlib Figure; none
estimates. Elements carry a ``gid`` (``company:NAME``, ``unit:LEVEL:NAME``,
``driver:INDUSTRY:CONSTRUCT``) for tests and the SVG output.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from acsi_sem.report.plots import BAR_COLOUR, GROUP_COLOURS

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from acsi_sem.studies.result import StudyResult

MUTED = "#9a9a9a"


def league_plot(result: StudyResult, construct: str | None = None,
                wave: str | None = None) -> Figure:
    """Each industry's companies ranked by their index, with intervals, and the industry
    index as a dashed line (one panel per industry)."""
    import matplotlib.pyplot as plt

    construct = construct or result.target
    wave = wave or result.waves[-1]
    table = result.league_table(construct, wave)
    industries = list(dict.fromkeys(table["industry"]))
    heights = [max(len(table[table["industry"] == name]), 1) for name in industries]
    figure, axes = plt.subplots(len(industries), 1, squeeze=False, sharex=True,
                                figsize=(6.4, 0.9 + 0.32 * sum(heights) + 0.5 * len(heights)),
                                height_ratios=heights, layout="constrained")
    aggregates = result.indices[(result.indices["level"] == "industry")
                                & (result.indices["construct"] == construct)
                                & (result.indices["wave"] == wave)].set_index("unit")["index"]
    for panel, industry in zip(axes[:, 0], industries, strict=True):
        rows = table[table["industry"] == industry].iloc[::-1]
        y = np.arange(len(rows))
        panel.errorbar(rows["index"], y, xerr=[rows["index"] - rows["ci_lower"],
                                               rows["ci_upper"] - rows["index"]],
                       fmt="none", ecolor=BAR_COLOUR, capsize=2)
        for position, company, value in zip(y, rows["company"], rows["index"], strict=True):
            panel.scatter(value, position, s=28, color=BAR_COLOUR, zorder=3,
                          gid=f"company:{company}")
        panel.set_yticks(y, rows["company"])
        if industry in aggregates.index:
            panel.axvline(aggregates[industry], color=MUTED, linestyle="--", linewidth=0.9)
        panel.set_title(str(industry) if industry is not None else "companies", fontsize=9,
                        loc="left")
        panel.spines[["top", "right"]].set_visible(False)
    axes[-1, 0].set_xlabel(f"{construct} index (0-100), wave {wave}, with "
                           f"{result.level:.0%} intervals; dashed: industry index")
    return figure


def change_chart(result: StudyResult, construct: str | None = None) -> Figure:
    """Each company's index in the last wave (y) against the wave before (x), with both
    intervals; filled points changed significantly (p < .05), the diagonal is no change."""
    import matplotlib.pyplot as plt

    construct = construct or result.target
    figure, axes = plt.subplots(figsize=(6.4, 5.6), layout="constrained")
    if len(result.waves) < 2:
        axes.text(0.5, 0.5, "one wave: no change to show", ha="center", va="center",
                  transform=axes.transAxes)
        axes.set_axis_off()
        return figure
    before, after = result.waves[-2], result.waves[-1]
    rows = _company_pairs(result, construct, before, after)
    industries = list(dict.fromkeys(rows["industry"]))
    for number, industry in enumerate(industries):
        mine = rows[rows["industry"] == industry]
        colour = GROUP_COLOURS[number % len(GROUP_COLOURS)]
        axes.errorbar(mine["index_from"], mine["index_to"],
                      xerr=[mine["index_from"] - mine["lower_from"],
                            mine["upper_from"] - mine["index_from"]],
                      yerr=[mine["index_to"] - mine["lower_to"],
                            mine["upper_to"] - mine["index_to"]],
                      fmt="none", ecolor=colour, alpha=0.5, linewidth=0.8)
        for row in mine.itertuples(index=False):
            significant = row.pvalue < 0.05
            axes.scatter(row.index_from, row.index_to, s=36, color=colour,
                         facecolors=colour if significant else "white", zorder=3,
                         gid=f"company:{row.unit}")
            axes.annotate(row.unit, (row.index_from, row.index_to), xytext=(4, 3),
                          textcoords="offset points", fontsize=7)
        axes.scatter([], [], color=colour, label=str(industry))
    low = min(rows["lower_from"].min(), rows["lower_to"].min()) - 1
    high = max(rows["upper_from"].max(), rows["upper_to"].max()) + 1
    axes.plot([low, high], [low, high], color=MUTED, linestyle="--", linewidth=0.9)
    axes.set_xlim(low, high)
    axes.set_ylim(low, high)
    axes.set_aspect("equal")
    axes.set_xlabel(f"{construct} index, wave {before}")
    axes.set_ylabel(f"{construct} index, wave {after}")
    axes.set_title(f"Change of the {construct} index, {before} to {after}\nfilled: "
                   "significant at 5%; whiskers: intervals", fontsize=10, loc="left")
    if len(industries) > 1:
        axes.legend(fontsize=8, frameon=False, loc="upper left")
    axes.spines[["top", "right"]].set_visible(False)
    return figure


def _company_pairs(result: StudyResult, construct: str, before: str, after: str):
    changes = result.changes[(result.changes["level"] == "company")
                             & (result.changes["construct"] == construct)
                             & (result.changes["wave_from"] == before)
                             & (result.changes["wave_to"] == after)]
    bounds = result.indices[(result.indices["level"] == "company")
                            & (result.indices["construct"] == construct)].set_index(
        ["unit", "wave"])[["ci_lower", "ci_upper"]]
    rows = changes.copy()
    for suffix, wave in (("from", before), ("to", after)):
        keys = list(zip(rows["unit"], [wave] * len(rows), strict=True))
        rows[f"lower_{suffix}"] = bounds.loc[keys, "ci_lower"].to_numpy()
        rows[f"upper_{suffix}"] = bounds.loc[keys, "ci_upper"].to_numpy()
    return rows


def aggregate_plot(result: StudyResult, construct: str | None = None) -> Figure:
    """The national, sector and industry indices across waves with their intervals."""
    import matplotlib.pyplot as plt

    construct = construct or result.target
    rows = result.aggregates(construct)
    figure, axes = plt.subplots(figsize=(6.4, 4.2), layout="constrained")
    position = {wave: t for t, wave in enumerate(result.waves)}
    units = rows[["level", "unit"]].drop_duplicates()
    for number, (level, unit) in enumerate(units.itertuples(index=False)):
        mine = rows[(rows["level"] == level) & (rows["unit"] == unit)]
        x = mine["wave"].map(position).to_numpy() + 0.04 * (number - len(units) / 2)
        national = level == "national"
        colour = "#1b1b1b" if national else GROUP_COLOURS[number % len(GROUP_COLOURS)]
        axes.errorbar(x, mine["index"], yerr=[mine["index"] - mine["ci_lower"],
                                              mine["ci_upper"] - mine["index"]],
                      marker="o", color=colour, capsize=2, linewidth=2.2 if national else 1,
                      label=f"{unit}" if national else f"{unit} ({level})",
                      gid=f"unit:{level}:{unit}")
    axes.set_xticks(range(len(result.waves)), result.waves)
    axes.set_xlabel("wave")
    axes.set_ylabel(f"{construct} index (0-100)")
    axes.legend(fontsize=8, frameon=False, loc="best")
    axes.spines[["top", "right"]].set_visible(False)
    return figure


def drivers_plot(result: StudyResult, target: str | None = None,
                 wave: str | None = None) -> Figure:
    """Importance-performance maps per industry (small multiples): total effect on the
    target (x) against the industry's index (y)."""
    import matplotlib.pyplot as plt

    table = result.drivers(target, wave)
    target = target or result.target
    industries = list(dict.fromkeys(table["industry"]))
    columns = min(len(industries), 3)
    rows = int(np.ceil(len(industries) / columns))
    figure, axes = plt.subplots(rows, columns, squeeze=False, sharex=True, sharey=True,
                                figsize=(3.2 * columns + 0.6, 3.0 * rows + 0.6),
                                layout="constrained")
    for panel, industry in zip(axes.ravel(), industries, strict=False):
        mine = table[table["industry"] == industry]
        panel.scatter(mine["importance"], mine["performance"], color=BAR_COLOUR, s=30)
        for row in mine.itertuples(index=False):
            panel.annotate(row.construct, (row.importance, row.performance), xytext=(4, 3),
                           textcoords="offset points", fontsize=7,
                           gid=f"driver:{industry}:{row.construct}")
        panel.set_title(str(industry), fontsize=9, loc="left")
        panel.spines[["top", "right"]].set_visible(False)
    for panel in axes.ravel()[len(industries):]:
        panel.set_axis_off()
    figure.supxlabel(f"importance: standardized total effect on {target}", fontsize=9)
    figure.supylabel("performance: index (0-100)", fontsize=9)
    return figure
