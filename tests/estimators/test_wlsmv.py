"""Ordered items (WLSMV) against lavaan 0.6.14 (tests/fixtures/lavaan/make_survey_fixtures.R,
section c): polychorics, thresholds, DWLS estimates, robust SEs and the adjusted tests."""

from __future__ import annotations

import json
from functools import cache

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import acsi_sem
from acsi_sem.cli.main import main
from acsi_sem.errors import AcsiSemError, DataError
from acsi_sem.numerics.polychoric import bivariate_normal_cdf, ordinal_statistics
from acsi_sem.numerics.wlsmv import gauss_newton
from tests.conftest import (
    LAVAAN,
    ROOT,
    assert_close,
    assert_indices_close,
    lavaan_fit,
    lavaan_parameters,
    match_rows,
)

DATA = ROOT / "tests" / "fixtures" / "data" / "acsi_ordinal.csv"
ACSI = ROOT / "models" / "acsi.lav"
# lavaan's delta case lets the item CUSCO stand in for Complaints (see the R script).
DIRECT = (ACSI.read_text().replace("Complaints   =~ CUSCO\n", "")
          .replace("Complaints", "CUSCO"))
PLAIN = ["npar", "chisq", "df", "pvalue", "baseline_chisq", "baseline_df", "cfi", "tli",
         "nfi", "rmsea", "rmsea_ci_lower", "rmsea_ci_upper", "srmr", "gfi", "agfi"]
SCALED = ["chisq_scaled", "pvalue_scaled", "scaling_factor", "baseline_chisq_scaled",
          "baseline_scaling_factor", "cfi_scaled", "tli_scaled", "rmsea_scaled",
          "rmsea_ci_upper_scaled"]
ROBUST = ["cfi_robust", "tli_robust", "rmsea_robust", "rmsea_ci_lower_robust",
          "rmsea_ci_upper_robust"]
# With the ordered CUSCO as a predictor, lavaan 0.6.14 leaves CUSCO's disturbance out of the
# residual variances of Loyalty's items (implied variances 1.0099, 1.0059; the R script prints
# them) and, it seems, out of the derivatives of the paths through CUSCO; acsi-sem keeps every
# latent response at variance 1. These rows are checked against the theta case instead.
LAVAAN_DELTA_QUIRK = {("CUSL1", "~~", "CUSL1"), ("CUSL2", "~~", "CUSL2"),
                      ("Loyalty", "~", "CUSCO"), ("Loyalty", "~", "Satisfaction"),
                      ("Loyalty", "~~", "Loyalty")}


@cache
def direct() -> acsi_sem.FitResult:
    return acsi_sem.fit(DIRECT, DATA, estimator="wlsmv")


@cache
def acsi() -> acsi_sem.FitResult:
    return acsi_sem.fit(ACSI, DATA, estimator="wlsmv", ordered="all")


def test_bivariate_normal_probabilities_are_exact() -> None:
    rng = np.random.default_rng(7)
    h, k = rng.normal(scale=1.5, size=12), rng.normal(scale=1.5, size=12)
    for rho in (-0.95, 0.0, 0.6, 0.999):
        reference = [stats.multivariate_normal.cdf([a, b], cov=[[1, rho], [rho, 1]],
                                                   abseps=1e-12, releps=1e-12)
                     for a, b in zip(h, k, strict=True)]
        np.testing.assert_allclose(bivariate_normal_cdf(h, k, rho), reference, atol=1e-10)
    assert bivariate_normal_cdf(np.inf, 0.3, 0.5) == pytest.approx(stats.norm.cdf(0.3))
    assert bivariate_normal_cdf(-np.inf, 0.3, 0.5) == 0.0


def test_thresholds_and_polychorics_equal_lavaan() -> None:
    data = pd.read_csv(DATA)
    statistics = ordinal_statistics(data)
    thresholds = pd.read_csv(LAVAAN / "acsi_ordinal_thresholds.csv")
    np.testing.assert_allclose(np.concatenate(statistics.thresholds), thresholds["value"],
                               atol=1e-12)
    polychoric = (pd.read_csv(LAVAAN / "acsi_ordinal_polychoric.csv")
                  .pivot(index="row", columns="col", values="value")
                  .loc[list(data.columns), list(data.columns)])
    # lavaan's own optimiser stops at about 3e-8.
    np.testing.assert_allclose(statistics.polychoric, polychoric.to_numpy(), atol=2e-7)


