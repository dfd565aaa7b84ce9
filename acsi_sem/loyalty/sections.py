"""Loyalty sections for the HTML report: tables and figures ready to embed.

The report (issue 5) renders each :class:`ReportSection` as a heading, a paragraph, its tables
and its figures; nothing here writes HTML. A section appears only when its inputs are there:
NPS when a recommend item is named, the Dick-Basu matrix with an attitude and a patronage
variable, the curve with a satisfaction and a loyalty variable, the ratio with performance
and expectation, Kano when the data holds ``<feature>_functional`` / ``<feature>_dysfunctional``
pairs (or ``kano_features`` names them).

The ladder, diamond, loyalty types and metrics take computed results instead
(:func:`ladder_section`, :func:`diamond_section`, :func:`types_section`,
:func:`metrics_section`), since their rules have parameters worth setting first.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from acsi_sem.errors import DataError
from acsi_sem.loyalty.curve import satisfaction_loyalty_curve
from acsi_sem.loyalty.diamond import LoyaltyDiamond
from acsi_sem.loyalty.inputs import Variable
from acsi_sem.loyalty.kano import (
    DYSFUNCTIONAL_SUFFIX,
    FUNCTIONAL_SUFFIX,
    kano_evaluation,
    kano_pairs,
)
from acsi_sem.loyalty.ladder import LoyaltyLadder
from acsi_sem.loyalty.matrix import loyalty_matrix
from acsi_sem.loyalty.nps import net_promoter_score
from acsi_sem.loyalty.ratio import satisfaction_ratio_summary, satisfaction_ratios
from acsi_sem.loyalty.seven_types import LoyaltyTypes
from acsi_sem.report.sections import ReportSection

if TYPE_CHECKING:
    pass

_KANO_SUFFIXES = (FUNCTIONAL_SUFFIX, DYSFUNCTIONAL_SUFFIX)


def loyalty_sections(data: pd.DataFrame, *, recommend: Variable | None = None,
                     attitude: Variable | None = None, patronage: Variable | None = None,
                     satisfaction: Variable | None = None, loyalty: Variable | None = None,
                     performance: Variable | None = None, expectation: Variable | None = None,
                     group: Variable | None = None,
                     kano_features: dict[str, tuple[str, str]] | None = None,
                     replicates: int = 2000, seed: int | np.random.Generator | None = None,
                     source: str = "<DataFrame>") -> list[ReportSection]:
    """The loyalty sections the data supports, for the HTML report.

    Args:
        data: the survey, one row per respondent.
        recommend: the 0-10 recommend item (NPS, per ``group`` if given).
        attitude, patronage: the Dick-Basu matrix's variables (median cut-points).
        satisfaction, loyalty: the satisfaction-loyalty curve's variables (per ``group``).
        performance, expectation: the satisfaction ratio's variables.
        group: a column (or Series) of group labels, e.g. the market.
        kano_features: Kano question pairs; default: found by their column suffixes.
        replicates, seed: the NPS bootstrap.
        source: the data's file name, for error messages.

    Variables are column names or Series such as ``construct_scores(result, data)[name]``.

    Raises:
        DataError: a named variable is absent or holds bad answers.
    """
    from acsi_sem.loyalty import plots

    sections = []
    if recommend is not None:
        table = net_promoter_score(data, recommend, group=group, replicates=replicates,
                                   seed=seed, source=source)
        sections.append(ReportSection(
            "nps", "Net Promoter Score",
            "Promoters answer 9-10, passives 7-8 and detractors 0-6 on the 0-10 'would "
            "recommend' item; NPS is the share of promoters minus the share of detractors, "
            "in points (-100 to 100), with its bootstrap percentile interval.",
            {"nps": table}, {"nps": plots.nps_figure(table)}))
    if attitude is not None and patronage is not None:
        matrix = loyalty_matrix(data, attitude, patronage, source=source)
        sections.append(ReportSection(
            "loyalty_matrix", "Dick-Basu loyalty matrix",
            f"Respondents split at the medians of relative attitude ({matrix.attitude.name} "
            f">= {matrix.attitude_cut:.3g} is high) and repeat patronage "
            f"({matrix.patronage.name} >= {matrix.patronage_cut:.3g} is high). Spurious "
            "loyalty (low attitude, high patronage) is business held by inertia or a lack of "
            "alternatives; latent loyalty is goodwill not yet turned into purchases.",
            {"segments": matrix.table}, {"loyalty_matrix": plots.loyalty_matrix_figure(matrix)}))
    if satisfaction is not None and loyalty is not None:
        curve = satisfaction_loyalty_curve(data, satisfaction, loyalty, group=group,
                                           source=source)
        sections.append(ReportSection(
            "satisfaction_loyalty_curve", "Satisfaction and loyalty",
            "Mean loyalty in each satisfaction decile (points, with 95% intervals) and a "
            "LOWESS curve through the respondents; the slope is loyalty gained per unit of "
            "satisfaction. A flat curve means customers stay whatever their satisfaction, as "
            "in markets with little competition.",
            {"bins": curve.bins, "slopes": curve.slopes},
            {"satisfaction_loyalty_curve": plots.satisfaction_loyalty_figure(curve)}))
    if performance is not None and expectation is not None:
        ratios = satisfaction_ratios(data, performance, expectation, source=source)
        sections.append(ReportSection(
            "satisfaction_ratio", "Satisfaction ratio",
            "Perceived performance over expectation per respondent: above 1, the experience "
            "beat the expectation.",
            {"summary": satisfaction_ratio_summary(ratios).to_frame()}))
    if kano_features is not None or any(str(c).endswith(_KANO_SUFFIXES)
                                        for c in data.columns):
        evaluation = kano_evaluation(data, kano_features or kano_pairs(data, source=source),
                                     source=source)
        sections.append(ReportSection(
            "kano", "Kano evaluation",
            "Each feature's answer pairs classified by the Kano table: A attractive, O "
            "one-dimensional, M must-be, I indifferent, R reverse, Q questionable. Better is "
            "the share whose satisfaction rises with the feature, worse (negative) the share "
            "whose dissatisfaction rises without it.",
            {"features": evaluation.summary}, {"kano": plots.kano_figure(evaluation)}))
    return sections


def ladder_section(ladder: LoyaltyLadder, transitions: pd.DataFrame | None = None
                   ) -> ReportSection:
    """The loyalty ladder's counts and chart and, given, the movement between two waves
    (:func:`~acsi_sem.loyalty.ladder.ladder_transitions`)."""
    from acsi_sem.loyalty import plots

    tables = {"rungs": ladder.table}
    if transitions is not None:
        tables["movement between waves"] = transitions
    return ReportSection(
        "loyalty_ladder", "Loyalty ladder",
        "Each respondent on the highest rung whose rules they meet, from prospect (no "
        "purchase) through purchaser, customer (repeat purchase), supporter (favourable "
        "attitude) and advocate (recommends) to partner (a partnership tie); a rung needs "
        "every rung beneath it. The movement table counts respondents by their rung in the "
        "earlier wave (rows) and the later one (columns).",
        tables, {"loyalty_ladder": plots.loyalty_ladder_figure(ladder.table)})


def diamond_section(diamond: LoyaltyDiamond) -> ReportSection:
    """Knox's loyalty diamond: the four quadrants' counts and the diamond."""
    from acsi_sem.loyalty import plots

    share = ("" if diamond.share_cut is None
             else f" or a share of category spend of at least {diamond.share_cut:g}")
    return ReportSection(
        "loyalty_diamond", "Loyalty diamond",
        f"Category buyers by involvement (high at or above {diamond.involvement_cut:.3g}) "
        f"and brand repertoire (narrow: at most {diamond.max_brands} brand(s){share}). "
        "Loyal buyers care and stay with the brand; habitual buyers stay from routine and "
        "can be lost to a better offer; multi-brand buyers care but share their spend; "
        "switchers follow price and availability.",
        {"quadrants": diamond.table}, {"loyalty_diamond": plots.loyalty_diamond_figure(diamond)})


def types_section(types: LoyaltyTypes) -> ReportSection:
    """The seven loyalty types (and no loyalty) with the cause that holds each."""
    from acsi_sem.loyalty import plots

    cuts = ", ".join(f"{name.replace('_', ' ')} {value:g}" for name, value in types.cuts.items())
    return ReportSection(
        "loyalty_types", "Loyalty types",
        "Respondents by what holds them, rules applied from the top down: no repeat "
        "purchase gives latent loyalty (attached) or none; repeat buyers are premium-loyal "
        "(attached, not price sensitive), then incentive-loyal (rewards programme), "
        "price-loyal (price sensitive), monopoly-loyal (high switching cost), "
        f"convenience-loyal, and inertia-loyal otherwise. Cut-points (high is >=): {cuts}.",
        {"types": types.table}, {"loyalty_types": plots.loyalty_types_figure(types)})


def metrics_section(metrics: pd.DataFrame | None = None,
                    retention: pd.DataFrame | None = None) -> ReportSection:
    """Loyalty metrics (:func:`~acsi_sem.loyalty.metrics.loyalty_metrics`) and retention
    between waves (:func:`~acsi_sem.loyalty.metrics.retention_rates`, lifetime value
    columns included when added)."""
    from acsi_sem.loyalty import plots

    if metrics is None and retention is None:
        raise DataError("metrics_section needs a metrics table, a retention table or both")
    tables, figures = {}, {}
    if metrics is not None:
        tables["metrics"] = metrics
        figures["loyalty_metrics"] = plots.loyalty_metrics_figure(metrics)
    if retention is not None:
        tables["retention"] = retention
    return ReportSection(
        "loyalty_metrics", "Loyalty metrics",
        "Repeat-purchase rate (share of buyers who bought again), share of wallet (mean "
        "brand share of each customer's category spend; aggregate: of all spend), stated "
        "price tolerance and complaint rate, with bootstrap percentile intervals; retention "
        "is the share of one wave's customers still buying in the next, churn the rest, and "
        "lifetime value at the estimated retention carries its interval over.",
        tables, figures)
