"""FIML across groups and with observed covariates (fixed.x) against lavaan 0.6.14
(tests/fixtures/lavaan/make_fiml_group_fixtures.R), and the bootstrap of both."""

from __future__ import annotations

from functools import cache

import numpy as np
import pandas as pd
import pytest

import acsi_sem
from acsi_sem.errors import AcsiSemError, DataError
from acsi_sem.numerics.fiml import MissingPatterns, PatternResampler
from acsi_sem.resample import resampled_rows
from tests.conftest import (
    LAVAAN,
    ROOT,
    SCHOOLS,
    assert_close,
    assert_fiml_robust_indices_close,
    assert_matches_lavaan,
    lavaan_fit,
)
from tests.estimators.test_multigroup import assert_first_replicate_is_the_refit

MODELS = ROOT / "tests" / "fixtures" / "models"
HS_CFA, HS_AGE = MODELS / "hs_cfa.lav", MODELS / "hs_cfa_age.lav"
HS_COVARIATES = MODELS / "hs_covariates.lav"
INCOMPLETE = ROOT / "tests" / "fixtures" / "data" / "holzinger1939_missing.csv"
COMPLETE = ROOT / "tests" / "fixtures" / "data" / "holzinger1939.csv"
RESAMPLE = ROOT / "tests" / "fixtures" / "data" / "holzinger1939_missing_resample.csv"
SCALAR = "loadings, intercepts"
# lavaan's GFI and AGFI under FIML weigh by the saturated model's observed information,
# which acsi-sem does not compute (NaN), so they are not compared.
PLAIN = ["npar", "chisq", "df", "pvalue", "baseline_chisq", "baseline_df", "baseline_pvalue",
         "cfi", "tli", "nfi", "rmsea", "rmsea_ci_lower", "rmsea_ci_upper", "rmsea_pvalue",
         "srmr", "aic", "bic", "bic2", "loglik", "unrestricted_loglik", "ntotal"]
SCALED = ["chisq_scaled", "df_scaled", "pvalue_scaled", "scaling_factor",
          "baseline_chisq_scaled", "baseline_scaling_factor", "cfi_scaled", "tli_scaled",
          "rmsea_scaled", "rmsea_ci_lower_scaled", "rmsea_ci_upper_scaled",
          "rmsea_pvalue_scaled"]
CASES = {
    "hs_fiml_groups_configural": (HS_CFA, {"group": "school"}),
    "hs_fiml_groups_scalar": (HS_CFA, {"group": "school", "group_equal": SCALAR}),
    "hs_fiml_groups_configural_mlr": (HS_CFA, {"group": "school", "estimator": "mlr"}),
    "hs_fiml_groups_scalar_mlr": (HS_CFA, {"group": "school", "group_equal": SCALAR,
                                           "estimator": "mlr"}),
    "hs_fiml_covariates": (HS_AGE, {}),
    "hs_fiml_covariates_mlr": (HS_AGE, {"estimator": "mlr"}),
    "hs_fiml_item_covariates": (HS_COVARIATES, {}),
    # FIML asked for where every kept row is complete: still FIML (means, observed SEs).
    "hs_fiml_complete": (HS_CFA, {"data": COMPLETE}),
    "hs_fiml_complete_groups": (HS_CFA, {"data": COMPLETE, "group": "school"}),
    "hs_fiml_complete_covariates": (HS_AGE, {"data": COMPLETE}),
}


@cache
def fitted(case: str) -> acsi_sem.FitResult:
    model, options = CASES[case]
    options = {"data": INCOMPLETE, **options}
    return acsi_sem.fit(model, options.pop("data"), missing="fiml", **options)


