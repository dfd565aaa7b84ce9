"""Customer-loyalty instruments beside the index models, on the same survey data.

    from acsi_sem import loyalty
    loyalty.net_promoter_score(survey, "RECOMMEND", group="market", seed=1)
    loyalty.loyalty_matrix(survey, scores["Satisfaction"], "REPURCHASE").table
    loyalty.satisfaction_loyalty_curve(survey, "Satisfaction", "Loyalty", group="market")
    loyalty.kano_evaluation(kano_survey).summary
    loyalty.retention_effect(margin=100, retention=0.80, discount=0.10)  # +27.5% CLV
    loyalty.loyalty_ladder(survey, "PURCHASES", "ATTITUDE", "RECOMMEND", attitude_cut=7).table
    loyalty.loyalty_diamond(survey, "BRANDS", "INVOLVEMENT", share="SHARE").table
    loyalty.loyalty_types(survey, "ATTACHMENT", "PURCHASES", "PRICE_SENSITIVITY",
                          "SWITCHING_COST", "REWARDS", convenience="CONVENIENCE").table
    loyalty.loyalty_metrics(survey, purchases="PURCHASES", complained="COMPLAINED", seed=1)
    loyalty.retention_rates(panel, "id", "wave", "PURCHASES", seed=1)

Variables are column names of the survey or Series aligned with it by row label, e.g. latent
scores from ``construct_scores(pls_result, survey)``. Figures are in :mod:`.plots`; report
sections in :func:`loyalty_sections`.
"""

from __future__ import annotations

from acsi_sem.loyalty.curve import SatisfactionLoyaltyCurve, satisfaction_loyalty_curve
from acsi_sem.loyalty.diamond import QUADRANTS, LoyaltyDiamond, loyalty_diamond
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
    estimated_lifetime_value,
    retention_effect,
    retention_table,
)
from acsi_sem.loyalty.matrix import LoyaltyMatrix, loyalty_matrix
from acsi_sem.loyalty.metrics import METRICS, bootstrap_mean, loyalty_metrics, retention_rates
from acsi_sem.loyalty.nps import net_promoter_score, nps_standard_error, promoter_categories
from acsi_sem.loyalty.ratio import satisfaction_ratio_summary, satisfaction_ratios
from acsi_sem.loyalty.sections import ReportSection, loyalty_sections
from acsi_sem.loyalty.seven_types import HELD_BY, LOYALTY_TYPES, LoyaltyTypes, loyalty_types

__all__ = [
    "EVALUATION_TABLE",
    "HELD_BY",
    "LOYALTY_TYPES",
    "METRICS",
    "QUADRANTS",
    "RUNGS",
    "KanoEvaluation",
    "LoyaltyDiamond",
    "LoyaltyLadder",
    "LoyaltyMatrix",
    "LoyaltyTypes",
    "ReportSection",
    "SatisfactionLoyaltyCurve",
    "bootstrap_mean",
    "construct_scores",
    "customer_lifetime_value",
    "estimated_lifetime_value",
    "kano_category",
    "kano_evaluation",
    "kano_pairs",
    "ladder_transitions",
    "loyalty_diamond",
    "loyalty_ladder",
    "loyalty_matrix",
    "loyalty_metrics",
    "loyalty_sections",
    "loyalty_types",
    "net_promoter_score",
    "nps_standard_error",
    "promoter_categories",
    "retention_effect",
    "retention_rates",
    "retention_table",
    "rung_table",
    "satisfaction_loyalty_curve",
    "satisfaction_ratio_summary",
    "satisfaction_ratios",
]
