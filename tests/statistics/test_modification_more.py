"""Modification indices beyond single-group ML against lavaan 0.6.14's modindices(): MLR,
groups (with and without group_equal), FIML and modelled means
(tests/fixtures/lavaan/make_modindices_more_fixtures.R)."""

from __future__ import annotations

import json
from dataclasses import replace

import pandas as pd
import pytest

import acsi_sem
from acsi_sem.cli.main import main
from acsi_sem.errors import AcsiSemError
from acsi_sem.results import FitResult
from tests.conftest import LAVAAN, ROOT, assert_close, lavaan_parameters, match_rows

MODELS, DATA = ROOT / "tests/fixtures/models", ROOT / "tests/fixtures/data"
HS, HS_MISSING = DATA / "holzinger1939.csv", DATA / "holzinger1939_missing.csv"
CASES = {
    "hs_cfa_mlr": ("hs_cfa", HS, {"estimator": "mlr"}),
    "hs_invariance_configural": ("hs_cfa", HS, {"group": "school"}),
    "hs_invariance_metric": ("hs_cfa", HS, {"group": "school", "group_equal": "loadings"}),
    "hs_invariance_scalar": ("hs_cfa", HS, {"group": "school",
                                            "group_equal": ["loadings", "intercepts"]}),
    "hs_cfa_fiml": ("hs_cfa", HS_MISSING, {"missing": "fiml"}),
    "hs_fiml_groups_scalar": ("hs_cfa", HS_MISSING, {
        "group": "school", "group_equal": ["loadings", "intercepts"], "missing": "fiml"}),
    "hs_latent_means": ("hs_latent_means", HS, {}),
    "growth_linear": ("growth_linear", DATA / "demo_growth.csv", {}),
    # fixed.x covariates: sepc.nox leaves them in their own units
    # (make_modindices_covariates_fixtures.R)
    "hs_covariates": ("hs_covariates", HS, {}),
    "hs_fiml_covariates": ("hs_cfa_age", HS_MISSING, {"missing": "fiml"}),
    "growth_conditional": ("growth_conditional", DATA / "demo_growth.csv", {}),
}
COLUMNS = ["mi", "epc", "sepc_lv", "sepc_all", "sepc_nox"]


def fitted(case: str) -> FitResult:
    model, data, options = CASES[case]
    return acsi_sem.fit(MODELS / f"{model}.lav", data, **options)


def with_group_labels(frame: pd.DataFrame, result: FitResult) -> pd.DataFrame:
    """lavaan's group numbers (1, 2) as acsi-sem's labels."""
    if "group" not in frame:
        return frame
    labels = result.groups["labels"]
    return frame.assign(group=[labels[int(g) - 1] for g in frame["group"]])


def lavaan_modindices(case: str, result: FitResult) -> pd.DataFrame:
    """lavaan's table without the fixed.x covariates' own moments (their covariances,
    regressions on each other and means), which lavaan lists with indices of 1e-30 and
    acsi-sem leaves out."""
    frame = pd.read_csv(LAVAAN / f"{case}_modindices.csv", keep_default_na=False,
                        na_values=["NA"])
    frame.columns = [c.replace(".", "_") for c in frame.columns]
    covariates = set(result.spec.exogenous_covariates)
    own = frame["lhs"].isin(covariates) & frame["rhs"].isin(covariates | {""})
    assert (frame.loc[own, "mi"] < 1e-20).all()
    return with_group_labels(frame[~own].reset_index(drop=True), result)


def at_lavaan_estimates(result: FitResult, case: str) -> FitResult:
    """``result`` with lavaan's estimates in place of its own."""
    theirs = with_group_labels(lavaan_parameters(case), result)
    group = theirs["group"] if "group" in theirs else [None] * len(theirs)
    estimates = {}
    for lhs, op, rhs, label, est in zip(theirs["lhs"], theirs["op"], theirs["rhs"], group,
                                        theirs["est"], strict=True):
        estimates[(lhs, op, rhs, label)] = est
        if op == "~~":
            estimates[(rhs, op, lhs, label)] = est
    ours = result.parameters
    group = ours["group"] if "group" in ours else [None] * len(ours)
    est = [estimates.get((lhs, op, rhs, label), value) for lhs, op, rhs, label, value in zip(
        ours["lhs"], ours["op"], ours["rhs"], group, ours["est"], strict=True)]
    return replace(result, parameters=ours.assign(est=est))


