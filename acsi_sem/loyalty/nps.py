"""Net Promoter Score (Reichheld 2003, "The one number you need to grow", HBR 81(12)).

On the 0-10 answer to "How likely is it that you would recommend us to a friend?",
promoters answer 9-10, passives 7-8 and detractors 0-6; NPS = 100 (share of promoters - share
of detractors), between -100 and 100.

Its standard error follows from the trinomial distribution of the three categories: with
``p+`` and ``p-`` the shares, ``Var(p+ - p-) = (p+ + p- - (p+ - p-)^2) / n``. The confidence
interval is the bootstrap percentile interval; resampling respondents only changes the three
counts, so each replicate draws them from the multinomial distribution with the sample shares
(the same distribution, without materialising resampled rows).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from acsi_sem.errors import DataError
from acsi_sem.loyalty.inputs import (
    Variable,
    first_rows,
    group_column,
    group_levels,
    variable_column,
)

CATEGORIES = ("promoter", "passive", "detractor")


def promoter_categories(answers: pd.Series, *, source: str = "<DataFrame>") -> pd.Series:
    """Each answer's category: ``promoter`` (9-10), ``passive`` (7-8), ``detractor`` (0-6).

    Args:
        answers: (n,) answers on the 0-10 scale; missing answers stay missing.

    Raises:
        DataError: an answer is not a whole number from 0 to 10 (naming column and row).
    """
    given = answers.dropna()
    wrong = (given < 0) | (given > 10) | (given != np.round(given))
    if wrong.any():
        bad = wrong.reindex(answers.index, fill_value=False)
        first = given[wrong].iloc[0]
        raise DataError(f"{source}: column {answers.name}, {first_rows(bad)}: {first:g} is "
                        "not an answer on the 0-10 recommend scale (whole numbers 0-10)")
    labels = pd.cut(answers, bins=[-0.5, 6.5, 8.5, 10.5], labels=CATEGORIES[::-1])
    return labels.astype(pd.CategoricalDtype(CATEGORIES)).rename(answers.name)


def net_promoter_score(data: pd.DataFrame | None, recommend: Variable, *,
                       group: Variable | None = None, replicates: int = 2000,
                       level: float = 0.95, seed: int | np.random.Generator | None = None,
                       source: str = "<DataFrame>") -> pd.DataFrame:
    """NPS with its bootstrap percentile interval, overall or per group.

    Args:
        data: the survey, one row per respondent.
        recommend: the 0-10 "would recommend" item: a column name or a Series.
        group: a column (or Series) of group labels; one row per group. A categorical's
            declared categories are all reported, so an empty one is an error; respondents
            without a label are left out. One generator serves the groups in turn.
        replicates: bootstrap replicates (0: no interval).
        level: confidence level of the interval.
        seed: seed or generator of the bootstrap; the same seed gives the same interval.
        source: the data's file name, for error messages.

    Returns:
        One row per group (index ``"all"`` without grouping) with ``n`` (answers given),
        ``n_missing``, the counts and shares (0-1) of ``promoters``, ``passives`` and
        ``detractors``, ``nps`` (-100 to 100), ``se`` (analytic, NPS points),
        ``bootstrap_se``, ``ci_lower`` and ``ci_upper`` (NPS points).

    Raises:
        DataError: answers outside 0-10, or a group without any answer.
    """
    if not 0 < level < 1 or replicates < 0:
        raise DataError(f"level must lie between 0 and 1 (got {level}) and replicates be 0 "
                        f"or more (got {replicates})")
    answers = variable_column(data, recommend, role="the recommend item", source=source)
    categories = promoter_categories(answers, source=source)
    labels = group_column(data, group, source=source)
    rng = np.random.default_rng(seed)
    if categories.notna().sum() == 0:
        raise DataError(f"{source}: column {answers.name} holds no answer")
    if labels is None:
        return _nps_rows({"all": categories}, replicates, level, rng)
    by_group = {name: categories[(labels == name).to_numpy()]
                for name in group_levels(labels)}
    for name, members in by_group.items():
        if members.notna().sum() == 0:
            raise DataError(f"{source}: group {name!r} of {labels.name} has no answer to "
                            f"{answers.name} ({len(members)} respondents, all missing); drop "
                            "the group or check the group column")
    table = _nps_rows(by_group, replicates, level, rng)
    table.index.name = labels.name
    return table


def nps_standard_error(promoters: float, detractors: float, n: int) -> float:
    """Standard error of NPS in points from the shares (0-1) of promoters and detractors
    among ``n`` answers (trinomial variance of the difference of two shares)."""
    difference = promoters - detractors
    return 100 * float(np.sqrt((promoters + detractors - difference ** 2) / n))


def _nps_rows(groups: dict, replicates: int, level: float,
              rng: np.random.Generator) -> pd.DataFrame:
    rows = {name: _nps_row(categories, replicates, level, rng)
            for name, categories in groups.items()}
    return pd.DataFrame.from_dict(rows, orient="index")


def _nps_row(categories: pd.Series, replicates: int, level: float,
             rng: np.random.Generator) -> dict:
    counts = categories.value_counts().reindex(CATEGORIES).to_numpy()
    n = int(counts.sum())
    shares = counts / n
    nps = 100 * (shares[0] - shares[2])
    row = {"n": n, "n_missing": int(categories.isna().sum()),
           "promoters": int(counts[0]), "passives": int(counts[1]),
           "detractors": int(counts[2]),
           "share_promoters": shares[0], "share_passives": shares[1],
           "share_detractors": shares[2], "nps": nps,
           "se": nps_standard_error(shares[0], shares[2], n)}
    row.update(_bootstrap_interval(shares, n, replicates, level, rng))
    return row


def _bootstrap_interval(shares: np.ndarray, n: int, replicates: int, level: float,
                        rng: np.random.Generator) -> dict:
    if replicates <= 0:
        return {"bootstrap_se": np.nan, "ci_lower": np.nan, "ci_upper": np.nan}
    draws = rng.multinomial(n, shares, size=replicates)
    scores = 100 * (draws[:, 0] - draws[:, 2]) / n
    tail = (1 - level) / 2
    return {"bootstrap_se": float(scores.std(ddof=1)) if replicates > 1 else np.nan,
            "ci_lower": float(np.quantile(scores, tail)),
            "ci_upper": float(np.quantile(scores, 1 - tail))}
