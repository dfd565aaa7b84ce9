"""Customer-loyalty instruments beside the index models, on the same survey data.

    from acsi_sem import loyalty
    loyalty.net_promoter_score(survey, "RECOMMEND", group="market", seed=1)
    loyalty.loyalty_matrix(survey, scores["Satisfaction"], "REPURCHASE").table
    loyalty.satisfaction_loyalty_curve(survey, "Satisfaction", "Loyalty", group="market")
    loyalty.kano_evaluation(kano_survey).summary
    loyalty.retention_effect(margin=100, retention=0.80, discount=0.10)  # +27.5% CLV
    loyalty.loyalty_ladder(survey, "PURCHASES", "ATTITUDE", "RECOMMEND", attitude_cut=7).table

Variables are column names of the survey or Series aligned with it by row label, e.g. latent
scores from ``construct_scores(pls_result, survey)``. Figures are in :mod:`.plots`; report
sections in :func:`loyalty_sections`.
"""

from __future__ import annotations

from acsi_sem.loyalty.curve import SatisfactionLoyaltyCurve, satisfaction_loyalty_curve
from acsi_sem.loyalty.inputs import construct_scores
from acsi_sem.loyalty.kano import (
    EVALUATION_TABLE,
    KanoEvaluation,
    kano_category,
    kano_evaluation,
    kano_pairs,
)
from acsi_sem.loyalty.ladder import (
    RUNGS,
    LoyaltyLadder,
    ladder_transitions,
    loyalty_ladder,
    rung_table,
)
from acsi_sem.loyalty.lifetime import (
    customer_lifetime_value,
    retention_effect,
    retention_table,
)
from acsi_sem.loyalty.matrix import LoyaltyMatrix, loyalty_matrix
from acsi_sem.loyalty.nps import net_promoter_score, nps_standard_error, promoter_categories
from acsi_sem.loyalty.ratio import satisfaction_ratio_summary, satisfaction_ratios
from acsi_sem.loyalty.sections import ReportSection, loyalty_sections

__all__ = [
    "EVALUATION_TABLE",
    "RUNGS",
    "KanoEvaluation",
    "LoyaltyLadder",
    "LoyaltyMatrix",
    "ReportSection",
    "SatisfactionLoyaltyCurve",
    "construct_scores",
    "customer_lifetime_value",
    "kano_category",
    "kano_evaluation",
    "kano_pairs",
    "ladder_transitions",
    "loyalty_ladder",
    "loyalty_matrix",
    "loyalty_sections",
    "net_promoter_score",
    "nps_standard_error",
    "promoter_categories",
    "retention_effect",
    "retention_table",
    "rung_table",
    "satisfaction_loyalty_curve",
    "satisfaction_ratio_summary",
    "satisfaction_ratios",
]
