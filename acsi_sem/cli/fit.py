"""The ``models``, ``fit`` and ``report`` sub-commands of ``acsi-sem``: arguments in, library
calls, printing. No statistics here."""

from __future__ import annotations

import argparse
import sys

from acsi_sem.cli.common import emit, parse_scale
from acsi_sem.errors import AcsiSemError
from acsi_sem.estimators.options import ESTIMATORS

COMMANDS = ("models", "fit", "report")


def add_commands(commands: argparse._SubParsersAction) -> None:
    """Add ``models``, ``fit`` and ``report`` to the sub-command parsers."""
    commands.add_parser("models", help="list the shipped models")
    fit = commands.add_parser("fit", help="fit a model and print its summary")
    fit.add_argument("model",
                       help="a shipped model's name (acsi, ecsi, ccsi, ccsi6) or a model file")
    fit.add_argument("--data", help="survey file (CSV, Excel, SPSS .sav, Stata .dta); "
                                    "default: the model's embedded data")
    fit.add_argument("--estimator", default="ml", choices=list(ESTIMATORS),
                     help="ml (CB-SEM), mlr (CB-SEM, robust SEs and scaled test), wlsmv "
                          "(CB-SEM for ordered items), gls/uls/dwls/wls (least-squares "
                          "CB-SEM of continuous answers), ulsm/ulsmv/wlsm (ULS or DWLS with "
                          "robust SEs and a scaled test), pls (PLS path modelling) or plsc "
                          "(consistent PLS)")
    fit.add_argument("--kind", choices=["sem", "cfa", "growth"],
                     help="lavaan's defaults to use: sem/cfa (default, or the model file's "
                          "'# kind:') or growth (latent growth: intercepts 0, latent means "
                          "free)")
    fit.add_argument("--fixed-x", action="store_true", default=None,
                     help="with a least-squares estimator (gls ... wlsm): hold the observed "
                          "covariates' moments at the sample's (lavaan's fixed.x = TRUE); "
                          "by default they are estimated, lavaan's default for these")
    fit.add_argument("--ordered", metavar="ITEMS",
                     help="with --estimator wlsmv: 'all' (default) or the ordered items, "
                          "comma-separated; the model's other items are continuous")
    fit.add_argument("--scheme", default="path", choices=["path", "factorial", "centroid"],
                     help="PLS inner weighting scheme (default: path)")
    _add_moderation_option(fit)
    fit.add_argument("--exact-fit", type=int, metavar="R",
                     help="PLS/PLSc: bootstrap test of exact fit with R replicates (499 is "
                          "usual; seeded by --seed): HI95, HI99 and p-values of SRMR, d_ULS "
                          "and d_G")
    fit.add_argument("--bootstrap", type=int, default=0, metavar="N",
                     help="bootstrap replicates for standard errors and intervals")
    fit.add_argument("--seed", type=int, help="seed of the bootstrap")
    fit.add_argument("--ci", default="percentile", choices=["percentile", "bca"],
                     help="bootstrap interval reported (default: percentile)")
    fit.add_argument("--missing", default="listwise", choices=["listwise", "fiml"],
                     help="missing answers: delete the respondent (listwise, default) or use "
                          "every answer given (fiml; estimator ml)")
    fit.add_argument("--weights", metavar="COLUMN",
                     help="column of sampling weights (zero or more, none missing)")
    fit.add_argument("--tolerance", type=float, default=1e-7,
                     help="PLS convergence tolerance on the outer weights (default: 1e-7)")
    fit.add_argument("--max-iterations", type=int, default=300, metavar="N",
                     help="PLS iteration limit (default: 300)")
    fit.add_argument("--group", metavar="COLUMN",
                     help="CB-SEM: fit one model per group (multi-group); PLS: report the "
                          "0-100 index per group")
    fit.add_argument("--group-equal", metavar="CLASSES", default="",
                     help="with --group: parameter classes held equal across groups, "
                          "comma-separated: loadings, intercepts, residuals, regressions, "
                          "means, residual.covariances, lv.variances, lv.covariances")
    fit.add_argument("--invariance", action="store_true",
                     help="with --group: fit the configural, metric, scalar and strict "
                          "models and compare them (chi-square difference, delta CFI)")
    fit.add_argument("--scale", metavar="LOW-HIGH",
                     help="answer scale, e.g. 1-10 (default: the model file's '# scale:')")
    fit.add_argument("--chunksize", type=int, metavar="ROWS",
                     help="read the CSV data in chunks of ROWS rows, keeping only N, means and "
                          "covariances (files larger than memory; estimator ml; automatic "
                          "for files of 256 MiB or more)")
    fit.add_argument("--modindices", nargs="?", const=0.0, type=float, metavar="MIN",
                     help="CB-SEM (ML): also print the modification indices of the "
                          "parameters left out, those of at least MIN (default: all; e.g. "
                          "3.84), largest first; the JSON gets 'modification_indices'")
    fit.add_argument("--standardized-se", nargs="?", const="std_all",
                     choices=("std_all", "std_lv", "std_nox"), metavar="KIND",
                     help="CB-SEM: also print lavaan's standardizedSolution() - standardized "
                          "estimates (KIND std_all, the default, std_lv or std_nox) with "
                          "delta-method "
                          "SEs, z, p and 95%% intervals; the JSON gets "
                          "'standardized_solution'")
    fit.add_argument("--bollen-stine", type=int, default=0, metavar="B",
                     help="CB-SEM (ML/MLR): also test the chi-square by B replicates of the "
                          "Bollen-Stine bootstrap (seed: --seed); its p-value joins the fit "
                          "indices")
    fit.add_argument("--score-test", action="store_true",
                     help="CB-SEM (ML/MLR, complete data): also print lavaan's lavTestScore() "
                          "of the equality constraints (shared labels, --group-equal, '=='): "
                          "releasing all at once and each alone (the JSON has 'score_test' "
                          "whenever it is defined)")
    fit.add_argument("--score-test-add", metavar="SYNTAX",
                     help="CB-SEM (ML/MLR): also print lavaan's lavTestScore(add = SYNTAX, "
                          "epc = TRUE): the score tests of adding the parameters written in "
                          "lavaan syntax (e.g. 'visual =~ x9; x7 ~~ x8'), all at once and "
                          "each alone with its EPC (the JSON gets 'added_parameters_test')")
    fit.add_argument("--tables", metavar="FILE",
                     help="also write the paper's APA tables (estimates, fit, measurement, "
                          "discriminant validity, index, mediation, invariance: those the fit "
                          "has) to FILE: .md, .tex, .xlsx or .docx (Word with the path "
                          "diagram)")
    fit.add_argument("--mediation", action="store_true",
                     help="with --bootstrap: also print every specific indirect effect, the "
                          "total indirect and total effects with intervals and the mediation "
                          "type (Zhao, Lynch & Chen 2010); the JSON gets 'mediation'")
    fit.add_argument("--json", metavar="PATH",
                     help="also write the results as JSON to PATH ('-' for standard output)")
    _add_report_command(commands)


