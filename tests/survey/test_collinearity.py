"""Items that repeat one another are refused before estimating, by name; nearly collinear
items are a warning; whatever a fit returns, its JSON and summary never fail on a number."""

from __future__ import annotations

import json
import logging

import numpy as np
import pandas as pd
import pytest

import acsi_sem
from acsi_sem.cli.main import main
from acsi_sem.errors import DataError
from acsi_sem.json_output import json_text
from acsi_sem.numerics.cbsem import captured_log_lines
from tests.conftest import ROOT


@pytest.fixture(scope="module")
def mobi() -> pd.DataFrame:
    return pd.read_csv(ROOT / "data" / "mobi.csv")


@pytest.mark.parametrize("estimator", ["ml", "mlr", "pls", "plsc"])
def test_identical_items_are_named(mobi, estimator) -> None:
    with pytest.raises(DataError, match="items CUSA1 and CUSA2 are identical"):
        acsi_sem.fit("ecsi", mobi.assign(CUSA2=mobi["CUSA1"]), estimator=estimator)


def test_a_reverse_coded_copy_is_named(mobi) -> None:
    with pytest.raises(DataError, match=r"CUSA1 and CUSA3 are perfectly correlated \(r = -1"):
        acsi_sem.fit("ecsi", mobi.assign(CUSA3=11 - mobi["CUSA1"]), scale=(0, 11))


def test_the_smallest_dependent_set_is_named(mobi) -> None:
    dependent = mobi.assign(CUSA3=mobi["CUSA1"] + mobi["CUSA2"] - mobi["CUEX1"])
    with pytest.raises(DataError, match="items CUEX1, CUSA1, CUSA2, CUSA3 are linearly "
                                        "dependent"):
        acsi_sem.fit("ecsi", dependent, scale=(-20, 30))


def test_nearly_identical_items_are_a_warning(mobi) -> None:
    nudged = mobi["CUSA1"] + np.where(mobi["CUSA1"] < 10, 1, -1)
    near = mobi.assign(CUSA2=mobi["CUSA1"].where(mobi.index >= 5, nudged))
    r = np.corrcoef(near["CUSA1"], near["CUSA2"])[0, 1]
    assert r > 0.98
    for estimator in ("ml", "pls"):
        result = acsi_sem.fit("ecsi", near, estimator=estimator)
        assert result.warnings[0] == (f"items CUSA1 and CUSA2 correlate {r:.3f}: nearly the "
                                      "same item, so their estimates are unstable")
    assert not any("nearly the same item" in w for w in acsi_sem.fit("ecsi", mobi).warnings)


def test_the_command_names_the_items_and_writes_nothing(tmp_path, mobi, capsys) -> None:
    path = tmp_path / "dup.csv"
    mobi.assign(CUSA2=mobi["CUSA1"]).to_csv(path, index=False)
    target = tmp_path / "out.json"
    assert main(["fit", "ecsi", "--data", str(path), "--json", str(target)]) != 0
    assert "CUSA1 and CUSA2 are identical" in capsys.readouterr().err
    assert not target.exists()


def test_json_writes_infinities_and_nan_as_null_and_says_where() -> None:
    document = {"fit": {"cfi": float("inf"), "tli": np.float64("nan"), "n": np.int64(3)},
                "rows": [{"vif": -np.inf}, {"vif": 1.5}]}
    read = json.loads(json_text(document))
    assert read["fit"] == {"cfi": None, "tli": None, "n": 3}
    assert read["rows"] == [{"vif": None}, {"vif": 1.5}]
    assert read["non_finite"]["fields"] == ["fit.cfi", "fit.tli", "rows[0].vif"]
    assert "singular" in read["non_finite"]["note"]
    assert "non_finite" not in json.loads(json_text({"a": 1.0}))


def test_library_log_lines_are_collected_not_printed(capsys) -> None:
    with captured_log_lines() as lines:
        logging.warning("Sample covariance matrix is not PD")
    assert lines == ["Sample covariance matrix is not PD"]
    assert capsys.readouterr().err == ""
    assert all(type(h).__name__ != "Collector" for h in logging.getLogger().handlers)
