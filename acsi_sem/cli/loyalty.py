"""The loyalty sub-commands: ``nps``, ``loyalty``, ``kano``, ``ladder``, ``diamond``,
``loyalty-types``, ``metrics`` and ``clv``.

Thin, like the main command: parse the arguments, call the library, print tables (to standard
error when ``--json -`` puts JSON on standard output) and save figures.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from acsi_sem.cli.common import emit
from acsi_sem.errors import DataError

if TYPE_CHECKING:
    import pandas as pd

COMMANDS = ("nps", "loyalty", "kano", "ladder", "diamond", "loyalty-types", "metrics", "clv")


def add_commands(commands: argparse._SubParsersAction) -> None:
    """Register the loyalty sub-commands on the main parser's sub-parsers."""
    nps = commands.add_parser("nps", help="Net Promoter Score with a bootstrap interval")
    nps.add_argument("--data", required=True, help="survey file (CSV, Excel, SPSS, Stata)")
    nps.add_argument("--item", required=True, metavar="COLUMN",
                     help="the 0-10 'would recommend' item")
    nps.add_argument("--group", metavar="COLUMN", help="report NPS per group")
    nps.add_argument("--replicates", type=int, default=2000, metavar="N",
                     help="bootstrap replicates (default: 2000; 0: no interval)")
    nps.add_argument("--seed", type=int, help="seed of the bootstrap")
    nps.add_argument("--level", type=float, default=0.95, help="confidence level (0.95)")
    _add_output_options(nps)

    loyalty = commands.add_parser(
        "loyalty", help="Dick-Basu loyalty matrix, satisfaction-loyalty curve and "
                        "satisfaction ratio")
    loyalty.add_argument("--data", help="survey file; default: the model's default data")
    loyalty.add_argument("--model", help="a model (shipped name or file) fitted by PLS; its "
                                         "latent variables can then be named as variables")
    loyalty.add_argument("--attitude", required=True, metavar="NAME",
                         help="relative attitude: a latent variable of --model or a column")
    loyalty.add_argument("--patronage", required=True, metavar="NAME",
                         help="repeat patronage: a behavioural column, e.g. purchases a year")
    loyalty.add_argument("--attitude-cut", type=float, metavar="VALUE",
                         help="high attitude is >= VALUE (default: the median)")
    loyalty.add_argument("--patronage-cut", type=float, metavar="VALUE",
                         help="high patronage is >= VALUE (default: the median)")
    loyalty.add_argument("--satisfaction", metavar="NAME",
                         help="with --loyalty: the satisfaction-loyalty curve")
    loyalty.add_argument("--loyalty", metavar="NAME", help="loyalty variable of the curve")
    loyalty.add_argument("--group", metavar="COLUMN", help="one curve per group")
    loyalty.add_argument("--bins", type=int, default=10, help="satisfaction bins (10)")
    loyalty.add_argument("--performance", metavar="NAME",
                         help="with --expectation: the satisfaction ratio performance / "
                              "expectation")
    loyalty.add_argument("--expectation", metavar="NAME", help="expectation of the ratio")
    _add_output_options(loyalty)

    kano = commands.add_parser("kano", help="Kano evaluation of product features")
    kano.add_argument("--data", required=True, help="survey file (CSV, Excel, SPSS, Stata)")
    kano.add_argument("--pair", action="append", metavar="FEATURE=FUNCTIONAL,DYSFUNCTIONAL",
                      help="a feature's two questions (repeatable); default: every "
                           "<feature>_functional / <feature>_dysfunctional column pair")
    _add_output_options(kano)

    ladder = commands.add_parser(
        "ladder", help="the loyalty ladder: prospect, purchaser, customer, supporter, "
                       "advocate, partner")
    ladder.add_argument("--data", required=True, help="survey file (CSV, Excel, SPSS, Stata)")
    ladder.add_argument("--purchases", required=True, metavar="COLUMN",
                        help="number of purchases in the period")
    ladder.add_argument("--attitude", required=True, metavar="COLUMN",
                        help="attitude towards the brand")
    ladder.add_argument("--attitude-cut", required=True, type=float, metavar="VALUE",
                        help="a favourable attitude is >= VALUE")
    ladder.add_argument("--recommendation", required=True, metavar="COLUMN",
                        help="recommendation behaviour, e.g. the 0-10 recommend item")
    ladder.add_argument("--recommend-cut", type=float, default=9, metavar="VALUE",
                        help="advocacy is a recommendation >= VALUE (default 9)")
    ladder.add_argument("--partner", metavar="COLUMN", help="0/1 partnership tie")
    ladder.add_argument("--repeat", type=int, default=2,
                        help="purchases that make a customer (default 2)")
    ladder.add_argument("--wave", metavar="COLUMN",
                        help="with --id: the ladder per wave and the movement between the "
                             "first two waves")
    ladder.add_argument("--id", metavar="COLUMN", help="respondent id shared by the waves")
    _add_output_options(ladder)

    _add_diamond(commands)
    _add_types(commands)
    _add_metrics(commands)

    clv = commands.add_parser(
        "clv", help="customer lifetime value and what more retention is worth",
        description="Lifetime value m r / (1 + d - r) (margin m at the end of each period a "
                    "customer stays, retention r, discount rate d; Gupta & Lehmann 2003) "
                    "before and after retention rises by --increase.")
    clv.add_argument("--margin", type=float, required=True, help="margin per period")
    clv.add_argument("--retention", required=True, metavar="R[,R...]",
                     help="retention rate(s) per period, e.g. 0.8 or 0.7,0.8,0.9")
    clv.add_argument("--discount", type=float, required=True, help="discount rate (0.1)")
    clv.add_argument("--increase", type=float, default=0.05,
                     help="rise in retention (default 0.05: five points)")
    clv.add_argument("--periods", type=int, help="horizon in periods (default: no end)")
    clv.add_argument("--acquisition-cost", type=float, default=0.0, help="paid once (0)")
    _add_output_options(clv)