def _add_report_command(commands) -> None:
    report = commands.add_parser(
        "report", help="fit a model and write an HTML report with diagram and plots")
    report.add_argument("model", help="a shipped model's name or a model file")
    report.add_argument("--data", help="survey file; default: the model's embedded data")
    report.add_argument("--estimator", default="pls", choices=list(ESTIMATORS),
                        help="estimator (default: pls, which gives the 0-100 index)")
    report.add_argument("--bootstrap", type=int, default=0, metavar="N",
                        help="bootstrap replicates (intervals, significance stars for PLS)")
    report.add_argument("--seed", type=int, help="seed of the bootstrap")
    report.add_argument("--group", metavar="COLUMN",
                        help="PLS: also report the index per group; CB-SEM: fit one model "
                             "per group, one diagram each")
    report.add_argument("--scale", metavar="LOW-HIGH", help="answer scale, e.g. 1-10")
    _add_moderation_option(report)
    report.add_argument("--weights", metavar="COLUMN",
                        help="column of sampling weights (zero or more, none missing)")
    report.add_argument("--target", metavar="CONSTRUCT",
                        help="construct of the importance-performance map (default: the "
                             "last in the causal order, e.g. Loyalty)")
    report.add_argument("--predict", action="store_true",
                        help="PLS: add PLSpredict and CVPAT (10 folds x 10 repetitions, "
                             "seeded by --seed) and blindfolding's Q2")
    report.add_argument("--compare-groups", action="store_true",
                        help="with --group of two groups: add MICOM and the multi-group "
                             "analysis (5000 permutations, 1000 bootstrap replicates per "
                             "group, seeded by --seed)")
    report.add_argument("--no-indicators", action="store_true",
                        help="draw the constructs only in the path diagram")
    report.add_argument("--style", default="default", choices=["default", "journal"],
                        help="path diagram style: grey fills (default) or journal (black "
                             "and white, serif, no fills)")
    report.add_argument("--layout", choices=["auto", "causal"],
                        help="path diagram layout instead of the model file's '# layout:' "
                             "(auto: aspect near a page's; causal: a column per causal step)")
    report.add_argument("--pdf", action="store_true",
                        help="also print the report to report.pdf with a headless Chromium "
                             "or Chrome (an error saying so where none is installed)")
    report.add_argument("--out", required=True, metavar="DIR",
                        help="folder for report.html and the figure files (created if "
                             "missing; other files in it are left alone)")


