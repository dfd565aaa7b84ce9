"""Observed covariates (lavaan's fixed.x) against lavaan 0.6.14
(tests/fixtures/lavaan/make_survey_fixtures.R, section g): their moments are not data, so
they leave df, the baseline model and GFI, and the log-likelihoods are conditional on them."""

from __future__ import annotations

import pytest

import acsi_sem
from tests.conftest import (
    ROOT,
    assert_close,
    assert_indices_close,
    assert_matches_lavaan,
    lavaan_fit,
    lavaan_parameters,
    match_rows,
)

MODEL = ROOT / "tests" / "fixtures" / "models" / "hs_covariates.lav"
DATA = ROOT / "tests" / "fixtures" / "data" / "holzinger1939.csv"
PLAIN = ["npar", "chisq", "df", "pvalue", "baseline_chisq", "baseline_df", "cfi", "tli",
         "nfi", "rmsea", "rmsea_ci_lower", "rmsea_ci_upper", "rmsea_pvalue", "srmr", "aic",
         "bic", "bic2", "loglik", "unrestricted_loglik", "gfi", "agfi"]
ROBUST = ["chisq_scaled", "scaling_factor", "baseline_scaling_factor", "cfi_scaled",
          "rmsea_scaled", "cfi_robust", "tli_robust", "rmsea_robust", "rmsea_ci_upper_robust"]


@pytest.mark.parametrize(("estimator", "case"), [("ml", "hs_covariates"),
                                                  ("mlr", "hs_covariates_mlr")])
def test_covariate_model_equals_lavaan(estimator: str, case: str) -> None:
    result = acsi_sem.fit(MODEL, DATA, estimator=estimator)
    merged = match_rows(result.parameters, lavaan_parameters(case))
    both = merged[merged["_merge"] == "both"]
    assert len(both) == 12
    for column in ["est", "se", "z", "std_all"]:
        assert_close(both[column], both[f"{column}_lavaan"], rel=1e-4, absolute=1e-6,
                     what=column)
    ours, lavaan = result.fit_indices, lavaan_fit(case)
    assert ours["df"] == 4 and ours["baseline_df"] == 9
    assert_indices_close(ours, lavaan, PLAIN, rel=1e-6, absolute=1e-7)
    if estimator == "mlr":
        assert_indices_close(ours, lavaan, ROBUST, rel=1e-5, absolute=1e-7)


def test_two_covariates_are_identified_and_bootstrap() -> None:
    result = acsi_sem.fit(MODEL, DATA, bootstrap=30, seed=3)
    assert len(result.bootstrap.draws) == 30
    assert result.quality is not None
    path = result.parameters.query("op == '~' and rhs == 'x4'").iloc[0]
    assert path["ci_lower"] < path["est"] < path["ci_upper"]



def test_a_covariate_in_a_covariance_formula_is_random_as_in_lavaan() -> None:
    """tests/fixtures/lavaan/make_fixed_x_fixtures.R: grade covaries with visual, so it is
    random (free variance, no covariances with ageyr and sex) while ageyr and sex stay
    fixed.x; it was kept fixed.x, with chi-square 226.5 on 49 df for lavaan's 326.1 on 51."""
    model = ROOT / "tests" / "fixtures" / "models" / "hs_random_covariate.lav"
    result = acsi_sem.fit(model, DATA)
    table = result.spec.table
    exogenous = set(table.loc[table["exo"] == 1, "lhs"]) | set(table.loc[table["exo"] == 1, "rhs"])
    assert exogenous == {"ageyr", "sex"}
    assert_matches_lavaan(result, "hs_random_covariate", rel=1e-4,
                          fit_names=["chisq", "df", "npar", "cfi", "rmsea", "srmr"])
