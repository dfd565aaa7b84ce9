"""Higher-order constructs in PLS: a construct measured by other constructs,
``Perception =~ Quality + Value`` (reflective, mode A) or ``<~`` (formative, mode B).

Two approaches (Becker, Klein & Wetzels 2012; Sarstedt et al. 2019):

* ``two_stage`` (default; the disjoint two-stage approach, as seminr's
  ``higher_composite``): stage 1 estimates the model with the higher-order construct
  replaced by its lower-order ones (its predictors point to each of them, each of them to
  its outcomes); stage 2 measures it by their standardized stage-1 scores, which stand in
  for the lower-order constructs. The result is the stage-2 model; the lower-order
  constructs' item loadings and weights are stage 1's.
* ``repeated_indicators`` (Lohmöller 1989; Wold 1982): the higher-order construct is
  measured by all of its lower-order constructs' items again, and joined to each of them by
  a path (from it when reflective, to it when formative).

The items are built from the data in hand, so a bootstrap builds them anew in every
resample.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from acsi_sem.errors import AcsiSemError, ModelSyntaxError
from acsi_sem.estimators.options import FitOptions
from acsi_sem.model.spec import MEASUREMENT, ModelSpec, number_free_parameters
from acsi_sem.numerics.pls import PlsLayout, estimate_pls, pls_layout

REPEATED = "@"  # a repeated item is named ITEM@HIGHER


def higher_order_constructs(spec: ModelSpec) -> dict[str, list[str]]:
    """``{higher-order construct: its lower-order constructs}``: the latent variables whose
    indicators are all latent.

    Raises:
        ModelSyntaxError: a construct measured by both constructs and items, by a single
            construct, or by another higher-order construct.
    """
    found = {}
    for name, indicators in spec.indicators.items():
        latent = [item for item in indicators if item in spec.latent]
        if not latent:
            continue
        where = {"source": spec.source, "line": _line(spec, name)}
        if len(latent) < len(indicators):
            raise ModelSyntaxError(f"{name} is measured by both constructs "
                                   f"({', '.join(latent)}) and items; a higher-order "
                                   "construct is measured by lower-order constructs only",
                                   **where)
        if len(latent) < 2:
            raise ModelSyntaxError(f"{name} is measured by the one construct {latent[0]}; a "
                                   "higher-order construct needs two lower-order ones or "
                                   "more", **where)
        found[name] = latent
    for name, lower in found.items():
        nested = [item for item in lower if item in found]
        if nested:
            raise ModelSyntaxError(f"{name} is measured by the higher-order construct "
                                   f"{nested[0]}; third-order constructs are not supported",
                                   source=spec.source, line=_line(spec, name))
    return found


def refuse_built_constructs(spec: ModelSpec, analysis: str) -> None:
    """Refuse an analysis not yet defined for interaction terms or higher-order constructs.

    Raises:
        AcsiSemError: naming the analysis and what the model has.
    """
    if spec.interactions:
        raise AcsiSemError(f"{analysis} of a model with interaction terms is not available "
                           "yet")
    if higher_order_constructs(spec):
        raise AcsiSemError(f"{analysis} of a model with higher-order constructs is not "
                           "available yet")


def _line(spec: ModelSpec, name: str) -> int:
    rows = spec.table[(spec.table["lhs"] == name) & spec.table["op"].isin(MEASUREMENT)]
    return int(rows["line"].iloc[0]) if len(rows) else 0


@dataclass(frozen=True)
class HigherOrderModel:
    """A model with higher-order constructs, ready for PLS.

    Attributes:
        spec: the model PLS estimates (stage 2, or with the repeated items).
        first_stage: the layout of stage 1 (two-stage) over the survey items.
        lower: ``{higher-order construct: lower-order constructs}``.
        method: one of :data:`acsi_sem.estimators.options.HIGHER_ORDER_METHODS`.
        raw_indicators: the survey items :meth:`items` expects, in order.
    """

    spec: ModelSpec
    first_stage: PlsLayout | None
    lower: dict[str, list[str]]
    method: str
    raw_indicators: tuple[str, ...]

    @property
    def terms(self) -> tuple[str, ...]:
        """The constructs without a 0-100 index (two-stage: the higher-order ones, measured
        by scores)."""
        return tuple(self.lower) if self.method == "two_stage" else ()

    @property
    def note(self) -> str:
        """What the result's reader must know about the estimation."""
        names = ", ".join(f"{h} ({' + '.join(lower)})" for h, lower in self.lower.items())
        if self.method == "two_stage":
            return (f"higher-order constructs {names} by the two-stage approach: measured by "
                    "their lower-order constructs' stage-1 scores (no 0-100 index); the "
                    "lower-order items' loadings are stage 1's, without standard errors")
        return (f"higher-order constructs {names} by repeated indicators: measured by all "
                "their lower-order constructs' items (named ITEM@HIGHER)")

    def first_stage_loadings(self, raw: np.ndarray, options: FitOptions) -> pd.DataFrame:
        """Two-stage: the lower-order constructs' ``=~`` rows with stage 1's loadings
        (``lhs, op, rhs, est``)."""
        layout = self.first_stage
        positions = [self.raw_indicators.index(name) for name in layout.indicators]
        solution = first_stage_solution(raw[:, positions], layout, options)
        lower = {name for names in self.lower.values() for name in names}
        rows = [(layout.latent[j], layout.indicators[i], solution.loadings[i])
                for j, block in enumerate(layout.blocks) if layout.latent[j] in lower
                for i in block]
        return pd.DataFrame(rows, columns=["lhs", "rhs", "est"]).assign(op="=~")

    def items(self, raw: np.ndarray, options: FitOptions) -> np.ndarray:
        """(n, q) the items of :attr:`spec`, in its PLS layout's order, from the survey
        items (n, p)."""
        position = {name: i for i, name in enumerate(self.raw_indicators)}
        columns = []
        scores = (self.first_stage_scores(raw, options) if self.method == "two_stage"
                  else None)
        # Block by block, as PLS lays them out (not the table's order of first mention).
        for name in pls_layout(self.spec).indicators:
            if scores is not None and name in scores:
                columns.append(scores[name])
            else:
                columns.append(raw[:, position[name.split(REPEATED)[0]]])
        return np.column_stack(columns)

    def first_stage_scores(self, raw: np.ndarray, options: FitOptions) -> dict[str, np.ndarray]:
        """Standardized stage-1 scores (n,) of every lower-order construct."""
        layout = self.first_stage
        positions = [self.raw_indicators.index(name) for name in layout.indicators]
        scores = first_stage_scores(raw[:, positions], layout, options)
        lower = {name for names in self.lower.values() for name in names}
        return {name: scores[:, j] for j, name in enumerate(layout.latent) if name in lower}


