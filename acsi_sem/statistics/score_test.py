"""lavaan's ``lavTestScore()``: score tests of releasing the model's equality constraints.

The model is written with every labelled parameter its own (lavaan's ``ceq.simple = FALSE``
form): a label shared by several rows, and ``group_equal`` across groups, become equality
constraints ``R theta = r`` beside the user's ``==`` rows. At the constrained ML estimates, with
``s`` the score (gradient of the log-likelihood over N) and ``I`` the expected unit information
of that free form,

    total      X2 = N s' I^+ s                      (df: the number of constraints)
    univariate X2 = N s' [Z_(-r)^+]_11 s            (df 1, releasing constraint r alone)

where ``Z_(-r) = [[I, R_(-r)'], [R_(-r), 0]]`` is the information bordered by the other
constraints and ``[.]_11`` its top-left (q, q) block; ``^+`` is the Moore-Penrose inverse with
MASS::ginv's tolerance, as lavaan 0.6 computes them. Like lavaan, the test is the ordinary
(normal-theory) one under MLR too, and models with inequality constraints are refused.
Under FIML the score and the expected information are sums over the missing-data patterns
(:func:`patterns_score_test`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from scipy import special

from acsi_sem.errors import AcsiSemError
from acsi_sem.model.spec import ModelSpec
from acsi_sem.numerics.constrained import constraint_system
from acsi_sem.numerics.ml import Discrepancy
from acsi_sem.statistics.modification import Block, expected_score_and_information

GINV_TOLERANCE = np.sqrt(np.finfo(float).eps)


@dataclass(frozen=True)
class ScoreTest:
    """The score tests of releasing equality constraints.

    Attributes:
        total: ``X2, df, pvalue`` of releasing them all at once.
        univariate: one row per constraint, ``lhs, op, rhs, X2, df, pvalue``: the user's
            ``==`` rows as written, then each shared label's or ``group_equal``'s equality
            as the two parameters it joins (``[group]`` appended with groups); for added
            parameters (:mod:`acsi_sem.statistics.score_added`) one row per parameter
            added, with its ``epc``.
        epc: lavaan's ``epc = TRUE`` table: ``lhs, op, rhs, [group,] est, epc, epv`` of
            every free parameter when all the constraints are released (or all the added
            parameters added).
    """

    total: pd.Series
    univariate: pd.DataFrame
    epc: pd.DataFrame | None = None


def released_score_test(released: ModelSpec, pairs: list[tuple[int, int]], theta: np.ndarray,
                        discrepancy: Discrepancy, n_obs: int,
                        group_labels: tuple[str, ...] = ()) -> ScoreTest:
    """The score tests of ``released``'s equalities at ``theta``.

    Args:
        released: the model with every labelled row its own parameter
            (:func:`~acsi_sem.model.spec.with_labels_released`).
        pairs: the shared labels' equalities, ``(index, index)`` into ``theta``.
        theta: (q,) the constrained estimates written in ``released``'s free parameters.
        discrepancy: F_ML with gradient (q,) and expected information (q, q) at ``theta``.
        n_obs: N, all groups together.
        group_labels: the group names, for a multi-group model.
    """
    system = constraint_system(released)
    rows, names = [], []
    if system is not None:
        if not system.equality.all():
            raise AcsiSemError("the score test releases equality constraints only; lavaan's "
                               "lavTestScore() refuses models with '<' or '>' as well")
        rows.append(system.jacobian(theta))
        names += [(c.lhs, "==", c.rhs) for c in system.constraints]
    describe = _parameter_names(released, group_labels)
    for first, other in pairs:
        row = np.zeros(len(theta))
        row[first], row[other] = 1.0, -1.0
        rows.append(row[None])
        names.append((describe[first], "==", describe[other]))
    if not names:
        raise AcsiSemError("the model has no equality constraints to release (no shared "
                           "labels, '==' rows or group_equal)")
    score, information = -discrepancy.gradient / 2, discrepancy.information / 2
    tests = _tests(np.vstack(rows), names, score, information, n_obs)
    change = np.linalg.pinv(information, rcond=GINV_TOLERANCE) @ score
    return replace(tests, epc=released_changes(released, theta, change, group_labels))


def released_changes(released: ModelSpec, theta: np.ndarray, change: np.ndarray,
                     group_labels: tuple[str, ...] = ()) -> pd.DataFrame:
    """lavaan's ``epc`` table: ``lhs, op, rhs, [group,] est, epc, epv`` of every free row
    of ``released`` at ``theta`` (q,) moved by ``change`` (q,)."""
    table = released.table
    free = table[table["free"] > 0]
    index = free["free"].to_numpy() - 1
    frame = free[["lhs", "op", "rhs"]].reset_index(drop=True)
    if group_labels:
        frame["group"] = [group_labels[g - 1] for g in free["group"]]
    frame["est"], frame["epc"] = theta[index], change[index]
    frame["epv"] = frame["est"] + frame["epc"]
    return frame


def patterns_score_test(released: ModelSpec, pairs: list[tuple[int, int]],
                        blocks: list[Block], n_free: int,
                        group_labels: tuple[str, ...] = ()) -> ScoreTest:
    """:func:`released_score_test` of a FIML fit: the unit score and expected information
    summed over each group's (``blocks``) missing-data patterns at the implied moments, as
    lavaan's lavTestScore() takes them (``information = "expected"``, whatever the fit's
    own; the test stays the normal-theory one under MLR).

    Args:
        blocks: one :class:`~acsi_sem.statistics.modification.Block` per group, of
            ``released``'s group specification(s), at the constrained estimates.
        n_free: Q, ``released``'s free parameters.
    """
    theta = np.zeros(n_free)
    for block in blocks:
        theta[block.index] = block.theta
    score, information = expected_score_and_information(blocks, n_free)
    n_obs = sum(block.patterns.n_obs for block in blocks)
    # F_ML's gradient and information are -2 and 2 times the unit score and information.
    return released_score_test(released, pairs, theta,
                               Discrepancy(np.nan, -2 * score, 2 * information), n_obs,
                               group_labels)


def _tests(jacobian: np.ndarray, names: list[tuple[str, str, str]], score: np.ndarray,
           information: np.ndarray, n_obs: int) -> ScoreTest:
    q = len(score)
    total = n_obs * score @ np.linalg.pinv(information, rcond=GINV_TOLERANCE) @ score
    univariate = []
    for r in range(len(jacobian)):
        others = np.delete(jacobian, r, axis=0)
        bordered = np.block([[information, others.T],
                             [others, np.zeros((len(others), len(others)))]])
        inverse = np.linalg.pinv(bordered, rcond=GINV_TOLERANCE)[:q, :q]
        univariate.append(n_obs * score @ inverse @ score)
    table = pd.DataFrame(names, columns=["lhs", "op", "rhs"])
    table["X2"], table["df"] = univariate, 1
    table["pvalue"] = special.chdtrc(1, table["X2"].to_numpy())
    df = len(jacobian)
    return ScoreTest(pd.Series({"X2": total, "df": df, "pvalue": special.chdtrc(df, total)}),
                     table)


def _parameter_names(spec: ModelSpec, group_labels: tuple[str, ...]) -> dict[int, str]:
    """``lhs op rhs`` (and ``[group]``) of each free parameter, by 0-based index."""
    table = spec.table[spec.table["free"] > 0].drop_duplicates("free")
    names = {}
    for row in table.itertuples(index=False):
        text = f"{row.lhs} {row.op} {row.rhs}".strip()
        names[row.free - 1] = (f"{text} [{group_labels[row.group - 1]}]" if group_labels
                               else text)
    return names


def released_theta(spec: ModelSpec, released: ModelSpec, theta: np.ndarray) -> np.ndarray:
    """``theta`` (q,) of ``spec`` written in ``released``'s free parameters (same rows)."""
    old, new = spec.table["free"].to_numpy(), released.table["free"].to_numpy()
    values = np.zeros(int(new.max()))
    free = new > 0
    values[new[free] - 1] = theta[old[free] - 1]
    return values
