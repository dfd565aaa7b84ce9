"""Satisfaction-loyalty curve: bins, smooth and slopes on data whose answer is known."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from acsi_sem.errors import DataError
from acsi_sem.loyalty import satisfaction_loyalty_curve

# Satisfaction 1-20, loyalty = 2 x satisfaction in market a and 10 + 0.5 x satisfaction in b.
S = np.arange(1, 21, dtype=float)
TWO_MARKETS = pd.DataFrame({"sat": np.tile(S, 2),
                            "loy": np.concatenate([2 * S, 10 + 0.5 * S]),
                            "market": ["a"] * 20 + ["b"] * 20})


def test_bins_by_hand() -> None:
    curve = satisfaction_loyalty_curve(TWO_MARKETS[:20], "sat", "loy", bins=4)
    # Bins of five: satisfaction 1-5 (mean 3), 6-10 (8), 11-15 (13), 16-20 (18).
    assert curve.bins["n"].tolist() == [5, 5, 5, 5]
    assert curve.bins["satisfaction"].tolist() == [3, 8, 13, 18]
    assert curve.bins["loyalty"].tolist() == [6, 16, 26, 36]
    # Loyalty 2, 4, ..., 10 in the first bin: SD sqrt(10), SE sqrt(10) / sqrt(5) = sqrt(2).
    assert curve.bins["loyalty_se"].iloc[0] == pytest.approx(np.sqrt(2))
    assert curve.bins["group"].eq("all").all()


def test_smooth_and_slopes_per_group() -> None:
    curve = satisfaction_loyalty_curve(TWO_MARKETS, "sat", "loy", group="market", bins=5)
    assert curve.slopes.loc["a", "slope"] == pytest.approx(2)
    assert curve.slopes.loc["b", "slope"] == pytest.approx(0.5)
    assert curve.slopes.loc["b", "r"] == pytest.approx(1)
    # LOWESS reproduces a straight line exactly.
    smooth = curve.smooth[curve.smooth["group"] == "b"]
    assert len(smooth) == 50
    np.testing.assert_allclose(smooth["loyalty"], 10 + 0.5 * smooth["satisfaction"], atol=1e-8)
    assert curve.bins.groupby("group").size().to_dict() == {"a": 5, "b": 5}
    document = curve.to_dict()
    assert document["slopes"][0]["group"] == "a" and len(document["bins"]) == 10


def test_tied_satisfaction_still_gives_equal_bins() -> None:
    data = pd.DataFrame({"sat": [1] * 10 + [2] * 10, "loy": range(20)})
    curve = satisfaction_loyalty_curve(data, "sat", "loy", bins=4)
    assert curve.bins["n"].tolist() == [5, 5, 5, 5]
    # Ties are split in row order: the first two bins hold rows 0-4 and 5-9 (satisfaction 1).
    assert curve.bins["satisfaction"].tolist() == [1, 1, 2, 2]
    assert curve.bins["loyalty"].tolist() == [2, 7, 12, 17]


def test_small_or_empty_group_is_named() -> None:
    data = TWO_MARKETS.assign(market=pd.Categorical(TWO_MARKETS["market"],
                                                    categories=["a", "b", "c"]))
    with pytest.raises(DataError, match=r"group 'c' of market: only 0 respondents with both "
                                        "sat and loy, fewer than the 5 satisfaction bins"):
        satisfaction_loyalty_curve(data, "sat", "loy", group="market", bins=5)
    with pytest.raises(DataError, match=r"only 20 respondents .* fewer than the 25"):
        satisfaction_loyalty_curve(TWO_MARKETS[:20], "sat", "loy", bins=25)


def test_constant_satisfaction_and_bad_options() -> None:
    data = pd.DataFrame({"sat": [5] * 12, "loy": range(12)})
    with pytest.raises(DataError, match="every respondent has the same sat"):
        satisfaction_loyalty_curve(data, "sat", "loy")
    with pytest.raises(DataError, match="at least 2 bins"):
        satisfaction_loyalty_curve(TWO_MARKETS, "sat", "loy", bins=1)
