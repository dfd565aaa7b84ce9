"""Multi-group ML for many replicates at once (the bootstrap of a multi-group model).

The multi-group discrepancy is ``F = sum_g (n_g / N) F_g``, each group's ``F_g`` the
mean-structure discrepancy of its own moments; written with McArdle's constant
(:mod:`acsi_sem.numerics.augmented`) each ``F_g`` is a covariance-structure discrepancy,
which :mod:`acsi_sem.numerics.batched` evaluates for stacked replicates. Group ``g`` sees
the global parameters (b, Q) at its ``global_index``; gradients, informations and Hessians
are summed into the global ones with the weights. Fisher scoring far from the optimum,
Newton steps on the analytic Hessian once the largest gradient element is below
:data:`~acsi_sem.numerics.batched.NEWTON_BELOW` (where that Hessian is positive definite),
each step halved until F does not rise; a replicate converges where its largest gradient
element falls below the tolerance of the one-at-a-time fit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from acsi_sem.model.ram import RamModel
from acsi_sem.numerics.batched import (
    NEWTON_BELOW,
    BatchedFit,
    BatchedRam,
    Point,
    cell_hessian_correction,
    cell_information,
    cell_products,
    evaluate_point,
    positive_definite_each,
    solve_each,
)


@dataclass(frozen=True)
class GroupedBatch:
    """The groups of a multi-group model, for stacked replicates.

    Attributes:
        rams: each group's augmented RAM (the constant among its observed variables).
        indices: each group's ``global_index`` (q_g,) into the Q global parameters.
        n_free: Q.
    """

    rams: tuple[BatchedRam, ...]
    indices: tuple[np.ndarray, ...]
    n_free: int

    @classmethod
    def of(cls, rams: tuple[RamModel, ...], indices: tuple[np.ndarray, ...], n_free: int
           ) -> GroupedBatch:
        """From the groups' augmented RAM forms and their parameter indices."""
        return cls(tuple(BatchedRam.of(ram) for ram in rams), indices, n_free)


@dataclass(frozen=True)
class _GroupedPoint:
    """F (b,), its gradient (b, Q) and ``finite`` (b,) with each group's :class:`Point`."""

    value: np.ndarray
    gradient: np.ndarray
    finite: np.ndarray
    parts: tuple[Point, ...]

    def rows(self, selected: np.ndarray) -> _GroupedPoint:
        return _GroupedPoint(self.value[selected], self.gradient[selected],
                             self.finite[selected],
                             tuple(part.rows(selected) for part in self.parts))


def minimize_ml_groups_batched(model: GroupedBatch, start: np.ndarray,
                               moments: tuple[np.ndarray, ...], sizes: np.ndarray, *,
                               max_iterations: int = 100, tolerance: float = 1e-9
                               ) -> BatchedFit:
    """Minimise the multi-group F for b replicates from the shared ``start`` (Q,).

    Args:
        moments: each group's augmented second moments (b, p_g + 1, p_g + 1).
        sizes: (b, G) each replicate's group sizes n_g (sums of its row weights), whose
            shares n_g / N weight the groups' discrepancies.
        tolerance: convergence when max |dF/dtheta| < tolerance.
    """
    count = len(moments[0])
    shares = sizes / sizes.sum(axis=1, keepdims=True)
    logdets = tuple(np.linalg.slogdet(group)[1] for group in moments)
    theta = np.tile(start, (count, 1))
    converged = np.zeros(count, dtype=bool)
    active = np.arange(count)
    point = _evaluate_groups(model, theta, moments, logdets, shares, active)
    for _ in range(max_iterations):
        largest = np.abs(point.gradient).max(axis=1)
        done = point.finite & (largest < tolerance)
        converged[active[done]] = True
        moving = point.finite & ~done
        if not moving.any():
            break
        active, point, largest = active[moving], point.rows(moving), largest[moving]
        step = solve_each(_step_matrices(model, point, shares[active],
                                          largest < NEWTON_BELOW), point.gradient)
        usable = np.isfinite(step).all(axis=1)
        active, point, step = active[usable], point.rows(usable), step[usable]
        theta[active], point, better = _halve_until_better(model, theta, step, point,
                                                           moments, logdets, shares, active)
        active, point = active[better], point.rows(better)
    return BatchedFit(theta, converged)


