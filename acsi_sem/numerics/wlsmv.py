"""Diagonally weighted least squares for ordered items: lavaan's WLSMV.

The model reproduces the sample statistics of :mod:`acsi_sem.numerics.polychoric`: each
threshold by a free parameter, each polychoric correlation by the model-implied correlation
of the latent responses. In lavaan's default delta parameterization every latent response
has variance 1, so the residual variance of an ordered item is not a parameter but what the
model leaves unexplained, ``1 - explained``. Where that residual is fixed (a single-indicator
construct measured without error), the construct's own (residual) variance closes the gap
instead, so the construct takes the item's unit variance. A continuous item beside the
ordered ones keeps its free residual variance and gains a free intercept; the model
reproduces its mean by that intercept, its variance and its covariances too.

Estimates minimise ``F = sum_k w_k (s_k - sigma_k)^2`` with ``w = 1 / diag(Gamma)``;
standard errors are the sandwich ``E^-1 Delta' W Gamma W Delta E^-1 / (N - 1)`` with
``E = Delta' W Delta``, and the test is the mean-and-variance adjusted (scaled-shifted)
chi-square (Asparouhov & Muthén 2010).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from acsi_sem.errors import ModelSyntaxError
from acsi_sem.model.ram import RamModel, build_ram
from acsi_sem.model.spec import ModelSpec, number_free_parameters
from acsi_sem.numerics.ml import halve_until_better, minimize_ml
from acsi_sem.numerics.polychoric import OrdinalStatistics, lower_triangle


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
            item by item a threshold or a continuous item's intercept; ``None`` when the
            thresholds follow the covariance part in that order (ordered items only).
        continuous: RAM indices of the continuous items, whose variances are statistics.
    """

    spec: ModelSpec
    ram: RamModel
    closing: tuple[tuple[int, int], ...]
    derived_rows: tuple[int, ...]
    n_covariance: int
    first_order: np.ndarray | None = None
    continuous: tuple[int, ...] = ()

    def _first_order_index(self, q: int) -> np.ndarray:
        if self.first_order is None:
            return np.arange(self.n_covariance, q)
        return self.first_order

    def matrices(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(A, S)`` at ``theta`` with the derived variances filled in."""
        a_matrix, s_matrix, _ = self._matrices_and_inverse(theta)
        return a_matrix, s_matrix

    def _matrices_and_inverse(self, theta: np.ndarray
                              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(A, S, B)`` with B = (I - A)^-1, which the derived variances need anyway."""
        a_matrix, s_matrix = self.ram.matrices(theta[: self.n_covariance])
        b_matrix = self.ram.total_effects_inverse(a_matrix)
        for closing, item in self.closing:
            s_matrix[closing, closing] = 0.0
            explained = b_matrix[item] @ s_matrix @ b_matrix[item]
            s_matrix[closing, closing] = (1.0 - explained) / b_matrix[item, closing] ** 2
        return a_matrix, s_matrix, b_matrix

    def derived_values(self, theta: np.ndarray) -> np.ndarray:
        """The derived variances at ``theta``, in ``closing`` order."""
        _, s_matrix = self.matrices(theta)
        return np.array([s_matrix[c, c] for c, _ in self.closing])

    def implied(self, theta: np.ndarray) -> np.ndarray:
        """(m,) model thresholds (and the continuous items' intercepts, their means), the
        continuous items' variances, then the implied covariances below the diagonal."""
        _, s_matrix, b_matrix = self._matrices_and_inverse(theta)
        p = self.ram.n_observed
        sigma = (b_matrix @ s_matrix @ b_matrix.T)[:p, :p]
        return np.concatenate([theta[self._first_order_index(len(theta))],
                               np.diag(sigma)[list(self.continuous)], lower_triangle(sigma)])

    def jacobian(self, theta: np.ndarray, step: float = 1e-6) -> np.ndarray:
        """(m, q) d sigma / d theta: central differences for the covariance part, the
        identity for the thresholds and intercepts."""
        p, q = self.ram.n_observed, len(theta)
        m = q - self.n_covariance + len(self.continuous) + p * (p - 1) // 2
        jacobian = np.zeros((m, q))
        for index in range(self.n_covariance):
            up, down = theta.copy(), theta.copy()
            up[index] += step
            down[index] -= step
            jacobian[:, index] = (self.implied(up) - self.implied(down)) / (2 * step)
        first_order = self._first_order_index(q)
        jacobian[np.arange(len(first_order)), first_order] = 1.0
        return jacobian

    def completed_spec(self, theta: np.ndarray) -> ModelSpec:
        """The specification with the derived variances written in as fixed values."""
        table = self.spec.table.copy()
        table.loc[list(self.derived_rows), "ustart"] = self.derived_values(theta)
        return self.spec.with_table(table)


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
    ordered = [item for item in spec.observed if not continuous[item]]
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
    mixed = any(continuous.values())
    return OrdinalModel(spec=prepared, ram=ram, closing=tuple(pairs[i] for i in order),
                        derived_rows=tuple(closing_rows[i] for i in order),
                        n_covariance=ram.n_free,
                        first_order=_first_order(table, statistics) if mixed else None,
                        continuous=tuple(position[item] for item in spec.observed
                                         if continuous[item]))


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
        converged: whether Gauss-Newton converged.
        iterations: Gauss-Newton iterations used.
    """

    model: OrdinalModel
    theta: np.ndarray
    value: float
    jacobian: np.ndarray
    vcov: np.ndarray | None
    converged: bool
    iterations: int


STALLED_STEP = 1e-8   # relative step below which a Gauss-Newton run that used up its
                      # iterations has reached the minimum


def gauss_newton(value, normal_equations, theta: np.ndarray, *, max_iterations: int,
                 tolerance: float) -> tuple[np.ndarray, float, bool, int]:
    """Gauss-Newton with step halving for a weighted least-squares objective.

    Args:
        value: ``theta -> F``, the objective.
        normal_equations: ``theta -> (J' W J, J' W r)``, (q, q) and (q,), at ``theta``.
        theta: (q,) start.

    Returns:
        ``(theta, F at theta, converged, iterations used)``; converged when a step is below
        ``tolerance``, when no halved step lowers F and the last step was below 1e-6, or
        when the last step was below STALLED_STEP relative to the estimates.
    """
    current, converged, iteration, size = value(theta), False, 0, np.inf
    for iteration in range(1, max_iterations + 1):  # noqa: B007
        step = np.linalg.lstsq(*normal_equations(theta), rcond=None)[0]
        size = float(np.max(np.abs(step), initial=0.0))
        candidate = halve_until_better(value, theta, -step, current)
        if candidate is None:
            converged = size < 1e-6
            break
        theta, current = candidate, value(candidate)
        if size < tolerance:
            converged = True
            break
    # Gauss-Newton converges only linearly where the residuals are large (equal thresholds
    # across groups): steps of 1e-10 relative to the estimates are at the minimum.
    converged = converged or size < STALLED_STEP * (1 + float(np.max(np.abs(theta))))
    return theta, current, converged, iteration


def fit_dwls(model: OrdinalModel, statistics: OrdinalStatistics, *,
             max_iterations: int = 200, tolerance: float = 1e-10) -> DwlsSolution:
    """Minimise F_DWLS by Gauss-Newton with step halving, from ML on the polychorics."""
    sample, weights = statistics.vector, statistics.weights
    theta = _start_values(model, statistics)

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
    return DwlsSolution(model=model, theta=theta, value=current, jacobian=jacobian,
                        vcov=_robust_vcov(jacobian, statistics), converged=converged,
                        iterations=iteration)


def _start_values(model: OrdinalModel, statistics: OrdinalStatistics) -> np.ndarray:
    """ML on the polychoric matrix for the covariance part, the sample thresholds."""
    from acsi_sem.numerics.cbsem import simple_start_values

    table = model.spec.table
    univariate = table["op"].isin(["|", "~1"])
    base = table[~univariate].assign(free=(table["free"] > 0) | table.index.isin(
        model.derived_rows))
    base = base.assign(free=number_free_parameters(base))
    ml_spec = model.spec.with_table(base)
    ml_ram = build_ram(ml_spec)
    covariance = statistics.covariance
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
    for row in table[table["free"] > 0].itertuples():
        theta[row.free - 1] = (row.start if row.op in ("|", "~1")
                               else keyed[(row.lhs, row.op, row.rhs)])
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
    where the polychoric matrix is not positive definite or an item is continuous (as
    lavaan 0.6.14, which reports NA for both)."""
    from acsi_sem.numerics.robust import duplication_matrix

    n, polychoric = statistics.n_obs, statistics.polychoric
    if np.linalg.eigvalsh(polychoric)[0] <= 0 or df <= 0 or statistics.is_continuous.any():
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
