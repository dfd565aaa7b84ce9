"""Dick-Basu loyalty matrix: hand-classified respondents, ties at the cut, missing values."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from acsi_sem.errors import DataError
from acsi_sem.loyalty import loyalty_matrix

# Medians 3.5 and 3.5. (attitude, patronage) -> segment:
# (1, 6) spurious, (2, 1) no, (3, 5) spurious, (4, 2) latent, (5, 4) loyalty, (6, 3) latent.
SIX = pd.DataFrame({"att": [1, 2, 3, 4, 5, 6], "buy": [6, 1, 5, 2, 4, 3]})


def test_six_respondents_by_hand() -> None:
    matrix = loyalty_matrix(SIX, "att", "buy")
    assert (matrix.attitude_cut, matrix.patronage_cut) == (3.5, 3.5)
    assert matrix.segments.tolist() == ["spurious loyalty", "no loyalty", "spurious loyalty",
                                        "latent loyalty", "loyalty", "latent loyalty"]
    assert matrix.table["count"].to_dict() == {"loyalty": 1, "latent loyalty": 2,
                                               "spurious loyalty": 2, "no loyalty": 1}
    assert matrix.table.loc["latent loyalty", "share"] == pytest.approx(2 / 6)
    assert matrix.counts.loc["high", "low"] == 2     # high attitude, low patronage
    assert matrix.counts.loc["low", "high"] == 2
    assert matrix.to_dict()["segments"]["loyalty"] == {"count": 1, "share": 1 / 6}


def test_value_at_the_cut_is_high() -> None:
    data = pd.DataFrame({"att": [1, 2, 2, 3], "buy": [1, 2, 3, 4]})
    # attitude median 2: rows 2-4 high; patronage median 2.5: rows 3-4 high.
    matrix = loyalty_matrix(data, "att", "buy")
    assert matrix.segments.tolist() == ["no loyalty", "latent loyalty", "loyalty", "loyalty"]
    moved = loyalty_matrix(data, "att", "buy", attitude_cut=2.5, patronage_cut=1)
    assert moved.segments.tolist() == ["spurious loyalty"] * 3 + ["loyalty"]


def test_missing_values_are_left_out_of_counts_and_medians() -> None:
    data = pd.concat([SIX, pd.DataFrame({"att": [100.0], "buy": [np.nan]})],
                     ignore_index=True)
    matrix = loyalty_matrix(data, "att", "buy")
    assert matrix.n_missing == 1 and pd.isna(matrix.segments.iloc[6])
    assert matrix.attitude_cut == 3.5
    assert matrix.table["count"].sum() == 6


def test_latent_score_series_aligned_by_label() -> None:
    data = SIX.set_axis([10, 11, 12, 13, 14, 15])
    score = pd.Series([-1.0, 0.5, 1.0, 2.0], index=[10, 13, 14, 15], name="Satisfaction")
    matrix = loyalty_matrix(data, score, "buy")
    # median score 0.75 over the four rows with both values; patronage median 3.5 of them.
    assert matrix.attitude_cut == 0.75 and matrix.patronage_cut == 3.5
    assert matrix.n_missing == 2
    assert matrix.segments.loc[[10, 13, 14, 15]].tolist() == [
        "spurious loyalty", "no loyalty", "loyalty", "latent loyalty"]


def test_bad_inputs() -> None:
    with pytest.raises(DataError, match="no respondent has both att"):
        loyalty_matrix(pd.DataFrame({"att": [1, np.nan], "buy": [np.nan, 2]}), "att", "buy")
    unrelated = pd.Series([1.0, 2.0], index=["x", "y"], name="Loyalty")
    with pytest.raises(DataError, match="series Loyalty shares no row label with the data"):
        loyalty_matrix(SIX, unrelated, "buy")
    with pytest.raises(DataError, match="no column 'visits' for repeat patronage"):
        loyalty_matrix(SIX, "att", "visits")


def test_series_with_repeated_labels_is_refused() -> None:
    repeated = pd.Series([1.0, 2.0], index=[0, 0], name="Satisfaction")
    with pytest.raises(DataError, match="series Satisfaction repeats row labels"):
        loyalty_matrix(SIX, repeated, "buy")
