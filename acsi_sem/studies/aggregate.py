"""Companies into industries, sectors and the nation: each aggregate index is a fixed
weighted mean of company indices, so one matrix of weights over the cells carries the
full-sample estimates and every bootstrap replicate up the hierarchy alike.

Per wave: an industry is the revenue-weighted mean of its companies; a sector the
revenue-weighted mean of its industries (an industry weighing its companies' total
revenue); the national index the ``gdp_share``-weighted mean of the top level present
(sectors, else industries, else companies), with equal weights when no share is given.
Without a revenue file, companies weigh equally within their industry.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse

from acsi_sem.errors import DataError
from acsi_sem.studies.revenue import Revenue

LEVELS = ("company", "industry", "sector", "national")
NATIONAL = "national"
_EQUAL_SHARES = ("no GDP shares given (a gdp_share column in the revenue file): the national "
                 "index weighs its top-level units equally")


@dataclass(frozen=True)
class Units:
    """Every reported unit: companies (one per cell) and the aggregates.

    Attributes:
        table: one row per unit and wave: ``level``, ``unit``, ``wave``, ``industry``,
            ``sector`` (the unit's place in the hierarchy, None above it) and ``n``
            (respondents behind it).
        matrix: (U, C) sparse weights of each unit's index over the cells' indices.
        composition: ``level, unit, wave, member, weight``: each aggregate's members
            and their (normalized) weights.
        notes: how the weights were chosen where the data left a choice.
    """

    table: pd.DataFrame
    matrix: sparse.csr_matrix
    composition: pd.DataFrame
    notes: tuple[str, ...]


def study_units(cells: pd.DataFrame, companies: pd.DataFrame, revenue: Revenue | None,
                waves: tuple[str, ...]) -> Units:
    """The units of a study (see the module's description).

    Args:
        cells: the survey's cells (``company``, ``wave``, ``n``).
        companies: ``company, industry, sector`` (None where unknown).
        revenue: the checked revenue file, or None.
        waves: the waves in time order.

    Raises:
        DataError: an aggregate whose members' revenues sum to zero, or a GDP share that
            differs within one top-level unit.
    """
    builder = _Builder(cells, companies.set_index("company"), revenue)
    for wave in waves:
        builder.add_wave(wave)
    return builder.units()


class _Builder:
    """Accumulates unit rows wave by wave."""

    def __init__(self, cells: pd.DataFrame, companies: pd.DataFrame,
                 revenue: Revenue | None) -> None:
        self.cells, self.companies, self.revenue = cells, companies, revenue
        self.has_industry = companies["industry"].notna().all()
        self.has_sector = companies["sector"].notna().all()
        self.rows: list[dict] = []
        self.weights: list[dict[int, float]] = []
        self.members: list[tuple] = []
        self.notes: list[str] = []
        if revenue is None and self.has_industry:
            self.notes.append("no revenue file: every company weighs the same in its industry "
                              "and sector")

    def add_wave(self, wave: str) -> None:
        in_wave = np.flatnonzero(self.cells["wave"].to_numpy() == wave)
        companies = {}
        for cell in in_wave:
            name = self.cells["company"].iat[cell]
            companies[name] = self._add("company", name, wave, {cell: 1.0})
        top = companies
        if self.has_industry:
            top = self._aggregate("industry", wave, companies, "company")
        if self.has_sector:
            top = self._aggregate("sector", wave, top, "industry" if self.has_industry
                                  else "company")
        shares = self._national_shares(wave, top)
        self._add(NATIONAL, NATIONAL, wave, self._combine(top, shares), shares)

    def _aggregate(self, level: str, wave: str, members: dict[str, int], member_level: str
                   ) -> dict[str, int]:
        """Rows for each ``level`` unit of ``wave`` from its members' rows."""
        owner = (self.companies[level] if member_level == "company"
                 else self.companies.drop_duplicates(member_level).set_index(member_level)[level])
        found = {}
        for unit in pd.unique(owner[list(members)].to_numpy()):
            names = [name for name in members if owner[name] == unit]
            revenue = np.array([self._revenue(members[name]) for name in names])
            if revenue.sum() <= 0:
                raise DataError(f"{level} {unit} has a total revenue of zero in wave {wave}; "
                                "its companies cannot be weighted")
            shares = dict(zip(names, revenue / revenue.sum(), strict=True))
            found[unit] = self._add(level, unit, wave, self._combine(members, shares), shares)
        return found

    def _revenue(self, row: int) -> float:
        """The revenue behind a unit row: its companies' sum (1 each without a file)."""
        cells = self.weights[row]
        if self.revenue is None:
            return float(len(cells))
        return float(sum(self.revenue.by_cell[cell] for cell in cells))

    def _national_shares(self, wave: str, top: dict[str, int]) -> dict[str, float]:
        gdp = None if self.revenue is None else self.revenue.gdp_share
        if gdp is None:
            if _EQUAL_SHARES not in self.notes:
                self.notes.append(_EQUAL_SHARES)
            return {name: 1 / len(top) for name in top}
        shares = {}
        for name, row in top.items():
            values = np.unique(gdp[list(self.weights[row])])
            if len(values) > 1:
                raise DataError(f"{self.revenue.source}: gdp_share differs within "
                                f"{self.rows[row]['level']} {name} in wave {wave} "
                                f"({', '.join(f'{v:g}' for v in values)}); give one share")
            shares[name] = float(values[0])
        total = sum(shares.values())
        if total <= 0:
            raise DataError(f"{self.revenue.source}: every gdp_share of wave {wave} is zero")
        return {name: share / total for name, share in shares.items()}

    def _combine(self, members: dict[str, int], shares: dict[str, float]) -> dict[int, float]:
        combined: dict[int, float] = {}
        for name, share in shares.items():
            for cell, weight in self.weights[members[name]].items():
                combined[cell] = combined.get(cell, 0.0) + share * weight
        return combined

    def _add(self, level: str, unit: str, wave: str, weights: dict[int, float],
             shares: dict[str, float] | None = None) -> int:
        cells = list(weights)
        first = self.cells["company"].iat[cells[0]]
        place = self.companies.loc[first]
        self.rows.append({
            "level": level, "unit": unit, "wave": wave,
            "industry": place["industry"] if level in ("company", "industry") else None,
            "sector": place["sector"] if level != NATIONAL else None,
            "n": int(self.cells["n"].to_numpy()[cells].sum()), "companies": len(cells)})
        self.weights.append(weights)
        for member, share in (shares or {}).items():
            self.members.append((level, unit, wave, member, share))
        return len(self.rows) - 1

    def units(self) -> Units:
        table = pd.DataFrame(self.rows)
        rows = np.repeat(np.arange(len(self.weights)), [len(w) for w in self.weights])
        cols = np.concatenate([list(w) for w in self.weights]).astype(int)
        values = np.concatenate([list(w.values()) for w in self.weights])
        matrix = sparse.csr_matrix((values, (rows, cols)),
                                   shape=(len(self.weights), len(self.cells)))
        composition = pd.DataFrame(self.members,
                                   columns=["level", "unit", "wave", "member", "weight"])
        return Units(table, matrix, composition, tuple(self.notes))