@pytest.mark.parametrize("case", list(CASES))
def test_fiml_with_groups_and_covariates_equals_lavaan(case: str) -> None:
    """Every estimate, SE and standardized value within 1e-4 (lavaan's optimizer stops up to
    4e-5 short: acsi-sem's log-likelihood is higher), the fit measures within 3e-5 (most
    within 3e-6; the scaling factors to 3e-7, both sides differencing the gradient for the
    bread, which moves the scaled p-values of about 1e-9 by up to 2e-5)."""
    result = fitted(case)
    robust = case.endswith("_mlr")
    assert_matches_lavaan(result, case, rel=1e-4, fit_names=PLAIN + (SCALED if robust else []),
                          fit_rel=3e-5)
    assert_r2_matches_lavaan(result, case)
    # lavaan reports its FIML-corrected robust CFI / TLI / RMSEA under ML and MLR alike.
    assert_fiml_robust_indices_close(result.fit_indices, lavaan_fit(case))
    assert result.fit_indices[["gfi", "agfi"]].isna().all()


def test_constraints_across_groups_under_fiml_equal_lavaan() -> None:
    """==, and a < that binds, across the schools by FIML: lavaan's nlminb.constr stops short
    (its log-likelihood 3e-6 below acsi-sem's), hence 3e-4 and 2e-5 as in
    test_constraints.py."""
    result = acsi_sem.fit(MODELS / "hs_constraints.lav", INCOMPLETE, group="school",
                          missing="fiml")
    assert_matches_lavaan(result, "hs_fiml_groups_constraints", rel=3e-4, fit_names=PLAIN,
                          fit_rel=2e-5)
    assert_fiml_robust_indices_close(result.fit_indices, lavaan_fit("hs_fiml_groups_constraints"))
    assert result.constraints["binding"].all()


def test_a_resample_where_newton_steps_stalled_reaches_lavaans_maximum() -> None:
    """Issue 14: the fourth resample of the constrained model's group bootstrap (seed 3,
    tests/fixtures/data/make_fiml_resample.py) ended at log-likelihood -3322.9 where lavaan
    reaches -3314.2 (a Heywood case: x7's residual variance is negative in Pasteur). The
    estimates within 1e-4 of lavaan's fit with the binding bound as an equality (plain
    nlminb, converged; the same maximum), and the log-likelihood and chi-square of the model
    as written; lavaan's nlminb.constr stops up to 3e-3 short there along the flat
    direction of the Heywood case (its log-likelihood 1e-8 relative below acsi-sem's)."""
    result = acsi_sem.fit(MODELS / "hs_constraints.lav", RESAMPLE, group="school",
                          missing="fiml")
    assert result.converged and result.constraints["binding"].all()
    assert_matches_lavaan(result, "hs_fiml_groups_constraints_resample_equal", rel=1e-4,
                          columns=("est", "std_lv", "std_all"), fit_names=["loglik", "chisq"],
                          fit_rel=1e-8)
    # Both sides difference the gradient for the observed information; on the flat Heywood
    # direction (SEs of 5.4) that moves the SEs by up to 1.6e-4.
    assert_matches_lavaan(result, "hs_fiml_groups_constraints_resample_equal", rel=3e-4,
                          columns=("se",))
    assert_matches_lavaan(result, "hs_fiml_groups_constraints_resample", rel=3e-3,
                          columns=("est",), fit_names=["loglik", "chisq", "npar", "df"],
                          fit_rel=1e-4)


def assert_r2_matches_lavaan(result: acsi_sem.FitResult, case: str) -> None:
    theirs = pd.read_csv(LAVAAN / f"{case}_r2.csv")
    if "group" in theirs:
        keys = zip(theirs["group"].map(SCHOOLS), theirs["variable"], strict=True)
        theirs = pd.Series(theirs["r2"].to_numpy(), index=pd.MultiIndex.from_tuples(keys))
    else:
        theirs = pd.Series(theirs["r2"].to_numpy(), index=theirs["variable"])
    assert_close(result.r2.loc[theirs.index], theirs, rel=1e-4, what=f"{case} r2")


def test_groups_use_every_answer_of_every_group() -> None:
    result = fitted("hs_fiml_groups_scalar")
    assert result.n_obs == 301 and result.groups["n_obs"] == {"Pasteur": 156,
                                                               "Grant-White": 145}
    assert result.missing["method"] == "fiml" and result.missing["patterns"] == 47
    loadings = result.parameters.query("op == '=~'")
    assert loadings.groupby(["lhs", "rhs"])["est"].nunique().eq(1).all()
    # The groups' sample moments are their EM estimates (lavaan's h1).
    assert not result.sample_cov.isna().any().any()


