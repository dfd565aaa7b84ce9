"""Loyalty and satisfaction metrics with bootstrap intervals.

Each metric is a mean over the respondents it concerns, so one resampling rule serves all:
respondents are drawn with replacement (within each group) and the interval is the bootstrap
percentile interval.

- **repeat-purchase rate**: among buyers (at least one purchase), the share who bought at
  least ``repeat`` times;
- **share of wallet**: the mean over respondents with category spend of brand spend /
  category spend (the customer-level definition; the brand's share of all category spend is
  ``sum(brand) / sum(category)`` and is reported beside it as ``aggregate``);
- **price tolerance**: the mean stated price rise (in the column's unit, e.g. percent)
  tolerated before switching;
- **complaint rate**: the share of respondents who complained (a 0/1 column, or a count of
  complaints > 0).

Retention and churn come from a panel: of the customers (at least one purchase) in a wave
who answered the next wave, the share still buying there is the retention rate; churn is one
minus it. Respondents absent from the next wave are left out, not counted as lost: a panel
drop-out is a non-response, not a defection.
"""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import pandas as pd

from acsi_sem.errors import DataError
from acsi_sem.loyalty.inputs import Variable, answered, group_column, group_levels, not_a_count

METRICS = ("repeat_purchase_rate", "share_of_wallet", "price_tolerance", "complaint_rate")
_COLUMNS = ["n", "estimate", "bootstrap_se", "ci_lower", "ci_upper"]


def loyalty_metrics(data: pd.DataFrame, *, purchases: Variable | None = None,
                    repeat: int = 2, brand_spend: Variable | None = None,
                    category_spend: Variable | None = None,
                    price_tolerance: Variable | None = None,
                    complained: Variable | None = None, group: Variable | None = None,
                    replicates: int = 2000, level: float = 0.95,
                    seed: int | np.random.Generator | None = None,
                    source: str = "<DataFrame>") -> pd.DataFrame:
    """The metrics whose columns are named, overall or per group.

    Args:
        data: the survey, one row per respondent.
        purchases: purchases in the period (a count): the repeat-purchase rate.
        repeat: purchases that make a repeat buyer (at least 2).
        brand_spend, category_spend: spend with the brand and in the whole category (same
            currency, brand <= category): share of wallet.
        price_tolerance: stated price rise tolerated before switching.
        complained: 0/1 (or a count): the complaint rate.
        group: a column or Series of group labels; None: all respondents.
        replicates: bootstrap replicates (0: no interval).
        level: confidence level of the interval.
        seed: seed or generator; the same seed gives the same intervals.
        source: the data's name, for error messages.

    Returns:
        One row per (group, metric), index ``group`` and ``metric``, columns ``n`` (the
        respondents the metric concerns), ``estimate`` (0-1 for rates and shares),
        ``bootstrap_se``, ``ci_lower``, ``ci_upper`` and ``aggregate`` (share of wallet's
        sum-over-sum; NaN elsewhere).

    Raises:
        DataError: no metric's columns named, bad answers, or a group with no respondent
            for a metric.
    """
    per_row = _per_respondent(data, purchases=purchases, repeat=repeat,
                              brand_spend=brand_spend, category_spend=category_spend,
                              price_tolerance=price_tolerance, complained=complained,
                              source=source)
    labels = group_column(data, group, source=source)
    groups = ({"all": per_row} if labels is None else
              {level_: per_row[(labels == level_).to_numpy()] for level_ in group_levels(labels)})
    rng = np.random.default_rng(seed)
    rows = {}
    for name, frame in groups.items():
        for metric in [m for m in METRICS if m in frame.columns]:
            values = frame[metric].dropna().to_numpy(dtype=float)
            if values.size == 0:
                raise DataError(f"{source}: group {name} has no respondent for {metric}")
            row = dict(zip(_COLUMNS, (values.size, values.mean(),
                                      *bootstrap_mean(values, replicates, level, rng)),
                           strict=True))
            row["aggregate"] = (_aggregate_share(frame) if metric == "share_of_wallet"
                                else np.nan)
            rows[(name, metric)] = row
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index = pd.MultiIndex.from_tuples(table.index, names=["group", "metric"])
    return table


