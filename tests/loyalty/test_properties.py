"""Invariants of the instruments on any valid answers (hypothesis)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from acsi_sem.loyalty import kano_category, kano_evaluation, loyalty_matrix, net_promoter_score

answers_0_10 = st.lists(st.integers(0, 10), min_size=1, max_size=60)
kano_answers = st.lists(st.tuples(st.integers(1, 5), st.integers(1, 5)), min_size=1,
                        max_size=60)


@settings(max_examples=60, deadline=None)
@given(answers_0_10)
def test_nps_is_the_share_difference(answers) -> None:
    row = net_promoter_score(pd.DataFrame({"R": answers}), "R", replicates=0).loc["all"]
    values = np.array(answers)
    expected = 100 * ((values >= 9).mean() - (values <= 6).mean())
    assert np.isclose(row["nps"], expected) and -100 <= row["nps"] <= 100
    assert row["promoters"] + row["passives"] + row["detractors"] == len(answers)
    assert row["se"] >= 0


@settings(max_examples=60, deadline=None)
@given(kano_answers)
def test_kano_shares_and_coefficients_stay_in_range(pairs) -> None:
    functional, dysfunctional = zip(*pairs, strict=True)
    data = pd.DataFrame({"f_functional": functional, "f_dysfunctional": dysfunctional})
    evaluation = kano_evaluation(data)
    assert evaluation.categories["f"].tolist() == [kano_category(*p) for p in pairs]
    row = evaluation.summary.loc["f"]
    assert np.isclose(row[["A", "O", "M", "I", "R", "Q"]].sum(), 1)
    assert row[row["dominant"]] == row[["A", "O", "M", "I", "R", "Q"]].max()
    if not np.isnan(row["better"]):
        assert 0 <= row["better"] <= 1 and -1 <= row["worse"] <= 0


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 9), st.integers(0, 9)), min_size=1, max_size=60))
def test_segments_follow_the_cut_points(points) -> None:
    attitude, patronage = (np.array(v, dtype=float) for v in zip(*points, strict=True))
    matrix = loyalty_matrix(None, pd.Series(attitude, name="a"), pd.Series(patronage, name="p"))
    high_attitude = attitude >= matrix.attitude_cut
    high_patronage = patronage >= matrix.patronage_cut
    assert ((matrix.segments == "loyalty").to_numpy() == (high_attitude & high_patronage)).all()
    assert ((matrix.segments == "no loyalty").to_numpy()
            == (~high_attitude & ~high_patronage)).all()
    assert matrix.table["count"].sum() == len(points)
    assert np.isclose(matrix.table["share"].sum(), 1)
