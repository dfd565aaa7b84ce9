"""Regenerate data/kano_survey.csv: a simulated Kano survey of a mobile-phone contract.

    python data/make_kano_survey.py

200 respondents (seed 1984) answer a functional and a dysfunctional question about six
features, each with one of five options coded 1 like, 2 must-be, 3 neutral, 4 live-with,
5 dislike. Each respondent's category for a feature is drawn from the feature's true shares
below; the answer pair is then drawn uniformly from the cells of the Kano evaluation table
that give that category (acsi_sem.loyalty.kano.EVALUATION_TABLE). So the evaluation must
find each feature's dominant category, and its better/worse coefficients are close to the
values the true shares give.
"""

from pathlib import Path

import numpy as np
import pandas as pd

from acsi_sem.loyalty.kano import CATEGORIES, EVALUATION_TABLE

HERE = Path(__file__).resolve().parent
N_RESPONDENTS = 200
SEED = 1984
# True category shares A, O, M, I, R, Q of each feature.
TRUE_SHARES = {
    "coverage": (0.05, 0.20, 0.60, 0.12, 0.01, 0.02),        # must-be
    "data_speed": (0.15, 0.55, 0.15, 0.12, 0.01, 0.02),      # one-dimensional
    "clear_billing": (0.10, 0.45, 0.25, 0.17, 0.01, 0.02),   # one-dimensional
    "free_roaming": (0.55, 0.15, 0.05, 0.22, 0.01, 0.02),    # attractive
    "esim": (0.20, 0.05, 0.05, 0.65, 0.03, 0.02),            # indifferent
    "personal_offers": (0.08, 0.05, 0.02, 0.35, 0.48, 0.02), # reverse
}


def kano_survey(seed: int = SEED) -> pd.DataFrame:
    """The simulated survey described in the module docstring."""
    rng = np.random.default_rng(seed)
    table = EVALUATION_TABLE.to_numpy()
    cells = {c: np.argwhere(table == c) for c in CATEGORIES}
    columns = {}
    for feature, shares in TRUE_SHARES.items():
        drawn = rng.choice(CATEGORIES, size=N_RESPONDENTS, p=shares)
        pairs = np.array([cells[c][rng.integers(len(cells[c]))] for c in drawn]) + 1
        columns[f"{feature}_functional"] = pairs[:, 0]
        columns[f"{feature}_dysfunctional"] = pairs[:, 1]
    return pd.DataFrame(columns)


if __name__ == "__main__":
    survey = kano_survey()
    survey.to_csv(HERE / "kano_survey.csv", index=False)
    print(f"wrote {len(survey)} rows to {HERE / 'kano_survey.csv'}")
