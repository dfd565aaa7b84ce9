"""Mediation: every specific indirect effect, total indirect and total effects, with the
bootstrap's intervals and the classification of Zhao, Lynch and Chen (2010).

A specific indirect effect is the product of the path coefficients along one directed path
from a cause through one or more mediators to an outcome (e.g. Image -> Satisfaction ->
Loyalty). Its bootstrap distribution is the product of the coefficients' draws, replicate by
replicate, and its jackknife (for BCa) the product of their jackknife values, so the
intervals come from the fit's own bootstrap without refitting. With the direct effect's
interval, each indirect effect is classified (significant meaning the interval excludes 0):

- complementary: indirect and direct significant, with the same sign;
- competitive: both significant, with opposite signs;
- indirect-only: the indirect significant, the direct not (or no direct path);
- direct-only: the direct significant, the indirect not (no mediation);
- no effect: neither.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import pairwise
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from acsi_sem.errors import AcsiSemError
from acsi_sem.resample import BootstrapResult

if TYPE_CHECKING:
    from acsi_sem.results import FitResult

ARROW = " -> "


def directed_paths(edges: list[tuple[str, str]]) -> list[tuple[str, ...]]:
    """Every directed path of two or more edges, as its variables from cause to outcome.

    Args:
        edges: ``(cause, outcome)`` pairs of a recursive (acyclic) structural model.
    """
    successors: dict[str, list[str]] = {}
    for cause, outcome in edges:
        successors.setdefault(cause, []).append(outcome)
    paths: list[tuple[str, ...]] = []

    def extend(path: tuple[str, ...]) -> None:
        for step in successors.get(path[-1], []):
            if step in path:
                loop = ARROW.join((*path, step))
                raise AcsiSemError(f"the structural model has a loop ({loop}); indirect "
                                   "effects need a recursive model")
            longer = (*path, step)
            if len(longer) > 2:
                paths.append(longer)
            extend(longer)

    for start in dict.fromkeys(cause for cause, _ in edges):
        extend((start,))
    return paths


def mediation_table(result: FitResult) -> pd.DataFrame:
    """One row per specific indirect effect, then per cause-outcome pair its total indirect
    and total effect: ``cause, outcome, type, path, estimate, se, ci_lower, ci_upper`` (the
    fit's interval, percentile or BCa), the direct effect with its interval, and
    ``mediation`` (Zhao, Lynch and Chen's type; for the specific and total indirect rows).
    With groups, each group's rows from its own paths and draws, under a first column
    ``group``.

    Raises:
        AcsiSemError: the fit has no bootstrap, or no indirect effect.
    """
    boot = result.bootstrap
    if boot is None:
        raise AcsiSemError("mediation needs bootstrap intervals: fit with bootstrap=N "
                           "(--bootstrap N), e.g. 5000")
    parameters = result.parameters
    if result.groups is None:
        return _mediation_rows(parameters, boot, "")
    tables = [_mediation_rows(parameters[parameters["group"] == label], boot, f" [{label}]")
              for label in result.groups["labels"]]
    return pd.concat([table.assign(group=label).set_index("group").reset_index()
                      for table, label in zip(tables, result.groups["labels"], strict=True)],
                     ignore_index=True)


def _mediation_rows(parameters: pd.DataFrame, boot: BootstrapResult, suffix: str
                    ) -> pd.DataFrame:
    """:func:`mediation_table` of one group's ``parameters``, whose draws are named
    ``"lhs ~ rhs" + suffix`` (``" [group]"`` with groups)."""
    regressions = parameters[parameters["op"] == "~"]
    edges = list(zip(regressions["rhs"], regressions["lhs"], strict=True))
    paths = directed_paths(edges)
    if not paths:
        raise AcsiSemError("the model has no indirect effect: no path runs through a "
                           "mediator")
    position = {name: i for i, name in enumerate(boot.names)}
    keys = {f"{lhs} ~ {rhs}": f"{lhs} ~ {rhs}{suffix}" for rhs, lhs in edges}
    missing = [key for key, name in keys.items() if name not in position]
    if missing:
        raise AcsiSemError(f"the bootstrap has no draws of {', '.join(missing)}{suffix} "
                           "(fixed paths cannot be bootstrapped)")
    return _rows(boot, paths, {key: position[name] for key, name in keys.items()})


def _rows(boot: BootstrapResult, paths: list[tuple[str, ...]],
          columns: dict[str, int]) -> pd.DataFrame:
    pairs = list(dict.fromkeys((path[0], path[-1]) for path in paths))
    names, kinds, functions = [], [], []
    for cause, outcome in pairs:
        chains = [path for path in paths if (path[0], path[-1]) == (cause, outcome)]
        direct = columns.get(f"{outcome} ~ {cause}")
        for name, kind, function in _effects(cause, outcome, chains, direct, columns):
            names.append(name)
            kinds.append((cause, outcome, kind, direct is not None))
            functions.append(function)
    derived = boot.derive(tuple(names), lambda values: np.stack(
        [f(values) for f in functions], axis=-1))
    table = derived.intervals().reset_index(names="path")
    table.insert(0, "cause", [k[0] for k in kinds])
    table.insert(1, "outcome", [k[1] for k in kinds])
    table.insert(2, "type", [k[2] for k in kinds])
    no_path = (table["type"] == "direct") & ~pd.Series([k[3] for k in kinds])
    table.loc[no_path, ["se", "ci_lower", "ci_upper"]] = np.nan
    return _classify(table)


def _effects(cause: str, outcome: str, chains: list[tuple[str, ...]], direct: int | None,
             columns: dict[str, int]) -> list[tuple[str, str, Callable]]:
    """``(name, type, function of a (..., k) array of statistics)`` of a pair's specific
    indirect, total indirect, direct and total effects."""
    def chain_product(chain: tuple[str, ...]) -> Callable:
        cells = [columns[f"{b} ~ {a}"] for a, b in pairwise(chain)]
        return lambda values: np.prod([values[..., cell] for cell in cells], axis=0)

    products = [chain_product(chain) for chain in chains]

    def indirect(values: np.ndarray) -> np.ndarray:
        return sum(product(values) for product in products)

    def direct_effect(values: np.ndarray) -> np.ndarray:
        return values[..., direct] if direct is not None else np.zeros(values.shape[:-1])

    label = f"{cause}{ARROW}{outcome}"
    return [*((ARROW.join(chain), "specific indirect", product)
              for chain, product in zip(chains, products, strict=True)),
            (f"{label} (all indirect)", "total indirect", indirect),
            (f"{label} (direct)", "direct", direct_effect),
            (f"{label} (total)", "total", lambda values: indirect(values)
             + direct_effect(values))]


def _classify(table: pd.DataFrame) -> pd.DataFrame:
    """Zhao, Lynch and Chen's type of each indirect row, against its pair's direct effect."""
    significant = (table["ci_lower"] > 0) | (table["ci_upper"] < 0)
    direct = table[table["type"] == "direct"].set_index(["cause", "outcome"])
    direct_significant = significant[table["type"] == "direct"].set_axis(direct.index)
    types = []
    for row, indirect_significant in zip(table.itertuples(index=False), significant,
                                         strict=True):
        if row.type not in ("specific indirect", "total indirect"):
            types.append("")
            continue
        key = (row.cause, row.outcome)
        both = direct_significant[key]
        if indirect_significant and both:
            same = np.sign(row.estimate) == np.sign(direct.loc[key, "estimate"])
            types.append("complementary" if same else "competitive")
        elif indirect_significant:
            types.append("indirect-only")
        else:
            types.append("direct-only" if both else "no effect")
    table["mediation"] = types
    return table
