"""Customer lifetime value and what more retention is worth.

The convention is Gupta and Lehmann's (2003; Gupta, Lehmann & Stuart 2004): a customer
acquired today brings a margin ``m`` at the end of every period in which they are still a
customer; they stay from one period to the next with probability ``r`` (the retention rate)
and money one period away is worth ``1 / (1 + d)`` today (``d`` the discount rate per period).
The expected value of period ``t``'s margin is then ``m r^t / (1 + d)^t``, and

    CLV = sum_{t=1}^{T} m (r / (1 + d))^t  =  m r / (1 + d - r)   as T grows without bound,

less the acquisition cost. The textbook's claim (Reichheld & Sasser 1990) that five more
points of retention raise profit by 25 to 100 per cent is, in this model, the ratio of two
lifetime values: from ``m r / (1 + d - r)`` at r = 0.80 and d = 0.10 (2.67 m) to r = 0.85
(3.40 m) is +27.5%; from r = 0.90 to 0.95, +40.7%.
"""

from __future__ import annotations

import math

import pandas as pd

from acsi_sem.errors import AcsiSemError


def customer_lifetime_value(margin: float, retention: float, discount: float, *,
                            periods: int | None = None, acquisition_cost: float = 0.0) -> float:
    """The expected discounted margin of one customer, less ``acquisition_cost``.

    Args:
        margin: margin per customer and period (any currency).
        retention: probability of staying from one period to the next, in [0, 1).
        discount: discount rate per period (0.1 for 10%), at least 0.
        periods: the horizon in periods; None for no end.
        acquisition_cost: paid once, today.

    Returns:
        The lifetime value, in the unit of ``margin``.

    Raises:
        AcsiSemError: a retention outside [0, 1), a negative discount, or a horizon below 1.
    """
    _check_rates(retention, discount, periods)
    survival = retention / (1 + discount)
    if periods is None:
        value = margin * retention / (1 + discount - retention)
    else:
        value = margin * survival * (1 - survival**periods) / (1 - survival)
    return value - acquisition_cost


def retention_effect(margin: float, retention: float, discount: float, *,
                     increase: float = 0.05, periods: int | None = None,
                     acquisition_cost: float = 0.0) -> pd.Series:
    """How much a customer's lifetime value grows when retention rises by ``increase``.

    Args:
        margin, retention, discount, periods, acquisition_cost: as for
            :func:`customer_lifetime_value`.
        increase: the rise in retention, in proportion points (0.05 for five points).

    Returns:
        ``retention``, ``retention_after``, ``clv``, ``clv_after``, ``change`` (clv_after -
        clv) and ``percent_change`` (100 change / clv; NaN when clv is 0).
    """
    after = retention + increase
    before_value = customer_lifetime_value(margin, retention, discount, periods=periods,
                                           acquisition_cost=acquisition_cost)
    after_value = customer_lifetime_value(margin, after, discount, periods=periods,
                                          acquisition_cost=acquisition_cost)
    change = after_value - before_value
    percent = 100 * change / before_value if before_value else math.nan
    return pd.Series({"retention": retention, "retention_after": after, "clv": before_value,
                      "clv_after": after_value, "change": change, "percent_change": percent})


def retention_table(margin: float, retentions: list[float], discount: float, *,
                    increase: float = 0.05, periods: int | None = None,
                    acquisition_cost: float = 0.0) -> pd.DataFrame:
    """:func:`retention_effect` for each retention rate in ``retentions``: one row each."""
    return pd.DataFrame([retention_effect(margin, retention, discount, increase=increase,
                                          periods=periods, acquisition_cost=acquisition_cost)
                         for retention in retentions])


def estimated_lifetime_value(rates: pd.DataFrame, margin: float, discount: float, *,
                             periods: int | None = None,
                             acquisition_cost: float = 0.0) -> pd.DataFrame:
    """Lifetime value at estimated retention rates, with the interval carried over.

    CLV rises strictly with retention, so the bootstrap percentile interval of the retention
    rate maps onto the percentile interval of CLV exactly: the same replicates, ranked the
    same way.

    Args:
        rates: a :func:`~acsi_sem.loyalty.metrics.retention_rates` table (columns
            ``retention``, ``ci_lower``, ``ci_upper``).
        margin, discount, periods, acquisition_cost: as for :func:`customer_lifetime_value`.

    Returns:
        ``rates`` with ``clv``, ``clv_lower`` and ``clv_upper`` added (unit of ``margin``).
    """
    def value(retention: float) -> float:
        if pd.isna(retention):
            return float("nan")
        return customer_lifetime_value(margin, retention, discount, periods=periods,
                                       acquisition_cost=acquisition_cost)

    return rates.assign(clv=rates["retention"].map(value),
                        clv_lower=rates["ci_lower"].map(value),
                        clv_upper=rates["ci_upper"].map(value))


def _check_rates(retention: float, discount: float, periods: int | None) -> None:
    if not 0 <= retention < 1:
        raise AcsiSemError(f"retention must be at least 0 and below 1 (a share per period, "
                           f"0.8 for 80%); got {retention:g}")
    if discount < 0:
        raise AcsiSemError(f"the discount rate must not be negative; got {discount:g}")
    if periods is not None and periods < 1:
        raise AcsiSemError(f"the horizon must be at least one period; got {periods}")
