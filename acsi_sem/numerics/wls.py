"""Least-squares estimators of covariance and mean structures: lavaan's GLS, ULS, DWLS and
WLS for continuous answers, in one group or several.

Each minimizes ``F = (s - sigma)' W (s - sigma)`` over the moments ``s``: ``vech(S)``, and
with a mean structure the means before it (lavaan's ``WLS.obs``), against the implied
``sigma = [mu(theta); vech(Sigma(theta))]``, with lavaan's conventions for these
estimators: ``S`` divided by N - 1, the test ``(N - 1) F`` (``sum_g (N_g - 1) F_g`` over
groups) and standard errors from ``((N - G) sum_g (N_g / N) Delta_g' W_g Delta_g)^-1``
with ``Delta = d sigma / d theta`` (lavaan's ``se = "standard"``, ``information =
"expected"``, lav_model_vcov's N - G). The weights (lav_samplestats_from_data):

* GLS: ``W = (1/2) D' (S^-1 (x) S^-1) D``, normal theory (Browne 1974), and ``S^-1`` for the
  means (lav_samplestats_Gamma_inverse_NT); its standard errors are valid for normal answers;
* ULS: ``W = I``; lavaan's standard errors then assume ``W`` is the inverse of the moments'
  covariance, which it is not, so they are only a rough guide (use the bootstrap);
* WLS (ADF): ``W = Gamma^-1`` with ``Gamma`` the covariance of the respondents' answers
  (with a mean structure) and cross-products, free of any distributional assumption but
  hungry for respondents;
* DWLS: ``W = diag(Gamma)^-1``, WLS's diagonal.

Observed covariates (fixed.x) keep their moments at the sample's; their rows of ``W`` are
zero (lavaan: GLS zeroes them, and ``Gamma`` built from the residuals of the regression on
the covariates is zero there, so DWLS's and WLS's (generalized) inverses are too).
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

import numpy as np

from acsi_sem.model.groups import GroupedSpec
from acsi_sem.model.ram import RamModel, build_ram
from acsi_sem.model.spec import ModelSpec
from acsi_sem.numerics.cbsem import (
    CbsemSolution,
    fill_fixed_x,
    fit_ml,
    intercept_starts,
    invert_information,
)
from acsi_sem.numerics.constrained import (
    ConstrainedFit,
    ConstraintSystem,
    constraint_system,
    minimize_constrained,
)
from acsi_sem.numerics.ml import Discrepancy, ScoringResult, minimize_scoring
from acsi_sem.survey.prepare import PreparedData

WLS_ESTIMATORS = ("gls", "uls", "dwls", "wls")


@dataclass(frozen=True)
class MomentWeights:
    """One group's moments and the estimator's weight matrix over them.

    Attributes:
        estimator: one of :data:`WLS_ESTIMATORS`.
        sample_cov: (p, p) sample covariance with divisor N - 1.
        weight: (k, k) W over the k moments of :attr:`moments` (k = p* = p (p + 1) / 2, or
            p + p* with a mean structure), ``vech`` in row-major upper order.
        n_obs: N.
        sample_means: (p,) sample means with a mean structure, else ``None``.
        covariates: positions of the fixed.x covariates among the p items.
    """

    estimator: str
    sample_cov: np.ndarray
    weight: np.ndarray
    n_obs: int
    sample_means: np.ndarray | None = None
    covariates: tuple[int, ...] = ()

    @property
    def meanstructure(self) -> bool:
        """Whether the means are moments too."""
        return self.sample_means is not None

    @property
    def moments(self) -> np.ndarray:
        """(k,) ``[means; vech(S)]`` or ``vech(S)``."""
        if self.sample_means is None:
            return vech(self.sample_cov)
        return np.concatenate([self.sample_means, vech(self.sample_cov)])

    @property
    def multiplier(self) -> int:
        """N - 1: the test is ``(N - 1) F`` and the information ``(N - 1) Delta' W Delta``."""
        return self.n_obs - 1

    @property
    def n_fixed(self) -> int:
        """The covariates' own moments, data that the model reproduces by construction."""
        nx = len(self.covariates)
        return nx * (nx + 1) // 2 + (nx if self.meanstructure else 0)


