"""Higher-order constructs in PLS: the two-stage approach against seminr 0.2.1
(tests/fixtures/seminr/make_higher_order_fixtures.py), repeated indicators by their
definition."""

from __future__ import annotations

from functools import cache

import numpy as np
import pandas as pd
import pytest

import acsi_sem
from acsi_sem.errors import AcsiSemError, ModelSyntaxError
from acsi_sem.model.spec import parse_model
from acsi_sem.numerics.pls import estimate_pls, pls_layout
from acsi_sem.resample import resampled_rows
from tests.conftest import FIXTURES, ROOT

SEMINR = FIXTURES / "seminr"
MODEL = (ROOT / "tests" / "fixtures" / "models" / "mobi_higher_order.lav").read_text()
FORMATIVE = MODEL.replace("Perception   =~ Quality", "Perception   <~ Quality")
MOBI = pd.read_csv(ROOT / "data" / "mobi.csv")
MODES = {"A": MODEL, "B": FORMATIVE}


def reference(mode: str, table: str) -> pd.DataFrame:
    return pd.read_csv(SEMINR / f"hoc_{mode}__{table}.csv")


@cache
def fitted(mode: str, method: str = "two_stage") -> acsi_sem.FitResult:
    return acsi_sem.fit(MODES[mode], MOBI, estimator="pls", higher_order=method, scale=(1, 10))


def rows(result: acsi_sem.FitResult, ops: tuple[str, ...]) -> pd.Series:
    table = result.parameters[result.parameters["op"].isin(ops)]
    return pd.Series(table["est"].to_numpy(),
                     index=pd.MultiIndex.from_frame(table[["lhs", "rhs"]]))


@pytest.mark.parametrize("mode", ["A", "B"])
def test_two_stage_paths_and_r2_equal_seminr(mode: str) -> None:
    theirs = reference(mode, "paths").set_index(["lhs", "rhs"])["est"]
    assert np.abs(rows(fitted(mode), ("~",))[theirs.index] - theirs).max() < 1e-10
    r2 = reference(mode, "r2").set_index("latent")["r2"]
    assert np.abs(fitted(mode).r2[r2.index] - r2).max() < 1e-10


@pytest.mark.parametrize("mode", ["A", "B"])
def test_two_stage_weights_and_loadings_equal_seminr(mode: str) -> None:
    result = fitted(mode)
    weights = reference(mode, "weights").set_index(["latent", "indicator"])["value"]
    ours = result.outer_weights.set_index(["latent", "indicator"])["weight"]
    stage_two = [key for key in weights.index if key in ours.index]
    assert ("Perception", "Quality") in stage_two and len(stage_two) == 16
    assert np.abs(ours[stage_two] - weights[stage_two]).max() < 1e-10
    # Stage 1's loadings of the lower-order items, and stage 2's of the reflective one.
    loadings = reference(mode, "loadings").set_index(["latent", "indicator"])["value"]
    ours = rows(result, ("=~",))
    assert np.abs(ours - loadings[ours.index]).max() < 1e-10
    assert ("Quality", "PERQ1") in ours.index
    if mode == "B":
        formative = rows(result, ("<~",))
        assert np.abs(formative - weights[formative.index]).max() < 1e-10


def test_a_two_stage_bootstrap_replicate_is_the_fit_of_its_resample() -> None:
    result = acsi_sem.fit(MODEL, MOBI, estimator="pls", bootstrap=2, seed=4)
    rows_drawn = next(resampled_rows(len(MOBI), 2, 4))
    refit = acsi_sem.fit(MODEL, MOBI.iloc[rows_drawn], estimator="pls")
    boot = result.bootstrap
    for (lhs, rhs), value in rows(refit, ("~",)).items():
        assert boot.draws[0, boot.names.index(f"{lhs} ~ {rhs}")] == pytest.approx(
            value, abs=1e-10)