def test_rows_without_a_covariate_are_deleted_with_a_warning() -> None:
    """lavaan's missing = 'ml' with fixed.x: 1 row without grade (300 of 301 used); 58 rows
    without x4 or x5 when they are the covariates (243)."""
    age, items = fitted("hs_fiml_covariates"), fitted("hs_fiml_item_covariates")
    assert age.n_obs == 300 and age.n_total == 301 and items.n_obs == 243
    assert any("1 rows deleted for a missing value of the observed covariate(s) grade" in text
               for text in age.warnings)
    assert any("58 rows deleted" in text and "x4, x5" in text for text in items.warnings)
    fixed = age.parameters.query("lhs == 'ageyr' and op in ['~~', '~1']")
    ages = pd.read_csv(INCOMPLETE).dropna(subset=["grade"])["ageyr"]
    assert fixed.query("op == '~1'")["est"].iloc[0] == pytest.approx(ages.mean())
    assert fixed.query("rhs == 'ageyr'")["est"].iloc[0] == pytest.approx(ages.var(ddof=0))


def test_lavaans_names_of_fiml_are_accepted_and_ml_x_is_refused() -> None:
    lavaan_name = acsi_sem.fit(HS_AGE, INCOMPLETE, missing="ml")
    assert lavaan_name.fit_indices["chisq"] == pytest.approx(
        fitted("hs_fiml_covariates").fit_indices["chisq"])
    with pytest.raises(AcsiSemError, match=r"missing='ml.x' .* not available.*F =~ x"):
        acsi_sem.fit(HS_AGE, INCOMPLETE, missing="ml.x")


def test_scaled_difference_test_under_fiml_equals_lavtestlrt() -> None:
    lavaan = pd.read_csv(LAVAAN / "hs_fiml_groups_lrt_mlr.csv")
    table = acsi_sem.measurement_invariance(HS_CFA, INCOMPLETE, group="school",
                                            missing="fiml", estimator="mlr",
                                            steps=("configural", "scalar")).table
    row = table.iloc[1]
    assert row["chisq_diff"] == pytest.approx(lavaan["Chisq diff"].iloc[1], rel=1e-5)
    assert row["df_diff"] == lavaan["Df diff"].iloc[1] == 12
    assert row["pvalue_diff"] == pytest.approx(lavaan["Pr(>Chisq)"].iloc[1], rel=1e-4)


def test_an_item_nobody_in_a_group_answered_is_refused() -> None:
    data = pd.read_csv(INCOMPLETE)
    data.loc[data["school"] == "Pasteur", "x3"] = np.nan
    with pytest.raises(DataError, match=r"group 'Pasteur' .* nobody in that group answered x3"):
        acsi_sem.fit(HS_CFA, data, group="school", missing="fiml")


def test_the_group_fiml_bootstrap_refits_each_resample_by_fiml() -> None:
    result = acsi_sem.fit(HS_CFA, INCOMPLETE, group="school", group_equal="loadings",
                          missing="fiml", bootstrap=3, seed=4)
    boot = result.bootstrap
    assert len(boot.draws) == 3 and "resampled within each group" in " ".join(result.notes)
    frame = pd.read_csv(INCOMPLETE)
    first = next(resampled_rows(len(frame), 1, 4, frame["school"].to_numpy()))
    refit = acsi_sem.fit(HS_CFA, frame.iloc[first].reset_index(drop=True), group="school",
                         group_equal="loadings", missing="fiml").parameters.set_index(
                             ["lhs", "op", "rhs", "group"])
    assert_first_replicate_is_the_refit(boot, refit, rel=1e-6, absolute=1e-8)
    assert np.array_equal(boot.draws[:, list(boot.names).index("visual =~ x2 [Pasteur]")],
                          boot.draws[:, list(boot.names).index("visual =~ x2 [Grant-White]")])


