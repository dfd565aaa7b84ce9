"""Covariance coverage under FIML against lavaan 0.6.14's lavInspect(fit, "coverage"), and
the warning lavaan gives where a pair of items was answered together by fewer than 10%."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import acsi_sem
from acsi_sem.survey.coverage import covariance_coverage, sparse_coverage_warning
from tests.conftest import LAVAAN, ROOT

DATA = ROOT / "tests/fixtures/data"
HS_CFA = ROOT / "tests/fixtures/models/hs_cfa.lav"
ITEMS = [f"x{i}" for i in range(1, 10)]


def planned_missing(share_together: float, seed: int = 1) -> pd.DataFrame:
    """HS answers where x1 is asked of a random half and x4 of the other half, plus a
    ``share_together`` of the first half asked both."""
    data = pd.read_csv(DATA / "holzinger1939.csv")
    rng = np.random.default_rng(seed)
    first_half = rng.random(len(data)) < 0.5
    both = first_half & (rng.random(len(data)) < share_together)
    data.loc[~first_half, "x1"] = np.nan
    data.loc[first_half & ~both, "x4"] = np.nan
    return data


def test_coverage_equals_lavaan_s() -> None:
    items = pd.read_csv(DATA / "holzinger1939_missing.csv")[ITEMS]
    items = items[items.notna().any(axis=1)]  # lavaan ignores rows without any answer
    theirs = pd.read_csv(LAVAAN / "hs_cfa_fiml_coverage.csv")
    ours = covariance_coverage(items)
    values = [ours.loc[row, col] for row, col in zip(theirs["row"], theirs["col"], strict=True)]
    np.testing.assert_allclose(values, theirs["value"], rtol=1e-12)
    result = acsi_sem.fit(HS_CFA, DATA / "holzinger1939_missing.csv", missing="fiml")
    lowest = theirs.loc[theirs["row"] != theirs["col"], "value"].min()
    assert result.missing["lowest_coverage"] == pytest.approx(lowest, rel=1e-12)
    assert not any("answered together" in warning for warning in result.warnings)


def test_thin_coverage_is_warned_naming_the_pair() -> None:
    data = planned_missing(0.1)
    together = (data["x1"].notna() & data["x4"].notna()).mean()
    assert 0 < together < 0.1
    result = acsi_sem.fit(HS_CFA, data, missing="fiml")
    warning = next(w for w in result.warnings if "answered together" in w)
    assert f"x1 and x4 ({together:.1%})" in warning and "1 pair of items was" in warning
    assert "model alone" not in warning
    assert result.missing["lowest_coverage"] == pytest.approx(together)


def test_pairs_never_answered_together_are_named_as_resting_on_the_model() -> None:
    items = planned_missing(0.0)[ITEMS]
    warning = sparse_coverage_warning(items, "survey.csv")
    assert warning.startswith("survey.csv: due to missing answers, 1 pair of items was")
    assert "x1 and x4 (0.0%)" in warning and "1 of them never answered together" in warning


def test_each_group_is_checked_on_its_own() -> None:
    data = planned_missing(0.1)
    pasteur = data["school"] == "Pasteur"
    data.loc[~pasteur, ["x1", "x4"]] = pd.read_csv(DATA / "holzinger1939.csv").loc[
        ~pasteur, ["x1", "x4"]]
    result = acsi_sem.fit(HS_CFA, data, missing="fiml", group="school")
    thin = [w for w in result.warnings if "answered together" in w]
    assert len(thin) == 1 and "group Pasteur" in thin[0]
