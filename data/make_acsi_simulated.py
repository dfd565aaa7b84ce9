"""Regenerate data/acsi_simulated.csv from data/acsi_population.lav.

    python data/make_acsi_simulated.py

2500 respondents, seed 1996, answers on the ACSI's 1-10 scale: each item is
round(7.2 + 1.7 z) clipped to 1-10, except the complaints item CUSCO (how much the
customer complained), round(3.5 + 1.8 z), where z is the item's standardized response.
"""

from pathlib import Path

from acsi_sem.model.spec import parse_model
from acsi_sem.simulation.simulate import simulate_survey

HERE = Path(__file__).resolve().parent
N_RESPONDENTS = 2500
SEED = 1996

if __name__ == "__main__":
    population = parse_model((HERE / "acsi_population.lav").read_text(),
                             source="acsi_population.lav")
    survey = simulate_survey(population, N_RESPONDENTS, seed=SEED, scale=(1, 10),
                             item_mean={**dict.fromkeys(population.observed, 7.2),
                                        "CUSCO": 3.5},
                             item_sd={**dict.fromkeys(population.observed, 1.7),
                                      "CUSCO": 1.8})
    survey.to_csv(HERE / "acsi_simulated.csv", index=False)
    print(f"wrote {len(survey)} rows to {HERE / 'acsi_simulated.csv'}")