def compare(ours: pd.DataFrame, theirs: pd.DataFrame, *, rel: float, absolute: float,
            what: str) -> None:
    by = ("group",) if "group" in theirs else ()
    merged = match_rows(ours, theirs, by=by)
    # The same candidates, one per group: lavaan's, including its choice to leave out those
    # whose score test has no variance (freed marker loadings, the intercepts of a model
    # with saturated means).
    assert (merged["_merge"] == "both").all(), merged.loc[
        merged["_merge"] != "both", ["lhs", "op", "rhs", *by, "_merge"]]
    for column in COLUMNS:
        assert_close(merged[column], merged[f"{column}_lavaan"], rel=rel, absolute=absolute,
                     what=f"{what} {column}")


@pytest.mark.parametrize("case", list(CASES))
def test_at_lavaan_s_estimates_the_indices_are_lavaan_s(case: str) -> None:
    result = fitted(case)
    ours = at_lavaan_estimates(result, case).modification_indices(sort=False)
    compare(ours, lavaan_modindices(case, result), rel=1e-4, absolute=1e-8, what=case)


@pytest.mark.parametrize("case", list(CASES))
def test_modification_indices_equal_lavaan(case: str) -> None:
    result = fitted(case)
    # lavaan's estimates stop at its optimiser's tolerance (ours at a zero gradient), which
    # moves an EPC near zero by up to 4e-3 relative on the configural fit.
    compare(result.modification_indices(sort=False), lavaan_modindices(case, result),
            rel=1e-3, absolute=2e-4, what=case)


def test_sepc_nox_of_paths_from_covariates_is_lavaan_s() -> None:
    """hs_cfa_age (factors on ageyr and grade): the candidate paths from a covariate are
    the rows where std.nox, unlike std.all, leaves the covariate in years or grades."""
    result = acsi_sem.fit(MODELS / "hs_cfa_age.lav", HS)
    ours = result.modification_indices(sort=False)
    theirs = lavaan_modindices("hs_cfa_age", result)
    compare(ours, theirs, rel=1e-3, absolute=2e-4, what="hs_cfa_age")
    from_covariate = ours["rhs"].isin(["ageyr", "grade"]) & (ours["op"] == "~")
    assert from_covariate.sum() == 2
    differs = (ours["sepc_nox"] - ours["sepc_all"]).abs() > 1e-6
    assert (differs == from_covariate).all()


def test_mlr_indices_are_ml_s() -> None:
    """lavaan's modindices() uses the expected information whatever the fit's own."""
    mlr = fitted("hs_cfa_mlr").modification_indices(sort=False)
    ml = acsi_sem.fit(MODELS / "hs_cfa.lav", HS).modification_indices(sort=False)
    pd.testing.assert_frame_equal(mlr, ml, rtol=1e-8)


def test_groups_have_a_group_column_and_no_equal_parameters() -> None:
    table = fitted("hs_invariance_metric").modification_indices(sort=False)
    assert list(table.columns[:4]) == ["lhs", "op", "rhs", "group"]
    assert set(table["group"]) == {"Pasteur", "Grant-White"}
    # The loadings held equal are lavTestScore()'s; only the fixed markers are candidates.
    loadings = table[table["op"] == "=~"]
    assert not ((loadings["lhs"] == "visual") & (loadings["rhs"] == "x2")).any()
    assert ((loadings["lhs"] == "visual") & (loadings["rhs"] == "x1")).sum() == 2


def test_fits_without_their_data_or_by_other_estimators_refuse() -> None:
    pls = acsi_sem.fit(MODELS / "hs_cfa.lav", HS, estimator="pls")
    with pytest.raises(AcsiSemError, match="available for ML and MLR fits"):
        pls.modification_indices()
    without_data = replace(fitted("hs_invariance_configural"), data=None)
    with pytest.raises(AcsiSemError, match="need the fit's own data, which this result"):
        without_data.modification_indices()


def test_command_prints_group_indices(tmp_path, capsys) -> None:
    target = tmp_path / "out.json"
    code = main(["fit", str(MODELS / "hs_cfa.lav"), "--data", str(HS), "--group", "school",
                 "--group-equal", "loadings", "--modindices", "10", "--json", str(target)])
    assert code == 0
    assert "Modification indices (mi >= 10" in capsys.readouterr().out
    rows = json.loads(target.read_text())["modification_indices"]
    expected = fitted("hs_invariance_metric").modification_indices(10)
    assert [(r["lhs"], r["op"], r["rhs"], r["group"]) for r in rows] == list(
        expected[["lhs", "op", "rhs", "group"]].itertuples(index=False, name=None))
