"""The 0-100 index from CB-SEM: factor-score weights of each construct's own items."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import acsi_sem
from tests.conftest import ROOT

DATA = ROOT / "data" / "acsi_simulated.csv"


def test_index_by_hand_from_the_factor_score_weights() -> None:
    result = acsi_sem.fit("acsi")
    implied = result.implied_cov.to_numpy()
    parameters = result.parameters.set_index(["lhs", "op", "rhs"])["est"]
    # One-factor block: Cov(eta, x) = var(eta) * loadings, so the weights on the block's own
    # items are proportional to (Sigma^-1 Cov(x, eta)) restricted to them.
    items = ["CUSA1", "CUSA2", "CUSA3"]
    observed = list(result.implied_cov.index)
    loading = np.zeros(len(observed))
    for item in items:
        loading[observed.index(item)] = parameters[("Satisfaction", "=~", item)]
    # Cov(x, Satisfaction) = Lambda Phi: every item's covariance with the construct.
    cov_with = np.zeros(len(observed))
    latent = list(result.spec.latent)
    phi = _latent_covariance(result)
    for lv in latent:
        for item in result.spec.indicators[lv]:
            cov_with[observed.index(item)] += parameters[(lv, "=~", item)] * phi.loc[
                lv, "Satisfaction"]
    raw = np.linalg.solve(implied, cov_with)[[observed.index(i) for i in items]]
    weights = raw / raw.sum()
    table = result.index_weights.set_index("indicator")["weight"]
    np.testing.assert_allclose(table[items].to_numpy(), weights, rtol=1e-10)
    means = pd.read_csv(DATA)[items].mean().to_numpy()
    assert result.index["Satisfaction"] == pytest.approx(100 * (weights @ means - 1) / 9)


def _latent_covariance(result) -> pd.DataFrame:
    from acsi_sem.model.ram import build_ram

    ram = build_ram(result.spec)
    free = result.spec.table["free"].to_numpy()
    theta = np.zeros(ram.n_free)
    theta[free[free > 0] - 1] = result.parameters["est"].to_numpy()[free > 0]
    full = ram.full_covariance(theta)
    names = list(ram.variables)
    rows = [names.index(lv) for lv in result.spec.latent]
    return pd.DataFrame(full[np.ix_(rows, rows)], index=result.spec.latent,
                        columns=result.spec.latent)


def test_both_families_answer_the_same_question() -> None:
    """On the simulated ACSI survey (items measure their constructs well), the CB-SEM and
    PLS indices agree within half a point."""
    cbsem, pls = acsi_sem.fit("acsi"), acsi_sem.fit("acsi", estimator="pls")
    np.testing.assert_allclose(cbsem.index, pls.index[cbsem.index.index], atol=0.5)
    weights = cbsem.index_weights.groupby("latent")["weight"].sum()
    np.testing.assert_allclose(weights, 1.0)
    assert any("factor-score weights" in note for note in cbsem.notes)
    assert set(cbsem.to_dict()["index_weights"]) == set(cbsem.spec.latent)


def test_sampling_weights_enter_the_item_means() -> None:
    frame = pd.read_csv(ROOT / "tests" / "fixtures" / "data" / "acsi_weighted.csv")
    weighted = acsi_sem.fit("acsi", frame, weights="weight")
    items = ["CUSL1", "CUSL2"]
    table = weighted.index_weights.set_index("indicator")["weight"][items].to_numpy()
    means = np.average(frame[items], weights=frame["weight"], axis=0)
    assert weighted.index["Loyalty"] == pytest.approx(100 * (table @ means - 1) / 9)