def run(arguments: argparse.Namespace) -> int:
    """Run one loyalty sub-command; returns the exit status."""
    if arguments.plot and not Path(arguments.plot).is_dir():
        raise DataError(f"{arguments.plot}: cannot save the figures there, the folder does "
                        "not exist")
    run = {"nps": _nps, "loyalty": _loyalty, "kano": _kano, "ladder": _ladder,
           "diamond": _diamond, "loyalty-types": _types, "metrics": _metrics,
           "clv": _lifetime_value}[arguments.command]
    text, document, figures = run(arguments)
    if arguments.plot:
        for name, make in figures.items():
            make().savefig(Path(arguments.plot) / f"{name}.png", dpi=120)
    emit(text, document, arguments.json)
    return 0


def _add_diamond(commands: argparse._SubParsersAction) -> None:
    diamond = commands.add_parser(
        "diamond", help="Knox's loyalty diamond: loyal, habitual, multi-brand, switcher")
    diamond.add_argument("--data", required=True, help="survey file (CSV, Excel, SPSS, Stata)")
    diamond.add_argument("--brands", required=True, metavar="COLUMN",
                         help="number of brands bought in the category")
    diamond.add_argument("--involvement", required=True, metavar="COLUMN",
                         help="involvement with the category")
    diamond.add_argument("--share", metavar="COLUMN",
                         help="the brand's share of category spend (0-1)")
    diamond.add_argument("--involvement-cut", type=float, metavar="VALUE",
                         help="high involvement is >= VALUE (default: the median)")
    diamond.add_argument("--max-brands", type=int, default=1,
                         help="at most this many brands is a narrow repertoire (1)")
    diamond.add_argument("--share-cut", type=float, default=0.5,
                         help="with --share: at least this share is narrow (0.5)")
    diamond.add_argument("--group", metavar="COLUMN", help="one diamond per group (e.g. wave)")
    _add_output_options(diamond)


def _add_types(commands: argparse._SubParsersAction) -> None:
    types = commands.add_parser(
        "loyalty-types", help="seven loyalty types: premium, incentive, price, monopoly, "
                              "convenience, inertia, latent")
    types.add_argument("--data", required=True, help="survey file (CSV, Excel, SPSS, Stata)")
    for option, what in (("attachment", "emotional attachment to the brand"),
                         ("purchases", "purchases in the period"),
                         ("price-sensitivity", "stated price sensitivity"),
                         ("switching-cost", "perceived cost of switching"),
                         ("rewards", "rewards-programme use (0/1)")):
        types.add_argument(f"--{option}", required=True, metavar="COLUMN", help=what)
    types.add_argument("--convenience", metavar="COLUMN", help="importance of convenience")
    types.add_argument("--cut", type=float, metavar="VALUE",
                       help="one cut-point for every rated variable: high is >= VALUE "
                            "(default: each variable's median)")
    types.add_argument("--repeat", type=int, default=2,
                       help="purchases that make a repeat buyer (default 2)")
    types.add_argument("--group", metavar="COLUMN", help="one table per group (e.g. wave)")
    _add_output_options(types)


