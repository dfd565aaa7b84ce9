"""The satisfaction-loyalty curve, per group.

Loyalty rises with satisfaction, but its shape depends on the market: where customers can
switch easily, loyalty climbs steeply only among the most satisfied; where competition is
weak, even dissatisfied customers stay (Jones & Sasser 1995, "Why satisfied customers
defect", HBR 73(6); Fornell 1992, Journal of Marketing 56(1)). The curve is shown two ways:
the mean loyalty in each satisfaction decile, and a LOWESS smooth (Cleveland 1979) through
the respondents. A straight line per group gives a one-number comparison (its slope).

Deciles are equal-sized: respondents are ranked by satisfaction and ties broken by row
order (``rank(method="first")``), so each decile holds n/10 respondents even on a discrete
item whose answers tie; each decile reports the mean satisfaction of its members.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from acsi_sem.errors import DataError
from acsi_sem.loyalty.inputs import Variable, group_column, group_levels, variable_column
from acsi_sem.loyalty.records import records

ALL = "all"


@dataclass(frozen=True)
class SatisfactionLoyaltyCurve:
    """Loyalty against satisfaction, per group.

    Attributes:
        bins: one row per group and satisfaction bin: ``group``, ``bin`` (1 = least
            satisfied), ``n``, ``satisfaction`` (mean in the bin), ``loyalty`` (mean),
            ``loyalty_se`` (standard error of that mean).
        smooth: the LOWESS fit on a grid of 50 points per group: ``group``,
            ``satisfaction``, ``loyalty``.
        slopes: one row per group: ``n``, ``slope`` (loyalty units per satisfaction
            unit, least squares), ``se``, ``r`` (Pearson correlation).
        satisfaction, loyalty: the variables' names.
    """

    bins: pd.DataFrame
    smooth: pd.DataFrame
    slopes: pd.DataFrame
    satisfaction: str
    loyalty: str

    def to_dict(self) -> dict:
        """Bins, slopes and the smooth as lists of records (for JSON)."""
        return {"satisfaction": self.satisfaction, "loyalty": self.loyalty,
                "bins": records(self.bins), "slopes": records(self.slopes.reset_index()),
                "smooth": records(self.smooth)}


def satisfaction_loyalty_curve(data: pd.DataFrame | None, satisfaction: Variable,
                               loyalty: Variable, *, group: Variable | None = None,
                               bins: int = 10, fraction: float = 2 / 3,
                               source: str = "<DataFrame>") -> SatisfactionLoyaltyCurve:
    """Mean loyalty per satisfaction decile, a LOWESS smooth and a slope, per group.

    Args:
        data: the survey, one row per respondent.
        satisfaction: a column name or a Series (e.g. ``result.scores["Satisfaction"]``).
        loyalty: a column name or a Series (e.g. a loyalty latent score or item).
        group: a column (or Series) of group labels, e.g. the market; ``None``: one curve.
        bins: number of equal-sized satisfaction bins (10: deciles).
        fraction: LOWESS span, the share of respondents used for each local fit.
        source: the data's file name, for error messages.

    Raises:
        DataError: a group with fewer respondents (with both values) than ``bins``, or
            fewer than 2 bins.
    """
    if bins < 2 or not 0 < fraction <= 1:
        raise DataError(f"the curve needs at least 2 bins (got {bins}) and a LOWESS fraction "
                        f"in (0, 1] (got {fraction})")
    x = variable_column(data, satisfaction, role="satisfaction", source=source)
    y = variable_column(data, loyalty, role="loyalty", source=source)
    if isinstance(satisfaction, pd.Series) and isinstance(loyalty, pd.Series):
        y = y.reindex(x.index)
    labels = group_column(data, group, source=source)
    both = x.notna() & y.notna()
    if labels is None:
        members = {ALL: both}
    else:
        members = {name: both & (labels == name) for name in group_levels(labels)}
    pieces = []
    for name, rows in members.items():
        who = "" if labels is None else f"group {name!r} of {labels.name}: "
        if rows.sum() < bins:
            raise DataError(f"{source}: {who}only {int(rows.sum())} respondents with both "
                            f"{x.name} and {y.name}, fewer than the {bins} satisfaction bins; "
                            "use fewer bins or more data")
        if x[rows].nunique() < 2:
            raise DataError(f"{source}: {who}every respondent has the same {x.name}; a curve "
                            "needs satisfaction to vary")
        pieces.append(_group_curve(name, x[rows], y[rows], bins, fraction))
    bin_tables, smooths, slopes = zip(*pieces, strict=True)
    slope_table = pd.DataFrame(list(slopes)).set_index("group")
    return SatisfactionLoyaltyCurve(
        bins=pd.concat(bin_tables, ignore_index=True),
        smooth=pd.concat(smooths, ignore_index=True),
        slopes=slope_table, satisfaction=str(x.name), loyalty=str(y.name))


def _group_curve(name, x: pd.Series, y: pd.Series, bins: int, fraction: float
                 ) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    position = pd.qcut(x.rank(method="first"), bins, labels=range(1, bins + 1))
    grouped = pd.DataFrame({"x": x, "y": y, "bin": position}).groupby("bin", observed=True)
    table = pd.DataFrame({"group": name, "bin": grouped.size().index.astype(int),
                          "n": grouped.size().to_numpy(),
                          "satisfaction": grouped["x"].mean().to_numpy(),
                          "loyalty": grouped["y"].mean().to_numpy(),
                          "loyalty_se": grouped["y"].sem().to_numpy()})
    # statsmodels is imported here, not at the top, to keep the command line quick to start.
    from statsmodels.nonparametric.smoothers_lowess import lowess

    grid = np.linspace(x.min(), x.max(), 50)
    fitted = lowess(y.to_numpy(), x.to_numpy(), frac=fraction, xvals=grid)
    smooth = pd.DataFrame({"group": name, "satisfaction": grid, "loyalty": fitted})
    line = stats.linregress(x.to_numpy(), y.to_numpy())
    slope = {"group": name, "n": len(x), "slope": line.slope, "se": line.stderr,
             "r": line.rvalue}
    return table, smooth, slope

