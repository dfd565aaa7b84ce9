"""WLSMV with ordered and continuous items together against lavaan 0.6.14
(tests/fixtures/lavaan/make_wlsmv_mixed_fixtures.R): sample statistics (thresholds, means,
variances, polyserial and Pearson correlations, NACOV), estimates, robust SEs and the
scaled-shifted test."""

from __future__ import annotations

import json
from functools import cache

import numpy as np
import pandas as pd
import pytest

import acsi_sem
from acsi_sem.cli.main import main
from acsi_sem.errors import AcsiSemError
from acsi_sem.numerics.polychoric import ordinal_statistics
from tests.conftest import (
    LAVAAN,
    ROOT,
    SCHOOLS,
    assert_close,
    assert_indices_close,
    assert_matches_lavaan,
    lavaan_fit,
    lavaan_parameters,
    lavaan_r2,
    match_rows,
)

DATA = ROOT / "tests" / "fixtures" / "data"
ACSI_DATA = DATA / "acsi_mixed.csv"
ACSI_CONTINUOUS = ("CUSA1", "CUSCO", "CUSL1", "CUSL2")
ACSI_ORDERED = ("CUEX1", "CUEX2", "CUEX3", "PERQ1", "PERQ2", "PERQ3", "PERV1", "PERV2",
                "CUSA2", "CUSA3")
HS_MODEL = (ROOT / "tests" / "fixtures" / "models" / "hs_cfa.lav").read_text()
HS_CONTINUOUS = ("x1", "x5", "x9")
HS_ORDERED = ("x2", "x3", "x4", "x6", "x7", "x8")
FIT_NAMES = ["npar", "chisq", "df", "pvalue", "baseline_chisq", "baseline_df", "cfi", "tli",
             "nfi", "rmsea", "rmsea_ci_lower", "rmsea_ci_upper", "srmr", "gfi", "agfi",
             "chisq_scaled", "df_scaled", "pvalue_scaled", "scaling_factor",
             "baseline_chisq_scaled", "baseline_scaling_factor", "cfi_scaled", "tli_scaled",
             "rmsea_scaled", "rmsea_ci_lower_scaled", "rmsea_ci_upper_scaled"]
ROBUST = ["cfi_robust", "tli_robust", "rmsea_robust"]


def hs_frame() -> pd.DataFrame:
    """The R script's data: x1, x5, x9 continuous, the other items in four categories."""
    frame = pd.read_csv(DATA / "holzinger1939_ordinal.csv").drop(columns="school")
    raw = pd.read_csv(DATA / "holzinger1939.csv")
    return frame.assign(**{name: raw[name] for name in HS_CONTINUOUS})


@cache
def acsi() -> acsi_sem.FitResult:
    return acsi_sem.fit("acsi", ACSI_DATA, estimator="wlsmv", ordered=",".join(ACSI_ORDERED))


@cache
def hs() -> acsi_sem.FitResult:
    return acsi_sem.fit(HS_MODEL, hs_frame(), estimator="wlsmv", ordered=list(HS_ORDERED))


CASES = {"acsi_mixed_wlsmv": (acsi, lambda: pd.read_csv(ACSI_DATA), ACSI_CONTINUOUS),
         "hs_mixed_wlsmv": (hs, hs_frame, HS_CONTINUOUS)}


@pytest.mark.parametrize("case", CASES)
def test_sample_statistics_and_their_covariance_equal_lavaan(case: str) -> None:
    _, frame, continuous = CASES[case]
    statistics = ordinal_statistics(frame(), continuous=continuous)
    lavaan = pd.read_csv(LAVAAN / f"{case}_sampstat.csv")
    # lavaan stores minus each continuous item's mean (and flips its rows of Gamma).
    sign = np.where(lavaan["statistic"].str.endswith("~1"), -1.0, 1.0)
    vector = statistics.vector * sign
    univariate = slice(0, statistics.n_univariate)
    # Thresholds, means and variances are closed-form; lavaan's optimiser stops the
    # polyserial correlations about 5e-8 short.
    np.testing.assert_allclose(vector[univariate], lavaan["value"][univariate], rtol=1e-12)
    np.testing.assert_allclose(vector, lavaan["value"], rtol=0, atol=1e-7)
    gamma = statistics.gamma * np.outer(sign, sign)
    np.testing.assert_allclose(np.diag(gamma), lavaan["gamma_diag"], rtol=1e-6)
    for column in (c for c in lavaan.columns if c.startswith("gamma_") and c != "gamma_diag"):
        row = int(np.flatnonzero(lavaan["statistic"] == column.removeprefix("gamma_"))[0])
        np.testing.assert_allclose(gamma[row], lavaan[column], rtol=1e-6, atol=1e-8,
                                   err_msg=column)


