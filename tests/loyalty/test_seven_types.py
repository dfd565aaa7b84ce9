"""The seven loyalty types: one respondent per rule, placed by hand."""

from __future__ import annotations

import pandas as pd
import pytest

from acsi_sem.errors import DataError
from acsi_sem.loyalty.seven_types import LOYALTY_TYPES, loyalty_types

# High is >= 5 throughout. Each row meets its rule and none above it.
PEOPLE = pd.DataFrame.from_dict({
    "latent": dict(bought=0, attached=8, price=2, switching=2, rewards=0, convenient=2),
    "no loyalty": dict(bought=1, attached=3, price=8, switching=8, rewards=1, convenient=8),
    "premium": dict(bought=3, attached=8, price=2, switching=8, rewards=1, convenient=8),
    "incentive": dict(bought=3, attached=3, price=8, switching=8, rewards=1, convenient=8),
    "price": dict(bought=4, attached=8, price=8, switching=8, rewards=0, convenient=8),
    "monopoly": dict(bought=5, attached=3, price=2, switching=9, rewards=0, convenient=8),
    "convenience": dict(bought=2, attached=3, price=2, switching=2, rewards=0, convenient=9),
    "inertia": dict(bought=2, attached=3, price=2, switching=2, rewards=0, convenient=2),
}, orient="index")
CUTS = dict(attachment_cut=5, price_cut=5, switching_cut=5, convenience_cut=5)


def classify(data=PEOPLE, **options):
    return loyalty_types(data, "attached", "bought", "price", "switching", "rewards",
                         **options)


def test_each_type_by_hand() -> None:
    result = classify(convenience="convenient", **CUTS)
    assert result.types.astype(str).tolist() == list(PEOPLE.index)
    assert result.table["count"].tolist() == [1] * 8
    assert result.table.index.tolist() == list(LOYALTY_TYPES)
    assert result.table.loc["monopoly", "held_by"].startswith("the cost of switching")


def test_without_convenience_those_buyers_are_held_by_habit() -> None:
    result = classify(**CUTS)
    assert result.types["convenience"] == "inertia"
    assert result.table.loc[["convenience", "inertia"], "count"].tolist() == [0, 2]
    assert "convenience" not in result.cuts


def test_default_cuts_are_medians_and_repeat_is_a_parameter() -> None:
    result = classify(repeat=3)
    # Sorted, price is 2 2 2 2 2 8 8 8 and switching 2 2 2 8 8 8 8 9.
    assert result.cuts == {"repeat": 3, "attachment": 3, "price_sensitivity": 2,
                           "switching_cost": 8}
    # At the median, attachment 3 counts as high: the two-purchase buyer is now latent.
    assert result.types["inertia"] == "latent"
    # With 3 purchases needed and high at 5, two-purchase buyers are held by nothing.
    assert classify(repeat=3, **CUTS).types["inertia"] == "no loyalty"
    document = result.to_dict()
    assert document["n"] == 8 and sum(t["count"] for t in document["types"].values()) == 8


def test_bad_answers_are_named() -> None:
    data = PEOPLE.astype(float)
    data.loc["price", "bought"] = 2.5
    with pytest.raises(DataError, match=r"purchases bought, row 5: 2.5 is not a count"):
        classify(data)
    with pytest.raises(DataError, match=r"no column 'reward' .*did you mean rewards"):
        loyalty_types(PEOPLE, "attached", "bought", "price", "switching", "reward")
    with pytest.raises(DataError, match="repeat must be at least 2"):
        classify(repeat=1)
