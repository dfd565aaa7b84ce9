"""Turning the caller's names into checked columns: an item, a latent score or a group.

Every loyalty instrument takes its variables either as a column name of the survey or as a
Series, typically a latent score from a fitted model (``result.scores["Satisfaction"]``). A
Series is aligned with the survey by its index; rows it lacks (listwise deletion in the fit)
become missing. :func:`construct_scores` gives a fit's scores the survey's own row labels.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from acsi_sem.errors import DataError
from acsi_sem.survey.prepare import numeric_column

if TYPE_CHECKING:
    from acsi_sem.results import FitResult

Variable = str | pd.Series


def variable_column(data: pd.DataFrame | None, variable: Variable, *, role: str,
                    source: str = "<DataFrame>") -> pd.Series:
    """The numeric values of ``variable``, indexed like ``data``.

    Args:
        data: the survey, one row per respondent; may be ``None`` when ``variable`` is a
            Series.
        variable: a column name of ``data`` or a Series (e.g. a latent score).
        role: what the variable stands for ("the recommend item"), for error messages.
        source: the data's file name, for error messages.

    Raises:
        DataError: the column is absent or not numeric, or the Series shares no row label
            with the data.
    """
    if isinstance(variable, pd.Series):
        return _aligned_series(data, variable, role=role, source=source)
    if data is None:
        raise DataError(f"{role}: {variable!r} names a column, but no data was given")
    column = data[_checked_name(data, variable, role=role, source=source)]
    return numeric_column(column, str(variable), source)


def group_column(data: pd.DataFrame | None, group: Variable | None, *,
                 source: str = "<DataFrame>") -> pd.Series | None:
    """The group label of each respondent (``None``: no grouping), indexed like ``data``."""
    if group is None:
        return None
    if isinstance(group, pd.Series):
        labels = group if data is None else group.reindex(data.index)
        return labels.rename(group.name if group.name is not None else "group")
    if data is None:
        raise DataError(f"group: {group!r} names a column, but no data was given")
    return data[_checked_name(data, group, role="group", source=source)]


def group_levels(labels: pd.Series) -> list:
    """The groups in order: a categorical's declared categories (empty ones included, so
    they can be reported), otherwise the sorted labels present."""
    if isinstance(labels.dtype, pd.CategoricalDtype):
        return list(labels.cat.categories)
    return sorted(labels.dropna().unique().tolist(), key=str)


def construct_scores(result: FitResult, data: pd.DataFrame, *,
                     scale: tuple[float, float] | None = None,
                     group: str | None = None) -> pd.DataFrame:
    """A PLS fit's (n, L) construct scores, indexed by the survey's row labels.

    The fit deletes incomplete rows (and, with a group column, rows without a group) and
    numbers the rest from 0; this puts back the labels of the rows it kept, so the scores line
    up with other columns of ``data``.

    Args:
        result: a PLS fit of ``data``.
        data: the survey the model was fitted to.
        scale: ``None`` gives the standardized scores (``result.scores``); the answer scale
            ``(lowest, highest)`` gives each respondent's 0-100 index score instead (the
            item-weighted mean on the answer scale, as in the ACSI), a positive rescaling
            of the same ranking.
        group: the group column the fit was given (``fit(..., group=)``), whose blank rows
            it left out.

    Raises:
        DataError: the fit has no scores (not PLS) or was not fitted to these rows.
    """
    if result.scores is None:
        raise DataError(f"the {result.estimator} fit has no construct scores; fit the model "
                        "with estimator='pls' to use latent scores")
    indicators = list(result.spec.observed)
    missing = [name for name in indicators if name not in data.columns]
    if missing:
        raise DataError(f"the data lacks the model's indicators {', '.join(missing)}; pass "
                        "the data the model was fitted to")
    used = data[indicators].notna().all(axis=1)
    if group is not None:
        used &= data[_checked_name(data, group, role="the group", source="<DataFrame>")].notna()
    kept = data.index[used]
    if len(kept) != len(result.scores):
        raise DataError(f"the fit used {len(result.scores)} respondents but the data has "
                        f"{len(kept)} with every indicator answered"
                        f"{' and a group' if group else ''}; pass the data (and the group "
                        "column) the model was fitted to")
    if scale is None:
        return result.scores.set_axis(kept, axis=0)
    from acsi_sem.estimators.pls import index_scores_frame

    return index_scores_frame(result, data.loc[kept], scale).set_axis(kept, axis=0)


def answered(data: pd.DataFrame | None, variable: Variable, *, role: str,
             source: str = "<DataFrame>",
             invalid: Callable[[pd.Series], pd.Series] | None = None,
             problem: str = "") -> pd.Series:
    """:func:`variable_column` for instruments that classify every respondent: no answer may
    be missing, and none that ``invalid`` marks (then the error says the value ``problem``).

    Raises:
        DataError: naming the column, the first rows and the bad value.
    """
    values = variable_column(data, variable, role=role, source=source)
    if values.isna().any():
        raise DataError(f"{source}: {values.name}, {first_rows(values.isna())}: no answer; "
                        f"every respondent needs a {role} answer (drop those rows first)")
    if invalid is not None:
        bad = pd.Series(np.asarray(invalid(values), dtype=bool), index=values.index)
        if bad.any():
            raise DataError(f"{source}: {role} {values.name}, {first_rows(bad)}: "
                            f"{values[bad].iloc[0]:g} {problem}")
    return values


def not_a_count(values: pd.Series) -> pd.Series:
    """Where ``values`` is not a whole number at least 0 (for :func:`answered`)."""
    return (values < 0) | (values != values.round())


def first_rows(mask: pd.Series, limit: int = 3) -> str:
    """The 1-based positions of the first rows where ``mask`` holds, e.g. "rows 2, 7, 9"."""
    positions = np.flatnonzero(mask.to_numpy()) + 1
    shown = ", ".join(str(p) for p in positions[:limit])
    more = f" and {len(positions) - limit} more" if len(positions) > limit else ""
    return f"row{'s' if len(positions) > 1 else ''} {shown}{more}"


def _checked_name(data: pd.DataFrame, name: str, *, role: str, source: str) -> str:
    if name in data.columns:
        return name
    columns = [str(c) for c in data.columns]
    close = difflib.get_close_matches(str(name), columns, n=1)
    hint = f" (did you mean {close[0]}?)" if close else ""
    raise DataError(f"{source}: no column {name!r} for {role}{hint}; the data has columns: "
                    f"{', '.join(columns)}")


def _aligned_series(data: pd.DataFrame | None, values: pd.Series, *, role: str,
                    source: str) -> pd.Series:
    name = str(values.name) if values.name is not None else role
    numbers = numeric_column(values, name, source)
    if data is None:
        return numbers
    if numbers.index.has_duplicates:
        raise DataError(f"{role}: the series {name} repeats row labels; give each respondent "
                        "one value")
    if not numbers.index.isin(data.index).any():
        raise DataError(f"{role}: the series {name} shares no row label with the data "
                        f"{source}; give it the data's index (see construct_scores)")
    return numbers.reindex(data.index)
