"""The loyalty ladder (Christopher, Payne & Ballantyne 1991): from prospect to partner.

Each respondent stands on one rung, decided by these rules, applied from the top down
(thresholds are parameters, defaults in brackets):

- **partner**: an advocate with a partnership tie (the ``partner`` column is true: e.g. a
  member of a co-design panel or a key account);
- **advocate**: a supporter who recommends (recommendation >= ``recommend_cut`` [9, the
  NPS promoter answer on 0-10]);
- **supporter**: a customer with a favourable attitude (attitude >= ``attitude_cut``);
- **customer**: bought at least ``repeat`` times [2];
- **purchaser**: bought once (1 <= purchases < repeat);
- **prospect**: has not bought (purchases 0).

A rung needs every rung beneath it, so a one-time purchaser who loves the brand is still a
purchaser: the ladder is about relationship depth, not attitude alone.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from acsi_sem.errors import DataError
from acsi_sem.loyalty.inputs import Variable, answered, not_a_count

RUNGS = ("prospect", "purchaser", "customer", "supporter", "advocate", "partner")


@dataclass(frozen=True)
class LoyaltyLadder:
    """Rungs of the loyalty ladder.

    Attributes:
        rungs: each respondent's rung (ordered categorical of :data:`RUNGS`), indexed like
            the data.
        table: (6, 2) ``count`` and ``share`` per rung, bottom to top.
    """

    rungs: pd.Series
    table: pd.DataFrame


def loyalty_ladder(data: pd.DataFrame | None, purchases: Variable, attitude: Variable,
                   recommendation: Variable, *, attitude_cut: float,
                   partner: Variable | None = None, repeat: int = 2,
                   recommend_cut: float = 9, source: str = "<DataFrame>") -> LoyaltyLadder:
    """Place every respondent on the loyalty ladder.

    Args:
        data: the survey, one row per respondent.
        purchases: number of purchases in the period (a count, at least 0).
        attitude: attitude towards the brand (an item or a 0-100 satisfaction score).
        recommendation: recommendation behaviour (e.g. the 0-10 recommend item).
        attitude_cut: a favourable attitude is >= this value (no default: it depends on the
            scale).
        partner: a 0/1 column marking a partnership tie; None when there is none.
        repeat: purchases that make a customer (at least 2).
        recommend_cut: recommendations >= this value count as advocacy.
        source: the data's name, for error messages.

    Raises:
        DataError: a missing column, missing values, or a negative or fractional count.
    """
    if repeat < 2:
        raise DataError(f"repeat must be at least 2 purchases (a customer bought again); got "
                        f"{repeat}")
    bought = answered(data, purchases, role="purchases", source=source, invalid=not_a_count,
                      problem="is not a count of purchases (a whole number, at least 0)")
    liking = answered(data, attitude, role="attitude", source=source)
    telling = answered(data, recommendation, role="recommendation", source=source)
    tied = (pd.Series(False, index=bought.index) if partner is None
            else answered(data, partner, role="partner", source=source) > 0)
    customer = bought >= repeat
    supporter = customer & (liking >= attitude_cut)
    advocate = supporter & (telling >= recommend_cut)
    level = ((bought >= 1).astype(int) + customer + supporter + advocate + (advocate & tied))
    rungs = pd.Series(pd.Categorical.from_codes(level.to_numpy(), RUNGS, ordered=True),
                      index=bought.index, name="rung")
    return LoyaltyLadder(rungs=rungs, table=rung_table(rungs))


def rung_table(rungs: pd.Series) -> pd.DataFrame:
    """``count`` and ``share`` of each rung (every rung listed, bottom to top)."""
    counts = rungs.value_counts().reindex(list(RUNGS), fill_value=0)
    total = counts.sum()
    return pd.DataFrame({"count": counts, "share": counts / total if total else 0.0})


def ladder_transitions(before: pd.Series, after: pd.Series) -> pd.DataFrame:
    """Movement between rungs from one wave to the next, for the respondents in both.

    Args:
        before, after: rungs of :func:`loyalty_ladder` in two waves, indexed by a respondent
            id shared between the waves.

    Returns:
        (6, 9) counts: rows the earlier rung, columns the later one, then ``up``, ``same``
        and ``down`` (respondents who climbed, stayed or fell).

    Raises:
        DataError: the waves share no respondent.
    """
    shared = before.index.intersection(after.index)
    if shared.empty:
        raise DataError("the two waves share no respondent id; index both by the same "
                        "respondent ids")
    earlier = pd.Categorical(before.loc[shared], RUNGS, ordered=True)
    later = pd.Categorical(after.loc[shared], RUNGS, ordered=True)
    table = pd.crosstab(pd.Series(earlier, name="before"), pd.Series(later, name="after"),
                        dropna=False).reindex(index=list(RUNGS), columns=list(RUNGS),
                                              fill_value=0)
    step = pd.Series(later.codes - earlier.codes)
    moves = pd.DataFrame({"from": earlier.codes, "step": step})
    for name, mask in (("up", step > 0), ("same", step == 0), ("down", step < 0)):
        table[name] = moves[mask].groupby("from").size().reindex(range(len(RUNGS)),
                                                                 fill_value=0).to_numpy()
    return table

