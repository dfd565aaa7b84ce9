"""Robust ML (MLR) and FIML against lavaan 0.6.14 (tests/fixtures/lavaan/make_survey_fixtures.R)."""

from __future__ import annotations

import json
from functools import cache

import numpy as np
import pandas as pd
import pytest

import acsi_sem
from acsi_sem.resample import resampled_rows
from tests.conftest import (
    LAVAAN,
    ROOT,
    assert_close,
    assert_fiml_robust_indices_close,
    assert_indices_close,
    assert_matches_lavaan,
    lavaan_fit,
    lavaan_parameters,
    match_rows,
)

HS_CFA = ROOT / "tests" / "fixtures" / "models" / "hs_cfa.lav"
COMPLETE = ROOT / "tests" / "fixtures" / "data" / "holzinger1939.csv"
INCOMPLETE = ROOT / "tests" / "fixtures" / "data" / "holzinger1939_missing.csv"
PLAIN = ["npar", "chisq", "df", "pvalue", "baseline_chisq", "cfi", "tli", "nfi", "rmsea",
         "rmsea_ci_lower", "rmsea_ci_upper", "rmsea_pvalue", "aic", "bic", "bic2", "loglik",
         "unrestricted_loglik", "srmr"]
SCALED = ["chisq_scaled", "pvalue_scaled", "scaling_factor", "baseline_chisq_scaled",
          "baseline_scaling_factor", "cfi_scaled", "tli_scaled", "rmsea_scaled",
          "rmsea_ci_lower_scaled", "rmsea_ci_upper_scaled", "rmsea_pvalue_scaled"]
ROBUST = ["cfi_robust", "tli_robust", "rmsea_robust", "rmsea_ci_lower_robust",
          "rmsea_ci_upper_robust", "rmsea_pvalue_robust"]


@cache
def mlr() -> acsi_sem.FitResult:
    return acsi_sem.fit(HS_CFA, COMPLETE, estimator="mlr")


@cache
def fiml() -> acsi_sem.FitResult:
    return acsi_sem.fit(HS_CFA, INCOMPLETE, missing="fiml")


def assert_parameters_equal(result: acsi_sem.FitResult, case: str) -> None:
    merged = match_rows(result.parameters, lavaan_parameters(case))
    assert (merged["_merge"] == "both").all(), merged.loc[merged["_merge"] != "both",
                                                          ["lhs", "op", "rhs", "_merge"]]
    for column in ["est", "se", "z", "pvalue", "std_lv", "std_all"]:
        assert_close(merged[column], merged[f"{column}_lavaan"], rel=1e-4, absolute=1e-6,
                     what=f"{case} {column}")


def test_mlr_robust_standard_errors_equal_lavaan() -> None:
    assert_parameters_equal(mlr(), "hs_cfa_mlr")
    plain = acsi_sem.fit(HS_CFA, COMPLETE)
    # Same estimates as ML, different standard errors.
    np.testing.assert_allclose(mlr().parameters["est"], plain.parameters["est"])
    assert not np.allclose(mlr().parameters["se"], plain.parameters["se"], equal_nan=True)


def test_mlr_scaled_and_robust_indices_equal_lavaan() -> None:
    ours, theirs = mlr().fit_indices, lavaan_fit("hs_cfa_mlr")
    assert_indices_close(ours, theirs, PLAIN, rel=1e-6, absolute=1e-9)
    # The scaling factor's bread is the observed information (the analytic Hessian).
    assert_indices_close(ours, theirs, SCALED + ROBUST, rel=1e-6, absolute=1e-9)


def test_a_saturated_model_gets_lavaans_scaled_and_robust_indices() -> None:
    """df 0 (tests/fixtures/lavaan/make_saturated_fixtures.R): the test stays unscaled, the
    scaled CFI and TLI are 1, the robust CFI and TLI undefined, the robust RMSEA 0."""
    model = ROOT / "tests" / "fixtures" / "models" / "hs_one_factor.lav"
    ours = acsi_sem.fit(model, COMPLETE, estimator="mlr").fit_indices
    theirs = lavaan_fit("hs_one_factor_mlr")
    assert ours["df"] == 0 and np.isnan(theirs["tli_robust"])
    assert_indices_close(ours, theirs, ["cfi_scaled", "tli_scaled", "cfi_robust", "tli_robust",
                                        "rmsea_robust", "rmsea_ci_upper_robust", "rmsea_scaled",
                                        "pvalue_scaled"], rel=1e-9, absolute=1e-9)
    assert_close(ours["chisq_scaled"], theirs["chisq_scaled"], rel=0, absolute=1e-8)


