"""Time one CB-SEM fit: acsi-sem against semopy (and lavaan where R is installed).

    python benchmarks/bench_cbsem.py [--repeats 10]

acsi-sem and semopy run side by side in this process on the same data; lavaan runs in an
Rscript child that times its own fits, so its figure excludes R's start-up. Prints median
seconds per fit and the ratios; nothing is asserted.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import semopy

ROOT = Path(__file__).resolve().parent.parent
# This checkout's package, not an installed copy.
sys.path.insert(0, str(ROOT))

from timing import median_seconds  # noqa: E402

import acsi_sem  # noqa: E402
from acsi_sem.model.modelfile import load_model_file  # noqa: E402

CASES = {"acsi (n=2500)": ("acsi", "data/acsi_simulated.csv"),
         "ecsi (n=250)": ("ecsi", "data/mobi.csv")}
R_TIMER = """
suppressPackageStartupMessages(library(lavaan))
args <- commandArgs(TRUE); d <- read.csv(args[1]); m <- paste(readLines(args[2]), collapse="\\n")
times <- replicate(as.integer(args[3]), system.time(sem(m, data = d))[["elapsed"]])
cat(median(times), "\\n")
"""


def semopy_fit(model_text: str, data: pd.DataFrame) -> None:
    """What a semopy user runs: fit, then the estimates table with standard errors."""
    model = semopy.Model(model_text)
    model.fit(data)
    model.inspect()


def lavaan_seconds(data_path: Path, model_path: Path, repeats: int) -> float | None:
    if shutil.which("Rscript") is None:
        return None
    completed = subprocess.run(["Rscript", "-e", R_TIMER, str(data_path), str(model_path),
                                str(repeats)], capture_output=True, text=True, check=False)
    try:
        return float(completed.stdout.split()[0])
    except (IndexError, ValueError):
        return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=10)
    repeats = parser.parse_args().repeats
    print(f"{'case':<16}{'acsi-sem s':>12}{'semopy s':>12}{'ratio':>8}{'lavaan s':>12}"
          f"{'ratio':>8}")
    for label, (name, data_file) in CASES.items():
        model = load_model_file(name)
        data = pd.read_csv(ROOT / data_file)
        ours = median_seconds(lambda: acsi_sem.fit(model, data), repeats)  # noqa: B023
        theirs = median_seconds(lambda: semopy_fit(model.text, data), repeats)  # noqa: B023
        lavaan = lavaan_seconds(ROOT / data_file, model.path, repeats)
        lavaan_text = (f"{lavaan:>12.3f}{ours / lavaan:>8.2f}" if lavaan
                       else f"{'-':>12}{'-':>8}")
        print(f"{label:<16}{ours:>12.3f}{theirs:>12.3f}{ours / theirs:>8.2f}{lavaan_text}")
    print("ratio = acsi-sem time / other time (below 1 means acsi-sem is faster)")


if __name__ == "__main__":
    main()
