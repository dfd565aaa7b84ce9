"""Constraints ``==``, ``<`` and ``>`` between labels against lavaan 0.6.14
(tests/fixtures/lavaan/make_constraint_fixtures.R and the poldem_constraints case of
make_fixtures.R, which test_cbsem_lavaan.py checks to 1e-3 with the plain ML cases).

lavaan meets nonlinear constraints and binding inequalities with nlminb.constr, an augmented
Lagrangian that stops about 1e-5 (relative) short of the optimum acsi-sem reaches to a
gradient of 1e-9 along the constraints; the estimates are compared to 3e-4 for that reason,
the fit indices, which are flat at the optimum, to 2e-5.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pandas as pd
import pytest

import acsi_sem
from acsi_sem.cli.main import main
from acsi_sem.errors import AcsiSemError, ModelSyntaxError
from tests.conftest import (
    LAVAAN,
    ROOT,
    assert_close,
    assert_fiml_robust_indices_close,
    assert_matches_lavaan,
    lavaan_fit,
    match_rows,
)

MODELS = ROOT / "tests" / "fixtures" / "models"
DATA = ROOT / "tests" / "fixtures" / "data"
HS = DATA / "holzinger1939.csv"
CASES = {
    "poldem_nonlinear": ("poldem_nonlinear", DATA / "political_democracy.csv", {}),
    "hs_constraints": ("hs_constraints", HS, {}),
    "hs_constraints_mlr": ("hs_constraints", HS, {"estimator": "mlr"}),
    "hs_constraints_fiml": ("hs_constraints", DATA / "holzinger1939_missing.csv",
                            {"missing": "fiml"}),
    "hs_constraints_groups": ("hs_constraints", HS, {"group": "school"}),
    "hs_group_labels": ("hs_group_labels", HS, {"group": "school"}),
    # A shared label and an '==' together: from lavaan's simple start values the
    # constrained fit ran off to a Heywood case (chi-square 0, not converged).
    "hs_cfa_equal": ("hs_cfa_equal", HS, {}),
}
FIT = ["npar", "chisq", "df", "pvalue", "baseline_chisq", "cfi", "tli", "rmsea",
       "rmsea_ci_lower", "rmsea_ci_upper", "srmr", "aic", "bic", "loglik"]
ROBUST_FIT = ["chisq_scaled", "scaling_factor", "cfi_scaled", "rmsea_scaled", "cfi_robust",
              "rmsea_robust"]


@cache
def fitted(case: str) -> acsi_sem.FitResult:
    model, data, options = CASES[case]
    return acsi_sem.fit(MODELS / f"{model}.lav", data, **options)


@pytest.mark.parametrize("case", list(CASES))
def test_estimates_and_fit_equal_lavaan(case: str) -> None:
    result = fitted(case)
    assert result.converged, result.warnings
    names = FIT + (ROBUST_FIT if case.endswith("_mlr") else [])
    assert_matches_lavaan(result, case, rel=3e-4, fit_names=names, fit_rel=2e-5)
    if case.endswith("_fiml"):  # the binding bound fixes a direction of the correction
        assert_fiml_robust_indices_close(result.fit_indices, lavaan_fit(case))


def test_each_equality_adds_a_degree_of_freedom_and_an_inequality_none() -> None:
    free = acsi_sem.fit(MODELS / "hs_cfa.lav", HS).fit_indices
    constrained = fitted("hs_constraints").fit_indices
    # Two equalities (a + b == 1.2, c == d); the binding bound on a variance adds nothing.
    assert constrained["df"] == free["df"] + 2
    assert constrained["npar"] == free["npar"] - 2
    assert constrained["chisq"] > free["chisq"]


def test_constraints_hold_and_report_which_bind() -> None:
    table = fitted("hs_constraints").constraints
    assert list(table["lhs"] + " " + table["op"] + " " + table["rhs"]) == [
        "a+b == 1.2", "c == d", "v < 0.7"]
    assert_close(table["lhs_value"], table["rhs_value"], rel=0, absolute=1e-9)
    assert table["binding"].tolist() == [True, True, True]
    nonlinear = fitted("poldem_nonlinear").constraints.set_index("lhs")
    assert nonlinear.at["a1*a2", "lhs_value"] == pytest.approx(1.6, abs=1e-9)
    assert not nonlinear.at["ratio", "binding"]  # ratio > 0.5 holds with room to spare
    assert nonlinear.at["ratio", "lhs_value"] > 0.5


def test_a_binding_inequality_gives_the_estimates_of_the_equality() -> None:
    text = (MODELS / "hs_constraints.lav").read_text()
    as_equality = acsi_sem.fit(text.replace("v < 0.7", "v == 0.7"), HS)
    merged = match_rows(fitted("hs_constraints").parameters, as_equality.parameters)
    assert_close(merged["est"], merged["est_lavaan"], rel=1e-7, absolute=1e-9)
    assert_close(merged["se"], merged["se_lavaan"], rel=1e-6, absolute=1e-9)
    assert as_equality.fit_indices["df"] == fitted("hs_constraints").fit_indices["df"] + 1


def test_an_inequality_that_holds_changes_nothing() -> None:
    text = (MODELS / "hs_cfa.lav").read_text().replace("x2", "a*x2") + "\na > 0\n"
    bounded, free = acsi_sem.fit(text, HS), acsi_sem.fit(MODELS / "hs_cfa.lav", HS)
    assert_close(bounded.parameters["est"], free.parameters["est"], rel=1e-7, absolute=1e-9)
    assert_close(bounded.parameters["se"], free.parameters["se"], rel=1e-6, absolute=1e-9)
    assert bounded.fit_indices["df"] == free.fit_indices["df"]
    assert not bounded.constraints["binding"].any()


def test_modification_indices_under_constraints_equal_lavaan() -> None:
    ours = fitted("hs_constraints").modification_indices(sort=False)
    theirs = pd.read_csv(LAVAAN / "hs_constraints_modindices.csv")
    # With the factor variance fixed by its bound, freeing x1's marker loading is identified.
    keys = ["lhs", "op", "rhs"]
    assert ours[keys].to_numpy().tolist() == theirs[keys].to_numpy().tolist()
    assert ("visual", "=~", "x1") in set(zip(ours["lhs"], ours["op"], ours["rhs"], strict=True))
    assert_close(ours["mi"], theirs["mi"], rel=1e-3, absolute=5e-5, what="mi")
    assert_close(ours["epc"], theirs["epc"], rel=1e-3, absolute=5e-5, what="epc")


def test_every_bootstrap_replicate_meets_the_constraints() -> None:
    result = acsi_sem.fit(MODELS / "hs_constraints.lav", HS, bootstrap=20, seed=3)
    boot = result.bootstrap
    column = {name: i for i, name in enumerate(boot.names)}
    a, b = (boot.draws[:, column[f"visual =~ {item}"]] for item in ("x2", "x3"))
    assert_close(a + b, np.full(len(a), 1.2), rel=0, absolute=1e-8)
    assert (boot.draws[:, column["visual ~~ visual"]] <= 0.7 + 1e-9).all()
    assert len(boot.draws) == 20


@pytest.mark.parametrize("estimator", ["pls", "wlsmv"])
def test_estimators_without_constraints_refuse_them(estimator: str) -> None:
    with pytest.raises(ModelSyntaxError, match=r"line 6.*'a\+b == 1.2'.*not by"):
        acsi_sem.fit(MODELS / "hs_constraints.lav", HS, estimator=estimator)


def test_the_summary_and_json_list_the_constraints(capsys, tmp_path) -> None:
    target = tmp_path / "fit.json"
    main(["fit", str(MODELS / "hs_constraints.lav"), "--data", str(HS), "--json", str(target)])
    printed = capsys.readouterr().out
    assert "Constraints:" in printed and "v < 0.7" in printed and "(binds)" in printed
    document = pd.read_json(target, typ="series")
    assert [row["binding"] for row in document["constraints"]] == [True, True, True]


def test_group_values_give_each_group_its_own_modifier() -> None:
    table = fitted("hs_group_labels").parameters.set_index(["group", "lhs", "op", "rhs"])
    # c(1, NA)*x8: fixed in the first school, free in the second.
    assert table.at[("Pasteur", "speed", "=~", "x8"), "est"] == 1.0
    assert table.at[("Grant-White", "speed", "=~", "x8"), "se"] > 0
    # c(a3, b3)*x3 with a3 == b3 + 0.05.
    a3, b3 = (table.at[(school, "visual", "=~", "x3"), "est"]
              for school in ("Pasteur", "Grant-White"))
    assert a3 - b3 == pytest.approx(0.05, abs=1e-9)


@pytest.mark.parametrize(("options", "words"), [
    ({}, "one value per group .* name the group column"),
    ({"group": "school", "estimator": "pls"}, "one value per group"),
])
def test_group_values_need_a_multi_group_cbsem_fit(options: dict, words: str) -> None:
    with pytest.raises(ModelSyntaxError, match=rf"line 2.*{words}"):
        acsi_sem.fit(MODELS / "hs_group_labels.lav", HS, **options)


def test_group_values_must_match_the_number_of_groups() -> None:
    text = "visual =~ x1 + c(a, b, c)*x2 + x3"
    with pytest.raises(ModelSyntaxError, match=r"3 values .* 2 groups"):
        acsi_sem.fit(text, HS, group="school")


def test_a_defined_parameter_over_two_groups_labels_follows_their_constraint() -> None:
    """a3 (Pasteur) and b3 (Grant-White) are tied by a3 == b3 + 0.05, so their difference
    is that constant, with no sampling variance."""
    text = (MODELS / "hs_group_labels.lav").read_text() + "d := a3 - b3\n"
    row = acsi_sem.fit(text, HS, group="school").parameters.query("lhs == 'd'").iloc[0]
    assert row["est"] == pytest.approx(0.05, abs=1e-7) and row["se"] < 1e-5


def test_the_power_study_refuses_constraints_it_would_ignore() -> None:
    from acsi_sem.model.spec import parse_model
    from acsi_sem.simulation.power import power_study
    from acsi_sem.simulation.simulate import population_from_model

    population = population_from_model(MODELS / "hs_cfa.lav", HS)
    spec = parse_model((MODELS / "hs_constraints.lav").read_text())
    with pytest.raises(AcsiSemError, match=r"without constraints; drop 'a\+b == 1.2'"):
        power_study(spec, population, [200], replications=4, seed=1)


def test_a_scale_set_by_a_constraint_identifies_the_factor() -> None:
    """visual =~ NA*x1 with visual ~~ v*visual and v == 1 (lavaan counts the constrained
    label as fixed; tests/fixtures/lavaan/make_scale_constraint_fixtures.R): it was refused
    as having no scale."""
    model = ROOT / "tests" / "fixtures" / "models" / "hs_scale_by_constraint.lav"
    result = acsi_sem.fit(model, ROOT / "tests" / "fixtures" / "data" / "holzinger1939.csv")
    assert result.converged
    assert_matches_lavaan(result, "hs_scale_by_constraint", rel=1e-4,
                          fit_names=["chisq", "df", "npar", "cfi", "rmsea"])