def test_estimates_and_robust_standard_errors_equal_lavaan() -> None:
    merged = match_rows(direct().parameters, lavaan_parameters("acsi_ordinal_wlsmv"))
    ours = merged[merged["_merge"] != "right_only"]
    assert (ours["_merge"] == "both").all()
    keys = list(zip(ours["lhs"], ours["op"], ours["rhs"], strict=True))
    checked = ours[[key not in LAVAAN_DELTA_QUIRK for key in keys]]
    assert len(checked) == len(ours) - len(LAVAAN_DELTA_QUIRK) == 92
    for column in ["est", "se", "z"]:
        assert_close(checked[column], checked[f"{column}_lavaan"], rel=1e-5, absolute=1e-6,
                     what=column)
    quirk = ours[[key in LAVAAN_DELTA_QUIRK for key in keys]]
    free = quirk[quirk["op"] == "~"]
    assert_close(free["est"], free["est_lavaan"], rel=1e-5, what="paths through CUSCO")


def test_fit_and_scaled_test_equal_lavaan() -> None:
    ours, lavaan = direct().fit_indices, lavaan_fit("acsi_ordinal_wlsmv")
    assert_indices_close(ours, lavaan, PLAIN + SCALED, rel=1e-6, absolute=1e-7)
    # lavaan's statistic is a chisq + b with a = 1 / scaling factor and b the shift.
    assert ours["chisq_scaled"] == pytest.approx(
        ours["chisq"] / ours["scaling_factor"] + ours["shift_parameter"], rel=1e-12)
    assert ours["shift_parameter"] == pytest.approx(8.752263, rel=1e-5)
    assert np.isnan(ours["loglik"]) and np.isnan(ours["aic"])


def test_models_acsi_with_ordered_items_is_lavaans_theta_case() -> None:
    """models/acsi.lav as written: Complaints takes CUSCO's unit variance. Same fit as
    lavaan's theta parameterization, and its standardized solution."""
    ours, lavaan = acsi().fit_indices, lavaan_fit("acsi_ordinal_wlsmv_theta")
    assert_indices_close(ours, lavaan, ["chisq", "df", "chisq_scaled", "srmr", *ROBUST],
                         rel=1e-5, absolute=1e-7)
    merged = match_rows(acsi().parameters, lavaan_parameters("acsi_ordinal_wlsmv_theta"))
    paths = merged[merged["op"].isin(["=~", "~"]) & (merged["_merge"] == "both")]
    assert len(paths) == 23
    assert_close(paths["std_all"], paths["std_all_lavaan"], rel=1e-5, absolute=1e-6,
                 what="std_all")
    latent_response = acsi().implied_cov.to_numpy()
    np.testing.assert_allclose(np.diag(latent_response), 1.0, atol=1e-12)


def test_both_forms_of_the_single_indicator_agree() -> None:
    ours = acsi().parameters.set_index(["lhs", "op", "rhs"])
    theirs = direct().parameters.set_index(["lhs", "op", "rhs"])
    for mine, other in [(("Loyalty", "~", "Complaints"), ("Loyalty", "~", "CUSCO")),
                        (("Complaints", "~", "Satisfaction"), ("CUSCO", "~", "Satisfaction")),
                        (("Loyalty", "~", "Satisfaction"), ("Loyalty", "~", "Satisfaction"))]:
        assert ours.loc[mine, "est"] == pytest.approx(theirs.loc[other, "est"], rel=1e-6)
        assert ours.loc[mine, "se"] == pytest.approx(theirs.loc[other, "se"], rel=1e-4)


def test_summary_and_json_show_thresholds_and_the_adjusted_test() -> None:
    text = str(acsi().summary())
    assert "WLSMV" in text and "Thresholds:" in text and "CUEX1|t1" in text
    assert "Scaled-shifted test (WLSMV)" in text
    document = json.loads(acsi().to_json())
    assert {"chisq_scaled", "cfi_scaled", "tli_scaled", "rmsea_scaled"} <= set(document["fit"])
    assert any(p["op"] == "|" and p["rhs"] == "t4" for p in document["parameters"])
    assert acsi().quality is not None