@pytest.mark.parametrize("case", CASES)
def test_estimates_robust_standard_errors_and_standardized_values_equal_lavaan(
        case: str) -> None:
    result = CASES[case][0]()
    merged = match_rows(result.parameters, lavaan_parameters(case))
    assert (merged["_merge"] != "left_only").all()
    ours = merged[merged["_merge"] == "both"]
    for column in ["est", "se", "z", "std_lv", "std_all"]:
        assert_close(ours[column], ours[f"{column}_lavaan"], rel=1e-5, absolute=1e-7,
                     what=column)
    # Rows lavaan lists and acsi-sem leaves out are fixed: scale factors at 1, zero
    # intercepts of ordered items and zero latent means.
    theirs = merged[merged["_merge"] == "right_only"]
    assert set(theirs["op"]) == {"~*~", "~1"}
    assert (theirs["se_lavaan"] == 0).all()
    intercepts = ours[ours["op"] == "~1"]
    assert sorted(intercepts["lhs"]) == sorted(CASES[case][2])


@pytest.mark.parametrize("case", CASES)
def test_fit_indices_and_the_scaled_shifted_test_equal_lavaan(case: str) -> None:
    ours, lavaan = CASES[case][0]().fit_indices, lavaan_fit(case)
    assert_indices_close(ours, lavaan, FIT_NAMES, rel=1e-5, absolute=1e-8)
    # lavaan's catML measures need every item ordered; it reports NA.
    for name in ROBUST:
        assert np.isnan(ours[name]) and np.isnan(lavaan[name])


@pytest.mark.parametrize("case", CASES)
def test_r_squared_equals_lavaan(case: str) -> None:
    lavaan = lavaan_r2(case)
    assert_close(CASES[case][0]().r2.reindex(lavaan.index), lavaan, rel=1e-5, absolute=1e-8,
                 what="r2")


def test_the_sample_covariance_holds_covariances_of_continuous_items() -> None:
    sample = acsi().sample_cov
    frame = pd.read_csv(ACSI_DATA)
    np.testing.assert_allclose(sample.loc["CUSL1", "CUSL1"], frame["CUSL1"].var(ddof=0))
    assert sample.loc["CUEX1", "CUEX1"] == 1.0
    assert any("continuous items: CUSA1, CUSCO, CUSL1, CUSL2" in note
               for note in acsi().notes)
    text = str(acsi().summary())
    assert "Intercepts:" in text and "Thresholds:" in text and "CUSA2|t1" in text


def test_mixed_items_from_the_shell(capsys) -> None:
    code = main(["fit", "acsi", "--data", str(ACSI_DATA), "--estimator", "wlsmv",
                 "--ordered", ",".join(ACSI_ORDERED), "--json", "-"])
    assert code == 0
    fit = json.loads(capsys.readouterr().out)["fit"]
    assert fit["chisq_scaled"] == pytest.approx(lavaan_fit("acsi_mixed_wlsmv")["chisq_scaled"],
                                                rel=1e-5)


def test_every_item_named_ordered_is_the_ordinal_fit() -> None:
    frame = pd.read_csv(DATA / "acsi_ordinal.csv")
    model = "S =~ CUSA1 + CUSA2 + CUSA3\nL =~ CUSL1 + CUSL2\nL ~ S"
    named = acsi_sem.fit(model, frame, estimator="wlsmv",
                         ordered=["CUSA1", "CUSA2", "CUSA3", "CUSL1", "CUSL2"])
    default = acsi_sem.fit(model, frame, estimator="wlsmv")
    pd.testing.assert_frame_equal(named.parameters, default.parameters)


@pytest.mark.parametrize(("options", "pattern"), [
    ({"ordered": ""}, "ordered names no item"),
    ({"ordered": "CUSA2,CUEX9"}, "CUEX9, which the model does not use"),
])
def test_impossible_mixed_requests_name_the_cause(options: dict, pattern: str) -> None:
    with pytest.raises(AcsiSemError, match=pattern):
        acsi_sem.fit("acsi", ACSI_DATA, estimator="wlsmv", **options)


GROUP_CONTINUOUS = ("x1", "x2", "x5", "x9")
GROUP_CASES = {"configural": (), "thresholds": ("thresholds",),
               "metric": ("thresholds", "loadings"),
               "scalar": ("thresholds", "loadings", "intercepts")}
GROUP_FIT = ["npar", "chisq", "df", "pvalue", "chisq_scaled", "df_scaled", "pvalue_scaled",
             "scaling_factor", "baseline_chisq", "baseline_df", "baseline_chisq_scaled",
             "cfi", "tli", "rmsea", "cfi_scaled", "tli_scaled", "rmsea_scaled",
             "rmsea_ci_upper_scaled", "srmr", "gfi", "agfi"]


