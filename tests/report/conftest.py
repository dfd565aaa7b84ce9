"""Fits shared by the report tests: each is computed once per session (PLS is fast; the
small bootstrap gives the p-values behind the significance stars)."""

from __future__ import annotations

import matplotlib
import pytest

import acsi_sem

matplotlib.use("Agg")


@pytest.fixture(scope="session")
def pls_fits() -> dict:
    """PLS fits of the shipped models with 40 bootstrap replicates, by model name."""
    return {name: acsi_sem.fit(name, estimator="pls", bootstrap=40, seed=5)
            for name in ("acsi", "ecsi", "ccsi")}


@pytest.fixture(scope="session")
def acsi_ml():
    """The ACSI model by ML on its simulated survey (p-values from the information)."""
    return acsi_sem.fit("acsi")
