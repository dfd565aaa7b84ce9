"""WLSMV across groups: lavaan's multi-group DWLS for ordered items (delta parameterization).

Each group g has its own sample statistics (thresholds, polychorics, Gamma_g) and model: the
covariance part of :mod:`acsi_sem.numerics.wlsmv`, the thresholds tau, the scale factors
Delta (lavaan's ``~*~``: 1 / SD of the latent responses) and the latent means alpha. The
model reproduces

    thresholds    Delta_j (tau_jk - mu*_j),      mu* = Lambda alpha (intercepts fixed at 0)
    correlations  Delta_i Delta_j Sigma*_ij,     Sigma*_jj = 1 / Delta_j^2,

so each ordered item's residual variance is derived, ``1 / Delta_j^2 - explained``. lavaan's
defaults: Delta = 1 and alpha = 0 in every group; when the thresholds are held equal,
Delta and alpha are free in groups 2..G (alpha also when the intercepts are equal). A
continuous item has no Delta: the model reproduces its mean ``nu_j + (Lambda alpha)_j``, its
variance and its covariances, and its intercept nu_j is held equal with the thresholds (or
the intercepts), as lavaan 0.6.14 does.

Estimates minimise ``sum_g (N_g - 1) F_g``; the robust covariance is
``E^-1 B E^-1 / (N - G)`` with ``E = sum_g f_g Delta_g' W_g Delta_g``, ``B`` the same with
``W_g Gamma_g W_g`` and ``f_g = N_g / N``; the scaled-shifted test stacks the groups with
weights ``f_g W_g`` and ``Gamma_g / f_g`` (lavaan's lav_test_satorra_bentler).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cached_property

import numpy as np
import pandas as pd
from scipy.linalg import block_diag

from acsi_sem.model.spec import ModelSpec
from acsi_sem.numerics.polychoric import OrdinalStatistics
from acsi_sem.numerics.wlsmv import (
    OrdinalModel,
    ScaledShiftedTest,
    continuous_rescaling,
    fit_dwls,
    gauss_newton,
    rescaled_statistics,
    stacked_difference_jacobian,
)

# Classes lavaan's group.equal may hold equal for ordered items, and the table rows of each.
CLASS_OF_OP = {"=~": "loadings", "~": "regressions", "|": "thresholds", "~1": "intercepts"}
# lavaan 0.6.14 keeps a continuous item's intercept among the thresholds (its statistic is
# minus the mean, in the threshold vector): equal thresholds hold it equal too, and so do
# equal intercepts.
INTERCEPT_CLASSES = ("thresholds", "intercepts")


@dataclass(frozen=True)
class OrdinalGroup:
    """One group's ordinal model and where its parameters sit in the joint vector.

    Attributes:
        model: the group's covariance part, thresholds and continuous items' intercepts
            (single-group form).
        statistics: the group's thresholds, means, variances, correlations and Gamma.
        keys: (q_g,) a name per local parameter: covariance part, thresholds, intercepts
            of continuous items, scale factors (one per ordered item), latent means;
            ``(lhs, op, rhs)`` for one shared by the groups, ``(group, lhs, op, rhs)``
            otherwise.
        index: (q_g,) 0-based position of each local parameter in the joint vector, -1
            where fixed (a scale factor at 1, a latent mean at 0).
        latent: the latent variables, in the order of the latent means.
    """

    model: OrdinalModel
    statistics: OrdinalStatistics
    keys: tuple[tuple, ...]
    index: np.ndarray
    latent: tuple[str, ...]

    @cached_property
    def sizes(self) -> tuple[int, int, int]:
        """(covariance part, thresholds and intercepts, scale factors) counts."""
        continuous = self.statistics.is_continuous
        return (self.model.n_covariance,
                self.statistics.n_thresholds + int(continuous.sum()),
                int((~continuous).sum()))

    @property
    def ordered_items(self) -> tuple[str, ...]:
        """The ordered items, in the order of the scale factors."""
        return tuple(item for item, continuous in zip(self.statistics.items,
                                                      self.statistics.is_continuous,
                                                      strict=True) if not continuous)

    def defaults(self) -> np.ndarray:
        """(q_g,) zeros but the scale factors at 1 (their fixed values and starts)."""
        n_cov, n_first, n_scale = self.sizes
        values = np.zeros(len(self.index))
        values[n_cov + n_first: n_cov + n_first + n_scale] = 1.0
        return values

    def local(self, theta: np.ndarray) -> np.ndarray:
        """(q_g,) the group's parameters from the joint ``theta``, fixed ones filled in."""
        values = self.defaults()
        free = self.index >= 0
        values[free] = theta[self.index[free]]
        return values

    def scale_factors(self, values: np.ndarray) -> np.ndarray:
        """(v,) Delta of each observed variable at the local ``values``: free or fixed for
        ordered items, 1 for continuous ones and covariates (they have no latent response
        to scale)."""
        n_cov, n_first, n_scale = self.sizes
        delta = np.ones(self.model.ram.n_observed)
        ordered = self.model.item_indices[~self.statistics.is_continuous]
        delta[ordered] = values[n_cov + n_first: n_cov + n_first + n_scale]
        return delta

    def latent_means(self, values: np.ndarray) -> np.ndarray:
        """(n_latent,) the latent means at the local ``values``."""
        n_cov, n_first, n_scale = self.sizes
        return values[n_cov + n_first + n_scale:]

    def matrices(self, values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(S, B, m)`` at the local ``values``: the RAM S with the derived residual
        variances, B = (I - A)^-1 and the mean vector (latent means, the continuous items'
        intercepts, zero intercepts of ordered items)."""
        n_cov = self.model.n_covariance
        _, s_matrix, b_matrix = self.model.closed_matrices(values[:n_cov],
                                                           self.scale_factors(values))
        return s_matrix, b_matrix, self.model.mean_vector(values, self.latent_means(values))

    def implied(self, values: np.ndarray) -> np.ndarray:
        """(m_g,) implied thresholds (and continuous items' means), the continuous items'
        variances, then the covariances below the diagonal (the single-group model's, with
        the group's scale factors and latent means)."""
        return self.model.implied(values, self.scale_factors(values), self.latent_means(values))

    def implied_stack(self, stack: np.ndarray) -> np.ndarray:
        """(b, m_g) :meth:`implied` at each of b local parameter vectors (b, q_g)."""
        if self.model.covariates:  # conditional statistics: one vector at a time
            return np.array([self.implied(values) for values in stack])
        n_cov, n_first, n_scale = self.sizes
        scale = np.ones((len(stack), len(self.statistics.items)))
        scale[:, ~self.statistics.is_continuous] = stack[:, n_cov + n_first:
                                                          n_cov + n_first + n_scale]
        return self.model.implied_stack(stack, scale, stack[:, n_cov + n_first + n_scale:])

    def jacobian(self, theta: np.ndarray) -> np.ndarray:
        """(m_g, q) d implied / d theta (a shared parameter sums its local columns): central
        differences but for the thresholds."""
        values = self.local(theta)
        rows, thresholds, slopes = self.model.threshold_derivatives(self.scale_factors(values))
        free = np.setdiff1d(np.flatnonzero(self.index >= 0), thresholds)
        local = stacked_difference_jacobian(self.implied_stack, values, free)
        jacobian = np.zeros((len(self.statistics.vector), len(theta)))
        np.add.at(jacobian.T, self.index[free], local.T)
        np.add.at(jacobian, (rows, self.index[thresholds]), slopes)
        return jacobian


def ordinal_groups(models: list[OrdinalModel], statistics: list[OrdinalStatistics],
                   spec: ModelSpec, equal: tuple[str, ...]) -> tuple[OrdinalGroup, ...]:
    """Number the groups' parameters jointly, holding the classes ``equal`` equal and
    freeing what lavaan frees in groups 2..G (scale factors with equal thresholds; latent
    means with equal thresholds or intercepts)."""
    latent = tuple(spec.latent)
    free_scale = "thresholds" in equal
    free_means = bool({"thresholds", "intercepts"} & set(equal)) and "means" not in equal
    joint: dict[tuple, int] = {}
    groups = []
    for g, (model, stats) in enumerate(zip(models, statistics, strict=True), start=1):
        table = model.spec.table
        rows = table[table["free"] > 0].drop_duplicates("free").sort_values("free")
        keys = [_key(g, lhs, op, rhs, equal) for lhs, op, rhs
                in zip(rows["lhs"], rows["op"], rows["rhs"], strict=True)]
        free = [True] * len(keys)
        ordered = [item for item, continuous in zip(stats.items, stats.is_continuous,
                                                    strict=True) if not continuous]
        keys += [(g, item, "~*~", item) for item in ordered]
        free += [free_scale and g > 1] * len(ordered)
        keys += [(g, name, "~1", "") for name in latent]
        free += [free_means and g > 1] * len(latent)
        index = np.array([joint.setdefault(key, len(joint)) if is_free else -1
                          for key, is_free in zip(keys, free, strict=True)])
        groups.append(OrdinalGroup(model=model, statistics=stats, keys=tuple(keys),
                                   index=index, latent=latent))
    return tuple(groups)


def _key(group: int, lhs: str, op: str, rhs: str, equal: tuple[str, ...]) -> tuple:
    shared = (bool(set(INTERCEPT_CLASSES) & set(equal)) if op == "~1"
              else CLASS_OF_OP.get(op) in equal)
    return (lhs, op, rhs) if shared else (group, lhs, op, rhs)


@dataclass(frozen=True)
class GroupedDwls:
    """What multi-group DWLS found.

    Attributes:
        groups: the groups' models.
        theta: (q,) joint estimates.
        value: sum_g (N_g - 1) F_g at theta, the DWLS test statistic.
        jacobians: per group (m_g, q) d implied / d theta at theta.
        vcov: (q, q) robust covariance, or ``None`` if E is singular.
        information: (q, q) E = sum_g f_g Delta_g' W_g Delta_g.
        converged: whether Gauss-Newton converged to a proper latent-response solution.
        improper: whether Gauss-Newton converged but a derived variance is negative (not
            ``converged`` then; a bootstrap replicate keeps such a solution as improper).
    """

    groups: tuple[OrdinalGroup, ...]
    theta: np.ndarray
    value: float
    jacobians: tuple[np.ndarray, ...]
    vcov: np.ndarray | None
    information: np.ndarray
    converged: bool
    improper: bool = False

    @property
    def fractions(self) -> np.ndarray:
        """(G,) f_g = N_g / N."""
        sizes = np.array([g.statistics.n_obs for g in self.groups], dtype=float)
        return sizes / sizes.sum()


def fit_dwls_groups(groups: tuple[OrdinalGroup, ...], *, max_iterations: int = 200,
                    tolerance: float = 1e-10, start: np.ndarray | None = None
                    ) -> GroupedDwls:
    """Minimise sum_g (N_g - 1) F_g by Gauss-Newton with step halving, from each group's
    single-group DWLS fit (shared parameters at their mean over the groups), with the
    continuous items in every group rescaled by the same factors (their standard deviations
    averaged over the groups), as the single-group fit; the estimates, Jacobians and
    covariance are scaled back. ``start``: (q,) joint starting values in the items' units
    (a bootstrap replicate's, the full-sample estimates) instead of the groups' fits."""
    parameters, statistics, rescaled = _joint_rescaling(groups)
    solution = _fit_rescaled(rescaled, max_iterations=max_iterations, tolerance=tolerance,
                             start=None if start is None else start / parameters)
    factors = np.outer(parameters, parameters)
    return GroupedDwls(
        groups=groups, theta=parameters * solution.theta, value=solution.value,
        jacobians=tuple(j * statistics[k][:, None] / parameters[None, :]
                        for k, j in enumerate(solution.jacobians)),
        vcov=None if solution.vcov is None else solution.vcov * factors,
        information=solution.information / factors, converged=solution.converged,
        improper=solution.improper)


def _joint_rescaling(groups: tuple[OrdinalGroup, ...]
                     ) -> tuple[np.ndarray, list[np.ndarray], tuple[OrdinalGroup, ...]]:
    """(q,) each joint parameter's factor (original = factor * rescaled), per group (m_g,)
    each statistic's, and the groups with rescaled statistics."""
    sd = np.mean([g.statistics.standard_deviations for g in groups], axis=0)
    rescalings = [continuous_rescaling(g.model, sd) for g in groups]
    # Every group has the same specification and factors, so a shared parameter has one.
    factors = np.ones(1 + max(int(g.index.max()) for g in groups))
    for group, rescaling in zip(groups, rescalings, strict=True):
        _, _, n_scale = group.sizes
        local = np.concatenate([rescaling.parameters, np.ones(n_scale),
                                rescaling.variables[list(group.model.latent)]])
        free = group.index >= 0
        factors[group.index[free]] = local[free]
    rescaled = tuple(replace(g, statistics=rescaled_statistics(g.statistics, r))
                     for g, r in zip(groups, rescalings, strict=True))
    return factors, [r.statistics for r in rescalings], rescaled


def _fit_rescaled(groups: tuple[OrdinalGroup, ...], *, max_iterations: int,
                  tolerance: float, start: np.ndarray | None) -> GroupedDwls:
    theta = _start_values(groups) if start is None else np.asarray(start, dtype=float)
    factors = [(g.statistics.n_obs - 1) * g.statistics.weights for g in groups]

    def value(parameters: np.ndarray) -> float:
        return float(sum(np.sum(w * (g.statistics.vector - g.implied(g.local(parameters))) ** 2)
                         for g, w in zip(groups, factors, strict=True)))

    def normal_equations(parameters: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        normal = np.zeros((len(parameters), len(parameters)))
        gradient = np.zeros(len(parameters))
        for group, weights in zip(groups, factors, strict=True):
            jacobian = group.jacobian(parameters)
            residual = group.statistics.vector - group.implied(group.local(parameters))
            normal += (jacobian.T * weights) @ jacobian
            gradient += (jacobian.T * weights) @ residual
        return normal, gradient

    theta, current, converged, _ = gauss_newton(
        value, normal_equations, theta, max_iterations=max_iterations, tolerance=tolerance)
    improper = converged and any(_improper_latent_response(g, g.local(theta))
                                 for g in groups)
    converged = converged and not improper
    jacobians = tuple(g.jacobian(theta) for g in groups)
    solution = GroupedDwls(groups=groups, theta=theta, value=current, jacobians=jacobians,
                           vcov=None, information=np.zeros((len(theta), len(theta))),
                           converged=converged)
    information, vcov = _robust_vcov(solution)
    return GroupedDwls(groups=groups, theta=theta, value=current, jacobians=jacobians,
                       vcov=vcov, information=information, converged=converged,
                       improper=improper)


def _improper_latent_response(group: OrdinalGroup, values: np.ndarray) -> bool:
    """Whether a derived variance is negative (see the single-group fit's test)."""
    s_matrix, _, _ = group.matrices(values)
    return any(s_matrix[c, c] < 0 for c, _ in group.model.closing)


def _start_values(groups: tuple[OrdinalGroup, ...]) -> np.ndarray:
    """Each group's configural DWLS estimates; scale factors 1, latent means 0."""
    sums: dict[int, list[float]] = {}
    for group in groups:
        single = fit_dwls(group.model, group.statistics).theta
        start = group.defaults()
        start[: len(single)] = single
        for k in np.flatnonzero(group.index >= 0):
            sums.setdefault(int(group.index[k]), []).append(start[k])
    return np.array([np.mean(sums[i]) for i in range(len(sums))])


def _robust_vcov(solution: GroupedDwls) -> tuple[np.ndarray, np.ndarray | None]:
    """(E, E^-1 B E^-1 / (N - G)), or E and ``None`` where E is singular."""
    q = len(solution.theta)
    information, meat = np.zeros((q, q)), np.zeros((q, q))
    for group, jacobian, fraction in zip(solution.groups, solution.jacobians,
                                         solution.fractions, strict=True):
        weighted = jacobian.T * group.statistics.weights
        information += fraction * weighted @ jacobian
        meat += fraction * weighted @ group.statistics.gamma @ weighted.T
    if np.linalg.cond(information) > 1e12:
        return information, None
    bread = np.linalg.inv(information)
    n_total = sum(g.statistics.n_obs for g in solution.groups)
    return information, bread @ meat @ bread / (n_total - len(solution.groups))


def stacked_test(jacobians: list[np.ndarray], groups: tuple[OrdinalGroup, ...]
                 ) -> ScaledShiftedTest:
    """tr(U Gamma) and tr((U Gamma)^2) over the stacked groups, U = V - V D E^-1 D' V
    with V = diag(f_g W_g), Gamma = diag(Gamma_g / f_g) and D the stacked Jacobians."""
    sizes = np.array([g.statistics.n_obs for g in groups], dtype=float)
    fractions = sizes / sizes.sum()
    weights = np.concatenate([f * g.statistics.weights
                              for f, g in zip(fractions, groups, strict=True)])
    gamma = block_diag(*[g.statistics.gamma / f for f, g in zip(fractions, groups,
                                                                 strict=True)])
    stacked = np.vstack(jacobians)
    weighted = stacked.T * weights
    information = weighted @ stacked
    # A pseudo-inverse: where the model is not identified (the information singular, which
    # the fit's warnings name) the test still projects onto the identified directions.
    residual_maker = np.diag(weights) - weighted.T @ np.linalg.pinv(information) @ weighted
    product = residual_maker @ gamma
    return ScaledShiftedTest(trace=float(np.trace(product)),
                             trace_squared=float(np.sum(product * product.T)))


def baseline_groups(groups: tuple[OrdinalGroup, ...]) -> tuple[float, ScaledShiftedTest]:
    """The independence model in every group (free thresholds, means and variances per
    group, no correlations): its statistic and its scaled-shifted ingredients."""
    chisq, jacobians, offset = 0.0, [], 0
    total = sum(g.statistics.n_univariate for g in groups)
    for group in groups:
        stats = group.statistics
        n_free = stats.n_univariate
        chisq += (stats.n_obs - 1) * float(np.sum(stats.weights[n_free:]
                                                   * stats.vector[n_free:] ** 2))
        jacobian = np.zeros((len(stats.vector), total))
        jacobian[:n_free, offset: offset + n_free] = np.eye(n_free)
        jacobians.append(jacobian)
        offset += n_free
    return chisq, stacked_test(jacobians, groups)


def completed_table(group: OrdinalGroup, theta: np.ndarray, group_number: int
                    ) -> tuple[pd.DataFrame, np.ndarray]:
    """The group's table with the derived variances written in and its ``~1`` rows
    (intercepts at 0, latent means), free indices numbered locally; and (q_local,) the
    joint position of each local free parameter."""
    values = group.local(theta)
    s_matrix, _, _ = group.matrices(values)
    table = group.model.spec.table.copy()
    derived = [s_matrix[c, c] for c, _ in group.model.closing]
    table.loc[list(group.model.derived_rows), "ustart"] = derived
    n_cov, n_first, n_scale = group.sizes
    local_joint = group.index[table["free"].to_numpy() - 1]
    joint = np.where(table["free"].to_numpy() > 0, local_joint, -1)
    # The continuous items' intercepts are rows of the table already.
    means = [{"lhs": name, "op": "~1", "rhs": "", "user": 0, "free": 0, "ustart": 0.0,
              "exo": 0, "label": "", "start": 0.0, "line": 0}
             for name in (*group.ordered_items, *group.latent)]
    mean_joint = np.concatenate([np.full(n_scale, -1),
                                 group.index[n_cov + n_first + n_scale:]])
    mean_values = np.concatenate([np.zeros(n_scale), values[n_cov + n_first + n_scale:]])
    table = pd.concat([table.drop(columns=["id"]), pd.DataFrame(means)], ignore_index=True)
    joint = np.concatenate([joint, mean_joint])
    table.loc[len(table) - len(means):, "ustart"] = mean_values
    order = list(dict.fromkeys(int(i) for i in joint if i >= 0))
    local = {index: k + 1 for k, index in enumerate(order)}
    table["free"] = [local.get(int(i), 0) for i in joint]
    table.insert(0, "id", np.arange(1, len(table) + 1))
    table["group"] = group_number
    return table, np.array(order, dtype=int)