def _add_metrics(commands: argparse._SubParsersAction) -> None:
    metrics = commands.add_parser(
        "metrics", help="repeat-purchase rate, share of wallet, price tolerance, complaint "
                        "rate, retention and churn, with bootstrap intervals")
    metrics.add_argument("--data", required=True, help="survey file (CSV, Excel, SPSS, Stata)")
    metrics.add_argument("--purchases", metavar="COLUMN", help="purchases in the period")
    metrics.add_argument("--repeat", type=int, default=2,
                         help="purchases that make a repeat buyer (default 2)")
    metrics.add_argument("--brand-spend", metavar="COLUMN", help="spend with the brand")
    metrics.add_argument("--category-spend", metavar="COLUMN", help="spend in the category")
    metrics.add_argument("--price-tolerance", metavar="COLUMN",
                         help="price rise tolerated before switching")
    metrics.add_argument("--complained", metavar="COLUMN", help="complained (0/1)")
    metrics.add_argument("--group", metavar="COLUMN", help="metrics per group (e.g. wave)")
    metrics.add_argument("--wave", metavar="COLUMN",
                         help="with --id and --purchases: retention and churn between waves")
    metrics.add_argument("--id", metavar="COLUMN", help="respondent id shared by the waves")
    metrics.add_argument("--margin", type=float,
                         help="with --wave and --discount: lifetime value at the estimated "
                              "retention, with its interval")
    metrics.add_argument("--discount", type=float, help="discount rate per period (0.1)")
    metrics.add_argument("--replicates", type=int, default=2000, metavar="N",
                         help="bootstrap replicates (default: 2000; 0: no interval)")
    metrics.add_argument("--seed", type=int, help="seed of the bootstrap")
    metrics.add_argument("--level", type=float, default=0.95, help="confidence level (0.95)")
    _add_output_options(metrics)


def _add_output_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", metavar="PATH",
                        help="also write the results as JSON to PATH ('-' for standard output)")
    parser.add_argument("--plot", metavar="FOLDER", help="save the figures as PNG in FOLDER")


def _nps(arguments: argparse.Namespace) -> tuple[str, dict, dict]:
    from acsi_sem.loyalty.nps import net_promoter_score
    from acsi_sem.loyalty.plots import nps_figure
    from acsi_sem.loyalty.records import table_dict

    data, source = _read(arguments.data)
    table = net_promoter_score(data, arguments.item, group=arguments.group,
                               replicates=arguments.replicates, level=arguments.level,
                               seed=arguments.seed, source=source)
    columns = ["n", "promoters", "passives", "detractors", "nps", "se", "ci_lower", "ci_upper"]
    text = (f"Net Promoter Score of {arguments.item} ({source}); {arguments.level:.0%} "
            f"bootstrap percentile interval, {arguments.replicates} replicates\n\n"
            + table[columns].round(2).to_string())
    document = {"data": source, "item": arguments.item, "group": arguments.group,
                "level": arguments.level, "replicates": arguments.replicates,
                "seed": arguments.seed, "nps": table_dict(table)}
    return text, document, {"nps": lambda: nps_figure(table)}


