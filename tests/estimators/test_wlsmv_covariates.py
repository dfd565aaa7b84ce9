"""WLSMV with observed covariates (lavaan's fixed.x and conditional.x) against lavaan 0.6.14
(tests/fixtures/lavaan/make_wlsmv_covariate_fixtures.R): the probit-regression sample
statistics and their NACOV, estimates, robust SEs, standardized values, the scaled-shifted
test and the fit indices of a MIMIC model, of one with a direct effect (DIF), and of the
MIMIC model across two groups."""

from __future__ import annotations

import json
from functools import cache

import numpy as np
import pandas as pd
import pytest

import acsi_sem
from acsi_sem.cli.main import main
from acsi_sem.errors import AcsiSemError, DataError
from acsi_sem.numerics.conditional import conditional_statistics, probit_regression
from tests.conftest import (
    LAVAAN,
    ROOT,
    SCHOOLS,
    assert_close,
    assert_indices_close,
    lavaan_fit,
    lavaan_parameters,
    lavaan_r2,
    match_rows,
)

DATA = ROOT / "tests" / "fixtures" / "data"
HS_MODEL = (ROOT / "tests" / "fixtures" / "models" / "hs_cfa.lav").read_text()
MIMIC = HS_MODEL + "\nvisual + textual ~ sex + ageyr\n"
CASES = {"hs_ordinal_mimic_wlsmv": MIMIC, "hs_ordinal_dif_wlsmv": MIMIC + "x3 ~ sex\n"}
ITEMS = [f"x{k}" for k in range(1, 10)]
FIT_NAMES = ["npar", "chisq", "df", "pvalue", "baseline_chisq", "baseline_df", "cfi", "tli",
             "nfi", "rmsea", "rmsea_ci_lower", "rmsea_ci_upper", "srmr", "gfi", "agfi",
             "chisq_scaled", "df_scaled", "pvalue_scaled", "scaling_factor",
             "baseline_chisq_scaled", "baseline_scaling_factor", "cfi_scaled", "tli_scaled",
             "rmsea_scaled", "rmsea_ci_lower_scaled", "rmsea_ci_upper_scaled"]


def hs_frame() -> pd.DataFrame:
    """The R script's data: x1..x9 in four categories, sex (1, 2) and ageyr."""
    frame = pd.read_csv(DATA / "holzinger1939_ordinal.csv").drop(columns="school")
    raw = pd.read_csv(DATA / "holzinger1939.csv")
    return frame.assign(sex=raw["sex"], ageyr=raw["ageyr"])


@cache
def fitted(case: str) -> acsi_sem.FitResult:
    return acsi_sem.fit(CASES[case], hs_frame(), estimator="wlsmv")


@cache
def statistics():
    frame = hs_frame()
    return conditional_statistics(frame[ITEMS], frame[["sex", "ageyr"]])


def test_probit_regression_scores_vanish_at_the_estimate() -> None:
    frame = hs_frame()
    x = frame[["sex", "ageyr"]].to_numpy(dtype=float)
    fit = probit_regression(frame["x3"].to_numpy(), x)
    np.testing.assert_allclose(fit.scores(x).sum(axis=0), 0, atol=1e-9)


def test_conditional_sample_statistics_and_their_covariance_equal_lavaan() -> None:
    lavaan = pd.read_csv(LAVAAN / "hs_ordinal_mimic_wlsmv_sampstat.csv")
    ours = statistics()
    univariate = slice(0, ours.n_univariate)
    # Thresholds and slopes are Newton-exact, lavaan's nlminb stops them up to 4e-9 short
    # (and the residual polychorics up to 3e-8).
    np.testing.assert_allclose(ours.vector[univariate], lavaan["value"][univariate],
                               rtol=0, atol=1e-8)
    np.testing.assert_allclose(ours.vector, lavaan["value"], rtol=0, atol=1e-7)
    np.testing.assert_allclose(np.diag(ours.gamma), lavaan["gamma_diag"], rtol=1e-6)
    for column in (c for c in lavaan.columns if c.startswith("gamma_") and c != "gamma_diag"):
        row = int(np.flatnonzero(lavaan["statistic"] == column.removeprefix("gamma_"))[0])
        np.testing.assert_allclose(ours.gamma[row], lavaan[column], rtol=1e-6, atol=1e-6,
                                   err_msg=column)


