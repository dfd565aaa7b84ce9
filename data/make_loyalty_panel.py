"""Regenerate data/loyalty_panel.csv: a simulated two-wave panel of one brand's customers.

    python data/make_loyalty_panel.py

400 buyers of a product category (seed 1998) answer in wave 2025 and again in wave 2026, one
row per respondent and wave. Persistent traits, standardized normal: attachment to the brand
A; involvement with the category V = 0.4 A + sqrt(0.84) e; switching cost C and the
importance of convenience K, independent of A. Reward-programme membership M is Bernoulli
with P = 0.3. In each wave w (0, 1) the loyalty propensity is L = 0.8 A + 0.6 e_w - 0.3 w
(the brand loses a little ground in the second wave), and

- PURCHASES ~ Poisson(exp(0.3 + 0.6 L + 0.3 M + 0.25 C)) purchases of the brand in the wave's
  12 months (0: a prospect);
- ATTITUDE, ATTACHMENT (1-10, 1-7): items of A with loadings 0.85 and 0.80;
  INVOLVEMENT, SWITCHING_COST, CONVENIENCE (1-7): items of V, C and K (loadings 0.85);
  PRICE_SENSITIVITY (1-7): an item of -0.6 A + 0.8 e; RECOMMEND (0-10): an item of L (0.8);
- PARTNER = 1 with P = 0.35 for A > 1 (a co-design panel), else 0.02;
- BRANDS = 1 + Poisson(exp(0.2 - 0.6 A)), at most 6, brands bought in the category;
  SPEND_CATEGORY ~ 500 exp(0.4 e) category spend; SPEND_BRAND = SPEND_CATEGORY x share, the
  share (SHARE, to 4 decimals) 0 without a purchase, 1 when BRANDS = 1, else
  Beta(2 + 2 max(L, 0), 3);
- PRICE_TOLERANCE = max(0, round(8 + 5 A + 3 e)): the price rise in percent tolerated before
  switching;
- COMPLAINED = 1 with P = logistic(-1.8 - 0.8 L): complained to the brand in the wave.

Items are round(mean + sd z) clipped to their scale, z = loading x trait + sqrt(1 - loading^2)
e. The population values are in the docstring only; the tests check the instruments' rules
on hand-made cases and use this panel to run them end to end.
"""

from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
N_CUSTOMERS = 400
WAVES = (2025, 2026)
SEED = 1998


def item(rng: np.random.Generator, trait: np.ndarray, loading: float, mean: float,
         sd: float, low: int, high: int) -> np.ndarray:
    """An answer on the low-high scale measuring ``trait`` with a standardized loading."""
    z = loading * trait + np.sqrt(1 - loading ** 2) * rng.standard_normal(len(trait))
    return np.clip(np.rint(mean + sd * z), low, high).astype(int)


def wave_rows(rng: np.random.Generator, traits: dict[str, np.ndarray],
              wave: int) -> pd.DataFrame:
    """One wave's answers of every respondent, from the persistent traits."""
    n = N_CUSTOMERS
    attachment = traits["attachment"]
    loyalty = 0.8 * attachment + 0.6 * rng.standard_normal(n) - 0.3 * wave
    purchases = rng.poisson(np.exp(0.3 + 0.6 * loyalty + 0.3 * traits["member"]
                                   + 0.25 * traits["switching"]))
    brands = np.minimum(1 + rng.poisson(np.exp(0.2 - 0.6 * attachment)), 6)
    category = np.round(500 * np.exp(0.4 * rng.standard_normal(n)), 2)
    share = np.where(brands == 1, 1.0, rng.beta(2 + 2 * np.maximum(loyalty, 0), 3))
    share = np.where(purchases == 0, 0.0, share)
    partner_chance = np.where(attachment > 1, 0.35, 0.02)
    return pd.DataFrame({
        "id": np.arange(1, n + 1), "wave": WAVES[wave],
        "PURCHASES": purchases,
        "ATTITUDE": item(rng, attachment, 0.85, 6.5, 1.8, 1, 10),
        "RECOMMEND": item(rng, loyalty, 0.80, 7.0, 2.0, 0, 10),
        "PARTNER": (rng.random(n) < partner_chance).astype(int),
        "BRANDS": brands,
        "SPEND_CATEGORY": category,
        "SPEND_BRAND": np.round(category * share, 2),
        "SHARE": np.round(share, 4),
        "INVOLVEMENT": item(rng, traits["involvement"], 0.85, 4.5, 1.4, 1, 7),
        "ATTACHMENT": item(rng, attachment, 0.80, 4.2, 1.4, 1, 7),
        "PRICE_SENSITIVITY": item(rng, traits["price"], 1.0, 4.0, 1.4, 1, 7),
        "PRICE_TOLERANCE": np.maximum(0, np.rint(8 + 5 * attachment
                                                 + 3 * rng.standard_normal(n))).astype(int),
        "SWITCHING_COST": item(rng, traits["switching"], 0.85, 3.8, 1.4, 1, 7),
        "CONVENIENCE": item(rng, traits["convenience"], 0.85, 4.0, 1.4, 1, 7),
        "REWARDS": traits["member"],
        "COMPLAINED": (rng.random(n) < 1 / (1 + np.exp(1.8 + 0.8 * loyalty))).astype(int),
    })


def loyalty_panel(seed: int = SEED) -> pd.DataFrame:
    """The simulated panel described in the module docstring, wave by wave."""
    rng = np.random.default_rng(seed)
    n = N_CUSTOMERS
    attachment = rng.standard_normal(n)
    traits = {
        "attachment": attachment,
        "involvement": 0.4 * attachment + np.sqrt(0.84) * rng.standard_normal(n),
        "switching": rng.standard_normal(n),
        "convenience": rng.standard_normal(n),
        # PRICE_SENSITIVITY is measured without extra error: its trait already holds it.
        "price": -0.6 * attachment + 0.8 * rng.standard_normal(n),
        "member": (rng.random(n) < 0.3).astype(int),
    }
    return pd.concat([wave_rows(rng, traits, wave) for wave in range(len(WAVES))],
                     ignore_index=True)


if __name__ == "__main__":
    panel = loyalty_panel()
    panel.to_csv(HERE / "loyalty_panel.csv", index=False)
    print(f"wrote {len(panel)} rows to {HERE / 'loyalty_panel.csv'}")
