"""Plots of a fit: the 0-100 index (overall and per group), the importance-performance map
and bootstrap distributions. Each function returns a matplotlib Figure; none estimates.

Elements carry a ``gid`` (``bar:NAME``, ``point:NAME``, ``hist:STATISTIC``) for tests and
the SVG output.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from acsi_sem.errors import AcsiSemError
from acsi_sem.report.diagram import causal_layers, display_labels
from acsi_sem.report.palette import BAR_COLOUR, GROUP_COLOURS

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from acsi_sem.results import FitResult

def _shown_names(result: FitResult, labels: dict[str, str] | None
                 ) -> tuple[dict[str, str], dict]:
    """Construct names to show and the text properties they need: CJK labels get a CJK
    font, or fall back to the model's names with a ``UserWarning`` (as the diagram)."""
    shown, family, note = display_labels(result.spec, labels)
    if note:
        warnings.warn(note, UserWarning, stacklevel=3)
    return shown, ({"family": family} if family else {})


def _index_or_error(result: FitResult) -> pd.Series:
    if result.index is None:
        raise AcsiSemError("this fit has no 0-100 index: it needs an answer scale ('# scale: "
                           "1-10' or scale=(1, 10)) and PLS, PLSc, or single-group ML or MLR")
    return result.index


def causal_order(result: FitResult, names) -> list[str]:
    """``names`` sorted by causal column (exogenous first), ties in model order."""
    layers = causal_layers(result.spec)
    position = {name: i for i, name in enumerate(result.spec.latent)}
    return sorted(names, key=lambda n: (layers.get(n, 0), position.get(n, 0)))


def index_plot(result: FitResult, *, labels: dict[str, str] | None = None) -> Figure:
    """Horizontal bars of the 0-100 index per construct in causal order (exogenous on
    top), with the bootstrap interval as whiskers when there is one.

    Args:
        result: a PLS fit with an index.
        labels: ``{construct: shown name}``; Chinese labels need a CJK font (else the
            model's names are shown, with a warning).
    """
    import matplotlib.pyplot as plt

    index = _index_or_error(result)
    shown, font = _shown_names(result, labels)
    names = causal_order(result, index.index)[::-1]
    values = index[names].to_numpy()
    figure, axes = plt.subplots(figsize=(6.4, 0.45 * len(names) + 1.2),
                                layout="constrained")
    bars = axes.barh(range(len(names)), values, color=BAR_COLOUR, height=0.6)
    for bar, name in zip(bars, names, strict=True):
        bar.set_gid(f"bar:{name}")
    low, high = _index_intervals(result, names)
    if low is not None:
        axes.errorbar(values, range(len(names)), xerr=[values - low, high - values], fmt="none",
                      ecolor="#222222", capsize=3, linewidth=1, gid="intervals")
    for row, value in enumerate(values):
        right = value if high is None else max(value, high[row])
        axes.text(right + 1.0, row, f"{value:.1f}", va="center", fontsize=9,
                  gid=f"value:{names[row]}")
    axes.set_yticks(range(len(names)), [shown.get(n, n) for n in names], **font)
    axes.set_xlim(0, 105)
    axes.set_xlabel("index (0-100)" + ("; whiskers: " + _interval_text(result)
                                        if low is not None else ""))
    axes.set_title(f"{result.title}: 0-100 index", fontsize=10, loc="left")
    axes.spines[["top", "right"]].set_visible(False)
    return figure


def _interval_text(result: FitResult) -> str:
    boot = result.bootstrap
    return f"{boot.level:.0%} {boot.interval} bootstrap interval"


def _index_intervals(result: FitResult, names: list[str]
                     ) -> tuple[np.ndarray | None, np.ndarray | None]:
    if result.bootstrap is None:
        return None, None
    intervals = result.bootstrap.intervals()
    keys = [f"index: {n}" for n in names]
    if not all(key in intervals.index for key in keys):
        return None, None
    return (intervals.loc[keys, "ci_lower"].to_numpy(),
            intervals.loc[keys, "ci_upper"].to_numpy())