def first_stage_scores(items: np.ndarray, layout: PlsLayout, options: FitOptions
                       ) -> np.ndarray:
    """(n, L) standardized construct scores of a first-stage model (the two-stage
    approaches of higher-order constructs and of interaction terms) on items (n, p) in
    ``layout`` order."""
    solution = first_stage_solution(items, layout, options)
    standardized = (items - items.mean(axis=0)) / items.std(axis=0, ddof=1)
    return standardized @ solution.weights


def first_stage_solution(items: np.ndarray, layout: PlsLayout, options: FitOptions):
    """The stage-1 PLS solution of items (n, p) in ``layout`` order."""
    return estimate_pls(np.atleast_2d(np.corrcoef(items, rowvar=False)), layout,
                        scheme=options.scheme, tolerance=options.tolerance,
                        max_iterations=options.max_iterations)


def higher_order_model(spec: ModelSpec, options: FitOptions) -> HigherOrderModel:
    """The PLS form of a model with higher-order constructs, by ``options.higher_order``.

    Raises:
        AcsiSemError: consistent PLS, or an unknown method.
    """
    if options.estimator != "pls":
        raise AcsiSemError("higher-order constructs are estimated by PLS (estimator 'pls'); "
                           "consistent PLS of them is not available")
    lower = higher_order_constructs(spec)
    raw = tuple(name for name in spec.observed)
    if options.higher_order == "two_stage":
        first = _first_stage_spec(spec, lower)
        return HigherOrderModel(_second_stage_spec(spec, lower), pls_layout(first), lower,
                                "two_stage", raw)
    return HigherOrderModel(_repeated_spec(spec, lower), None, lower, "repeated_indicators",
                            raw)