@cache
def by_school(case: str) -> acsi_sem.FitResult:
    frame = pd.read_csv(DATA / "holzinger1939_ordinal.csv")
    raw = pd.read_csv(DATA / "holzinger1939.csv")
    frame = frame.assign(**{name: raw[name] for name in GROUP_CONTINUOUS})
    ordered = [f"x{k}" for k in range(1, 10) if f"x{k}" not in GROUP_CONTINUOUS]
    return acsi_sem.fit(HS_MODEL, frame, group="school", estimator="wlsmv", ordered=ordered,
                        group_equal=list(GROUP_CASES[case]))


@pytest.mark.parametrize("case", GROUP_CASES)
def test_groups_with_continuous_items_equal_lavaan(case: str) -> None:
    result = by_school(case)
    assert result.converged and not result.warnings
    # lavaan stops short along flat directions: x1's residual variance in Pasteur (0.053,
    # x1 nearly a perfect indicator) is 6e-4 (relative) off with equal thresholds, where
    # acsi-sem's chi-square is the lower; lavaan's own single-group fit of Pasteur lands
    # elsewhere again (0.0525606 against its configural 0.0525590; acsi-sem 0.0525615).
    assert_matches_lavaan(result, f"hs_mixed_groups_{case}",
                          rel=1e-3 if case == "thresholds" else 1e-4,
                          fit_names=GROUP_FIT, fit_rel=1e-5)
    lavaan = pd.read_csv(LAVAAN / f"hs_mixed_groups_{case}_r2.csv")
    ours = [result.r2.loc[(SCHOOLS[group], variable)]
            for variable, group in zip(lavaan["variable"], lavaan["group"], strict=True)]
    assert_close(ours, lavaan["r2"], rel=1e-3 if case == "thresholds" else 1e-4,
                 absolute=1e-6, what="r2")


def test_equal_thresholds_hold_the_continuous_intercepts_equal_as_lavaan() -> None:
    """lavaan 0.6.14 keeps a continuous item's mean among the thresholds: group.equal =
    "thresholds" holds its intercept equal and frees the latent means; adding "intercepts"
    then changes nothing."""
    rows = by_school("thresholds").parameters
    intercepts = rows[(rows["op"] == "~1") & rows["lhs"].isin(GROUP_CONTINUOUS)]
    assert intercepts.groupby("lhs")["est"].nunique().eq(1).all()
    configural = by_school("configural").parameters
    x1 = configural[(configural["op"] == "~1") & (configural["lhs"] == "x1")]["est"]
    assert x1.nunique() == 2
    assert by_school("scalar").fit_indices["chisq"] == pytest.approx(
        by_school("metric").fit_indices["chisq"], rel=1e-10)
    scales = rows[rows["op"] == "~*~"]
    assert not set(scales["lhs"]) & set(GROUP_CONTINUOUS)


PREDICTOR_CASES = {
    # A continuous item with a non-zero mean predicts another: x9's implied mean is its
    # intercept plus 0.357 times x1's.
    "hs_mixed_predictor_wlsmv": ("visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\n"
                                 "x9 ~ x1 + textual", ("x2", "x3", "x4", "x6")),
    # x1's mean enters visual's, and so the implied thresholds of x2, x3 and x4.
    "hs_mixed_mediator_wlsmv": ("visual =~ x2 + x3 + x4\ntextual =~ x6 + x7 + x8\n"
                                "x1 ~ textual\nvisual ~ x1\nx9 ~ visual + textual",
                                HS_ORDERED),
}


@cache
def predictor_fit(case: str) -> acsi_sem.FitResult:
    model, ordered = PREDICTOR_CASES[case]
    return acsi_sem.fit(model, hs_frame(), estimator="wlsmv", ordered=list(ordered))


@pytest.mark.parametrize("case", PREDICTOR_CASES)
def test_a_continuous_predictor_s_mean_enters_the_implied_means_as_lavaan(case: str) -> None:
    result = predictor_fit(case)
    assert result.converged
    merged = match_rows(result.parameters, lavaan_parameters(case))
    assert (merged["_merge"] != "left_only").all()
    ours = merged[merged["_merge"] == "both"]
    # The mediator model is improper (visual ~~ visual = -0.059 in both) and fits badly
    # (chisq 222 on 18 df): x1's residual variance lies along a flat direction and moves
    # by 1.4e-5 (relative) where the residuals magnify the sample statistics' 5e-8
    # differences; its chi-square agrees to 1e-7.
    rel = 1e-4 if case == "hs_mixed_mediator_wlsmv" else 1e-5
    for column in ["est", "se", "z", "std_lv", "std_all"]:
        assert_close(ours[column], ours[f"{column}_lavaan"], rel=rel, absolute=1e-7,
                     what=column)
    assert_indices_close(result.fit_indices, lavaan_fit(case), FIT_NAMES, rel=1e-5,
                         absolute=1e-8)
    # visual's residual variance is negative: no R2 (NaN, lavaan's NA), not one beyond 1.
    lavaan = lavaan_r2(case)
    ours = result.r2.reindex(lavaan.index)
    assert (ours.isna() == lavaan.isna()).all() and lavaan.isna().sum() == (
        case == "hs_mixed_mediator_wlsmv")
    assert_close(ours[lavaan.notna()], lavaan.dropna(), rel=rel, absolute=1e-8, what="r2")


