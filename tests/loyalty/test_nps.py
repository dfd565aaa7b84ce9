"""Net Promoter Score: hand-computed counts, score and standard error; bootstrap; bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from acsi_sem.errors import DataError
from acsi_sem.loyalty import net_promoter_score, nps_standard_error, promoter_categories

# 10 answers: promoters 10, 9, 9, 10 (4); passives 8, 7 (2); detractors 6, 3, 0, 5 (4).
TEN = [10, 9, 9, 8, 7, 6, 3, 0, 10, 5]
# 7 answers: promoters 4, passives 2, detractors 1.
SEVEN = [10, 10, 10, 9, 8, 7, 2]


def test_categories_follow_the_cut_points() -> None:
    answers = pd.Series([*range(11), np.nan], name="R")
    categories = promoter_categories(answers)
    assert categories.iloc[:7].eq("detractor").all()
    assert categories.iloc[7:9].eq("passive").all()
    assert categories.iloc[9:11].eq("promoter").all()
    assert pd.isna(categories.iloc[11])


def test_counts_score_and_standard_error_by_hand() -> None:
    row = net_promoter_score(pd.DataFrame({"R": SEVEN}), "R", replicates=0).loc["all"]
    assert (row["n"], row["promoters"], row["passives"], row["detractors"]) == (7, 4, 2, 1)
    # NPS = 100 (4/7 - 1/7) = 42.857...
    assert row["nps"] == pytest.approx(300 / 7)
    # SE = 100 sqrt((5/7 - (3/7)^2) / 7) = 100 sqrt(0.530612 / 7) = 27.5321
    assert row["se"] == pytest.approx(27.5321, abs=1e-4)
    assert np.isnan(row["ci_lower"]) and np.isnan(row["bootstrap_se"])


def test_balanced_answers_score_zero() -> None:
    row = net_promoter_score(pd.DataFrame({"R": TEN}), "R", replicates=0).loc["all"]
    assert row["nps"] == 0
    # SE = 100 sqrt((0.4 + 0.4 - 0) / 10) = 28.2843
    assert row["se"] == pytest.approx(28.2843, abs=1e-4)
    assert nps_standard_error(0.4, 0.4, 10) == pytest.approx(row["se"])


def test_missing_answers_are_counted_not_scored() -> None:
    row = net_promoter_score(pd.DataFrame({"R": [*SEVEN, None, None]}), "R",
                             replicates=0).loc["all"]
    assert (row["n"], row["n_missing"]) == (7, 2)
    assert row["nps"] == pytest.approx(300 / 7)


def test_bootstrap_se_agrees_with_the_trinomial_se() -> None:
    rng = np.random.default_rng(5)
    answers = pd.Series(rng.integers(0, 11, size=400), name="R")
    row = net_promoter_score(None, answers, replicates=20000, seed=3).loc["all"]
    assert row["bootstrap_se"] == pytest.approx(row["se"], rel=0.03)
    assert row["ci_lower"] < row["nps"] < row["ci_upper"]
    # A percentile interval of a near-normal statistic spans about 2 x 1.96 SE.
    assert row["ci_upper"] - row["ci_lower"] == pytest.approx(2 * 1.96 * row["se"], rel=0.06)


def test_same_seed_same_interval() -> None:
    data = pd.DataFrame({"R": TEN * 3})
    first = net_promoter_score(data, "R", replicates=500, seed=11)
    again = net_promoter_score(data, "R", replicates=500, seed=11)
    other = net_promoter_score(data, "R", replicates=500, seed=12)
    pd.testing.assert_frame_equal(first, again)
    assert not first.equals(other)


def test_unanimous_promoters_have_a_degenerate_interval() -> None:
    row = net_promoter_score(pd.DataFrame({"R": [9, 10, 10]}), "R", seed=1).loc["all"]
    assert (row["nps"], row["se"], row["ci_lower"], row["ci_upper"]) == (100, 0, 100, 100)


def test_per_group() -> None:
    data = pd.DataFrame({"R": TEN + SEVEN, "market": ["a"] * 10 + ["b"] * 7})
    table = net_promoter_score(data, "R", group="market", seed=1, replicates=200)
    assert table.index.name == "market" and list(table.index) == ["a", "b"]
    assert table.loc["a", "nps"] == 0
    assert table.loc["b", "nps"] == pytest.approx(300 / 7)
    assert table.loc["b", "n"] == 7


@pytest.mark.parametrize("bad, shown", [(11, "11"), (-1, "-1"), (7.5, "7.5")])
def test_answer_outside_the_scale_names_column_and_row(bad, shown) -> None:
    data = pd.DataFrame({"RECOMMEND": [10, 8, bad, 3]})
    with pytest.raises(DataError, match=rf"survey.csv: column RECOMMEND, row 3: {shown} is not"):
        net_promoter_score(data, "RECOMMEND", source="survey.csv")


def test_empty_group_is_named() -> None:
    market = pd.Categorical(["a", "a", "b"], categories=["a", "b", "c"])
    data = pd.DataFrame({"R": [10, 3, 8], "market": market})
    with pytest.raises(DataError, match=r"group 'c' of market has no answer to R"):
        net_promoter_score(data, "R", group="market")


def test_group_whose_answers_are_all_missing_is_named() -> None:
    data = pd.DataFrame({"R": [10, 3, None, None], "market": ["a", "a", "b", "b"]})
    with pytest.raises(DataError, match=r"group 'b' of market has no answer to R \(2 "):
        net_promoter_score(data, "R", group="market")


def test_absent_and_text_columns() -> None:
    data = pd.DataFrame({"RECOMMEND": ["9", "ten"], "g": [1, 2]})
    with pytest.raises(DataError, match=r"no column 'RECOMEND' .*did you mean RECOMMEND"):
        net_promoter_score(data, "RECOMEND")
    with pytest.raises(DataError, match=r"column RECOMMEND is not numeric: row 2 holds 'ten'"):
        net_promoter_score(data, "RECOMMEND")
    with pytest.raises(DataError, match=r"no column 'market' for group"):
        net_promoter_score(pd.DataFrame({"R": [1]}), "R", group="market")


def test_no_answer_at_all() -> None:
    with pytest.raises(DataError, match="column R holds no answer"):
        net_promoter_score(pd.DataFrame({"R": [np.nan, np.nan]}), "R")
