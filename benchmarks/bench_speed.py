"""Speed and scale: acsi-sem's bootstrap, single fit and big-file fit against semopy and seminr.

    python benchmarks/bench_speed.py [--replicates 1000] [--big-rows 5000000]

Side by side in this one process (plus child processes for the command-line figures):

1. CB-SEM bootstrap, ACSI model on data/acsi_simulated.csv (n = 2500): the whole command
   ``acsi-sem fit acsi --bootstrap R`` (a child process: start-up, imports, fit, R
   replicates, report) and the same fit in this process, against R semopy refits
   (``Model(...).fit(resample)``) on resamples drawn with the same generator.
2. PLS bootstrap, ECSI on data/mobi.csv: ``acsi_sem.fit(..., bootstrap=R)`` against
   ``seminr.bootstrap_model(model, nboot=R, cores=1)`` (the seminr PyPI package).
3. Single CB-SEM fit (ACSI): median of ``acsi_sem.fit`` against semopy's fit + inspect.
4. Big file: a 24-indicator ECSI survey of ``--big-rows`` rows written to a temporary CSV,
   fitted by ``acsi-sem fit ecsi --data FILE --chunksize 200000`` in a child process whose
   peak resident memory is reported.

Prints seconds and ratios (other tool's time / acsi-sem's time: above 1 means acsi-sem is
faster); nothing is asserted.

BLAS runs single-threaded here (the variables below, set before numpy loads, are inherited
by the child processes): on a shared machine, multi-threaded BLAS made semopy's fits
bimodal (0.03 s or 0.47 s) and the comparison meaningless.
"""

from __future__ import annotations

import os

for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import argparse
import logging
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
# This checkout's package, not an installed copy.
sys.path.insert(0, str(ROOT))

import acsi_sem
from acsi_sem.model.modelfile import load_model_file

ACSI_DATA = ROOT / "data" / "acsi_simulated.csv"
MOBI = ROOT / "data" / "mobi.csv"


def seconds(function) -> float:
    """Wall time of one call."""
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def median_seconds(function, repeats: int) -> float:
    """Median wall time of ``repeats`` calls after one warm-up call."""
    function()
    return statistics.median(seconds(function) for _ in range(repeats))


def run_child(arguments: list[str]) -> tuple[float, float]:
    """``(wall seconds, peak resident MiB)`` of ``acsi-sem ARGUMENTS`` in a fresh Python."""
    code = ("import resource, sys\nfrom acsi_sem.cli.main import main\n"
            "status = main(sys.argv[1:])\n"
            "print('PEAK_KIB', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, "
            "file=sys.stderr)\nsys.exit(status)")
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", code, *arguments], capture_output=True,
                          text=True, check=True, cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    wall = time.perf_counter() - start
    peak = next(line for line in done.stderr.splitlines() if line.startswith("PEAK_KIB"))
    return wall, int(peak.split()[1]) / 1024


def semopy_refits(model_text: str, data: pd.DataFrame, replicates: int, seed: int) -> float:
    """Seconds for ``replicates`` semopy refits on bootstrap resamples."""
    import semopy

    logging.getLogger("semopy").setLevel(logging.ERROR)
    rng = np.random.default_rng(seed)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(replicates):
            sample = data.iloc[rng.integers(0, len(data), size=len(data))]
            model = semopy.Model(model_text)
            model.fit(sample)
            _ = model.param_vals
    return time.perf_counter() - start


def cbsem_bootstrap(replicates: int) -> None:
    model = load_model_file("acsi")
    data = pd.read_csv(ACSI_DATA)
    command, _ = run_child(["fit", "acsi", "--bootstrap", str(replicates), "--seed", "1"])
    acsi_sem.fit(model, data)  # warm-up: imports
    ours = seconds(lambda: acsi_sem.fit(model, data, bootstrap=replicates, seed=1))
    theirs = semopy_refits(model.text, data, replicates, seed=1)
    print(f"CB-SEM bootstrap, ACSI n=2500, {replicates} replicates")
    print(f"  acsi-sem command (whole)   {command:8.2f} s")
    print(f"  acsi-sem fit + bootstrap   {ours:8.2f} s   (in process)")
    print(f"  semopy refits              {theirs:8.2f} s")
    print(f"  ratio semopy / command     {theirs / command:8.1f}")
    print(f"  ratio semopy / in process  {theirs / ours:8.1f}")


