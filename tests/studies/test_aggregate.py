"""Aggregation and change on an example small enough to work by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import acsi_sem

# One item per construct: each company's index is 100 (mean - 1) / 9 of its item.
SINGLE_ITEMS = """
Quality      =~ q
Satisfaction =~ s
Satisfaction ~ Quality
"""
# Satisfaction means per company and wave; every cell answers mean-1, mean, mean+1.
MEANS = {("A", "1"): 7, ("B", "1"): 4, ("C", "1"): 6, ("D", "1"): 8,
         ("A", "2"): 8, ("B", "2"): 5, ("C", "2"): 6, ("D", "2"): 5}
PLACE = {"A": ("X", "S1"), "B": ("X", "S1"), "C": ("Y", "S1"), "D": ("Z", "S2")}
REVENUE = {("A", "1"): 100, ("B", "1"): 300, ("C", "1"): 200, ("D", "1"): 400,
           ("A", "2"): 100, ("B", "2"): 100, ("C", "2"): 200, ("D", "2"): 400}
GDP = {"S1": 0.6, "S2": 0.4}


def index_of(mean: float) -> float:
    return 100 * (mean - 1) / 9


@pytest.fixture()
def survey() -> pd.DataFrame:
    rows = []
    for (company, wave), mean in MEANS.items():
        for step, q in zip((-1, 0, 1), (3, 5, 4), strict=True):
            rows.append({"company": company, "wave": wave, "industry": PLACE[company][0],
                         "sector": PLACE[company][1], "q": q + (company == "B"),
                         "s": mean + step})
    return pd.DataFrame(rows)


@pytest.fixture()
def revenue_file(tmp_path) -> str:
    rows = [{"company": c, "wave": w, "revenue": r, "gdp_share": GDP[PLACE[c][1]]}
            for (c, w), r in REVENUE.items()]
    path = tmp_path / "revenue.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    return str(path)


def value(result, level: str, unit: str, wave: str, column: str = "index") -> float:
    rows = result.indices
    row = rows[(rows["level"] == level) & (rows["unit"] == unit) & (rows["wave"] == wave)
               & (rows["construct"] == "Satisfaction")]
    assert len(row) == 1
    return float(row[column].iloc[0])


def test_aggregates_and_changes_by_hand(survey: pd.DataFrame, revenue_file: str) -> None:
    result = acsi_sem.study(SINGLE_ITEMS, survey, scale=(1, 10), company="company",
                            industry="industry",
                            sector="sector", wave="wave", revenue=revenue_file)
    i = {key: index_of(mean) for key, mean in MEANS.items()}
    for (company, wave), expected in i.items():
        assert value(result, "company", company, wave) == pytest.approx(expected, abs=1e-10)
    x1 = (100 * i["A", "1"] + 300 * i["B", "1"]) / 400
    assert value(result, "industry", "X", "1") == pytest.approx(x1, abs=1e-10)
    s1 = (100 * i["A", "1"] + 300 * i["B", "1"] + 200 * i["C", "1"]) / 600
    assert value(result, "sector", "S1", "1") == pytest.approx(s1, abs=1e-10)
    national1 = 0.6 * s1 + 0.4 * i["D", "1"]
    assert value(result, "national", "national", "1") == pytest.approx(national1, abs=1e-10)
    s1_2 = (100 * i["A", "2"] + 100 * i["B", "2"] + 200 * i["C", "2"]) / 400
    national2 = 0.6 * s1_2 + 0.4 * i["D", "2"]
    changes = result.changes[result.changes["construct"] == "Satisfaction"].set_index(
        ["level", "unit"])
    assert changes.loc[("national", "national"), "change"] == pytest.approx(
        national2 - national1, abs=1e-10)
    assert changes.loc[("company", "D"), "change"] == pytest.approx(index_of(5) - index_of(8))
    # Linearized errors: each cell's answers have variance 1, so var(index) = (100/9)^2 / 3.
    cell = (100 / 9) ** 2 / 3
    assert value(result, "company", "A", "1", "se") == pytest.approx(np.sqrt(cell))
    shares = {"A": 0.6 * 100 / 600, "B": 0.6 * 300 / 600, "C": 0.6 * 200 / 600, "D": 0.4}
    assert value(result, "national", "national", "1", "se") == pytest.approx(
        np.sqrt(sum(share ** 2 for share in shares.values()) * cell))
    shares_2 = {"A": 0.6 * 100 / 400, "B": 0.6 * 100 / 400, "C": 0.6 * 200 / 400, "D": 0.4}
    change_se = np.sqrt(sum(s ** 2 for s in (*shares.values(), *shares_2.values())) * cell)
    assert changes.loc[("national", "national"), "se"] == pytest.approx(change_se)
    z = (national2 - national1) / change_se
    assert changes.loc[("national", "national"), "z"] == pytest.approx(z)
    composition = result.composition.set_index(["level", "unit", "wave", "member"])["weight"]
    assert composition["national", "national", "1", "S1"] == pytest.approx(0.6)
    assert composition["sector", "S1", "2", "X"] == pytest.approx(200 / 400)


def test_without_revenue_companies_and_top_units_weigh_equally(survey: pd.DataFrame) -> None:
    result = acsi_sem.study(SINGLE_ITEMS, survey, scale=(1, 10), company="company",
                            industry="industry",
                            sector="sector", wave="wave")
    i = {key: index_of(mean) for key, mean in MEANS.items()}
    s1 = (i["A", "1"] + i["B", "1"] + i["C", "1"]) / 3
    assert value(result, "sector", "S1", "1") == pytest.approx(s1, abs=1e-10)
    assert value(result, "national", "national", "1") == pytest.approx(
        (s1 + i["D", "1"]) / 2, abs=1e-10)
    assert any("every company weighs the same" in note for note in result.notes)
    assert any("weighs its top-level units equally" in note for note in result.notes)


def test_sampling_weights_enter_each_company_mean(survey: pd.DataFrame) -> None:
    weighted = survey.assign(w=np.tile([1.0, 2.0, 3.0], len(MEANS)))
    result = acsi_sem.study(SINGLE_ITEMS, weighted, scale=(1, 10), company="company", wave="wave",
                            weights="w")
    # answers mean-1, mean, mean+1 with weights 1, 2, 3: weighted mean = mean + 1/3
    assert value(result, "company", "A", "1") == pytest.approx(index_of(7 + 1 / 3))
    n = 3
    squares = np.array([1, 4, 9]) @ (np.array([-1, 0, 1]) - 1 / 3) ** 2
    expected = n / (n - 1) * squares / 36 * (100 / 9) ** 2
    assert value(result, "company", "A", "1", "se") == pytest.approx(np.sqrt(expected))


def test_league_table_ranks_within_industries(survey: pd.DataFrame) -> None:
    result = acsi_sem.study(SINGLE_ITEMS, survey, scale=(1, 10), company="company",
                            industry="industry",
                            wave="wave")
    table = result.league_table()
    first = table[table["industry"] == "X"]
    assert first["company"].tolist() == ["A", "B"] and first["rank"].tolist() == [1, 2]
    assert first["change"].tolist() == pytest.approx([index_of(8) - index_of(7),
                                                      index_of(5) - index_of(4)])
