"""Latent scores lined up with the survey after listwise deletion."""

from __future__ import annotations

import pandas as pd
import pytest

import acsi_sem
from acsi_sem.errors import DataError
from acsi_sem.loyalty import construct_scores, loyalty_matrix
from tests.conftest import ROOT

SURVEY = ROOT / "data" / "loyalty_survey.csv"
MODEL = ROOT / "data" / "loyalty_survey.lav"


@pytest.fixture(scope="module")
def survey() -> pd.DataFrame:
    return pd.read_csv(SURVEY)


@pytest.fixture(scope="module")
def pls(survey):
    return acsi_sem.fit(MODEL, survey, estimator="pls")


def test_scores_get_the_rows_the_fit_kept(survey, pls) -> None:
    scores = construct_scores(pls, survey)
    kept = survey.index[survey["LOY2"].notna()]          # 8 LOY2 answers are missing
    assert len(kept) == 592 and scores.index.equals(kept)
    # The score of a respondent is the same number the fit gave at that position.
    assert scores["Loyalty"].iloc[100] == pls.scores["Loyalty"].iloc[100]
    assert scores.loc[kept[100], "Loyalty"] == pls.scores["Loyalty"].iloc[100]


def test_index_scores_average_to_the_index(survey, pls) -> None:
    scores = construct_scores(pls, survey, scale=(1, 10))
    assert scores.mean().to_numpy() == pytest.approx(pls.index.to_numpy(), rel=1e-9)
    # A positive rescaling: the same median split as the standardized scores.
    standardized = construct_scores(pls, survey)["Satisfaction"]
    by_index = loyalty_matrix(survey, scores["Satisfaction"], "REPURCHASE").segments
    by_standard = loyalty_matrix(survey, standardized, "REPURCHASE").segments
    assert by_index.equals(by_standard)


def test_scores_of_other_data_are_refused(survey, pls) -> None:
    with pytest.raises(DataError, match="the fit used 592 respondents but the data has 600"):
        construct_scores(pls, survey.fillna(5))
    with pytest.raises(DataError, match="lacks the model's indicators SAT1"):
        construct_scores(pls, survey.drop(columns="SAT1"))


def test_rows_without_a_group_are_left_out_of_the_scores_too(survey) -> None:
    grouped = survey.copy()
    grouped.loc[[3, 10], "market"] = None
    result = acsi_sem.fit(MODEL, grouped, estimator="pls", group="market")
    scores = construct_scores(result, grouped, group="market")
    complete = grouped[list(result.spec.observed)].notna().all(axis=1)
    assert len(scores) == complete.sum() - 2 == result.n_obs
    assert 3 not in scores.index and 10 not in scores.index
    assert scores.index.isin(grouped.index[complete]).all()