def _evaluate_groups(model: GroupedBatch, theta: np.ndarray, moments: tuple[np.ndarray, ...],
                     logdets: tuple[np.ndarray, ...], shares: np.ndarray, rows: np.ndarray
                     ) -> _GroupedPoint:
    """The weighted F at ``theta`` (r, Q) for the replicates ``rows`` (r,), the groups
    weighted by ``shares`` (b, G)."""
    value, gradient = np.zeros(len(rows)), np.zeros((len(rows), model.n_free))
    finite, parts = np.ones(len(rows), dtype=bool), []
    for g, (ram, index, group, logdet) in enumerate(zip(model.rams, model.indices, moments,
                                                        logdets, strict=True)):
        part = evaluate_point(ram, theta[:, index], group[rows], logdet[rows])
        weight = shares[rows, g]
        value += weight * part.value
        gradient[:, index] += weight[:, None] * part.gradient
        finite &= part.finite
        parts.append(part)
    return _GroupedPoint(value, gradient, finite, tuple(parts))


def _step_matrices(model: GroupedBatch, point: _GroupedPoint, shares: np.ndarray,
                   near: np.ndarray) -> np.ndarray:
    """(b, Q, Q): the analytic Hessian for the ``near`` replicates where it is positive
    definite, the expected information elsewhere; ``shares`` (b, G) weight the groups."""
    count, size = len(point.value), model.n_free
    information = np.zeros((count, size, size))
    hessian = np.zeros((int(near.sum()), size, size))
    for g, (ram, index, part) in enumerate(zip(model.rams, model.indices, point.parts,
                                               strict=True)):
        weight = shares[:, g, None, None]
        products = cell_products(part.u, part.v, part.sigma_inv)
        cells = cell_information(*products)
        information[:, index[:, None], index] += weight * ram.cells_to_parameters(cells)
        if near.any():
            close = part.rows(near)
            corrected = cells[near] + cell_hessian_correction(
                ram, close, *(product[near] for product in products))
            hessian[:, index[:, None], index] += weight[near] * ram.cells_to_parameters(
                corrected)
    if near.any():
        definite = positive_definite_each(hessian)
        information[np.flatnonzero(near)[definite]] = hessian[definite]
    return information


def _halve_until_better(model: GroupedBatch, theta: np.ndarray, step: np.ndarray,
                        point: _GroupedPoint, moments: tuple[np.ndarray, ...],
                        logdets: tuple[np.ndarray, ...], shares: np.ndarray,
                        active: np.ndarray) -> tuple[np.ndarray, _GroupedPoint, np.ndarray]:
    """Per active replicate, the first of ``theta - step / 2^k`` (k < 30) where F does not
    rise: ``(theta (r, Q), the point there, better (r,))``; replicates without one keep
    their theta and have ``better`` False."""
    current = theta[active].copy()
    accepted_theta, better = current.copy(), np.zeros(len(active), dtype=bool)
    accepted_point = point
    pending = np.arange(len(active))
    for _ in range(30):
        candidate = current[pending] - step[pending]
        trial = _evaluate_groups(model, candidate, moments, logdets, shares,
                                 active[pending])
        ok = trial.finite & (trial.value <= point.value[pending] + 1e-12)
        rows = pending[ok]
        accepted_theta[rows], better[rows] = candidate[ok], True
        accepted_point = _merge(accepted_point, rows, trial.rows(ok))
        pending = pending[~ok]
        if not len(pending):
            break
        step[pending] /= 2
    return accepted_theta, accepted_point, better


def _merge(point: _GroupedPoint, rows: np.ndarray, new: _GroupedPoint) -> _GroupedPoint:
    """``point`` with its ``rows`` replaced by ``new``'s."""
    if not len(rows):
        return point
    value, gradient, finite = point.value.copy(), point.gradient.copy(), point.finite.copy()
    value[rows], gradient[rows], finite[rows] = new.value, new.gradient, new.finite
    parts = []
    for old, fresh in zip(point.parts, new.parts, strict=True):
        fields = {name: getattr(old, name).copy() for name in old.__dataclass_fields__}
        for name in fields:
            fields[name][rows] = getattr(fresh, name)
        parts.append(Point(**fields))
    return _GroupedPoint(value, gradient, finite, tuple(parts))
