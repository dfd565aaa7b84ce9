"""WLSMV with groups against lavaan 0.6.14 (tests/fixtures/lavaan/make_wlsmv_group_fixtures.R):
ordered items in two schools, configural and with thresholds (and loadings) held equal,
lavaan's delta parameterization with the scale factors and latent means it frees."""

from __future__ import annotations

from functools import cache

import numpy as np
import pandas as pd
import pytest

import acsi_sem
from acsi_sem.errors import AcsiSemError
from tests.conftest import (
    LAVAAN,
    ROOT,
    SCHOOLS,
    assert_close,
    assert_indices_close,
    assert_matches_lavaan,
    lavaan_fit,
)

DATA = ROOT / "tests" / "fixtures" / "data" / "holzinger1939_ordinal.csv"
MODEL = ROOT / "tests" / "fixtures" / "models" / "hs_cfa.lav"
CASES = {
    "configural": (),
    "thresholds": ("thresholds",),
    "metric": ("thresholds", "loadings"),
    "scalar": ("thresholds", "loadings", "intercepts"),
}
FIT = ["chisq", "df", "pvalue", "chisq_scaled", "df_scaled", "pvalue_scaled", "cfi", "tli",
       "rmsea", "cfi_scaled", "tli_scaled", "rmsea_scaled", "srmr", "npar",
       "baseline_chisq", "baseline_df", "baseline_chisq_scaled", "rmsea_ci_upper",
       "rmsea_ci_upper_scaled", "gfi", "agfi"]
# The test statistics agree to about 3e-7; the p-values of the scaled test are as small as
# 4e-11, where a relative 1e-7 in the statistic is 1e-5 in the tail.
TIGHT = ["chisq", "df", "chisq_scaled", "cfi", "tli", "rmsea", "cfi_scaled", "tli_scaled",
         "rmsea_scaled", "srmr", "baseline_chisq", "baseline_chisq_scaled"]


@cache
def fitted(case: str) -> acsi_sem.FitResult:
    return acsi_sem.fit(MODEL, DATA, group="school", estimator="wlsmv", ordered="all",
                        group_equal=list(CASES[case]))


@pytest.mark.parametrize("case", CASES)
def test_estimates_standard_errors_and_fit_equal_lavaan(case: str) -> None:
    # lavaan stops its optimiser where the estimates still move by about 3e-5 (relative)
    # along flat directions of the constrained models; the statistics agree far closer.
    result = fitted(case)
    assert result.converged and not result.warnings
    assert_matches_lavaan(result, f"hs_ordinal_groups_{case}", rel=1e-4, fit_names=FIT,
                          fit_rel=1e-4)
    assert_indices_close(result.fit_indices, lavaan_fit(f"hs_ordinal_groups_{case}"), TIGHT,
                         rel=1e-6, absolute=1e-9)


THREE = {1: "P1", 2: "P2", 3: "GW"}


@pytest.mark.parametrize("equal", [(), ("thresholds",)])
def test_three_groups_equal_lavaan_where_ml_starts_fail(equal) -> None:
    """Pasteur split by sex and Grant-White: ML on P2's polychorics wanders onto a ridge
    (a factor variance of -300), so the fit must start from the simple values; with equal
    thresholds Gauss-Newton creeps (linearly) to the minimum and must still say converged."""
    data = pd.read_csv(DATA)
    sex = pd.read_csv(ROOT / "tests" / "fixtures" / "data" / "holzinger1939.csv")["sex"]
    data["g3"] = np.where(data["school"] == "Pasteur", "P" + sex.astype(str), "GW")
    result = acsi_sem.fit(MODEL, data.drop(columns="school"), group="g3", estimator="wlsmv",
                          ordered="all", group_equal=list(equal))
    case = f"hs_ordinal_three_{'thresholds' if equal else 'configural'}"
    assert result.converged and not result.warnings
    # The statistics agree to 1e-9; with equal thresholds the objective is so flat along
    # two parameters (estimates 0.046 and 0.138) that lavaan's stop
    # leaves them 3e-4 (relative) away.
    assert_matches_lavaan(result, case, rel=1e-3 if equal else 1e-4, fit_names=TIGHT,
                          fit_rel=1e-5, groups=THREE)


@pytest.mark.parametrize("case", CASES)
def test_r_squared_equals_lavaan(case: str) -> None:
    theirs = pd.read_csv(LAVAAN / f"hs_ordinal_groups_{case}_r2.csv")
    ours = fitted(case).r2
    keys = zip(theirs["group"].map(SCHOOLS), theirs["variable"], strict=True)
    assert_close([ours[key] for key in keys], theirs["r2"], rel=1e-4, what=f"{case} r2")


