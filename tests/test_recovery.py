"""CB-SEM recovers the population model behind the shipped simulated ACSI survey."""

from __future__ import annotations

import numpy as np

import acsi_sem
from acsi_sem.model.ram import build_ram
from acsi_sem.statistics.standardize import standardized_frame
from tests.conftest import ROOT


def test_standardized_paths_and_loadings_are_recovered() -> None:
    population = acsi_sem.parse_model((ROOT / "data" / "acsi_population.lav").read_text())
    truth = standardized_frame(population, build_ram(population), np.zeros(0))
    result = acsi_sem.fit("acsi")
    merged = result.parameters.merge(truth, on=["lhs", "op", "rhs"], suffixes=("", "_true"))
    merged = merged[merged["op"].isin(["=~", "~"])]
    assert len(merged) == 23
    # n = 2500 gives sampling SDs near 0.02; 1-10 rounding attenuates loadings by ~0.02.
    assert np.abs(merged["std_all"] - merged["std_all_true"]).max() < 0.05
    paths = merged[merged["op"] == "~"]
    inside = (paths["ci_lower"] <= paths["est"] * paths["std_all_true"] / paths["std_all"]) & (
        paths["est"] * paths["std_all_true"] / paths["std_all"] <= paths["ci_upper"])
    assert inside.sum() >= 7  # of 8 paths; each interval misses 5% of the time
