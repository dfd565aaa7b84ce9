"""Figures of the loyalty instruments; each takes computed results and estimates nothing.

Every function returns a :class:`matplotlib.figure.Figure` built without pyplot, so no global
figure state is touched and any backend (Agg in tests and reports) can save it:
``figure.savefig("kano.png", dpi=150)``.
"""

from __future__ import annotations

import pandas as pd
from matplotlib.figure import Figure

from acsi_sem.loyalty.curve import SatisfactionLoyaltyCurve
from acsi_sem.loyalty.diamond import LoyaltyDiamond
from acsi_sem.loyalty.kano import CATEGORY_NAMES, KanoEvaluation
from acsi_sem.loyalty.matrix import LoyaltyMatrix
from acsi_sem.loyalty.seven_types import LoyaltyTypes
from acsi_sem.report.palette import GROUP_COLOURS, GROUP_MARKERS, NPS_COLOURS


def nps_figure(table: pd.DataFrame) -> Figure:
    """Stacked bars of detractor, passive and promoter shares per row of a
    :func:`~acsi_sem.loyalty.nps.net_promoter_score` table, labelled with NPS and its interval."""
    figure = Figure(figsize=(7, 1.2 + 0.6 * len(table)), layout="constrained")
    axes = figure.add_subplot()
    labels = [str(label) for label in table.index]
    left = pd.Series(0.0, index=table.index)
    for column, colour in NPS_COLOURS.items():
        axes.barh(labels, table[column], left=left, color=colour,
                  label=column.removeprefix("share_"))
        left = left + table[column]
    for position, (_, row) in enumerate(table.iterrows()):
        interval = ("" if pd.isna(row["ci_lower"])
                    else f" [{row['ci_lower']:.0f}, {row['ci_upper']:.0f}]")
        axes.text(1.01, position, f"NPS {row['nps']:.0f}{interval}", va="center")
    axes.set_xlim(0, 1)
    axes.set_xlabel("share of respondents")
    axes.invert_yaxis()
    axes.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncols=3, frameon=False)
    return figure


def loyalty_matrix_figure(matrix: LoyaltyMatrix) -> Figure:
    """The Dick-Basu quadrant plot: respondents (marker area by how many share a point),
    the two cut-points and each segment's count and share."""
    figure = Figure(figsize=(6, 5), layout="constrained")
    axes = figure.add_subplot()
    points = pd.DataFrame({"x": matrix.attitude, "y": matrix.patronage}).dropna()
    sizes = points.groupby(["x", "y"]).size()
    x, y = zip(*sizes.index, strict=True)
    axes.scatter(x, y, s=12 * sizes.to_numpy(), alpha=0.5, color="#3182bd")
    axes.axvline(matrix.attitude_cut, color="black", linewidth=1)
    axes.axhline(matrix.patronage_cut, color="black", linewidth=1)
    corners = {"loyalty": (0.98, 0.98, "right", "top"),
               "latent loyalty": (0.98, 0.02, "right", "bottom"),
               "spurious loyalty": (0.02, 0.98, "left", "top"),
               "no loyalty": (0.02, 0.02, "left", "bottom")}
    for segment, row in matrix.table.iterrows():
        across, up, horizontal, vertical = corners[segment]
        axes.text(across, up, f"{segment}\n{row['count']} ({100 * row['share']:.0f}%)",
                  transform=axes.transAxes, ha=horizontal, va=vertical, fontweight="bold")
    axes.set_xlabel(f"relative attitude: {matrix.attitude.name}")
    axes.set_ylabel(f"repeat patronage: {matrix.patronage.name}")
    return figure


