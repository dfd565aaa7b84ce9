"""Speed of an index study: ``acsi_sem.study`` with a stratified bootstrap against the same
study done one fit at a time, and against seminr where it is installed.

    python benchmarks/bench_study.py [--companies 50] [--respondents 250] [--replicates 1000]

The survey: ``--companies`` companies in 5 industries and 2 sectors, 2 waves, about
``--respondents`` respondents per company and wave, drawn from data/acsi_population.lav
(seed 2026) with each company's answers shifted by a company effect, and uneven sampling
weights. Side by side in this one process:

1. ``acsi_sem.study(..., bootstrap=R)`` (jobs 1, then jobs 2) and the whole command
   ``acsi-sem study`` in a child process (start-up, imports, reading, report to JSON);
2. the one-at-a-time way a user would write it with this package: for each replicate,
   resample within company and wave, ``acsi_sem.fit(..., estimator="pls", weights=...,
   group=cell)`` and read ``index_by_group``; timed on ``--baseline-replicates`` replicates and
   scaled to R. (No open tool runs the study itself; seminr and cSEM have no sampling
   weights, so they cannot do step 2 either.)

Prints seconds and ratios (other / acsi-sem: above 1 means acsi-sem is faster); nothing is
asserted. BLAS runs single-threaded (set before numpy loads).
"""

from __future__ import annotations

import os

for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import acsi_sem
from acsi_sem.model.spec import parse_model
from acsi_sem.simulation.simulate import simulate_survey

SEED = 2026


def make_survey(companies: int, respondents: int) -> pd.DataFrame:
    """The benchmark's survey (see the module's description)."""
    population = parse_model((ROOT / "data" / "acsi_population.lav").read_text())
    rng = np.random.default_rng(SEED)
    parts = []
    for number in range(companies):
        shift = rng.normal(0, 0.4)
        for wave in (2025, 2026):
            size = int(respondents + rng.integers(-20, 21))
            answers = simulate_survey(population, size, seed=int(rng.integers(2 ** 31)),
                                      scale=(1, 10), item_mean=7.2 + shift, item_sd=1.7)
            answers.insert(0, "wave", wave)
            answers.insert(0, "company", f"company{number:04d}")
            parts.append(answers)
    survey = pd.concat(parts, ignore_index=True)
    index = survey["company"].str[-4:].astype(int)
    survey["industry"] = "industry" + (index % 5).astype(str)
    survey["sector"] = np.where(index % 5 < 3, "sector A", "sector B")
    survey["weight"] = rng.uniform(0.4, 1.8, len(survey))
    return survey


def seconds(function) -> float:
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def one_at_a_time(survey: pd.DataFrame, replicates: int) -> float:
    """Seconds for ``replicates`` replicates refitted one PLS call each."""
    cells = survey["company"] + "/" + survey["wave"].astype(str)
    positions = [np.flatnonzero(cells.to_numpy() == cell) for cell in pd.unique(cells)]
    rng = np.random.default_rng(1)
    frame = survey.assign(cell=cells)

    def replicate() -> None:
        rows = np.concatenate([rng.choice(rows, len(rows)) for rows in positions])
        fitted = acsi_sem.fit("acsi", frame.iloc[rows], estimator="pls", weights="weight",
                              group="cell")
        fitted.index_by_group.to_numpy()

    return seconds(lambda: [replicate() for _ in range(replicates)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--companies", type=int, default=50)
    parser.add_argument("--respondents", type=int, default=250)
    parser.add_argument("--replicates", type=int, default=1000)
    parser.add_argument("--baseline-replicates", type=int, default=10)
    arguments = parser.parse_args()
    survey = make_survey(arguments.companies, arguments.respondents)
    print(f"survey: {arguments.companies} companies x 2 waves, {len(survey)} respondents; "
          f"{arguments.replicates} bootstrap replicates", flush=True)
    settings = dict(company="company", industry="industry", sector="sector", wave="wave",
                    weights="weight", bootstrap=arguments.replicates, seed=1)
    timings = {}
    for jobs in (1, 2):
        timings[f"study, jobs {jobs}"] = seconds(
            lambda jobs=jobs: acsi_sem.study("acsi", survey, jobs=jobs, **settings))
    with tempfile.TemporaryDirectory() as folder:
        data = Path(folder) / "survey.csv"
        survey.to_csv(data, index=False)
        command = [sys.executable, "-m", "acsi_sem", "study", "acsi", "--data", str(data),
                   "--company", "company", "--industry", "industry", "--sector", "sector",
                   "--wave", "wave", "--weights", "weight", "--bootstrap",
                   str(arguments.replicates), "--seed", "1", "--json", str(Path(folder) / "o")]
        timings["whole command, jobs 1"] = seconds(lambda: subprocess.run(
            command, check=True, capture_output=True, cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)}))
    baseline = arguments.baseline_replicates
    per_replicate = one_at_a_time(survey, baseline) / baseline
    loop = per_replicate * arguments.replicates
    for name, value in timings.items():
        print(f"{name:<28}{value:8.2f} s")
    print(f"{'one fit per replicate':<28}{loop:8.2f} s (scaled from {baseline} replicates, "
          f"{per_replicate:.3f} s each)")
    print(f"ratio one-at-a-time / study (jobs 1): {loop / timings['study, jobs 1']:.1f}")


if __name__ == "__main__":
    main()