def test_wlsmv_from_the_shell(capsys) -> None:
    code = main(["fit", str(ACSI), "--data", str(DATA), "--estimator", "wlsmv", "--ordered",
                 "all", "--json", "-"])
    captured = capsys.readouterr()
    assert code == 0
    fit = json.loads(captured.out)["fit"]
    assert fit["chisq_scaled"] == pytest.approx(77.7123839, rel=1e-6)


def frame(**changes) -> pd.DataFrame:
    data = pd.read_csv(DATA)
    return data.assign(**changes)


@pytest.mark.parametrize(("options", "data", "pattern"), [
    ({"ordered": "all"}, frame, "estimator='wlsmv'"),
    ({"estimator": "wlsmv", "ordered": " , "}, frame, "ordered names no item"),
    ({"estimator": "wlsmv", "ordered": "CUEX9"}, frame, "CUEX9, which the model does not use"),
    ({"estimator": "wlsmv"}, lambda: frame(CUEX1=lambda d: d["CUEX1"] + 0.5),
     "CUEX1 is declared ordered but holds non-integer answers"),
    ({"estimator": "wlsmv", "scale": (0, 20)},
     lambda: frame(PERQ1=lambda d: np.arange(len(d)) % 20),
     "PERQ1 has 20 distinct answers"),
])
def test_impossible_ordinal_requests_name_the_cause(options: dict, data, pattern: str) -> None:
    with pytest.raises((AcsiSemError, DataError), match=pattern):
        acsi_sem.fit(ACSI, data(), **options)


def test_items_that_cannot_be_told_apart_are_flagged() -> None:
    data = pd.read_csv(DATA)
    # CUEX3 repeats CUEX1 but for one answer (identical items are refused outright).
    cuex1 = (data["CUEX2"] > 3).astype(int)
    cuex3 = cuex1.where(np.arange(len(data)) != int(np.flatnonzero(cuex1)[0]), 0)
    data = data.assign(CUEX1=cuex1, CUEX3=cuex3)
    result = acsi_sem.fit("E =~ CUEX1 + CUEX2 + CUEX3", data, estimator="wlsmv")
    assert any("polychoric correlation of CUEX3 and CUEX1 is +0.999, at its bound" in w
               for w in result.warnings)
    # A just-identified model has no test to scale.
    assert result.fit_indices["df"] == 0 and np.isnan(result.fit_indices["chisq_scaled"])
    assert "Scaled-shifted test" in str(result.summary())


def test_robust_indices_are_undefined_without_a_positive_definite_polychoric_matrix() -> None:
    sample = pd.read_csv(DATA).sample(25, random_state=0)
    model = "S =~ CUSA1 + CUSA2 + CUSA3\nL =~ CUSL1 + CUSL2\nQ =~ PERQ1 + PERQ2 + PERQ3"
    result = acsi_sem.fit(model, sample, estimator="wlsmv")
    assert any("not positive definite" in w for w in result.warnings)
    fit = result.fit_indices
    assert np.isnan(fit["cfi_robust"]) and np.isnan(fit["rmsea_robust"])
    assert 0 < fit["cfi_scaled"] <= 1
    assert "Robust RMSEA [90% CI]" in str(result.summary())


def test_a_stalled_gauss_newton_run_far_from_a_zero_gradient_is_not_converged() -> None:
    """No halved step lowers F and the steps are tiny (the information is huge), but the
    gradient is not zero in that metric: the predicted decrease g' E^-1 g is 1e-8 F, not
    negligible, and Newton on the full Hessian finds no lower point either. Such a run was
    reported as converged (a marker in large units: chisq 258.9 against 47.0)."""
    start = np.array([0.0])

    def value(theta: np.ndarray) -> float:
        return 1.0 if np.array_equal(theta, start) else 2.0

    def normal_equations(theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return np.array([[1e8]]), 1.0 - theta

    *_, converged, _ = gauss_newton(value, normal_equations, start, max_iterations=20,
                                    tolerance=1e-10)
    assert not converged