def test_fiml_estimates_and_observed_information_equal_lavaan() -> None:
    assert_parameters_equal(fiml(), "hs_cfa_fiml")
    intercepts = fiml().parameters.query("op == '~1' and lhs == 'x1'")
    assert len(intercepts) == 1 and intercepts["se"].iloc[0] > 0


def test_fiml_fit_indices_equal_lavaan() -> None:
    ours, theirs = fiml().fit_indices, lavaan_fit("hs_cfa_fiml")
    for name in PLAIN:
        # SRMR reads lavaan's EM moments, which stop at a looser tolerance than ours.
        rel = 1e-4 if name == "srmr" else 1e-6
        assert_close(ours[name], theirs[name], rel=rel, absolute=1e-9, what=name)
    assert np.isnan(ours["gfi"])
    # lavaan reports the FIML-corrected robust indices under plain ML too ("V6").
    assert_fiml_robust_indices_close(ours, theirs)


def test_fiml_uses_every_answer_and_reports_the_patterns() -> None:
    patterns = pd.read_csv(LAVAAN / "hs_cfa_fiml_patterns.csv")
    report = fiml().missing
    assert report["method"] == "fiml"
    assert report["patterns"] == len(patterns)
    assert report["complete_cases"] == patterns["n"].max() == 121
    data = pd.read_csv(INCOMPLETE)
    assert report["missing_per_item"] == {f"x{i}": int(data[f"x{i}"].isna().sum())
                                          for i in range(1, 10)}
    assert fiml().n_obs == 301
    listwise = acsi_sem.fit(HS_CFA, INCOMPLETE)
    assert listwise.n_obs == 121 and listwise.missing["method"] == "listwise"


def test_fiml_on_complete_data_stays_fiml_with_a_mean_structure() -> None:
    """As lavaan's missing = "ml": the ML chi-square (the means fit exactly), but FIML's
    bookkeeping (intercepts counted in npar) and one answer pattern; the SEs from the
    observed information are checked against lavaan in test_fiml_groups.py."""
    with_means = acsi_sem.fit(HS_CFA.read_text() + "\nx1 ~ 1\n", COMPLETE)
    complete = acsi_sem.fit(HS_CFA, COMPLETE, missing="fiml")
    assert complete.missing["method"] == "fiml"
    assert complete.missing["patterns"] == 1
    np.testing.assert_allclose(complete.fit_indices["chisq"], with_means.fit_indices["chisq"])
    assert complete.fit_indices["npar"] == 30


def test_robust_fiml_equals_lavaan() -> None:
    """MLR with missing answers: sandwich SEs from missing-data scores, the Yuan-Bentler
    factor with the observed saturated information at the EM moments, and lavaan's
    FIML-corrected robust indices."""
    result = acsi_sem.fit(HS_CFA, INCOMPLETE, estimator="mlr", missing="fiml")
    assert_parameters_equal(result, "hs_cfa_fiml_mlr")
    ours, theirs = result.fit_indices, lavaan_fit("hs_cfa_fiml_mlr")
    for name in PLAIN:
        rel = 1e-4 if name == "srmr" else 1e-6
        assert_close(ours[name], theirs[name], rel=rel, absolute=1e-9, what=name)
    # Both sides difference the FIML gradient for the bread; the factors agree to 3e-7.
    assert_indices_close(ours, theirs, SCALED, rel=1e-5, absolute=1e-9)
    assert_fiml_robust_indices_close(ours, theirs)


@pytest.mark.parametrize(("options", "pattern"), [
    ({"estimator": "pls", "missing": "fiml"}, "maximum likelihood method"),
    ({"missing": "pairwise"}, "unknown missing-data method"),
])
def test_unsupported_missing_data_combinations_are_refused(options: dict, pattern: str) -> None:
    with pytest.raises(acsi_sem.AcsiSemError, match=pattern):
        acsi_sem.fit(HS_CFA, INCOMPLETE, **options)


