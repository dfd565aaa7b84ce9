"""Diagonally weighted least squares for ordered items: lavaan's WLSMV.

The model reproduces the sample statistics of :mod:`acsi_sem.numerics.polychoric`: each
threshold by a free parameter, each polychoric correlation by the model-implied correlation
of the latent responses. In lavaan's default delta parameterization every latent response
has variance 1, so the residual variance of an ordered item is not a parameter but what the
model leaves unexplained, ``1 - explained``. Where that residual is fixed (a single-indicator
construct measured without error), the construct's own (residual) variance closes the gap
instead, so the construct takes the item's unit variance. A continuous item beside the
ordered ones keeps its free residual variance and gains a free intercept; the model
reproduces its variance, its covariances and its mean through the mean structure,
``mu = ((I - A)^-1 m)``, so a continuous predictor's mean enters the means of what it
predicts and, for an ordered item, its implied thresholds ``tau - mu``.

With observed exogenous covariates x (lavaan's fixed.x and conditional.x) the statistics
are conditional on them (:mod:`acsi_sem.numerics.conditional`); the model reproduces the
thresholds, the slopes by the total effects of x on each latent response, and the residual
correlations by the covariances with the covariates' own (co)variances left out, so the
latent responses have unit variance given x.

Estimates minimise ``F = sum_k w_k (s_k - sigma_k)^2`` with ``w = 1 / diag(Gamma)``;
standard errors are the sandwich ``E^-1 Delta' W Gamma W Delta E^-1 / (N - 1)`` with
``E = Delta' W Delta``, and the test is the mean-and-variance adjusted (scaled-shifted)
chi-square (Asparouhov & Muthén 2010).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import cached_property

import numpy as np
import pandas as pd

from acsi_sem.errors import ModelSyntaxError
from acsi_sem.model.ram import RamModel, build_ram
from acsi_sem.model.spec import ModelSpec, number_free_parameters
from acsi_sem.numerics.ml import halve_until_better, minimize_ml
from acsi_sem.numerics.polychoric import OrdinalStatistics, lower_triangle, pair_indices


@dataclass(frozen=True)
class OrdinalModel:
    """A specification prepared for ordered items (delta parameterization).

    Attributes:
        spec: the table with threshold rows (``item | t1``, ...) and the derived variances
            marked fixed.
        ram: the RAM form of the covariance part (derived variances at 0).
        closing: (c, j) pairs of RAM variable indices: c's (residual) variance is derived so
            that item j's latent response has variance 1, in causal order.
        derived_rows: the table row of each closing variance, in ``closing`` order.
        n_covariance: number of free parameters of the covariance part (thresholds and
            the continuous items' intercepts follow).
        first_order: (k,) the parameter of each univariate statistic in lavaan's order,
            item by item a threshold or a continuous item's intercept.
        first_order_items: (k,) the RAM index of the item each of those statistics is of.
        continuous: RAM indices of the continuous items, whose variances are statistics.
        latent: RAM indices of the latent variables, in the order of ``spec.latent``.
        items: RAM indices of the items, in the statistics' order (every observed variable
            when empty).
        covariates: RAM indices of the observed exogenous covariates (lavaan's
            conditional.x): the statistics are conditional on them, so their (co)variances
            leave the implied ones out, and their paths give the implied slopes.
    """

    spec: ModelSpec
    ram: RamModel
    closing: tuple[tuple[int, int], ...]
    derived_rows: tuple[int, ...]
    n_covariance: int
    first_order: np.ndarray
    first_order_items: np.ndarray
    continuous: tuple[int, ...] = ()
    latent: tuple[int, ...] = ()
    items: tuple[int, ...] = ()
    covariates: tuple[int, ...] = ()

    @property
    def item_indices(self) -> np.ndarray:
        """RAM indices of the items, in the statistics' order."""
        return np.array(self.items if self.items else range(self.ram.n_observed), dtype=int)

    @cached_property
    def first_order_is_mean(self) -> np.ndarray:
        """(k,) whether each univariate statistic is a continuous item's mean."""
        return np.isin(self.first_order_items, self.continuous)

    def matrices(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(A, S)`` at ``theta`` with the derived variances filled in."""
        a_matrix, s_matrix, _ = self.closed_matrices(theta[: self.n_covariance])
        return a_matrix, s_matrix

    def closed_matrices(self, covariance_part: np.ndarray, scale: np.ndarray | None = None
                        ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(A, S, B)`` with B = (I - A)^-1 (which the derived variances need anyway) at
        the (n_covariance,) ``covariance_part``; ``scale``, (p,) the scale factors Delta,
        gives each ordered item's latent response the variance 1 / Delta^2 (1 without)."""
        a_matrix, s_matrix = self.ram.matrices(covariance_part)
        b_matrix = self.ram.total_effects_inverse(a_matrix)
        # Given x the covariates' own (co)variances explain nothing: the latent responses'
        # unit variances are conditional ones (lavaan's delta parameterization, conditional.x).
        covariates = list(self.covariates)
        s_matrix[covariates, :] = 0.0
        s_matrix[:, covariates] = 0.0
        for closing, item in self.closing:
            target = 1.0 if scale is None else 1.0 / scale[item] ** 2
            s_matrix[closing, closing] = 0.0
            explained = b_matrix[item] @ s_matrix @ b_matrix[item]
            s_matrix[closing, closing] = (target - explained) / b_matrix[item, closing] ** 2
        return a_matrix, s_matrix, b_matrix

    def derived_values(self, theta: np.ndarray) -> np.ndarray:
        """The derived variances at ``theta``, in ``closing`` order."""
        _, s_matrix = self.matrices(theta)
        return np.array([s_matrix[c, c] for c, _ in self.closing])

    def mean_vector(self, theta: np.ndarray, latent_means: np.ndarray | None = None
                    ) -> np.ndarray:
        """(v,) the RAM mean vector: the continuous items' intercepts, the latent means
        (0 without), zero intercepts of the ordered items."""
        means = np.zeros(len(self.ram.variables))
        is_mean = self.first_order_is_mean
        means[self.first_order_items[is_mean]] = theta[self.first_order[is_mean]]
        if latent_means is not None:
            means[list(self.latent)] = latent_means
        return means

    def implied(self, theta: np.ndarray, scale: np.ndarray | None = None,
                latent_means: np.ndarray | None = None) -> np.ndarray:
        """(m,) the model's statistics at ``theta`` (covariance part, thresholds and
        intercepts): item by item the thresholds ``Delta (tau - mu)`` or the mean ``mu`` of
        a continuous item, with mu = ((I - A)^-1 m)_j through the mean structure; with
        covariates the slopes, the total effects ``Delta ((I - A)^-1)_jx``, covariate by
        covariate; the continuous items' variances; the covariances below the diagonal
        (correlations of the latent responses, scaled by Delta; given x with covariates).
        ``scale``: (p,) Delta, 1 for continuous items (1 without); ``latent_means``:
        (n_latent,) (0 without)."""
        _, s_matrix, b_matrix = self.closed_matrices(theta[: self.n_covariance], scale)
        p = self.ram.n_observed
        delta = np.ones(p) if scale is None else scale
        sigma = (b_matrix @ s_matrix @ b_matrix.T)[:p, :p] * np.outer(delta, delta)
        mu = (b_matrix @ self.mean_vector(theta, latent_means))[:p]
        items = self.item_indices
        slopes = (b_matrix[np.ix_(items, list(self.covariates))]
                  * delta[items][:, None]).ravel(order="F")
        owner = self.first_order_items
        raw = theta[self.first_order]
        # A continuous item's statistic is its mean (its intercept is already in mu); a
        # threshold is the latent response's, less its mean, on its scale.
        first = np.where(self.first_order_is_mean, mu[owner], delta[owner] * (raw - mu[owner]))
        return np.concatenate([first, slopes, np.diag(sigma)[list(self.continuous)],
                               lower_triangle(sigma[np.ix_(items, items)])])

    def conditional_covariance(self, theta: np.ndarray) -> np.ndarray:
        """(p, p) the items' implied covariance, in the statistics' order (given the
        covariates where there are any)."""
        _, s_matrix, b_matrix = self.closed_matrices(theta[: self.n_covariance])
        items = self.item_indices
        return (b_matrix[items] @ s_matrix @ b_matrix[items].T)

    def implied_stack(self, thetas: np.ndarray, scale: np.ndarray | None = None,
                      latent_means: np.ndarray | None = None) -> np.ndarray:
        """(b, m) :meth:`implied` at each of b parameter vectors ``thetas`` (b, q), as
        stacked arrays (the differenced Jacobian's 2 q evaluations in one); ``scale``
        (b, p) and ``latent_means`` (b, n_latent) per vector, or None."""
        if self.covariates:  # conditional statistics: the slopes, given x; one at a time
            return np.array([self.implied(
                theta, None if scale is None else scale[k],
                None if latent_means is None else latent_means[k])
                for k, theta in enumerate(thetas)])
        count = len(thetas)
        _, s_matrix, b_matrix = self._closed_stack(thetas[:, : self.n_covariance], scale)
        p = self.ram.n_observed
        delta = np.ones((count, p)) if scale is None else scale
        sigma = ((b_matrix @ s_matrix @ b_matrix.transpose(0, 2, 1))[:, :p, :p]
                 * delta[:, :, None] * delta[:, None, :])
        means = np.zeros((count, len(self.ram.variables)))
        is_mean = self.first_order_is_mean
        means[:, self.first_order_items[is_mean]] = thetas[:, self.first_order[is_mean]]
        if latent_means is not None:
            means[:, list(self.latent)] = latent_means
        mu = np.einsum("bij,bj->bi", b_matrix, means)[:, :p]
        owner = self.first_order_items
        raw = thetas[:, self.first_order]
        first = np.where(is_mean, mu[:, owner], delta[:, owner] * (raw - mu[:, owner]))
        rows, columns = pair_indices(p)
        continuous = list(self.continuous)
        return np.concatenate([first, sigma[:, continuous, continuous],
                               sigma[:, rows, columns]], axis=1)

    def _closed_stack(self, parts: np.ndarray, scale: np.ndarray | None
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(b, v, v) each: :meth:`closed_matrices` at the covariance parts (b, n_cov)."""
        ram, count = self.ram, len(parts)
        size = len(ram.variables)
        a_matrix, s_matrix = np.zeros((count, size, size)), np.zeros((count, size, size))
        a_matrix[:, ram.a_rows, ram.a_cols] = _gather_stack(parts, ram.a_free, ram.a_fixed)
        s_values = _gather_stack(parts, ram.s_free, ram.s_fixed)
        s_matrix[:, ram.s_rows, ram.s_cols] = s_values
        s_matrix[:, ram.s_cols, ram.s_rows] = s_values
        b_matrix = np.linalg.inv(np.eye(size) - a_matrix)
        for closing, item in self.closing:
            target = 1.0 if scale is None else 1.0 / scale[:, item] ** 2
            s_matrix[:, closing, closing] = 0.0
            row = b_matrix[:, item]
            explained = np.einsum("bi,bij,bj->b", row, s_matrix, row)
            s_matrix[:, closing, closing] = (target - explained) / row[:, closing] ** 2
        return a_matrix, s_matrix, b_matrix

    def jacobian(self, theta: np.ndarray) -> np.ndarray:
        """(m, q) d implied / d theta: central differences but for the thresholds."""
        rows, thresholds, values = self.threshold_derivatives()
        others = np.setdiff1d(np.arange(len(theta)), thresholds)
        jacobian = np.zeros((len(self.implied(theta)), len(theta)))
        jacobian[:, others] = stacked_difference_jacobian(self.implied_stack, theta, others)
        jacobian[rows, thresholds] = values
        return jacobian

    def threshold_derivatives(self, scale: np.ndarray | None = None
                              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(t,) each threshold's statistic, (t,) its parameter and (t,) d statistic / d
        threshold, its item's scale factor (1 without ``scale``): a threshold enters only
        its own statistic, linearly, so it needs no differencing (the cost of the others)."""
        is_threshold = ~self.first_order_is_mean
        owners = self.first_order_items[is_threshold]
        values = np.ones(len(owners)) if scale is None else scale[owners]
        return np.flatnonzero(is_threshold), self.first_order[is_threshold], values

    def completed_spec(self, theta: np.ndarray) -> ModelSpec:
        """The specification with the derived variances written in as fixed values."""
        table = self.spec.table.copy()
        table.loc[list(self.derived_rows), "ustart"] = self.derived_values(theta)
        return self.spec.with_table(table)


def difference_jacobian(function: Callable[[np.ndarray], np.ndarray], values: np.ndarray,
                        columns: np.ndarray | None = None, step: float = 1e-6) -> np.ndarray:
    """(m, len(columns)) d function / d values[columns] by central differences (every
    column without ``columns``)."""
    columns = np.arange(len(values)) if columns is None else columns
    jacobian = []
    for index in columns:
        up, down = values.copy(), values.copy()
        up[index] += step
        down[index] -= step
        jacobian.append((function(up) - function(down)) / (2 * step))
    return np.column_stack(jacobian)


def stacked_difference_jacobian(function: Callable[[np.ndarray], np.ndarray],
                                values: np.ndarray, columns: np.ndarray,
                                step: float = 1e-6) -> np.ndarray:
    """(m, len(columns)) :func:`difference_jacobian` of a ``function`` that maps a stack
    of vectors (b, q) to (b, m): all 2 len(columns) evaluations in one call."""
    shifts = np.zeros((len(columns), len(values)))
    shifts[np.arange(len(columns)), columns] = step
    evaluated = function(np.concatenate([values + shifts, values - shifts]))
    return ((evaluated[: len(columns)] - evaluated[len(columns):]) / (2 * step)).T


def _gather_stack(thetas: np.ndarray, free: np.ndarray, fixed: np.ndarray) -> np.ndarray:
    """(b, k) cell values at each of b parameter vectors: free cells from ``thetas``
    (b, q), the others fixed."""
    values = np.broadcast_to(fixed, (len(thetas), len(fixed))).copy()
    mask = free >= 0
    values[:, mask] = thetas[:, free[mask]]
    return values


def ordinal_model(spec: ModelSpec, statistics: OrdinalStatistics) -> OrdinalModel:
    """Add thresholds to ``spec`` (and intercepts of the continuous items) and derive the
    variances that the unit variances of the ordered items' latent responses fix.

    Raises:
        ModelSyntaxError: a fixed residual variance of an ordered item that is not a
            single-indicator construct's, or a variance that must be derived but is fixed.
    """
    table = spec.table[spec.table["op"] != ":="].drop(columns=["id"])
    continuous = dict(zip(statistics.items, statistics.is_continuous, strict=True))
    definitions = spec.table[spec.table["op"] == ":="].drop(columns=["id"])
    table = pd.concat([table, _univariate_rows(statistics), definitions], ignore_index=True)
    ordered = [item for item in spec.observed if item in continuous and not continuous[item]]
    closing_rows = [_closing_row(table, spec, item) for item in ordered]
    table.loc[closing_rows, ["free", "ustart"]] = [0, np.nan]
    table.insert(0, "id", np.arange(1, len(table) + 1))
    table["free"] = number_free_parameters(table)
    prepared = spec.with_table(table)
    ram = build_ram(prepared)
    position = {name: i for i, name in enumerate(ram.variables)}
    pairs = [(position[table.at[row, "lhs"]], position[item])
             for row, item in zip(closing_rows, ordered, strict=True)]
    depth = _causal_depth(ram)
    order = sorted(range(len(pairs)), key=lambda i: depth[pairs[i][0]])
    owners = [position[item] for item, thresholds, is_continuous
              in zip(statistics.items, statistics.thresholds, statistics.is_continuous,
                     strict=True)
              for _ in range(1 if is_continuous else len(thresholds))]
    return OrdinalModel(spec=prepared, ram=ram, closing=tuple(pairs[i] for i in order),
                        derived_rows=tuple(closing_rows[i] for i in order),
                        n_covariance=ram.n_free, first_order=_first_order(table, statistics),
                        first_order_items=np.array(owners, dtype=int),
                        continuous=tuple(position[item] for item in spec.observed
                                         if continuous.get(item, False)),
                        latent=tuple(position[name] for name in spec.latent),
                        items=(tuple(position[item] for item in statistics.items)
                               if statistics.covariates else ()),
                        covariates=tuple(position[name] for name in statistics.covariates))


def _univariate_rows(statistics: OrdinalStatistics) -> pd.DataFrame:
    """Rows ``item | t1``, ... of the ordered items and ``item ~1`` of the continuous ones,
    starting at the sample thresholds and means."""
    def row(lhs: str, op: str, rhs: str, start: float) -> dict:
        return {"lhs": lhs, "op": op, "rhs": rhs, "user": 0, "free": 1, "ustart": np.nan,
                "exo": 0, "label": "", "start": start, "line": 0}

    rows = []
    for j, item in enumerate(statistics.items):
        if statistics.is_continuous[j]:
            rows.append(row(item, "~1", "", float(statistics.means[j])))
        else:
            rows += [row(item, "|", f"t{k}", value)
                     for k, value in enumerate(statistics.thresholds[j], start=1)]
    return pd.DataFrame(rows)


def _first_order(table: pd.DataFrame, statistics: OrdinalStatistics) -> np.ndarray:
    """(k,) 0-based parameter of each threshold or mean statistic, in lavaan's order."""
    free = {(lhs, op, rhs): index - 1 for lhs, op, rhs, index
            in zip(table["lhs"], table["op"], table["rhs"], table["free"], strict=True)
            if op in ("|", "~1")}
    keys = []
    for j, item in enumerate(statistics.items):
        if statistics.is_continuous[j]:
            keys.append((item, "~1", ""))
        else:
            keys += [(item, "|", f"t{k}") for k in range(1, len(statistics.thresholds[j]) + 1)]
    return np.array([free[key] for key in keys])


def _closing_row(table: pd.DataFrame, spec: ModelSpec, item: str) -> int:
    """The row of the variance that gives ``item``'s latent response unit variance."""
    own = table.index[(table["op"] == "~~") & (table["lhs"] == item) & (table["rhs"] == item)]
    row = own[0]
    if table.at[row, "free"]:
        return row
    single = [lv for lv, block in spec.indicators.items() if block == [item]]
    if table.at[row, "user"] == 0 and single:
        latent = single[0]
        latent_row = table.index[(table["op"] == "~~") & (table["lhs"] == latent)
                                 & (table["rhs"] == latent)][0]
        if table.at[latent_row, "free"]:
            return latent_row
    raise ModelSyntaxError(f"with ordered items the variance of {item}'s latent response is "
                           f"fixed at 1 (delta parameterization), so '{item} ~~ {item}' cannot "
                           "be fixed as well; remove that line", source=spec.source,
                           line=int(table.at[row, "line"]) or None)


def _causal_depth(ram: RamModel) -> np.ndarray:
    """(m,) length of the longest directed path into each variable."""
    size = len(ram.variables)
    parents = [ram.a_cols[ram.a_rows == i] for i in range(size)]
    depth = np.zeros(size, dtype=int)
    for _ in range(size):
        depth = np.array([max((depth[j] + 1 for j in parents[i]), default=0)
                          for i in range(size)])
    return depth


@dataclass(frozen=True)
class DwlsSolution:
    """What DWLS found.

    Attributes:
        model: the ordinal model.
        theta: (q,) estimates (covariance part, then thresholds).
        value: F_DWLS at theta.
        jacobian: (m, q) d sigma / d theta at theta.
        vcov: (q, q) robust covariance of the estimates, or ``None`` if E is singular.
        converged: whether Gauss-Newton converged to a proper latent-response solution.
        iterations: Gauss-Newton iterations used.
        improper: whether Gauss-Newton converged but a derived variance is negative (not
            ``converged`` then; the estimators report such a fit as a converged improper
            solution, and a bootstrap replicate keeps it as improper).
    """

    model: OrdinalModel
    theta: np.ndarray
    value: float
    jacobian: np.ndarray
    vcov: np.ndarray | None
    converged: bool
    iterations: int
    improper: bool = False


STALLED_STEP = 1e-8   # relative step below which a Gauss-Newton run that used up its
                      # iterations has reached the minimum
FLAT_DECREMENT = 1e-9  # predicted decrease of the objective, relative to it, below which a
                       # stalled or creeping run is at a stationary point


def gauss_newton(value, normal_equations, theta: np.ndarray, *, max_iterations: int,
                 tolerance: float) -> tuple[np.ndarray, float, bool, int]:
    """Gauss-Newton with step halving for a weighted least-squares objective.

    Args:
        value: ``theta -> F``, the objective.
        normal_equations: ``theta -> (J' W J, J' W r)``, (q, q) and (q,), at ``theta``.
        theta: (q,) start.

    Returns:
        ``(theta, F at theta, converged, iterations used)``; converged when a step is below
        ``tolerance``, or, when no halved step lowers F and the last step was below 1e-6 or
        when the last step was below STALLED_STEP relative to the estimates, the step's
        predicted decrease ``g' (J' W J)^-1 g`` is below FLAT_DECREMENT relative to F: a
        stall far from a zero gradient is no minimum.
    """
    current, converged, iteration, size, decrease = value(theta), False, 0, np.inf, np.inf
    stalled = False
    for iteration in range(1, max_iterations + 1):  # noqa: B007
        information, gradient = normal_equations(theta)
        step = np.linalg.lstsq(information, gradient, rcond=None)[0]
        size = float(np.max(np.abs(step), initial=0.0))
        decrease = float(step @ gradient)
        candidate = halve_until_better(value, theta, -step, current)
        if candidate is None:
            stalled = size < 1e-6
            break
        theta, current = candidate, value(candidate)
        if size < tolerance:
            converged = True
            break
    # Gauss-Newton converges only linearly where the residuals are large (equal thresholds
    # across groups): steps of 1e-10 relative to the estimates are at the minimum.
    stalled = stalled or size < STALLED_STEP * (1 + float(np.max(np.abs(theta))))
    if converged or (stalled and _flat(decrease, current)):
        return theta, current, True, iteration
    theta, current, converged, steps = newton_polish(value, normal_equations, theta, current)
    return theta, current, converged, iteration + steps


def _flat(decrease: float, current: float) -> bool:
    """Whether a step's predicted decrease is negligible: relative to F, with a floor for an
    exact fit (F = 0)."""
    return decrease <= FLAT_DECREMENT * current + 1e-15


def newton_polish(value, normal_equations, theta: np.ndarray, current: float, *,
                  max_iterations: int = 30) -> tuple[np.ndarray, float, bool, int]:
    """Newton steps on the full Hessian of F (differenced from the gradient ``J' W r``)
    where Gauss-Newton, which leaves out the residuals' curvature, creeps: an improper or
    badly fitting solution with large residuals. Converged as in :func:`gauss_newton`;
    not where the Hessian is not positive definite (no minimum near)."""
    for iteration in range(1, max_iterations + 1):
        gradient = normal_equations(theta)[1]
        hessian = -difference_jacobian(lambda t: normal_equations(t)[1], theta)
        hessian = (hessian + hessian.T) / 2
        if np.linalg.eigvalsh(hessian)[0] <= 0:
            return theta, current, False, iteration
        step = np.linalg.solve(hessian, gradient)
        size, decrease = float(np.max(np.abs(step))), float(step @ gradient)
        candidate = halve_until_better(value, theta, -step, current)
        if candidate is not None:
            theta, current = candidate, value(candidate)
        small = size < STALLED_STEP * (1 + float(np.max(np.abs(theta))))
        if (candidate is None or small) and _flat(decrease, current):
            return theta, current, True, iteration
        if candidate is None:
            return theta, current, False, iteration
    return theta, current, False, max_iterations


def fit_dwls(model: OrdinalModel, statistics: OrdinalStatistics, *,
             max_iterations: int = 200, tolerance: float = 1e-10,
             start: np.ndarray | None = None) -> DwlsSolution:
    """Minimise F_DWLS by Gauss-Newton with step halving, from ML on the sample
    correlations, with the continuous items rescaled to unit variance (DWLS is
    equivariant, and neither the start nor the convergence test then depends on an item's
    unit of measurement); the estimates, Jacobian and covariance are scaled back.

    Args:
        start: (q,) starting values in the items' units (a bootstrap replicate starts
            from the full-sample estimates), instead of ML on the sample correlations.
    """
    rescaling = continuous_rescaling(model, statistics.standard_deviations)
    standardized = rescaled_statistics(statistics, rescaling)
    sample, weights = standardized.vector, standardized.weights
    theta = (_start_values(model, standardized) if start is None
             else np.asarray(start, dtype=float) / rescaling.parameters)

    def value(parameters: np.ndarray) -> float:
        implied = model.implied(parameters)
        return float(np.sum(weights * (sample - implied) ** 2))

    def normal_equations(parameters: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        jacobian = model.jacobian(parameters)
        weighted = jacobian.T * weights
        return weighted @ jacobian, weighted @ (sample - model.implied(parameters))

    theta, current, converged, iteration = gauss_newton(
        value, normal_equations, theta, max_iterations=max_iterations, tolerance=tolerance)
    jacobian = model.jacobian(theta)
    vcov = _robust_vcov(jacobian, standardized)
    improper = converged and _improper_latent_response(model, theta)
    return DwlsSolution(model=model, theta=rescaling.parameters * theta, value=current,
                        jacobian=rescaling.jacobian(jacobian),
                        vcov=None if vcov is None else rescaling.covariance(vcov),
                        converged=converged and not improper, iterations=iteration,
                        improper=improper)


def _improper_latent_response(model: OrdinalModel, theta: np.ndarray) -> bool:
    """Whether a derived variance is negative: an ordered item's latent response with more
    variance explained than it can have. Gauss-Newton from poor starts ended on such
    points far from lavaan's solution (a continuous marker in large units), so
    ``converged`` leaves them out and ``improper`` marks them; the fit reports them as
    improper solutions with their Heywood warnings."""
    return bool(np.any(model.derived_values(theta) < 0))


@dataclass(frozen=True)
class Rescaling:
    """A change of units of the continuous items, and what it does to the parameters and
    statistics (original = factor * rescaled).

    Attributes:
        variables: (v,) factor of each RAM variable: a continuous item's standard
            deviation, 1 for an ordered item, a latent variable's that of its marker.
        parameters: (q,) factor of each free parameter: ``d_i / d_j`` for a path j -> i,
            ``d_i d_j`` for a (co)variance, ``d_i`` for an intercept, 1 for a threshold.
        statistics: (m,) factor of each sample statistic.
    """

    variables: np.ndarray
    parameters: np.ndarray
    statistics: np.ndarray

    def jacobian(self, rescaled: np.ndarray) -> np.ndarray:
        """(m, q) the original units' d sigma / d theta from the rescaled one."""
        return rescaled * self.statistics[:, None] / self.parameters[None, :]

    def covariance(self, rescaled: np.ndarray) -> np.ndarray:
        """(q, q) the estimates' covariance in the original units."""
        return rescaled * np.outer(self.parameters, self.parameters)


def continuous_rescaling(model: OrdinalModel, standard_deviations: np.ndarray) -> Rescaling:
    """The rescaling that gives the continuous items with (p,) ``standard_deviations``
    unit variance, item by item as far as the model stays equivariant: an item whose change
    of units would break a fixed non-zero value, equal parameters or a constraint (``b*x5``
    and ``b*x6`` with x5 continuous and x6 ordered) keeps its units."""
    observed = np.ones(model.ram.n_observed)
    parameters = _parameter_factors(model, _variable_factors(model, observed))
    item_sd = np.ones(model.ram.n_observed)
    item_sd[model.item_indices] = standard_deviations
    for item in model.continuous:
        trial = observed.copy()
        trial[item] = item_sd[item]
        found = _parameter_factors(model, _variable_factors(model, trial))
        if found is not None:
            observed, parameters = trial, found
    variables = _variable_factors(model, observed)
    return Rescaling(variables, parameters, _statistic_factors(model, observed))


def _variable_factors(model: OrdinalModel, standard_deviations: np.ndarray) -> np.ndarray:
    """(v,) the observed items' factors, each latent variable's that of the variable its
    fixed loading (or fixed path) ties it to, 1 for one without."""
    position = {name: i for i, name in enumerate(model.ram.variables)}
    p = model.ram.n_observed
    factors = np.full(len(position), np.nan)
    factors[:p] = standard_deviations
    table = model.spec.table
    fixed = table[table["op"].isin(["=~", "~"]) & (table["free"] == 0)
                  & (table["ustart"].fillna(0) != 0)]
    # A path j -> i fixed at a non-zero value keeps its value only if d_j = d_i.
    links = [(position[r.rhs], position[r.lhs]) if r.op == "~" else
             (position[r.lhs], position[r.rhs]) for r in fixed.itertuples()]
    for _ in range(len(position)):
        for a, b in links:
            if np.isnan(factors[a]) and not np.isnan(factors[b]):
                factors[a] = factors[b]
            elif np.isnan(factors[b]) and not np.isnan(factors[a]):
                factors[b] = factors[a]
    return np.where(np.isnan(factors), 1.0, factors)


def _parameter_factors(model: OrdinalModel, variables: np.ndarray) -> np.ndarray | None:
    """(q,) each free parameter's factor, ``None`` if a fixed non-zero value, two rows of
    one parameter or a constraint needs factors that differ from 1 or from each other."""
    position = {name: i for i, name in enumerate(model.ram.variables)}
    table = model.spec.table
    rows = table[table["op"].isin(["=~", "~", "~~", "~1", "|"])]
    derived = set(model.derived_rows)
    q = model.ram.n_free + len(model.first_order)
    factors = np.full(q, np.nan)
    for row in rows.itertuples():
        factor = _row_factor(row.op, variables[position[row.lhs]],
                             variables[position[row.rhs]] if row.rhs in position else 1.0)
        if row.free > 0:
            index = row.free - 1
            if not np.isnan(factors[index]) and not np.isclose(factors[index], factor):
                return None
            factors[index] = factor
        elif row.Index not in derived and row.ustart != 0 and not np.isclose(factor, 1.0):
            return None
    if model.spec.constraints and not np.allclose(factors, 1.0):
        return None
    return factors


def _row_factor(op: str, lhs: float, rhs: float) -> float:
    """The factor of one table row's value, from its variables' factors."""
    if op == "=~":
        return rhs / lhs
    if op == "~":
        return lhs / rhs
    if op == "~~":
        return lhs * rhs
    return lhs if op == "~1" else 1.0


def _statistic_factors(model: OrdinalModel, observed: np.ndarray) -> np.ndarray:
    """(m,) each statistic's factor: a mean's, a slope's, a variance's and a
    covariance's."""
    means = np.where(model.first_order_is_mean, observed[model.first_order_items], 1.0)
    items = observed[model.item_indices]
    slopes = (items[:, None] / observed[list(model.covariates)][None, :]).ravel(order="F")
    variances = observed[list(model.continuous)] ** 2
    return np.concatenate([means, slopes, variances, lower_triangle(np.outer(items, items))])


def rescaled_statistics(statistics: OrdinalStatistics, rescaling: Rescaling
                        ) -> OrdinalStatistics:
    """``statistics`` in the rescaled units: means and variances divided by the items'
    factors, and Gamma by the statistics' (correlations and thresholds unchanged)."""
    if statistics.means is None or np.all(rescaling.variables == 1.0):
        return statistics
    p = len(statistics.items)
    factors = rescaling.variables[:p]
    return replace(statistics, means=statistics.means / factors,
                   variances=statistics.variances / factors ** 2,
                   gamma=statistics.gamma / np.outer(rescaling.statistics,
                                                     rescaling.statistics))


def _start_values(model: OrdinalModel, statistics: OrdinalStatistics) -> np.ndarray:
    """ML on the sample covariances for the covariance part; thresholds and intercepts
    that reproduce the sample thresholds and means through the mean structure."""
    from acsi_sem.numerics.cbsem import simple_start_values

    table = model.spec.table
    univariate = table["op"].isin(["|", "~1"])
    base = table[~univariate].assign(free=(table["free"] > 0) | table.index.isin(
        model.derived_rows))
    base = base.assign(free=number_free_parameters(base))
    ml_spec = model.spec.with_table(base)
    ml_ram = build_ram(ml_spec)
    # With covariates ML starts from the marginal moments, in which they have variances.
    covariance = (statistics.marginal_covariance(model.ram.variables[: model.ram.n_observed])
                  if statistics.covariates else statistics.covariance)
    start = simple_start_values(ml_spec, ml_ram, covariance)
    fitted = minimize_ml(ml_ram, start, covariance)
    # ML on a polychoric matrix can wander onto a ridge (a variance of -300, loadings near
    # 0) that DWLS then cannot leave; the simple starts are safer there.
    variances = base[(base["free"] > 0) & (base["op"] == "~~") & (base["lhs"] == base["rhs"])]
    proper = fitted.converged and bool(np.all(fitted.theta[variances["free"] - 1] > 0))
    found = fitted.theta if proper else start
    theta = np.zeros(int(table["free"].max()))
    keyed = {(row.lhs, row.op, row.rhs): found[row.free - 1]
             for row in base[base["free"] > 0].itertuples()}
    for row in table[(table["free"] > 0) & ~univariate].itertuples():
        theta[row.free - 1] = keyed[(row.lhs, row.op, row.rhs)]
    return _saturated_first_order(model, theta, statistics)


def _saturated_first_order(model: OrdinalModel, theta: np.ndarray,
                           statistics: OrdinalStatistics) -> np.ndarray:
    """``theta`` with thresholds and intercepts set so that the implied thresholds and
    means equal the sample's at its covariance part: the means follow from the
    intercepts by mu = B m, so the intercepts solve B_cc nu = sample means and each
    threshold is the sample's plus its item's mu."""
    _, _, b_matrix = model.closed_matrices(theta[: model.n_covariance])
    sample = statistics.vector[: len(model.first_order)]
    is_mean, owners = model.first_order_is_mean, model.first_order_items
    continuous = owners[is_mean]
    theta = theta.copy()
    theta[model.first_order[is_mean]] = np.linalg.solve(
        b_matrix[np.ix_(continuous, continuous)], sample[is_mean])
    mu = (b_matrix @ model.mean_vector(theta))[owners]
    theta[model.first_order[~is_mean]] = sample[~is_mean] + mu[~is_mean]
    return theta


def _robust_vcov(jacobian: np.ndarray, statistics: OrdinalStatistics) -> np.ndarray | None:
    weights = statistics.weights
    information = (jacobian.T * weights) @ jacobian
    try:
        bread = np.linalg.inv(information)
    except np.linalg.LinAlgError:
        return None
    if np.linalg.cond(information) > 1e12:
        return None
    weighted = jacobian.T * weights
    meat = weighted @ statistics.gamma @ weighted.T
    return bread @ meat @ bread / (statistics.n_obs - 1)


@dataclass(frozen=True)
class ScaledShiftedTest:
    """The mean-and-variance adjusted chi-square's ingredients.

    Attributes:
        trace: tr(U Gamma).
        trace_squared: tr((U Gamma)^2).
    """

    trace: float
    trace_squared: float

    def scale_and_shift(self, df: float) -> tuple[float, float]:
        """``(a, b)``: the adjusted statistic is ``a chisq + b`` (NaN without df)."""
        if df <= 0 or self.trace_squared <= 0:
            return np.nan, np.nan
        a = np.sqrt(df / self.trace_squared)
        return a, df - a * self.trace


def scaled_shifted_test(jacobian: np.ndarray, statistics: OrdinalStatistics
                        ) -> ScaledShiftedTest:
    """tr(U Gamma) and tr((U Gamma)^2) with U = W - W Delta E^-1 Delta' W."""
    weights = statistics.weights
    weighted = jacobian.T * weights                         # Delta' W, (q, m)
    information = weighted @ jacobian
    residual_maker = np.diag(weights) - weighted.T @ np.linalg.solve(information, weighted)
    product = residual_maker @ statistics.gamma
    return ScaledShiftedTest(trace=float(np.trace(product)),
                             trace_squared=float(np.sum(product * product.T)))


@dataclass(frozen=True)
class CatmlStatistic:
    """Savalei's (2021) robust fit ingredients: the model re-evaluated as ML on the
    polychoric matrix (no re-estimation), with its scaling correction, and the same for
    the independence model.

    Attributes:
        chisq, scaling: the catML statistic and its c-hat.
        baseline_chisq, baseline_scaling: the same for the independence model.
    """

    chisq: float
    scaling: float
    baseline_chisq: float
    baseline_scaling: float


def catml_statistic(solution: DwlsSolution, statistics: OrdinalStatistics, df: float,
                    baseline_df: float) -> CatmlStatistic | None:
    """lavaan's ``lav_fit_catml_dwls`` for a single group with every item ordered; ``None``
    where the polychoric matrix is not positive definite, an item is continuous or the
    statistics are conditional on covariates (as lavaan 0.6.14, which reports NA for
    all three)."""
    from acsi_sem.numerics.robust import duplication_matrix

    n, polychoric = statistics.n_obs, statistics.polychoric
    if (np.linalg.eigvalsh(polychoric)[0] <= 0 or df <= 0 or statistics.is_continuous.any()
            or statistics.covariates):
        return None
    p = len(polychoric)
    a_matrix, s_matrix = solution.model.matrices(solution.theta)
    b_matrix = solution.model.ram.total_effects_inverse(a_matrix)
    implied = (b_matrix @ s_matrix @ b_matrix.T)[:p, :p]
    implied_inverse = np.linalg.inv(implied)
    _, logdet_implied = np.linalg.slogdet(implied)
    _, logdet_sample = np.linalg.slogdet(polychoric)
    chisq = n * (logdet_implied + np.trace(polychoric @ implied_inverse) - logdet_sample - p)
    rows, columns = np.triu_indices(p)
    duplication = duplication_matrix(p)[:, rows != columns]
    weight_ml = 0.5 * duplication.T @ np.kron(implied_inverse, implied_inverse) @ duplication
    correlations = slice(statistics.n_thresholds, None)
    weights = statistics.weights
    jacobian = solution.jacobian
    information = (jacobian.T * weights) @ jacobian
    jacobian_c = jacobian[correlations]
    projector = (np.eye(jacobian_c.shape[0]) - jacobian_c @ np.linalg.solve(
        information, jacobian_c.T * weights[correlations]))
    gamma_c = statistics.gamma[correlations, correlations]
    scaling = float(np.trace(projector.T @ weight_ml @ projector @ gamma_c)) / df
    return CatmlStatistic(chisq=float(chisq), scaling=scaling,
                          baseline_chisq=float(-n * logdet_sample),
                          baseline_scaling=float(np.trace(gamma_c)) / baseline_df)


def baseline_test(statistics: OrdinalStatistics) -> tuple[float, ScaledShiftedTest]:
    """The independence model (free thresholds, means and variances, zero correlations):
    its chi-square and the ingredients of its scaled-shifted test."""
    weights = statistics.weights
    n_free = statistics.n_univariate
    correlations = statistics.vector[n_free:]
    chisq = (statistics.n_obs - 1) * float(np.sum(weights[n_free:] * correlations ** 2))
    jacobian = np.zeros((len(weights), n_free))
    jacobian[:n_free] = np.eye(n_free)
    return chisq, scaled_shifted_test(jacobian, statistics)
