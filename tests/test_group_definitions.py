"""Defined parameters over per-group labels: a multi-group mediation as lavaan fits it
(``c(a1, a2)`` labels, one indirect effect per group and their difference)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import acsi_sem
from acsi_sem.errors import ModelSyntaxError
from tests.conftest import FIXTURES, SCHOOLS, assert_matches_lavaan

MODEL = FIXTURES / "models" / "hs_group_mediation.lav"
DATA = FIXTURES / "data"
# make_group_mediation_fixtures.R: case -> (data file, options)
CASES = {
    "hs_group_mediation": ("holzinger1939.csv", {}),
    "hs_group_mediation_mlr": ("holzinger1939.csv", {"estimator": "mlr"}),
    "hs_group_mediation_fiml": ("holzinger1939_missing.csv", {"missing": "fiml"}),
}
DEFINED = ["indirect_pasteur", "indirect_grant", "difference", "total_pasteur"]


@pytest.mark.parametrize("case", list(CASES))
def test_definitions_over_each_groups_labels_match_lavaan(case: str) -> None:
    """Estimates, delta-method SEs (the sandwich's under MLR) and standardized values of
    every row, the := rows included, within 1e-4 of lavaan 0.6.14."""
    data, options = CASES[case]
    result = acsi_sem.fit(MODEL, DATA / data, group="school", **options)
    defined = result.parameters.query("op == ':='")
    assert defined["lhs"].tolist() == DEFINED and (defined["group"] == "").all()
    assert_matches_lavaan(result, case, rel=1e-4, groups={0: "", **SCHOOLS},
                          fit_names=("chisq", "df", "cfi", "rmsea"), fit_rel=1e-5)


def test_a_groups_indirect_effect_is_its_own_paths_product() -> None:
    """indirect_grant is the Grant-White a2 * b2, not the first group's labels."""
    result = acsi_sem.fit(MODEL, DATA / "holzinger1939.csv", group="school")
    table = result.parameters.set_index(["group", "lhs", "op", "rhs"])["est"]
    product = (table[("Grant-White", "textual", "~", "visual")]
               * table[("Grant-White", "speed", "~", "textual")])
    assert table[("", "indirect_grant", ":=", "a2*b2")] == pytest.approx(product, rel=1e-12)
    assert table[("", "difference", ":=", "indirect_pasteur-indirect_grant")] == (
        pytest.approx(table[("", "indirect_pasteur", ":=", "a1*b1")] - product, rel=1e-12))


def test_the_group_bootstrap_draws_each_definition_from_its_groups_paths() -> None:
    """Every bootstrap draw of indirect_grant is the product of that draw's Grant-White
    paths (the batched refits and the table agree)."""
    result = acsi_sem.fit(MODEL, DATA / "holzinger1939.csv", group="school", bootstrap=8,
                          seed=11)
    boot = result.bootstrap
    names = list(boot.names)
    draws = pd.DataFrame(boot.draws, columns=names)
    product = (draws["textual ~ visual [Grant-White]"]
               * draws["speed ~ textual [Grant-White]"])
    np.testing.assert_allclose(draws["indirect_grant := a2*b2"], product, rtol=1e-10)
    row = result.parameters.query("lhs == 'indirect_grant'").iloc[0]
    assert row["se"] == pytest.approx(draws["indirect_grant := a2*b2"].std(ddof=1))


def test_a_definition_over_an_unknown_label_names_it() -> None:
    text = MODEL.read_text() + "odd := a3*b1\n"
    with pytest.raises(ModelSyntaxError, match=r"line 13, column 1: .*'odd' uses a3"):
        acsi_sem.fit(text, DATA / "holzinger1939.csv", group="school")


def test_mediation_with_groups_gives_each_groups_effects_from_its_draws() -> None:
    """result.mediation() with groups: per school, visual -> textual -> speed from that
    school's paths and draws; it equals the school's defined indirect effect and the
    effects table's indirect effect."""
    result = acsi_sem.fit(MODEL, DATA / "holzinger1939.csv", group="school", bootstrap=20,
                          seed=5)
    table = result.mediation()
    assert list(table.columns[:4]) == ["group", "cause", "outcome", "type"]
    assert table["group"].unique().tolist() == ["Pasteur", "Grant-White"]
    defined = result.parameters.set_index("lhs")["est"]
    draws = pd.DataFrame(result.bootstrap.draws, columns=list(result.bootstrap.names))
    effects = result.effects.set_index(["group", "lhs", "rhs"])["indirect"]
    for school, name in (("Pasteur", "indirect_pasteur"), ("Grant-White", "indirect_grant")):
        row = table.query("group == @school and path == 'visual -> textual -> speed'").iloc[0]
        assert row["estimate"] == pytest.approx(defined[name], rel=1e-10)
        assert row["estimate"] == pytest.approx(effects[(school, "speed", "visual")])
        product = (draws[f"textual ~ visual [{school}]"]
                   * draws[f"speed ~ textual [{school}]"])
        assert row["se"] == pytest.approx(product.std(ddof=1), rel=1e-10)
        assert row["ci_lower"] == pytest.approx(np.quantile(product, 0.025), rel=1e-10)


def test_the_standardized_solution_of_group_definitions_matches_lavaan() -> None:
    """standardizedSolution(): each := row from its labels' standardized values, its SE by
    the delta method over both groups' parameters (make_group_mediation_fixtures.R)."""
    result = acsi_sem.fit(MODEL, DATA / "holzinger1939.csv", group="school")
    ours = result.standardized_solution("std_all")
    theirs = pd.read_csv(FIXTURES / "lavaan" / "std_hs_group_mediation_std_all.csv",
                         keep_default_na=False, na_values=["NA"])
    theirs["group"] = theirs["group"].map({0: "", **SCHOOLS})
    merged = theirs.merge(ours, on=["lhs", "op", "rhs", "group"], validate="one_to_one")
    assert len(merged) == len(theirs)
    np.testing.assert_allclose(merged["est_std"], merged["est.std"], rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(merged["se_y"], merged["se_x"], rtol=1e-4, atol=1e-6)
    defined = merged[merged["op"] == ":="]
    assert len(defined) == 4 and defined["se_y"].gt(0.05).all()
