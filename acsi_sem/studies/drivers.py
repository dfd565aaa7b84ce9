"""The drivers of an index per industry: importance (total effect on a target construct)
against performance (the industry's 0-100 index), the importance-performance map of the
ACSI's industry reports.

Importance is the revenue-weighted mean, over the industry's companies, of each construct's
standardized total effect on the target in one wave (the weights of the industry index;
companies whose paths cannot be estimated are left out and the rest reweighted).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from acsi_sem.errors import AcsiSemError
from acsi_sem.numerics.pls import total_effects

if TYPE_CHECKING:
    from acsi_sem.studies.result import StudyResult

ALL_COMPANIES = "all companies"


def industry_drivers(result: StudyResult, target: str | None = None,
                     wave: str | None = None) -> pd.DataFrame:
    """``industry, construct, importance, performance`` for every construct with an effect
    on ``target`` (default: the result's target), in ``wave`` (default: the last).

    Raises:
        AcsiSemError: an unknown target or wave, or a target nothing has an effect on.
    """
    target = target or result.target
    wave = wave or result.waves[-1]
    if target not in result.constructs:
        raise AcsiSemError(f"no construct named {target!r}; the model's constructs are: "
                           f"{', '.join(result.constructs)}")
    if wave not in result.waves:
        raise AcsiSemError(f"no wave {wave!r}; the study's waves are {', '.join(result.waves)}")
    effects = _company_effects(result, target, wave)
    rows = []
    for industry, shares in _industry_shares(result, wave).items():
        known = [company for company in shares if company in effects]
        if not known:
            continue
        weights = np.array([shares[company] for company in known])
        importance = weights @ np.array([effects[company] for company in known]) / weights.sum()
        performance = _performance(result, industry, wave)
        for j, construct in enumerate(result.constructs):
            if abs(importance[j]) > 1e-12:
                rows.append((industry, construct, importance[j], performance[construct]))
    if not rows:
        raise AcsiSemError(f"no construct has an effect on {target!r}; choose an endogenous "
                           "target")
    table = pd.DataFrame(rows, columns=["industry", "construct", "importance", "performance"])
    return table.sort_values(["industry", "importance"], ascending=[True, False],
                             ignore_index=True)


def _company_effects(result: StudyResult, target: str, wave: str) -> dict[str, np.ndarray]:
    """Each company's total effects (L,) on ``target``; companies with NaN paths left out."""
    position = {name: j for j, name in enumerate(result.constructs)}
    size = len(result.constructs)
    found = {}
    paths = result.paths[result.paths["wave"] == wave]
    for company, rows in paths.groupby("company", sort=False):
        if rows["est"].isna().any():
            continue
        matrix = np.zeros((size, size))
        matrix[rows["lhs"].map(position), rows["rhs"].map(position)] = rows["est"]
        found[company] = total_effects(matrix)[position[target]]
    return found


def _industry_shares(result: StudyResult, wave: str) -> dict[str, dict[str, float]]:
    composition = result.composition
    rows = composition[(composition["level"] == "industry") & (composition["wave"] == wave)]
    if len(rows):
        return {industry: dict(zip(group["member"], group["weight"], strict=True))
                for industry, group in rows.groupby("unit", sort=False)}
    companies = result.cells.loc[result.cells["wave"] == wave, "company"]
    return {ALL_COMPANIES: dict.fromkeys(companies, 1.0)}


def _performance(result: StudyResult, industry: str, wave: str) -> pd.Series:
    indices = result.indices
    level = "national" if industry == ALL_COMPANIES else "industry"
    unit = "national" if industry == ALL_COMPANIES else industry
    rows = indices[(indices["level"] == level) & (indices["unit"] == unit)
                   & (indices["wave"] == wave)]
    return rows.set_index("construct")["index"]