def index_by_group_plot(result: FitResult, *, labels: dict[str, str] | None = None
                        ) -> Figure:
    """Grouped horizontal bars: for each construct one bar per group (``--group``), the
    group sizes in the legend."""
    import matplotlib.pyplot as plt

    if result.index_by_group is None:
        raise AcsiSemError("this fit has no index by group: fit by PLS with group='COLUMN'")
    shown, font = _shown_names(result, labels)
    table = result.index_by_group
    names = causal_order(result, [c for c in table.columns if c != "n"])[::-1]
    groups = list(table.index)
    height = 0.8 / len(groups)
    figure, axes = plt.subplots(figsize=(6.8, (0.3 + 0.22 * len(groups)) * len(names) + 1.3),
                                layout="constrained")
    for k, group in enumerate(groups):
        offsets = np.arange(len(names)) + 0.4 - height * (k + 0.5)  # first group on top
        size = f" (n = {int(table.loc[group, 'n'])})" if "n" in table.columns else ""
        bars = axes.barh(offsets, table.loc[group, names].to_numpy(dtype=float),
                         height=height * 0.92, label=f"{group}{size}",
                         color=GROUP_COLOURS[k % len(GROUP_COLOURS)])
        for bar, name in zip(bars, names, strict=True):
            bar.set_gid(f"bar:{group}:{name}")
    axes.set_yticks(range(len(names)), [shown.get(n, n) for n in names], **font)
    axes.set_xlim(0, 100)
    axes.set_xlabel("index (0-100)")
    axes.legend(loc="lower right", fontsize=8, frameon=False)
    axes.set_title(f"{result.title}: index by group", fontsize=10, loc="left")
    axes.spines[["top", "right"]].set_visible(False)
    return figure


def default_target(result: FitResult) -> str:
    """The construct the model leads to: the last causal column (loyalty in the CSI
    models), ties broken by model order."""
    return causal_order(result, result.spec.latent)[-1]


def importance_performance(result: FitResult, target: str | None = None) -> pd.DataFrame:
    """The importance-performance table for ``target``.

    Importance is the standardized total effect (``effects.total_std_all``) of each
    construct with a path to ``target``; performance its 0-100 index. Interaction terms
    have no index and are left out.

    Returns:
        DataFrame indexed by construct with ``importance`` and ``performance``, ordered by
        importance (largest first).
    """
    index = _index_or_error(result)
    target = target or default_target(result)
    if target not in result.spec.latent:
        raise AcsiSemError(f"no construct named {target!r}; the model's constructs are: "
                           f"{', '.join(result.spec.latent)}")
    effects = result.effects[(result.effects["lhs"] == target)
                             & (result.effects["total_std_all"].abs() > 0)
                             & result.effects["rhs"].isin(index.index)]
    if effects.empty:
        raise AcsiSemError(f"no construct has an effect on {target!r}; choose an "
                           "endogenous target")
    table = pd.DataFrame({"importance": effects["total_std_all"].to_numpy(),
                          "performance": index[effects["rhs"]].to_numpy()},
                         index=pd.Index(effects["rhs"], name="construct"))
    return table.sort_values("importance", ascending=False)


def importance_performance_plot(result: FitResult, target: str | None = None, *,
                                labels: dict[str, str] | None = None) -> Figure:
    """The importance-performance map: total effect on ``target`` (x) against the 0-100
    index (y), with dashed lines at the means dividing it into quadrants. Constructs at the
    bottom right (important, performing below average) are where to act first."""
    import matplotlib.pyplot as plt

    table = importance_performance(result, target)
    target = target or default_target(result)
    shown, font = _shown_names(result, labels)
    figure, axes = plt.subplots(figsize=(6.4, 4.8), layout="constrained")
    for name, row in table.iterrows():
        axes.scatter(row["importance"], row["performance"], s=45, color=BAR_COLOUR,
                     zorder=3, gid=f"point:{name}")
        axes.annotate(shown.get(name, name), (row["importance"], row["performance"]),
                      xytext=(6, 4), textcoords="offset points", fontsize=9,
                      gid=f"name:{name}", **font)
    axes.axvline(table["importance"].mean(), color="#888888", linestyle="--", linewidth=0.8)
    axes.axhline(table["performance"].mean(), color="#888888", linestyle="--", linewidth=0.8)
    spread_x = max(np.ptp(table["importance"].to_numpy()), 0.05)
    spread_y = max(np.ptp(table["performance"].to_numpy()), 5.0)
    axes.set_xlim(min(0.0, table["importance"].min()) - 0.1 * spread_x,
                  table["importance"].max() + 0.35 * spread_x)
    axes.set_ylim(table["performance"].min() - 0.25 * spread_y,
                  table["performance"].max() + 0.25 * spread_y)
    axes.set_xlabel(f"importance: standardized total effect on {shown.get(target, target)}",
                    **font)
    axes.set_ylabel("performance: index (0-100)")
    axes.set_title(f"{result.title}\nimportance-performance map for "
                   f"{shown.get(target, target)}", fontsize=10, loc="left", **font)
    axes.spines[["top", "right"]].set_visible(False)
    return figure


