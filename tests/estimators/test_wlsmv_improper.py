"""WLSMV fits that converge to an improper solution (an ordered item's derived residual
variance below 0) against lavaan 0.6.14 (tests/fixtures/lavaan/make_wlsmv_improper_fixtures.R):
reported as converged with the Heywood warning, as lavaan and the ML path report them."""

from __future__ import annotations

import pandas as pd

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

DATA = ROOT / "tests" / "fixtures" / "data" / "holzinger1939_ordinal.csv"
MODEL = "A =~ x9 + x7\nB =~ x1 + x2 + x3"
FIT_NAMES = ["npar", "chisq", "df", "pvalue", "chisq_scaled", "pvalue_scaled",
             "scaling_factor", "cfi_scaled", "rmsea_scaled", "srmr"]


def test_a_negative_derived_residual_variance_is_an_improper_solution() -> None:
    result = acsi_sem.fit(MODEL, pd.read_csv(DATA).drop(columns="school"), estimator="wlsmv",
                          ordered="all")
    assert result.converged
    assert not any("did not converge" in w for w in result.warnings)
    assert "improper solution: negative variance x9 ~~ x9 = -2.946 (a Heywood case)" in (
        result.warnings)
    merged = match_rows(result.parameters, lavaan_parameters("hs_ordinal_heywood_wlsmv"))
    # lavaan's fixed ~*~ (1) and ~1 (0) rows have no counterpart in a single group.
    ours = merged[merged["_merge"] != "right_only"]
    assert (ours["_merge"] == "both").all() and len(ours) == 28
    for column in ["est", "se", "z"]:
        assert_close(ours[column], ours[f"{column}_lavaan"], rel=1e-4, absolute=1e-6,
                     what=column)
    assert_indices_close(result.fit_indices, lavaan_fit("hs_ordinal_heywood_wlsmv"),
                         FIT_NAMES, rel=1e-5, absolute=1e-7)


def test_a_negative_derived_residual_variance_in_a_group_is_an_improper_solution() -> None:
    result = acsi_sem.fit(MODEL, pd.read_csv(DATA), estimator="wlsmv", ordered="all",
                          group="school", group_equal=["thresholds", "loadings"])
    assert result.converged
    assert not any("did not converge" in w for w in result.warnings)
    assert ("improper solution: negative variance x9 ~~ x9 = -1.391 (a Heywood case) "
            "(group Grant-White)") in result.warnings
    assert_matches_lavaan(result, "hs_ordinal_heywood_groups_wlsmv", rel=1e-4,
                          fit_names=FIT_NAMES, fit_rel=1e-5, columns=("est", "se"))
