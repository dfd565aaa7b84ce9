"""CB-SEM with sampling weights against lavaan 0.6.14's sem(..., sampling.weights = )
(tests/fixtures/lavaan/make_weights_fixtures.R; data from tests/fixtures/data/make_weighted.py)."""

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
    assert_close,
    assert_indices_close,
    lavaan_fit,
    lavaan_r2,
)
from tests.estimators.test_cbsem_survey import PLAIN, ROBUST, SCALED, assert_parameters_equal

DATA = ROOT / "tests" / "fixtures" / "data"
ACSI = (ROOT / "models" / "acsi.lav").read_text()
CASES = {
    "acsi_weighted": (ACSI, "acsi_weighted.csv", "weight"),
    "acsi_weighted_means": (ACSI + "\nCUEX1 ~ 1\n", "acsi_weighted.csv", "weight"),
    "acsi_count": (ACSI, "acsi_weighted.csv", "count_weight"),
    "hs_covariates_weighted": ((ROOT / "tests" / "fixtures" / "models" / "hs_covariates.lav"
                                ).read_text(), "holzinger1939_weighted.csv", "weight"),
}


@cache
def weighted_fit(case: str, estimator: str = "ml") -> acsi_sem.FitResult:
    model, data, weights = CASES[case]
    return acsi_sem.fit(model, pd.read_csv(DATA / data), estimator=estimator, weights=weights)


@pytest.mark.parametrize("case", list(CASES))
def test_estimates_and_robust_standard_errors_equal_lavaan(case: str) -> None:
    assert_parameters_equal(weighted_fit(case), case)


@pytest.mark.parametrize("case", list(CASES))
def test_fit_indices_equal_lavaan(case: str) -> None:
    ours, theirs = weighted_fit(case).fit_indices, lavaan_fit(case)
    assert_indices_close(ours, theirs, PLAIN + SCALED + ROBUST + ["gfi", "agfi"], rel=1e-5,
                         absolute=1e-8)
    r2 = weighted_fit(case).r2
    expected = lavaan_r2(case)
    assert_close(r2[expected.index], expected, rel=1e-5, what=f"{case} r2")


@pytest.mark.parametrize("case", list(CASES))
def test_weighted_moments_equal_lavaan(case: str) -> None:
    stats = pd.read_csv(LAVAAN / f"{case}_sampstat.csv")
    means = stats[stats["row"] == "mean"].set_index("col")["value"]
    covariance = stats[stats["row"] != "mean"].pivot(index="row", columns="col",
                                                     values="value")
    result = weighted_fit(case)
    names = list(result.sample_cov.index)
    np.testing.assert_allclose(result.sample_cov.to_numpy(),
                               covariance.loc[names, names].to_numpy(), rtol=1e-12)
    _, data, weights = CASES[case]
    frame = pd.read_csv(DATA / data)
    np.testing.assert_allclose(np.average(frame[names], weights=frame[weights], axis=0),
                               means[names].to_numpy(), rtol=1e-12)


def test_weighted_ml_is_mlr_and_says_so() -> None:
    ml, mlr = weighted_fit("acsi_weighted"), weighted_fit("acsi_weighted", "mlr")
    assert ml.estimator == mlr.estimator == "MLR"
    np.testing.assert_allclose(ml.parameters["se"], mlr.parameters["se"], equal_nan=True)
    assert any("sampling.weights" in note for note in ml.notes)
    assert not any("sampling.weights" in note for note in mlr.notes)
    assert ml.to_dict()["sampling_weights"]["column"] == "weight"


def test_count_weights_give_the_estimates_of_repeated_rows() -> None:
    """Weights rescaled to sum N: the estimates of the rows repeated, the standard errors
    of N respondents with unequal weights (the repeated rows' times the square root of
    their count over N and of Kish's design effect, mean(w^2) / mean(w)^2)."""
    frame = pd.read_csv(DATA / "acsi_weighted.csv")
    repeated = frame.loc[frame.index.repeat(frame["count_weight"])].reset_index(drop=True)
    unweighted = acsi_sem.fit(ACSI, repeated.drop(columns=["weight", "count_weight"]),
                              estimator="mlr")
    weighted = weighted_fit("acsi_count")
    np.testing.assert_allclose(weighted.parameters["est"], unweighted.parameters["est"],
                               rtol=1e-6, atol=1e-9)
    free = weighted.parameters["se"] > 0
    ratio = weighted.parameters.loc[free, "se"] / unweighted.parameters.loc[free, "se"]
    counts = frame["count_weight"]
    design_effect = (counts ** 2).mean() / counts.mean() ** 2
    assert ratio.median() == pytest.approx(
        np.sqrt(len(repeated) / len(frame) * design_effect), rel=0.02)


def test_weights_scaled_by_a_constant_change_nothing() -> None:
    frame = pd.read_csv(DATA / "acsi_weighted.csv").assign(scaled=lambda d: 7 * d["weight"])
    scaled = acsi_sem.fit(ACSI, frame, weights="scaled")
    reference = weighted_fit("acsi_weighted")
    np.testing.assert_allclose(scaled.parameters["se"], reference.parameters["se"],
                               rtol=1e-8, equal_nan=True)
    assert scaled.fit_indices["chisq_scaled"] == pytest.approx(
        reference.fit_indices["chisq_scaled"], rel=1e-9)


def test_weighted_bootstrap_resamples_weighted_respondents() -> None:
    """The bootstrap of a weighted fit reweights each resample: its standard errors agree
    with the robust ones, and differ from those of the unweighted bootstrap."""
    frame = pd.read_csv(DATA / "acsi_weighted.csv")
    boot = acsi_sem.fit(ACSI, frame, weights="weight", bootstrap=300, seed=3)
    robust = weighted_fit("acsi_weighted")
    loadings = boot.parameters["op"] == "=~"
    loadings &= boot.parameters["se"] > 0
    ratio = boot.parameters.loc[loadings, "se"] / robust.parameters.loc[loadings, "se"]
    assert 0.85 < ratio.median() < 1.15
    np.testing.assert_allclose(boot.parameters["est"], robust.parameters["est"])


def test_options_without_weights_refuse_them() -> None:
    """Reading in chunks keeps moments only, not the rows the weights belong to (groups and
    FIML with weights: tests/test_weighted_groups.py)."""
    model = CASES["hs_covariates_weighted"][0]
    with pytest.raises(AcsiSemError, match="rows in memory"):
        acsi_sem.fit(model, DATA / "holzinger1939_weighted.csv", weights="weight",
                     chunksize=100)


def test_srmr_with_a_mean_structure_counts_the_mean_residuals() -> None:
    """lavaan's SRMR with a mean structure averages over p(p+1)/2 + p terms; with saturated
    means the p mean residuals are zero."""
    frame = pd.read_csv(DATA / "acsi_weighted.csv")
    plain = acsi_sem.fit(ACSI, frame).fit_indices["srmr"]
    with_means = acsi_sem.fit(ACSI + "\nCUEX1 ~ 1\n", frame).fit_indices["srmr"]
    p = 14
    moments = p * (p + 1) // 2
    assert with_means == pytest.approx(plain * np.sqrt(moments / (moments + p)), rel=1e-10)
