"""Polychoric correlations of cross-tables with empty cells against lavaan 0.6.14
(tests/fixtures/lavaan/make_polychoric_edge_fixtures.R): lavaan's zero.add = c(0.5, 0) for
binary pairs with one empty cell, rho = +-1 for two, the NACOV from the respondents' scores,
and a WLSMV fit on such data."""

from __future__ import annotations

import warnings
from functools import cache

import numpy as np
import pandas as pd

import acsi_sem
from acsi_sem.numerics import polychoric
from acsi_sem.numerics.polychoric import ordinal_statistics
from tests.conftest import (
    LAVAAN,
    ROOT,
    assert_close,
    assert_indices_close,
    lavaan_fit,
    lavaan_parameters,
    match_rows,
)

DATA = ROOT / "tests" / "fixtures" / "data" / "binary_empty_cells.csv"
STRAY = ROOT / "tests" / "fixtures" / "data" / "polychoric_stray_answers.csv"
ITEMS = [f"y{j}" for j in range(1, 7)]
MODEL = "f =~ y1 + y2 + y3 + y4 + y5 + y6"
# The three binary pairs with one empty cell: off the diagonal (two kinds) and on it.
ONE_EMPTY = ("y1~~y2", "y2~~y3", "y2~~y4")
FIT_NAMES = ["npar", "chisq", "df", "pvalue", "baseline_chisq", "cfi", "tli", "rmsea", "srmr",
             "chisq_scaled", "pvalue_scaled", "scaling_factor", "baseline_chisq_scaled",
             "cfi_scaled", "tli_scaled", "rmsea_scaled", "cfi_robust", "rmsea_robust"]


def data() -> pd.DataFrame:
    return pd.read_csv(DATA)


@cache
def result() -> acsi_sem.FitResult:
    return acsi_sem.fit(MODEL, data()[ITEMS], estimator="wlsmv", ordered="all")


def test_binary_pairs_with_one_empty_cell_get_lavaans_half_count() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        statistics = ordinal_statistics(data()[ITEMS])
    lavaan = pd.read_csv(LAVAAN / "polychoric_edges_wlsmv_sampstat.csv")
    one_empty = lavaan["statistic"].isin(ONE_EMPTY).to_numpy()
    # Without the half count these were +0.998, +0.997, -0.997 (a flat ridge toward the
    # bound) with NACOV entries near 1e178; lavaan's optimiser stops others about 2e-8 short.
    np.testing.assert_allclose(statistics.vector[one_empty], lavaan["value"][one_empty],
                               rtol=1e-9)
    np.testing.assert_allclose(statistics.vector, lavaan["value"], rtol=1e-6, atol=1e-12)
    np.testing.assert_allclose(np.diag(statistics.gamma), lavaan["gamma_diag"], rtol=1e-6)
    assert statistics.problems() == []


def test_binary_pairs_with_two_empty_cells_are_fixed_at_plus_or_minus_one() -> None:
    frame = data()[["y1", "y3", "y5", "z1", "z2"]]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        statistics = ordinal_statistics(frame)
    lavaan = (pd.read_csv(LAVAAN / "polychoric_edges_two_empty_cor.csv")
              .pivot(index="row", columns="col", values="value"))
    names = list(frame.columns)
    polychoric = pd.DataFrame(statistics.polychoric, index=names, columns=names)
    assert polychoric.loc["z1", "y1"] == 1.0 and polychoric.loc["z2", "y3"] == -1.0
    for row in lavaan.index:
        for column in lavaan.columns[lavaan.loc[row].notna()]:
            assert_close(polychoric.loc[row, column], lavaan.loc[row, column], rel=1e-6,
                         what=f"{row} {column}")
    # The scores at rho = +-1 follow lavaan's (density at 0.9999, half the density in the
    # threshold derivatives), so even those NACOV entries agree.
    moments = pd.read_csv(LAVAAN / "polychoric_edges_two_empty_sampstat.csv")
    np.testing.assert_allclose(statistics.vector, moments["value"], rtol=1e-6, atol=1e-12)
    np.testing.assert_allclose(np.diag(statistics.gamma), moments["gamma_diag"], rtol=1e-6)
    problems = statistics.problems()
    assert any("z1 and y1 is +1.000, at its bound (two empty cells in their 2x2 table)" in p
               for p in problems)
    assert any("z2 and y3 is -1.000, at its bound (two empty cells" in p for p in problems)


def test_wlsmv_fit_on_tables_with_empty_cells_equals_lavaan() -> None:
    fit = result()
    assert fit.converged and fit.warnings == ()
    merged = match_rows(fit.parameters, lavaan_parameters("polychoric_edges_wlsmv"))
    ours = merged[merged["_merge"] != "right_only"]
    assert (ours["_merge"] == "both").all() and len(ours) == 22
    for column in ["est", "se", "z", "std_all"]:
        assert_close(ours[column], ours[f"{column}_lavaan"], rel=1e-5, absolute=1e-6,
                     what=column)
    assert_indices_close(fit.fit_indices, lavaan_fit("polychoric_edges_wlsmv"), FIT_NAMES,
                         rel=1e-6, absolute=1e-7)


def test_answers_in_a_far_corner_follow_lavaans_probability_floor() -> None:
    """A corner cell answered once or twice has a probability that underflows at rho near
    the bound: the Newton curvature overflowed there (a RuntimeWarning), and where the cell
    stays below lavaan's floor sqrt(eps) at the maximum (tables 3 and 4) rho was 0.872 and
    0.893, lavaan's 0.960 and 0.999 (its likelihood is flat in such a cell); the NACOV
    leaves that cell's respondents out of the pair's scores, as lavaan's does. In table 5
    the plateau beyond the floor is a second, lower maximum at the bound that one long
    Newton step from lavaan's start reached (0.999 against lavaan's 0.957)."""
    stray = pd.read_csv(STRAY)
    lavaan = pd.read_csv(LAVAAN / "polychoric_stray_answers.csv")
    for table, rows in stray.groupby("table"):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            statistics = ordinal_statistics(rows[["a", "b"]])
        theirs = lavaan[lavaan["table"] == table]
        # lavaan's optimiser stops the second table's rho about 1e-9 short.
        assert_close(statistics.vector, theirs["value"], rel=1e-8, absolute=1e-12,
                     what=f"table {table}")
        assert_close(np.diag(statistics.gamma), theirs["gamma_diag"], rel=1e-6,
                     what=f"table {table} NACOV")


def test_polychorics_that_do_not_settle_are_reported(monkeypatch) -> None:
    monkeypatch.setattr(polychoric, "MAX_RHO_STEPS", 2)
    problems = ordinal_statistics(data()[ITEMS]).problems()
    assert any(p.startswith("the polychoric correlation of y2 and y1 did not converge in 2 "
                            "Newton steps (it stays at +") for p in problems)
    fit = acsi_sem.fit(MODEL, data()[ITEMS], estimator="wlsmv", ordered="all")
    unsettled = [w for w in fit.warnings if "did not converge in 2 Newton steps" in w]
    # Two steps from 0 settle none of the 15 pairs; the DWLS fit itself still runs.
    assert len(unsettled) == 15 and any(w.startswith("the polychoric correlation of y6 and "
                                                     "y5 did not") for w in unsettled)