def _add_moderation_option(parser: argparse.ArgumentParser) -> None:
    from acsi_sem.estimators.options import HIGHER_ORDER_METHODS, MODERATION_METHODS

    parser.add_argument("--moderation", default="two_stage", choices=MODERATION_METHODS,
                        help="PLS with interaction terms (Y ~ A + B + A:B in the model): how "
                             "each term is measured (default: two_stage); the summary and "
                             "the JSON 'moderation' give the effect, f2 and simple slopes")
    parser.add_argument("--higher-order", default="two_stage", choices=HIGHER_ORDER_METHODS,
                        help="PLS with higher-order constructs (H =~ A + B for constructs A "
                             "and B): the two-stage approach (default) or repeated "
                             "indicators")


def run(arguments: argparse.Namespace) -> int:
    """Run ``models``, ``fit`` or ``report``; returns the exit status."""
    if arguments.command == "models":
        return _list_models()
    if arguments.command == "report":
        return _report(arguments)
    return _fit(arguments)


def _list_models() -> int:
    from acsi_sem.model.modelfile import shipped_models

    for model in shipped_models():
        spec = model.spec
        data = model.header.get("data", "-")
        print(f"{model.name:<8}{model.title}\n{'':<8}{len(spec.latent)} latent variables, "
              f"{len(spec.observed)} indicators; default data: {data}")
    return 0


