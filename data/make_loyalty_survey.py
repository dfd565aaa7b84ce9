"""Regenerate data/loyalty_survey.csv: a simulated loyalty survey in two markets.

    python data/make_loyalty_survey.py

600 customers (seed 2003), 300 in a market with high competition and 300 in one with low
competition. Latent, standardized: perceived quality Q ~ N(0, 1); expectation
E = 0.5 Q + sqrt(0.75) e; satisfaction S = 0.75 Q + 0.1 E + noise, rescaled to variance 1.
Loyalty L depends on the market (Jones & Sasser 1995): with high competition it stays low
until satisfaction is high and then climbs steeply, L = -0.4 + 0.3 S + 0.45 max(S, 0)^2 +
0.6 e; with low competition customers stay anyway, L = 0.5 + 0.15 S + 0.6 e.

Items on 1-10 scales are round(mean + sd (loading * latent + sqrt(1 - loading^2) e)) clipped
to 1-10: SAT1-SAT3 (loadings 0.90, 0.85, 0.80 on S), LOY1-LOY2 (0.85, 0.75 on L), EXPECT
(0.85 on E), PERFORM (0.85 on Q). RECOMMEND is the 0-10 "would recommend" item,
round(7 + 2 (0.8 L + 0.6 e)) clipped to 0-10. REPURCHASE counts purchases in the last 12
months, Poisson with mean exp(1.2 + 0.25 L + 0.5 [low competition]): with few alternatives
customers rebuy whatever they think (spurious loyalty). 15 RECOMMEND and 8 LOY2 answers are
deleted at random, so a fit deletes rows listwise and scores must be aligned by row label.
"""

from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
N_PER_MARKET = 300
SEED = 2003


def item(rng: np.random.Generator, latent: np.ndarray, loading: float, mean: float,
         sd: float, low: int = 1, high: int = 10) -> np.ndarray:
    """An answer on the low-high scale measuring ``latent`` with a standardized loading."""
    z = loading * latent + np.sqrt(1 - loading ** 2) * rng.standard_normal(len(latent))
    return np.clip(np.rint(mean + sd * z), low, high).astype(int)


def loyalty_survey(seed: int = SEED) -> pd.DataFrame:
    """The simulated survey described in the module docstring."""
    rng = np.random.default_rng(seed)
    n = 2 * N_PER_MARKET
    low_competition = np.repeat([False, True], N_PER_MARKET)
    quality = rng.standard_normal(n)
    expectation = 0.5 * quality + np.sqrt(0.75) * rng.standard_normal(n)
    satisfaction = 0.75 * quality + 0.1 * expectation + 0.6 * rng.standard_normal(n)
    satisfaction /= satisfaction.std()
    steep = -0.4 + 0.3 * satisfaction + 0.45 * np.maximum(satisfaction, 0) ** 2
    flat = 0.5 + 0.15 * satisfaction
    loyalty = np.where(low_competition, flat, steep) + 0.6 * rng.standard_normal(n)
    survey = pd.DataFrame({
        "market": np.where(low_competition, "low competition", "high competition"),
        "SAT1": item(rng, satisfaction, 0.90, 7.0, 1.6),
        "SAT2": item(rng, satisfaction, 0.85, 6.8, 1.7),
        "SAT3": item(rng, satisfaction, 0.80, 6.5, 1.8),
        "LOY1": item(rng, loyalty, 0.85, 6.5, 1.5),
        "LOY2": item(rng, loyalty, 0.75, 5.5, 1.6),
        "EXPECT": item(rng, expectation, 0.85, 7.2, 1.4),
        "PERFORM": item(rng, quality, 0.85, 7.0, 1.6),
        "RECOMMEND": item(rng, loyalty, 0.80, 7.0, 2.0, low=0, high=10),
        "REPURCHASE": rng.poisson(np.exp(1.2 + 0.25 * loyalty + 0.5 * low_competition)),
    })
    for column, count in (("RECOMMEND", 15), ("LOY2", 8)):
        rows = rng.choice(n, size=count, replace=False)
        survey[column] = survey[column].astype("Int64")
        survey.loc[rows, column] = pd.NA
    return survey


if __name__ == "__main__":
    survey = loyalty_survey()
    survey.to_csv(HERE / "loyalty_survey.csv", index=False)
    print(f"wrote {len(survey)} rows to {HERE / 'loyalty_survey.csv'}")
