"""The Dick-Basu loyalty matrix (Dick & Basu 1994, "Customer loyalty: toward an integrated
conceptual framework", Journal of the Academy of Marketing Science 22(2), 99-113).

Respondents are placed by relative attitude (e.g. a satisfaction or loyalty latent score, or
an attitude item) and repeat patronage (a behavioural item such as purchases per year):

    ==================  ==================  =====================
    attitude \\ patronage  high               low
    ==================  ==================  =====================
    high                loyalty             latent loyalty
    low                 spurious loyalty    no loyalty
    ==================  ==================  =====================

The cut-points default to each variable's median. A value equal to its cut-point counts as
high (``value >= cut``), so on a discrete item every answer at the median is high.
Respondents missing either variable are left out and counted.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from acsi_sem.errors import DataError
from acsi_sem.loyalty.inputs import Variable, variable_column

SEGMENTS = ("loyalty", "latent loyalty", "spurious loyalty", "no loyalty")
# (high attitude, high patronage) of each segment, in SEGMENTS' order.
_LEVELS = {(True, True): "loyalty", (True, False): "latent loyalty",
           (False, True): "spurious loyalty", (False, False): "no loyalty"}


@dataclass(frozen=True)
class LoyaltyMatrix:
    """Respondents classified into the four Dick-Basu segments.

    Attributes:
        segments: (n,) each respondent's segment (categorical; missing where an input was).
        attitude: (n,) the relative-attitude values used.
        patronage: (n,) the repeat-patronage values used.
        attitude_cut: high attitude is ``attitude >= attitude_cut``.
        patronage_cut: high patronage is ``patronage >= patronage_cut``.
        table: one row per segment: ``attitude`` and ``patronage`` ("high"/"low"),
            ``count`` and ``share`` (0-1 of the classified respondents).
        n_missing: respondents left out for a missing attitude or patronage.
    """

    segments: pd.Series
    attitude: pd.Series
    patronage: pd.Series
    attitude_cut: float
    patronage_cut: float
    table: pd.DataFrame
    n_missing: int

    @property
    def counts(self) -> pd.DataFrame:
        """(2, 2) counts: rows attitude high/low, columns patronage high/low."""
        grid = self.table.pivot(index="attitude", columns="patronage", values="count")
        return grid.loc[["high", "low"], ["high", "low"]]

    def to_dict(self) -> dict:
        """Cut-points, counts and shares as plain Python values (for JSON)."""
        return {"attitude": str(self.attitude.name), "patronage": str(self.patronage.name),
                "attitude_cut": float(self.attitude_cut),
                "patronage_cut": float(self.patronage_cut),
                "n": int(self.table["count"].sum()), "n_missing": self.n_missing,
                "segments": {segment: {"count": int(row["count"]), "share": float(row["share"])}
                             for segment, row in self.table.iterrows()}}


def loyalty_matrix(data: pd.DataFrame | None, attitude: Variable, patronage: Variable, *,
                   attitude_cut: float | None = None, patronage_cut: float | None = None,
                   source: str = "<DataFrame>") -> LoyaltyMatrix:
    """Classify respondents into loyalty, latent, spurious and no loyalty.

    Args:
        data: the survey, one row per respondent.
        attitude: relative attitude: a column name or a Series (a latent score).
        patronage: repeat patronage: a column name or a Series (e.g. purchases per year).
        attitude_cut, patronage_cut: values at and above which a respondent counts as high;
            default: the median of the respondents with both values.
        source: the data's file name, for error messages.

    Raises:
        DataError: no respondent with both values.
    """
    a = variable_column(data, attitude, role="relative attitude", source=source)
    p = variable_column(data, patronage, role="repeat patronage", source=source)
    if isinstance(attitude, pd.Series) and isinstance(patronage, pd.Series):
        p = p.reindex(a.index)
    both = a.notna() & p.notna()
    if not both.any():
        raise DataError(f"{source}: no respondent has both {a.name} (attitude) and {p.name} "
                        "(patronage)")
    a_cut = float(a[both].median()) if attitude_cut is None else float(attitude_cut)
    p_cut = float(p[both].median()) if patronage_cut is None else float(patronage_cut)
    segments = pd.Series(
        [_LEVELS[(x >= a_cut, y >= p_cut)] if ok else None
         for x, y, ok in zip(a, p, both, strict=True)],
        index=a.index, name="segment", dtype=pd.CategoricalDtype(SEGMENTS))
    return LoyaltyMatrix(segments=segments, attitude=a, patronage=p, attitude_cut=a_cut,
                         patronage_cut=p_cut, table=_segment_table(segments),
                         n_missing=int((~both).sum()))


def _segment_table(segments: pd.Series) -> pd.DataFrame:
    counts = segments.value_counts().reindex(SEGMENTS)
    levels = {segment: key for key, segment in _LEVELS.items()}
    table = pd.DataFrame({
        "attitude": ["high" if levels[s][0] else "low" for s in SEGMENTS],
        "patronage": ["high" if levels[s][1] else "low" for s in SEGMENTS],
        "count": counts.to_numpy(), "share": (counts / counts.sum()).to_numpy()},
        index=pd.Index(SEGMENTS, name="segment"))
    return table
