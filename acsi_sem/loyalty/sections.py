"""Loyalty sections for the HTML report: tables and figures ready to embed.

The report (issue 5) renders each :class:`ReportSection` as a heading, a paragraph, its tables
and its figures; nothing here writes HTML. A section appears only when its inputs are there:
NPS when a recommend item is named, the Dick-Basu matrix with an attitude and a patronage
variable, the curve with a satisfaction and a loyalty variable, the ratio with performance
and expectation, Kano when the data holds ``<feature>_functional`` / ``<feature>_dysfunctional``
pairs (or ``kano_features`` names them).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from acsi_sem.loyalty.curve import satisfaction_loyalty_curve
from acsi_sem.loyalty.inputs import Variable
from acsi_sem.loyalty.kano import (
    DYSFUNCTIONAL_SUFFIX,
    FUNCTIONAL_SUFFIX,
    kano_evaluation,
    kano_pairs,
)
from acsi_sem.loyalty.matrix import loyalty_matrix
from acsi_sem.loyalty.nps import net_promoter_score
from acsi_sem.loyalty.ratio import satisfaction_ratio_summary, satisfaction_ratios

if TYPE_CHECKING:
    from matplotlib.figure import Figure

_KANO_SUFFIXES = (FUNCTIONAL_SUFFIX, DYSFUNCTIONAL_SUFFIX)


@dataclass(frozen=True)
class ReportSection:
    """One section of the report.

    Attributes:
        key: a stable identifier (``nps``, ``loyalty_matrix``, ``satisfaction_loyalty_curve``,
            ``satisfaction_ratio``, ``kano``) for anchors and file names.
        title: the heading.
        text: one paragraph on what the section shows and how to read it.
        tables: named DataFrames, in display order.
        figures: named matplotlib figures, in display order.
    """

    key: str
    title: str
    text: str
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    figures: dict[str, Figure] = field(default_factory=dict)


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
