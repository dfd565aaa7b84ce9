"""Report sections appear exactly when the data has the items."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import pandas as pd
import pytest

from acsi_sem.errors import DataError
from acsi_sem.loyalty import loyalty_sections
from tests.conftest import ROOT


def test_every_section_from_the_loyalty_survey() -> None:
    survey = pd.read_csv(ROOT / "data" / "loyalty_survey.csv")
    sections = loyalty_sections(survey, recommend="RECOMMEND", attitude="SAT1",
                                patronage="REPURCHASE", satisfaction="SAT1", loyalty="LOY1",
                                performance="PERFORM", expectation="EXPECT", group="market",
                                replicates=100, seed=1)
    assert [s.key for s in sections] == ["nps", "loyalty_matrix",
                                         "satisfaction_loyalty_curve", "satisfaction_ratio"]
    nps = sections[0]
    assert list(nps.tables["nps"].index) == ["high competition", "low competition"]
    assert set(nps.figures) == {"nps"} and nps.text
    assert sections[1].tables["segments"]["count"].sum() == 600


def test_sections_only_for_the_items_present() -> None:
    kano = pd.read_csv(ROOT / "data" / "kano_survey.csv")
    assert [s.key for s in loyalty_sections(kano)] == ["kano"]
    assert loyalty_sections(pd.DataFrame({"SAT1": [1, 2]})) == []
    # Half a pair of variables gives no section; a named but absent column is an error.
    assert loyalty_sections(pd.DataFrame({"SAT1": [1, 2]}), attitude="SAT1") == []
    with pytest.raises(DataError, match="no column 'R'"):
        loyalty_sections(pd.DataFrame({"SAT1": [1, 2]}), recommend="R")


def test_sections_of_the_computed_instruments() -> None:
    from acsi_sem.loyalty import (
        loyalty_diamond,
        loyalty_ladder,
        loyalty_metrics,
        loyalty_types,
        retention_rates,
    )
    from acsi_sem.loyalty.sections import (
        diamond_section,
        ladder_section,
        metrics_section,
        types_section,
    )

    panel = pd.read_csv(ROOT / "data" / "loyalty_panel.csv")
    diamond = diamond_section(loyalty_diamond(panel, "BRANDS", "INVOLVEMENT", share="SHARE"))
    assert diamond.tables["quadrants"]["count"].sum() == len(panel)
    assert "or a share of category spend of at least 0.5" in diamond.text
    types = types_section(loyalty_types(panel, "ATTACHMENT", "PURCHASES",
                                        "PRICE_SENSITIVITY", "SWITCHING_COST", "REWARDS"))
    assert len(types.tables["types"]) == 8 and set(types.figures) == {"loyalty_types"}
    ladder = ladder_section(loyalty_ladder(panel, "PURCHASES", "ATTITUDE", "RECOMMEND",
                                           attitude_cut=7))
    assert list(ladder.tables) == ["rungs"]
    metrics = loyalty_metrics(panel, complained="COMPLAINED", replicates=50, seed=1)
    retention = retention_rates(panel, "id", "wave", "PURCHASES", replicates=50, seed=1)
    both = metrics_section(metrics, retention)
    assert list(both.tables) == ["metrics", "retention"] and set(both.figures) == {
        "loyalty_metrics"}
    assert metrics_section(retention=retention).figures == {}
    with pytest.raises(DataError, match="needs a metrics table, a retention table or both"):
        metrics_section()
