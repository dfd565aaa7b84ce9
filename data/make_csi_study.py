"""Regenerate the simulated index study: data/csi_study_survey.csv, csi_study_revenue.csv and
csi_study_population.json.

    python data/make_csi_study.py

Population model (seed 2026; every number below is in the script):

* 12 companies in 3 industries and 2 sectors: Retail (Supermarkets, Department stores) and
  Telecommunications (Mobile phone), 4 companies each; 2 waves, 2025 and 2026.
* Latent variables follow the ACSI structure with the paths of data/acsi_population.lav
  (standardized: every latent variance 1). Company c in wave t shifts the mean of
  Expectation by ``EXPECTATION[c]`` and the mean of Quality's disturbance by
  ``QUALITY[c] + CHANGE[c, t]`` (in latent SDs); the shifts flow on through the paths to
  Value, Satisfaction, Complaints and Loyalty. Two companies change between the waves:
  Orbit's quality rises by 0.5 SD, Marlowe's falls by 0.4 SD; nothing else changes.
* Two strata per company and wave: heavy users (30% of the company's customers) expect
  and perceive more (+0.4 SD on both shifts); light users are the other 70%. The survey
  over-samples heavy users to half of each company's respondents, so unweighted indices
  are biased upwards and weighted ones are not. The sampling weight is the population share
  over the sample share (heavy 0.6, light 1.4), averaging 1 within each company and wave.
* Items: loading x latent + normal error with variance 1 - loading^2 (loadings of
  data/acsi_population.lav), mapped to answers ``round(7.2 + 1.7 x)`` (complaints
  ``round(3.5 + 1.8 x)``) clipped to 1-10. Each company-wave has 230-270 respondents.

csi_study_population.json holds the exact expected answer of every item per company and wave
(the normal probabilities of the ten categories, mixed over the strata by their population
shares), the equal-weight 0-100 index of each construct from those expectations, the
revenue-weighted industry and sector indices, the GDP-weighted national index, and the
true changes between waves.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.special import ndtr

HERE = Path(__file__).resolve().parent
SEED = 2026
WAVES = (2025, 2026)
CONSTRUCTS = ("Expectation", "Quality", "Value", "Satisfaction", "Complaints", "Loyalty")
LOADINGS = {"CUEX1": 0.80, "CUEX2": 0.75, "CUEX3": 0.70, "PERQ1": 0.85, "PERQ2": 0.80,
            "PERQ3": 0.75, "PERV1": 0.85, "PERV2": 0.80, "CUSA1": 0.90, "CUSA2": 0.80,
            "CUSA3": 0.75, "CUSCO": 1.00, "CUSL1": 0.85, "CUSL2": 0.70}
OWNER = {item: construct for construct, prefix in zip(
    CONSTRUCTS, ("CUEX", "PERQ", "PERV", "CUSA", "CUSCO", "CUSL"), strict=True)
    for item in LOADINGS if item.startswith(prefix)}
# PATHS[outcome][cause]
PATHS = {"Quality": {"Expectation": 0.55},
         "Value": {"Expectation": 0.20, "Quality": 0.55},
         "Satisfaction": {"Expectation": 0.10, "Quality": 0.50, "Value": 0.35},
         "Complaints": {"Satisfaction": -0.40},
         "Loyalty": {"Satisfaction": 0.60, "Complaints": -0.15}}
ANSWER_MEAN = {item: 3.5 if item == "CUSCO" else 7.2 for item in LOADINGS}
ANSWER_SD = {item: 1.8 if item == "CUSCO" else 1.7 for item in LOADINGS}
INDUSTRIES = {"Supermarkets": ("Retail", ("FreshMart", "GreenGrocer", "ValueBasket",
                                          "CityFoods")),
              "Department stores": ("Retail", ("Northgate", "Harbor & Hale", "Marlowe's",
                                               "Kingsway")),
              "Mobile phone": ("Telecommunications", ("Skyline Mobile", "Volt Telecom",
                                                      "Orbit", "LinkUp"))}
EXPECTATION = {"FreshMart": 0.30, "GreenGrocer": 0.10, "ValueBasket": -0.20, "CityFoods": 0.00,
               "Northgate": 0.25, "Harbor & Hale": 0.40, "Marlowe's": -0.10,
               "Kingsway": -0.35, "Skyline Mobile": 0.05, "Volt Telecom": -0.25,
               "Orbit": 0.15, "LinkUp": -0.05}
QUALITY = {"FreshMart": 0.25, "GreenGrocer": 0.40, "ValueBasket": -0.30, "CityFoods": 0.05,
           "Northgate": 0.10, "Harbor & Hale": 0.45, "Marlowe's": -0.15, "Kingsway": -0.40,
           "Skyline Mobile": 0.20, "Volt Telecom": -0.45, "Orbit": 0.00, "LinkUp": -0.10}
CHANGE = {("Orbit", 2026): 0.50, ("Marlowe's", 2026): -0.40}
HEAVY_SHIFT = 0.40
HEAVY_SHARE = 0.30  # of the population
HEAVY_SAMPLE = 0.50  # of the sample
# Revenue in millions of US dollars per wave; gdp_share of each sector in the national index.
REVENUE = {"FreshMart": (5200, 5400), "GreenGrocer": (3100, 3300), "ValueBasket": (6800, 6900),
           "CityFoods": (1900, 2000), "Northgate": (2400, 2300), "Harbor & Hale": (1500, 1650),
           "Marlowe's": (2900, 2600), "Kingsway": (1200, 1150), "Skyline Mobile": (8800, 9100),
           "Volt Telecom": (6100, 6300), "Orbit": (3900, 4400), "LinkUp": (2200, 2150)}
GDP_SHARE = {"Retail": 0.06, "Telecommunications": 0.03}


def latent_means(expectation: float, quality: float) -> np.ndarray:
    """(L,) latent means when Expectation's mean and Quality's disturbance mean shift."""
    means = dict.fromkeys(CONSTRUCTS, 0.0)
    means["Expectation"] = expectation
    for outcome in CONSTRUCTS[1:]:
        means[outcome] = sum(path * means[cause] for cause, path in PATHS[outcome].items())
        if outcome == "Quality":
            means[outcome] += quality
    return np.array([means[name] for name in CONSTRUCTS])


def disturbance_variances() -> dict[str, float]:
    """Each endogenous construct's disturbance variance, making its variance 1."""
    order = list(CONSTRUCTS)
    beta = np.zeros((6, 6))
    for outcome, causes in PATHS.items():
        for cause, path in causes.items():
            beta[order.index(outcome), order.index(cause)] = path
    psi = np.zeros(6)
    psi[0] = 1.0
    for j in range(1, 6):  # the causal order is the list order
        inverse = np.linalg.inv(np.eye(6) - beta)
        partial = inverse @ np.diag(psi) @ inverse.T
        psi[j] = 1 - partial[j, j]
    return dict(zip(order, psi, strict=True))