def bootstrap_plot(result: FitResult, statistics: list[str] | None = None, *,
                   columns: int = 4) -> Figure:
    """Histograms of the bootstrap draws, one panel per statistic, with the estimate (solid)
    and the reported interval (dashed).

    Args:
        result: a fit with a bootstrap.
        statistics: names from ``result.bootstrap.names`` (e.g. ``"Loyalty ~
            Satisfaction"``, ``"index: Loyalty"``); default every structural path.
        columns: panels per row.
    """
    import matplotlib.pyplot as plt

    boot = result.bootstrap
    if boot is None:
        raise AcsiSemError("this fit has no bootstrap: fit with bootstrap=N (--bootstrap N)")
    if statistics is None:
        statistics = [f"{outcome} ~ {predictor}"
                      for outcome, predictor in result.spec.structural_paths]
    unknown = [name for name in statistics if name not in boot.names]
    if unknown:
        raise AcsiSemError(f"no bootstrap statistic named {unknown[0]!r}; see "
                           "result.bootstrap.names")
    intervals = boot.intervals()
    rows = -(-len(statistics) // columns)
    figure, grid = plt.subplots(rows, columns, figsize=(2.6 * columns, 2.0 * rows),
                                layout="constrained", squeeze=False)
    for axes, name in zip(grid.flat, statistics, strict=False):
        draws = boot.draws[:, boot.names.index(name)]
        axes.hist(draws, bins=min(30, max(8, len(draws) // 10)), color="#9db7d5",
                  edgecolor="white", gid=f"hist:{name}")
        axes.axvline(intervals.loc[name, "estimate"], color="#1f3b73", linewidth=1.4)
        for bound in ("ci_lower", "ci_upper"):
            axes.axvline(intervals.loc[name, bound], color="#b8493f", linestyle="--",
                         linewidth=1)
        axes.set_title(name, fontsize=8)
        axes.tick_params(labelsize=7)
        axes.locator_params(axis="x", nbins=5)  # readable ticks in a narrow panel
        axes.set_yticks([])
    for axes in list(grid.flat)[len(statistics):]:
        axes.set_visible(False)
    figure.suptitle(f"Bootstrap distributions ({len(boot.draws)} replicates; dashed: "
                    f"{_interval_text(result)})", fontsize=9)
    return figure


def simple_slopes_figure(result: FitResult, term: str | None = None) -> Figure:
    """The simple-slopes plot of an interaction term ``A:B`` (default: the model's first):
    the outcome against A, both in SD units, as the regression predicts it at B one SD
    below its mean, at its mean and one SD above (line styles differ, so the plot reads in
    grayscale). Lines carry ``gid`` ``slope:-1``, ``slope:0``, ``slope:+1``.

    Raises:
        AcsiSemError: the model has no interaction term, or none named ``term``.
    """
    import matplotlib.pyplot as plt

    from acsi_sem.statistics.moderation import LEVELS

    table = result.moderation()
    term = term or table["term"].iloc[0]
    rows = table[table["term"] == term]
    if rows.empty:
        raise AcsiSemError(f"no interaction term {term!r}; the model's are "
                           f"{', '.join(dict.fromkeys(table['term']))}")
    first = rows.iloc[0]
    paths = result.parameters[result.parameters["op"] == "~"].set_index(["lhs", "rhs"])
    moderator_path = paths.at[(first["outcome"], first["moderator"]), "est"]
    # The product term is centred: at A = B = 0 it sits at -mean(A B).
    offset = -first["estimate"] * float(
        (result.scores[first["independent"]] * result.scores[first["moderator"]]).mean())
    shown, font = _shown_names(result, None)
    x = np.linspace(-2, 2, 2)
    figure, axes = plt.subplots(figsize=(5.2, 3.6), layout="constrained")
    for level, slope, style in zip(LEVELS, rows["estimate"].iloc[1:], ("--", "-", ":"),
                                   strict=True):
        axes.plot(x, slope * x + moderator_path * level + offset, style, color="#222222",
                  gid=f"slope:{level:+g}".replace("+0", "0"),
                  label=f"{shown.get(first['moderator'], first['moderator'])} at "
                        f"{level:+g} SD (slope {slope:.3f})".replace("+0 SD", "mean"))
    axes.set_xlabel(f"{shown.get(first['independent'], first['independent'])} (SD)", **font)
    axes.set_ylabel(f"{shown.get(first['outcome'], first['outcome'])} (SD)", **font)
    axes.set_title(f"Simple slopes: {term}", fontsize=10, loc="left")
    axes.legend(frameon=False, prop={"size": 8, **font})
    axes.spines[["top", "right"]].set_visible(False)
    return figure
