"""Weighted PLS: sampling weights in the standardization, the regressions and the index."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import acsi_sem
from acsi_sem.cli.main import main
from acsi_sem.errors import AcsiSemError, DataError
from acsi_sem.resample import resampled_rows
from tests.conftest import ROOT
from tests.speed.test_batched_pls import capture_pls_one_at_a_time

MOBI = ROOT / "data" / "mobi.csv"


@pytest.fixture(scope="module")
def mobi() -> pd.DataFrame:
    frame = pd.read_csv(MOBI)
    frame["count"] = np.random.default_rng(12).integers(1, 4, len(frame))
    return frame


def repeated(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    return frame.loc[frame.index.repeat(frame[column])].reset_index(drop=True)


def quality_numbers(result) -> np.ndarray:
    quality = result.quality
    tables = [quality.reliability, quality.fornell_larcker, quality.htmt, quality.f_squared]
    return np.concatenate([t.select_dtypes("number").to_numpy(dtype=float).ravel()
                           for t in tables])


@pytest.mark.parametrize("estimator", ["pls", "plsc"])
def test_integer_weights_equal_repeated_rows(mobi: pd.DataFrame, estimator: str) -> None:
    weighted = acsi_sem.fit("ecsi", mobi, estimator=estimator, weights="count")
    copies = acsi_sem.fit("ecsi", repeated(mobi, "count"), estimator=estimator)
    assert copies.n_obs == mobi["count"].sum() and weighted.n_obs == len(mobi)
    np.testing.assert_allclose(weighted.parameters["est"], copies.parameters["est"],
                               rtol=0, atol=1e-8)
    np.testing.assert_allclose(weighted.outer_weights["unstandardized"],
                               copies.outer_weights["unstandardized"], rtol=0, atol=1e-8)
    np.testing.assert_allclose(weighted.index, copies.index, rtol=0, atol=1e-8)
    np.testing.assert_allclose(weighted.r2, copies.r2, rtol=0, atol=1e-8)
    np.testing.assert_allclose(weighted.effects["total"], copies.effects["total"], atol=1e-8)
    np.testing.assert_allclose(quality_numbers(weighted), quality_numbers(copies),
                               rtol=0, atol=1e-8, equal_nan=True)
    unweighted = acsi_sem.fit("ecsi", mobi, estimator=estimator)
    assert np.abs(weighted.parameters["est"] - unweighted.parameters["est"]).max() > 1e-3


def test_scaling_every_weight_changes_nothing(mobi: pd.DataFrame) -> None:
    scaled = mobi.assign(scaled=mobi["count"] * 7.3)
    first = acsi_sem.fit("ecsi", mobi, estimator="pls", weights="count")
    second = acsi_sem.fit("ecsi", scaled, estimator="pls", weights="scaled")
    np.testing.assert_allclose(first.parameters["est"], second.parameters["est"], atol=1e-12)
    np.testing.assert_allclose(first.scores, second.scores, atol=1e-10)


def test_scores_are_standardized_with_the_weights(mobi: pd.DataFrame) -> None:
    result = acsi_sem.fit("ecsi", mobi, estimator="pls", weights="count")
    weights = mobi["count"].to_numpy(dtype=float)
    weights *= len(weights) / weights.sum()
    scores = result.scores.to_numpy()
    np.testing.assert_allclose(weights @ scores / weights.sum(), 0, atol=1e-12)
    np.testing.assert_allclose(weights @ scores ** 2 / (len(weights) - 1), 1, atol=1e-10)


SINGLE_ITEMS = """
Quality      =~ q
Satisfaction =~ s
Satisfaction ~ Quality
"""


def test_weighted_index_by_hand() -> None:
    # One item per construct: the index is 100 (weighted mean - 1) / 9.
    data = pd.DataFrame({"q": [1, 2, 3, 4, 5, 6], "s": [2, 2, 5, 6, 9, 10],
                         "w": [1, 1, 1, 1, 2, 2], "g": ["a", "a", "a", "b", "b", "b"]})
    result = acsi_sem.fit(SINGLE_ITEMS, data, estimator="pls", weights="w", scale=(1, 10),
                          group="g")
    # q: (1 + 2 + 3 + 4 + 2*5 + 2*6) / 8 = 4; s: (2 + 2 + 5 + 6 + 18 + 20) / 8 = 6.625
    assert result.index["Quality"] == pytest.approx(100 * 3 / 9, abs=1e-12)
    assert result.index["Satisfaction"] == pytest.approx(100 * 5.625 / 9, abs=1e-12)
    by_group = result.index_by_group
    # group b: q (4 + 10 + 12) / 5 = 5.2
    assert by_group.loc["b", "Quality"] == pytest.approx(100 * 4.2 / 9, abs=1e-12)
    assert by_group.loc["a", "Quality"] == pytest.approx(100 * 1 / 9, abs=1e-12)
    assert by_group["n"].tolist() == [3, 3]


def test_weighted_bootstrap_batches_equal_one_at_a_time(mobi: pd.DataFrame,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    captured = capture_pls_one_at_a_time(monkeypatch)
    result = acsi_sem.fit("ecsi", mobi, estimator="pls", weights="count", bootstrap=30,
                          seed=3)
    rows = list(resampled_rows(len(mobi), 30, 3))
    for index in (0, 17, 29):
        np.testing.assert_allclose(result.bootstrap.draws[index],
                                   captured[0](rows[index]).values, rtol=0, atol=1e-6)


def test_unit_weights_reproduce_the_unweighted_bootstrap(mobi: pd.DataFrame) -> None:
    ones = mobi.assign(one=1.0)
    weighted = acsi_sem.fit("ecsi", ones, estimator="pls", weights="one", bootstrap=20, seed=8)
    plain = acsi_sem.fit("ecsi", mobi, estimator="pls", bootstrap=20, seed=8)
    np.testing.assert_allclose(weighted.bootstrap.draws, plain.bootstrap.draws, atol=1e-9)
    assert any("Kish effective sample size 250.0" in note for note in weighted.notes)


@pytest.mark.parametrize(("values", "message"), [
    ({3: -1.0}, "weight column w: the weight in row 4 is negative (-1)"),
    ({5: np.nan}, "weight column w: the weight in row 6 is missing"),
    ({1: np.inf}, "weight column w: the weight in row 2 is infinite"),
])
def test_bad_weights_name_the_column_and_row(mobi: pd.DataFrame, values: dict,
                                             message: str) -> None:
    data = mobi.assign(w=1.0)
    for row, value in values.items():
        data.loc[row, "w"] = value
    with pytest.raises(DataError, match=message.replace("(", r"\(").replace(")", r"\)")):
        acsi_sem.fit("ecsi", data, estimator="pls", weights="w")


def test_other_weight_mistakes_are_named(mobi: pd.DataFrame) -> None:
    with pytest.raises(DataError, match="every weight of the rows used is zero"):
        acsi_sem.fit("ecsi", mobi.assign(w=0), estimator="pls", weights="w")
    with pytest.raises(DataError, match="no weight column 'wt'"):
        acsi_sem.fit("ecsi", mobi, estimator="pls", weights="wt")
    with pytest.raises(DataError, match="weight column CUSA1 is also an indicator"):
        acsi_sem.fit("ecsi", mobi, estimator="pls", weights="CUSA1")
    with pytest.raises(DataError, match="column w is not numeric: row 1 holds 'x'"):
        acsi_sem.fit("ecsi", mobi.assign(w=["x"] + [1] * 249), estimator="pls", weights="w")


def test_zero_weights_leave_rows_out(mobi: pd.DataFrame) -> None:
    data = mobi.assign(w=(np.arange(len(mobi)) % 5 != 0).astype(float))
    weighted = acsi_sem.fit("ecsi", data, estimator="pls", weights="w")
    subset = acsi_sem.fit("ecsi", mobi[data["w"] > 0].reset_index(drop=True), estimator="pls")
    np.testing.assert_allclose(weighted.parameters["est"], subset.parameters["est"], atol=1e-8)
    np.testing.assert_allclose(weighted.index, subset.index, atol=1e-8)


def test_estimators_without_weights_refuse_them(mobi: pd.DataFrame) -> None:
    with pytest.raises(AcsiSemError, match="not available with estimator 'wlsmv'"):
        acsi_sem.fit("ecsi", mobi, estimator="wlsmv", weights="count")


def test_command_line_weights(capsys, tmp_path, mobi: pd.DataFrame) -> None:
    path = tmp_path / "weighted.csv"
    mobi.to_csv(path, index=False)
    target = tmp_path / "out.json"
    code = main(["fit", "ecsi", "--data", str(path), "--estimator", "pls", "--weights",
                 "count", "--json", str(target)])
    assert code == 0
    document = json.loads(target.read_text())
    expected = acsi_sem.fit("ecsi", mobi, estimator="pls", weights="count")
    assert document["index"]["Satisfaction"] == pytest.approx(expected.index["Satisfaction"],
                                                              abs=1e-9)
    assert any("sampling weights from column count" in note for note in document["notes"])
    weights = mobi["count"].to_numpy()
    assert document["sampling_weights"] == pytest.approx(
        {"column": "count", "n": 250, "sum": weights.sum(), "min": 1, "max": 3,
         "effective_n": weights.sum() ** 2 / (weights ** 2).sum()})
    assert "sampling weights from column count" in capsys.readouterr().out
