"""Estimation under lavaan's constraints ``==``, ``<`` and ``>`` between labelled parameters.

The equalities and the inequalities that bind are met by reparametrization. Around a point
``theta0`` the constraints ``c`` are linearized, ``c(theta) ~ c(theta0) + H (theta - theta0)``
with ``H`` (r, q) their Jacobian, and the parameters are written as

    theta = theta0 - H^+ c(theta0) + K phi,

with ``K`` (q, q - r) an orthonormal basis of ``H``'s null space. The discrepancy is then
minimized over ``phi`` by the scoring of :func:`acsi_sem.numerics.ml.minimize_scoring`, whose
gradient and information become ``K' g`` and ``K' I K``. Linear constraints are met exactly
in one pass; nonlinear ones are linearized again at the new point until they hold and the
reduced gradient vanishes. Inequalities are handled by an active set: one that the solution
violates is added as an equality, one whose Lagrange multiplier has the wrong sign is released.

The covariance of the estimates is lavaan's inverse of the bordered information
``[[I, H'], [H, 0]]``, whose top-left block equals ``K (K' I K)^-1 K'`` (Silvey 1959): a
parameter a binding constraint fixes gets standard error 0. As in lavaan, each independent
equality adds one degree of freedom; an inequality, binding or not, adds none.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from acsi_sem.model.spec import Constraint, ModelSpec
from acsi_sem.numerics.ml import Discrepancy, ScoringResult, minimize_scoring

_FUNCTIONS = {"exp": math.exp, "log": math.log, "sqrt": math.sqrt, "abs": abs}
FEASIBILITY = 1e-9


@dataclass(frozen=True)
class ConstraintSystem:
    """The constraints of a specification as functions of its free parameters.

    Attributes:
        constraints: the constraints, in the order written.
        labels: ``{label: 0-based free index}`` of the labelled free parameters.
        constants: ``{label: value}`` of the labelled fixed parameters.
        definitions: the ``:=`` rows, ``(name, compiled expression)``, which constraints may use.
    """

    constraints: tuple[Constraint, ...]
    labels: dict[str, int]
    constants: dict[str, float]
    definitions: tuple[tuple[str, object], ...]

    @property
    def equality(self) -> np.ndarray:
        """(k,) whether each constraint is an equality."""
        return np.array([c.is_equality for c in self.constraints], dtype=bool)

    def slack(self, theta: np.ndarray) -> np.ndarray:
        """(k,) ``lhs - rhs`` of each constraint (``rhs - lhs`` for ``<``): 0 where an
        equality holds, positive where an inequality holds with room to spare."""
        names: dict[str, float] = dict(self.constants)
        names.update({label: float(theta[index]) for label, index in self.labels.items()})
        scope = {"__builtins__": {}, **_FUNCTIONS}
        for name, code in self.definitions:
            names[name] = _evaluate(code, scope, names)
        return np.array([_evaluate(c.slack_code, scope, names) for c in self.constraints])

    def jacobian(self, theta: np.ndarray) -> np.ndarray:
        """(k, q) derivatives of :meth:`slack`, by central differences (exact up to rounding
        for the linear constraints that are the rule)."""
        jacobian = np.zeros((len(self.constraints), len(theta)))
        for index in set(self.labels.values()):
            step = 1e-6 * max(1.0, abs(theta[index]))
            up, down = theta.copy(), theta.copy()
            up[index] += step
            down[index] -= step
            jacobian[:, index] = (self.slack(up) - self.slack(down)) / (2 * step)
        return jacobian

    def equality_rank(self, theta: np.ndarray) -> int:
        """The number of independent equalities: the degrees of freedom they add."""
        rows = self.jacobian(theta)[self.equality]
        return int(np.linalg.matrix_rank(rows)) if len(rows) else 0


def _evaluate(code: object, scope: dict, names: dict[str, float]) -> float:
    try:
        # The expressions passed syntax.check_expression: arithmetic on names only.
        return float(eval(code, scope, names))
    except (ZeroDivisionError, ValueError, OverflowError):
        return float("nan")


def constraint_system(spec: ModelSpec) -> ConstraintSystem | None:
    """The constraints of ``spec`` over its free parameters, or ``None`` without any."""
    if not spec.constraints:
        return None
    table = spec.table[(spec.table["label"] != "") & (spec.table["op"] != ":=")]
    labels, constants = {}, {}
    for label, free, fixed in zip(table["label"], table["free"], table["ustart"], strict=True):
        if free > 0:
            labels.setdefault(label, int(free) - 1)
        else:
            constants.setdefault(label, float(fixed))
    return ConstraintSystem(spec.constraints, labels, constants, spec.definitions)


@dataclass(frozen=True)
class ConstrainedFit:
    """A minimum under constraints.

    Attributes:
        scoring: the estimate (q,) with the full gradient and expected information there;
            ``converged`` also requires every constraint to hold.
        active: (k,) which constraints bind (every equality, and the binding inequalities).
        basis: (q, q - r) orthonormal basis of the directions the binding constraints leave
            free, for :func:`constrained_inverse`.
    """

    scoring: ScoringResult
    active: np.ndarray
    basis: np.ndarray


Evaluate = Callable[[np.ndarray], Discrepancy]


def minimize_constrained(evaluate: Evaluate, gradient: Callable[[np.ndarray], np.ndarray],
                         value: Callable[[np.ndarray], float], theta: np.ndarray,
                         system: ConstraintSystem, *, max_iterations: int = 200,
                         hessian: Callable[[np.ndarray], np.ndarray] | None = None
                         ) -> ConstrainedFit:
    """Minimise a discrepancy under ``system``'s constraints from ``theta`` (q,).

    Args:
        evaluate, gradient, value, hessian: as for
            :func:`acsi_sem.numerics.ml.minimize_scoring`.
        theta: the start; it need not meet the constraints.
    """
    active = system.equality.copy()
    for _ in range(2 * len(active) + 2):
        theta, converged = _minimize_on(evaluate, gradient, value, theta, system, active,
                                        max_iterations, hessian)
        slack = system.slack(theta)
        violated = np.flatnonzero(~active & (slack < -FEASIBILITY))
        if violated.size:
            active[violated[np.argmin(slack[violated])]] = True
            continue
        released = _wrong_sign(evaluate(theta).gradient, system.jacobian(theta), active,
                               system.equality)
        if released is None:
            break
        active[released] = False
    return _finish(evaluate, theta, system, active, converged)


def binding_basis(system: ConstraintSystem, theta: np.ndarray, active: np.ndarray
                  ) -> np.ndarray:
    """(q, q - r) orthonormal basis of the directions the ``active`` (k,) constraints leave
    free at ``theta`` (q,)."""
    jacobian = system.jacobian(theta)[active]
    return _null_space(jacobian) if len(jacobian) else np.eye(len(theta))


def _finish(evaluate: Evaluate, theta: np.ndarray, system: ConstraintSystem,
            active: np.ndarray, converged: bool) -> ConstrainedFit:
    current = evaluate(theta)
    basis = binding_basis(system, theta, active)
    slack = system.slack(theta)
    feasible = (np.all(np.abs(slack[active]) < 1e-7)
                and np.all(slack[~active] > -FEASIBILITY))
    reduced = basis.T @ current.gradient
    converged = bool(converged and feasible and np.max(np.abs(reduced), initial=0) < 1e-5)
    scoring = ScoringResult(theta, current.value, current.gradient, 0, converged,
                            current.information)
    return ConstrainedFit(scoring=scoring, active=active.copy(), basis=basis)


def is_constrained_minimum(system: ConstraintSystem, theta: np.ndarray,
                           gradient: np.ndarray, active: np.ndarray) -> bool:
    """Whether ``theta`` (q), where the objective's gradient is ``gradient`` (q,), meets the
    conditions :func:`minimize_constrained` ends on with the ``active`` (k,) constraints
    binding: these hold, the others are not violated, the gradient along the directions
    they leave free vanishes (below 1e-5) and no binding inequality should be released."""
    slack = system.slack(theta)
    if not (np.all(np.abs(slack[active]) < 1e-7) and np.all(slack[~active] > -FEASIBILITY)):
        return False
    reduced = binding_basis(system, theta, active).T @ gradient
    return bool(np.max(np.abs(reduced), initial=0) < 1e-5) and _wrong_sign(
        gradient, system.jacobian(theta), active, system.equality) is None


def _wrong_sign(gradient: np.ndarray, jacobian: np.ndarray, active: np.ndarray,
                equality: np.ndarray) -> int | None:
    """The binding inequality whose multiplier says the discrepancy falls if it is released
    (the most negative one), or ``None``: at a minimum ``g = H' lambda`` with ``lambda >= 0``
    on the inequalities."""
    binding = np.flatnonzero(active)
    inequalities = [i for i, row in enumerate(binding) if not equality[row]]
    if not inequalities:
        return None
    multipliers = np.linalg.lstsq(jacobian[binding].T, gradient, rcond=None)[0]
    worst = min(inequalities, key=lambda i: multipliers[i])
    return int(binding[worst]) if multipliers[worst] < -1e-8 else None


def _minimize_on(evaluate: Evaluate, gradient: Callable[[np.ndarray], np.ndarray],
                 value: Callable[[np.ndarray], float], theta: np.ndarray,
                 system: ConstraintSystem, active: np.ndarray, max_iterations: int,
                 hessian: Callable[[np.ndarray], np.ndarray] | None = None
                 ) -> tuple[np.ndarray, bool]:
    """The minimum with the ``active`` constraints as equalities, and whether the scoring
    converged, by repeated linearization (one pass for linear constraints)."""
    converged = False
    for _ in range(50):
        jacobian = system.jacobian(theta)[active]
        if not len(jacobian):
            found = minimize_scoring(evaluate, gradient, value, theta,
                                     max_iterations=max_iterations, hessian=hessian)
            return found.theta, found.converged
        base = theta - np.linalg.pinv(jacobian) @ system.slack(theta)[active]
        basis = _null_space(jacobian)
        reduced_hessian = None if hessian is None else (
            lambda phi, base=base, basis=basis: basis.T @ hessian(base + basis @ phi) @ basis)
        found = minimize_scoring(*_reduced(evaluate, gradient, value, base, basis),
                                 np.zeros(basis.shape[1]), max_iterations=max_iterations,
                                 hessian=reduced_hessian)
        step = base + basis @ found.theta - theta
        theta, converged = theta + step, found.converged
        if np.max(np.abs(system.slack(theta)[active])) < 1e-10 and (
                np.max(np.abs(step), initial=0) < 1e-8 or _is_linear(system, theta, jacobian,
                                                                    active)):
            break
    return theta, converged


def _is_linear(system: ConstraintSystem, theta: np.ndarray, jacobian: np.ndarray,
               active: np.ndarray) -> bool:
    return bool(np.allclose(system.jacobian(theta)[active], jacobian, atol=1e-8, rtol=0))


def _reduced(evaluate: Evaluate, gradient: Callable[[np.ndarray], np.ndarray],
             value: Callable[[np.ndarray], float], base: np.ndarray, basis: np.ndarray
             ) -> tuple[Evaluate, Callable[[np.ndarray], np.ndarray],
                        Callable[[np.ndarray], float]]:
    """The discrepancy as a function of ``phi`` in ``theta = base + basis phi``."""

    def reduced_evaluate(phi: np.ndarray) -> Discrepancy:
        found = evaluate(base + basis @ phi)
        information = (None if found.information is None
                       else basis.T @ found.information @ basis)
        return Discrepancy(found.value, basis.T @ found.gradient, information)

    return (reduced_evaluate, lambda phi: basis.T @ gradient(base + basis @ phi),
            lambda phi: value(base + basis @ phi))


def constrained_inverse(matrix: np.ndarray, basis: np.ndarray | None) -> np.ndarray:
    """``K (K' M K)^-1 K'`` (q, q) for a (q, q) information ``matrix`` and the basis ``K``
    of :class:`ConstrainedFit` (plain ``M^-1`` when ``basis`` is ``None``)."""
    if basis is None:
        return np.linalg.inv(matrix)
    return basis @ np.linalg.inv(basis.T @ matrix @ basis) @ basis.T


CONSTRAINT_COLUMNS = ["lhs", "op", "rhs", "lhs_value", "rhs_value", "binding"]


def constraint_table(system: ConstraintSystem, found: ConstrainedFit):
    """One row per constraint: both sides at the estimates and whether it binds (every
    equality does; an inequality where the solution sits on its bound).

    Returns:
        A DataFrame with :data:`CONSTRAINT_COLUMNS`.
    """
    import pandas as pd

    theta = found.scoring.theta
    sides = [ConstraintSystem(tuple(_side(c, "lhs") for c in system.constraints),
                              system.labels, system.constants, system.definitions),
             ConstraintSystem(tuple(_side(c, "rhs") for c in system.constraints),
                              system.labels, system.constants, system.definitions)]
    lhs, rhs = (side.slack(theta) for side in sides)
    return pd.DataFrame({"lhs": [c.lhs for c in system.constraints],
                         "op": [c.op for c in system.constraints],
                         "rhs": [c.rhs for c in system.constraints],
                         "lhs_value": lhs, "rhs_value": rhs, "binding": found.active})


def _side(constraint: Constraint, side: str) -> Constraint:
    """An equality ``side == 0``, whose slack is that side's value."""
    return Constraint(getattr(constraint, side), "==", "0", constraint.line)


def solution_constraints(spec: ModelSpec, found: ConstrainedFit | None):
    """The result's constraints table (:func:`constraint_table`), or ``None`` for a model
    without constraints."""
    system = constraint_system(spec)
    return None if system is None or found is None else constraint_table(system, found)


def _null_space(matrix: np.ndarray) -> np.ndarray:
    """scipy's ``null_space``, imported on first use: scipy.linalg costs every
    unconstrained fit 0.07 s to import."""
    from scipy.linalg import null_space

    return null_space(matrix)