def satisfaction_loyalty_figure(curve: SatisfactionLoyaltyCurve) -> Figure:
    """Mean loyalty per satisfaction bin (with 95% normal intervals) and the LOWESS curve,
    one colour per group."""
    figure = Figure(figsize=(6.5, 4.5), layout="constrained")
    axes = figure.add_subplot()
    for number, (name, bins) in enumerate(curve.bins.groupby("group", sort=False)):
        colour = GROUP_COLOURS[number % len(GROUP_COLOURS)]
        marker = GROUP_MARKERS[number % len(GROUP_MARKERS)]
        axes.errorbar(bins["satisfaction"], bins["loyalty"], yerr=1.96 * bins["loyalty_se"],
                      fmt=marker, color=colour, capsize=2, label=str(name))
        smooth = curve.smooth[curve.smooth["group"] == name]
        axes.plot(smooth["satisfaction"], smooth["loyalty"], color=colour)
    axes.set_xlabel(f"satisfaction: {curve.satisfaction}")
    axes.set_ylabel(f"loyalty: {curve.loyalty}")
    if curve.bins["group"].nunique() > 1:
        axes.legend(frameon=False)
    return figure


def kano_figure(evaluation: KanoEvaluation) -> Figure:
    """Berger's better-worse diagram: satisfaction coefficient (better) across, the size of
    the dissatisfaction coefficient (|worse|) up, quadrants split at 0.5."""
    figure = Figure(figsize=(6, 5.5), layout="constrained")
    axes = figure.add_subplot()
    summary = evaluation.summary.dropna(subset=["better", "worse"])
    axes.scatter(summary["better"], -summary["worse"], color="#3182bd", zorder=3)
    for feature, row in summary.iterrows():
        axes.annotate(str(feature), (row["better"], -row["worse"]), xytext=(4, 4),
                      textcoords="offset points")
    axes.axvline(0.5, color="grey", linewidth=1)
    axes.axhline(0.5, color="grey", linewidth=1)
    quadrants = {"O": (0.98, 0.98, "right", "top"), "A": (0.98, 0.02, "right", "bottom"),
                 "M": (0.02, 0.98, "left", "top"), "I": (0.02, 0.02, "left", "bottom")}
    for letter, (across, up, horizontal, vertical) in quadrants.items():
        axes.text(across, up, CATEGORY_NAMES[letter], transform=axes.transAxes,
                  ha=horizontal, va=vertical, color="grey")
    axes.set(xlim=(0, 1), ylim=(0, 1), xlabel="better (satisfaction coefficient)",
             ylabel="|worse| (dissatisfaction coefficient)")
    from acsi_sem.report.print_size import separate_point_labels

    separate_point_labels(figure)
    return figure


def lifetime_value_figure(margin: float, discount: float, table: pd.DataFrame, *,
                          periods: int | None = None, acquisition_cost: float = 0.0) -> Figure:
    """Customer lifetime value (in the margin's currency) against the retention rate from 0
    to 0.97, with each row of a
    :func:`~acsi_sem.loyalty.lifetime.retention_table` drawn as a step from its retention to
    the raised one, labelled with the percentage change."""
    import numpy as np

    from acsi_sem.loyalty.lifetime import customer_lifetime_value

    figure = Figure(figsize=(6, 4), layout="constrained")
    axes = figure.add_subplot()
    grid = np.linspace(0, 0.97, 98)
    axes.plot(grid, [customer_lifetime_value(margin, r, discount, periods=periods,
                                             acquisition_cost=acquisition_cost)
                     for r in grid], color="#4d4d4d")
    for _, row in table.iterrows():
        axes.annotate("", xy=(row["retention_after"], row["clv_after"]),
                      xytext=(row["retention"], row["clv"]),
                      arrowprops={"arrowstyle": "->", "color": "#d7301f"})
        axes.annotate(f"+{row['percent_change']:.1f}%", (row["retention"], row["clv"]),
                      textcoords="offset points", xytext=(-40, 8))
    axes.set_xlabel("retention rate per period")
    axes.set_ylabel("customer lifetime value")
    horizon = "no end" if periods is None else f"{periods} periods"
    axes.set_title(f"margin {margin:g}, discount rate {discount:g}, horizon {horizon}",
                   fontsize="medium")
    return figure