def shifts(company: str, wave: int, heavy: bool) -> tuple[float, float]:
    extra = HEAVY_SHIFT if heavy else 0.0
    return (EXPECTATION[company] + extra,
            QUALITY[company] + CHANGE.get((company, wave), 0.0) + extra)


def draw(rng: np.random.Generator, size: int, expectation: float, quality: float,
         psi: dict[str, float]) -> np.ndarray:
    """(size, 14) answers of one stratum of one company-wave."""
    values: dict[str, np.ndarray] = {}
    for construct in CONSTRUCTS:
        mean = expectation if construct == "Expectation" else 0.0
        if construct == "Quality":
            mean = quality
        noise = rng.normal(mean, np.sqrt(psi[construct]), size)
        values[construct] = noise + sum(path * values[cause] for cause, path
                                        in PATHS.get(construct, {}).items())
    answers = []
    for item, loading in LOADINGS.items():
        response = loading * values[OWNER[item]] + rng.normal(0, np.sqrt(1 - loading ** 2),
                                                              size)
        answers.append(np.clip(np.round(ANSWER_MEAN[item] + ANSWER_SD[item] * response), 1, 10))
    return np.column_stack(answers).astype(int)


def expected_answer(item: str, latent_mean: float) -> float:
    """E[clip(round(mean + sd x), 1, 10)] for x ~ N(loading * latent_mean, 1)."""
    centre = ANSWER_MEAN[item] + ANSWER_SD[item] * LOADINGS[item] * latent_mean
    edges = (np.arange(1.5, 10.5) - centre) / ANSWER_SD[item]  # upper edges of 1..9
    cumulative = np.r_[0.0, ndtr(edges), 1.0]
    return float(np.arange(1, 11) @ np.diff(cumulative))


def population_items(company: str, wave: int) -> dict[str, float]:
    """Each item's expected answer, mixed over the strata by their population shares."""
    expected = dict.fromkeys(LOADINGS, 0.0)
    for heavy, share in ((True, HEAVY_SHARE), (False, 1 - HEAVY_SHARE)):
        means = dict(zip(CONSTRUCTS, latent_means(*shifts(company, wave, heavy)), strict=True))
        for item in LOADINGS:
            expected[item] += share * expected_answer(item, means[OWNER[item]])
    return expected


def survey(seed: int = SEED, per_cell: tuple[int, int] = (230, 271)) -> pd.DataFrame:
    """The survey drawn with ``seed``; each company-wave gets a size in ``per_cell``
    (low, high exclusive)."""
    rng = np.random.default_rng(seed)
    psi = disturbance_variances()
    parts = []
    for industry, (sector, companies) in INDUSTRIES.items():
        for company in companies:
            for wave in WAVES:
                size = int(rng.integers(*per_cell))
                heavy = size // 2
                for stratum, count in (("heavy", heavy), ("light", size - heavy)):
                    is_heavy = stratum == "heavy"
                    answers = draw(rng, count, *shifts(company, wave, is_heavy), psi)
                    frame = pd.DataFrame(answers, columns=list(LOADINGS))
                    share = HEAVY_SHARE if is_heavy else 1 - HEAVY_SHARE
                    sample_share = count / size
                    frame.insert(0, "weight", round(share / sample_share, 6))
                    for name, value in (("stratum", stratum), ("wave", wave),
                                        ("sector", sector), ("industry", industry),
                                        ("company", company)):
                        frame.insert(0, name, value)
                    parts.append(frame)
    table = pd.concat(parts, ignore_index=True)
    table.insert(0, "respondent", np.arange(1, len(table) + 1))
    return table