def test_the_constrained_group_fiml_bootstrap_refits_each_resample() -> None:
    """Replicates under ==, and a < that binds, equal fresh fits of their rows (1e-6): the
    first, and the tenth of seed 7, where BFGS from the full-sample estimates with their
    observed information as curvature reached another maximum (logl -3340.33; the fresh
    fit, lavaan and the full fit's steps from the same start -3341.35)."""
    result = acsi_sem.fit(MODELS / "hs_constraints.lav", INCOMPLETE, group="school",
                          missing="fiml", bootstrap=10, seed=7)
    boot = result.bootstrap
    assert boot.failed == 0
    frame = pd.read_csv(INCOMPLETE)
    draws = list(resampled_rows(len(frame), 10, 7, frame["school"].to_numpy()))
    names = list(boot.names)
    for replicate in (0, 9):
        refit = acsi_sem.fit(MODELS / "hs_constraints.lav",
                             frame.iloc[draws[replicate]].reset_index(drop=True),
                             group="school", missing="fiml").parameters
        keys = [f"{lhs} {op} {rhs}".strip() + f" [{group}]" for lhs, op, rhs, group in
                refit[["lhs", "op", "rhs", "group"]].itertuples(index=False)]
        estimates = dict(zip(keys, refit["est"], strict=True))
        assert_close(boot.draws[replicate], [estimates[name] for name in names], rel=1e-6,
                     absolute=1e-8, what=f"replicate {replicate}")
    a, b = (boot.draws[:, names.index(f"visual =~ {item} [Pasteur]")] for item in ("x2", "x3"))
    assert np.allclose(a + b, 1.2, rtol=0, atol=1e-9)


def test_a_resample_reweights_the_full_samples_answer_patterns() -> None:
    """The bootstrap's patterns of a resample (counts, means, scatter reweighted over the
    full sample's rows) are those found afresh in the resampled rows."""
    items = pd.read_csv(INCOMPLETE)[[f"x{i}" for i in range(1, 10)]].to_numpy()
    rows = next(resampled_rows(len(items), 1, 5))
    reweighted = PatternResampler.from_items(items).resample(
        np.bincount(rows, minlength=len(items)).astype(float))
    afresh = MissingPatterns.from_items(items[rows]).stacked
    assert np.array_equal(reweighted.answered, afresh.answered)
    assert reweighted.n_obs == afresh.n_obs == len(items)
    for name in ["counts", "means", "scatter"]:
        assert np.allclose(getattr(reweighted, name), getattr(afresh, name), rtol=0,
                           atol=1e-12), name


def test_the_covariate_fiml_bootstrap_refits_each_resample() -> None:
    """Each replicate equals a fit of the resampled rows (whose covariates' moments differ
    from the full sample's; the estimates, conditional on the covariates, do not depend on
    them)."""
    result = acsi_sem.fit(HS_AGE, INCOMPLETE, missing="fiml", bootstrap=3, seed=2)
    kept = pd.read_csv(INCOMPLETE).dropna(subset=["grade"]).reset_index(drop=True)
    first = next(resampled_rows(len(kept), 1, 2))
    refit = acsi_sem.fit(HS_AGE, kept.iloc[first].reset_index(drop=True), missing="fiml")
    estimates = refit.parameters.set_index(["lhs", "op", "rhs"])["est"]
    names = list(result.bootstrap.names)
    for key in [("textual", "~", "grade"), ("visual", "~", "ageyr"), ("x4", "~1", "")]:
        name = " ".join(key).strip()
        assert result.bootstrap.draws[0, names.index(name)] == pytest.approx(
            estimates[key], rel=1e-5, abs=1e-7)


def test_fiml_refuses_data_prepared_with_missing_covariates() -> None:
    """A caller of fit_prepared who skipped the covariates' deletion gets told so."""
    from acsi_sem.api import fit_prepared, prepare
    from acsi_sem.survey.prepare import prepare_data

    spec, _, model_file, options = prepare(HS_COVARIATES, INCOMPLETE, missing="fiml")
    unchecked = prepare_data(pd.read_csv(INCOMPLETE), spec.observed, missing="fiml")
    with pytest.raises(AcsiSemError, match=r"covariates \(x4, x5\), so every row"):
        fit_prepared(spec, unchecked, model_file, options)