def _fit(arguments: argparse.Namespace) -> int:
    from acsi_sem.api import fit
    from acsi_sem.report.json_document import table_records

    options = dict(estimator=arguments.estimator, scheme=arguments.scheme,
                   bootstrap=arguments.bootstrap, seed=arguments.seed, ci=arguments.ci,
                   scale=parse_scale(arguments.scale), tolerance=arguments.tolerance,
                   max_iterations=arguments.max_iterations, missing=arguments.missing,
                   ordered=arguments.ordered, weights=arguments.weights,
                   moderation=arguments.moderation, higher_order=arguments.higher_order,
                   kind=arguments.kind, bollen_stine=arguments.bollen_stine,
                   fixed_x=arguments.fixed_x, progress=sys.stderr.isatty())
    if arguments.invariance:
        result, text, document = _invariance(arguments, options)
    else:
        result = fit(arguments.model, arguments.data, group=arguments.group,
                     group_equal=arguments.group_equal, chunksize=arguments.chunksize,
                     **options)
        text, document = str(result.summary()), result.to_dict()
    if arguments.modindices is not None:
        table = result.modification_indices(arguments.modindices)
        text += "\n\n" + modification_text(table, arguments.modindices)
        document["modification_indices"] = table_records(table)
    if arguments.standardized_se:
        table = result.standardized_solution(arguments.standardized_se)
        text += (f"\n\nStandardized solution ({arguments.standardized_se}; delta-method "
                 "standard errors):\n" + table.to_string(
                     index=False, float_format=lambda v: f"{v:.3f}", na_rep=""))
        document["standardized_solution"] = table_records(table)
    if arguments.score_test:
        text += "\n\n" + score_test_text(result)
    if arguments.score_test_add:
        from acsi_sem.report.json_document import score_test_records

        test = result.added_parameters_test(arguments.score_test_add)
        text += "\n\n" + added_test_text(test)
        document["added_parameters_test"] = score_test_records(test)
    if arguments.mediation:
        table = result.mediation()
        text += "\n\nMediation (bootstrap intervals; Zhao, Lynch & Chen 2010):\n" + \
            table.drop(columns=["cause", "outcome"]).to_string(
                index=False, float_format=lambda v: f"{v:.3f}", na_rep="")
        document["mediation"] = table_records(table)
    if arguments.exact_fit is not None:
        from acsi_sem.estimators.pls_fit_test import exact_fit_test

        _refuse_weights(arguments, "--exact-fit")

        table = exact_fit_test(arguments.model, arguments.data, replicates=arguments.exact_fit,
                               seed=arguments.seed, estimator=arguments.estimator,
                               scheme=arguments.scheme, tolerance=arguments.tolerance,
                               max_iterations=arguments.max_iterations)
        text += ("\n\nTest of exact fit (bootstrap of the rotated data; reject exact fit "
                 "when the value exceeds HI95):\n" + table.to_string(
                     index=False, float_format=lambda v: f"{v:.4f}"))
        document["exact_fit"] = table_records(table)
    if arguments.tables:
        written = _write_tables(result, document, arguments.tables)
        text += f"\n\nTables for a paper (APA 7) written to {written}"
    emit(text, document, arguments.json)
    return 0


def _write_tables(result, document: dict, path: str):
    from acsi_sem.report.paper_tables import paper_tables
    from acsi_sem.report.table_files import table_format, write_tables

    file_format = table_format(path)
    figures = result.paper_figures() if file_format == "docx" else ()
    return write_tables(paper_tables(document), path, file_format, figures=figures)


def score_test_text(result) -> str:
    """lavTestScore()'s two tables as text; an error where the fit has none."""
    test = result.score_test
    if test is None:
        raise AcsiSemError("no score test: it needs a CB-SEM fit (ML/MLR) of complete data "
                           "(single-group: without '~ 1' rows) or by FIML, with equality "
                           "constraints (shared labels, --group-equal or '==') and no "
                           "'<'/'>'")
    total = test.total
    lines = [f"Score test of releasing the {int(total['df'])} equality constraints: "
             f"X2 = {total['X2']:.3f}, df = {int(total['df'])}, p = {total['pvalue']:.3f}",
             "Releasing each alone (chi-square with 1 df):",
             test.univariate.to_string(index=False, float_format=lambda v: f"{v:.3f}")]
    return "\n".join(lines)


def added_test_text(test) -> str:
    """lavTestScore(add = ...)'s tests as text: all added at once, then each alone."""
    total = test.total
    return "\n".join([
        f"Score test of adding {int(total['df'])} parameters: X2 = {total['X2']:.3f}, "
        f"df = {int(total['df'])}, p = {total['pvalue']:.3f}",
        "Adding each alone (chi-square with 1 df; epc: its expected value):",
        test.univariate.to_string(index=False, float_format=lambda v: f"{v:.3f}")])