def test_repeated_indicators_are_the_model_with_copied_items_written_out() -> None:
    # Written out by hand: Perception measured by copies of the nine items, with paths to
    # Quality and Value. The survey checks refuse identical columns, so estimate it from
    # the correlations directly.
    copies = [f"PERQ{i}" for i in range(1, 8)] + ["PERV1", "PERV2"]
    written = MODEL.replace("Perception   =~ Quality + Value", "Perception   =~ "
                            + " + ".join(f"{item}_copy" for item in copies))
    written += "\nQuality ~ Perception\nValue ~ Perception\n"
    layout = pls_layout(parse_model(written))
    data = MOBI.assign(**{f"{item}_copy": MOBI[item] for item in copies})
    solution = estimate_pls(np.corrcoef(data[list(layout.indicators)].to_numpy(),
                                        rowvar=False), layout)
    repeated = rows(fitted("A", "repeated_indicators"), ("~",))
    for (lhs, rhs), value in repeated.items():
        expected = solution.paths[layout.latent.index(lhs), layout.latent.index(rhs)]
        assert value == pytest.approx(expected, abs=1e-12)
    assert repeated[("Quality", "Perception")] > 0.9
    assert "Perception" in fitted("A", "repeated_indicators").index.index


def test_two_stage_higher_order_construct_has_no_index_and_a_note() -> None:
    result = acsi_sem.fit(MODEL, MOBI, estimator="pls", scale=(1, 10))
    assert "Perception" not in result.index.index and "Image" in result.index.index
    assert any("two-stage approach" in note for note in result.notes)
    assert result.model_fit is None


@pytest.mark.parametrize(("model", "message"), [
    (MODEL.replace("Quality + Value", "Quality + PERV1"), "both constructs"),
    (MODEL.replace("Quality + Value", "Quality"), "the one construct Quality"),
    (MODEL + "\nTop =~ Perception + Image", "third-order constructs are not supported"),
])
def test_misspecified_higher_order_constructs_are_named(model: str, message: str) -> None:
    with pytest.raises(ModelSyntaxError, match=message):
        acsi_sem.fit(model, MOBI, estimator="pls")


def test_higher_order_outside_plain_pls_is_refused() -> None:
    with pytest.raises(AcsiSemError, match="consistent PLS of them is not available"):
        acsi_sem.fit(MODEL, MOBI, estimator="plsc")
    with pytest.raises(AcsiSemError, match="unknown higher_order 'embedded'"):
        acsi_sem.fit(MODEL, MOBI, estimator="pls", higher_order="embedded")
    with pytest.raises(AcsiSemError, match="both interaction terms and higher-order"):
        acsi_sem.fit(MODEL.replace("Satisfaction ~ Image + Perception",
                                   "Satisfaction ~ Image + Perception + Image:Perception"),
                     MOBI, estimator="pls")


@pytest.mark.parametrize("analysis", ["predict", "blindfolding", "groups", "exact_fit"])
def test_analyses_not_defined_for_higher_order_models_say_so(analysis: str) -> None:
    from acsi_sem.estimators.pls_fit_test import exact_fit_test
    from acsi_sem.pls_groups import compare_groups
    from acsi_sem.prediction import blindfolding, pls_predict

    run = {"predict": lambda: pls_predict(MODEL, MOBI),
           "blindfolding": lambda: blindfolding(MODEL, MOBI),
           "groups": lambda: compare_groups(MODEL, MOBI.assign(g=np.arange(250) % 2),
                                            group="g"),
           "exact_fit": lambda: exact_fit_test(MODEL, MOBI)}[analysis]
    with pytest.raises(AcsiSemError, match="with higher-order constructs is not available"):
        run()


@pytest.mark.parametrize("method", ["two_stage", "repeated_indicators"])
def test_a_block_written_over_two_lines_gives_the_same_estimates(method: str) -> None:
    split = MODEL.replace("Image        =~ IMAG1 + IMAG2 + IMAG3 + IMAG4 + IMAG5",
                          "Image =~ IMAG1 + IMAG2\nImage =~ IMAG3 + IMAG4 + IMAG5")
    ours = rows(acsi_sem.fit(split, MOBI, estimator="pls", higher_order=method), ("~",))
    assert np.abs(ours - rows(fitted("A", method), ("~",))[ours.index]).max() < 1e-12