def test_equal_thresholds_free_the_scale_factors_and_latent_means_of_group_two() -> None:
    table = fitted("thresholds").parameters
    second = table[table["group"] == "Grant-White"]
    free = second[second["se"] > 0]
    assert set(free.loc[free["op"] == "~*~", "lhs"]) == {f"x{i}" for i in range(1, 10)}
    assert set(free.loc[free["op"] == "~1", "lhs"]) == {"visual", "textual", "speed"}
    first = table[table["group"] == "Pasteur"]
    assert (first.loc[first["op"].isin(["~*~", "~1"]), "se"] == 0).all()
    thresholds = table[table["op"] == "|"].pivot(index=["lhs", "rhs"], columns="group",
                                                   values="est")
    np.testing.assert_allclose(thresholds["Pasteur"], thresholds["Grant-White"], rtol=1e-12)


def test_intercepts_add_nothing_to_equal_thresholds_and_loadings() -> None:
    """Ordered items' intercepts are fixed at 0 in every group, so lavaan's scalar model is
    its metric one (same df and test)."""
    assert fitted("scalar").fit_indices["df"] == fitted("metric").fit_indices["df"] == 69
    assert fitted("scalar").fit_indices["chisq_scaled"] == pytest.approx(
        fitted("metric").fit_indices["chisq_scaled"], rel=1e-10)


def test_catml_robust_measures_are_left_out_with_groups() -> None:
    """lavaan 0.6.14 reports the catML *.robust measures for the configural model only (NA
    once anything is held equal); acsi-sem leaves them out (NaN) with groups."""
    assert np.isnan(lavaan_fit("hs_ordinal_groups_thresholds")["cfi_robust"])
    for case in CASES:
        fit = fitted(case).fit_indices
        assert np.isnan(fit["cfi_robust"]) and np.isnan(fit["rmsea_robust"])
    assert "multi-group WLSMV" in " ".join(fitted("configural").notes)
    assert "Grant-White" in str(fitted("thresholds").summary())


def frame() -> pd.DataFrame:
    return pd.read_csv(DATA)


@pytest.mark.parametrize(("model", "data", "equal", "pattern"), [
    (MODEL, frame, ["residuals"], "'residuals' is not available yet"),
    (MODEL, frame, ["loadings", "intercepts"], "add 'thresholds'"),
    (MODEL.read_text().replace("x2", "a*x2"), frame, [], "labels, c"),
    (MODEL, lambda: frame().assign(x1=lambda d: np.where(
        (d["school"] == "Pasteur") & (d["x1"] == 4), 3, d["x1"])), ["thresholds"],
     r"item x1 has answers \[1, 2, 3, 4\] in group Grant-White but \[1, 2, 3\]"),
    (MODEL, lambda: frame().assign(x1=lambda d: np.where(d["x1"] > 2, 2, 1)), ["thresholds"],
     "x1 has two answer categories: with equal thresholds"),
    # Configural too: a category empty in one group would shift that group's thresholds.
    (MODEL, lambda: frame().assign(x1=lambda d: np.where(
        (d["school"] == "Grant-White") & (d["x1"] == 1), 2, d["x1"])), [],
     "item x1 has answers"),
])
def test_unsupported_group_requests_name_what_to_do(model, data, equal, pattern) -> None:
    with pytest.raises(AcsiSemError, match=pattern):
        acsi_sem.fit(model, data(), group="school", estimator="wlsmv", group_equal=equal)


def test_an_unidentified_multi_group_model_warns_instead_of_failing() -> None:
    """A second-order factor with free first-order and second-order latent means across
    schools is not identified: lavaan fits it (chisq 121.654 on 70 df) and warns; so does
    acsi-sem, instead of the singular-matrix error of the scaled test (found by review)."""
    second_order = ("visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\n"
                    "speed =~ x7 + x8 + x9\ng =~ visual + textual + speed\n")
    result = acsi_sem.fit(second_order, ROOT / "tests/fixtures/data/holzinger1939_ordinal.csv",
                          group="school", estimator="wlsmv", ordered="all",
                          group_equal=["thresholds", "loadings", "intercepts"])
    assert result.fit_indices["df"] == 70
    assert result.fit_indices["chisq"] == pytest.approx(121.654, rel=1e-5)
    assert any("information matrix is singular" in warning for warning in result.warnings)
