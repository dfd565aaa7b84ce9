"""Time the WLSMV bootstrap: acsi-sem against lavaan's bootstrapLavaan.

    python benchmarks/bench_wlsmv_bootstrap.py [--case acsi_ordinal|hs_ordinal_groups]
        [--replicates 100] [--repeats 3] [--package DIR] [--no-lavaan]

``acsi_ordinal``: the acsi_ordinal_wlsmv model (Complaints replaced by the item CUSCO) on
tests/fixtures/data/acsi_ordinal.csv, all 14 items ordered; ``hs_ordinal_groups``: the HS
CFA on holzinger1939_ordinal.csv by school with equal thresholds. acsi-sem's seconds per
replicate are (fit with the bootstrap - fit without) / replicates, each the median of
``--repeats`` runs after a warm-up; ``--package`` times another checkout's acsi_sem (e.g. an
older commit's, written out by ``git archive``). lavaan runs in an Rscript child that times
``bootstrapLavaan(fit, R = replicates, FUN = "coef")`` itself. Failed replicates (a resample
that lost an answer category, or no convergence) are cheap on both sides, so the figures
are per replicate requested. Prints; asserts nothing.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from functools import partial
from pathlib import Path

import timing

median_seconds = partial(timing.median_seconds, warm_up=False)

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "fixtures" / "data"
DIRECT = ((ROOT / "models" / "acsi.lav").read_text()
          .replace("Complaints   =~ CUSCO\n", "").replace("Complaints", "CUSCO"))
CASES = {
    "acsi_ordinal": (DIRECT, DATA / "acsi_ordinal.csv", {}),
    "hs_ordinal_groups": ((ROOT / "tests" / "fixtures" / "models" / "hs_cfa.lav").read_text(),
                          DATA / "holzinger1939_ordinal.csv",
                          {"group": "school", "group_equal": ["thresholds"]}),
}
SEED = 1
R_TIMER = """
suppressPackageStartupMessages(library(lavaan))
args <- commandArgs(TRUE)
data <- read.csv(args[1])
items <- setdiff(names(data), "school")
fit <- if (args[3] == "groups") {
  sem(args[2], data = data, group = "school", ordered = items, estimator = "WLSMV",
      group.equal = "thresholds")
} else sem(args[2], data = data, ordered = items, estimator = "WLSMV")
set.seed(1)
seconds <- system.time(draws <- suppressWarnings(
  bootstrapLavaan(fit, R = as.integer(args[4]), FUN = "coef")))[["elapsed"]]
cat(seconds, sum(!stats::complete.cases(draws)), "\\n")
"""


def acsi_sem_per_replicate(package: Path, case: str, replicates: int, repeats: int
                           ) -> tuple[float, int]:
    """acsi-sem's seconds per bootstrap replicate, and its failed replicates."""
    sys.path.insert(0, str(package))
    import acsi_sem

    print(f"acsi_sem from {Path(acsi_sem.__file__).parent}")
    model, data, options = CASES[case]
    options = {"estimator": "wlsmv", "ordered": "all", **options}
    return timing.bootstrap_seconds_per_replicate(
        lambda **more: acsi_sem.fit(model, data, **options, **more), replicates, repeats,
        SEED)


def lavaan_per_replicate(case: str, replicates: int) -> tuple[float, int] | None:
    """bootstrapLavaan's seconds per replicate and failed replicates, or None without R."""
    if shutil.which("Rscript") is None:
        return None
    model, data, options = CASES[case]
    completed = subprocess.run(["Rscript", "-e", R_TIMER, str(data), model,
                                "groups" if options else "single", str(replicates)],
                               capture_output=True, text=True, check=False)
    try:
        seconds, failed = completed.stdout.split()[:2]
    except ValueError:
        print(completed.stderr[-500:], file=sys.stderr)
        return None
    return float(seconds) / replicates, int(float(failed))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", choices=list(CASES), default="acsi_ordinal")
    parser.add_argument("--replicates", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--package", type=Path, default=ROOT,
                        help="the checkout whose acsi_sem is timed (default: this one)")
    parser.add_argument("--no-lavaan", action="store_true")
    arguments = parser.parse_args()
    ours, failed = acsi_sem_per_replicate(arguments.package.resolve(), arguments.case,
                                          arguments.replicates, arguments.repeats)
    print(f"{arguments.case}, WLSMV, {arguments.replicates} replicates")
    print(f"acsi-sem: {ours:.4f} s per replicate, {failed} failed")
    lavaan = None if arguments.no_lavaan else lavaan_per_replicate(arguments.case,
                                                                   arguments.replicates)
    if lavaan is not None:
        print(f"lavaan bootstrapLavaan: {lavaan[0]:.4f} s per replicate, {lavaan[1]} failed; "
              f"ratio lavaan / acsi-sem {lavaan[0] / ours:.1f}")


if __name__ == "__main__":
    main()
