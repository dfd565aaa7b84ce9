"""Knox's loyalty diamond on buyers placed by hand."""

from __future__ import annotations

import pandas as pd
import pytest

from acsi_sem.errors import DataError
from acsi_sem.loyalty.diamond import QUADRANTS, loyalty_diamond

# Involvement median (5 + 7) / 2 = 6: rows 0, 2 and 4 are highly involved; one brand is narrow.
BUYERS = pd.DataFrame({"brands": [1, 1, 3, 3, 2, 4],
                       "involvement": [8, 3, 9, 2, 7, 5],
                       "share": [0.9, 0.2, 0.6, 0.1, 0.3, 0.5]})


def test_quadrants_by_hand_from_brands_and_median_involvement() -> None:
    result = loyalty_diamond(BUYERS, "brands", "involvement")
    assert result.involvement_cut == 6 and result.share_cut is None
    assert result.segments.astype(str).tolist() == [
        "loyal", "habitual", "multi-brand", "switcher", "multi-brand", "switcher"]
    assert result.table["count"].tolist() == [1, 1, 2, 2]
    assert result.table.loc["habitual", ["involvement", "repertoire"]].tolist() == [
        "low", "narrow"]
    assert result.table.index.tolist() == list(QUADRANTS)


def test_share_of_spend_narrows_the_repertoire_at_the_cut() -> None:
    result = loyalty_diamond(BUYERS, "brands", "involvement", share="share")
    # Row 2 gives the brand 0.6 of its spend, row 5 exactly 0.5: both narrow now.
    assert result.segments.astype(str).tolist() == [
        "loyal", "habitual", "loyal", "switcher", "multi-brand", "habitual"]
    assert result.to_dict()["segments"]["loyal"] == {"count": 2, "share": pytest.approx(1 / 3)}


def test_cut_points_are_parameters() -> None:
    result = loyalty_diamond(BUYERS, "brands", "involvement", involvement_cut=9, max_brands=2)
    assert result.segments.astype(str).tolist() == [
        "habitual", "habitual", "multi-brand", "switcher", "habitual", "switcher"]
    assert result.to_dict()["n"] == 6 and result.to_dict()["max_brands"] == 2


@pytest.mark.parametrize(("column", "value", "message"), [
    ("brands", 0, r"brands, row 2: 0 is not a number of brands"),
    ("brands", 1.5, r"brands, row 2: 1.5 is not a number of brands"),
    ("share", 1.2, r"share, row 2: 1.2 is not a share of spend"),
    ("involvement", None, r"involvement, row 2: no answer")])
def test_bad_answers_are_named(column, value, message) -> None:
    data = BUYERS.astype(float)
    data.loc[1, column] = value
    with pytest.raises(DataError, match=message):
        loyalty_diamond(data, "brands", "involvement", share="share")


def test_missing_column_and_bad_rule() -> None:
    with pytest.raises(DataError, match=r"no column 'brand' .*did you mean brands"):
        loyalty_diamond(BUYERS, "brand", "involvement")
    with pytest.raises(DataError, match="max_brands must be at least 1"):
        loyalty_diamond(BUYERS, "brands", "involvement", max_brands=0)
