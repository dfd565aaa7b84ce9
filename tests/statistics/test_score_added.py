"""lavaan's lavTestScore(fit, add = ..., epc = TRUE) against lavaan 0.6.14
(tests/fixtures/lavaan/make_score_add_fixtures.R): the HS CFA, with a shared label and an
equality (whose constraints stay), under FIML, and with two schools; and the EPCs of
releasing hs_cfa_equal's constraints."""

from __future__ import annotations

import json

import pandas as pd
import pytest

import acsi_sem
from acsi_sem.cli.main import main
from acsi_sem.errors import AcsiSemError, ModelSyntaxError
from tests.conftest import LAVAAN, ROOT, assert_close, match_rows

MODELS, DATA = ROOT / "tests/fixtures/models", ROOT / "tests/fixtures/data"
HS = DATA / "holzinger1939.csv"
ADDED = "visual =~ x9; x7 ~~ x8\ntextual =~ x1"
CASES = {
    "hs_cfa": ("hs_cfa", HS, {}, ADDED),
    "hs_cfa_equal": ("hs_cfa_equal", HS, {}, ADDED),
    "hs_cfa_fiml": ("hs_cfa", DATA / "holzinger1939_missing.csv", {"missing": "fiml"}, ADDED),
    "hs_metric": ("hs_cfa", HS, {"group": "school", "group_equal": "loadings"},
                  "visual =~ x9"),
}
# lavaan's estimates stop at its optimiser's tolerance, ours at a zero gradient: the EPCs
# of parameters the additions barely move differ by up to 5e-6 (two schools).
EPC_ABSOLUTE = 1e-5


def fitted(case: str) -> acsi_sem.FitResult:
    model, data, options, _ = CASES[case]
    return acsi_sem.fit(MODELS / f"{model}.lav", data, **options)


def lavaan_table(name: str, result: acsi_sem.FitResult) -> pd.DataFrame:
    frame = pd.read_csv(LAVAAN / name, keep_default_na=False, na_values=["NA"])
    if "group" in frame and result.groups is not None:
        labels = result.groups["labels"]
        frame["group"] = [labels[int(g) - 1] if g == g else None for g in frame["group"]]
    return frame


@pytest.mark.parametrize("case", list(CASES))
def test_adding_parameters_is_lavaan_s_score_test(case: str) -> None:
    result = fitted(case)
    test = result.added_parameters_test(CASES[case][3])
    theirs = lavaan_table(f"{case}_add_uni.csv", result)
    total = theirs[theirs["lhs"] == "total"].iloc[0]
    assert test.total["df"] == total["df"]
    assert_close(test.total[["X2", "pvalue"]], total[["X2", "p.value"]], rel=1e-5,
                 absolute=1e-12, what=f"{case} total")
    theirs = theirs[theirs["lhs"] != "total"].reset_index(drop=True)
    ours = test.univariate
    assert list(zip(ours["lhs"], ours["op"], ours["rhs"], strict=True)) == list(
        zip(theirs["lhs"], theirs["op"], theirs["rhs"], strict=True))
    if "group" in theirs:
        assert list(ours["group"]) == list(theirs["group"])
    assert_close(ours["X2"], theirs["X2"], rel=1e-5, what=f"{case} X2")
    assert_close(ours["epc"], theirs["epc"], rel=1e-5, what=f"{case} epc")


@pytest.mark.parametrize("case", list(CASES))
def test_every_parameter_s_expected_change_is_lavaan_s(case: str) -> None:
    result = fitted(case)
    ours = result.added_parameters_test(CASES[case][3]).epc
    theirs = lavaan_table(f"{case}_add_epc.csv", result).dropna(subset=["epc"])
    by = ("group",) if result.groups is not None else ()
    merged = match_rows(ours, theirs, by=by)
    assert (merged["_merge"] == "both").all(), merged[merged["_merge"] != "both"]
    for column in ["est", "epc", "epv"]:
        assert_close(merged[column], merged[f"{column}_lavaan"], rel=1e-4,
                     absolute=EPC_ABSOLUTE, what=f"{case} {column}")


def test_releasing_constraints_gives_lavaan_s_expected_changes() -> None:
    result = fitted("hs_cfa_equal")
    theirs = lavaan_table("hs_cfa_equal_release_epc.csv", result).dropna(subset=["epc"])
    merged = match_rows(result.score_test.epc, theirs)
    assert (merged["_merge"] == "both").all()
    for column in ["est", "epc", "epv"]:
        assert_close(merged[column], merged[f"{column}_lavaan"], rel=1e-4,
                     absolute=EPC_ABSOLUTE, what=column)
    # The label a shares its value: both loadings move apart once it is released.
    shared = result.score_test.epc.set_index(["lhs", "op", "rhs"])
    assert shared.loc[("visual", "=~", "x2"), "est"] == shared.loc[("visual", "=~", "x3"),
                                                                   "est"]


def test_each_alone_is_the_modification_index() -> None:
    result = fitted("hs_cfa")
    alone = result.added_parameters_test(ADDED).univariate.set_index(["lhs", "op", "rhs"])
    indices = result.modification_indices(sort=False).set_index(["lhs", "op", "rhs"])
    for key in alone.index:
        assert alone.loc[key, "X2"] == pytest.approx(indices.loc[key, "mi"], rel=1e-10)
        assert alone.loc[key, "epc"] == pytest.approx(indices.loc[key, "epc"], rel=1e-10)


@pytest.mark.parametrize(("add", "error", "match"), [
    ("visual =~ x2", AcsiSemError, "visual =~ x2 is already a free parameter"),
    ("textual ~~ visual", AcsiSemError, "textual ~~ visual is already a free parameter"),
    ("visual =~ x10", ModelSyntaxError, "'x10' is not a variable of the model"),
    ("a := 2 * b", ModelSyntaxError, "only parameters"),
    ("x1 ~ 1", AcsiSemError, "no mean structure"),
    ("", ModelSyntaxError, "no parameter to add"),
])
def test_bad_additions_are_refused_naming_them(add: str, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        fitted("hs_cfa").added_parameters_test(add)


def test_other_estimators_are_refused() -> None:
    pls = acsi_sem.fit(MODELS / "hs_cfa.lav", HS, estimator="pls")
    with pytest.raises(AcsiSemError, match="available for ML and MLR fits"):
        pls.added_parameters_test("visual =~ x9")


def test_command_prints_and_writes_the_added_test(tmp_path, capsys) -> None:
    target = tmp_path / "out.json"
    assert main(["fit", str(MODELS / "hs_cfa.lav"), "--data", str(HS), "--score-test-add",
                 ADDED, "--json", str(target)]) == 0
    assert "Score test of adding 3 parameters: X2 = 45.352, df = 3" in capsys.readouterr().out
    written = json.loads(target.read_text())["added_parameters_test"]
    expected = fitted("hs_cfa").added_parameters_test(ADDED)
    assert written["total"]["X2"] == pytest.approx(expected.total["X2"], rel=1e-12)
    assert [row["epc"] for row in written["univariate"]] == pytest.approx(
        list(expected.univariate["epc"]), rel=1e-12)
    assert len(written["epc"]) == len(expected.epc)