def _loyalty(arguments: argparse.Namespace) -> tuple[str, dict, dict]:
    from acsi_sem.loyalty.curve import satisfaction_loyalty_curve
    from acsi_sem.loyalty.matrix import loyalty_matrix
    from acsi_sem.loyalty.plots import loyalty_matrix_figure, satisfaction_loyalty_figure
    from acsi_sem.loyalty.ratio import satisfaction_ratio_summary, satisfaction_ratios
    from acsi_sem.loyalty.records import plain

    _check_together(arguments, "satisfaction", "loyalty")
    _check_together(arguments, "performance", "expectation")
    data, source, scores = _data_and_scores(arguments)

    def variable(name: str) -> str | pd.Series:
        return scores[name] if name in scores.columns else name

    matrix = loyalty_matrix(data, variable(arguments.attitude), variable(arguments.patronage),
                            attitude_cut=arguments.attitude_cut,
                            patronage_cut=arguments.patronage_cut, source=source)
    parts = [f"Dick-Basu loyalty matrix ({source}): attitude {arguments.attitude} >= "
             f"{matrix.attitude_cut:g} is high, patronage {arguments.patronage} >= "
             f"{matrix.patronage_cut:g} is high; {matrix.n_missing} respondents with a "
             f"missing value left out\n\n{matrix.table.round(3).to_string()}"]
    document = {"data": source, "model": arguments.model, "matrix": matrix.to_dict()}
    figures = {"loyalty_matrix": lambda: loyalty_matrix_figure(matrix)}
    if arguments.satisfaction:
        curve = satisfaction_loyalty_curve(
            data, variable(arguments.satisfaction), variable(arguments.loyalty),
            group=arguments.group, bins=arguments.bins, source=source)
        parts.append(f"Satisfaction-loyalty curve: mean {arguments.loyalty} per "
                     f"{arguments.satisfaction} bin\n\n{curve.bins.round(3).to_string()}\n\n"
                     f"Linear slope per group\n\n{curve.slopes.round(3).to_string()}")
        document["curve"] = curve.to_dict()
        figures["satisfaction_loyalty_curve"] = lambda: satisfaction_loyalty_figure(curve)
    if arguments.performance:
        ratios = satisfaction_ratios(data, variable(arguments.performance),
                                     variable(arguments.expectation), source=source)
        summary = satisfaction_ratio_summary(ratios)
        parts.append(f"Satisfaction ratio {arguments.performance} / {arguments.expectation}"
                     f"\n\n{summary.round(3).to_string()}")
        document["ratio"] = {k: plain(v) for k, v in summary.items()}
    return "\n\n".join(parts), document, figures


def _kano(arguments: argparse.Namespace) -> tuple[str, dict, dict]:
    from acsi_sem.loyalty.kano import kano_evaluation
    from acsi_sem.loyalty.plots import kano_figure

    data, source = _read(arguments.data)
    pairs = None if not arguments.pair else dict(_pair(text) for text in arguments.pair)
    evaluation = kano_evaluation(data, pairs, source=source)
    text = (f"Kano evaluation ({source}): shares of A attractive, O one-dimensional, M "
            "must-be, I indifferent, R reverse, Q questionable\n\n"
            + evaluation.summary.round(3).to_string())
    document = {"data": source, **evaluation.to_dict()}
    return text, document, {"kano": lambda: kano_figure(evaluation)}


def _ladder(arguments: argparse.Namespace) -> tuple[str, dict, dict]:
    import pandas as pd

    from acsi_sem.loyalty.ladder import ladder_transitions, loyalty_ladder
    from acsi_sem.loyalty.plots import loyalty_ladder_figure
    from acsi_sem.loyalty.records import plain, table_dict

    _check_together(arguments, "wave", "id")
    data, source = _read(arguments.data)

    def place(rows: pd.DataFrame):
        return loyalty_ladder(rows, arguments.purchases, arguments.attitude,
                              arguments.recommendation, attitude_cut=arguments.attitude_cut,
                              partner=arguments.partner, repeat=arguments.repeat,
                              recommend_cut=arguments.recommend_cut, source=source)

    result = place(data)
    text = f"Loyalty ladder ({source})\n\n" + result.table.round(3).to_string()
    document = {"data": source, "ladder": table_dict(result.table)}
    if arguments.wave:
        waves = sorted(data[arguments.wave].dropna().unique().tolist(), key=str)
        if len(waves) < 2:
            raise DataError(f"{source}: --wave {arguments.wave} has {len(waves)} wave(s); "
                            "movement needs two")
        first, second = (place(data[data[arguments.wave] == wave].set_index(arguments.id))
                         for wave in waves[:2])
        moves = ladder_transitions(first.rungs, second.rungs)
        text += (f"\n\nBy wave: {waves[0]}, {waves[1]}\n\n"
                 + pd.concat({str(waves[0]): first.table, str(waves[1]): second.table},
                             axis=1).round(3).to_string()
                 + f"\n\nMovement from wave {waves[0]} to {waves[1]} (rows: before, "
                   "columns: after)\n\n" + moves.to_string())
        document["waves"] = {str(wave): table_dict(rungs.table)
                             for wave, rungs in zip(waves[:2], (first, second), strict=True)}
        document["transitions"] = {"from": plain(waves[0]), "to": plain(waves[1]),
                                   "table": table_dict(moves)}
    return text, document, {"ladder": lambda: loyalty_ladder_figure(result.table)}


