"""lavaan's lavTestScore() of released equality constraints against lavaan 0.6.14
(tests/fixtures/lavaan/make_constraint_fixtures.R: poldem, hs_metric, hs_scalar and
hs_cfa_equal; under FIML make_fiml_score_fixtures.R: hs_fiml_equal, hs_fiml_equal_mlr,
hs_fiml_covariates_equal, hs_fiml_metric and hs_fiml_scalar)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import acsi_sem
from acsi_sem.cli.main import main
from tests.conftest import LAVAAN, ROOT, assert_close

MODELS = ROOT / "tests" / "fixtures" / "models"
DATA = ROOT / "tests" / "fixtures" / "data"
HS = DATA / "holzinger1939.csv"
POLDEM_MODEL = (MODELS / "poldem_labels.lav").read_text() + "\np1 == p2\n"


INCOMPLETE = DATA / "holzinger1939_missing.csv"
FIML_CASES = ["hs_fiml_equal", "hs_fiml_equal_mlr", "hs_fiml_covariates_equal",
              "hs_fiml_metric", "hs_fiml_scalar"]


def fit_case(case: str) -> acsi_sem.FitResult:
    if case == "poldem":
        return acsi_sem.fit(POLDEM_MODEL, DATA / "political_democracy.csv")
    if case == "hs_cfa_equal":
        return acsi_sem.fit(MODELS / "hs_cfa_equal.lav", HS)
    if case == "hs_fiml_covariates_equal":
        return acsi_sem.fit(MODELS / "hs_cfa_age_equal.lav", INCOMPLETE, missing="fiml")
    if case.startswith("hs_fiml_equal"):
        return acsi_sem.fit(MODELS / "hs_cfa_equal.lav", INCOMPLETE, missing="fiml",
                            estimator="mlr" if case.endswith("_mlr") else "ml")
    equal = {"metric": "loadings", "scalar": "loadings, intercepts"}[case.split("_")[-1]]
    data = INCOMPLETE if case.startswith("hs_fiml") else HS
    return acsi_sem.fit(MODELS / "hs_cfa.lav", data, group="school", group_equal=equal,
                        missing="fiml" if data == INCOMPLETE else "listwise")


@pytest.mark.parametrize("case", ["poldem", "hs_metric", "hs_scalar", "hs_cfa_equal",
                                  *FIML_CASES])
def test_score_tests_equal_lavaan(case: str) -> None:
    """Under FIML too: the score and expected information of the missing-data patterns
    (lavaan's default information = "expected"), the same test under MLR."""
    theirs = pd.read_csv(LAVAAN / f"{case}_score.csv", keep_default_na=False)
    total, univariate = theirs.iloc[-1], theirs.iloc[:-1]
    test = fit_case(case).score_test
    # The user's '==' rows first, then each shared label's equality, as in lavaan.
    keys = ["lhs", "op", "rhs"]
    assert test.univariate[keys].to_numpy().tolist() == univariate[keys].to_numpy().tolist()
    assert_close(test.univariate["X2"], univariate["X2"].astype(float), rel=1e-4,
                 absolute=1e-6, what=f"{case} X2")
    assert_close(test.univariate["pvalue"], univariate["p.value"].astype(float), rel=1e-4,
                 absolute=1e-6, what=f"{case} p")
    assert test.total["df"] == int(total["df"]) == len(univariate)
    assert test.total["X2"] == pytest.approx(float(total["X2"]), rel=1e-5)


def test_releasing_one_equality_is_the_likelihood_ratio_to_first_order() -> None:
    # The score test of releasing p1 == p2 approximates the chi-square difference of the fits
    # with and without it (same null distribution, chi-square with 1 df).
    constrained = fit_case("poldem")
    released = acsi_sem.fit(MODELS / "poldem_labels.lav", DATA / "political_democracy.csv")
    difference = constrained.fit_indices["chisq"] - released.fit_indices["chisq"]
    score = constrained.score_test.univariate.set_index("lhs").at["p1", "X2"]
    assert score == pytest.approx(difference, rel=0.1)
    assert released.score_test.total["df"] == 3


def test_no_score_test_without_equalities_or_with_inequalities() -> None:
    assert acsi_sem.fit(MODELS / "hs_cfa.lav", HS).score_test is None
    assert acsi_sem.fit(MODELS / "hs_constraints.lav", HS).score_test is None
    # Complete data with '~ 1' rows (saturated intercepts): not yet, and no error either.
    with_means = (MODELS / "hs_cfa_equal.lav").read_text() + "\nx1 ~ 1\n"
    assert acsi_sem.fit(with_means, HS).score_test is None


def test_cli_prints_the_score_test_and_writes_it_to_json(capsys, tmp_path) -> None:
    target = tmp_path / "fit.json"
    code = main(["fit", str(MODELS / "hs_cfa.lav"), "--data", str(HS), "--group", "school",
                 "--group-equal", "loadings", "--score-test", "--json", str(target)])
    assert code == 0
    printed = capsys.readouterr().out
    assert "Score test of releasing the 6 equality constraints: X2 = 7.256" in printed
    document = json.loads(target.read_text())
    rows = document["score_test"]["univariate"]
    assert [row["lhs"] for row in rows][2] == "textual =~ x5 [Pasteur]"
    assert np.isclose(rows[2]["X2"], 4.649, atol=1e-3)
    assert main(["fit", str(MODELS / "hs_cfa.lav"), "--data", str(HS), "--score-test"]) == 2
    assert "no score test" in capsys.readouterr().err