def modification_text(table, minimum: float) -> str:
    """The modification indices as a text table, largest first."""
    header = (f"Modification indices (mi >= {minimum:g}; score tests, chi-square with 1 df):"
              if minimum else "Modification indices (score tests, chi-square with 1 df):")
    if table.empty:
        return f"{header}\n  none"
    return f"{header}\n" + table.to_string(index=False, float_format=lambda v: f"{v:.3f}",
                                            na_rep="")


def _report(arguments: argparse.Namespace) -> int:
    from acsi_sem.api import fit
    from acsi_sem.report.html import check_output_folder, write_report

    check_output_folder(arguments.out)  # before the fit: a mistake costs no waiting
    if arguments.pdf:
        from acsi_sem.report.pdf import find_browser

        if find_browser() is None:  # before the fit: say so without the wait
            raise AcsiSemError("--pdf needs Chromium or Chrome (Debian: apt-get install "
                               "chromium); leave out --pdf and print report.html from a "
                               "browser instead")
    result = fit(arguments.model, arguments.data, estimator=arguments.estimator,
                 bootstrap=arguments.bootstrap, seed=arguments.seed, group=arguments.group,
                 scale=parse_scale(arguments.scale), weights=arguments.weights,
                 moderation=arguments.moderation, higher_order=arguments.higher_order,
                 progress=sys.stderr.isatty())
    sections = []
    for flag, wanted in (("--predict", arguments.predict),
                         ("--compare-groups", arguments.compare_groups)):
        if wanted:
            _refuse_weights(arguments, flag)
    if arguments.predict:
        sections.append(_prediction_section(arguments, result.n_obs))
    if arguments.compare_groups:
        sections.append(_groups_section(arguments))
    path = write_report(result, arguments.out, indicators=not arguments.no_indicators,
                        target=arguments.target, sections=sections, style=arguments.style,
                        layout=arguments.layout)
    print(f"acsi-sem: wrote {path} and its figures")
    if arguments.pdf:
        from acsi_sem.report.pdf import print_to_pdf

        pdf = print_to_pdf(path, path.with_suffix(".pdf"))
        print(f"acsi-sem: wrote {pdf}")
    return 0


def _refuse_weights(arguments: argparse.Namespace, flag: str) -> None:
    """The analyses beside the fit take no sampling weights yet: say so rather than mix a
    weighted fit with unweighted tests."""
    if arguments.weights:
        raise AcsiSemError(f"{flag} does not take sampling weights yet; leave out --weights "
                           "or run it on its own")


def _prediction_section(arguments: argparse.Namespace, n_obs: int):
    from acsi_sem.prediction import blindfolding, default_omission_distance, pls_predict
    from acsi_sem.report.pls_sections import prediction_section

    prediction = pls_predict(arguments.model, arguments.data, seed=arguments.seed)
    return prediction_section(prediction, blindfolding(
        arguments.model, arguments.data, omission_distance=default_omission_distance(n_obs)))


def _groups_section(arguments: argparse.Namespace):
    from acsi_sem.pls_groups import compare_groups
    from acsi_sem.report.pls_sections import groups_section

    if arguments.group is None:
        raise AcsiSemError("--compare-groups needs --group COLUMN")
    return groups_section(compare_groups(arguments.model, arguments.data, group=arguments.group,
                                         seed=arguments.seed))


def _invariance(arguments: argparse.Namespace, options: dict) -> tuple[object, str, dict]:
    """The configural fit, the summary with the invariance table, and the JSON document
    with its ``invariance`` list."""
    from acsi_sem.invariance import measurement_invariance

    if arguments.group is None or arguments.group_equal:
        raise AcsiSemError("--invariance needs --group COLUMN and sets the equality "
                           "constraints of each step itself (leave out --group-equal)")
    sequence = measurement_invariance(arguments.model, arguments.data, group=arguments.group,
                                      **options)
    result = sequence.fits["configural"]
    return result, f"{result.summary()}\n\n{sequence.summary()}", sequence.to_dict()
