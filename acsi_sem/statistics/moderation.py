"""Moderation: the interaction effect, its f², and simple slopes.

For ``Y ~ A + B + A:B`` the interaction's path b_AB is the effect of the product of the
standardized constructs (see :func:`acsi_sem.estimators.pls.term_scale`), so A's effect on
Y when the moderator B stands m standard deviations from its mean is the simple slope
``b_A + b_AB m`` (Aiken & West 1991; Hair et al. 2022, ch. 7), reported at m = -1, 0, +1.
With a bootstrap, each slope's interval comes from the same replicates as the paths.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from acsi_sem.errors import AcsiSemError
from acsi_sem.model.spec import Interaction

if TYPE_CHECKING:
    from acsi_sem.results import FitResult

LEVELS = (-1.0, 0.0, 1.0)
COLUMNS = ["outcome", "term", "independent", "moderator", "effect", "moderator_sd",
           "estimate", "se", "ci_lower", "ci_upper", "f2"]


def moderation_table(result: FitResult) -> pd.DataFrame:
    """Per interaction term, the interaction effect (with its f²) and the simple slopes of
    the independent construct at the moderator's mean and one SD either side: columns
    ``outcome, term, independent, moderator, effect, moderator_sd, estimate, se, ci_lower,
    ci_upper, f2`` (SE and interval from the bootstrap, NaN without one).

    Raises:
        AcsiSemError: the model has no interaction term.
    """
    interactions = result.spec.interactions
    if not interactions:
        raise AcsiSemError("the model has no interaction term; write one among a "
                           "regression's predictors, e.g. Loyalty ~ Satisfaction + Switching "
                           "+ Satisfaction:Switching")
    paths = result.parameters[result.parameters["op"] == "~"].set_index(["lhs", "rhs"])
    frames = [_term_rows(result, interaction, paths) for interaction in interactions]
    return pd.concat(frames, ignore_index=True)[COLUMNS]


def simple_slopes(first: np.ndarray, interaction: np.ndarray,
                  levels: tuple[float, ...] = LEVELS) -> np.ndarray:
    """(..., len(levels)) slopes ``first + interaction * level`` for path values (...,)."""
    return first[..., None] + interaction[..., None] * np.asarray(levels)


def _term_rows(result: FitResult, interaction: Interaction, paths: pd.DataFrame
               ) -> pd.DataFrame:
    outcome = interaction.outcome
    keys = [f"{outcome} ~ {interaction.independent}", f"{outcome} ~ {interaction.term}"]
    names = ("interaction", *(f"slope at {_level_name(m)}" for m in LEVELS))

    def effects(values: np.ndarray) -> np.ndarray:
        first, product = values[..., 0], values[..., 1]
        return np.concatenate([product[..., None], simple_slopes(first, product)], axis=-1)

    boot = result.bootstrap
    if boot is not None:
        position = [boot.names.index(key) for key in keys]
        table = boot.derive(names, lambda values: effects(values[..., position])).intervals()
    else:
        estimate = effects(np.array([paths.at[(outcome, interaction.independent), "est"],
                                     paths.at[(outcome, interaction.term), "est"]]))
        table = pd.DataFrame({"estimate": estimate, "se": np.nan, "ci_lower": np.nan,
                              "ci_upper": np.nan}, index=names)
    table = table.reset_index(drop=True)
    table.insert(0, "effect", names)
    table.insert(1, "moderator_sd", [np.nan, *LEVELS])
    table["outcome"], table["term"] = outcome, interaction.term
    table["independent"], table["moderator"] = interaction.independent, interaction.moderator
    table["f2"] = [_f_squared(result, outcome, interaction.term), *([np.nan] * len(LEVELS))]
    return table


def _level_name(level: float) -> str:
    return "the moderator's mean" if level == 0 else f"{level:+g} SD"


def _f_squared(result: FitResult, outcome: str, term: str) -> float:
    if result.quality is None:
        return np.nan
    table = result.quality.f_squared
    match = table[(table["outcome"] == outcome) & (table["predictor"] == term)]
    return float(match["f2"].iloc[0]) if len(match) else np.nan
