"""The ACSI 0-100 index, checked against a pencil-and-paper example."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import acsi_sem

# x2 = 2 x1 - 6 + (2, -2, 2, -2), the added part uncorrelated with y and centred, and such
# that x2's SD is still twice x1's (variances 20/3 and 5/3; the items correlate 0.6): both
# items correlate equally with y and get equal standardized weights, so in the items' own
# metric the weights are 2/3 and 1/3. x2's means (7; 5 in company A, 9 in B) are 2 x1 - 6's.
DATA = pd.DataFrame({"x1": [5, 6, 7, 8], "x2": [6, 4, 10, 8], "y": [1, 2, 4, 3],
                     "company": ["A", "A", "B", "B"]})
MODEL = "Quality =~ x1 + x2\nSatisfaction =~ y\nSatisfaction ~ Quality"


def test_index_by_hand() -> None:
    result = acsi_sem.fit(MODEL, DATA, estimator="pls", scale=(1, 10), group="company")
    weights = result.outer_weights.set_index("indicator")["unstandardized"]
    assert weights["x1"] == pytest.approx(2 / 3)
    assert weights["x2"] == pytest.approx(1 / 3)
    # Quality: 2/3 * 6.5 + 1/3 * 7 = 6.6667 on 1-10, i.e. 100 * 5.6667 / 9 = 62.963.
    assert result.index["Quality"] == pytest.approx(100 * (2 / 3 * 6.5 + 1 / 3 * 7 - 1) / 9)
    assert result.index["Quality"] == pytest.approx(62.963, abs=1e-3)
    # Satisfaction: a single item with mean 2.5: 100 * 1.5 / 9 = 16.667.
    assert result.index["Satisfaction"] == pytest.approx(16.667, abs=1e-3)
    groups = result.index_by_group
    # Company A: 2/3 * 5.5 + 1/3 * 5 = 5.3333 -> 48.148.
    # Company B: 2/3 * 7.5 + 1/3 * 9 = 8 -> 77.778.
    assert groups.at["A", "Quality"] == pytest.approx(48.148, abs=1e-3)
    assert groups.at["B", "Quality"] == pytest.approx(77.778, abs=1e-3)
    assert groups["n"].tolist() == [2, 2]


def test_no_scale_means_no_index_and_says_so() -> None:
    result = acsi_sem.fit(MODEL, DATA[["x1", "x2", "y"]], estimator="pls")
    assert result.index is None
    assert any("no 0-100 index" in note for note in result.notes)


def test_negative_weight_is_warned() -> None:
    rng = np.random.default_rng(0)
    base = rng.normal(size=200)
    frame = pd.DataFrame({"a": base + rng.normal(size=200), "b": -base + rng.normal(size=200) * 3,
                          "y": base + rng.normal(size=200)})
    frame = frame.clip(-4, 4) + 5
    result = acsi_sem.fit("F <~ a + b\nS =~ y\nS ~ F", frame, estimator="pls", scale=(1, 9))
    assert any("negative weights on b" in w for w in result.warnings)