def test_the_direct_effect_leaves_the_sample_statistics_alone() -> None:
    mimic = pd.read_csv(LAVAAN / "hs_ordinal_mimic_wlsmv_sampstat.csv")
    dif = pd.read_csv(LAVAAN / "hs_ordinal_dif_wlsmv_sampstat.csv")
    pd.testing.assert_frame_equal(mimic, dif)


@pytest.mark.parametrize("case", CASES)
def test_estimates_robust_standard_errors_and_standardized_values_equal_lavaan(
        case: str) -> None:
    result = fitted(case)
    assert result.converged and not result.warnings
    merged = match_rows(result.parameters, lavaan_parameters(case))
    assert (merged["_merge"] != "left_only").all()
    ours = merged[merged["_merge"] == "both"]
    # lavaan stops short along a flat direction: textual ~ sex (0.0435) is 2e-5 (relative)
    # off, and on lavaan's own sample statistics acsi-sem's estimates give the lower F
    # (265.19908971 against 265.19908971 + 6e-9 at lavaan's estimates).
    for column in ["est", "se", "z", "std_lv", "std_all"]:
        assert_close(ours[column], ours[f"{column}_lavaan"], rel=1e-4, absolute=1e-6,
                     what=column)
    # Rows lavaan lists and acsi-sem leaves out are fixed: scale factors at 1, zero
    # intercepts of the items and latent means, and the covariates' means.
    theirs = merged[merged["_merge"] == "right_only"]
    assert set(theirs["op"]) == {"~*~", "~1"}
    assert (theirs["se_lavaan"] == 0).all()


@pytest.mark.parametrize("case", CASES)
def test_fit_indices_and_the_scaled_shifted_test_equal_lavaan(case: str) -> None:
    ours, lavaan = fitted(case).fit_indices, lavaan_fit(case)
    assert_indices_close(ours, lavaan, FIT_NAMES, rel=1e-5, absolute=1e-8)
    # The baseline has fewer degrees of freedom than the model (slopes and thresholds
    # are free in both), so lavaan leaves NFI undefined; no catML with conditional.x.
    assert np.isnan(ours["nfi"])
    for name in ("cfi_robust", "tli_robust", "rmsea_robust"):
        assert np.isnan(ours[name]) and np.isnan(lavaan[name])


@pytest.mark.parametrize("case", CASES)
def test_r_squared_equals_lavaan(case: str) -> None:
    lavaan = lavaan_r2(case)
    assert_close(fitted(case).r2.reindex(lavaan.index), lavaan, rel=1e-5, absolute=1e-8,
                 what="r2")


def test_sample_and_implied_covariances_are_the_marginal_ones() -> None:
    result = fitted("hs_ordinal_mimic_wlsmv")
    names = [*ITEMS, "sex", "ageyr"]
    assert list(result.sample_cov.index) == names
    frame = hs_frame()
    np.testing.assert_allclose(result.sample_cov.loc["sex", "ageyr"],
                               frame["sex"].cov(frame["ageyr"]))
    # Given x each latent response has unit variance; marginally those of the constructs
    # the covariates predict have more.
    variances = np.diag(result.implied_cov.loc[ITEMS, ITEMS])
    assert (variances[:6] > 1.005).all()
    np.testing.assert_allclose(variances[6:], 1.0)


def test_a_covariate_cannot_be_ordered() -> None:
    with pytest.raises(AcsiSemError, match="exogenous covariate"):
        acsi_sem.fit(MIMIC, hs_frame(), estimator="wlsmv", ordered=[*ITEMS, "sex"])


def test_covariates_beside_continuous_items_are_refused() -> None:
    frame = hs_frame().assign(x1=pd.read_csv(DATA / "holzinger1939.csv")["x1"])
    with pytest.raises(AcsiSemError, match="observed covariates beside continuous items"):
        acsi_sem.fit(MIMIC, frame, estimator="wlsmv", ordered=ITEMS[1:])


GROUP_CASES = {"configural": (), "metric": ("thresholds", "loadings")}
GROUP_FIT = ["npar", "chisq", "df", "pvalue", "chisq_scaled", "df_scaled", "pvalue_scaled",
             "scaling_factor", "baseline_chisq", "baseline_df", "baseline_chisq_scaled",
             "cfi", "tli", "rmsea", "cfi_scaled", "tli_scaled", "rmsea_scaled",
             "rmsea_ci_upper_scaled", "srmr", "gfi", "agfi"]


