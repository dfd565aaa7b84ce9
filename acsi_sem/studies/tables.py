"""The study's estimates and bootstrap draws as DataFrames: indices of every unit, paths per
company, changes between waves, the measurement weights and their change between waves.

Standard errors are the bootstrap's (SD of the replicates) with percentile intervals, or,
without a bootstrap, the linearization of each weighted mean with the measurement weights
taken as known (cells are independent samples) with normal intervals.
"""

from __future__ import annotations

import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import pairwise

import numpy as np
import pandas as pd
from scipy.special import ndtr, ndtri

from acsi_sem.studies.aggregate import Units
from acsi_sem.studies.estimate import StudyEstimates


@dataclass(frozen=True)
class Spread:
    """Standard errors and interval bounds of k statistics from draws or a variance."""

    se: np.ndarray
    lower: np.ndarray
    upper: np.ndarray

    @classmethod
    def of(cls, estimate: np.ndarray, draws: np.ndarray | None, variance: np.ndarray | None,
           level: float) -> Spread:
        """From bootstrap draws (b, ...) when given (percentile bounds), else from the
        variance (normal bounds)."""
        if draws is not None:
            tail = (1 - level) / 2
            if not np.isnan(draws).any():  # np.nanquantile is many times slower
                lower, upper = np.quantile(draws, [tail, 1 - tail], axis=0)
                return cls(draws.std(axis=0, ddof=1), lower, upper)
            with np.errstate(invalid="ignore"), _quiet_nan_warnings():
                se = np.nanstd(draws, axis=0, ddof=1)
                lower, upper = np.nanquantile(draws, [tail, 1 - tail], axis=0)
            return cls(se, lower, upper)
        se = np.sqrt(variance) if variance is not None else np.full_like(estimate, np.nan)
        half = ndtri(0.5 + level / 2) * se
        return cls(se, estimate - half, estimate + half)


