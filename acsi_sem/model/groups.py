"""Multi-group specifications: one copy of the parameter table per group, with parameters
held equal across groups as lavaan's ``group.equal`` holds them.

The stacked table has lavaan's ``group`` column (1..G). A parameter constrained equal
across groups keeps one free index in every group; lavaan 0.6 writes separate parameters
plus ``==`` rows instead, which gives the same estimates, standard errors and degrees of
freedom (its npar is the free count minus the rank of the constraints).

Every group gets a mean structure: free intercepts, latent means fixed at 0. When the
intercepts are held equal (and the latent means are not), the latent means are freed in
groups 2..G, so that group differences in the items' levels go to the constructs.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from acsi_sem.errors import AcsiSemError, ModelSyntaxError
from acsi_sem.model.spec import (
    ModelSpec,
    number_free_parameters,
    with_labels_released,
    with_mean_structure,
)
from acsi_sem.model.syntax import expression_names

EQUALITY_CLASSES = ("loadings", "intercepts", "means", "residuals", "residual.covariances",
                    "regressions", "lv.variances", "lv.covariances")
INVARIANCE_STEPS = {
    "configural": (),
    "metric": ("loadings",),
    "scalar": ("loadings", "intercepts"),
    "strict": ("loadings", "intercepts", "residuals"),
}


@dataclass(frozen=True)
class GroupView:
    """One group's part of a multi-group model, as a single-group specification.

    Attributes:
        label: the group's name (a value of the grouping column).
        spec: the group's rows as a single-group specification, free parameters numbered
            locally from 1 (covariance structure first, then means).
        global_index: (q_g,) 0-based index into the multi-group parameter vector of each
            local free parameter.
    """

    label: str
    spec: ModelSpec
    global_index: np.ndarray

    @property
    def own_spec(self) -> ModelSpec:
        """``spec`` without the ``:=`` rows, which may use other groups' labels (the
        multi-group fit computes them over every group's)."""
        table = self.spec.table
        return self.spec.with_table(table[table["op"] != ":="].reset_index(drop=True))


@dataclass(frozen=True)
class GroupedSpec:
    """A model fitted in several groups at once.

    Attributes:
        spec: the stacked parameter table (with a ``group`` column, 1..G) and the
            variable lists; free indices are global.
        labels: the group names, in the order of their first appearance in the data.
        equal: the parameter classes held equal across groups.
        views: one :class:`GroupView` per group.
        labelled: the user's labels; a labelled parameter is one parameter in every
            group (lavaan's rule), so it is equal across groups too.
    """

    spec: ModelSpec
    labels: tuple[str, ...]
    equal: tuple[str, ...]
    views: tuple[GroupView, ...]
    labelled: tuple[str, ...] = ()

    @property
    def n_free(self) -> int:
        """Number of distinct free parameters over all groups."""
        return self.spec.n_free


def group_spec(spec: ModelSpec, labels: tuple[str, ...], *,
               equal: tuple[str, ...] = ()) -> GroupedSpec:
    """Copy ``spec`` into one table per group and hold the ``equal`` classes equal.

    Args:
        spec: the single-group specification.
        labels: the G group names (G >= 2).
        equal: parameter classes from :data:`EQUALITY_CLASSES` held equal across groups.

    Raises:
        AcsiSemError: an unknown class in ``equal``, or fewer than two groups.
    """
    unknown = [name for name in equal if name not in EQUALITY_CLASSES]
    if unknown:
        hint = ("; 'thresholds' belong to ordered items: use estimator='wlsmv' with "
                "ordered=..." if "thresholds" in unknown else "")
        raise AcsiSemError(f"unknown group_equal class {', '.join(map(repr, unknown))}; "
                           f"choose from {', '.join(EQUALITY_CLASSES)}{hint}")
    if len(labels) < 2:
        raise AcsiSemError(f"a multi-group model needs at least two groups; the group column "
                           f"holds only {', '.join(map(repr, labels)) or 'no value'}")
    base = with_mean_structure(spec).table
    constrained = _constrained_rows(base, spec, equal)
    tables = []
    for group in range(1, len(labels) + 1):
        table = base.drop(columns=["id"]).assign(group=group)
        if "intercepts" in equal and "means" not in equal and group > 1:
            latent_means = (table["op"] == "~1") & table["lhs"].isin(spec.latent)
            table.loc[latent_means, ["free", "ustart"]] = [1, np.nan]
        _apply_group_values(table, spec, group, len(labels))
        # Rows held equal share one automatic label, as lavaan's plabel of group 1.
        automatic = constrained & (table["free"] > 0) & (table["label"] == "")
        table.loc[automatic, "label"] = [f".p{row}." for row in base.loc[automatic, "id"]]
        tables.append(table[table["op"] != ":="])
    _check_group_definitions(base, tables, spec)
    definitions = base[base["op"] == ":="].drop(columns=["id"]).assign(group=0)
    stacked = pd.concat([*tables, definitions], ignore_index=True)
    stacked.insert(0, "id", np.arange(1, len(stacked) + 1))
    stacked["free"] = number_free_parameters(stacked)
    grouped = spec.with_table(stacked)
    views = tuple(group_view(grouped, group, label)
                  for group, label in enumerate(labels, start=1))
    user_labels = spec.table.loc[(spec.table["label"] != "") & (spec.table["op"] != ":="),
                                 "label"]
    return GroupedSpec(spec=grouped, labels=tuple(labels), equal=tuple(equal), views=views,
                       labelled=tuple(dict.fromkeys(user_labels)))


