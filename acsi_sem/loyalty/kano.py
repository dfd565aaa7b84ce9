"""Kano evaluation of product features (Kano et al. 1984; Berger et al. 1993, "Kano's methods
for understanding customer-defined quality", Center for Quality Management Journal 2(4);
Matzler & Hinterhuber 1998, Technovation 18(1), 25-38).

Each feature is asked twice: functional ("How do you feel if the feature is present?") and
dysfunctional ("... if it is absent?"), each answered with one of five options, coded

    1 like   2 must-be (expect it)   3 neutral   4 live-with (can tolerate it)   5 dislike

The pair of answers gives the respondent's category by the Kano evaluation table:

    ===========  ====  =======  =======  =========  =======
    functional   dysfunctional
    -----------  ----------------------------------------------
    \\            like  must-be  neutral  live-with  dislike
    ===========  ====  =======  =======  =========  =======
    like         Q     A        A        A          O
    must-be      R     I        I        I          M
    neutral      R     I        I        I          M
    live-with    R     I        I        I          M
    dislike      R     R        R        R          Q
    ===========  ====  =======  =======  =========  =======

A attractive, O one-dimensional, M must-be, I indifferent, R reverse, Q questionable (a
contradictory answer). Per feature: the category shares, the dominant category and Berger's
customer-satisfaction coefficients

    better = (A + O) / (A + O + M + I)          (0 to 1: satisfaction when present)
    worse  = -(O + M) / (A + O + M + I)         (-1 to 0: dissatisfaction when absent)

Dominant category: the most frequent. Ties are broken by Berger et al.'s rule "M > O > A > I"
(the category that matters more for the product wins), then R, then Q; ``tie`` flags
features where it was needed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from acsi_sem.errors import DataError
from acsi_sem.loyalty.inputs import first_rows
from acsi_sem.loyalty.records import table_dict

CATEGORIES = ("A", "O", "M", "I", "R", "Q")
CATEGORY_NAMES = {"A": "attractive", "O": "one-dimensional", "M": "must-be",
                  "I": "indifferent", "R": "reverse", "Q": "questionable"}
ANSWERS = ("like", "must-be", "neutral", "live-with", "dislike")
# Rows: functional answer 1-5; columns: dysfunctional answer 1-5 (Berger et al. 1993).
EVALUATION_TABLE = pd.DataFrame(
    [["Q", "A", "A", "A", "O"],
     ["R", "I", "I", "I", "M"],
     ["R", "I", "I", "I", "M"],
     ["R", "I", "I", "I", "M"],
     ["R", "R", "R", "R", "Q"]],
    index=pd.Index(ANSWERS, name="functional"), columns=pd.Index(ANSWERS, name="dysfunctional"))
_TIE_ORDER = ("M", "O", "A", "I", "R", "Q")
# Text answers accepted besides the codes 1-5 (lower case, spaces and hyphens removed).
_LABELS = {"like": 1, "ilikeit": 1, "mustbe": 2, "expect": 2, "iexpectit": 2, "itmustbe": 2,
           "neutral": 3, "iamneutral": 3, "imneutral": 3, "livewith": 4, "icanlivewithit": 4,
           "tolerate": 4, "icantolerateit": 4, "dislike": 5, "idislikeit": 5}

FUNCTIONAL_SUFFIX = "_functional"
DYSFUNCTIONAL_SUFFIX = "_dysfunctional"


@dataclass(frozen=True)
class KanoEvaluation:
    """The Kano categories of every answer pair and their summary per feature.

    Attributes:
        categories: (n, features) each respondent's category letter per feature (missing
            where either answer is).
        counts: (features, 6) number of respondents per category A, O, M, I, R, Q.
        summary: one row per feature: ``n`` (answer pairs), the shares (0-1) ``A ... Q``,
            ``dominant`` (letter), ``dominant_name``, ``tie``, ``better`` (0 to 1) and
            ``worse`` (-1 to 0); better and worse are NaN when every answer is R or Q.
    """

    categories: pd.DataFrame
    counts: pd.DataFrame
    summary: pd.DataFrame

    def to_dict(self) -> dict:
        """The summary per feature (for JSON)."""
        return {"features": table_dict(self.summary)}


def kano_category(functional: int, dysfunctional: int) -> str:
    """The category letter of one answer pair, each answer coded 1-5.

    Raises:
        DataError: an answer outside 1-5.
    """
    for role, answer in (("functional", functional), ("dysfunctional", dysfunctional)):
        if answer not in range(1, 6):
            raise DataError(f"the {role} answer {answer!r} is outside the Kano answers 1-5")
    return EVALUATION_TABLE.iat[int(functional) - 1, int(dysfunctional) - 1]


def kano_pairs(data: pd.DataFrame, *, functional_suffix: str = FUNCTIONAL_SUFFIX,
               dysfunctional_suffix: str = DYSFUNCTIONAL_SUFFIX,
               source: str = "<DataFrame>") -> dict[str, tuple[str, str]]:
    """The question pairs of the data: ``{feature: (functional column, dysfunctional column)}``
    for every ``<feature>_functional`` / ``<feature>_dysfunctional`` pair.

    Raises:
        DataError: a feature has only one of its two questions (naming the column).
    """
    columns = [str(c) for c in data.columns]
    functional = {c[: -len(functional_suffix)]: c for c in columns
                  if c.endswith(functional_suffix)}
    dysfunctional = {c[: -len(dysfunctional_suffix)]: c for c in columns
                     if c.endswith(dysfunctional_suffix)}
    for feature, column in {**functional, **dysfunctional}.items():
        if feature not in functional or feature not in dysfunctional:
            partner = (feature + dysfunctional_suffix if feature in functional
                       else feature + functional_suffix)
            raise DataError(f"{source}: Kano feature {feature!r} has the question {column} "
                            f"but not its pair {partner}; every feature needs a functional "
                            "and a dysfunctional question")
    return {feature: (functional[feature], dysfunctional[feature]) for feature in functional}


def kano_evaluation(data: pd.DataFrame, features: dict[str, tuple[str, str]] | None = None, *,
                    source: str = "<DataFrame>") -> KanoEvaluation:
    """Classify every answer pair and summarise each feature.

    Args:
        data: the survey, one row per respondent; answers coded 1-5 or as text ("like",
            "must-be", "neutral", "live-with", "dislike"; case and spacing are ignored).
        features: ``{feature: (functional column, dysfunctional column)}``; ``None`` finds
            the ``<feature>_functional`` / ``<feature>_dysfunctional`` columns.
        source: the data's file name, for error messages.

    Raises:
        DataError: no pairs, a missing question of a pair, an answer that is not one of the
            five options (naming column and row), or a feature nobody answered.
    """
    if features is None:
        features = kano_pairs(data, source=source)
    if not features:
        raise DataError(f"{source}: no Kano question pairs (columns <feature>"
                        f"{FUNCTIONAL_SUFFIX} and <feature>{DYSFUNCTIONAL_SUFFIX})")
    categories = pd.DataFrame({feature: _feature_categories(data, feature, pair, source)
                               for feature, pair in features.items()}, index=data.index)
    counts = pd.DataFrame({feature: categories[feature].value_counts().reindex(
        CATEGORIES, fill_value=0) for feature in features}).T.astype(int)
    counts.index.name = "feature"
    return KanoEvaluation(categories=categories, counts=counts, summary=_summary(counts))


def _feature_categories(data: pd.DataFrame, feature: str, pair: tuple[str, str],
                        source: str) -> pd.Series:
    absent = [column for column in pair if column not in data.columns]
    if absent:
        raise DataError(f"{source}: Kano feature {feature!r}: no column "
                        f"{', '.join(absent)} in the data")
    functional, dysfunctional = (_answer_codes(data[column], source) for column in pair)
    answered = functional.notna() & dysfunctional.notna()
    if not answered.any():
        raise DataError(f"{source}: Kano feature {feature!r}: no respondent answered both "
                        f"{pair[0]} and {pair[1]}")
    table = EVALUATION_TABLE.to_numpy()
    letters = np.full(len(data), None, dtype=object)
    rows = answered.to_numpy()
    letters[rows] = table[functional[rows].astype(int) - 1, dysfunctional[rows].astype(int) - 1]
    return pd.Series(letters, index=data.index, name=feature)


def _answer_codes(column: pd.Series, source: str) -> pd.Series:
    """Answers as codes 1-5 (float, NaN where missing)."""
    if pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
        codes = column.astype(float)
    else:
        text = column.astype("string").str.strip().replace("", pd.NA)
        keys = text.str.lower().map(lambda s: re.sub(r"[\s\-_'\u2019]", "", s), na_action="ignore")
        codes = pd.to_numeric(text, errors="coerce").astype(float)
        codes = codes.fillna(keys.map(_LABELS).astype(float))
        unknown = codes.isna() & text.notna()
        if unknown.any():
            raise DataError(f"{source}: column {column.name}, {first_rows(unknown)}: "
                            f"{column[unknown].iloc[0]!r} is not a Kano answer; use 1-5 or "
                            f"{', '.join(ANSWERS)}")
    wrong = codes.notna() & ~codes.isin([1, 2, 3, 4, 5])
    if wrong.any():
        raise DataError(f"{source}: column {column.name}, {first_rows(wrong)}: "
                        f"{codes[wrong].iloc[0]:g} is outside the Kano answers 1-5 "
                        f"({', '.join(f'{i} {a}' for i, a in enumerate(ANSWERS, 1))})")
    return codes


def _summary(counts: pd.DataFrame) -> pd.DataFrame:
    n = counts.sum(axis=1)
    shares = counts.div(n, axis=0)
    relevant = counts[["A", "O", "M", "I"]].sum(axis=1).replace(0, np.nan)
    dominant, tie = zip(*(_dominant(row) for _, row in counts.iterrows()), strict=True)
    summary = shares.copy()
    summary.insert(0, "n", n)
    summary["dominant"] = list(dominant)
    summary["dominant_name"] = [CATEGORY_NAMES[c] for c in dominant]
    summary["tie"] = list(tie)
    summary["better"] = (counts["A"] + counts["O"]) / relevant
    summary["worse"] = -(counts["O"] + counts["M"]) / relevant
    return summary


def _dominant(row: pd.Series) -> tuple[str, bool]:
    largest = row.max()
    leaders = [c for c in _TIE_ORDER if row[c] == largest]
    return leaders[0], len(leaders) > 1
