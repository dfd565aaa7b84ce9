"""The PLS analyses beside the fit: ``acsi-sem predict`` (PLSpredict and CVPAT) and
``acsi-sem groups`` (MICOM and multi-group analysis)."""

from __future__ import annotations

import argparse
from pathlib import Path

from acsi_sem.cli.common import emit
from acsi_sem.errors import DataError

COMMANDS = ("predict", "groups")


def add_commands(commands: argparse._SubParsersAction) -> None:
    """Add ``predict`` and ``groups`` to the sub-command parsers."""
    _add_groups(commands)
    predict = commands.add_parser(
        "predict", help="PLSpredict: out-of-sample prediction by repeated k-fold "
                        "cross-validation, with CVPAT against benchmarks or a second model")
    predict.add_argument("model", help="a shipped model's name or a model file")
    predict.add_argument("--data", help="survey file; default: the model's embedded data")
    predict.add_argument("--folds", type=int, default=10, help="k folds (default: 10)")
    predict.add_argument("--repetitions", type=int, default=10,
                         help="times the folds are drawn anew (default: 10)")
    predict.add_argument("--seed", type=int, help="seed of the fold draws")
    predict.add_argument("--technique", default="direct", choices=["direct", "earliest"],
                         help="predict from the direct antecedents (default) or the "
                              "earliest (exogenous) ones")
    predict.add_argument("--compare", metavar="MODEL",
                         help="a second model predicting the same items: CVPAT of the first "
                              "against it, on the same folds")
    predict.add_argument("--blindfolding", type=int, metavar="D",
                         help="also Stone-Geisser's Q2 by blindfolding with omission "
                              "distance D (e.g. 7)")
    predict.add_argument("--json", metavar="FILE", help="write the results as JSON ('-': "
                                                        "standard output)")
    predict.add_argument("--plot", metavar="FOLDER",
                         help="save the RMSE chart as prediction.png in FOLDER")


def _add_groups(commands: argparse._SubParsersAction) -> None:
    groups = commands.add_parser(
        "groups", help="two groups in PLS: MICOM (compositional invariance, equal means and "
                       "variances) and multi-group analysis of the paths (permutation, "
                       "Henseler's bootstrap MGA, parametric and Welch tests)")
    groups.add_argument("model", help="a shipped model's name or a model file")
    groups.add_argument("--data", help="survey file; default: the model's embedded data")
    groups.add_argument("--group", required=True, metavar="COLUMN",
                        help="the column naming the groups")
    groups.add_argument("--compare", metavar="A,B",
                        help="the two groups to compare when the column has more")
    groups.add_argument("--permutations", type=int, default=5000,
                        help="label permutations (default: 5000)")
    groups.add_argument("--bootstrap", type=int, default=1000,
                        help="bootstrap replicates per group (default: 1000; 0: none)")
    groups.add_argument("--seed", type=int, help="seed of the permutations and bootstrap")
    groups.add_argument("--json", metavar="FILE", help="write the results as JSON ('-': "
                                                       "standard output)")


def run(arguments: argparse.Namespace) -> int:
    """Run ``predict`` or ``groups``; returns the exit status."""
    if arguments.command == "groups":
        return _groups(arguments)
    return _predict(arguments)


def _groups(arguments: argparse.Namespace) -> int:
    from acsi_sem.pls_groups import compare_groups

    chosen = None
    if arguments.compare:
        chosen = tuple(name.strip() for name in arguments.compare.split(","))
    result = compare_groups(arguments.model, arguments.data, group=arguments.group,
                            groups=chosen, permutations=arguments.permutations,
                            bootstrap=arguments.bootstrap, seed=arguments.seed)
    emit(result.summary(), result.to_dict(), arguments.json)
    return 0


def _predict(arguments: argparse.Namespace) -> int:
    from acsi_sem.prediction import compare_predictions, pls_predict

    if arguments.plot and not Path(arguments.plot).is_dir():
        raise DataError(f"{arguments.plot}: cannot save the figure there, the folder does not "
                        "exist")
    settings = {"technique": arguments.technique, "seed": arguments.seed}
    first = pls_predict(arguments.model, arguments.data, folds=arguments.folds,
                        repetitions=arguments.repetitions, **settings)
    text, document = first.summary(), first.to_dict()
    if arguments.compare:
        # The second model is judged on the first one's folds, drawn or not by a seed.
        folds = first.assignments
        # Both models predict the same respondents: the first model's data.
        data = arguments.data or _default_data(arguments.model)
        second = pls_predict(arguments.compare, data, assignments=folds, **settings)
        test = compare_predictions(first, second)
        text += (f"\n\nCVPAT against {arguments.compare}: loss {test['loss']:.4f} against "
                 f"{test['benchmark_loss']:.4f}, t({int(test['df'])}) = {test['t']:.3f}, "
                 f"one-sided p = {test['pvalue']:.4f}")
        document["compare"] = {"model": arguments.compare, **test.to_dict()}
    if arguments.blindfolding is not None:
        from acsi_sem.prediction import blindfolding
        from acsi_sem.report.json_document import table_records

        table = blindfolding(arguments.model, arguments.data,
                             omission_distance=arguments.blindfolding)
        text += (f"\n\nBlindfolding Q2 (cross-validated redundancy, omission distance "
                 f"{arguments.blindfolding}):\n"
                 + table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
        document["blindfolding"] = table_records(table)
    if arguments.plot:
        from acsi_sem.report.pls_sections import prediction_figure

        prediction_figure(first).savefig(Path(arguments.plot) / "prediction.png", dpi=120)
    emit(text, document, arguments.json)
    return 0


def _default_data(model: str) -> Path | None:
    from acsi_sem.api import resolve_model

    model_file, _ = resolve_model(model)
    return model_file.default_data if model_file is not None else None
