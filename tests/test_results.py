"""The result object: summary text, HTML, JSON, and invariances of the solution."""

from __future__ import annotations

import json
from functools import cache

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

import acsi_sem
from tests.conftest import ROOT

HS = pd.read_csv(ROOT / "tests" / "fixtures" / "data" / "holzinger1939.csv")
HS_MODEL = (ROOT / "tests" / "fixtures" / "models" / "hs_sem.lav").read_text()


@cache
def hs_result() -> acsi_sem.FitResult:
    return acsi_sem.fit(HS_MODEL, HS)


def test_summary_has_lavaan_sections_and_values() -> None:
    text = hs_result().summary().as_text()
    for heading in ["Latent variables:", "Regressions:", "Covariances:", "Variances:",
                    "R-square:", "RMSEA [90% CI]", "SRMR"]:
        assert heading in text
    assert "85.306" in text  # chi-square
    assert "0.092 [0.071, 0.114]" in text  # RMSEA and its interval, as lavaan prints
    assert max(len(line) for line in text.splitlines()) <= 78


def test_html_shows_warnings_and_tables() -> None:
    html = acsi_sem.fit("ecsi")._repr_html_()
    assert "<table" in html and "Warnings" in html and "Value ~ Expectation" in html
    assert "Warnings" not in hs_result()._repr_html_()


def test_json_writes_null_for_undefined_numbers(tmp_path) -> None:
    path = tmp_path / "hs.json"
    hs_result().to_json(path)
    document = json.loads(path.read_text())
    fixed = next(p for p in document["parameters"] if (p["lhs"], p["rhs"]) == ("visual", "x1"))
    assert fixed["est"] == 1.0 and fixed["se"] == 0.0 and fixed["z"] is None
    assert document["fit"]["chisq"] == hs_result().fit_indices["chisq"]
    effects = {(e["lhs"], e["rhs"]): e for e in document["effects"]}
    assert effects[("textual", "visual")]["indirect"] == 0.0


@settings(max_examples=8, deadline=None)
@given(st.lists(st.floats(0.2, 5.0), min_size=6, max_size=6),
       st.lists(st.floats(-10, 10), min_size=6, max_size=6))
def test_rescaling_the_items_leaves_the_standardized_solution_and_fit_unchanged(
        scales: list[float], shifts: list[float]) -> None:
    columns = ["x1", "x2", "x3", "x4", "x5", "x6"]
    model = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6"
    rescaled = HS[columns] * np.array(scales) + np.array(shifts)
    original, changed = acsi_sem.fit(model, HS), acsi_sem.fit(model, rescaled)
    np.testing.assert_allclose(changed.parameters["std_all"], original.parameters["std_all"],
                               atol=1e-6)
    np.testing.assert_allclose(changed.fit_indices["chisq"], original.fit_indices["chisq"],
                               rtol=1e-7)