@cache
def by_school(case: str) -> acsi_sem.FitResult:
    frame = hs_frame().assign(school=pd.read_csv(DATA / "holzinger1939.csv")["school"])
    return acsi_sem.fit(MIMIC, frame, estimator="wlsmv", group="school",
                        group_equal=list(GROUP_CASES[case]))


@pytest.mark.parametrize("case", GROUP_CASES)
def test_covariates_across_groups_equal_lavaan(case: str) -> None:
    result = by_school(case)
    assert result.converged and not result.warnings
    name = f"hs_ordinal_mimic_groups_{case}"
    theirs = lavaan_parameters(name)
    theirs["group"] = theirs["group"].map(SCHOOLS)
    merged = match_rows(result.parameters, theirs, by=("group",))
    # lavaan's extra rows are the covariates' means, fixed at each group's sample means.
    extra = merged[merged["_merge"] != "both"]
    assert (extra["_merge"] == "right_only").all() and set(extra["lhs"]) == {"sex", "ageyr"}
    assert set(extra["op"]) == {"~1"}
    ours = merged[merged["_merge"] == "both"]
    # lavaan stops short along flat directions, and its estimates give the higher F on
    # acsi-sem's statistics: configural textual ~ sex in Pasteur (-0.061) 1.2e-4 (relative)
    # apart (F 309.48576072 against 309.48576070); with equal loadings Grant-White's visual
    # variance is 4.9, x2's thresholds 2.4e-3 apart (313.5675104 against 313.5675093).
    rel = 2e-4 if case == "configural" else 3e-3
    for column in ["est", "se", "std_lv", "std_all"]:
        assert_close(ours[column], ours[f"{column}_lavaan"], rel=rel, absolute=1e-6,
                     what=f"{case} {column}")
    assert_indices_close(result.fit_indices, lavaan_fit(name), GROUP_FIT,
                         rel=1e-6 if case == "configural" else 1e-5, absolute=1e-8)
    lavaan = pd.read_csv(LAVAAN / f"{name}_r2.csv")
    r2 = [result.r2.loc[(SCHOOLS[group], variable)]
          for variable, group in zip(lavaan["variable"], lavaan["group"], strict=True)]
    assert_close(r2, lavaan["r2"], rel=rel, absolute=1e-6, what="r2")


def test_each_group_fixes_its_own_covariate_moments() -> None:
    result = by_school("configural")
    raw = pd.read_csv(DATA / "holzinger1939.csv")
    rows = result.parameters[(result.parameters["lhs"] == "ageyr")
                             & (result.parameters["rhs"] == "ageyr")]
    for group, est in zip(rows["group"], rows["est"], strict=True):
        np.testing.assert_allclose(est, raw.loc[raw["school"] == group, "ageyr"].var())


def test_the_order_of_the_model_lines_changes_nothing() -> None:
    # The covariates come first among the observed variables here, between the items.
    model = "x3 ~ sex\nvisual + textual ~ sex + ageyr\n" + HS_MODEL
    result = acsi_sem.fit(model, hs_frame(), estimator="wlsmv")
    assert result.spec.observed[:3] == ("x3", "sex", "ageyr")
    reference = fitted("hs_ordinal_dif_wlsmv")
    assert result.fit_indices["chisq"] == pytest.approx(reference.fit_indices["chisq"],
                                                        rel=1e-8)
    keys = ["lhs", "op", "rhs"]
    ours = result.parameters.set_index(keys)[["est", "se", "std_all"]]
    theirs = reference.parameters.set_index(keys)[["est", "se", "std_all"]]
    np.testing.assert_allclose(ours, theirs.reindex(ours.index), rtol=1e-6, atol=1e-7)


def test_covariates_from_the_shell(tmp_path, capsys) -> None:
    data, model = tmp_path / "hs.csv", tmp_path / "mimic.lav"
    hs_frame().to_csv(data, index=False)
    model.write_text(MIMIC)
    code = main(["fit", str(model), "--data", str(data), "--estimator", "wlsmv",
                 "--ordered", "all", "--json", "-"])
    assert code == 0
    fit = json.loads(capsys.readouterr().out)["fit"]
    assert fit["chisq_scaled"] == pytest.approx(
        lavaan_fit("hs_ordinal_mimic_wlsmv")["chisq_scaled"], rel=1e-6)