def _standardized(result: acsi_sem.FitResult) -> pd.Series:
    rows = result.parameters
    keys = [rows["lhs"], rows["op"], rows["rhs"]]
    if "group" in rows:
        keys.append(rows["group"])
    return pd.Series(rows["std_all"].to_numpy(), index=pd.MultiIndex.from_arrays(keys))


@pytest.mark.parametrize("factor", [3.0, 100.0])
def test_the_units_of_a_continuous_marker_change_nothing_standardized(factor: float) -> None:
    """DWLS is equivariant: x1 (visual's marker) in other units leaves the chi-square and
    the standardized solution as they were (and lavaan's). Fits from ML starts on the
    raw covariances went wrong here (x1 * 3: chisq 258.9 reported as converged)."""
    scaled = acsi_sem.fit(HS_MODEL, hs_frame().assign(x1=lambda f: f["x1"] * factor),
                          estimator="wlsmv", ordered=list(HS_ORDERED))
    assert scaled.converged
    assert scaled.fit_indices["chisq"] == pytest.approx(hs().fit_indices["chisq"], rel=1e-6)
    assert scaled.fit_indices["chisq"] == pytest.approx(
        lavaan_fit("hs_mixed_wlsmv")["chisq"], rel=1e-5)
    assert_close(_standardized(scaled), _standardized(hs()), rel=1e-5, absolute=1e-7,
                 what="std_all")
    loading = scaled.parameters.set_index(["lhs", "op", "rhs"])["est"]
    assert loading[("visual", "=~", "x2")] == pytest.approx(
        hs().parameters.set_index(["lhs", "op", "rhs"])["est"][("visual", "=~", "x2")]
        / factor, rel=1e-5)


@pytest.mark.parametrize("case", ["configural", "thresholds"])
@pytest.mark.parametrize("factor", [3.0, 100.0])
def test_the_units_of_a_continuous_marker_change_nothing_across_groups(
        case: str, factor: float) -> None:
    frame = pd.read_csv(DATA / "holzinger1939_ordinal.csv")
    raw = pd.read_csv(DATA / "holzinger1939.csv")
    frame = frame.assign(**{name: raw[name] for name in GROUP_CONTINUOUS})
    ordered = [f"x{k}" for k in range(1, 10) if f"x{k}" not in GROUP_CONTINUOUS]
    scaled = acsi_sem.fit(HS_MODEL, frame.assign(x1=frame["x1"] * factor), group="school",
                          estimator="wlsmv", ordered=ordered,
                          group_equal=list(GROUP_CASES[case]))
    assert scaled.converged and not scaled.warnings
    unscaled = by_school(case)
    assert scaled.fit_indices["chisq"] == pytest.approx(unscaled.fit_indices["chisq"],
                                                        rel=1e-6)
    assert scaled.fit_indices["chisq"] == pytest.approx(
        lavaan_fit(f"hs_mixed_groups_{case}")["chisq"], rel=1e-5)
    assert_close(_standardized(scaled), _standardized(unscaled), rel=1e-5, absolute=1e-7,
                 what="std_all")


def test_an_item_whose_units_an_equality_ties_keeps_them_and_the_others_are_rescaled() -> None:
    """b*x5 and b*x6 (x5 continuous, x6 ordered) hold only in x5's own units, so x5 keeps
    them; x1 (visual's marker) is still rescaled, and its units change nothing."""
    model = ("visual =~ x1 + a*x2 + a*x3\ntextual =~ x4 + b*x5 + b*x6\n"
             "speed =~ x7 + x8 + x9")
    fits = [acsi_sem.fit(model, hs_frame().assign(x1=lambda f, k=k: f["x1"] * k),
                         estimator="wlsmv", ordered=list(HS_ORDERED)) for k in (1.0, 100.0)]
    assert all(fit.converged for fit in fits)
    assert fits[1].fit_indices["chisq"] == pytest.approx(fits[0].fit_indices["chisq"],
                                                         rel=1e-6)
    assert_close(_standardized(fits[1]), _standardized(fits[0]), rel=1e-5, absolute=1e-7,
                 what="std_all")
