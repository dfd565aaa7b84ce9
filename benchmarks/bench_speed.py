"""Speed and scale: acsi-sem's bootstrap, single fit and big-file fit against semopy and seminr.

    python benchmarks/bench_speed.py [--replicates 1000] [--big-rows 5000000]

Side by side in this one process (plus child processes for the command-line figures):

1. CB-SEM bootstrap, ACSI model on data/acsi_simulated.csv (n = 2500): the whole command
   ``acsi-sem fit acsi --bootstrap R`` (a child process: start-up, imports, fit, R
   replicates, report) and the same fit in this process, against R semopy refits
   (``Model(...).fit(resample)``) on resamples drawn with the same generator.
   The same command with BCa intervals (``--ci bca``: the jackknife of the acceleration
   included) is timed too.
2. PLS bootstrap, ECSI on data/mobi.csv: the whole command ``acsi-sem fit ecsi --estimator
   pls --bootstrap R`` (percentile and BCa) and ``acsi_sem.fit(..., bootstrap=R)`` in this
   process, against ``seminr.bootstrap_model(model, nboot=R, cores=1)`` (the seminr PyPI
   package; ``--seminr-path`` adds a folder holding it, e.g. one made with
   ``pip install --no-deps --target FOLDER seminr``).
3. Single CB-SEM fit (ACSI): median of ``acsi_sem.fit`` against semopy's fit + inspect.
4. Monte Carlo power: the whole command ``acsi-sem power acsi --n 100,200,400 --reps R
   --jobs 1`` against semopy fit + inspect (estimates and standard errors, what a power
   study needs) on surveys drawn from the same population, ``--power-semopy`` of them per
   size, timed and scaled to R.
5. Other bootstraps in process, 1,000 replicates: the HS CFA by school (equal loadings),
   a linear growth model, Bollen's model with ``==``/``>`` constraints; against lavaan's
   ``bootstrapLavaan(fit, R, FUN = coef)`` timed inside R on ``--lavaan-replicates`` of
   them and scaled (skipped without Rscript).
6. Big file: a 24-indicator ECSI survey of ``--big-rows`` rows written to a temporary CSV,
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
import subprocess
import sys
import tempfile
import time
import warnings
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
# This checkout's package, not an installed copy.
sys.path.insert(0, str(ROOT))

from timing import median_seconds, seconds

import acsi_sem
from acsi_sem.model.modelfile import load_model_file

ACSI_DATA = ROOT / "data" / "acsi_simulated.csv"
MOBI = ROOT / "data" / "mobi.csv"


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
    command_bca, _ = run_child(["fit", "acsi", "--bootstrap", str(replicates), "--seed", "1",
                                "--ci", "bca"])
    acsi_sem.fit(model, data)  # warm-up: imports
    ours = seconds(lambda: acsi_sem.fit(model, data, bootstrap=replicates, seed=1))
    theirs = semopy_refits(model.text, data, replicates, seed=1)
    print(f"CB-SEM bootstrap, ACSI n=2500, {replicates} replicates")
    print(f"  acsi-sem command (whole)   {command:8.2f} s")
    print(f"  same with --ci bca         {command_bca:8.2f} s")
    print(f"  acsi-sem fit + bootstrap   {ours:8.2f} s   (in process)")
    print(f"  semopy refits              {theirs:8.2f} s")
    print(f"  ratio semopy / command     {theirs / command:8.1f}")
    print(f"  ratio semopy / bca command {theirs / command_bca:8.1f}")
    print(f"  ratio semopy / in process  {theirs / ours:8.1f}")


def pls_bootstrap(replicates: int) -> None:
    import seminr

    sys.path.insert(0, str(ROOT / "tests" / "fixtures" / "seminr"))
    import make_fixtures  # the seminr model of ECSI used for the golden fixtures

    data = pd.read_csv(MOBI)
    arguments = ["fit", "ecsi", "--estimator", "pls", "--bootstrap", str(replicates),
                 "--seed", "1"]
    command, _ = run_child(arguments)
    command_bca, _ = run_child([*arguments, "--ci", "bca"])
    acsi_sem.fit("ecsi", estimator="pls")  # warm-up
    ours = seconds(lambda: acsi_sem.fit("ecsi", estimator="pls", bootstrap=replicates,
                                        seed=1))
    model = seminr.estimate_pls(data, make_fixtures.measurement_model("modeA"),
                                make_fixtures.structural_model(),
                                inner_weights=seminr.path_weighting)
    theirs = seconds(lambda: seminr.bootstrap_model(model, nboot=replicates, seed=1, cores=1))
    print(f"PLS bootstrap, ECSI on mobi (n=250), {replicates} replicates")
    print(f"  acsi-sem command (whole)   {command:8.2f} s")
    print(f"  same with --ci bca         {command_bca:8.2f} s")
    print(f"  acsi-sem fit + bootstrap   {ours:8.2f} s   (in process)")
    print(f"  seminr bootstrap_model     {theirs:8.2f} s")
    print(f"  ratio seminr / command     {theirs / command:8.1f}")
    print(f"  ratio seminr / bca command {theirs / command_bca:8.1f}")
    print(f"  ratio seminr / in process  {theirs / ours:8.1f}")


def power_study(replicates: int, semopy_per_size: int, sizes: tuple[int, ...] = (100, 200, 400)
                ) -> None:
    import semopy

    from acsi_sem.simulation.simulate import draw_survey, population_from_model

    model = load_model_file("acsi")
    command, _ = run_child(["power", "acsi", "--n", ",".join(map(str, sizes)), "--reps",
                            str(replicates), "--seed", "1", "--jobs", "1"])
    population = population_from_model("acsi")
    rng = np.random.default_rng(1)
    surveys = [draw_survey(population, n, seed=rng) for n in sizes
               for _ in range(semopy_per_size)]
    def semopy_fits() -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for survey in surveys:
                fitted = semopy.Model(model.text)
                fitted.fit(survey)
                fitted.inspect()

    # semopy's inspect() logs a warning to the root logger for every small sample.
    logging.disable(logging.WARNING)
    try:
        theirs = seconds(semopy_fits) * replicates / semopy_per_size
    finally:
        logging.disable(logging.NOTSET)
    print(f"Monte Carlo power, ACSI, n = {sizes}, {replicates} replications each")
    print(f"  acsi-sem power (whole)     {command:8.2f} s   (one process, --jobs 1)")
    print(f"  semopy fit + inspect       {theirs:8.2f} s   ({semopy_per_size} fits per size "
          f"timed, scaled to {replicates})")
    print(f"  ratio semopy / command     {theirs / command:8.1f}")


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


FIXTURES = ROOT / "tests" / "fixtures"
OTHER_BOOTSTRAPS = {  # name: (model, data, fit options, lavaan call)
    "HS CFA by school, equal loadings (n = 301)": (
        "hs_cfa.lav", "holzinger1939.csv", {"group": "school", "group_equal": "loadings"},
        'cfa(m, data = d, group = "school", group.equal = "loadings")'),
    "linear growth (n = 400)": ("growth_linear.lav", "demo_growth.csv", {"kind": "growth"},
                                "growth(m, data = d)"),
    "Bollen's model with == and > (n = 75)": (
        "poldem_constraints.lav", "political_democracy.csv", {}, "sem(m, data = d)"),
}
LAVAAN_BOOTSTRAP = """
suppressPackageStartupMessages(library(lavaan))
args <- commandArgs(TRUE); d <- read.csv(args[1]); m <- paste(readLines(args[2]), collapse="\\n")
fit <- eval(parse(text = args[3]))
cat(system.time(bootstrapLavaan(fit, R = as.integer(args[4]), FUN = coef))[["elapsed"]], "\\n")
"""


def other_bootstraps(replicates: int, lavaan_replicates: int) -> None:
    import shutil

    print(f"Other CB-SEM bootstraps, {replicates} replicates (in process)")
    for name, (model, data, options, call) in OTHER_BOOTSTRAPS.items():
        model_path, data_path = FIXTURES / "models" / model, FIXTURES / "data" / data
        acsi_sem.fit(model_path, data_path, **options)  # warm-up
        ours = seconds(partial(acsi_sem.fit, model_path, data_path, bootstrap=replicates,
                               seed=1, **options))
        line = f"  {name:<44} acsi-sem {ours:7.2f} s"
        if shutil.which("Rscript"):
            done = subprocess.run(["Rscript", "-e", LAVAAN_BOOTSTRAP, str(data_path),
                                   str(model_path), call, str(lavaan_replicates)],
                                  capture_output=True, text=True, check=True)
            theirs = float(done.stdout.split()[-1]) * replicates / lavaan_replicates
            line += f"   lavaan {theirs:7.1f} s (scaled)   ratio {theirs / ours:6.1f}"
        print(line)


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
    parser.add_argument("--lavaan-replicates", type=int, default=100,
                        help="lavaan bootstrap replicates timed (scaled to --replicates)")
    parser.add_argument("--power-semopy", type=int, default=100,
                        help="semopy fits timed per sample size in the power comparison")
    parser.add_argument("--seminr-path", default=os.environ.get("SEMINR_PATH"),
                        help="a folder holding the seminr package (appended to sys.path)")
    parser.add_argument("--skip", nargs="*", default=[],
                        choices=["cbsem", "pls", "single", "power", "other", "big"])
    arguments = parser.parse_args()
    if arguments.seminr_path:
        # Appended, not prepended: a --target folder may hold its own numpy.
        sys.path.append(arguments.seminr_path)
    if "cbsem" not in arguments.skip:
        cbsem_bootstrap(arguments.replicates)
    if "pls" not in arguments.skip:
        pls_bootstrap(arguments.replicates)
    if "single" not in arguments.skip:
        single_fit(arguments.repeats)
    if "power" not in arguments.skip:
        power_study(arguments.replicates, arguments.power_semopy)
    if "other" not in arguments.skip:
        other_bootstraps(arguments.replicates, arguments.lavaan_replicates)
    if "big" not in arguments.skip:
        big_file(arguments.big_rows)


if __name__ == "__main__":
    main()