def vech(matrix: np.ndarray) -> np.ndarray:
    """The (p*,) upper triangle of a symmetric (p, p) matrix, row by row: lavaan's
    column-wise lower triangle, element for element."""
    rows, cols = np.triu_indices(len(matrix))
    return matrix[rows, cols]


def moment_weights(estimator: str, items: np.ndarray, *, meanstructure: bool = False,
                   covariates: tuple[int, ...] = ()) -> MomentWeights:
    """The weights of ``estimator`` for the complete answers ``items`` (n, p)."""
    n = len(items)
    deviations = items - items.mean(axis=0)
    sample_cov = deviations.T @ deviations / (n - 1)
    if estimator == "gls":
        weight = normal_theory_weight(sample_cov, meanstructure=meanstructure,
                                      covariates=covariates)
    elif estimator == "uls":
        p = items.shape[1]
        weight = np.eye(p * (p + 1) // 2 + (p if meanstructure else 0))
    else:
        gamma = adf_gamma(items, meanstructure=meanstructure, covariates=covariates)
        weight = (np.diag(_inverse_or_zero(np.diag(gamma))) if estimator == "dwls"
                  else _inverse_without_zero_rows(gamma))
    return MomentWeights(estimator, sample_cov, weight, n,
                         items.mean(axis=0) if meanstructure else None, tuple(covariates))


def normal_theory_weight(sample_cov: np.ndarray, *, meanstructure: bool,
                         covariates: tuple[int, ...]) -> np.ndarray:
    """GLS's W (k, k): ``S^-1`` for the means, ``(1/2) D'(S^-1 (x) S^-1) D`` for the
    covariances, the covariates' rows and columns zero (lav_samplestats_Gamma_inverse_NT)."""
    from acsi_sem.numerics.robust import duplication_matrix

    p = len(sample_cov)
    inverse = np.linalg.inv(sample_cov)
    duplication = duplication_matrix(p)  # vec(M) = D vech(M), vech as here
    weight = 0.5 * duplication.T @ np.kron(inverse, inverse) @ duplication
    rows, cols = np.triu_indices(p)
    both = np.isin(rows, covariates) & np.isin(cols, covariates)
    weight[both, :] = 0.0
    weight[:, both] = 0.0
    if not meanstructure:
        return weight
    mean_weight = inverse.copy()
    mean_weight[list(covariates), :] = 0.0
    mean_weight[:, list(covariates)] = 0.0
    k = len(weight) + p
    full = np.zeros((k, k))
    full[:p, :p], full[p:, p:] = mean_weight, weight
    return full


def adf_gamma(items: np.ndarray, *, meanstructure: bool = False,
              covariates: tuple[int, ...] = ()) -> np.ndarray:
    """(k, k) Gamma: the covariance (divisor n) of the respondents' answers (with a mean
    structure) and the cross-products ``vech(d d')`` of their deviations from the means,
    Browne's (1984) ADF weights; with fixed.x covariates, of those moments less the same of
    the answers fitted by the covariates (lav_samplestats_Gamma), zero for the covariates'
    own moments."""
    z = _respondent_moments(items, meanstructure)
    if covariates:
        design = np.column_stack([np.ones(len(items)), items[:, list(covariates)]])
        outcomes = np.setdiff1d(np.arange(items.shape[1]), covariates)
        fitted = items.copy()
        slopes = np.linalg.lstsq(design, items[:, outcomes], rcond=None)[0]
        fitted[:, outcomes] = design @ slopes
        z = z - _respondent_moments(fitted, meanstructure)
    centred = z - z.mean(axis=0)
    return centred.T @ centred / len(items)


def cross_product_covariance(deviations: np.ndarray) -> np.ndarray:
    """(p*, p*) Gamma of the covariances alone, from the deviations (n, p) from the means."""
    return adf_gamma(deviations)


def _respondent_moments(items: np.ndarray, meanstructure: bool) -> np.ndarray:
    """(n, k) each respondent's answers (with a mean structure) and cross-products."""
    rows, cols = np.triu_indices(items.shape[1])
    deviations = items - items.mean(axis=0)
    products = deviations[:, rows] * deviations[:, cols]
    return np.hstack([items, products]) if meanstructure else products


def _inverse_or_zero(values: np.ndarray) -> np.ndarray:
    """1 / values, 0 where a value is 0 (a covariate's moment, which carries no weight)."""
    zero = values <= 1e-14 * max(values.max(), 1.0)
    return np.where(zero, 0.0, 1.0 / np.where(zero, 1.0, values))


def _inverse_without_zero_rows(gamma: np.ndarray) -> np.ndarray:
    """lav_matrix_symmetric_inverse: the inverse over the rows that are not all zero, zero
    elsewhere."""
    scale = max(np.abs(gamma).max(), 1.0)
    keep = np.flatnonzero(np.abs(gamma).max(axis=1) > 1e-14 * scale)
    inverse = np.zeros_like(gamma)
    inverse[np.ix_(keep, keep)] = np.linalg.inv(gamma[np.ix_(keep, keep)])
    return inverse


def implied_moments(ram: RamModel, theta: np.ndarray, meanstructure: bool) -> np.ndarray:
    """(k,) ``[mu; vech(Sigma)]`` or ``vech(Sigma)`` at ``theta`` (q,)."""
    sigma = vech(ram.implied_covariance(theta))
    return np.concatenate([ram.implied_mean(theta), sigma]) if meanstructure else sigma


def moment_jacobian(ram: RamModel, theta: np.ndarray, meanstructure: bool = False
                    ) -> np.ndarray:
    """(k, q) Delta = d sigma / d theta."""
    rows, cols = np.triu_indices(ram.n_observed)
    delta = ram.sigma_derivatives(theta)[:, rows, cols].T
    return np.vstack([ram.mean_derivatives(theta).T, delta]) if meanstructure else delta


def wls_discrepancy(ram: RamModel, theta: np.ndarray, weights: MomentWeights) -> Discrepancy:
    """F, its gradient (q,) and its Gauss-Newton information ``2 Delta' W Delta`` (q, q)."""
    means = weights.meanstructure
    residual = weights.moments - implied_moments(ram, theta, means)
    delta = moment_jacobian(ram, theta, means)
    weighted = weights.weight @ residual
    return Discrepancy(float(residual @ weighted), -2 * delta.T @ weighted,
                       2 * delta.T @ weights.weight @ delta)


@dataclass(frozen=True)
class LeastSquaresGroup:
    """One group of a least-squares fit: its RAM form, its weights and where its (q_g,)
    parameters sit in the whole (Q,) vector."""

    ram: RamModel
    weights: MomentWeights
    index: np.ndarray


def grouped_wls_discrepancy(groups: tuple[LeastSquaresGroup, ...], theta: np.ndarray
                            ) -> Discrepancy:
    """``sum_g (N_g - 1) / (N - G) F_g``, lavaan's weighting of the groups (its objective
    ``sum_g (N_g / N) (1/2) (N_g - 1) / N_g F_g``, rescaled), so that the test is
    ``(N - G)`` times it; with its gradient (Q,) and Gauss-Newton information (Q, Q)."""
    scale = sum(g.weights.multiplier for g in groups)
    q = len(theta)
    value, gradient, information = 0.0, np.zeros(q), np.zeros((q, q))
    for group in groups:
        part = wls_discrepancy(group.ram, theta[group.index], group.weights)
        share = group.weights.multiplier / scale
        value += share * part.value
        gradient[group.index] += share * part.gradient
        information[np.ix_(group.index, group.index)] += share * part.information
    return Discrepancy(value, gradient, information)


def standard_information(groups: tuple[LeastSquaresGroup, ...], theta: np.ndarray
                         ) -> np.ndarray:
    """(Q, Q) lavaan's unit expected information ``sum_g (N_g / N) Delta_g' W_g Delta_g``
    (lav_model_information_expected), which its standard errors divide by N - G."""
    total = sum(g.weights.n_obs for g in groups)
    information = np.zeros((len(theta), len(theta)))
    for group in groups:
        local = theta[group.index]
        delta = moment_jacobian(group.ram, local, group.weights.meanstructure)
        information[np.ix_(group.index, group.index)] += (
            group.weights.n_obs / total * delta.T @ group.weights.weight @ delta)
    return information


@dataclass(frozen=True)
class LeastSquaresFit:
    """The minimum of :func:`grouped_wls_discrepancy` and what the standard errors need."""

    scoring: ScoringResult
    information: np.ndarray
    vcov: np.ndarray | None
    constraints: ConstrainedFit | None
    equality_rank: int
    messages: tuple[str, ...]


def minimize_wls(groups: tuple[LeastSquaresGroup, ...], start: np.ndarray,
                 system: ConstraintSystem | None, *, max_iterations: int = 200
                 ) -> LeastSquaresFit:
    """Minimize the least-squares discrepancy from ``start`` (Q,) under ``system``'s
    constraints (``None``: none)."""
    scale = sum(g.weights.multiplier for g in groups)

    def admissible(theta: np.ndarray) -> float:
        """F alone (no Jacobian: the step halving calls it most), inf where not finite."""
        total = 0.0
        for g in groups:
            residual = g.weights.moments - implied_moments(g.ram, theta[g.index],
                                                           g.weights.meanstructure)
            if not np.all(np.isfinite(residual)):
                return np.inf
            total += g.weights.multiplier / scale * float(residual @ g.weights.weight
                                                          @ residual)
        return total

    functions = (lambda t: grouped_wls_discrepancy(groups, t),
                 lambda t: grouped_wls_discrepancy(groups, t).gradient, admissible)
    constrained = (None if system is None else
                   minimize_constrained(*functions, start, system,
                                        max_iterations=max_iterations))
    scoring = (minimize_scoring(*functions, start, max_iterations=max_iterations)
               if constrained is None else constrained.scoring)
    information = standard_information(groups, scoring.theta)
    basis = None if constrained is None else constrained.basis  # scale is N - G
    messages = () if scoring.converged else (
        f"the optimiser stopped with gradient {np.max(np.abs(scoring.gradient)):.2g}",)
    return LeastSquaresFit(scoring, information,
                           invert_information(information, scale, basis), constrained,
                           0 if system is None else system.equality_rank(scoring.theta),
                           messages)


def fit_wls(spec: ModelSpec, items: np.ndarray, estimator: str, start: np.ndarray, *,
            max_iterations: int = 200) -> CbsemSolution:
    """Fit ``spec`` by ``estimator`` (:data:`WLS_ESTIMATORS`) to complete answers ``items``
    (n, p, in ``spec.observed`` order) from ``start`` (q,), e.g. :func:`ml_start` (lavaan
    starts from its simple values; the minimum is the same). A model with ``~ 1`` rows
    fits the means too (every intercept a parameter, as lavaan's ``meanstructure``).

    Returns:
        A solution whose ``discrepancy`` is F and whose ``vcov`` is
        ``((N - 1) Delta' W Delta)^-1``; ``information`` holds ``Delta' W Delta``.
    """
    spec, weights = filled_weights(spec, items, estimator)
    ram = build_ram(spec, means=weights.meanstructure)
    group = LeastSquaresGroup(ram, weights, np.arange(ram.n_free))
    found = minimize_wls((group,), start, constraint_system(spec),
                         max_iterations=max_iterations)
    scoring = found.scoring
    return CbsemSolution(spec=spec, ram=ram, theta=scoring.theta, discrepancy=scoring.value,
                         vcov=found.vcov, converged=scoring.converged,
                         messages=found.messages, information=found.information,
                         constraints=found.constraints, equality_rank=found.equality_rank)


def filled_weights(spec: ModelSpec, items: np.ndarray, estimator: str
                   ) -> tuple[ModelSpec, MomentWeights]:
    """``spec`` with its covariates' moments at the sample's (fixed.x), and the weights of
    the answers ``items`` (n, p); the means are moments where ``spec`` has ``~ 1`` rows."""
    covariates = tuple(spec.observed.index(name) for name in spec.exogenous_covariates)
    weights = moment_weights(estimator, items, meanstructure=spec.has_intercepts,
                             covariates=covariates)
    return fill_fixed_x(spec, weights.sample_cov, items.mean(axis=0)), weights


def ml_start(spec: ModelSpec, data: PreparedData) -> np.ndarray:
    """(q,) start values for :func:`fit_wls`: the ML estimates, with intercepts that
    reproduce the means where ML saturated them."""
    ml = fit_ml(spec, data)
    ram = build_ram(ml.spec, means=spec.has_intercepts)
    theta = ml.theta
    if len(theta) < ram.n_free:
        covariance_ram = build_ram(ml.spec)
        covariance = theta[: covariance_ram.n_free]
        theta = np.concatenate([covariance, intercept_starts(ml.spec, covariance_ram,
                                                             covariance, data.means)])
    return theta[: ram.n_free]


def least_squares_groups(grouped: GroupedSpec, items: tuple[np.ndarray, ...], estimator: str
                         ) -> tuple[LeastSquaresGroup, ...]:
    """The groups of a multi-group least-squares fit (each with the mean structure of
    lavaan's multi-group models), each view's covariates filled from its own answers."""
    groups = []
    for view, answers in zip(grouped.views, items, strict=True):
        spec, weights = filled_weights(view.spec, answers, estimator)
        groups.append(LeastSquaresGroup(build_ram(spec, means=True), weights,
                                        np.asarray(view.global_index)))
    return tuple(groups)


def independence_discrepancy(weights: MomentWeights, free_block: tuple[int, ...] = ()) -> float:
    """F of the baseline model fitted by the same estimator: the items uncorrelated, their
    variances (and with a mean structure their means) free, the fixed.x covariates' own
    moments at the sample's and the covariances among the random covariates ``free_block``
    free (lavaan's independence model keeps the exogenous block); in closed form, since
    the moments are linear in those parameters."""
    design, offset = _independence_design(weights, free_block)
    target = weights.moments - offset
    w = weights.weight
    estimates = np.linalg.lstsq(design.T @ w @ design, design.T @ w @ target, rcond=None)[0]
    residual = target - design @ estimates
    return float(residual @ w @ residual)


def independence_df(weights: MomentWeights, free_block: tuple[int, ...] = ()) -> int:
    """Degrees of freedom of one group's baseline model: its data moments less its free
    parameters."""
    design, _ = _independence_design(weights, free_block)
    return len(weights.moments) - weights.n_fixed - design.shape[1]


def _independence_design(weights: MomentWeights, free_block: tuple[int, ...]
                         ) -> tuple[np.ndarray, np.ndarray]:
    """(k, r) the baseline's moments per free parameter and (k,) its fixed moments."""
    p = len(weights.sample_cov)
    covariates = np.asarray(weights.covariates, dtype=int)
    outcomes = np.setdiff1d(np.arange(p), covariates)
    rows, cols = np.triu_indices(p)
    start = p if weights.meanstructure else 0
    k = start + len(rows)
    offset = np.zeros(k)
    both = np.isin(rows, covariates) & np.isin(cols, covariates)
    offset[start:][both] = weights.sample_cov[rows[both], cols[both]]
    free = (rows == cols) & ~both
    free |= np.isin(rows, free_block) & np.isin(cols, free_block) & ~both
    columns = [np.eye(k)[start + i] for i in np.flatnonzero(free)]
    if weights.meanstructure:
        offset[covariates] = weights.sample_means[covariates]
        columns += [np.eye(k)[i] for i in outcomes]
    return np.column_stack(columns), offset


# lavaan's robust variants for continuous answers: the estimator, se = "robust.sem" and
# the test that scales it.
ROBUST_LEAST_SQUARES = {"ulsm": ("uls", "satorra.bentler"), "ulsmv": ("uls", "scaled.shifted"),
                        "wlsm": ("dwls", "satorra.bentler")}


def base_estimator(estimator: str) -> str:
    """The least-squares estimator under a robust variant's name (``"ulsmv"`` -> ``"uls"``)."""
    return ROBUST_LEAST_SQUARES.get(estimator, (estimator,))[0]


@dataclass(frozen=True)
class SandwichTest:
    """lavaan's robust.sem covariance and the traces that scale its test.

    Attributes:
        vcov: (Q, Q) ``E^-1 (sum_g f_g Delta_g' W_g Gamma_g W_g Delta_g) E^-1 / (N - G)``
            (lav_model_nvcov_robust_sem, f_g = N_g / N), ``None`` if E is singular.
        trace, trace_squared: ``tr(U Gamma)`` and ``tr((U Gamma)^2)`` with
            ``U = V - V Delta E^-1 Delta' V`` over all groups, ``V`` the weights times f_g
            and ``Gamma`` each group's divided by f_g
            (lav_test_satorra_bentler_trace_original).
    """

    vcov: np.ndarray | None
    trace: float
    trace_squared: float

    def scaled(self, chisq: float, df: float, test: str) -> tuple[float, float, float]:
        """``(statistic, scaling factor, shift)``: Satorra-Bentler's ``chisq / c`` with
        ``c = tr(U Gamma) / df``, or the scaled-shifted ``a chisq + b`` with
        ``a = sqrt(df / tr((U Gamma)^2))``, ``b = df - a tr(U Gamma)`` and scaling factor
        ``1 / a``, as lavaan reports them."""
        if test == "satorra.bentler":
            scaling = self.trace / df
            return chisq / scaling, scaling, 0.0
        a = np.sqrt(df / self.trace_squared)
        shift = df - a * self.trace
        return a * chisq + shift, 1 / a, shift


def sandwich_test(deltas: list[np.ndarray], weights: list[MomentWeights],
                  gammas: list[np.ndarray], basis: np.ndarray | None = None
                  ) -> SandwichTest:
    """:class:`SandwichTest` for each group's (k_g, Q) Jacobian, weights and (k_g, k_g)
    Gamma; ``basis`` (Q, Q - r) the directions the constraints leave free."""
    from scipy.linalg import block_diag

    from acsi_sem.numerics.constrained import constrained_inverse

    total = sum(w.n_obs for w in weights)
    shares = [w.n_obs / total for w in weights]
    v_all = block_diag(*[f * w.weight for f, w in zip(shares, weights, strict=True)])
    gamma_all = block_diag(*[g / f for f, g in zip(shares, gammas, strict=True)])
    delta_all = np.vstack(deltas)
    information = delta_all.T @ v_all @ delta_all
    try:
        inverse = constrained_inverse(information, basis)
    except np.linalg.LinAlgError:
        return SandwichTest(None, np.nan, np.nan)
    weighted = v_all @ delta_all
    u_matrix = v_all - weighted @ inverse @ weighted.T
    ug = u_matrix @ gamma_all
    # f_g W_g Gamma_g W_g f_g / f_g summed over groups, i.e. (V Delta)' Gamma_all (V Delta).
    meat = weighted.T @ gamma_all @ weighted
    multiplier = total - len(weights)
    return SandwichTest(inverse @ meat @ inverse / multiplier, float(np.trace(ug)),
                        float(np.sum(ug * ug.T)))


def baseline_sandwich_test(weights: list[MomentWeights], gammas: list[np.ndarray],
                           free_block: tuple[int, ...] = ()) -> SandwichTest:
    """:func:`sandwich_test` of the baseline model (:func:`independence_discrepancy`), its
    moments linear in its parameters: the Jacobian is its design, block by group."""
    from scipy.linalg import block_diag

    designs = [_independence_design(w, free_block)[0] for w in weights]
    stacked = block_diag(*designs)
    rows = np.cumsum([0] + [len(d) for d in designs])
    deltas = [stacked[start:stop] for start, stop in pairwise(rows)]
    return sandwich_test(deltas, weights, gammas)