def _diamond(arguments: argparse.Namespace) -> tuple[str, dict, dict]:
    from acsi_sem.loyalty.diamond import loyalty_diamond
    from acsi_sem.loyalty.plots import loyalty_diamond_figure

    data, source = _read(arguments.data)

    def place(rows: pd.DataFrame):
        return loyalty_diamond(rows, arguments.brands, arguments.involvement,
                               share=arguments.share,
                               involvement_cut=arguments.involvement_cut,
                               max_brands=arguments.max_brands, share_cut=arguments.share_cut,
                               source=source)

    results = _by_group(data, arguments.group, place, source)
    text = (f"Loyalty diamond ({source}): narrow repertoire is at most "
            f"{arguments.max_brands} brand(s)"
            + (f" or a share of spend >= {arguments.share_cut:g}" if arguments.share else "")
            + "; high involvement is >= the cut\n\n"
            + _group_tables({g: r.table for g, r in results.items()}))
    document = {"data": source, "group": arguments.group,
                "diamond": {g: r.to_dict() for g, r in results.items()}}
    figures = {_figure_name("diamond", g, results): (lambda r=r: loyalty_diamond_figure(r))
               for g, r in results.items()}
    return text, document, figures


def _types(arguments: argparse.Namespace) -> tuple[str, dict, dict]:
    from acsi_sem.loyalty.plots import loyalty_types_figure
    from acsi_sem.loyalty.seven_types import loyalty_types

    data, source = _read(arguments.data)
    cut = arguments.cut

    def classify(rows: pd.DataFrame):
        return loyalty_types(rows, arguments.attachment, arguments.purchases,
                             arguments.price_sensitivity, arguments.switching_cost,
                             arguments.rewards, convenience=arguments.convenience,
                             repeat=arguments.repeat, attachment_cut=cut, price_cut=cut,
                             switching_cut=cut, convenience_cut=cut, source=source)

    results = _by_group(data, arguments.group, classify, source)
    text = (f"Loyalty types ({source}), rules applied from the top down; cut-points "
            + ("the medians" if cut is None else f">= {cut:g}") + "\n\n"
            + _group_tables({g: r.table for g, r in results.items()}))
    document = {"data": source, "group": arguments.group,
                "types": {g: r.to_dict() for g, r in results.items()}}
    figures = {_figure_name("loyalty_types", g, results):
               (lambda r=r: loyalty_types_figure(r)) for g, r in results.items()}
    return text, document, figures


def _metrics(arguments: argparse.Namespace) -> tuple[str, dict, dict]:
    import numpy as np

    from acsi_sem.loyalty.lifetime import estimated_lifetime_value
    from acsi_sem.loyalty.metrics import loyalty_metrics, retention_rates
    from acsi_sem.loyalty.plots import loyalty_metrics_figure
    from acsi_sem.loyalty.records import records

    _check_together(arguments, "wave", "id")
    _check_together(arguments, "margin", "discount")
    data, source = _read(arguments.data)
    options = {"replicates": arguments.replicates, "level": arguments.level,
               "seed": np.random.default_rng(arguments.seed),
               "source": source}
    parts, document, figures = [], {"data": source, "group": arguments.group,
                                    "level": arguments.level,
                                    "replicates": arguments.replicates,
                                    "seed": arguments.seed}, {}
    named = [arguments.purchases, arguments.brand_spend, arguments.price_tolerance,
             arguments.complained]
    if any(name is not None for name in named):
        table = loyalty_metrics(data, purchases=arguments.purchases, repeat=arguments.repeat,
                                brand_spend=arguments.brand_spend,
                                category_spend=arguments.category_spend,
                                price_tolerance=arguments.price_tolerance,
                                complained=arguments.complained, group=arguments.group,
                                **options)
        parts.append(f"Loyalty metrics ({source}); {arguments.level:.0%} bootstrap "
                     f"percentile intervals, {arguments.replicates} replicates\n\n"
                     + table.round(4).to_string())
        document["metrics"] = records(table.reset_index())
        figures["loyalty_metrics"] = lambda: loyalty_metrics_figure(table)
    if arguments.wave:
        if arguments.purchases is None:
            raise DataError("retention between waves needs --purchases")
        rates = retention_rates(data, arguments.id, arguments.wave, arguments.purchases,
                                **options)
        if arguments.margin is not None:
            rates = estimated_lifetime_value(rates, arguments.margin, arguments.discount)
        parts.append("Retention and churn between waves (customers: bought at least once "
                     "in the earlier wave and answered the later one)\n\n"
                     + rates.round(4).to_string(index=False))
        document["retention"] = records(rates)
    if not parts:
        raise DataError("metrics needs at least one of --purchases, --brand-spend with "
                        "--category-spend, --price-tolerance, --complained")
    return "\n\n".join(parts), document, figures


