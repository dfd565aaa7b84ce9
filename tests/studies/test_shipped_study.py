"""The shipped simulated study: `acsi-sem study acsi` runs on it, and the study recovers the
population's company indices, its two true changes and, by simulation, covers the national
index at the nominal rate."""

from __future__ import annotations

import importlib.util
import json

import numpy as np
import pandas as pd
import pytest

import acsi_sem
from acsi_sem.cli.main import main
from tests.conftest import ROOT

TRUTH = json.loads((ROOT / "data" / "csi_study_population.json").read_text())


def generator():
    spec = importlib.util.spec_from_file_location("make_csi_study",
                                                  ROOT / "data" / "make_csi_study.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def population_index(result, company: str, wave: str, construct: str) -> float:
    """The population value of the index the study estimates: its own item weights applied
    to the population's expected answers."""
    weights = result.measurement[result.measurement["construct"] == construct]
    items = TRUTH["companies"][company]["waves"][wave]["items"]
    mean = sum(w * items[i] for i, w in zip(weights["indicator"], weights["item_weight"],
                                            strict=True))
    return 100 * (mean - 1) / 9


@pytest.fixture(scope="module")
def shipped():
    return acsi_sem.study("acsi")


def errors(result) -> pd.DataFrame:
    rows = result.indices[result.indices["level"] == "company"].copy()
    rows["truth"] = [population_index(result, row.unit, row.wave, row.construct)
                     for row in rows.itertuples(index=False)]
    rows["z"] = (rows["index"] - rows["truth"]) / rows["se"]
    return rows


def test_the_shipped_design_is_the_default(shipped) -> None:
    assert shipped.columns.weights == "weight" and shipped.waves == ("2025", "2026")
    assert shipped.cells["company"].nunique() == 12 and shipped.cells["n"].sum() == 5982
    assert set(shipped.indices["level"]) == {"company", "industry", "sector", "national"}
    assert not shipped.warnings


def test_company_indices_recover_the_population(shipped) -> None:
    found = errors(shipped)
    assert found["z"].abs().max() < 4
    assert 0.6 < np.sqrt((found["z"] ** 2).mean()) < 1.4
    # Heavy users are over-sampled and expect and perceive more: without the weights the
    # Expectation and Quality indices are biased upwards.
    unweighted = errors(acsi_sem.study("acsi", ROOT / "data" / "csi_study_survey.csv",
                                       company="company", wave="wave"))
    for result, low, high in ((found, -0.5, 0.5), (unweighted, 0.8, 3.0)):
        shown = result[result["construct"].isin(["Expectation", "Quality"])]
        assert low < (shown["index"] - shown["truth"]).mean() < high


def test_the_two_true_changes_are_found(shipped) -> None:
    quality = shipped.changes[(shipped.changes["level"] == "company")
                              & (shipped.changes["construct"] == "Quality")].set_index("unit")
    assert quality.loc["Orbit", "change"] > 0 and quality.loc["Orbit", "pvalue"] < 0.001
    assert quality.loc["Marlowe's", "change"] < 0 and quality.loc["Marlowe's", "pvalue"] < 0.001
    for company, row in quality.drop(["Orbit", "Marlowe's"]).iterrows():
        truth = (population_index(shipped, company, "2026", "Quality")
                 - population_index(shipped, company, "2025", "Quality"))
        assert truth == pytest.approx(0, abs=1e-9)
        assert abs(row["z"]) < 3.5, company


def test_the_command_runs_on_the_embedded_defaults(tmp_path, capsys) -> None:
    code = main(["study", "acsi", "--json", str(tmp_path / "study.json")])
    assert code == 0
    document = json.loads((tmp_path / "study.json").read_text())
    assert document["design"]["company"] == "company"
    assert "Satisfaction index by company, wave 2026" in capsys.readouterr().out


@pytest.mark.slow
def test_national_intervals_cover_at_the_nominal_rate() -> None:
    make = generator()
    revenue = ROOT / "data" / "csi_study_revenue.csv"
    # The population's item weights: the pooled fit of a very large survey.
    big = acsi_sem.study("acsi", make.survey(seed=1, per_cell=(4000, 4001)), revenue=revenue,
                         company="company", industry="industry", sector="sector", wave="wave",
                         weights="weight")
    shares = big.composition[big.composition["level"] == "national"]
    covered, replications = [], 150
    for seed in range(100, 100 + replications):
        result = acsi_sem.study("acsi", make.survey(seed=seed), revenue=revenue,
                                company="company", industry="industry", sector="sector",
                                wave="wave", weights="weight", bootstrap=150, seed=seed)
        national = result.indices[(result.indices["level"] == "national")
                                  & (result.indices["construct"] == "Satisfaction")
                                  & (result.indices["wave"] == "2026")].iloc[0]
        truth = _national_truth(big, shares, "2026")
        covered.append(national["ci_lower"] <= truth <= national["ci_upper"])
    assert 0.89 <= np.mean(covered) <= 0.99, np.mean(covered)


def _national_truth(big, shares: pd.DataFrame, wave: str) -> float:
    composition = big.composition
    total = 0.0
    for sector, share in shares[shares["wave"] == wave][["member", "weight"]].itertuples(
            index=False):
        industries = composition[(composition["level"] == "sector")
                                 & (composition["unit"] == sector)
                                 & (composition["wave"] == wave)]
        for industry, industry_share in industries[["member", "weight"]].itertuples(
                index=False):
            companies = composition[(composition["level"] == "industry")
                                    & (composition["unit"] == industry)
                                    & (composition["wave"] == wave)]
            for company, company_share in companies[["member", "weight"]].itertuples(
                    index=False):
                total += share * industry_share * company_share * population_index(
                    big, company, wave, "Satisfaction")
    return total