def revenue() -> pd.DataFrame:
    rows = [{"company": company, "wave": wave, "revenue": REVENUE[company][t],
             "industry": industry, "sector": sector, "gdp_share": GDP_SHARE[sector]}
            for industry, (sector, companies) in INDUSTRIES.items() for company in companies
            for t, wave in enumerate(WAVES)]
    return pd.DataFrame(rows)


def population(revenues: pd.DataFrame) -> dict:
    companies = {}
    for industry, (sector, names) in INDUSTRIES.items():
        for company in names:
            companies[company] = {"industry": industry, "sector": sector, "waves": {}}
            for wave in WAVES:
                items = population_items(company, wave)
                index = {construct: 100 * (np.mean([v for k, v in items.items()
                                                    if OWNER[k] == construct]) - 1) / 9
                         for construct in CONSTRUCTS}
                companies[company]["waves"][str(wave)] = {"items": items, "index": index}
    aggregates = _aggregates(companies, revenues)
    return {
        "definitions": {
            "items": "expected answer E[clip(round(mean + sd * x), 1, 10)] of each item, x "
                     "normal with the latent mean shifts times the loading and variance 1, "
                     "mixed over the strata by their population shares (heavy 0.3, light "
                     "0.7)",
            "index": "equal-weight mean of a construct's expected item answers, as "
                     "100 (mean - 1) / 9 (a PLS index weighs the items unequally; combine "
                     "'items' with a fit's item weights for its own population value)",
            "industry": "revenue-weighted mean of its companies' indices (revenue of the wave)",
            "sector": "revenue-weighted mean of its industries (each weighing its companies' "
                      "total revenue)",
            "national": "gdp_share-weighted mean of the sectors (shares normalized)",
            "change": "index in 2026 minus index in 2025",
        },
        "parameters": {
            "seed": SEED, "loadings": LOADINGS, "paths": PATHS,
            "answer_mean": ANSWER_MEAN, "answer_sd": ANSWER_SD,
            "expectation_shift": EXPECTATION, "quality_shift": QUALITY,
            "quality_change_2026": {company: change for (company, _), change in CHANGE.items()},
            "heavy_user_shift": HEAVY_SHIFT, "heavy_user_population_share": HEAVY_SHARE,
            "heavy_user_sample_share": HEAVY_SAMPLE,
        },
        "companies": companies,
        **aggregates,
    }


def _aggregates(companies: dict, revenues: pd.DataFrame) -> dict:
    money = revenues.set_index(["company", "wave"])["revenue"]
    levels: dict[str, dict] = {"industries": {}, "sectors": {}, "national": {}}
    for wave in WAVES:
        key = str(wave)
        sector_parts: dict[str, list] = {}
        for industry, (sector, names) in INDUSTRIES.items():
            weights = np.array([money[company, wave] for company in names], dtype=float)
            values = {c: np.array([companies[name]["waves"][key]["index"][c] for name in names])
                      @ weights / weights.sum() for c in CONSTRUCTS}
            levels["industries"].setdefault(industry, {})[key] = values
            sector_parts.setdefault(sector, []).append((weights.sum(), values))
        for sector, parts in sector_parts.items():
            total = sum(weight for weight, _ in parts)
            levels["sectors"].setdefault(sector, {})[key] = {
                c: sum(weight * values[c] for weight, values in parts) / total
                for c in CONSTRUCTS}
        shares = np.array([GDP_SHARE[sector] for sector in levels["sectors"]])
        levels["national"][key] = {
            c: np.array([levels["sectors"][s][key][c] for s in levels["sectors"]])
            @ shares / shares.sum() for c in CONSTRUCTS}
    changes = {name: {unit: {c: values["2026"][c] - values["2025"][c] for c in CONSTRUCTS}
                      for unit, values in group.items()}
               for name, group in levels.items() if name != "national"}
    changes["companies"] = {company: {c: entry["waves"]["2026"]["index"][c]
                                      - entry["waves"]["2025"]["index"][c] for c in CONSTRUCTS}
                            for company, entry in companies.items()}
    changes["national"] = {c: levels["national"]["2026"][c] - levels["national"]["2025"][c]
                           for c in CONSTRUCTS}
    return {**levels, "changes": changes}


if __name__ == "__main__":
    table = survey()
    table.to_csv(HERE / "csi_study_survey.csv", index=False)
    revenues = revenue()
    revenues.to_csv(HERE / "csi_study_revenue.csv", index=False)
    truth = population(revenues)
    (HERE / "csi_study_population.json").write_text(
        json.dumps(truth, indent=1, default=float) + "\n", encoding="utf-8")
    print(f"wrote {len(table)} respondents of {table['company'].nunique()} companies, "
          f"the revenue file and the population values to {HERE}")
