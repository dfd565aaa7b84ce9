"""Modelled mean structures against lavaan 0.6.14 (tests/fixtures/lavaan/
make_growth_fixtures.R): latent growth models (lavaan's growth() on Demo.growth), with
fixed.x covariates, under MLR, and free factor means beside fixed marker intercepts."""

from __future__ import annotations

import json
from functools import cache

import numpy as np
import pytest

import acsi_sem
from acsi_sem.cli.main import main
from acsi_sem.errors import AcsiSemError, ModelSyntaxError
from acsi_sem.model.spec import parse_model
from tests.conftest import (
    ROOT,
    assert_close,
    assert_matches_lavaan,
    match_rows,
)

MODELS = ROOT / "tests" / "fixtures" / "models"
DATA = ROOT / "tests" / "fixtures" / "data"
GROWTH = DATA / "demo_growth.csv"
CASES = {
    "growth_linear": ("growth_linear", GROWTH, {}),
    "growth_linear_mlr": ("growth_linear", GROWTH, {"estimator": "mlr"}),
    "growth_conditional": ("growth_conditional", GROWTH, {}),
    "hs_latent_means": ("hs_latent_means", DATA / "holzinger1939.csv", {}),
}
FIT = ["npar", "chisq", "df", "pvalue", "baseline_chisq", "baseline_df", "cfi", "tli", "nfi",
       "rmsea", "rmsea_ci_lower", "rmsea_ci_upper", "srmr", "aic", "bic", "bic2", "loglik",
       "unrestricted_loglik", "gfi", "agfi"]
ROBUST_FIT = ["chisq_scaled", "scaling_factor", "baseline_chisq_scaled", "cfi_scaled",
              "tli_scaled", "rmsea_scaled", "cfi_robust", "tli_robust", "rmsea_robust"]
LINEAR_TEXT = "i =~ 1*t1 + 1*t2 + 1*t3 + 1*t4\ns =~ 0*t1 + 1*t2 + 2*t3 + 3*t4\n"


@cache
def fitted(case: str) -> acsi_sem.FitResult:
    model, data, options = CASES[case]
    return acsi_sem.fit(MODELS / f"{model}.lav", data, **options)


@pytest.mark.parametrize("case", list(CASES))
def test_estimates_and_fit_equal_lavaan(case: str) -> None:
    result = fitted(case)
    assert result.converged and not result.warnings, result.warnings
    names = FIT + (ROBUST_FIT if case.endswith("_mlr") else [])
    assert_matches_lavaan(result, case, rel=1e-5, fit_names=names,
                          columns=("est", "se", "z", "std_lv", "std_all"))


def test_kind_growth_gives_the_growth_defaults_to_any_model_text() -> None:
    by_argument = acsi_sem.fit(LINEAR_TEXT, GROWTH, kind="growth")
    merged = match_rows(by_argument.parameters, fitted("growth_linear").parameters)
    assert_close(merged["est"], merged["est_lavaan"], rel=1e-9, absolute=1e-12)
    means = by_argument.parameters.set_index(["lhs", "op"])["est"]
    assert means[("t1", "~1")] == 0.0 and means[("i", "~1")] == pytest.approx(0.6147, abs=1e-4)
    # As plain sem() the same text has saturated means: the factor means stay at 0.
    plain = acsi_sem.fit(LINEAR_TEXT, GROWTH).parameters
    assert not (plain["op"] == "~1").any()
    assert fitted("growth_linear").fit_indices["df"] == 5


def test_the_cli_takes_the_kind(capsys, tmp_path) -> None:
    plain = tmp_path / "linear.lav"
    plain.write_text(LINEAR_TEXT)
    target = tmp_path / "fit.json"
    assert main(["fit", str(plain), "--data", str(GROWTH), "--kind", "growth", "--json",
                 str(target)]) == 0
    document = json.loads(target.read_text())
    assert document["fit"]["df"] == 5
    means = {row["lhs"]: row["est"] for row in document["parameters"] if row["op"] == "~1"}
    assert means["s"] == pytest.approx(1.0063, abs=1e-4) and means["t2"] == 0


def test_the_growth_summary_shows_the_factor_means(capsys) -> None:
    main(["fit", str(MODELS / "growth_linear.lav"), "--data", str(GROWTH)])
    printed = capsys.readouterr().out
    intercepts = printed[printed.index("Intercepts:"):]
    assert "1.006" in intercepts and "0.615" in intercepts


def test_intercept_modifiers_fix_label_and_free() -> None:
    spec = parse_model("f =~ x1 + x2 + x3\nf ~ NA*1\nx1 ~ 0*1\nx2 ~ a*1\nx3 ~ start(2)*1")
    rows = spec.table[spec.table["op"] == "~1"].set_index("lhs")
    assert rows.at["x1", "free"] == 0 and rows.at["x1", "ustart"] == 0
    assert rows.at["x2", "label"] == "a" and rows.at["x3", "start"] == 2
    assert rows.at["f", "free"] > 0
    assert spec.has_modelled_means


def test_an_unidentified_latent_mean_is_refused_naming_its_line() -> None:
    text = "visual =~ x1 + x2 + x3\nvisual ~ 1\nx1 + x2 + x3 ~ 1\n"
    with pytest.raises(ModelSyntaxError, match=r"line 2.*not identified.*x1 ~ 0\*1"):
        acsi_sem.fit(text, DATA / "holzinger1939.csv")


@pytest.mark.parametrize("estimator", ["pls", "wlsmv"])
def test_estimators_with_saturated_means_refuse_modelled_ones(estimator: str) -> None:
    with pytest.raises(ModelSyntaxError, match=r"latent means .* not by"):
        acsi_sem.fit(MODELS / "hs_latent_means.lav", DATA / "holzinger1939.csv",
                     estimator=estimator)


def test_an_unknown_kind_is_an_error() -> None:
    with pytest.raises(AcsiSemError, match="unknown kind 'lgm'"):
        acsi_sem.fit(LINEAR_TEXT, GROWTH, kind="lgm")


def test_the_bootstrap_resamples_the_factor_means() -> None:
    result = acsi_sem.fit(MODELS / "growth_linear.lav", GROWTH, bootstrap=30, seed=4)
    boot = result.bootstrap
    slope = boot.draws[:, list(boot.names).index("s ~1")]
    assert slope.std() > 0.01
    assert abs(slope.mean() - 1.006) < 3 * 0.042  # within sampling error of the ML estimate
    means = result.parameters[result.parameters["op"] == "~1"].set_index("lhs")
    assert means.at["s", "se"] == pytest.approx(slope.std(ddof=1))
    assert np.isfinite(means.at["i", "ci_lower"]) and means.at["t1", "se"] == 0


def test_free_factor_means_across_groups_equal_the_configural_model() -> None:
    # Marker intercepts at 0 with free factor means only reparametrize the configural model.
    hs = DATA / "holzinger1939.csv"
    means = acsi_sem.fit(MODELS / "hs_latent_means.lav", hs, group="school")
    configural = acsi_sem.fit(MODELS / "hs_cfa.lav", hs, group="school")
    assert means.converged
    assert means.fit_indices["chisq"] == pytest.approx(configural.fit_indices["chisq"],
                                                       rel=1e-7)
    assert means.fit_indices["df"] == configural.fit_indices["df"]


def test_what_modelled_means_do_not_take_yet_is_refused() -> None:
    # (Sampling weights with modelled means work: tests/test_weighted_groups.py.)
    from acsi_sem.simulation.simulate import population_from_model

    with pytest.raises(AcsiSemError, match="growth model's population"):
        population_from_model(MODELS / "growth_linear.lav", GROWTH)