def pls_bootstrap(replicates: int) -> None:
    import seminr

    sys.path.insert(0, str(ROOT / "tests" / "fixtures" / "seminr"))
    import make_fixtures  # the seminr model of ECSI used for the golden fixtures

    data = pd.read_csv(MOBI)
    acsi_sem.fit("ecsi", estimator="pls")  # warm-up
    ours = seconds(lambda: acsi_sem.fit("ecsi", estimator="pls", bootstrap=replicates,
                                        seed=1))
    model = seminr.estimate_pls(data, make_fixtures.measurement_model("modeA"),
                                make_fixtures.structural_model(),
                                inner_weights=seminr.path_weighting)
    theirs = seconds(lambda: seminr.bootstrap_model(model, nboot=replicates, seed=1, cores=1))
    print(f"PLS bootstrap, ECSI on mobi (n=250), {replicates} replicates")
    print(f"  acsi-sem fit + bootstrap   {ours:8.2f} s")
    print(f"  seminr bootstrap_model     {theirs:8.2f} s")
    print(f"  ratio seminr / acsi-sem    {theirs / ours:8.1f}")


def single_fit(repeats: int) -> None:
    import semopy

    model = load_model_file("acsi")
    data = pd.read_csv(ACSI_DATA)

    def semopy_fit() -> None:
        fitted = semopy.Model(model.text)
        fitted.fit(data)
        fitted.inspect()

    def semopy_estimates_only() -> None:
        semopy.Model(model.text).fit(data)

    from acsi_sem.api import load_data
    from acsi_sem.numerics.cbsem import fit_ml

    prepared = load_data(model.spec, data, model, model.scale)
    ours = median_seconds(lambda: acsi_sem.fit(model, data), repeats)
    theirs = median_seconds(semopy_fit, repeats)
    ours_ml = median_seconds(lambda: fit_ml(model.spec, prepared), repeats)
    theirs_ml = median_seconds(semopy_estimates_only, repeats)
    print(f"Single CB-SEM fit, ACSI n=2500 (median of {repeats})")
    print(f"  acsi-sem fit               {ours:8.3f} s   (estimates, SEs, fit indices, "
          "standardized, effects, quality)")
    print(f"  semopy fit + inspect       {theirs:8.3f} s")
    print(f"  ratio semopy / acsi-sem    {theirs / ours:8.2f}")
    print(f"  acsi-sem estimation only   {ours_ml:8.3f} s   (fit_ml: estimates and "
          "information matrix)")
    print(f"  semopy fit only            {theirs_ml:8.3f} s")
    print(f"  ratio semopy / acsi-sem    {theirs_ml / ours_ml:8.2f}")


def write_big_survey(path: Path, rows: int, seed: int, chunk: int = 250_000) -> None:
    """``rows`` ECSI respondents (24 items, 1-10) drawn from ECSI fitted to mobi."""
    from acsi_sem.simulation.simulate import draw_survey, population_from_model

    population = population_from_model("ecsi")
    rng = np.random.default_rng(seed)
    with path.open("w") as stream:
        for start in range(0, rows, chunk):
            survey = draw_survey(population, min(chunk, rows - start), seed=rng,
                                 scale=(1, 10)).astype(int)
            survey.to_csv(stream, index=False, header=start == 0)


def big_file(rows: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "big.csv"
        written = seconds(lambda: write_big_survey(path, rows, seed=7))
        size = path.stat().st_size / 2 ** 20
        wall, peak = run_child(["fit", "ecsi", "--data", str(path), "--chunksize", "200000"])
    print(f"Big file: ECSI, {rows} rows x 24 indicators, {size:.0f} MiB CSV "
          f"(written in {written:.0f} s)")
    print(f"  acsi-sem fit --chunksize   {wall:8.1f} s, peak memory {peak:.0f} MiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicates", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--big-rows", type=int, default=5_000_000)
    parser.add_argument("--skip", nargs="*", default=[],
                        choices=["cbsem", "pls", "single", "big"])
    arguments = parser.parse_args()
    if "cbsem" not in arguments.skip:
        cbsem_bootstrap(arguments.replicates)
    if "pls" not in arguments.skip:
        pls_bootstrap(arguments.replicates)
    if "single" not in arguments.skip:
        single_fit(arguments.repeats)
    if "big" not in arguments.skip:
        big_file(arguments.big_rows)


if __name__ == "__main__":
    main()
