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