def _records(spec: ModelSpec) -> list[dict]:
    return spec.table.drop(columns=["id"]).to_dict("records")


def _spec_from(records: list[dict], spec: ModelSpec, latent: list[str]) -> ModelSpec:
    """A specification from parameter-table records, with its variable lists."""
    table = pd.DataFrame(records)
    table.insert(0, "id", np.arange(1, len(table) + 1))
    table["free"] = number_free_parameters(table.assign(free=1))
    measured = table[table["op"].isin(MEASUREMENT)]
    observed = [name for name in dict.fromkeys(measured["rhs"]) if name not in latent]
    return ModelSpec(table=table, latent=tuple(latent), observed=tuple(observed),
                     source=spec.source)


def _path(outcome: str, predictor: str) -> dict:
    return {"lhs": outcome, "op": "~", "rhs": predictor, "user": 0, "free": 1,
            "ustart": np.nan, "exo": 0, "label": "", "start": np.nan, "line": 0}


def _first_stage_spec(spec: ModelSpec, lower: dict[str, list[str]]) -> ModelSpec:
    """Each higher-order construct replaced by its lower-order ones in every path."""
    records = []
    for row in _records(spec):
        if row["lhs"] in lower and row["op"] in MEASUREMENT:
            continue
        if row["op"] == "~" and (row["lhs"] in lower or row["rhs"] in lower):
            outcomes = lower.get(row["lhs"], [row["lhs"]])
            predictors = lower.get(row["rhs"], [row["rhs"]])
            records += [_path(o, p) for o in outcomes for p in predictors]
            continue
        if row["op"] in (*MEASUREMENT, "~", ":="):
            records.append(row)
    latent = [name for name in spec.latent if name not in lower]
    return _spec_from(_unique_paths(records), spec, latent)


def _second_stage_spec(spec: ModelSpec, lower: dict[str, list[str]]) -> ModelSpec:
    """The lower-order constructs' blocks dropped: their scores measure the higher ones."""
    dimensions = {name for names in lower.values() for name in names}
    records = [row for row in _records(spec)
               if not (row["lhs"] in dimensions and row["op"] in MEASUREMENT)
               and row["op"] in (*MEASUREMENT, "~", ":=")]
    latent = [name for name in spec.latent if name not in dimensions]
    return _spec_from(records, spec, latent)


def _repeated_spec(spec: ModelSpec, lower: dict[str, list[str]]) -> ModelSpec:
    """The higher-order constructs measured by copies of their lower-order items, each
    joined to its lower-order constructs by a path."""
    records = []
    for row in _records(spec):
        if row["lhs"] in lower and row["op"] in MEASUREMENT:
            for item in spec.indicators[row["rhs"]]:
                records.append({**row, "rhs": f"{item}{REPEATED}{row['lhs']}"})
            formative = row["op"] == "<~"
            higher, dimension = row["lhs"], row["rhs"]
            records.append(_path(higher, dimension) if formative else _path(dimension, higher))
        elif row["op"] in (*MEASUREMENT, "~", ":="):
            records.append(row)
    return _spec_from(records, spec, list(spec.latent))


def _unique_paths(records: list[dict]) -> list[dict]:
    seen, kept = set(), []
    for row in records:
        key = (row["lhs"], row["op"], row["rhs"])
        if key not in seen:
            seen.add(key)
            kept.append(row)
    return kept
