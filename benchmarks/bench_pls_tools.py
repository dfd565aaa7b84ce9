"""Speed of the PLS analyses beside the fit, against seminr where it is installed.

    python benchmarks/bench_pls_tools.py [--folds 10] [--repetitions 10] [--repeats 3]

ECSI on mobi (250 respondents, 24 items), side by side in this one process:

1. PLSpredict, ``--folds`` x ``--repetitions``: ``acsi_sem.pls_predict`` (every training
   fold estimated at once) against seminr's ``predict_pls`` called once per repetition with
   the same folds (seminr 0.2.1 from PyPI, one core);
2. the same through the whole command ``acsi-sem predict ecsi`` in a child process
   (start-up, imports, reading, text and JSON);
3. the two-group comparison, mobi split into its first and second 125 respondents:
   ``acsi_sem.pls_groups.compare_groups`` with ``--permutations`` permutations (MICOM and the
   permutation test) and ``--mga-bootstrap`` replicates per group (Henseler's MGA), against
   seminr's ``estimate_pls_mga`` with the same bootstrap (seminr has no MICOM or
   permutation test).

Prints the median seconds of ``--repeats`` runs and the ratios (seminr / acsi-sem: above 1
means acsi-sem is faster); nothing is asserted. BLAS runs single-threaded (set before numpy
loads).
"""

from __future__ import annotations

import os

for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import argparse
import subprocess
import sys
from collections.abc import Callable
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
import timing

# This script warms up itself.
median_seconds = partial(timing.median_seconds, warm_up=False)

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def seminr_predict(assignments: np.ndarray) -> Callable[[], object] | None:
    """seminr's predict_pls on the same folds, one call per repetition (None without
    seminr)."""
    try:
        from seminr import estimate_pls, path_weighting, predict_pls
    except ImportError:
        return None
    sys.path.insert(0, str(ROOT / "tests" / "fixtures" / "seminr"))
    from make_fixtures import measurement_model, structural_model

    data = pd.read_csv(ROOT / "data" / "mobi.csv")
    model = estimate_pls(data, measurement_model("modeA"), structural_model(),
                         inner_weights=path_weighting)
    folds = assignments.max() + 1
    # seminr cuts a shuffled order into contiguous folds: order the rows fold by fold.
    orderings = [[int(i) for i in np.argsort(row, kind="stable")] for row in assignments]

    def run() -> None:
        for ordering in orderings:
            predict_pls(model, no_folds=int(folds), ordering=ordering)

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", type=int, default=10)
    parser.add_argument("--repetitions", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--permutations", type=int, default=5000)
    parser.add_argument("--mga-bootstrap", type=int, default=1000)
    arguments = parser.parse_args()

    from acsi_sem.prediction import draw_folds, pls_predict

    assignments = draw_folds(250, arguments.folds, arguments.repetitions, seed=1)
    ours = median_seconds(lambda: pls_predict("ecsi", assignments=assignments),
                          arguments.repeats)
    command = [sys.executable, "-m", "acsi_sem.cli.main", "predict", "ecsi", "--folds",
               str(arguments.folds), "--repetitions", str(arguments.repetitions), "--seed",
               "1", "--json", os.devnull]
    whole = median_seconds(lambda: subprocess.run(command, check=True, capture_output=True),
                           arguments.repeats)
    print(f"PLSpredict, ECSI on mobi, {arguments.folds} folds x {arguments.repetitions} "
          "repetitions")
    print(f"  acsi-sem in process      {ours:8.3f} s")
    print(f"  acsi-sem whole command   {whole:8.3f} s")
    other = seminr_predict(assignments)
    if other is None:
        print("  seminr                   not installed (pip install seminr==0.2.1)")
    else:
        theirs = median_seconds(other, arguments.repeats)
        print(f"  seminr predict_pls       {theirs:8.3f} s   ratio {theirs / ours:6.1f} in "
              f"process, {theirs / whole:6.1f} whole command")
    groups(arguments)


def groups(arguments: argparse.Namespace) -> None:
    from acsi_sem.pls_groups import compare_groups

    data = pd.read_csv(ROOT / "data" / "mobi.csv")
    first = np.arange(len(data)) < len(data) // 2
    data["half"] = np.where(first, "first", "second")
    ours = median_seconds(lambda: compare_groups(
        "ecsi", data, group="half", permutations=arguments.permutations,
        bootstrap=arguments.mga_bootstrap, seed=1), arguments.repeats)
    print(f"Groups, ECSI on mobi halves: {arguments.permutations} permutations + "
          f"{arguments.mga_bootstrap} bootstrap replicates per group")
    print(f"  acsi-sem compare_groups  {ours:8.3f} s")
    try:
        from seminr import estimate_pls, estimate_pls_mga, path_weighting
    except ImportError:
        print("  seminr                   not installed (pip install seminr==0.2.1)")
        return
    from make_fixtures import measurement_model, structural_model

    model = estimate_pls(data.drop(columns="half"), measurement_model("modeA"),
                         structural_model(), inner_weights=path_weighting)
    theirs = median_seconds(lambda: estimate_pls_mga(model, first,
                                                     nboot=arguments.mga_bootstrap, seed=1),
                            arguments.repeats)
    print(f"  seminr estimate_pls_mga  {theirs:8.3f} s   (bootstrap MGA only) ratio "
          f"{theirs / ours:6.1f}")


if __name__ == "__main__":
    main()
