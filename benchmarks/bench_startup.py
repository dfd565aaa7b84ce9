"""Start-up time: `import acsi_sem`, `acsi-sem --help`, and semopy's import beside them.

    python benchmarks/bench_startup.py --repeats 10

Each figure is the median wall time of a fresh interpreter (what a user waits for), so the
interpreter's own start is included and printed alone as the floor.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time


def median_seconds(command: list[str], repeats: int) -> float:
    """Median wall time of ``command`` in a fresh process, after one warm-up run."""
    subprocess.run(command, check=True, capture_output=True)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    """Print each start-up time and its ratio to semopy's import."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=10)
    repeats = parser.parse_args().repeats
    python = sys.executable
    cases = {
        "python -c pass (the floor)": [python, "-c", "pass"],
        "import acsi_sem": [python, "-c", "import acsi_sem"],
        "acsi-sem --help": [python, "-m", "acsi_sem", "--help"],
        "import acsi_sem; acsi_sem.fit (loads the estimators)": [
            python, "-c", "import acsi_sem; acsi_sem.fit"],
        "import semopy": [python, "-c", "import semopy"],
    }
    seconds = {name: median_seconds(command, repeats) for name, command in cases.items()}
    semopy = seconds["import semopy"]
    for name, value in seconds.items():
        print(f"{name:55s} {value:6.3f} s   semopy import / this: {semopy / value:5.1f}")


if __name__ == "__main__":
    main()