def _by_group(data: pd.DataFrame, group: str | None, analyse, source: str) -> dict:
    """``analyse`` of all rows (key ``all``) or of each group's rows, by group label."""
    if group is None:
        return {"all": analyse(data)}
    if group not in data.columns:
        raise DataError(f"{source}: no column {group!r} for --group")
    return {str(label): analyse(rows) for label, rows in data.groupby(group, sort=True)}


def _group_tables(tables: dict[str, pd.DataFrame]) -> str:
    import pandas as pd

    if list(tables) == ["all"]:
        return tables["all"].round(3).to_string()
    return pd.concat(tables, names=["group"]).round(3).to_string()


def _figure_name(stem: str, group: str, results: dict) -> str:
    return stem if list(results) == ["all"] else f"{stem}_{group}"


def _lifetime_value(arguments: argparse.Namespace) -> tuple[str, dict, dict]:
    from acsi_sem.loyalty.lifetime import retention_table
    from acsi_sem.loyalty.plots import lifetime_value_figure
    from acsi_sem.loyalty.records import records

    try:
        retentions = [float(text) for text in arguments.retention.split(",")]
    except ValueError as error:
        raise DataError(f"--retention {arguments.retention}: give rates such as 0.8 or "
                        "0.7,0.8,0.9") from error
    table = retention_table(arguments.margin, retentions, arguments.discount,
                            increase=arguments.increase, periods=arguments.periods,
                            acquisition_cost=arguments.acquisition_cost)
    horizon = "no end" if arguments.periods is None else f"{arguments.periods} periods"
    text = (f"Customer lifetime value: margin {arguments.margin:g} a period, discount rate "
            f"{arguments.discount:g}, horizon {horizon}, acquisition cost "
            f"{arguments.acquisition_cost:g}; retention raised by {arguments.increase:g}\n\n"
            + table.round(3).to_string(index=False))
    document = {"margin": arguments.margin, "discount": arguments.discount,
                "increase": arguments.increase, "periods": arguments.periods,
                "acquisition_cost": arguments.acquisition_cost, "clv": records(table)}
    def figure():
        return lifetime_value_figure(arguments.margin, arguments.discount, table,
                                     periods=arguments.periods,
                                     acquisition_cost=arguments.acquisition_cost)

    return text, document, {"clv": figure}


def _read(path: str) -> tuple[pd.DataFrame, str]:
    from acsi_sem.survey.prepare import read_table

    return read_table(path), str(path)


def _data_and_scores(arguments: argparse.Namespace
                     ) -> tuple[pd.DataFrame, str, pd.DataFrame]:
    """The survey and, with --model, its PLS construct scores (0-100 index scores when the
    model declares an answer scale, else standardized) indexed like the survey."""
    if arguments.model is None:
        if arguments.data is None:
            raise DataError("loyalty needs --data (or --model with a default data file)")
        data, source = _read(arguments.data)
        return data, source, data.iloc[:, :0]  # no index scores: an empty frame of its rows
    from acsi_sem.api import fit, resolve_model
    from acsi_sem.loyalty.inputs import construct_scores

    model_file, spec = resolve_model(arguments.model)
    path = arguments.data or (model_file.default_data if model_file is not None else None)
    if path is None:
        raise DataError(f"model {arguments.model} names no default data; pass --data")
    data, source = _read(path)
    result = fit(model_file or spec, path, estimator="pls")
    scale = model_file.scale if model_file is not None else None
    return data, source, construct_scores(result, data, scale=scale)


def _check_together(arguments: argparse.Namespace, first: str, second: str) -> None:
    if (getattr(arguments, first) is None) != (getattr(arguments, second) is None):
        raise DataError(f"--{first} and --{second} go together; give both or neither")


def _pair(text: str) -> tuple[str, tuple[str, str]]:
    feature, _, columns = text.partition("=")
    functional, _, dysfunctional = columns.partition(",")
    if not (feature and functional and dysfunctional):
        raise DataError(f"cannot read the Kano pair {text!r}; write it as "
                        "FEATURE=FUNCTIONAL_COLUMN,DYSFUNCTIONAL_COLUMN")
    return feature.strip(), (functional.strip(), dysfunctional.strip())