def _check_group_definitions(base: pd.DataFrame, tables: list[pd.DataFrame],
                             spec: ModelSpec) -> None:
    """A defined parameter of a multi-group model may use the labels of any group (a
    ``c(a1, a2)`` label names one group's row) and the definitions before it."""
    known = set.union(*(set(table["label"]) - {""} for table in tables))
    for name, expression, line in base.loc[base["op"] == ":=", ["lhs", "rhs", "line"]
                                           ].itertuples(index=False):
        missing = expression_names(expression) - known
        if missing:
            raise ModelSyntaxError(f"the defined parameter {name!r} uses "
                                   f"{', '.join(sorted(missing))}, which no group's "
                                   "parameter is labelled with",
                                   source=spec.source, line=int(line) or None)
        known.add(name)


def _apply_group_values(table: pd.DataFrame, spec: ModelSpec, group: int,
                        n_groups: int) -> None:
    """Group ``group``'s entries of the ``c(...)`` modifiers: a number fixes the row, NA
    frees it, a label names it (one label in several groups holds the row equal)."""
    for (lhs, op, rhs), (values, line) in spec.group_values.items():
        if len(values) != n_groups:
            raise ModelSyntaxError(f"c(...) gives {len(values)} values for "
                                   f"'{lhs} {op} {rhs}' but the data have {n_groups} groups; "
                                   "give one per group, in the order the groups appear",
                                   source=spec.source, line=line)
        rows = (table["op"] == op) & (((table["lhs"] == lhs) & (table["rhs"] == rhs))
                                      | ((op == "~~") & (table["lhs"] == rhs)
                                         & (table["rhs"] == lhs)))
        value = values[group - 1]
        if value.fixed is not None:
            table.loc[rows, ["free", "ustart", "label"]] = [0, value.fixed, ""]
        elif value.free_forced:
            table.loc[rows, ["free", "ustart"]] = [1, np.nan]
        if value.label:
            table.loc[rows, "label"] = value.label


def _constrained_rows(table: pd.DataFrame, spec: ModelSpec, equal: tuple[str, ...]
                      ) -> pd.Series:
    """Which rows of one group's table belong to the classes held equal."""
    op, lhs, rhs = table["op"], table["lhs"], table["rhs"]
    latent = lhs.isin(spec.latent)
    variance = (op == "~~") & (lhs == rhs)
    covariance = (op == "~~") & (lhs != rhs)
    classes = {
        "loadings": op == "=~",
        "intercepts": (op == "~1") & ~latent,
        "means": (op == "~1") & latent,
        "residuals": variance & ~latent,
        "residual.covariances": covariance & ~latent,
        "regressions": op == "~",
        "lv.variances": variance & latent,
        "lv.covariances": covariance & latent,
    }
    selected = pd.Series(False, index=table.index)
    for name in equal:
        selected |= classes[name]
    return selected


def with_group_labels_released(grouped: GroupedSpec
                               ) -> tuple[GroupedSpec, list[tuple[int, int]]]:
    """:func:`~acsi_sem.model.spec.with_labels_released` over all groups: every parameter
    held equal across groups (by ``group_equal`` or a label) becomes one per group."""
    released, pairs = with_labels_released(grouped.spec)
    views = tuple(group_view(released, group, label)
                  for group, label in enumerate(grouped.labels, start=1))
    return replace(grouped, spec=released, views=views), pairs


def group_view(grouped: ModelSpec, group: int, label: str) -> GroupView:
    """Group ``group``'s (1-based) rows of a multi-group table, with local free indices
    (covariance structure first) and their places in the global parameter vector."""
    table = grouped.table
    rows = table[(table["group"] == group) | (table["op"] == ":=")].drop(columns=["group"])
    global_free = rows["free"].to_numpy()
    order = np.argsort(rows["op"].to_numpy() == "~1", kind="stable")
    local: dict[int, int] = {}
    for position in order:
        index = global_free[position]
        if index > 0 and index not in local:
            local[index] = len(local) + 1
    rows = rows.assign(free=[local.get(index, 0) for index in global_free])
    rows = rows.reset_index(drop=True)
    rows["id"] = np.arange(1, len(rows) + 1)
    return GroupView(label=label, spec=grouped.with_table(rows),
                     global_index=np.array(list(local), dtype=int) - 1)