def loyalty_ladder_figure(table: pd.DataFrame) -> Figure:
    """The ladder as a chart: one bar per rung of a
    :func:`~acsi_sem.loyalty.ladder.loyalty_ladder` table, prospect at the bottom, labelled
    with count and share."""
    figure = Figure(figsize=(6, 3.6), layout="constrained")
    axes = figure.add_subplot()
    axes.barh(table.index, table["share"], color="#6a8caf")
    for position, (count, share) in enumerate(table[["count", "share"]].to_numpy()):
        axes.text(share, position, f" {int(count)} ({share:.0%})", va="center")
    axes.set_xlim(0, min(1.0, table["share"].max() * 1.3 + 0.05))
    axes.set_xlabel("share of respondents")
    axes.set_title("Loyalty ladder (Christopher, Payne & Ballantyne)", fontsize="medium")
    return figure


def loyalty_diamond_figure(diamond: LoyaltyDiamond) -> Figure:
    """Knox's diamond: involvement up, repertoire breadth to the right, each quadrant's
    count and share in its corner of the rhombus."""
    figure = Figure(figsize=(5, 4.6), layout="constrained")
    axes = figure.add_subplot()
    axes.fill([0, 1, 0, -1], [1, 0, -1, 0], color="#deebf7", edgecolor="black")
    axes.plot([-1, 1], [0, 0], color="black", linewidth=0.8)
    axes.plot([0, 0], [-1, 1], color="black", linewidth=0.8)
    corners = {"loyal": (-0.34, 0.3), "multi-brand": (0.34, 0.3),
               "habitual": (-0.34, -0.3), "switcher": (0.34, -0.3)}
    for name, row in diamond.table.iterrows():
        across, up = corners[name]
        axes.text(across, up, f"{name}\n{int(row['count'])} ({row['share']:.0%})",
                  ha="center", va="center")
    axes.text(0, 1.05, "high involvement", ha="center", va="bottom")
    axes.text(0, -1.05, "low involvement", ha="center", va="top")
    axes.text(-1.05, 0, "narrow\nrepertoire", ha="right", va="center")
    axes.text(1.05, 0, "broad\nrepertoire", ha="left", va="center")
    axes.set_xlim(-1.6, 1.6)
    axes.set_ylim(-1.25, 1.25)
    axes.set_aspect("equal")
    axes.set_axis_off()
    axes.set_title("Loyalty diamond (Knox)", fontsize="medium")
    return figure


def loyalty_types_figure(types: LoyaltyTypes) -> Figure:
    """One bar per loyalty type of a :func:`~acsi_sem.loyalty.seven_types.loyalty_types`
    result, labelled with count and share."""
    table = types.table
    figure = Figure(figsize=(6.5, 3.8), layout="constrained")
    axes = figure.add_subplot()
    axes.barh(table.index, table["share"], color="#6a8caf")
    for position, (count, share) in enumerate(table[["count", "share"]].to_numpy()):
        axes.text(share, position, f" {int(count)} ({share:.0%})", va="center")
    axes.invert_yaxis()
    axes.set_xlim(0, min(1.0, table["share"].max() * 1.3 + 0.05))
    axes.set_xlabel("share of respondents")
    axes.set_title("What holds the customer: seven loyalty types", fontsize="medium")
    return figure


def loyalty_metrics_figure(metrics: pd.DataFrame) -> Figure:
    """One panel per metric of a :func:`~acsi_sem.loyalty.metrics.loyalty_metrics` table:
    each group's estimate with its bootstrap interval."""
    names = list(dict.fromkeys(metrics.index.get_level_values("metric")))
    groups = metrics.index.get_level_values("group").nunique()
    columns = min(2, len(names))
    rows_of_panels = -(-len(names) // columns)
    figure = Figure(figsize=(3.4 * columns, (0.9 + 0.35 * groups) * rows_of_panels + 0.3),
                    layout="constrained")
    for position, metric in enumerate(names):
        axes = figure.add_subplot(rows_of_panels, columns, position + 1)
        rows = metrics.xs(metric, level="metric")
        labels = [str(label) for label in rows.index]
        low = (rows["estimate"] - rows["ci_lower"]).fillna(0)
        high = (rows["ci_upper"] - rows["estimate"]).fillna(0)
        axes.errorbar(rows["estimate"], labels, xerr=[low, high], fmt="o", color="#3182bd",
                      capsize=3)
        axes.set_ylim(len(labels) - 0.5, -0.5)
        axes.set_title(metric.replace("_", " "), fontsize="medium")
    return figure
