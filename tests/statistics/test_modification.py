"""Modification indices against lavaan 0.6.14's modindices()
(tests/fixtures/lavaan/make_modindices_fixtures.R)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import acsi_sem
from acsi_sem.api import prepare
from acsi_sem.cli.main import main
from acsi_sem.errors import AcsiSemError
from acsi_sem.model.ram import build_ram
from acsi_sem.numerics.cbsem import fill_fixed_x
from acsi_sem.statistics.modification import modification_indices
from tests.conftest import LAVAAN, ROOT, assert_close, lavaan_parameters, match_rows

CASES = {"hs_cfa": ("tests/fixtures/models/hs_cfa.lav", "tests/fixtures/data/holzinger1939.csv"),
         "acsi_simulated": ("models/acsi.lav", "data/acsi_simulated.csv")}
COLUMNS = ["mi", "epc", "sepc_lv", "sepc_all", "sepc_nox"]


def lavaan_modindices(case: str) -> pd.DataFrame:
    frame = pd.read_csv(LAVAAN / f"{case}_modindices.csv")
    frame.columns = [c.replace(".", "_") for c in frame.columns]
    return frame


@pytest.mark.parametrize("case", list(CASES))
def test_modification_indices_equal_lavaan(case: str) -> None:
    model, data = CASES[case]
    ours = acsi_sem.fit(ROOT / model, ROOT / data).modification_indices(sort=False)
    theirs = lavaan_modindices(case)
    merged = match_rows(ours, theirs)
    # The same candidates: lavaan's, including its choice to leave out those whose score
    # test has no variance (e.g. the reverse of a path the model has).
    assert (merged["_merge"] == "both").all(), merged.loc[merged["_merge"] != "both",
                                                          ["lhs", "op", "rhs", "_merge"]]
    # lavaan's blocks in its order: loadings, covariances, regressions.
    assert list(dict.fromkeys(ours["op"])) == list(dict.fromkeys(theirs["op"]))
    for column in COLUMNS:
        # lavaan's estimates stop at its optimiser's tolerance (ours at a zero gradient), which
        # moves an MI by up to 1.3e-4 relative; at lavaan's own estimates they agree to 1e-10
        # (the next test).
        assert_close(merged[column], merged[f"{column}_lavaan"], rel=1e-3, absolute=1e-5,
                     what=f"{case} {column}")


@pytest.mark.parametrize("case", list(CASES))
def test_at_lavaan_s_estimates_the_indices_are_lavaan_s(case: str) -> None:
    model, data = CASES[case]
    spec, prepared, _, _ = prepare(ROOT / model, ROOT / data)
    spec = fill_fixed_x(spec, prepared.covariance)
    ram = build_ram(spec)
    estimates = match_rows(spec.table[["lhs", "op", "rhs", "free"]],
                           lavaan_parameters(case)[["lhs", "op", "rhs", "est"]])
    estimates = estimates[(estimates["free"] > 0) & (estimates["_merge"] == "both")]
    theta = np.zeros(ram.n_free)
    theta[estimates["free"].astype(int).to_numpy() - 1] = estimates["est"].to_numpy()
    assert len(estimates) == ram.n_free
    ours = modification_indices(spec, ram, theta, prepared.covariance, prepared.n_obs)
    merged = match_rows(ours, lavaan_modindices(case))
    for column in COLUMNS:
        assert_close(merged[column], merged[f"{column}_lavaan"], rel=1e-8, absolute=1e-12,
                     what=f"{case} {column}")


def test_minimum_and_sorting() -> None:
    model, data = CASES["hs_cfa"]
    result = acsi_sem.fit(ROOT / model, ROOT / data)
    table = result.modification_indices(3.84)
    assert table["mi"].is_monotonic_decreasing and (table["mi"] >= 3.84).all()
    assert table.iloc[0][["lhs", "op", "rhs"]].tolist() == ["visual", "=~", "x9"]
    every = result.modification_indices(sort=False)
    assert len(table) == int((every["mi"] >= 3.84).sum())


def test_fits_without_a_score_test_here_refuse_it() -> None:
    model, data = CASES["hs_cfa"]
    result = acsi_sem.fit(ROOT / model, ROOT / data, estimator="pls")
    with pytest.raises(AcsiSemError, match="available for ML and MLR fits"):
        result.modification_indices()


def test_command_prints_and_writes_them(tmp_path, capsys) -> None:
    target = tmp_path / "out.json"
    code = main(["fit", "acsi", "--modindices", "3", "--json", str(target)])
    assert code == 0
    printed = capsys.readouterr().out
    assert "Modification indices (mi >= 3" in printed
    rows = json.loads(target.read_text())["modification_indices"]
    expected = lavaan_modindices("acsi_simulated")
    expected = expected[expected["mi"] >= 3].sort_values("mi", ascending=False)
    assert [(r["lhs"], r["op"], r["rhs"]) for r in rows] == list(
        zip(expected["lhs"], expected["op"], expected["rhs"], strict=True))
    assert rows[0]["mi"] == pytest.approx(expected["mi"].iloc[0], rel=1e-4)