def retention_rates(panel: pd.DataFrame, respondent: str, wave: str, purchases: Variable, *,
                    replicates: int = 2000, level: float = 0.95,
                    seed: int | np.random.Generator | None = None,
                    source: str = "<DataFrame>") -> pd.DataFrame:
    """Retention and churn between consecutive waves of a panel.

    Args:
        panel: one row per respondent and wave.
        respondent: the column of respondent ids (one row per id in each wave).
        wave: the column of wave labels, ordered by their sort order.
        purchases: purchases in the wave (a count); a customer bought at least once.
        replicates, level, seed: the bootstrap percentile interval of the retention rate.
        source: the data's name, for error messages.

    Returns:
        One row per pair of consecutive waves: ``from``, ``to``, ``customers`` (customers of
        the earlier wave who answered the later one), ``retained``, ``lost``, ``won`` (buyers
        of the later wave who had not bought in the earlier), ``retention``, ``churn`` (0-1),
        ``bootstrap_se``, ``ci_lower`` and ``ci_upper`` (of retention).

    Raises:
        DataError: fewer than two waves, a repeated id within a wave, bad counts, or a wave
            with no customer who answered the next one.
    """
    for column in (respondent, wave):
        if column not in panel.columns:
            raise DataError(f"{source}: no column {column!r}; the panel has columns: "
                            f"{', '.join(map(str, panel.columns))}")
    bought = answered(panel, purchases, role="purchases", source=source, invalid=not_a_count,
                      problem="is not a count of purchases (a whole number, at least 0)")
    repeated = panel.duplicated([wave, respondent])
    if repeated.any():
        first = panel.loc[repeated].iloc[0]
        raise DataError(f"{source}: respondent {first[respondent]} appears twice in wave "
                        f"{first[wave]}; give each respondent one row per wave")
    buying = pd.DataFrame({"id": panel[respondent], "wave": panel[wave], "buyer": bought > 0}
                          ).pivot(index="id", columns="wave", values="buyer")
    waves = sorted(buying.columns, key=str)
    if len(waves) < 2:
        raise DataError(f"{source}: {wave} has {len(waves)} wave(s); retention needs two")
    rng = np.random.default_rng(seed)
    rows = [_retention_row(buying, earlier, later, replicates, level, rng, source)
            for earlier, later in pairwise(waves)]
    return pd.DataFrame(rows)


def bootstrap_mean(values: np.ndarray, replicates: int, level: float,
                   rng: np.random.Generator) -> tuple[float, float, float]:
    """Bootstrap SE and percentile interval ``(se, lower, upper)`` of the mean of the (n,)
    ``values``; NaNs without replicates. Memory stays at about 8 MB a chunk."""
    if replicates <= 0:
        return np.nan, np.nan, np.nan
    chunk = max(1, 1_000_000 // values.size)
    means = np.concatenate([
        values[rng.integers(0, values.size, size=(min(chunk, replicates - start),
                                                   values.size))].mean(axis=1)
        for start in range(0, replicates, chunk)])
    tail = (1 - level) / 2
    se = float(means.std(ddof=1)) if replicates > 1 else np.nan
    return se, float(np.quantile(means, tail)), float(np.quantile(means, 1 - tail))


def _per_respondent(data: pd.DataFrame, *, purchases, repeat, brand_spend, category_spend,
                    price_tolerance, complained, source) -> pd.DataFrame:
    """Each respondent's contribution to each named metric (NaN: not concerned)."""
    if repeat < 2:
        raise DataError(f"repeat must be at least 2 purchases; got {repeat}")
    if (brand_spend is None) != (category_spend is None):
        raise DataError("share of wallet needs both brand_spend and category_spend")
    columns = {}
    if purchases is not None:
        bought = answered(data, purchases, role="purchases", source=source,
                          invalid=not_a_count, problem="is not a count of purchases")
        columns["repeat_purchase_rate"] = (bought >= repeat).astype(float).where(bought > 0)
    if brand_spend is not None:
        category = answered(data, category_spend, role="category spend", source=source,
                            invalid=lambda v: v < 0, problem="is a negative spend")
        brand = answered(data, brand_spend, role="brand spend", source=source,
                         invalid=lambda v: (v < 0) | (v > category),
                         problem="is a negative brand spend or more than the category spend")
        columns["share_of_wallet"] = (brand / category).where(category > 0)
        columns["brand_spend"], columns["category_spend"] = brand, category
    if price_tolerance is not None:
        columns["price_tolerance"] = answered(data, price_tolerance, role="price tolerance",
                                              source=source)
    if complained is not None:
        columns["complaint_rate"] = (answered(data, complained, role="complaints",
                                              source=source, invalid=lambda v: v < 0,
                                              problem="is a negative count") > 0
                                     ).astype(float)
    if not columns:
        raise DataError("name at least one metric's column: purchases, brand_spend with "
                        "category_spend, price_tolerance or complained")
    return pd.DataFrame(columns)


def _aggregate_share(frame: pd.DataFrame) -> float:
    return float(frame["brand_spend"].sum() / frame["category_spend"].sum())


def _retention_row(buying: pd.DataFrame, earlier, later, replicates: int, level: float,
                   rng: np.random.Generator, source: str) -> dict:
    both = buying[[earlier, later]].dropna()
    customers = both[both[earlier].astype(bool)]
    if customers.empty:
        raise DataError(f"{source}: no customer of wave {earlier} answered wave {later}; "
                        "retention is undefined")
    stayed = customers[later].astype(bool).to_numpy(dtype=float)
    se, lower, upper = bootstrap_mean(stayed, replicates, level, rng)
    won = int((~both[earlier].astype(bool) & both[later].astype(bool)).sum())
    return {"from": earlier, "to": later, "customers": stayed.size,
            "retained": int(stayed.sum()), "lost": int(stayed.size - stayed.sum()),
            "won": won, "retention": stayed.mean(), "churn": 1 - stayed.mean(),
            "bootstrap_se": se, "ci_lower": lower, "ci_upper": upper}
