"""Seven types of loyalty, by what holds the customer: a documented classification.

The customer-relationship textbooks distinguish loyalty by its cause: monopoly loyalty (no
real alternative), inertia loyalty (habit, no wish to look elsewhere), latent loyalty
(attachment without the purchases), convenience loyalty (the brand is the easiest to reach),
price loyalty (the cheapest), incentive loyalty (the rewards programme) and premium or
emotional loyalty (attachment and repeat purchase, whatever the price). No textbook gives a
scoring rule, so this module fixes one, applied from the top down (thresholds in brackets):

1. **no repeat purchase** (purchases < ``repeat`` [2]): **latent** when attachment is high,
   otherwise **no loyalty** (the eighth category: neither held nor attached);
2. **premium**: attachment high and price sensitivity low;
3. **incentive**: uses the rewards programme (the ``rewards`` column > 0);
4. **price**: price sensitivity high;
5. **monopoly**: switching cost high (no alternative worth the cost of changing);
6. **convenience**: convenience high (only when a ``convenience`` variable is given);
7. **inertia**: every other repeat buyer, held by habit alone.

"High" means at or above the cut-point, which defaults to the median of the respondents, as
in the Dick-Basu matrix. The order matters where causes overlap: a rewards member who is also
price sensitive counts as incentive-loyal, because the programme is the stronger, more
specific tie; change the order by pre-classifying if a study argues otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from acsi_sem.errors import DataError
from acsi_sem.loyalty.inputs import Variable, answered, not_a_count
from acsi_sem.loyalty.records import plain

LOYALTY_TYPES = ("premium", "incentive", "price", "monopoly", "convenience", "inertia",
                 "latent", "no loyalty")
HELD_BY = {"premium": "attachment, whatever the price",
           "incentive": "the rewards programme",
           "price": "the lowest price",
           "monopoly": "the cost of switching (no real alternative)",
           "convenience": "convenience (location, availability)",
           "inertia": "habit",
           "latent": "attachment without repeat purchase",
           "no loyalty": "nothing: neither repeat purchase nor attachment"}


@dataclass(frozen=True)
class LoyaltyTypes:
    """Respondents classified by what holds them.

    Attributes:
        types: (n,) each respondent's type (categorical of :data:`LOYALTY_TYPES`).
        table: (8, 3) ``held_by`` (the cause in words), ``count`` and ``share`` (0-1).
        cuts: the cut-points used, by variable role (attachment, price_sensitivity,
            switching_cost, convenience), and ``repeat``.
    """

    types: pd.Series
    table: pd.DataFrame
    cuts: dict[str, float]

    def to_dict(self) -> dict:
        """Cut-points, counts and shares as plain Python values (for JSON)."""
        return {"cuts": {k: plain(v) for k, v in self.cuts.items()},
                "n": int(self.table["count"].sum()),
                "types": {name: {"held_by": row["held_by"], "count": int(row["count"]),
                                 "share": plain(row["share"])}
                          for name, row in self.table.iterrows()}}


def loyalty_types(data: pd.DataFrame | None, attachment: Variable, purchases: Variable,
                  price_sensitivity: Variable, switching_cost: Variable, rewards: Variable, *,
                  convenience: Variable | None = None, repeat: int = 2,
                  attachment_cut: float | None = None, price_cut: float | None = None,
                  switching_cut: float | None = None, convenience_cut: float | None = None,
                  source: str = "<DataFrame>") -> LoyaltyTypes:
    """Classify every respondent into one of the seven loyalty types or no loyalty.

    Args:
        data: the survey, one row per respondent.
        attachment: emotional attachment to the brand (an item or a score).
        purchases: purchases in the period (a count).
        price_sensitivity: stated price sensitivity (higher: more sensitive).
        switching_cost: perceived cost of switching to another brand.
        rewards: use of the rewards programme (0/1 or a count of uses).
        convenience: importance of convenience; None leaves out convenience loyalty.
        repeat: purchases that make a repeat buyer (at least 2).
        attachment_cut, price_cut, switching_cut, convenience_cut: "high" is >= the cut;
            default: each variable's median.
        source: the data's name, for error messages.

    Raises:
        DataError: a missing column or answer, or a purchase count that is not a count.
    """
    if repeat < 2:
        raise DataError(f"repeat must be at least 2 purchases; got {repeat}")
    bought = answered(data, purchases, role="purchases", source=source, invalid=not_a_count,
                      problem="is not a count of purchases (a whole number, at least 0)")
    member = answered(data, rewards, role="rewards programme use", source=source) > 0
    cuts = {"repeat": float(repeat)}
    high = {}
    named = {"attachment": (attachment, attachment_cut),
             "price_sensitivity": (price_sensitivity, price_cut),
             "switching_cost": (switching_cost, switching_cut)}
    if convenience is not None:
        named["convenience"] = (convenience, convenience_cut)
    for role, (variable, cut) in named.items():
        values = answered(data, variable, role=role.replace("_", " "), source=source)
        cuts[role] = float(values.median()) if cut is None else float(cut)
        high[role] = (values >= cuts[role]).to_numpy()
    none = np.zeros(len(bought), dtype=bool)
    repeat_buyer = (bought >= repeat).to_numpy()
    rules = [
        (~repeat_buyer & high["attachment"], "latent"),
        (~repeat_buyer, "no loyalty"),
        (high["attachment"] & ~high["price_sensitivity"], "premium"),
        (member.to_numpy(), "incentive"),
        (high["price_sensitivity"], "price"),
        (high["switching_cost"], "monopoly"),
        (high.get("convenience", none), "convenience"),
    ]
    names = np.select([mask for mask, _ in rules], [name for _, name in rules],
                      default="inertia")
    types = pd.Series(pd.Categorical(names, LOYALTY_TYPES), index=bought.index,
                      name="loyalty_type")
    counts = types.value_counts().reindex(LOYALTY_TYPES, fill_value=0)
    table = pd.DataFrame({"held_by": [HELD_BY[t] for t in LOYALTY_TYPES],
                          "count": counts.to_numpy(),
                          "share": (counts / counts.sum()).to_numpy()},
                         index=pd.Index(LOYALTY_TYPES, name="loyalty_type"))
    return LoyaltyTypes(types=types, table=table, cuts=cuts)
