"""The PLS analyses beside the fit: ``acsi-sem predict`` (PLSpredict and CVPAT)."""

from __future__ import annotations

import argparse
from pathlib import Path

from acsi_sem.cli.common import emit
from acsi_sem.errors import DataError

COMMANDS = ("predict",)


def add_commands(commands: argparse._SubParsersAction) -> None:
    """Add ``predict`` to the sub-command parsers."""
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
    predict.add_argument("--json", metavar="FILE", help="write the results as JSON ('-': "
                                                        "standard output)")
    predict.add_argument("--plot", metavar="FOLDER",
                         help="save the RMSE chart as prediction.png in FOLDER")


def run(arguments: argparse.Namespace) -> int:
    """Run ``predict``; returns the exit status."""
    from acsi_sem.prediction import compare_predictions, draw_folds, pls_predict

    if arguments.plot and not Path(arguments.plot).is_dir():
        raise DataError(f"{arguments.plot}: cannot save the figure there, the folder does not "
                        "exist")
    settings = {"technique": arguments.technique, "seed": arguments.seed}
    first = pls_predict(arguments.model, arguments.data, folds=arguments.folds,
                        repetitions=arguments.repetitions, **settings)
    text, document = first.summary(), first.to_dict()
    if arguments.compare:
        folds = draw_folds(len(first.predictions.actual), arguments.folds,
                           arguments.repetitions, arguments.seed)
        # Both models predict the same respondents: the first model's data.
        data = arguments.data or _default_data(arguments.model)
        second = pls_predict(arguments.compare, data, assignments=folds, **settings)
        test = compare_predictions(first, second)
        text += (f"\n\nCVPAT against {arguments.compare}: loss {test['loss']:.4f} against "
                 f"{test['benchmark_loss']:.4f}, t({int(test['df'])}) = {test['t']:.3f}, "
                 f"one-sided p = {test['pvalue']:.4f}")
        document["compare"] = {"model": arguments.compare, **test.to_dict()}
    if arguments.plot:
        from acsi_sem.report.prediction import prediction_figure

        prediction_figure(first).savefig(Path(arguments.plot) / "prediction.png", dpi=120)
    emit(text, document, arguments.json)
    return 0


def _default_data(model: str) -> Path | None:
    from acsi_sem.api import resolve_model

    model_file, _ = resolve_model(model)
    return model_file.default_data if model_file is not None else None