def test_a_covariate_far_from_zero_changes_only_the_thresholds() -> None:
    """A birth-year-like covariate (age + 2000): the probit regressions run on centred
    covariates, so the slopes, SEs and fit are those of age itself (lavaan's fit fails)."""
    frame = hs_frame()
    shifted = acsi_sem.fit(MIMIC.replace("ageyr", "agey2k"),
                           frame.assign(agey2k=frame["ageyr"] + 2000), estimator="wlsmv")
    ours = shifted.parameters.set_index(["lhs", "op", "rhs"])
    theirs = fitted("hs_ordinal_mimic_wlsmv").parameters.set_index(["lhs", "op", "rhs"])
    for latent in ("visual", "textual"):
        assert ours.loc[(latent, "~", "agey2k"), ["est", "se"]].to_numpy() == pytest.approx(
            theirs.loc[(latent, "~", "ageyr"), ["est", "se"]].to_numpy(), rel=1e-5)
    assert shifted.fit_indices["chisq_scaled"] == pytest.approx(
        fitted("hs_ordinal_mimic_wlsmv").fit_indices["chisq_scaled"], rel=1e-6)
    assert not shifted.warnings


@pytest.mark.parametrize("rare", ["near", "exact"])
def test_a_covariate_that_separates_an_item_s_answers_is_refused_naming_both(rare: str
                                                                             ) -> None:
    frame = hs_frame()
    if rare == "near":  # six respondents, all of whom answered x1 = 4
        marked = frame.index[frame["x1"] == 4][:6]
        frame = frame.assign(rare=frame.index.isin(marked).astype(int))
    else:
        frame = frame.assign(rare=(frame["x1"] >= 3).astype(int))
    with pytest.raises(DataError, match="probit regression of x1 on sex, rare has no maximum"):
        acsi_sem.fit(MIMIC.replace("sex + ageyr", "sex + rare"), frame, estimator="wlsmv")


# make_wlsmv_bootstrap_fixtures.R: case -> (fit options, lavaan's free parameters, rel).
# Across the schools lavaan's refits stop short along the model's flat directions (its
# full-sample configural fit is 1.2e-4 from ours already), by up to 5e-4 on three of 492.
BOOTSTRAP_CASES = {
    "hs_ordinal_mimic": ({}, 41, 1e-4),
    "hs_ordinal_mimic_groups": ({"group": "school"}, 82, 1e-3),
}


@pytest.mark.parametrize("case", list(BOOTSTRAP_CASES))
def test_the_bootstrap_with_covariates_refits_each_resample_as_lavaan(case: str) -> None:
    """Every replicate recomputes the probit regressions and residual polychorics of its
    rows (of each group's, drawn within the groups) and equals lavaan's WLSMV fit of the
    same rows (make_wlsmv_bootstrap_fixtures.R; rows from make_wlsmv_bootstrap_rows.py)."""
    options, free, rel = BOOTSTRAP_CASES[case]
    rows = pd.read_csv(LAVAAN / f"wlsmv_bootstrap_rows_{case}.csv")
    frame = hs_frame().assign(school=pd.read_csv(DATA / "holzinger1939.csv")["school"])
    result = acsi_sem.fit(MIMIC, frame, estimator="wlsmv", bootstrap=rows["replicate"].nunique(),
                          seed=20261207, **options)
    theirs = pd.read_csv(LAVAAN / f"wlsmv_bootstrap_{case}.csv")
    assert theirs["converged"].all() and result.bootstrap.failed == 0
    keys = (theirs["lhs"] + " " + theirs["op"] + " " + theirs["rhs"].fillna("").astype(str)
            ).str.strip()
    if "group" in theirs.columns:
        keys = keys + " [" + theirs["group"].map(SCHOOLS) + "]"
    wide = theirs.assign(key=keys).pivot(index="replicate", columns="key", values="est")
    ours = pd.DataFrame(result.bootstrap.draws, columns=result.bootstrap.names)
    assert len(wide.columns) == free and set(wide.columns) <= set(ours.columns)
    assert_close(ours[wide.columns].to_numpy(), wide.to_numpy(), rel=rel, absolute=1e-5,
                 what="replicate estimates")
