"""The ``simulate`` and ``power`` sub-commands of ``acsi-sem``: arguments in, library calls,
printing. No statistics here."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from acsi_sem.cli.common import emit, parse_scale
from acsi_sem.errors import AcsiSemError

if TYPE_CHECKING:
    from acsi_sem.simulation.power import PowerStudy

COMMANDS = ("simulate", "power")


def add_commands(commands: argparse._SubParsersAction) -> None:
    """Add ``simulate`` and ``power`` to the sub-command parsers."""
    simulate = commands.add_parser(
        "simulate", help="draw survey data from a population model or a fitted model")
    simulate.add_argument("model", help="a model file whose every parameter has a value "
                                        "(0.8*x), a result saved by fit --json, or a model "
                                        "fitted to --data whose estimates become the "
                                        "population")
    simulate.add_argument("--data", help="data the model is fitted to (default: its own)")
    simulate.add_argument("--n", type=int, required=True, help="respondents to draw")
    simulate.add_argument("--seed", type=int, required=True, help="seed of the draw")
    simulate.add_argument("--out", required=True, metavar="FILE", help="CSV file to write")
    simulate.add_argument("--scale", metavar="LOW-HIGH",
                          help="round and clip the answers to this scale (default: "
                               "continuous values)")
    power = commands.add_parser(
        "power", help="Monte Carlo power, bias, RMSE and coverage per sample size")
    power.add_argument("model", help="the analysis model (shipped name or model file)")
    power.add_argument("--population", metavar="FILE",
                       help="population: a model file with a value for every parameter or a "
                            "result saved by fit --json "
                            "(default: the model fitted to --data or its own data)")
    power.add_argument("--data", help="data the model is fitted to when no --population")
    power.add_argument("--n", required=True, metavar="N1,N2,...",
                       help="sample sizes, comma-separated, e.g. 100,200,400")
    power.add_argument("--reps", type=int, default=500, help="replications per sample size "
                                                            "(default: 500)")
    power.add_argument("--seed", type=int, required=True, help="seed of the study")
    power.add_argument("--alpha", type=float, default=0.05, help="test level (default 0.05)")
    power.add_argument("--jobs", type=int, default=-1,
                       help="local worker processes (default: every core)")
    power.add_argument("--scheduler", metavar="ADDRESS",
                       help="Dask distributed scheduler, e.g. tcp://10.0.0.5:8786")
    power.add_argument("--json", metavar="PATH", help="also write the study as JSON ('-': "
                                                      "standard output)")
    power.add_argument("--plot", metavar="PATH", help="write the power curves to an image "
                                                      "(PNG, SVG or PDF)")


def run(arguments: argparse.Namespace) -> int:
    """Run ``simulate`` or ``power``; returns the exit status."""
    if arguments.command == "simulate":
        return _simulate(arguments)
    return _power(arguments)


def _simulate(arguments: argparse.Namespace) -> int:
    from acsi_sem.simulation.simulate import draw_survey, population_from_model
    from acsi_sem.survey.files import write_atomically

    if arguments.n < 1:
        raise AcsiSemError(f"--n must be at least 1, not {arguments.n}")
    population = population_from_model(arguments.model, arguments.data)
    survey = draw_survey(population, arguments.n, seed=arguments.seed,
                         scale=parse_scale(arguments.scale))
    write_atomically(Path(arguments.out), survey.to_csv(index=False))
    print(f"wrote {arguments.n} respondents drawn from {population.description} "
          f"(seed {arguments.seed}) to {arguments.out}")
    return 0


def _power(arguments: argparse.Namespace) -> int:
    from acsi_sem.api import resolve_model
    from acsi_sem.simulation.power import power_study
    from acsi_sem.simulation.simulate import population_from_model

    model_file, spec = resolve_model(arguments.model)
    source = arguments.population or model_file or spec
    population = population_from_model(source, None if arguments.population
                                       else arguments.data)
    study = power_study(spec, population, _sizes(arguments.n), replications=arguments.reps,
                        seed=arguments.seed, alpha=arguments.alpha, jobs=arguments.jobs,
                        scheduler=arguments.scheduler, progress=sys.stderr.isatty(),
                        model_name=model_file.name if model_file is not None else "model")
    emit(_report(study), study.to_dict(), arguments.json)
    if arguments.plot:
        study.plot(arguments.plot)
    return 0


def _sizes(text: str) -> list[int]:
    try:
        sizes = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise AcsiSemError(f"cannot read the sample sizes {text!r}; write them as "
                           "100,200,400") from None
    if not sizes:
        raise AcsiSemError("--n needs at least one sample size, e.g. 100,200,400")
    return sizes


def _report(study: PowerStudy) -> str:
    table = study.table[["parameter", "n", "population", "bias", "rmse", "coverage",
                         "power", "converged"]]
    header = (f"Monte Carlo power study of {study.model}: {study.replications} replications "
              f"per n (seed {study.seed}); population: {study.population}\n"
              f"power: share of Wald tests rejecting parameter = 0 at alpha = "
              f"{study.alpha:g}; coverage: share of {study.level:.0%} Wald intervals holding "
              "the population value\n")
    return header + table.to_string(index=False, float_format=lambda v: f"{v:.3f}")
