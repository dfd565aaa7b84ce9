"""The parameter table gets lavaan sem()'s default parameters."""

from __future__ import annotations

from acsi_sem.model.spec import parse_model


def keyed(text: str) -> dict[tuple[str, str, str], dict]:
    table = parse_model(text).table
    return {(r.lhs, r.op, r.rhs): r._asdict() for r in table.itertuples()}


def test_defaults_match_lavaan_partable() -> None:
    # lavaan 0.6.14 parTable() of this model: 21 free parameters; the covariate x9 gets a
    # fixed.x variance; textual, x7 and x8 covary (auto.cov.y); visual is alone (no cov).
    text = """visual =~ x1 + x2 + x3
textual =~ x4 + x5 + x6
textual ~ visual
x7 ~ visual
x8 ~ visual + x9"""
    table = keyed(text)
    spec = parse_model(text)
    assert spec.n_free == 21
    assert table[("visual", "=~", "x1")]["free"] == 0
    assert table[("visual", "=~", "x1")]["ustart"] == 1
    assert table[("x9", "~~", "x9")]["exo"] == 1
    assert table[("x9", "~~", "x9")]["free"] == 0
    for pair in [("textual", "~~", "x7"), ("textual", "~~", "x8"), ("x7", "~~", "x8")]:
        assert table[pair]["free"] > 0
    assert ("visual", "~~", "x9") not in table
    assert spec.latent == ("visual", "textual")


def test_single_indicator_fixes_residual_variance_and_labels_share_a_parameter() -> None:
    text = "f =~ x1 + a*x2 + x3\ng =~ y1\nh =~ z1 + a*z2 + z3\ng ~ f + h"
    table = keyed(text)
    assert table[("y1", "~~", "y1")]["free"] == 0
    assert table[("y1", "~~", "y1")]["ustart"] == 0
    assert table[("f", "=~", "x2")]["free"] == table[("h", "=~", "z2")]["free"]
    assert table[("f", "~~", "h")]["free"] > 0  # exogenous latent variables covary


def test_na_frees_the_first_loading_and_intercepts_follow_the_covariance_parameters() -> None:
    spec = parse_model("f =~ NA*x1 + x2 + x3\nf ~~ 1*f\nx1 ~ 1")
    table = keyed("f =~ NA*x1 + x2 + x3\nf ~~ 1*f\nx1 ~ 1")
    assert table[("f", "=~", "x1")]["free"] > 0
    assert table[("f", "~~", "f")]["free"] == 0
    intercepts = spec.table[spec.table["op"] == "~1"]
    assert set(intercepts["lhs"]) == {"x1", "x2", "x3", "f"}
    assert intercepts["free"].max() == spec.n_free
    assert spec.n_covariance_free == 6