@contextmanager
def _quiet_nan_warnings():
    """All-NaN slices (a path no replicate could estimate) give NaN, without a warning."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        yield


def unit_values(units: Units, cell_values: np.ndarray) -> np.ndarray:
    """Unit indices (U, L) from cell indices (C, L), or (b, U, L) from (b, C, L)."""
    if cell_values.ndim == 2:
        return np.asarray(units.matrix @ cell_values)
    count, cells, size = cell_values.shape
    stacked = cell_values.transpose(1, 0, 2).reshape(cells, count * size)
    return np.asarray(units.matrix @ stacked).reshape(-1, count, size).transpose(1, 0, 2)


def index_table(units: Units, constructs: tuple[str, ...], estimate: np.ndarray,
                draws: np.ndarray | None, cell_variance: np.ndarray | None,
                level: float) -> pd.DataFrame:
    """One row per unit, wave and construct: ``index, se, ci_lower, ci_upper``.

    Args:
        estimate: (U, L) unit indices; draws: (b, U, L) or None.
        cell_variance: (C, L) linearized variances of the cells' indices (used without
            draws).
    """
    variance = None
    if cell_variance is not None:
        variance = np.asarray(units.matrix.multiply(units.matrix) @ cell_variance)
    spread = Spread.of(estimate, draws, variance, level)
    frame = units.table.drop(columns=["companies"]).loc[
        np.repeat(np.arange(len(units.table)), len(constructs))].reset_index(drop=True)
    frame["construct"] = np.tile(constructs, len(units.table))
    frame["index"] = estimate.ravel()
    frame["se"], frame["ci_lower"], frame["ci_upper"] = (spread.se.ravel(),
                                                         spread.lower.ravel(),
                                                         spread.upper.ravel())
    return frame


def change_table(units: Units, constructs: tuple[str, ...], waves: tuple[str, ...],
                 estimate: np.ndarray, draws: np.ndarray | None,
                 cell_variance: np.ndarray | None, level: float) -> pd.DataFrame:
    """One row per unit, construct and pair of consecutive waves in which the unit exists:
    ``index_from, index_to, change, se, ci_lower, ci_upper, z, pvalue`` (two-sided normal
    test of no change)."""
    table = units.table
    position = {(row.level, row.unit, row.wave): index
                for index, row in enumerate(table.itertuples(index=False))}
    pairs = [(position[(row.level, row.unit, before)], position[(row.level, row.unit, after)],
              before, after)
             for before, after in pairwise(waves)
             for row in table[table["wave"] == after].itertuples(index=False)
             if (row.level, row.unit, before) in position]
    columns = ["level", "unit", "industry", "sector", "construct", "wave_from", "wave_to",
               "index_from", "index_to", "change", "se", "ci_lower", "ci_upper", "z", "pvalue"]
    if not pairs:
        return pd.DataFrame(columns=columns)
    before = np.array([pair[0] for pair in pairs])
    after = np.array([pair[1] for pair in pairs])
    change = estimate[after] - estimate[before]
    change_draws = None if draws is None else draws[:, after] - draws[:, before]
    variance = None
    if cell_variance is not None:
        difference = units.matrix[after] - units.matrix[before]
        variance = np.asarray(difference.multiply(difference) @ cell_variance)
    spread = Spread.of(change, change_draws, variance, level)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = change / spread.se
    rows = []
    for k, (first, second, wave_from, wave_to) in enumerate(pairs):
        place = table.iloc[second]
        for j, construct in enumerate(constructs):
            rows.append((place["level"], place["unit"], place["industry"], place["sector"],
                         construct, wave_from, wave_to, estimate[first, j], estimate[second, j],
                         change[k, j], spread.se[k, j], spread.lower[k, j], spread.upper[k, j],
                         z[k, j], 2 * ndtr(-abs(z[k, j]))))
    return pd.DataFrame(rows, columns=columns)


def path_table(cells: pd.DataFrame, companies: pd.DataFrame, paths: list[tuple[str, str]],
               estimate: np.ndarray, draws: np.ndarray | None, level: float) -> pd.DataFrame:
    """One row per cell and path: ``company, industry, wave, lhs, op, rhs, est, se,
    ci_lower, ci_upper`` (bootstrap SEs; none without a bootstrap)."""
    spread = Spread.of(estimate, draws, None, level)
    industry = companies.set_index("company")["industry"]
    rows = []
    for c, (company, wave) in enumerate(zip(cells["company"], cells["wave"], strict=True)):
        for k, (lhs, rhs) in enumerate(paths):
            rows.append((company, industry[company], wave, lhs, "~", rhs, estimate[c, k],
                         spread.se[c, k], spread.lower[c, k], spread.upper[c, k]))
    return pd.DataFrame(rows, columns=["company", "industry", "wave", "lhs", "op", "rhs", "est",
                                       "se", "ci_lower", "ci_upper"])


def measurement_table(groups: tuple[str, ...], owners: list[str], indicators: tuple[str, ...],
                      full: StudyEstimates, draws: StudyEstimates | None) -> pd.DataFrame:
    """One row per measurement group and item: standardized outer ``weight``, ``loading``
    and the index's ``item_weight`` with its bootstrap ``item_weight_se``."""
    measured = full.measurement
    se = (np.full(measured.item_weights.shape[1:], np.nan) if draws is None
          else np.nanstd(np.where(draws.failed[:, None, None], np.nan,
                                  draws.measurement.item_weights), axis=0, ddof=1))
    rows = [(group, owners[i], indicators[i], measured.weights[0, g, i],
             measured.loadings[0, g, i], measured.item_weights[0, g, i], se[g, i])
            for g, group in enumerate(groups) for i in range(len(indicators))]
    return pd.DataFrame(rows, columns=["group", "construct", "indicator", "weight", "loading",
                                       "item_weight", "item_weight_se"])


def weight_change_table(groups: tuple[str, ...], owners: list[str],
                        indicators: tuple[str, ...], waves: tuple[str, ...],
                        full: StudyEstimates, draws: StudyEstimates, free: np.ndarray,
                        alpha: float = 0.05) -> pd.DataFrame:
    """Each group's item weights fitted wave by wave, the change between consecutive waves,
    its bootstrap SE and two-sided z test; ``significant`` at ``alpha`` after a Bonferroni
    correction over the group's items. Only items in blocks of two or more (``free`` (p,))
    have weights that can change."""
    estimate = full.wave_item_weights[0]  # (G, T, p)
    replicates = np.where(draws.failed[:, None, None, None], np.nan, draws.wave_item_weights)
    rows = []
    for g, group in enumerate(groups):
        for t in range(1, len(waves)):
            change = estimate[g, t] - estimate[g, t - 1]
            with np.errstate(invalid="ignore"), _quiet_nan_warnings():
                se = np.nanstd(replicates[:, g, t] - replicates[:, g, t - 1], axis=0, ddof=1)
                z = change / se
            pvalue = 2 * ndtr(-np.abs(z))
            for i, indicator in enumerate(indicators):
                if not free[i] or not np.isfinite(change[i]):
                    continue
                rows.append((group, owners[i], indicator, waves[t - 1], waves[t],
                             estimate[g, t - 1, i], estimate[g, t, i], change[i], se[i], z[i],
                             pvalue[i], bool(pvalue[i] < alpha / free.sum())))
    return pd.DataFrame(rows, columns=["group", "construct", "indicator", "wave_from",
                                       "wave_to", "item_weight_from", "item_weight_to",
                                       "change", "se", "z", "pvalue", "significant"])
