"""Property-based fuzzing: odd data, odd models and odd arguments through the public paths.

The only exceptions allowed are the package's own (:class:`acsi_sem.errors.AcsiSemError`);
a command that fails writes no output file. Examples per property: ``ACSI_FUZZ_EXAMPLES``
(default 40, a few hundred over the file); set it higher for a longer hunt.
"""

from __future__ import annotations

import json
import os
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import acsi_sem
from acsi_sem.cli.main import main
from acsi_sem.errors import AcsiSemError
from tests.conftest import ROOT

EXAMPLES = int(os.environ.get("ACSI_FUZZ_EXAMPLES", "40"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
ITEMS = ["a1", "a2", "a3", "b1", "b2", "b3"]
MODEL = "A =~ a1 + a2 + a3\nB =~ b1 + b2 + b3\nB ~ A"
ESTIMATORS = ["ml", "mlr", "pls", "plsc", "wlsmv"]
MOBI = pd.read_csv(ROOT / "data" / "mobi.csv")


def _column(kind: str, n: int, rng: np.random.Generator, base: np.ndarray) -> list:
    """One column of a kind real exports contain."""
    likert = np.clip(np.round(5 + 2 * base + rng.normal(size=n)), 1, 10)
    makers = {
        "likert": lambda: likert,
        "constant": lambda: np.full(n, 7.0),
        "copy": lambda: base.copy(),
        "huge": lambda: likert * 1e12,
        "tiny": lambda: likert * 1e-12,
        "missing": lambda: np.where(rng.random(n) < 0.3, np.nan, likert),
        "all_missing": lambda: np.full(n, np.nan),
        "text": lambda: np.where(rng.random(n) < 0.1, "n/a", likert.astype(str)),
        "binary": lambda: (likert > 5).astype(float),
        "infinite": lambda: np.where(rng.random(n) < 0.05, np.inf, likert),
    }
    return list(makers[kind]())


@st.composite
def survey_frames(draw) -> pd.DataFrame:
    """Six items of mixed kinds, 0 to 60 rows, occasionally a column missing."""
    n = draw(st.sampled_from([0, 1, 2, 3, 5, 8, 20, 60]))
    seed = draw(st.integers(0, 2 ** 16))
    rng = np.random.default_rng(seed)
    base = rng.normal(size=n)
    kinds = draw(st.lists(st.sampled_from(
        ["likert"] * 6 + ["constant", "copy", "huge", "tiny", "missing", "all_missing", "text",
                          "binary", "infinite"]), min_size=6, max_size=6))
    frame = pd.DataFrame({name: _column(kind, n, rng, base)
                          for name, kind in zip(ITEMS, kinds, strict=True)})
    if draw(st.booleans()) and draw(st.booleans()):
        frame = frame.drop(columns=draw(st.sampled_from(ITEMS)))
    return frame


def fit_quietly(*arguments, **options):
    """Fit with the package's errors allowed; anything else fails the property."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return acsi_sem.fit(*arguments, **options)
        except AcsiSemError:
            return None


@pytest.mark.parametrize("estimator", ESTIMATORS)
@FUZZ
@given(frame=survey_frames())
def test_odd_data_give_a_result_or_a_package_error(estimator: str, frame: pd.DataFrame) -> None:
    result = fit_quietly(MODEL, frame, estimator=estimator)
    if result is not None:
        json.loads(result.to_json())  # never fails on a number
        str(result.summary())


STATEMENT = st.sampled_from([
    "A =~ a1 + a2 + a3", "B =~ b1 + b2 + b3", "B ~ A", "A ~ B", "a1 ~~ a2", "A =~ b1",
    "B ~ c*A", "c == 0.5", "ind := c * 2", "A ~~ 1*A", "a1 ~ 1", "A <~ a1 + a2", "B ~ A + A",
    "A =~ a1 +", "=~ a1", "A =~ zz", "A ~ A", "B =~ NA*b1 + b2", "# comment", "",
    "A =~ a1 + a2 + a3 + b1 + b2 + b3", "B ~~ 0*A", "A:B", "A =~ 0*a1 + a2",
])


@pytest.mark.parametrize("estimator", ["ml", "pls"])
@FUZZ
@given(statements=st.lists(STATEMENT, min_size=1, max_size=6))
def test_odd_models_give_a_result_or_a_package_error(estimator: str,
                                                     statements: list[str]) -> None:
    data = MOBI.iloc[:, :6].set_axis(ITEMS, axis=1)
    result = fit_quietly("\n".join(statements), data, estimator=estimator)
    if result is not None:
        json.loads(result.to_json())


ARGUMENT = st.sampled_from([
    "--estimator", "pls", "ml", "wlsmv", "bogus", "--bootstrap", "-5", "0", "3", "x",
    "--seed", "--scale", "1-10", "10-1", "abc", "--group", "CUEX1", "nope", "--missing", "fiml",
    "--weights", "CUSA1", "--ci", "bca", "--json", "--data", "missing.csv", "--modindices",
])


@pytest.mark.parametrize("command", ["fit", "report", "study", "nps", "loyalty", "kano",
                                     "simulate", "power", "models"])
@settings(max_examples=max(EXAMPLES // 2, 10), deadline=None, derandomize=True)
@given(extra=st.lists(ARGUMENT, max_size=5))
def test_odd_arguments_give_an_exit_code_and_write_nothing_on_failure(
        tmp_path_factory, command: str, extra: list[str]) -> None:
    folder = tmp_path_factory.mktemp("fuzz")
    target = folder / "out.json"
    arguments = [command, "ecsi", *extra, "--json", str(target)]
    if command != "models":
        arguments += ["--out", str(folder / "report")] if command == "report" else []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            code = main(arguments)
        except SystemExit as exit_:  # argparse's usage errors
            code = exit_.code
    assert code in (0, 1, 2)
    if code != 0:
        assert not target.exists()
        assert not (folder / "report").exists() or not any((folder / "report").iterdir())


@FUZZ
@given(data=st.data())
def test_odd_study_designs_give_a_result_or_a_package_error(data) -> None:
    n_companies = data.draw(st.integers(1, 4))
    per_company = data.draw(st.sampled_from([1, 2, 5, 30]))
    waves = data.draw(st.sampled_from([None, 1, 2]))
    frame = MOBI.iloc[: n_companies * per_company].copy()
    frame["company"] = np.repeat([f"C{i}" for i in range(n_companies)], per_company)
    if waves:
        frame["wave"] = np.tile(np.arange(waves), len(frame))[: len(frame)]
    weights = data.draw(st.sampled_from([None, "ones", "zeros", "negative"]))
    if weights:
        frame["w"] = {"ones": 1.0, "zeros": 0.0, "negative": -1.0}[weights]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            result = acsi_sem.study("ecsi", frame, company="company",
                                    wave="wave" if waves else None,
                                    weights="w" if weights else None,
                                    bootstrap=data.draw(st.sampled_from([0, 5])), seed=1)
        except AcsiSemError:
            return
    json.loads(result.to_json())
