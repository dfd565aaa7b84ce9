"""Render the path diagrams of the shipped models for review: PLS on their default data
with 200 bootstrap replicates (seed 1), with and without indicators, in both styles.

    python docs/diagrams/make_diagrams.py        # from the repository root
"""

from __future__ import annotations

import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import acsi_sem

HERE = Path(__file__).resolve().parent


def main() -> None:
    for model in ("acsi", "ecsi", "ccsi"):
        result = acsi_sem.fit(model, estimator="pls", bootstrap=200, seed=1)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # no CJK font: the CCSI falls back to its names
            result.plot().savefig(HERE / f"{model}.png", dpi=100)
            result.plot(indicators=False, style="journal", width="page").savefig(
                HERE / f"{model}_journal_page.png", dpi=200)
        print(f"wrote docs/diagrams/{model}.png and {model}_journal_page.png")


if __name__ == "__main__":
    main()
