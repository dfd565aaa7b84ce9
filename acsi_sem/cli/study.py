"""The ``study`` sub-command of ``acsi-sem``: a customer-satisfaction index study of many
companies. Arguments in, library calls, printing; no statistics here."""

from __future__ import annotations

import argparse
import sys

from acsi_sem.cli.common import emit, parse_scale

COMMANDS = ("study",)


def add_commands(commands: argparse._SubParsersAction) -> None:
    """Add ``study`` to the sub-command parsers."""
    study = commands.add_parser(
        "study", help="index study of many companies: company, industry, sector and national "
                      "indices, change between waves",
        description="Per-company 0-100 indices by weighted PLS, revenue-weighted industry "
                    "and sector indices, a national index and change between waves. Without "
                    "--data and --design, the model file's '# study:' design is used (the "
                    "shipped acsi model has a simulated 12-company study).")
    study.add_argument("model",
                       help="a shipped model's name (acsi, ecsi, ccsi, ccsi6) or a model file")
    study.add_argument("--data", help="survey file, one row per respondent")
    study.add_argument("--design", metavar="FILE",
                       help="TOML study design naming the data, revenue file and columns; "
                            "the options below override it")
    for name, text in (("company", "column naming each respondent's company (required, "
                                   "here or in the design)"),
                       ("industry", "column naming the company's industry"),
                       ("sector", "column naming the industry's sector"),
                       ("wave", "column naming the survey wave (e.g. the year)"),
                       ("weights", "column of sampling weights")):
        study.add_argument(f"--{name}", metavar="COLUMN", help=text)
    study.add_argument("--revenue", metavar="FILE",
                       help="CSV: company, [wave,] revenue[, industry, sector, gdp_share]")
    study.add_argument("--weights-by", default="pooled",
                       choices=["pooled", "industry", "company"],
                       help="measurement weights from one PLS fit of everyone (pooled, the "
                            "ACSI practice; default), per industry or per company")
    study.add_argument("--bootstrap", type=int, default=0, metavar="N",
                       help="stratified bootstrap replicates (default 0: linearized errors)")
    study.add_argument("--seed", type=int, help="seed of the bootstrap")
    study.add_argument("--scale", metavar="LOW-HIGH", help="answer scale, e.g. 1-10")
    study.add_argument("--jobs", type=int, default=1,
                       help="local worker processes for the bootstrap (default 1; -1: all)")
    study.add_argument("--scheduler", metavar="ADDRESS",
                       help="Dask distributed scheduler, e.g. tcp://10.0.0.5:8786")
    study.add_argument("--json", metavar="PATH",
                       help="also write the results as JSON to PATH ('-' for standard output)")
    study.add_argument("--report", metavar="DIR",
                       help="also write the study's HTML report and figures into DIR")


def run(arguments: argparse.Namespace) -> int:
    """Run ``study``; returns the exit status."""
    from acsi_sem.studies.run import study

    if arguments.report is not None:
        from acsi_sem.report.html import check_output_folder

        check_output_folder(arguments.report)  # before the fit: a mistake costs no waiting
    result = study(arguments.model, arguments.data, design=arguments.design,
                   company=arguments.company, industry=arguments.industry,
                   sector=arguments.sector, wave=arguments.wave, weights=arguments.weights,
                   revenue=arguments.revenue, weights_by=arguments.weights_by,
                   bootstrap=arguments.bootstrap, seed=arguments.seed,
                   scale=parse_scale(arguments.scale), jobs=arguments.jobs,
                   scheduler=arguments.scheduler, progress=sys.stderr.isatty())
    emit(str(result.summary()), result.to_dict(), arguments.json)
    if arguments.report is not None:
        from acsi_sem.report.study_report import write_study_report

        path = write_study_report(result, arguments.report)
        print(f"acsi-sem: wrote {path} and its figures", file=sys.stderr)
    return 0