def test_the_fiml_bootstrap_refits_each_resample_by_fiml() -> None:
    result = acsi_sem.fit(HS_CFA, INCOMPLETE, missing="fiml", bootstrap=8, seed=5)
    boot = result.bootstrap
    assert len(boot.draws) == 8 and "x1 ~1" in boot.names  # the intercepts are resampled
    frame = pd.read_csv(INCOMPLETE)
    items = [f"x{i}" for i in range(1, 10)]
    first = next(resampled_rows(len(frame), 1, 5))
    refit = acsi_sem.fit(HS_CFA, frame[items].iloc[first].reset_index(drop=True),
                         missing="fiml")
    names = (refit.parameters["lhs"] + " " + refit.parameters["op"] + " "
             + refit.parameters["rhs"]).str.strip()
    estimates = dict(zip(names, refit.parameters["est"], strict=True))
    for name in ("visual =~ x2", "speed ~~ speed", "x5 ~1"):
        assert boot.draws[0, list(boot.names).index(name)] == pytest.approx(
            estimates[name], rel=1e-5, abs=1e-7)


def test_summary_and_json_show_the_fiml_corrected_robust_indices() -> None:
    """Under MLR in the robust block; under ML a block of their own (lavaan prints them for
    both); lavaan's values rounded: 0.938 / 0.907, RMSEA 0.087 [0.063, 0.113] (MLR) and
    0.936 / 0.904, 0.089 [0.065, 0.113] (ML)."""
    robust = acsi_sem.fit(HS_CFA, INCOMPLETE, estimator="mlr", missing="fiml")
    text = str(robust.summary())
    assert "Robust (MLR):" in text and "Robust (FIML-corrected):" not in text
    assert "0.938 / 0.907" in text and "0.087 [0.063, 0.113]" in text
    plain = str(fiml().summary())
    assert "Robust (FIML-corrected):" in plain
    assert "0.936 / 0.904" in plain and "0.089 [0.065, 0.113]" in plain
    document = json.loads(robust.to_json())
    assert_close(document["fit"]["cfi_robust"], lavaan_fit("hs_cfa_fiml_mlr")["cfi_robust"],
                 rel=2e-5, absolute=1e-9, what="cfi_robust")


@pytest.mark.parametrize(("case", "model", "data", "estimator"), [
    ("acsi_fiml", ROOT / "models" / "acsi.lav", "acsi_missing.csv", "ml"),
    ("acsi_fiml_mlr", ROOT / "models" / "acsi.lav", "acsi_missing.csv", "mlr"),
    ("hs_fiml_far_constraints_mlr", "visual =~ x1 + a*x2 + b*x3\ntextual =~ x4 + c*x5 + x6\n"
     "speed =~ x7 + x8 + x9\na == 3\nb == c", "holzinger1939_missing.csv", "mlr"),
])
def test_fiml_starts_where_complete_data_ml_converges(case: str, model, data: str,
                                                       estimator: str) -> None:
    """FIML starts from the complete-data fit to the EM moments by the single fit's own
    route, under the constraints (tests/fixtures/lavaan/make_fiml_start_fixtures.R): the
    ACSI's start once diverged into a Heywood case (chi-square 1233 for lavaan's 58.7),
    and starting a == 3 from the unconstrained fit stopped at chi-square 386 for 129."""
    result = acsi_sem.fit(model, ROOT / "tests" / "fixtures" / "data" / data,
                          missing="fiml", estimator=estimator)
    assert result.converged
    assert_matches_lavaan(result, case, rel=1e-4, columns=("est", "se", "std_all"),
                          fit_names=["chisq", "df", "loglik", "cfi", "tli", "rmsea", "srmr"],
                          fit_rel=1e-5)
    # lavaan's EM stops at changes of 1e-5; on these data the robust interval moves 2.4e-5.
    assert_indices_close(result.fit_indices, lavaan_fit(case), ROBUST, rel=1e-4,
                         absolute=1e-9)
