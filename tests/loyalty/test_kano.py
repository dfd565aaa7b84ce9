"""Kano evaluation: the evaluation table, a hand-counted feature, answer coding, bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from acsi_sem.errors import DataError
from acsi_sem.loyalty import EVALUATION_TABLE, kano_category, kano_evaluation, kano_pairs
from tests.conftest import ROOT

# Berger et al. (1993), rows functional 1-5, columns dysfunctional 1-5.
BERGER = """
Q A A A O
R I I I M
R I I I M
R I I I M
R R R R Q
"""


def test_evaluation_table_is_bergers() -> None:
    expected = [line.split() for line in BERGER.strip().splitlines()]
    assert EVALUATION_TABLE.to_numpy().tolist() == expected
    assert kano_category(1, 5) == "O" and kano_category(4, 5) == "M"
    assert kano_category(1, 3) == "A" and kano_category(5, 2) == "R"


def test_one_feature_by_hand() -> None:
    # (1,5) O, (1,5) O, (1,3) A, (2,5) M, (3,3) I, (4,2) I, (5,1) R, (1,1) Q
    data = pd.DataFrame({"x_functional": [1, 1, 1, 2, 3, 4, 5, 1],
                         "x_dysfunctional": [5, 5, 3, 5, 3, 2, 1, 1]})
    evaluation = kano_evaluation(data)
    assert evaluation.categories["x"].tolist() == ["O", "O", "A", "M", "I", "I", "R", "Q"]
    assert evaluation.counts.loc["x"].to_dict() == {"A": 1, "O": 2, "M": 1, "I": 2, "R": 1,
                                                    "Q": 1}
    row = evaluation.summary.loc["x"]
    assert row["n"] == 8 and row["O"] == 2 / 8
    # better = (A + O) / (A + O + M + I) = 3 / 6; worse = -(O + M) / 6 = -3 / 6
    assert (row["better"], row["worse"]) == (0.5, -0.5)
    # O and I tie with 2 each; the rule M > O > A > I picks O.
    assert (row["dominant"], row["dominant_name"], row["tie"]) == ("O", "one-dimensional", True)


def test_text_answers_and_missing_answers() -> None:
    data = pd.DataFrame({"wifi_functional": ["Like", "I like it", "must be", None, "neutral"],
                         "wifi_dysfunctional": ["dislike", "I can live with it", "Dislike",
                                                "dislike", " Neutral "]})
    evaluation = kano_evaluation(data)
    categories = evaluation.categories["wifi"]
    assert categories.drop(3).tolist() == ["O", "A", "M", "I"] and pd.isna(categories[3])
    assert evaluation.summary.loc["wifi", "n"] == 4


def test_features_given_explicitly() -> None:
    data = pd.DataFrame({"q1": [1, 2], "q2": [5, 5]})
    evaluation = kano_evaluation(data, {"battery": ("q1", "q2")})
    assert evaluation.categories["battery"].tolist() == ["O", "M"]


def test_only_reverse_and_questionable_answers_leave_better_worse_undefined() -> None:
    data = pd.DataFrame({"x_functional": [5, 1], "x_dysfunctional": [1, 1]})
    row = kano_evaluation(data).summary.loc["x"]
    assert np.isnan(row["better"]) and np.isnan(row["worse"])
    assert (row["dominant"], row["tie"]) == ("R", True)


@pytest.mark.parametrize("bad, shown", [(6, "6 is outside the Kano answers 1-5"),
                                        (0, "0 is outside"), (2.5, "2.5 is outside"),
                                        ("maybe", "'maybe' is not a Kano answer")])
def test_answer_out_of_range_names_column_and_row(bad, shown) -> None:
    data = pd.DataFrame({"x_functional": [1, 2, 3], "x_dysfunctional": [5, bad, 1]})
    with pytest.raises(DataError, match=rf"k.csv: column x_dysfunctional, row 2: {shown}"):
        kano_evaluation(data, source="k.csv")


def test_missing_pair_is_named() -> None:
    data = pd.DataFrame({"x_functional": [1], "x_dysfunctional": [5], "y_functional": [1]})
    with pytest.raises(DataError, match=r"feature 'y' has the question y_functional but not "
                                        "its pair y_dysfunctional"):
        kano_pairs(data)
    with pytest.raises(DataError, match=r"feature 'z' has the question z_dysfunctional but "
                                        "not its pair z_functional"):
        kano_evaluation(pd.DataFrame({"z_dysfunctional": [1]}))
    with pytest.raises(DataError, match=r"feature 'b': no column q9"):
        kano_evaluation(pd.DataFrame({"q1": [1]}), {"b": ("q1", "q9")})
    with pytest.raises(DataError, match="no Kano question pairs"):
        kano_evaluation(pd.DataFrame({"q1": [1]}))


def test_feature_nobody_answered_is_named() -> None:
    data = pd.DataFrame({"x_functional": [1, None], "x_dysfunctional": [None, 2]})
    with pytest.raises(DataError, match=r"feature 'x': no respondent answered both"):
        kano_evaluation(data)


def test_shipped_survey_recovers_the_simulated_categories() -> None:
    evaluation = kano_evaluation(pd.read_csv(ROOT / "data" / "kano_survey.csv"))
    assert evaluation.summary["dominant"].to_dict() == {
        "coverage": "M", "data_speed": "O", "clear_billing": "O", "free_roaming": "A",
        "esim": "I", "personal_offers": "R"}
    assert (evaluation.summary["n"] == 200).all()


def test_single_pair_outside_the_answers_is_refused() -> None:
    with pytest.raises(DataError, match="the functional answer 0 is outside the Kano answers"):
        kano_category(0, 3)
    with pytest.raises(DataError, match="the dysfunctional answer 6 is outside"):
        kano_category(1, 6)
