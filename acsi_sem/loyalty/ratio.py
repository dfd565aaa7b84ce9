"""Satisfaction ratio C = b / a: perceived performance b over expectation a.

The disconfirmation view of satisfaction (Oliver 1980; Tse & Wilton 1988) compares what a
customer got with what they expected: C > 1 when performance exceeded the expectation, C < 1
when it fell short. A ratio needs both on a ratio scale with a true zero, so both must be
positive: answers on a 1-10 scale, or 0-100 index scores; standardized latent scores (mean 0)
are not, and are refused with a note to use index scores.
"""

from __future__ import annotations

import pandas as pd

from acsi_sem.errors import DataError
from acsi_sem.loyalty.inputs import Variable, first_rows, variable_column


def satisfaction_ratios(data: pd.DataFrame | None, performance: Variable,
                        expectation: Variable, *, source: str = "<DataFrame>") -> pd.DataFrame:
    """Each respondent's satisfaction ratio.

    Args:
        data: the survey, one row per respondent.
        performance: perceived performance b: a column name or a Series (e.g. 0-100 index
            scores of a quality construct).
        expectation: expectation a, in the same unit as ``performance``.
        source: the data's file name, for error messages.

    Returns:
        (n, 3) ``performance``, ``expectation`` and ``ratio`` (b / a), indexed like the data.

    Raises:
        DataError: an expectation that is zero, negative or missing, or a performance that is
            negative or missing, naming the column and the first rows at fault.
    """
    b = variable_column(data, performance, role="performance", source=source)
    a = variable_column(data, expectation, role="expectation", source=source)
    if isinstance(performance, pd.Series) and isinstance(expectation, pd.Series):
        a = a.reindex(b.index)
    _check_given(a, "expectation", source)
    _check_given(b, "performance", source)
    if (a <= 0).any():
        raise DataError(f"{source}: expectation {a.name}, {first_rows(a <= 0)}: the "
                        f"expectation is {a[a <= 0].iloc[0]:g}; the ratio b / a needs a "
                        "positive expectation (for latent variables use 0-100 index scores, "
                        "not standardized scores)")
    if (b < 0).any():
        raise DataError(f"{source}: performance {b.name}, {first_rows(b < 0)}: the performance "
                        f"is {b[b < 0].iloc[0]:g}; the ratio needs performance and expectation "
                        "on a scale with a true zero (e.g. 0-100 index scores)")
    return pd.DataFrame({"performance": b, "expectation": a, "ratio": b / a})


def satisfaction_ratio_summary(ratios: pd.DataFrame) -> pd.Series:
    """The average satisfaction ratio of a sample.

    Args:
        ratios: the output of :func:`satisfaction_ratios`.

    Returns:
        ``n``, ``mean_ratio`` (mean of the respondents' ratios), ``sd_ratio`` (ddof 1),
        ``median_ratio``, ``ratio_of_means`` (mean performance / mean expectation, the
        sample-level C) and the shares (0-1) of respondents whose performance was
        ``above``, ``equal`` to and ``below`` their expectation.
    """
    c = ratios["ratio"]
    return pd.Series({
        "n": len(c), "mean_ratio": c.mean(), "sd_ratio": c.std(ddof=1),
        "median_ratio": c.median(),
        "ratio_of_means": ratios["performance"].mean() / ratios["expectation"].mean(),
        "share_above": (c > 1).mean(), "share_equal": (c == 1).mean(),
        "share_below": (c < 1).mean()}, name="satisfaction_ratio")


def _check_given(values: pd.Series, role: str, source: str) -> None:
    if values.isna().any():
        raise DataError(f"{source}: {role} {values.name}, {first_rows(values.isna())}: the "
                        f"{role} is missing; drop these respondents or impute the answer "
                        "before computing ratios")
