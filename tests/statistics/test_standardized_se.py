"""Standardized estimates with standard errors equal lavaan's standardizedSolution()
(tests/fixtures/lavaan/make_standardized_fixtures.R, lavaan 0.6.14)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import acsi_sem
from acsi_sem.errors import AcsiSemError
from acsi_sem.statistics.standardized_se import standardized_solution

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"
MODELS, DATA = FIXTURES / "models", FIXTURES / "data"
HS = DATA / "holzinger1939.csv"

CASES = {
    "hs_cfa": (MODELS / "hs_cfa.lav", HS, {}),
    "hs_cfa_mlr": (MODELS / "hs_cfa.lav", HS, {"estimator": "mlr"}),
    "poldem_labels": (MODELS / "poldem_labels.lav", DATA / "political_democracy.csv", {}),
    "hs_constraints": (MODELS / "hs_constraints.lav", HS, {}),
    "hs_fiml": (MODELS / "hs_constraints.lav", DATA / "holzinger1939_missing.csv",
                {"missing": "fiml"}),
    "hs_groups": (MODELS / "hs_cfa.lav", HS, {"group": "school",
                                              "group_equal": ("loadings",)}),
    "hs_ageyr": (MODELS / "hs_cfa_ageyr.lav", HS, {}),
    "growth_linear": (MODELS / "growth_linear.lav", DATA / "demo_growth.csv",
                      {"kind": "growth"}),
    "acsi": (ROOT / "models" / "acsi.lav", ROOT / "data" / "acsi_simulated.csv", {}),
}


@pytest.fixture(scope="module")
def fits() -> dict[str, acsi_sem.FitResult]:
    return {name: acsi_sem.fit(model, data, **options)
            for name, (model, data, options) in CASES.items()}


def _compared(result: acsi_sem.FitResult, case: str, kind: str) -> pd.DataFrame:
    ours = standardized_solution(result, kind)
    lavaan = pd.read_csv(FIXTURES / "lavaan" / f"std_{case}_{kind}.csv",
                         keep_default_na=False, na_values={"se": ["NA"], "z": ["NA"],
                                                           "pvalue": ["NA"]})
    for column in ("est.std", "se", "z", "pvalue", "ci.lower", "ci.upper"):
        lavaan[column] = pd.to_numeric(lavaan[column], errors="coerce")
    keys = ["lhs", "op", "rhs"]
    if result.groups is not None:
        labels = dict(enumerate(result.groups["labels"], start=1))
        lavaan["group"] = lavaan["group"].map(lambda g: labels.get(g, ""))
        keys.append("group")
    merged = lavaan.merge(ours, on=keys, suffixes=("_lavaan", ""), validate="one_to_one")
    assert len(merged) == len(lavaan), "a lavaan row has no counterpart"
    return merged


@pytest.mark.parametrize("kind", ["std_all", "std_lv"])
@pytest.mark.parametrize("case", list(CASES))
def test_standardized_solution_equals_lavaan(fits, case: str, kind: str) -> None:
    _assert_equals_lavaan(fits[case], case, kind)


def test_std_nox_leaves_the_covariates_in_their_units(fits) -> None:
    """lavaan's type = "std.nox": one group and across the schools (each school's own
    covariate moments), every row within 1e-4."""
    _assert_equals_lavaan(fits["hs_ageyr"], "hs_ageyr", "std_nox")
    groups = acsi_sem.fit(MODELS / "hs_mimic.lav", HS, group="school")
    # lavaan stops this fit short (with rel.tol = 1e-14 it moves by up to 3e-3 and reports
    # no convergence); its default answer and ours agree within 3e-4.
    _assert_equals_lavaan(groups, "hs_mimic_groups", "std_nox", rtol=3e-4)
    nox = standardized_solution(groups, "std_nox").set_index(["lhs", "op", "rhs", "group"])
    raw = groups.parameters.set_index(["lhs", "op", "rhs", "group"])
    key = ("ageyr", "~~", "ageyr", "Pasteur")
    assert nox.at[key, "est_std"] == pytest.approx(raw.at[key, "est"])  # not 1
    # Random covariates (GLS's default fixed_x=False) are lavaan's ov.x as well.
    random = acsi_sem.fit(MODELS / "hs_random_covariates.lav", HS, estimator="gls")
    _assert_equals_lavaan(random, "hs_random_x_gls", "std_nox")


def _assert_equals_lavaan(result: acsi_sem.FitResult, case: str, kind: str, *,
                          rtol: float = 1e-4) -> None:
    merged = _compared(result, case, kind)
    # lavaan writes NA where rounding leaves a constant's variance a hair below 0 (the
    # std_lv marker loading of a factor whose variance an inequality holds at its bound):
    # an SE of 0 here.
    lavaan_se = merged["se_lavaan"].where(merged["se_lavaan"].notna() | (merged["se"] != 0),
                                          0.0)
    np.testing.assert_allclose(merged["est_std"], merged["est.std"], rtol=rtol, atol=1e-6)
    np.testing.assert_allclose(merged["se"], lavaan_se, rtol=rtol, atol=1e-6)
    np.testing.assert_allclose(merged["z"], merged["z_lavaan"], rtol=2 * rtol)
    np.testing.assert_allclose(merged["pvalue"], merged["pvalue_lavaan"], atol=rtol / 2)
    lavaan_lower = merged["ci.lower"].where(merged["ci.lower"].notna(), merged["est.std"])
    # lavaan stops poldem's fit short: its raw estimates differ from ours by up to 1e-4.
    atol = 2e-4 if case == "poldem_labels" else 1e-5
    np.testing.assert_allclose(merged["ci_lower"], lavaan_lower, rtol=rtol, atol=atol)


def test_unknown_kind_and_pls_fits_are_refused() -> None:
    pls = acsi_sem.fit("acsi", estimator="pls")
    with pytest.raises(AcsiSemError, match="std_xyz"):
        standardized_solution(pls, "std_xyz")
    with pytest.raises(AcsiSemError, match="PLS"):
        standardized_solution(pls)


def test_command_line_prints_and_writes_the_standardized_solution(fits, tmp_path,
                                                                  capsys) -> None:
    from acsi_sem.cli.main import main

    path = tmp_path / "fit.json"
    model, data, _ = CASES["hs_cfa"]
    assert main(["fit", str(model), "--data", str(data), "--standardized-se", "std_lv",
                 "--json", str(path)]) == 0
    assert "Standardized solution (std_lv" in capsys.readouterr().out
    written = pd.DataFrame(json.loads(path.read_text())["standardized_solution"])
    expected = fits["hs_cfa"].standardized_solution("std_lv")
    np.testing.assert_allclose(written["se"], expected["se"], rtol=1e-12)
    assert list(written["lhs"]) == list(expected["lhs"])


def test_saturated_intercepts_have_a_standardized_value_and_no_se() -> None:
    """A single-group ML fit with written intercepts: their est_std is the mean over the
    implied SD (lavaan: x1 std.all 4.234926) and their SE NaN (not in vcov); the other rows
    are those of the fit without intercepts."""
    model = (MODELS / "hs_cfa.lav").read_text() + "\nx1 ~ 1\n"
    with_means = standardized_solution(acsi_sem.fit(model, HS))
    without = standardized_solution(acsi_sem.fit(MODELS / "hs_cfa.lav", HS))
    intercept = with_means[with_means["op"] == "~1"].iloc[0]
    assert intercept["est_std"] == pytest.approx(4.234926, rel=1e-5)
    assert np.isnan(intercept["se"])
    rest = with_means[with_means["op"] != "~1"].reset_index(drop=True)
    np.testing.assert_allclose(rest["se"], without["se"], rtol=1e-6)


def test_a_bootstrap_fit_uses_the_covariance_of_its_draws() -> None:
    """With bootstrap=N the delta method takes the draws' covariance (lavaan 0.6.14's vcov
    under se = "bootstrap"): the standardized SE of a structural path is J cov(draws) J'."""
    result = acsi_sem.fit(MODELS / "poldem_labels.lav", DATA / "political_democracy.csv",
                          bootstrap=60, seed=3)
    table = standardized_solution(result)
    names = list(result.vcov.index)
    position = [result.bootstrap.names.index(name) for name in names]
    covariance = np.cov(result.bootstrap.draws[:, position], rowvar=False)
    ml = acsi_sem.fit(MODELS / "poldem_labels.lav", DATA / "political_democracy.csv")
    ml_table = standardized_solution(ml)
    row = (table["lhs"] == "dem60") & (table["op"] == "~")
    # The same Jacobian (the estimates are ML's), another V: the SE scales accordingly.
    from acsi_sem.statistics.defined import definition_jacobian
    from acsi_sem.statistics.modification import free_estimates
    from acsi_sem.statistics.standardized_se import _standardizer

    theta = free_estimates(result)[: len(names)]
    index = int(np.flatnonzero(row)[0])
    gradient = definition_jacobian(lambda t: _standardizer(result, "std_all")(t)[[index]],
                                   theta)[0]
    assert table.loc[row, "se"].iat[0] == pytest.approx(
        np.sqrt(gradient @ covariance @ gradient), rel=1e-6)
    assert table.loc[row, "se"].iat[0] != pytest.approx(ml_table.loc[row, "se"].iat[0],
                                                        rel=1e-3)
