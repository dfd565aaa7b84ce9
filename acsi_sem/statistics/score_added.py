"""lavaan's ``lavTestScore(fit, add = ..., epc = TRUE)``: score tests of adding parameters.

The parameters written in ``add`` (lavaan syntax, e.g. ``"visual =~ x9; x7 ~~ x8"``) join
the model at 0, in every group; the model's own constraints stay. With ``s`` the unit score
and ``I`` the expected unit information of the free parameters (f) and the added ones (c)
at the estimates, and ``V = I_cc - I_cf I_ff^-1 I_fc`` (the free part along the directions
the model's constraints leave),

    total      X2 = N s_c' V^+ s_c          (df: the number added)
    univariate X2 = N s_r^2 / V_rr,   epc = s_r / V_rr   (adding r alone: its modification
                                                            index and EPC)

and the expected change of every parameter when all are added is ``I^+ s`` on the same
directions (lavaan's ``epc``, ``epv = est + epc``). As lavaan, the test is the
normal-theory one under MLR too; FIML sums over the missing-data patterns.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy import special
from scipy.linalg import block_diag

from acsi_sem.errors import AcsiSemError, ModelSyntaxError
from acsi_sem.model.syntax import parse_statements
from acsi_sem.numerics.constrained import constrained_inverse
from acsi_sem.statistics.modification import (
    Block,
    Candidate,
    candidate_row,
    candidate_score_and_information,
    candidate_variance,
    result_blocks,
)
from acsi_sem.statistics.score_test import GINV_TOLERANCE, ScoreTest

if TYPE_CHECKING:
    from acsi_sem.results import FitResult

ADDABLE = ("=~", "~", "~~", "~1")


def added_parameters_test(result: FitResult, add: str) -> ScoreTest:
    """The score tests of adding the parameters of ``add`` to an ML or MLR ``result``.

    Returns:
        A :class:`~acsi_sem.statistics.score_test.ScoreTest`: ``total`` (all at once),
        ``univariate`` (``lhs, op, rhs, [group,] X2, df, pvalue, epc``, each alone) and
        ``epc`` (``lhs, op, rhs, [group,] est, epc, epv`` of every free parameter, then the
        added ones at est 0, when all are added).

    Raises:
        ModelSyntaxError: ``add`` is not lavaan syntax or names an unknown variable.
        AcsiSemError: a parameter the model already has free, an operator other than
            ``=~ ~ ~~ ~1``, a ``~1`` without a mean structure, or a fit the score test
            cannot use (see :func:`~acsi_sem.statistics.modification.result_blocks`).
    """
    rows = _added_rows(add)
    blocks, theta, basis = result_blocks(result, "score tests of added parameters")
    candidates = [[_added_candidate(block, row) for row in rows] for block in blocks]
    n_free, n_obs = len(theta), sum(block.patterns.n_obs for block in blocks)
    score, information = candidate_score_and_information(blocks, candidates, n_free)
    variance = candidate_variance(information, n_free, basis)
    added = score[n_free:]
    total = n_obs * added @ np.linalg.pinv(variance, rcond=GINV_TOLERANCE) @ added
    df = len(added)
    univariate = _named(blocks, candidates)
    univariate["X2"] = n_obs * added ** 2 / np.diag(variance)
    univariate["df"] = 1
    univariate["pvalue"] = special.chdtrc(1, univariate["X2"].to_numpy())
    univariate["epc"] = added / np.diag(variance)
    return ScoreTest(pd.Series({"X2": total, "df": df, "pvalue": special.chdtrc(df, total)}),
                     univariate, _all_changes(result, theta, blocks, candidates, score,
                                              information, basis))


def _added_rows(add: str) -> list[tuple[str, str, str]]:
    if not add.strip():
        raise ModelSyntaxError("<add>: no parameter to add")
    statements = parse_statements(add, source="<add>")
    rows = []
    for statement in statements:
        if statement.op not in ADDABLE:
            raise ModelSyntaxError(f"<add>: line {statement.line}: only parameters ("
                                   f"{', '.join(ADDABLE)}) can be added, not {statement.op!r}")
        rows.append((statement.lhs, statement.op, statement.rhs))
    if not rows:
        raise ModelSyntaxError("<add>: no parameter to add")
    return list(dict.fromkeys(rows))


def _added_candidate(block: Block, row: tuple[str, str, str]) -> Candidate:
    lhs, op, rhs = row
    where = f" in group {block.group}" if block.group else ""
    unknown = [name for name in (lhs, rhs) if name and name not in block.ram.variables]
    if unknown:
        raise ModelSyntaxError(f"<add>: {' '.join(row).strip()}: {unknown[0]!r} is not a "
                               f"variable of the model")
    table = block.spec.table
    existing = table[(table["lhs"] == lhs) & (table["op"] == op) & (table["rhs"] == rhs)
                     | ((op == "~~") & (table["lhs"] == rhs) & (table["op"] == op)
                        & (table["rhs"] == lhs))]
    if (existing["free"] > 0).any():
        raise AcsiSemError(f"<add>: {' '.join(row).strip()} is already a free parameter"
                           f"{where}; lavTestScore() adds parameters the model leaves out")
    if op == "~1" and not len(block.ram.m_rows):
        raise AcsiSemError(f"<add>: {lhs} ~ 1: the model has no mean structure to add an "
                           "intercept to")
    return candidate_row(row, {name: i for i, name in enumerate(block.ram.variables)})


def _named(blocks: list[Block], candidates: list[list[Candidate]]) -> pd.DataFrame:
    records = [{"lhs": c.lhs, "op": c.op, "rhs": c.rhs, "group": block.group}
               for block, chosen in zip(blocks, candidates, strict=True) for c in chosen]
    frame = pd.DataFrame.from_records(records, columns=["lhs", "op", "rhs", "group"])
    return frame if blocks[0].group else frame.drop(columns="group")


def _all_changes(result: FitResult, theta: np.ndarray, blocks: list[Block],
                 candidates: list[list[Candidate]], score: np.ndarray,
                 information: np.ndarray, basis: np.ndarray | None) -> pd.DataFrame:
    """Every free parameter's (one row per table row; rows sharing a label share it) and
    every added one's expected change when all the added ones are freed."""
    n_added = len(score) - len(theta)
    directions = None if basis is None else block_diag(basis, np.eye(n_added))
    change = constrained_inverse(information, directions) @ score
    table = result.spec.table
    free = table[(table["free"] > 0) & table["op"].isin(ADDABLE)]
    index = free["free"].to_numpy() - 1
    frame = free[["lhs", "op", "rhs"]].reset_index(drop=True)
    if result.groups is not None:
        frame["group"] = [result.groups["labels"][g - 1] for g in free["group"]]
    frame["est"], frame["epc"] = theta[index], change[index]
    added = _named(blocks, candidates).assign(est=0.0, epc=change[len(theta):])
    frame = pd.concat([frame, added], ignore_index=True)
    frame["epv"] = frame["est"] + frame["epc"]
    return frame
