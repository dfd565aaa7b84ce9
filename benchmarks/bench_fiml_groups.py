"""Time the multi-group FIML bootstrap: acsi-sem against lavaan's bootstrapLavaan.

    python benchmarks/bench_fiml_groups.py [--replicates 100] [--repeats 3]
        [--model hs_cfa|hs_constraints] [--package DIR] [--no-lavaan]

The Holzinger-Swineford CFA (or the constrained one) by school with about 10% of the answers
missing (tests/fixtures/data/holzinger1939_missing.csv), FIML, ``--replicates`` replicates.
acsi-sem's seconds per replicate are (fit with the bootstrap - fit without) / replicates, each
the median of ``--repeats`` runs taken in turn after a warm-up; ``--package`` times another
checkout's acsi_sem (e.g. an older commit's, written out by ``git archive``) in this process,
for before/after figures from the same script. lavaan runs in an Rscript child that times
``bootstrapLavaan(fit, R = replicates)`` itself (R's start-up and the first fit excluded).
Prints seconds per replicate and the failed replicates on both sides; nothing is asserted.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from functools import partial
from pathlib import Path

import timing

# This script warms up itself.
median_seconds = partial(timing.median_seconds, warm_up=False)

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "fixtures" / "data" / "holzinger1939_missing.csv"
MODELS = ROOT / "tests" / "fixtures" / "models"
SEED = 1
R_TIMER = """
suppressPackageStartupMessages(library(lavaan))
args <- commandArgs(TRUE)
model <- paste(readLines(args[2]), collapse = "\\n")
fit <- suppressWarnings(sem(model, data = read.csv(args[1]), group = "school",
                            missing = "fiml"))
set.seed(1)
seconds <- system.time(draws <- suppressWarnings(
  bootstrapLavaan(fit, R = as.integer(args[3]), FUN = "coef")))[["elapsed"]]
failed <- length(attr(draws, "error.idx")) + sum(!stats::complete.cases(draws))
cat(seconds, failed, "\\n")
"""


def acsi_sem_per_replicate(package: Path, model: Path, replicates: int, repeats: int
                           ) -> tuple[float, int]:
    """acsi-sem's seconds per bootstrap replicate, and its failed replicates."""
    sys.path.insert(0, str(package))
    import acsi_sem

    print(f"acsi_sem from {Path(acsi_sem.__file__).parent}")
    options = {"group": "school", "missing": "fiml"}
    return timing.bootstrap_seconds_per_replicate(
        lambda **more: acsi_sem.fit(model, DATA, **options, **more), replicates, repeats,
        SEED)


def lavaan_per_replicate(model: Path, replicates: int) -> tuple[float, int] | None:
    """bootstrapLavaan's seconds per replicate and failed replicates, or None without R."""
    if shutil.which("Rscript") is None:
        return None
    completed = subprocess.run(["Rscript", "-e", R_TIMER, str(DATA), str(model),
                                str(replicates)], capture_output=True, text=True, check=False)
    try:
        seconds, failed = completed.stdout.split()[:2]
    except ValueError:
        print(completed.stderr[-500:], file=sys.stderr)
        return None
    return float(seconds) / replicates, int(float(failed))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicates", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--model", choices=["hs_cfa", "hs_constraints"], default="hs_cfa")
    parser.add_argument("--package", type=Path, default=ROOT,
                        help="the checkout whose acsi_sem is timed (default: this one)")
    parser.add_argument("--no-lavaan", action="store_true")
    arguments = parser.parse_args()
    model = MODELS / f"{arguments.model}.lav"
    ours, failed = acsi_sem_per_replicate(arguments.package.resolve(), model,
                                          arguments.replicates, arguments.repeats)
    print(f"{arguments.model} by school, FIML, {arguments.replicates} replicates")
    print(f"acsi-sem: {ours:.4f} s per replicate, {failed} failed")
    lavaan = None if arguments.no_lavaan else lavaan_per_replicate(model,
                                                                   arguments.replicates)
    if lavaan is not None:
        print(f"lavaan bootstrapLavaan: {lavaan[0]:.4f} s per replicate, {lavaan[1]} failed; "
              f"ratio lavaan / acsi-sem {lavaan[0] / ours:.1f}")


if __name__ == "__main__":
    main()
