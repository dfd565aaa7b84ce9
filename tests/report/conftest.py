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


@pytest.fixture(scope="session")
def ecsi_report(pls_fits, tmp_path_factory):
    """The ECSI PLS report with its bootstrap, written once into a folder that already
    holds a file of the user's; (folder, html text)."""
    from acsi_sem.report.html import write_report

    folder = tmp_path_factory.mktemp("ecsi_report")
    (folder / "notes.txt").write_text("mine")
    path = write_report(pls_fits["ecsi"], folder)
    return folder, path.read_text(encoding="utf-8")
