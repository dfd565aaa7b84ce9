"""The loyalty diamond (Knox 1998, "Loyalty-based segmentation and the customer development
process", European Management Journal 16(6), 729-737).

Category buyers are placed by their involvement with the category and the breadth of their
brand repertoire:

    ===================  ==================  ==================
    involvement \\ repertoire  narrow              broad
    ===================  ==================  ==================
    high                 loyal               multi-brand
    low                  habitual            switcher
    ===================  ==================  ==================

Rules (parameters in brackets): the repertoire is **narrow** when the buyer bought at most
``max_brands`` brands in the category [1] or, when a share of category spend is given, gave
the brand at least ``share_cut`` of it [0.5]; otherwise broad. Involvement is **high** at or
above ``involvement_cut`` (default: the median). Loyal buyers care and stay with one brand;
habitual buyers stay from routine; multi-brand buyers care but spread their spend over a few
brands they like; switchers follow price and availability.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from acsi_sem.errors import DataError
from acsi_sem.loyalty.inputs import Variable, answered, not_a_count
from acsi_sem.loyalty.records import plain

QUADRANTS = ("loyal", "habitual", "multi-brand", "switcher")
# (high involvement, narrow repertoire) of each quadrant.
_QUADRANT = {(True, True): "loyal", (False, True): "habitual", (True, False): "multi-brand",
             (False, False): "switcher"}


@dataclass(frozen=True)
class LoyaltyDiamond:
    """Category buyers in Knox's four quadrants.

    Attributes:
        segments: (n,) each buyer's quadrant (categorical of :data:`QUADRANTS`).
        table: (4, 4) ``involvement`` and ``repertoire`` of each quadrant, ``count`` and
            ``share`` (0-1).
        involvement_cut: high involvement is ``involvement >= involvement_cut``.
        max_brands: a repertoire of at most this many brands is narrow.
        share_cut: a share of category spend at least this high is narrow (None: not used).
    """

    segments: pd.Series
    table: pd.DataFrame
    involvement_cut: float
    max_brands: int
    share_cut: float | None

    def to_dict(self) -> dict:
        """The rules, counts and shares as plain Python values (for JSON)."""
        return {"involvement_cut": self.involvement_cut, "max_brands": self.max_brands,
                "share_cut": self.share_cut, "n": int(self.table["count"].sum()),
                "segments": {name: {"count": int(row["count"]), "share": plain(row["share"])}
                             for name, row in self.table.iterrows()}}


def loyalty_diamond(data: pd.DataFrame | None, brands: Variable, involvement: Variable, *,
                    share: Variable | None = None, involvement_cut: float | None = None,
                    max_brands: int = 1, share_cut: float = 0.5,
                    source: str = "<DataFrame>") -> LoyaltyDiamond:
    """Place every category buyer in the loyalty diamond.

    Args:
        data: the survey, one row per category buyer.
        brands: number of brands bought in the category (a count, at least 1).
        involvement: involvement with the category (an item or a score).
        share: the brand's share of the buyer's category spend (0-1); None: brands only.
        involvement_cut: high involvement is >= this value; default: the median.
        max_brands: at most this many brands is a narrow repertoire.
        share_cut: with ``share``, at least this share is a narrow repertoire.
        source: the data's name, for error messages.

    Raises:
        DataError: a missing column or answer, a brand count below 1 or not whole, or a
            share outside 0-1.
    """
    if max_brands < 1:
        raise DataError(f"max_brands must be at least 1; got {max_brands}")
    count = answered(data, brands, role="brands bought", source=source,
                     invalid=lambda v: not_a_count(v) | (v < 1),
                     problem="is not a number of brands bought (a whole number, at least 1)")
    caring = answered(data, involvement, role="involvement", source=source)
    cut = float(caring.median()) if involvement_cut is None else float(involvement_cut)
    narrow = count <= max_brands
    if share is not None:
        spent = answered(data, share, role="share of category spend", source=source,
                         invalid=lambda v: (v < 0) | (v > 1),
                         problem="is not a share of spend (0 to 1)")
        narrow |= spent.reindex(count.index) >= share_cut
    high = caring.reindex(count.index) >= cut
    names = [_QUADRANT[(bool(h), bool(n))] for h, n in zip(high, narrow, strict=True)]
    segments = pd.Series(pd.Categorical(names, QUADRANTS), index=count.index, name="quadrant")
    return LoyaltyDiamond(segments=segments, table=_quadrant_table(segments),
                          involvement_cut=cut, max_brands=max_brands,
                          share_cut=None if share is None else float(share_cut))


def _quadrant_table(segments: pd.Series) -> pd.DataFrame:
    counts = segments.value_counts().reindex(QUADRANTS, fill_value=0)
    levels = {name: key for key, name in _QUADRANT.items()}
    return pd.DataFrame({
        "involvement": ["high" if levels[q][0] else "low" for q in QUADRANTS],
        "repertoire": ["narrow" if levels[q][1] else "broad" for q in QUADRANTS],
        "count": counts.to_numpy(), "share": (counts / counts.sum()).to_numpy()},
        index=pd.Index(QUADRANTS, name="quadrant"))

