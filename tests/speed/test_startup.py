"""The package and the command start without the heavy libraries (no timing asserted: which
modules load is what makes the start fast)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import ROOT

HEAVY = ("pandas", "scipy", "matplotlib", "statsmodels", "semopy", "numpy")


@pytest.mark.parametrize("code", [
    "import acsi_sem",
    "import acsi_sem.cli.main as m\ntry:\n    m.main(['--help'])\nexcept SystemExit:\n    pass",
])
def test_starting_loads_no_heavy_library(code: str) -> None:
    probe = code + f"\nimport sys\nprint(sorted(set({HEAVY!r}) & set(sys.modules)))"
    completed = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True,
                               text=True, check=True)
    assert completed.stdout.strip().splitlines()[-1] == "[]"


def test_public_names_still_resolve() -> None:
    import acsi_sem

    assert callable(acsi_sem.fit) and callable(acsi_sem.study)
    assert acsi_sem.FitResult.__name__ == "FitResult"
    assert set(acsi_sem.__all__) <= set(dir(acsi_sem))
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        acsi_sem.nothing  # noqa: B018


# ECSI on mobi is improper and nearly flat: it once needed semopy's start values (0.9 s).
@pytest.mark.parametrize(("model", "data"), [("acsi", None), ("ecsi", "data/mobi.csv"),
                                             ("ccsi", "data/mobi.csv")])
def test_shipped_models_fit_by_ml_without_semopy_or_scipy_linalg(model: str,
                                                                 data: str | None) -> None:
    probe = (f"import sys, acsi_sem\nresult = acsi_sem.fit({model!r}, {data!r}, "
             "estimator='ML', bootstrap=20, seed=1)\n"
             "print(result.converged, sorted({'semopy', 'scipy.linalg', 'scipy.optimize'} "
             "& set(sys.modules)))")
    completed = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True,
                               text=True, check=True)
    assert completed.stdout.strip().splitlines()[-1] == "True []"
