"""Mediation: specific indirect effects from the bootstrap's own draws, and Zhao, Lynch and
Chen's (2010) classification, by hand and on simulated data with a known answer."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import acsi_sem
from acsi_sem.cli.main import main
from acsi_sem.errors import AcsiSemError
from acsi_sem.statistics.mediation import _classify, directed_paths


@pytest.fixture(scope="module")
def ecsi():
    return acsi_sem.fit("ecsi", estimator="pls", bootstrap=200, seed=4)


def test_directed_paths_by_hand() -> None:
    edges = [("X", "M"), ("M", "Y"), ("X", "Y"), ("M", "N"), ("N", "Y")]
    assert sorted(directed_paths(edges)) == sorted([("X", "M", "Y"), ("X", "M", "N", "Y"),
                                                    ("X", "M", "N"), ("M", "N", "Y")])
    with pytest.raises(AcsiSemError, match="loop"):
        directed_paths([("A", "B"), ("B", "A")])


def test_specific_effects_are_products_of_the_paths_and_add_up(ecsi) -> None:
    table = ecsi.mediation()
    paths = ecsi.parameters[ecsi.parameters["op"] == "~"].set_index(["lhs", "rhs"])["est"]
    row = table[table["path"] == "Image -> Satisfaction -> Loyalty"].iloc[0]
    assert row["estimate"] == pytest.approx(paths[("Satisfaction", "Image")]
                                            * paths[("Loyalty", "Satisfaction")])
    # Its interval is the percentile interval of the product of the two paths' draws.
    boot = ecsi.bootstrap
    column = {name: i for i, name in enumerate(boot.names)}
    product = (boot.draws[:, column["Satisfaction ~ Image"]]
               * boot.draws[:, column["Loyalty ~ Satisfaction"]])
    assert row["ci_lower"] == pytest.approx(np.quantile(product, 0.025))
    assert row["se"] == pytest.approx(product.std(ddof=1))
    # Specific effects sum to the total indirect effect, which is the effects table's.
    effects = ecsi.effects.set_index(["rhs", "lhs"])
    for (cause, outcome), rows in table.groupby(["cause", "outcome"]):
        specific = rows.loc[rows["type"] == "specific indirect", "estimate"].sum()
        total_indirect = rows.loc[rows["type"] == "total indirect", "estimate"].iloc[0]
        total = rows.loc[rows["type"] == "total", "estimate"].iloc[0]
        assert specific == pytest.approx(total_indirect, abs=1e-12)
        assert total_indirect == pytest.approx(effects.loc[(cause, outcome), "indirect"])
        assert total == pytest.approx(effects.loc[(cause, outcome), "total"])


def test_bca_intervals_use_the_products_jackknife() -> None:
    result = acsi_sem.fit("ecsi", estimator="pls", bootstrap=200, seed=4, ci="bca")
    table = result.mediation()
    assert table["ci_lower"].notna().sum() > 40
    percentile = acsi_sem.fit("ecsi", estimator="pls", bootstrap=200, seed=4).mediation()
    assert not np.allclose(table["ci_lower"], percentile["ci_lower"], equal_nan=True)


def test_classification_by_hand() -> None:
    rows = []
    # (indirect estimate, indirect CI, direct estimate, direct CI, expected type)
    cases = [(0.2, (0.1, 0.3), 0.3, (0.2, 0.4), "complementary"),
             (0.2, (0.1, 0.3), -0.3, (-0.4, -0.2), "competitive"),
             (0.2, (0.1, 0.3), 0.05, (-0.1, 0.2), "indirect-only"),
             (0.02, (-0.1, 0.1), 0.3, (0.2, 0.4), "direct-only"),
             (0.02, (-0.1, 0.1), 0.05, (-0.1, 0.2), "no effect")]
    for i, (indirect, (il, iu), direct, (dl, du), _) in enumerate(cases):
        rows += [dict(cause=f"X{i}", outcome="Y", type="specific indirect", estimate=indirect,
                      ci_lower=il, ci_upper=iu),
                 dict(cause=f"X{i}", outcome="Y", type="direct", estimate=direct,
                      ci_lower=dl, ci_upper=du)]
    table = _classify(pd.DataFrame(rows))
    found = table.loc[table["type"] == "specific indirect", "mediation"].tolist()
    assert found == [case[-1] for case in cases]


def simulated(indirect: bool, direct: bool, n: int = 400, seed: int = 3) -> pd.DataFrame:
    """X -> M -> Y with three items each; the a*b path and the direct path on or off."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    m = (0.6 if indirect else 0.0) * x + rng.normal(size=n)
    y = (0.5 if indirect else 0.0) * m + (0.4 if direct else 0.0) * x + rng.normal(size=n)
    items = {f"{name}{k}": value + rng.normal(scale=0.5, size=n)
             for name, value in (("x", x), ("m", m), ("y", y)) for k in (1, 2, 3)}
    return pd.DataFrame(items)


@pytest.mark.parametrize(("indirect", "direct", "expected"), [
    (True, False, "indirect-only"), (True, True, "complementary"),
    (False, True, "direct-only"), (False, False, "no effect")])
def test_known_mediation_is_recovered(indirect, direct, expected) -> None:
    model = "X =~ x1 + x2 + x3\nM =~ m1 + m2 + m3\nY =~ y1 + y2 + y3\nM ~ X\nY ~ M + X"
    for estimator in ("pls", "ml"):
        result = acsi_sem.fit(model, simulated(indirect, direct), estimator=estimator,
                              bootstrap=300, seed=1)
        row = result.mediation().query("type == 'specific indirect'").iloc[0]
        assert row["path"] == "X -> M -> Y"
        assert row["mediation"] == expected, estimator


def test_mistakes_are_named(ecsi) -> None:
    with pytest.raises(AcsiSemError, match="needs bootstrap intervals"):
        acsi_sem.fit("ecsi", estimator="pls").mediation()
    no_mediator = "A =~ CUSA1 + CUSA2\nB =~ CUSL1 + CUSL2\nB ~ A"
    with pytest.raises(AcsiSemError, match="no indirect effect"):
        acsi_sem.fit(no_mediator, "data/mobi.csv", estimator="pls", bootstrap=20,
                     seed=1).mediation()


def test_command_prints_and_writes_the_table(tmp_path, capsys) -> None:
    target = tmp_path / "out.json"
    assert main(["fit", "ecsi", "--estimator", "pls", "--bootstrap", "100", "--seed", "2",
                 "--mediation", "--json", str(target)]) == 0
    assert "Mediation (bootstrap intervals" in capsys.readouterr().out
    rows = json.loads(target.read_text())["mediation"]
    assert {row["mediation"] for row in rows} >= {"complementary", "indirect-only"}
    expected = acsi_sem.fit("ecsi", estimator="pls", bootstrap=100, seed=2).mediation()
    assert [row["path"] for row in rows] == expected["path"].tolist()
