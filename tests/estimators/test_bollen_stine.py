"""The Bollen-Stine bootstrap of the chi-square, checked by its definition (Bollen & Stine
1992; lavaan's test = "bollen.stine"): rotated answers that the model fits exactly, replicate
chi-squares that are refits of resamples of them, and p = #(T* > T) / B."""

from __future__ import annotations

from functools import cache

import numpy as np
import pandas as pd
import pytest

import acsi_sem
from acsi_sem.cli.main import main
from acsi_sem.errors import AcsiSemError
from acsi_sem.estimators.bollen_stine import rotated_answers
from acsi_sem.resample import resampled_rows
from tests.conftest import ROOT, assert_close

MODELS = ROOT / "tests" / "fixtures" / "models"
DATA = ROOT / "tests" / "fixtures" / "data"
HS = DATA / "holzinger1939.csv"
ITEMS = [f"x{i}" for i in range(1, 10)]


@cache
def hs_fit() -> acsi_sem.FitResult:
    return acsi_sem.fit(MODELS / "hs_cfa.lav", HS, bollen_stine=40, seed=11)


def test_rotated_answers_have_the_fitted_moments() -> None:
    result = hs_fit()
    items = pd.read_csv(HS)[ITEMS].to_numpy()
    implied = result.implied_cov.to_numpy()
    means = np.arange(9.0)
    rotated = rotated_answers(items, implied, means)
    centred = rotated - rotated.mean(axis=0)
    assert_close(centred.T @ centred / len(items), implied, rel=1e-10, absolute=1e-12)
    assert_close(rotated.mean(axis=0), means, rel=0, absolute=1e-12)


def test_each_replicate_is_the_chi_square_of_a_refit_of_rotated_rows() -> None:
    result = hs_fit()
    items = pd.read_csv(HS)[ITEMS].to_numpy()
    rotated = rotated_answers(items, result.implied_cov.to_numpy())
    first = next(resampled_rows(len(items), 1, 11))
    refit = acsi_sem.fit(MODELS / "hs_cfa.lav", pd.DataFrame(rotated[first], columns=ITEMS))
    assert result.bollen_stine.draws[0] == pytest.approx(refit.fit_indices["chisq"], rel=1e-8)


def test_the_p_value_is_the_share_of_larger_replicates() -> None:
    result = hs_fit()
    test = result.bollen_stine
    chisq = result.fit_indices["chisq"]
    assert test.statistic == chisq and len(test.draws) == test.requested == 40
    assert result.fit_indices["bollen_stine_pvalue"] == np.mean(test.draws > chisq) == 0.0
    # The rotated population fits: the replicates scatter around the df (24), far below
    # the sample's 85.3, which misfits.
    assert 18 < test.draws.mean() < 31
    again = acsi_sem.fit(MODELS / "hs_cfa.lav", HS, bollen_stine=40, seed=11).bollen_stine
    assert np.array_equal(again.draws, test.draws)


def test_a_model_that_holds_gets_a_middling_p_value() -> None:
    result = acsi_sem.fit("acsi", bollen_stine=60, seed=5)
    test = result.bollen_stine
    assert abs(test.draws.mean() - result.fit_indices["df"]) < 0.15 * result.fit_indices["df"]
    assert result.fit_indices["bollen_stine_pvalue"] == pytest.approx(
        np.mean(test.draws > result.fit_indices["chisq"]))
    assert 0.1 < result.fit_indices["bollen_stine_pvalue"] < 0.9


def test_growth_models_rotate_around_the_fitted_means() -> None:
    result = acsi_sem.fit(MODELS / "growth_linear.lav", DATA / "demo_growth.csv",
                          bollen_stine=20, seed=2)
    draws = result.bollen_stine.draws
    assert len(draws) == 20 and 1 < draws.mean() < 12  # df 5
    assert "Bollen-Stine" in result.notes[-1]


@pytest.mark.parametrize(("options", "words"), [
    ({"estimator": "pls"}, "has none"),
    ({"missing": "fiml"}, "complete answers"),
    ({"missing": "fiml", "group": "school"}, "complete answers"),
    ({"bollen_stine": 1}, "at least 2"),
])
def test_fits_it_cannot_test_are_refused(options: dict, words: str) -> None:
    arguments = {"bollen_stine": 20, **options}
    with pytest.raises(AcsiSemError, match=words):
        acsi_sem.fit(MODELS / "hs_cfa.lav", HS, **arguments)


def test_the_cli_prints_the_bootstrap_p_value(capsys) -> None:
    assert main(["fit", str(MODELS / "hs_cfa.lav"), "--data", str(HS), "--bollen-stine", "10",
                 "--seed", "3"]) == 0
    printed = capsys.readouterr().out
    assert "P-value (Bollen-Stine bootstrap)" in printed
    assert "10 replicates of the rotated data" in " ".join(printed.split())


def test_groups_rotate_within_each_group_and_refit_across_them() -> None:
    result = acsi_sem.fit(MODELS / "hs_cfa.lav", HS, group="school", group_equal="loadings",
                          bollen_stine=12, seed=4)
    test, frame = result.bollen_stine, pd.read_csv(HS)
    codes = frame["school"].to_numpy()
    rotated = frame.copy()
    for label in ("Pasteur", "Grant-White"):
        members = codes == label
        implied = result.implied_cov.loc[label].to_numpy()
        means = frame.loc[members, ITEMS].mean().to_numpy()  # saturated intercepts: fitted
        rotated.loc[members, ITEMS] = rotated_answers(frame.loc[members, ITEMS].to_numpy(),
                                                      implied, means)
        centred = rotated.loc[members, ITEMS].to_numpy() - means
        assert_close(centred.T @ centred / members.sum(), implied, rel=1e-10, absolute=1e-12)
    first = next(resampled_rows(len(frame), 1, 4, codes))
    refit = acsi_sem.fit(MODELS / "hs_cfa.lav", rotated.iloc[first].reset_index(drop=True),
                         group="school", group_equal="loadings")
    assert test.draws[0] == pytest.approx(refit.fit_indices["chisq"], rel=1e-7)
    assert len(test.draws) == 12 and 40 < test.draws.mean() < 70  # df 54
    assert result.fit_indices["bollen_stine_pvalue"] == np.mean(test.draws
                                                                > result.fit_indices["chisq"])
