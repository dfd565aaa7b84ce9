"""Satisfaction ratio: hand-computed ratios and summary; zero, missing and negative inputs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from acsi_sem.errors import DataError
from acsi_sem.loyalty import satisfaction_ratio_summary, satisfaction_ratios

DATA = pd.DataFrame({"PERF": [8, 6, 9], "EXP": [4, 6, 10]})


def test_ratios_and_summary_by_hand() -> None:
    ratios = satisfaction_ratios(DATA, "PERF", "EXP")
    assert ratios["ratio"].tolist() == [2.0, 1.0, 0.9]
    summary = satisfaction_ratio_summary(ratios)
    assert summary["mean_ratio"] == pytest.approx(1.3)
    # deviations 0.7, -0.3, -0.4: (0.49 + 0.09 + 0.16) / 2 = 0.37
    assert summary["sd_ratio"] == pytest.approx(np.sqrt(0.37))
    assert summary["median_ratio"] == 1.0
    assert summary["ratio_of_means"] == pytest.approx(23 / 20)
    assert (summary["share_above"], summary["share_equal"], summary["share_below"]) == (
        pytest.approx(1 / 3), pytest.approx(1 / 3), pytest.approx(1 / 3))


def test_series_are_aligned_by_row_label() -> None:
    performance = pd.Series([9.0, 6.0, 8.0], index=[2, 1, 0], name="quality_index")
    ratios = satisfaction_ratios(DATA, performance, "EXP")
    assert ratios["ratio"].tolist() == [2.0, 1.0, 0.9]
    # A series without row 1 (e.g. deleted listwise by a fit) leaves row 1 missing.
    with pytest.raises(DataError, match=r"performance quality_index, row 2: the performance "
                                        "is missing"):
        satisfaction_ratios(DATA, performance.drop(1), "EXP")


def test_zero_expectation_is_named() -> None:
    data = pd.DataFrame({"PERF": [8, 6, 9, 7], "EXP": [4, 0, 5, 0]})
    with pytest.raises(DataError, match=r"s.csv: expectation EXP, rows 2, 4: the expectation "
                                        "is 0; the ratio b / a needs a positive expectation"):
        satisfaction_ratios(data, "PERF", "EXP", source="s.csv")


def test_missing_expectation_is_named() -> None:
    data = pd.DataFrame({"PERF": [8, 6], "EXP": [4, None]})
    with pytest.raises(DataError, match=r"expectation EXP, row 2: the expectation is missing"):
        satisfaction_ratios(data, "PERF", "EXP")


def test_standardized_scores_are_refused() -> None:
    scores = pd.DataFrame({"Quality": [0.5, -1.2], "Expectation": [0.3, 0.4]})
    with pytest.raises(DataError, match=r"performance Quality, row 2: .* 0-100 index scores"):
        satisfaction_ratios(None, scores["Quality"], scores["Expectation"])
