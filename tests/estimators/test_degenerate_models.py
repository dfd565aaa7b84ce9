"""Small and odd models the fuzz suite found: one item, no constructs, a lone construct."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import acsi_sem
from acsi_sem.errors import DataError, ModelSyntaxError
from tests.conftest import ROOT

MOBI = pd.read_csv(ROOT / "data" / "mobi.csv")


def test_a_construct_with_one_item_is_a_saturated_cb_sem_model() -> None:
    result = acsi_sem.fit("A =~ CUSA1", MOBI)
    assert result.fit_indices["df"] == 0
    assert np.isnan(result.fit_indices["nfi"])  # no baseline misfit to compare with
    variance = result.parameters.query("lhs == 'A' and op == '~~'")["est"].iloc[0]
    assert variance == pytest.approx(MOBI["CUSA1"].var(ddof=0))


def test_a_model_of_observed_variables_has_no_quality_tables() -> None:
    result = acsi_sem.fit("CUSA1 ~~ CUSA2", MOBI)
    assert result.quality is None
    covariance = result.parameters.query("op == '~~' and lhs != rhs")["est"].iloc[0]
    assert covariance == pytest.approx(np.cov(MOBI["CUSA1"], MOBI["CUSA2"], bias=True)[0, 1])


def test_pls_without_constructs_is_refused() -> None:
    with pytest.raises(ModelSyntaxError, match="PLS estimates constructs and the model has "
                                               "none"):
        acsi_sem.fit("CUSA1 ~~ CUSA2", MOBI, estimator="pls")


def test_a_lone_pls_construct_weighs_its_items_by_their_first_principal_component() -> None:
    items = ["CUSA1", "CUSA2", "CUSA3"]
    result = acsi_sem.fit("A =~ " + " + ".join(items), MOBI, estimator="pls", scale=(1, 10))
    correlation = np.corrcoef(MOBI[items].to_numpy(), rowvar=False)
    component = np.linalg.eigh(correlation)[1][:, -1]
    component = np.abs(component) / np.sqrt(component @ correlation @ component)
    np.testing.assert_allclose(result.outer_weights["weight"], component, atol=1e-6)
    assert result.converged and not result.warnings
    single = acsi_sem.fit("A =~ CUSA1", MOBI, estimator="pls", scale=(1, 10))
    assert single.index["A"] == pytest.approx(100 * (MOBI["CUSA1"].mean() - 1) / 9)


def test_an_infinite_answer_is_named() -> None:
    broken = MOBI.assign(CUSA2=MOBI["CUSA2"].astype(float).where(MOBI.index != 3, np.inf))
    with pytest.raises(DataError, match="column CUSA2, row 4 holds inf"):
        acsi_sem.fit("ecsi", broken)
