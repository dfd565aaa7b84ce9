"""The model specification: lavaan's parameter table plus the variable lists.

:func:`build_spec` takes the user's statements and adds the parameters lavaan's ``sem()``
adds by default, so that both estimators and every statistic read one table:

* the first loading of each latent variable is fixed to 1 (``auto.fix.first``);
* every variable gets a (residual) variance (``auto.var``), except exogenous observed
  covariates, whose variances and covariances are fixed to their sample values
  (``fixed.x``);
* a latent variable with a single indicator fixes that indicator's residual variance to 0
  (``auto.fix.single``);
* exogenous latent variables covary (``auto.cov.lv.x``), and so do the residuals of the
  purely dependent variables (``auto.cov.y``).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import cached_property, lru_cache
from itertools import combinations

import numpy as np
import pandas as pd

from acsi_sem.errors import ModelSyntaxError
from acsi_sem.model.syntax import (
    CONSTRAINT_OPERATORS,
    GroupValue,
    Statement,
    expression_names,
    parse_statements,
)

MEASUREMENT = ("=~", "<~")
INTERACTION = ":"
TABLE_COLUMNS = ["id", "lhs", "op", "rhs", "user", "free", "ustart", "exo", "label", "start",
                 "line"]


@dataclass(frozen=True)
class Interaction:
    """An interaction term ``A:B`` among the predictors of ``outcome``.

    Attributes:
        term: the term as written, ``"A:B"``; in PLS also the name of its construct.
        independent: A, the construct whose effect is moderated.
        moderator: B, the construct it is moderated by.
        outcome: the construct regressed on the term.
    """

    term: str
    independent: str
    moderator: str
    outcome: str


@dataclass(frozen=True)
class Constraint:
    """A constraint ``lhs op rhs`` on the free parameters, as written (lavaan's ``==``, ``<``
    and ``>`` rows).

    Attributes:
        lhs, rhs: expressions of labels, defined parameters and numbers.
        op: ``"=="``, ``"<"`` or ``">"``.
        line: the line of the model text it came from.
    """

    lhs: str
    op: str
    rhs: str
    line: int = 0

    @property
    def is_equality(self) -> bool:
        """Whether the constraint is an equality (``==``)."""
        return self.op == "=="

    @property
    def slack_code(self):
        """The compiled expression that is 0 on an equality and positive where an
        inequality holds with room to spare: ``lhs - rhs`` (``rhs - lhs`` for ``<``)."""
        first, second = (self.rhs, self.lhs) if self.op == "<" else (self.lhs, self.rhs)
        text = f"({first}) - ({second})".replace("^", "**")
        return compile(text, "<constraint>", "eval")

    def __str__(self) -> str:
        return f"{self.lhs} {self.op} {self.rhs}"


@dataclass(frozen=True)
class ModelSpec:
    """A parsed model: the parameter table and the variables it names.

    Attributes:
        table: one row per parameter with lavaan's columns ``lhs, op, rhs, user, free,
            ustart, exo, label, start`` (``free`` is 0 for fixed parameters and the 1-based
            index of the free parameter otherwise; rows sharing a label share an index).
        latent: latent variable names in order of appearance.
        observed: observed variable names in order of appearance.
        source: where the model came from (a file path or ``<model>``).
        constraints: the ``==``, ``<`` and ``>`` constraints, in the order written.
        group_values: the ``c(...)`` modifiers of a multi-group model, ``{(lhs, op, rhs):
            (one :class:`~acsi_sem.model.syntax.GroupValue` per group, line)}``.
    """

    table: pd.DataFrame
    latent: tuple[str, ...]
    observed: tuple[str, ...]
    source: str = "<model>"
    constraints: tuple[Constraint, ...] = ()
    group_values: dict[tuple[str, str, str], tuple[tuple[GroupValue, ...], int]] = field(
        default_factory=dict)

    @cached_property
    def n_free(self) -> int:
        """Number of distinct free parameters."""
        return int(self.table["free"].max()) if len(self.table) else 0

    @cached_property
    def n_covariance_free(self) -> int:
        """Number of free parameters of the covariance structure (intercepts and
        thresholds excluded)."""
        rows = self.table[~self.table["op"].isin(["~1", "|"])]
        return int(rows["free"].max()) if len(rows) else 0

    def parameter_name(self, free_index: int) -> str:
        """``lhs op rhs`` of the first row holding free parameter ``free_index`` (0-based)."""
        return self.free_parameter_names[free_index]

    @cached_property
    def free_parameter_names(self) -> tuple[str, ...]:
        """``lhs op rhs`` of each free parameter, named after its first row: (n_free,)."""
        first = self.table[self.table["free"] > 0].drop_duplicates("free").sort_values("free")
        return tuple(f"{lhs} {op} {rhs}".strip() for lhs, op, rhs in zip(
            first["lhs"], first["op"], first["rhs"], strict=True))

    @cached_property
    def definitions(self) -> tuple[tuple[str, object], ...]:
        """The ``:=`` rows as ``(name, compiled expression)`` pairs, in order."""
        rows = self.table[self.table["op"] == ":="]
        # The expressions passed syntax.check_expression: arithmetic on names only.
        return tuple((name, compile(expression.replace("^", "**"), "<defined>", "eval"))
                     for name, expression in zip(rows["lhs"], rows["rhs"], strict=True))

    @cached_property
    def indicators(self) -> dict[str, list[str]]:
        """Indicators of each latent variable: ``{latent: [indicator, ...]}``."""
        loadings = self.table[self.table["op"].isin(MEASUREMENT)]
        grouped: dict[str, list[str]] = {lv: [] for lv in self.latent}
        for lv, indicator in zip(loadings["lhs"], loadings["rhs"], strict=True):
            if lv in grouped:
                grouped[lv].append(indicator)
        return grouped

    @cached_property
    def modes(self) -> dict[str, str]:
        """PLS mode of each block: ``"A"`` for reflective ``=~``, ``"B"`` for ``<~``."""
        formative = set(self.table.loc[self.table["op"] == "<~", "lhs"])
        return {lv: "B" if lv in formative else "A" for lv in self.latent}

    @cached_property
    def structural_paths(self) -> list[tuple[str, str]]:
        """``(outcome, predictor)`` pairs of the regressions, in table order."""
        rows = self.table[self.table["op"] == "~"]
        return list(zip(rows["lhs"], rows["rhs"], strict=True))

    @cached_property
    def interactions(self) -> tuple[Interaction, ...]:
        """The interaction terms of the regressions, in table order."""
        rows = self.table[(self.table["op"] == "~")
                          & self.table["rhs"].str.contains(INTERACTION, regex=False)]
        return tuple(Interaction(rhs, *rhs.split(INTERACTION), lhs)
                     for lhs, rhs in zip(rows["lhs"], rows["rhs"], strict=True))

    @cached_property
    def exogenous_covariates(self) -> tuple[str, ...]:
        """Observed exogenous variables whose moments are fixed to the sample (fixed.x)."""
        exo = self.table[(self.table["exo"] == 1) & (self.table["lhs"] == self.table["rhs"])]
        return tuple(exo["lhs"])

    @cached_property
    def observed_predictors(self) -> tuple[str, ...]:
        """Observed variables that only predict (lavaan's ov.x), fixed.x or random: on the
        right of ``~`` and never explained (no ``~`` into them, no indicator or factor)."""
        table = self.table
        predictors = set(table.loc[table["op"] == "~", "rhs"])
        explained = (set(table.loc[table["op"] == "~", "lhs"])
                     | set(table.loc[table["op"] == "=~", "rhs"])
                     | set(table.loc[table["op"] == "=~", "lhs"]))
        return tuple(name for name in self.observed
                     if name in predictors and name not in explained)

    @cached_property
    def variance_rows(self) -> np.ndarray:
        """(rows,) whether each table row is a variance (``x ~~ x``), e.g. to flag negative
        ones (improper solutions)."""
        table = self.table
        return ((table["op"] == "~~") & (table["lhs"] == table["rhs"])).to_numpy()

    @cached_property
    def has_modelled_means(self) -> bool:
        """Whether the mean structure is a model rather than the saturated means: a free or
        non-zero latent mean, a fixed or labelled observed intercept (fixed.x covariates'
        apart)."""
        rows = self.table[self.table["op"] == "~1"]
        latent = rows["lhs"].isin(self.latent).to_numpy()
        free = rows["free"].to_numpy() > 0
        covariate = rows["exo"].to_numpy() == 1
        labelled = rows["label"].to_numpy() != ""
        nonzero = rows["ustart"].fillna(0).to_numpy() != 0
        return bool((latent & (free | nonzero)).any()
                    or (~latent & ~covariate & (~free | labelled)).any())

    @cached_property
    def has_intercepts(self) -> bool:
        """Whether the model has a mean structure (any ``~1`` row)."""
        return bool((self.table["op"].to_numpy() == "~1").any())

    def with_table(self, table: pd.DataFrame) -> ModelSpec:
        """A copy of this specification with another parameter table."""
        return ModelSpec(table=table, latent=self.latent, observed=self.observed,
                         source=self.source, constraints=self.constraints,
                         group_values=self.group_values)


def parse_model(text: str, *, source: str = "<model>") -> ModelSpec:
    """Parse lavaan model syntax into a :class:`ModelSpec`; the same text and source are
    parsed once (the last 64 kept), each call getting its own copy of the table, so that a
    caller's edit of one spec's table never reaches another's.

    Args:
        text: the model in lavaan syntax.
        source: a name for the text (usually its file path), used in error messages.

    Raises:
        ModelSyntaxError: naming ``source``, line and column of the first problem.
    """
    parsed = _parsed(text, source)
    return replace(parsed, table=parsed.table.copy())


@lru_cache(maxsize=64)
def _parsed(text: str, source: str) -> ModelSpec:
    # A ModelSpec does not change once built (every derived spec copies its table), so
    # repeated fits of one model share its parse and its cached properties.
    return build_spec(parse_statements(text, source=source), source=source)


def build_spec(statements: list[Statement], *, source: str = "<model>") -> ModelSpec:
    """Build the full parameter table from the user's statements (lavaan ``sem()`` defaults)."""
    _check_duplicates(statements, source)
    definitions = [s for s in statements if s.op == ":="]
    constraints = [s for s in statements if s.op in CONSTRAINT_OPERATORS]
    parameters = [s for s in statements if s.op != ":=" and s.op not in CONSTRAINT_OPERATORS]
    latent = _unique(s.lhs for s in parameters if s.op in MEASUREMENT)
    observed = _observed_names(parameters, latent)
    _check_labels(parameters, definitions, latent + observed, source)
    _check_constraints(parameters, definitions, constraints, source)
    _check_interactions(parameters, latent, source)
    rows = _user_rows(parameters, latent)
    rows += _default_rows(parameters, latent, observed, rows)
    _fix_covariate_intercepts(rows)
    rows += [_row(s.lhs, ":=", s.rhs, user=1, label=s.lhs, line=s.line) for s in definitions]
    table = pd.DataFrame(rows, columns=TABLE_COLUMNS[1:])
    table.insert(0, "id", np.arange(1, len(table) + 1))
    table["free"] = number_free_parameters(table)
    return ModelSpec(table=table, latent=tuple(latent), observed=tuple(observed), source=source,
                     constraints=tuple(Constraint(c.lhs, c.op, c.rhs, c.line)
                                       for c in constraints),
                     group_values={_key(s): (s.group_values, s.line) for s in parameters
                                   if s.group_values})


def _fix_covariate_intercepts(rows: list[dict]) -> None:
    """The default intercepts of fixed.x covariates are fixed at their sample means too
    (lavaan: they are not parameters); :func:`acsi_sem.numerics.cbsem.fill_fixed_x` fills
    them in."""
    covariates = {r["lhs"] for r in rows if r["exo"] == 1}
    for row in rows:
        if row["op"] == "~1" and row["lhs"] in covariates and not row["user"]:
            row.update(free=0, exo=1, ustart=np.nan)


def with_mean_structure(spec: ModelSpec, *, growth: bool = False) -> ModelSpec:
    """``spec`` with lavaan's mean structure: a free intercept for every observed variable
    and latent means fixed at 0 (rows the user wrote are kept). With ``growth``, lavaan's
    ``growth()`` defaults instead: observed intercepts fixed at 0 and free latent means."""
    table = spec.table
    records = table.drop(columns=["id"]).to_dict("records")
    parameters = [r for r in records if r["op"] != ":="]
    extra = _intercept_rows(parameters, list(spec.latent), growth=growth)
    _fix_covariate_intercepts(parameters + extra)
    defined = [r for r in records if r["op"] == ":="]
    table = pd.DataFrame(parameters + extra + defined, columns=TABLE_COLUMNS[1:])
    table.insert(0, "id", np.arange(1, len(table) + 1))
    # Keep the user's free/fixed choices, then renumber so intercepts come last.
    table["free"] = number_free_parameters(table)
    return spec.with_table(table)


def with_random_covariates(spec: ModelSpec) -> ModelSpec:
    """``spec`` with its fixed.x covariates random (lavaan's ``fixed.x = FALSE``, the default
    of its least-squares estimators): their variances, covariances and (with a mean
    structure) means free parameters instead of the sample's."""
    table = spec.table.copy()
    covariate = (table["exo"] == 1) & table["op"].isin(["~~", "~1"]) & table["ustart"].isna()
    if not covariate.any():
        return spec
    table.loc[covariate, "exo"] = 0
    table.loc[covariate, "free"] = 1
    table["free"] = number_free_parameters(table)
    return spec.with_table(table)


def with_labels_released(spec: ModelSpec) -> tuple[ModelSpec, list[tuple[int, int]]]:
    """``spec`` with every labelled row a parameter of its own, and the equalities the
    shared labels imposed: ``(first row's index, other row's index)`` pairs (0-based free
    indices of the new table), in row order. The labels stay in the table, so that the
    constraints and defined parameters refer to each label's first row (lavaan's
    ``ceq.simple = FALSE`` form, whose ``==`` rows :func:`lavTestScore` releases)."""
    table = spec.table.copy()
    table["free"] = number_free_parameters(table.assign(label=""))
    first: dict[str, int] = {}
    pairs = []
    for label, free, op in zip(table["label"], table["free"], table["op"], strict=True):
        if not label or free == 0 or op == ":=":
            continue
        if label in first:
            pairs.append((first[label], int(free) - 1))
        else:
            first[label] = int(free) - 1
    return spec.with_table(table), pairs


def _row(lhs: str, op: str, rhs: str, *, user: int = 0, free: bool = True,
         ustart: float = np.nan, exo: int = 0, label: str = "", start: float = np.nan,
         line: int = 0) -> dict:
    return {"lhs": lhs, "op": op, "rhs": rhs, "user": user, "free": int(free),
            "ustart": ustart, "exo": exo, "label": label, "start": start, "line": line}


def _unique(names) -> list[str]:
    return list(dict.fromkeys(names))


def _observed_names(parameters: list[Statement], latent: list[str]) -> list[str]:
    names = []
    for s in parameters:
        names += [s.rhs] if s.op in MEASUREMENT else [s.lhs, s.rhs]
    return [n for n in _unique(names) if n and n not in latent and INTERACTION not in n]


def _key(statement: Statement) -> tuple[str, str, str]:
    if statement.op == "~~":
        return (min(statement.lhs, statement.rhs), "~~", max(statement.lhs, statement.rhs))
    return (statement.lhs, statement.op, statement.rhs)


def _check_duplicates(statements: list[Statement], source: str) -> None:
    seen: dict[tuple[str, str, str], Statement] = {}
    for statement in statements:
        key = _key(statement) if statement.op != ":=" else (statement.lhs, ":=", "")
        if key in seen:
            earlier = seen[key]
            what = f"'{statement.lhs} {statement.op} {statement.rhs}'".replace(" ~1 ", " ~ 1")
            raise ModelSyntaxError(f"{what} is specified twice (first on line {earlier.line})",
                                   source=source, line=statement.line,
                                   column=statement.column)
        seen[key] = statement


def _labels(parameters: list[Statement]) -> set[str]:
    """Every label the parameters carry, those of ``c(...)`` modifiers included."""
    return ({s.label for s in parameters if s.label}
            | {v.label for s in parameters for v in s.group_values if v.label})


def _check_labels(parameters: list[Statement], definitions: list[Statement],
                  variables: list[str], source: str) -> None:
    labels = _labels(parameters)
    for s in parameters:
        clash = [label for label in (s.label, *(v.label for v in s.group_values))
                 if label and label in variables]
        if clash:
            raise ModelSyntaxError(f"the label {clash[0]!r} is also a variable name; choose "
                                   "another label", source=source, line=s.line,
                                   column=s.column)
    defined: set[str] = set()
    for d in definitions:
        unknown = expression_names(d.rhs) - labels - defined
        if unknown:
            raise ModelSyntaxError(f"the defined parameter {d.lhs!r} uses "
                                   f"{', '.join(sorted(unknown))}, which no parameter is "
                                   "labelled with", source=source, line=d.line,
                                   column=d.column)
        defined.add(d.lhs)


def _check_constraints(parameters: list[Statement], definitions: list[Statement],
                       constraints: list[Statement], source: str) -> None:
    """Each constraint names only labels and defined parameters, and at least one."""
    known = _labels(parameters) | {d.lhs for d in definitions}
    for constraint in constraints:
        where = {"source": source, "line": constraint.line, "column": constraint.column}
        names = expression_names(constraint.lhs) | expression_names(constraint.rhs)
        unknown = names - known
        if unknown:
            raise ModelSyntaxError(f"the constraint '{constraint.lhs} {constraint.op} "
                                   f"{constraint.rhs}' uses {', '.join(sorted(unknown))}, "
                                   "which no parameter is labelled with (label one: a1*y2)",
                                   **where)
        if not names:
            raise ModelSyntaxError(f"the constraint '{constraint.lhs} {constraint.op} "
                                   f"{constraint.rhs}' names no parameter", **where)


def _check_interactions(parameters: list[Statement], latent: list[str], source: str) -> None:
    """An interaction joins two constructs, each also a predictor of the same outcome."""
    predictors: dict[str, set[str]] = {}
    for s in parameters:
        if s.op == "~":
            predictors.setdefault(s.lhs, set()).add(s.rhs)
    for s in parameters:
        if s.op != "~" or INTERACTION not in s.rhs:
            continue
        where = {"source": source, "line": s.line, "column": s.column}
        for part in s.rhs.split(INTERACTION):
            if part not in latent:
                raise ModelSyntaxError(f"the interaction {s.rhs} names {part}, which is not a "
                                       "construct of the model; an interaction joins two "
                                       "constructs (X =~ items)", **where)
            if part not in predictors[s.lhs]:
                raise ModelSyntaxError(f"{s.lhs} ~ {s.rhs} needs the main effect "
                                       f"{s.lhs} ~ {part} as well (write {s.lhs} ~ "
                                       f"{' + '.join(s.rhs.split(INTERACTION))} + {s.rhs})",
                                       **where)


def _user_rows(parameters: list[Statement], latent: list[str]) -> list[dict]:
    rows, fixed_first = [], set()
    for s in parameters:
        free = s.fixed is None
        ustart = s.fixed if s.fixed is not None else np.nan
        if s.op == "=~" and s.lhs not in fixed_first:
            fixed_first.add(s.lhs)
            if s.fixed is None and not s.free_forced:
                free, ustart = False, 1.0
        rows.append(_row(s.lhs, s.op, s.rhs, user=1, free=free, ustart=ustart, label=s.label,
                         start=s.start if s.start is not None else np.nan, line=s.line))
    if any(r["op"] == "~1" for r in rows):
        rows += _intercept_rows(rows, latent)
    return rows


def _intercept_rows(rows: list[dict], latent: list[str], *, growth: bool = False
                    ) -> list[dict]:
    """With a mean structure, lavaan frees every observed intercept and fixes latent means
    at 0; ``growth()`` does the opposite (intercepts 0, latent means free)."""
    have = {r["lhs"] for r in rows if r["op"] == "~1"}
    names = _unique(n for r in rows if r["op"] in ("=~", "<~", "~", "~~")
                    for n in (r["lhs"], r["rhs"]))
    extra = []
    for name in names:
        if name not in have:
            free = (name in latent) == growth
            extra.append(_row(name, "~1", "", free=free, ustart=np.nan if free else 0.0))
    return extra


def _default_rows(parameters: list[Statement], latent: list[str], observed: list[str],
                  user_rows: list[dict]) -> list[dict]:
    have = {_key(Statement(r["lhs"], r["op"], r["rhs"])) for r in user_rows}
    regressions = [s for s in parameters if s.op == "~"]
    dependent = _unique(s.lhs for s in regressions)
    predictors = _unique(s.rhs for s in regressions)
    indicators = {s.rhs for s in parameters if s.op in MEASUREMENT}
    # lavaan: a variable in a variance, covariance or intercept formula is random, not
    # fixed.x ("will now be treated as random"), and does not covary with the covariates.
    named = {name for s in parameters if s.op in ("~~", "~1") for name in (s.lhs, s.rhs)}
    covariates = [v for v in observed if v in predictors and v not in dependent
                  and v not in indicators and v not in named]
    single = _single_indicators(parameters, latent)
    rows = []

    def add(lhs: str, rhs: str, **kwargs) -> None:
        if _key(Statement(lhs, "~~", rhs)) not in have:
            have.add(_key(Statement(lhs, "~~", rhs)))
            rows.append(_row(lhs, "~~", rhs, **kwargs))

    for name in observed:
        if name in covariates:
            continue
        if name in single:
            add(name, name, free=False, ustart=0.0)
        else:
            add(name, name)
    for name in latent:
        add(name, name)
    # A first-order factor measuring a second-order one is endogenous (lavaan: its
    # variance is a disturbance, and it does not covary with the exogenous factors).
    measured_by_latent = {s.rhs for s in parameters if s.op in MEASUREMENT and s.rhs in latent}
    exogenous_latent = [lv for lv in latent if lv not in dependent
                        and lv not in measured_by_latent]
    for a, b in combinations(exogenous_latent, 2):
        add(a, b)
    # lavaan's ov.y leaves out indicators: a wave score regressed on a time-varying covariate
    # keeps its residual uncorrelated with the others and with the factors it measures.
    pure_dependent = [v for v in latent + observed if v in dependent and v not in predictors
                      and not (v in indicators and v not in latent)]
    for a, b in combinations(pure_dependent, 2):
        add(a, b)
    for a, b in combinations(covariates, 2):
        add(a, b, free=False, exo=1)
    for name in covariates:
        add(name, name, free=False, exo=1)
    return rows


def _single_indicators(parameters: list[Statement], latent: list[str]) -> set[str]:
    counts: dict[str, list[str]] = {lv: [] for lv in latent}
    for s in parameters:
        if s.op == "=~":
            counts[s.lhs].append(s.rhs)
    return {names[0] for names in counts.values() if len(names) == 1}


def number_free_parameters(table: pd.DataFrame) -> np.ndarray:
    """(rows,) index of each row's free parameter (0 where fixed), for a table whose
    ``free`` column is positive on free rows; rows with the same label share one index."""
    free = np.zeros(len(table), dtype=int)
    by_label: dict[str, int] = {}
    count = 0
    # Covariance-structure parameters first, intercepts after, so that the first
    # n_covariance_free indices are exactly the RAM parameters.
    ops, labels = table["op"].to_numpy(), table["label"].to_numpy()
    is_free = table["free"].to_numpy() > 0
    for position in np.argsort(ops == "~1", kind="stable"):
        label = labels[position]
        if not is_free[position] or ops[position] == ":=":
            continue
        if label and label in by_label:
            free[position] = by_label[label]
            continue
        count += 1
        free[position] = count
        if label:
            by_label[label] = count
    return free
