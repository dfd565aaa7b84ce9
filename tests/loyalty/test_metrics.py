"""Loyalty metrics, retention and lifetime value, worked out by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from acsi_sem.errors import DataError
from acsi_sem.loyalty.lifetime import customer_lifetime_value, estimated_lifetime_value
from acsi_sem.loyalty.metrics import bootstrap_mean, loyalty_metrics, retention_rates

# Buyers are rows 1-3 (two of them bought again); row 1 spent nothing in the category;
# shares 10/20, 30/60, 50/50; two complaints by row 1 count as one complainer.
SURVEY = pd.DataFrame({"bought": [0, 1, 2, 5], "brand": [10, 0, 30, 50],
                       "category": [20, 0, 60, 50], "tolerance": [5, 10, 0, 15],
                       "complained": [0, 2, 1, 0], "market": ["a", "a", "b", "b"]})


def metrics(data=SURVEY, **options):
    return loyalty_metrics(data, purchases="bought", brand_spend="brand",
                           category_spend="category", price_tolerance="tolerance",
                           complained="complained", **options)


def test_estimates_by_hand() -> None:
    table = metrics(replicates=0).loc["all"]
    assert table["n"].tolist() == [3, 3, 4, 4]
    assert table["estimate"].tolist() == pytest.approx([2 / 3, 2 / 3, 7.5, 0.5])
    assert table.loc["share_of_wallet", "aggregate"] == pytest.approx(90 / 130)
    assert np.isnan(table.loc["complaint_rate", "aggregate"])
    assert table["bootstrap_se"].isna().all()


def test_groups_and_a_group_without_respondents() -> None:
    table = metrics(group="market", replicates=0)
    assert table.loc[("a", "repeat_purchase_rate"), ["n", "estimate"]].tolist() == [1, 0]
    assert table.loc[("b", "price_tolerance"), "estimate"] == 7.5
    with pytest.raises(DataError, match="group a has no respondent for share_of_wallet"):
        loyalty_metrics(SURVEY.assign(category=[0, 0, 60, 50], brand=[0, 0, 30, 50]),
                        brand_spend="brand", category_spend="category", group="market")


def test_bootstrap_is_the_percentile_interval_of_resampled_means() -> None:
    values = np.array([0.0, 1.0, 1.0, 0.0, 1.0])
    se, lower, upper = bootstrap_mean(values, 500, 0.9, np.random.default_rng(7))
    draws = values[np.random.default_rng(7).integers(0, 5, size=(500, 5))].mean(axis=1)
    assert se == pytest.approx(draws.std(ddof=1))
    assert (lower, upper) == pytest.approx(tuple(np.quantile(draws, [0.05, 0.95])))
    # Chunked draws of a long sample converge on sigma / sqrt(n) (ddof 0, the plug-in).
    long = np.random.default_rng(1).normal(size=400)
    se, _, _ = bootstrap_mean(long, 8000, 0.95, np.random.default_rng(2))
    assert se == pytest.approx(long.std() / 20, rel=0.05)


def test_same_seed_same_intervals() -> None:
    first, second = metrics(seed=3, replicates=200), metrics(seed=3, replicates=200)
    pd.testing.assert_frame_equal(first, second)
    row = first.loc[("all", "price_tolerance")]
    assert row["ci_lower"] <= row["estimate"] <= row["ci_upper"]


@pytest.mark.parametrize(("change", "message"), [
    ({"brand": [10, 0, 70, 50]}, r"brand, row 3: 70 is a negative brand spend or more"),
    ({"category": [20, -1, 60, 50]}, r"category, row 2: -1 is a negative spend"),
    ({"bought": [0, -1, 2, 5]}, r"bought, row 2: -1 is not a count"),
])
def test_bad_answers_are_named(change, message) -> None:
    with pytest.raises(DataError, match=message):
        metrics(SURVEY.assign(**change))


def test_metrics_need_a_column() -> None:
    with pytest.raises(DataError, match="name at least one metric"):
        loyalty_metrics(SURVEY)
    with pytest.raises(DataError, match="needs both brand_spend and category_spend"):
        loyalty_metrics(SURVEY, brand_spend="brand")


# Wave 1 customers who answered wave 2: ids 1, 2, 4 (id 5 left the panel); id 1 stayed,
# id 3 was won. Wave 2 to 3: customers 1 and 3, both stayed; id 2 was won back.
PANEL = pd.DataFrame({
    "id": [1, 2, 3, 4, 5, 6, 1, 2, 3, 4, 6, 1, 2, 3],
    "wave": [1] * 6 + [2] * 5 + [3] * 3,
    "bought": [2, 1, 0, 3, 1, 0, 1, 0, 2, 0, 0, 4, 1, 1]})


def test_retention_by_hand() -> None:
    rates = retention_rates(PANEL, "id", "wave", "bought", replicates=0)
    assert rates[["from", "to", "customers", "retained", "lost", "won"]].values.tolist() == [
        [1, 2, 3, 1, 2, 1], [2, 3, 2, 2, 0, 1]]
    assert rates["retention"].tolist() == pytest.approx([1 / 3, 1])
    assert rates["churn"].tolist() == pytest.approx([2 / 3, 0])


@pytest.mark.parametrize(("panel", "message"), [
    (PANEL[PANEL["wave"] == 1], "has 1 wave"),
    (pd.concat([PANEL, PANEL.iloc[[0]]]), "respondent 1 appears twice in wave 1"),
    (PANEL.assign(bought=[0] * 6 + [1] * 8), "no customer of wave 1 answered wave 2"),
    (PANEL.drop(columns="id"), "no column 'id'"),
])
def test_retention_errors(panel, message) -> None:
    with pytest.raises(DataError, match=message):
        retention_rates(panel, "id", "wave", "bought")


def test_lifetime_value_carries_the_interval_over() -> None:
    rates = pd.DataFrame({"retention": [0.5], "ci_lower": [0.4], "ci_upper": [0.6]})
    valued = estimated_lifetime_value(rates, margin=100, discount=0.1)
    # m r / (1 + d - r) at r = 0.5, 0.4 and 0.6.
    assert valued[["clv", "clv_lower", "clv_upper"]].iloc[0].tolist() == pytest.approx(
        [50 / 0.6, 40 / 0.7, 60 / 0.5])
    horizon = estimated_lifetime_value(rates, 100, 0.1, periods=3, acquisition_cost=20)
    assert horizon["clv"].iloc[0] == pytest.approx(
        customer_lifetime_value(100, 0.5, 0.1, periods=3, acquisition_cost=20))
    no_interval = estimated_lifetime_value(rates.assign(ci_lower=np.nan), 100, 0.1)
    assert np.isnan(no_interval["clv_lower"].iloc[0])
