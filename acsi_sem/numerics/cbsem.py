"""Covariance-based SEM by maximum likelihood: semopy finds the optimum, lavaan's rules
finish it.

semopy (SLSQP on its Wishart ML objective) is given the sample covariance with divisor N,
so its optimum is lavaan's. A few Fisher-scoring steps on the same discrepancy then drive the
gradient to zero, which makes the estimates independent of semopy's stopping rule and checks
convergence; standard errors come from the expected information with N, as lavaan's default.
Before semopy, a quasi-Newton run of our own (:mod:`acsi_sem.numerics.quasi_newton`) is
tried; where it reaches the zero gradient, semopy is not needed (nor imported).
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import pandas as pd

from acsi_sem.model.ram import RamModel, build_ram
from acsi_sem.model.spec import ModelSpec, with_mean_structure
from acsi_sem.numerics.constrained import (
    ConstrainedFit,
    ConstraintSystem,
    constrained_inverse,
    constraint_system,
    minimize_constrained,
)
from acsi_sem.numerics.fiml import (
    REFIT_SCORING_STEPS,
    REFIT_SCORING_UNTIL,
    MissingPatterns,
    Patterns,
    fiml_expected_information,
    fiml_hessian,
    fiml_objective,
    fiml_value,
    minimize_fiml,
    minimize_from_curvature,
    positive_definite_or_identity,
)
from acsi_sem.numerics.ml import (
    REFIT_RUNAWAY,
    Discrepancy,
    ScoringResult,
    minimize_ml,
    minimize_scoring,
    ml_discrepancy,
    ml_gradient,
    ml_mean_discrepancy,
    ml_value,
)
from acsi_sem.numerics.ml_hessian import observed_hessian, observed_mean_hessian
from acsi_sem.numerics.quasi_newton import quasi_newton_fit
from acsi_sem.survey.prepare import PreparedData


@dataclass(frozen=True)
class CbsemSolution:
    """What the ML estimator found.

    Attributes:
        spec: the specification with fixed.x values filled into ``ustart``.
        ram: its RAM form.
        theta: (q,) free-parameter estimates.
        discrepancy: F_ML at ``theta``.
        vcov: (q, q) covariance of the estimates, or ``None`` if the information matrix
            could not be inverted.
        converged: whether the gradient vanished.
        messages: remarks on the optimisation (fallbacks, singular information).
        information: (q, q) unit expected (or, under FIML, observed) information.
        constraints: the fit under the model's ``==``/``<``/``>`` constraints (which bind,
            and the basis of the directions they leave free), ``None`` without constraints.
        equality_rank: the number of independent equality constraints, each one degree of
            freedom more and one parameter fewer in the information criteria.
    """

    spec: ModelSpec
    ram: RamModel
    theta: np.ndarray
    discrepancy: float
    vcov: np.ndarray | None
    converged: bool
    messages: tuple[str, ...]
    information: np.ndarray
    constraints: ConstrainedFit | None = None
    equality_rank: int = 0

    @property
    def basis(self) -> np.ndarray | None:
        """(q, q - r) directions the binding constraints leave free, or ``None``."""
        return None if self.constraints is None else self.constraints.basis


def fit_ml(spec: ModelSpec, data: PreparedData) -> CbsemSolution:
    """Fit ``spec`` to ``data`` by normal-theory maximum likelihood."""
    spec = fill_fixed_x(spec, data.covariance, data.means)
    ram = build_ram(spec)
    start = simple_start_values(spec, ram, data.covariance)
    if spec.has_modelled_means:
        return _fit_ml_means(spec, ram, data, start)
    system = constraint_system(spec)
    if system is not None:
        return _fit_ml_constrained(spec, ram, data, start, system)
    messages: list[str] = []
    # Our own quasi-Newton run first (fast, no semopy import); semopy's start if it fails.
    scoring = quasi_newton_fit(ram, start, data.covariance,
                               scoring_start=marker_scaled_starts(spec, start,
                                                                  data.covariance))
    if scoring is None:
        try:
            with captured_log_lines() as lines:
                start = semopy_estimates(spec, data, fallback=start)
            messages += [f"semopy, which gave the start values, reported: {line}"
                         for line in dict.fromkeys(lines)]
        except Exception as error:  # semopy fails in many ways; our own optimiser carries on
            messages.append(f"semopy did not finish ({type(error).__name__}: {error}); "
                            "acsi-sem's Fisher scoring started from default values instead")
        scoring = minimize_ml(ram, start, data.covariance)
    if not scoring.converged:
        worst = int(np.argmax(np.abs(scoring.gradient)))
        messages.append(f"the optimiser stopped with gradient {scoring.gradient[worst]:.2g} "
                        f"on parameter {spec.parameter_name(worst)}")

    information = (scoring.information if scoring.information is not None else
                   ml_discrepancy(ram, scoring.theta, data.covariance).information) / 2
    vcov = invert_information(information, data.n_obs)
    return CbsemSolution(spec=spec, ram=ram, theta=scoring.theta, discrepancy=scoring.value,
                         vcov=vcov, converged=scoring.converged, messages=tuple(messages),
                         information=information)


def _fit_ml_means(spec: ModelSpec, covariance_ram: RamModel, data: PreparedData,
                  start: np.ndarray) -> CbsemSolution:
    """ML with a modelled mean structure (free latent means, fixed or constrained
    intercepts: growth models), ``F + (ybar - mu)' Sigma^-1 (ybar - mu)``, from the
    covariance structure's own ML fit and intercepts that reproduce the means."""
    ram = build_ram(spec, means=True)
    covariance_start = minimize_ml(covariance_ram, start, data.covariance).theta
    if not np.all(np.isfinite(covariance_start)):
        covariance_start = start
    theta = np.concatenate([covariance_start, intercept_starts(spec, covariance_ram,
                                                               covariance_start,
                                                               data.means)])
    functions = mean_structure_functions(ram, data.covariance, data.means)
    hessian = mean_structure_hessian(ram, data.covariance, data.means)
    system = constraint_system(spec)
    if system is not None:
        found = minimize_constrained(*functions, theta, system, hessian=hessian)
        information = functions[0](found.scoring.theta).information / 2
        return _constrained_solution(spec, ram, found, system, information, data.n_obs)
    scoring = minimize_scoring(*functions, theta, hessian=hessian)
    if not scoring.converged:
        # From the covariance fit's start the descent can stall by a worse, improper point
        # (hs_equal_intercepts.lav, weighted: chi-square 845.1 where lavaan's simple starts
        # reach 829.6): descend from those too. Only failed fits pay for the second run.
        simple = np.concatenate([start, intercept_starts(spec, covariance_ram, start,
                                                         data.means)])
        other = minimize_scoring(*functions, simple, hessian=hessian)
        if other.converged:
            scoring = other
    messages = []
    if not scoring.converged:
        worst = int(np.argmax(np.abs(scoring.gradient)))
        messages.append(f"the optimiser stopped with gradient {scoring.gradient[worst]:.2g} "
                        f"on parameter {spec.parameter_name(worst)}")
    information = scoring.information / 2
    return CbsemSolution(spec=spec, ram=ram, theta=scoring.theta, discrepancy=scoring.value,
                         vcov=invert_information(information, data.n_obs),
                         converged=scoring.converged, messages=tuple(messages),
                         information=information)


def mean_structure_functions(ram: RamModel, sample_cov: np.ndarray, sample_means: np.ndarray
                             ) -> tuple:
    """``(evaluate, gradient, value)`` of the mean-structure ML discrepancy, for
    :func:`~acsi_sem.numerics.ml.minimize_scoring` and the constrained minimizer."""
    def evaluate(t: np.ndarray, with_information: bool = True) -> Discrepancy:
        return ml_mean_discrepancy(ram, t, sample_cov, sample_means,
                                   with_information=with_information)

    return (evaluate, lambda t: evaluate(t, False).gradient,
            lambda t: evaluate(t, False).value)


def mean_structure_hessian(ram: RamModel, sample_cov: np.ndarray, sample_means: np.ndarray):
    """The analytic Hessian (q, q) of the mean-structure discrepancy, as a function of
    theta (q,), for the Newton steps of the minimizers."""
    return lambda t: observed_mean_hessian(ram, t, sample_cov, sample_means)


def _fit_ml_constrained(spec: ModelSpec, ram: RamModel, data: PreparedData, start: np.ndarray,
                        system: ConstraintSystem) -> CbsemSolution:
    """ML under the model's constraints, from the unconstrained ML fit where that converges
    (as FIML's constrained fit starts), else from lavaan's simple start values: from the
    simple values a shared label and an '==' together (a*x2 + a*x3, b == c on the HS CFA)
    ran off to a Heywood case with chi-square 0."""
    unconstrained = minimize_ml(ram, start, data.covariance)
    if unconstrained.converged and np.all(np.isfinite(unconstrained.theta)):
        start = unconstrained.theta
    found = minimize_constrained_ml(ram, start, data.covariance, system)
    information = ml_discrepancy(ram, found.scoring.theta, data.covariance).information / 2
    return _constrained_solution(spec, ram, found, system, information, data.n_obs)


def _constrained_solution(spec: ModelSpec, ram: RamModel, found: ConstrainedFit,
                          system: ConstraintSystem, information: np.ndarray, n_obs: int
                          ) -> CbsemSolution:
    scoring = found.scoring
    messages = [] if scoring.converged else [constraint_message(system, found)]
    return CbsemSolution(spec=spec, ram=ram, theta=scoring.theta, discrepancy=scoring.value,
                         vcov=invert_information(information, n_obs, found.basis),
                         converged=scoring.converged, messages=tuple(messages),
                         information=information, constraints=found,
                         equality_rank=system.equality_rank(scoring.theta))


def minimize_constrained_ml(ram: RamModel, theta: np.ndarray, sample_cov: np.ndarray,
                            system: ConstraintSystem, *, max_iterations: int = 200
                            ) -> ConstrainedFit:
    """F_ML minimised from ``theta`` (q,) under ``system``'s constraints."""
    return minimize_constrained(
        lambda t: ml_discrepancy(ram, t, sample_cov), lambda t: ml_gradient(ram, t, sample_cov),
        lambda t: ml_value(ram.implied_covariance(t), sample_cov), theta, system,
        max_iterations=max_iterations, hessian=lambda t: observed_hessian(ram, t, sample_cov))


def constraint_message(system: ConstraintSystem, found: ConstrainedFit) -> str:
    """Why a constrained fit did not converge: the constraint furthest from holding and the
    largest gradient along the directions the constraints leave free."""
    slack = system.slack(found.scoring.theta)
    miss = np.where(found.active, np.abs(slack), np.clip(-slack, 0, None))
    worst = int(np.argmax(miss))
    reduced = np.max(np.abs(found.basis.T @ found.scoring.gradient), initial=0)
    return (f"the optimiser stopped {miss[worst]:.2g} from meeting '{system.constraints[worst]}'"
            f" with gradient {reduced:.2g} along the constraints")


def fit_fiml(spec: ModelSpec, data: PreparedData) -> CbsemSolution:
    """Fit ``spec`` by full-information ML to data with missing answers (NaN in the frame).

    The model gets a mean structure: free observed intercepts, latent means fixed at 0.
    Starting values come from an ML fit to the EM estimate of the covariance matrix;
    standard errors from the observed information (the Hessian), lavaan's default here.
    """
    # The covariates' answers are complete (prepare_data), so their EM moments are their
    # sample moments, at which lavaan's fixed.x holds them.
    spec = fill_fixed_x(with_mean_structure(spec), data.covariance, data.means)
    patterns = data.missing_patterns
    covariance_ram, ram = build_ram(spec), build_ram(spec, means=True)
    system = constraint_system(spec)
    start = _em_start(covariance_ram, simple_start_values(spec, covariance_ram, data.covariance),
                      data.covariance, system)
    theta = np.concatenate([start, intercept_starts(spec, covariance_ram, start, data.means)])
    if system is not None:
        return _fit_fiml_constrained(spec, ram, patterns, theta, system)
    found = minimize_fiml(ram, patterns, theta)
    messages = []
    if not found.converged:
        worst = int(np.argmax(np.abs(found.gradient)))
        messages.append(f"the optimiser stopped with gradient {found.gradient[worst]:.2g} on "
                        f"parameter {spec.parameter_name(worst)}")
    information = fiml_hessian(ram, patterns, found.theta)
    vcov = invert_information(information, patterns.n_obs)
    return CbsemSolution(spec=spec, ram=ram, theta=found.theta, discrepancy=found.value,
                         vcov=vcov, converged=found.converged, messages=tuple(messages),
                         information=information)


def _em_start(ram: RamModel, simple: np.ndarray, covariance: np.ndarray,
              system: ConstraintSystem | None) -> np.ndarray:
    """FIML's starting covariance parameters (q,): the complete-data ML fit to the EM
    covariance by the single fit's own route (under the constraints where they concern
    covariance parameters only), where it converges; lavaan's simple values ``simple``
    otherwise. A diverged start (the ACSI on 8% missing answers: F N = -4e11) once led
    FIML to a Heywood case with chi-square 1233 where lavaan's is 58.7."""
    fitted = quasi_newton_fit(ram, simple, covariance) or minimize_ml(ram, simple, covariance)
    start = fitted.theta if fitted.converged and np.isfinite(fitted.theta).all() else simple
    if system is None or max(system.labels.values(), default=0) >= ram.n_free:
        return start
    constrained = minimize_constrained_ml(ram, start, covariance, system).scoring
    usable = constrained.converged and np.isfinite(constrained.theta).all()
    return constrained.theta if usable else start


def _fit_fiml_constrained(spec: ModelSpec, ram: RamModel, patterns: MissingPatterns,
                          theta: np.ndarray, system: ConstraintSystem) -> CbsemSolution:
    """FIML under the model's constraints: Newton steps on the observed information."""
    found = minimize_constrained_fiml(ram, patterns, theta, system)
    return _constrained_solution(spec, ram, found, system,
                                 fiml_hessian(ram, patterns, found.scoring.theta),
                                 patterns.n_obs)


def minimize_constrained_fiml(ram: RamModel, patterns: MissingPatterns, theta: np.ndarray,
                              system: ConstraintSystem, *, max_iterations: int = 200
                              ) -> ConstrainedFit:
    """The FIML objective minimised from ``theta`` (q,) under ``system``'s constraints:
    Fisher scoring on the expected information, Newton steps on the observed one near the
    minimum where it is positive definite (as the multi-group fit does; Newton steps on an
    indefinite observed information can point uphill and stop short)."""

    def evaluate(t: np.ndarray) -> Discrepancy:
        value, gradient = fiml_objective(ram, patterns, t)
        return Discrepancy(value, gradient, fiml_expected_information(ram, patterns, t)
                           if np.isfinite(value) else None)

    return minimize_constrained(evaluate, lambda t: fiml_objective(ram, patterns, t)[1],
                                lambda t: fiml_objective(ram, patterns, t)[0], theta, system,
                                max_iterations=max_iterations,
                                hessian=lambda t: fiml_hessian(ram, patterns, t))


def refit_fiml(ram: RamModel, patterns: Patterns, theta: np.ndarray,
               system: ConstraintSystem | None) -> tuple[np.ndarray, bool]:
    """The FIML estimates (q,) of one resample's answer ``patterns`` (e.g. a
    :class:`~acsi_sem.numerics.fiml.PatternResampler`'s) from the full-sample ``theta``,
    and whether they converged."""
    if system is None:
        return _warm_fiml_refit(ram, patterns, theta)
    scoring = minimize_constrained_fiml(ram, patterns, theta, system, max_iterations=50).scoring
    return scoring.theta, scoring.converged


def _warm_fiml_refit(ram: RamModel, patterns: MissingPatterns, theta: np.ndarray
                     ) -> tuple[np.ndarray, bool]:
    """A replicate's FIML minimum from the full-sample ``theta`` (q,) as the multi-group
    refit finds it: a few Fisher scoring steps, then BFGS from the expected information
    there (one gradient a step); the full fit's steps, whose Newton steps difference a
    Hessian each, only where that does not converge."""

    def evaluate(t: np.ndarray) -> Discrepancy:
        value, gradient = fiml_objective(ram, patterns, t)
        return Discrepancy(value, gradient, fiml_expected_information(ram, patterns, t)
                           if np.isfinite(value) else None)

    scored = minimize_scoring(evaluate, lambda t: fiml_objective(ram, patterns, t)[1],
                              lambda t: fiml_value(ram, patterns, t), theta,
                              tolerance=REFIT_SCORING_UNTIL, max_iterations=REFIT_SCORING_STEPS)
    curvature = positive_definite_or_identity(scored.information, len(theta))
    found = minimize_from_curvature(lambda t: fiml_objective(ram, patterns, t), scored.theta,
                                    curvature)
    if found.converged:
        return found.theta, True
    refitted = minimize_fiml(ram, patterns, theta)
    return refitted.theta, refitted.converged


def intercept_starts(spec: ModelSpec, ram: RamModel, theta: np.ndarray,
                     means: np.ndarray) -> np.ndarray:
    """Intercepts and latent means that reproduce ``means`` (p,) as closely as they can
    (least squares) given the paths at the covariance estimates ``theta``: the implied
    means ``B[:p] m`` are linear in the mean vector ``m``."""
    a_matrix, _ = ram.matrices(theta)
    effects = ram.total_effects_inverse(a_matrix)[: ram.n_observed]
    position = {name: i for i, name in enumerate(ram.variables)}
    rows = spec.table[spec.table["op"] == "~1"]
    fixed = np.zeros(len(ram.variables))
    columns: dict[int, list[int]] = {}
    for name, free, value in zip(rows["lhs"], rows["free"], rows["ustart"], strict=True):
        if name not in position:
            continue
        if free > 0:
            columns.setdefault(free - 1 - spec.n_covariance_free, []).append(position[name])
        elif np.isfinite(value):
            fixed[position[name]] = value
    starts = np.zeros(spec.n_free - spec.n_covariance_free)
    if not columns:
        return starts
    order = sorted(columns)
    design = np.column_stack([effects[:, columns[k]].sum(axis=1) for k in order])
    solution = np.linalg.lstsq(design, means - effects @ fixed, rcond=None)[0]
    starts[order] = solution
    return starts


def fill_fixed_x(spec: ModelSpec, sample_cov: np.ndarray, means: np.ndarray | None = None
                 ) -> ModelSpec:
    """Fix the exogenous covariates' (co)variances, and with a mean structure their means,
    at their sample values (lavaan fixed.x).

    Args:
        sample_cov: (p, p) sample covariance in ``spec.observed`` order.
        means: (p,) sample means, for the covariates' intercept rows.
    """
    table = spec.table
    exo = np.flatnonzero(table["exo"].to_numpy() == 1)
    if not len(exo):
        return spec
    table = table.copy()
    position = {name: i for i, name in enumerate(spec.observed)}
    for row in exo:
        i = position[table.at[row, "lhs"]]
        if table.at[row, "op"] == "~1":
            table.at[row, "ustart"] = np.nan if means is None else means[i]
        else:
            table.at[row, "ustart"] = sample_cov[i, position[table.at[row, "rhs"]]]
    return spec.with_table(table)


def simple_start_values(spec: ModelSpec, ram: RamModel, sample_cov: np.ndarray) -> np.ndarray:
    """lavaan's "simple" starts: loadings 1, paths 0, residual variances half the sample's,
    latent variances 0.05; user ``start()`` values win."""
    table = spec.table
    theta = np.zeros(ram.n_free)
    variance = dict(zip(spec.observed, np.diag(sample_cov), strict=True))
    free_rows = table["free"].to_numpy()
    ops = table["op"].to_numpy()
    # Last row first, so that the first row of a shared label sets its start.
    rows = np.flatnonzero((free_rows > 0) & (ops != "~1"))[::-1]
    columns = (free_rows, table["start"].to_numpy(dtype=float), ops, table["lhs"].to_numpy(),
               table["rhs"].to_numpy())
    for free, start, op, lhs, rhs in zip(*(column[rows] for column in columns), strict=True):
        index = free - 1
        if not np.isnan(start):
            theta[index] = start
        elif op == "=~":
            theta[index] = 1.0
        elif op == "~~" and lhs == rhs:
            theta[index] = 0.5 * variance[lhs] if lhs in variance else 0.05
    return theta


def marker_scaled_starts(spec: ModelSpec, start: np.ndarray, sample_cov: np.ndarray
                         ) -> np.ndarray:
    """``start`` (q,) with each free latent (residual) variance that has no ``start()`` of
    its own set to half its marker's sample variance over the marker loading squared, so
    that with the residual variances at half the sample's the markers' implied variances
    are the sample's. lavaan's 0.05 leaves the implied variances at about half the sample's
    and Fisher scoring then wanders far (43 evaluations on ACSI, 11 from these); a latent
    variable whose marker is latent keeps 0.05."""
    table = spec.table
    op, lhs, rhs = (table[name].to_numpy() for name in ("op", "lhs", "rhs"))
    free, fixed = table["free"].to_numpy(), table["ustart"].to_numpy(dtype=float)
    user_start = table["start"].to_numpy(dtype=float)
    variance = dict(zip(spec.observed, np.diag(sample_cov), strict=True))
    theta = start.copy()
    marker = {}  # each latent variable's first fixed non-zero loading on an observed item
    for row in np.flatnonzero((op == "=~") & (free == 0) & (fixed != 0)):
        if rhs[row] in variance:
            marker.setdefault(lhs[row], row)
    for row in np.flatnonzero((op == "~~") & (lhs == rhs) & (free > 0) & np.isnan(user_start)):
        if lhs[row] in marker:
            item = marker[lhs[row]]
            theta[free[row] - 1] = 0.5 * variance[rhs[item]] / fixed[item] ** 2
    return theta


def semopy_description(spec: ModelSpec) -> str:
    """The specification in semopy's syntax, every parameter written out."""
    lines = []
    for _, row in spec.table[spec.table["op"].isin(["=~", "~", "~~"])].iterrows():
        if row["free"] == 0:
            modifier = f"{row['ustart']!r}*"
        elif row["label"]:
            modifier = f"{row['label']}*"
        else:
            modifier = ""
        lines.append(f"{row['lhs']} {row['op']} {modifier}{row['rhs']}")
    return "\n".join(lines)


@contextmanager
def captured_log_lines(level: int = logging.WARNING) -> Iterator[list[str]]:
    """Collect what libraries log (semopy writes to the root logger) instead of letting it
    reach the terminal: the lines go into the result's messages in their place."""
    lines: list[str] = []

    class Collector(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(record.getMessage())

    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    root.handlers = [Collector(level)]
    root.setLevel(min(saved_level, level) if saved_level else level)
    try:
        yield lines
    finally:
        root.handlers, root.level = saved_handlers, saved_level


def semopy_estimates(spec: ModelSpec, data: PreparedData, *, fallback: np.ndarray) -> np.ndarray:
    """Free-parameter estimates (q,) from semopy; ``fallback`` where semopy has none."""
    import semopy

    names = list(spec.observed)
    covariance = pd.DataFrame(data.covariance, index=names, columns=names)
    model = semopy.Model(semopy_description(spec))
    logging.getLogger("semopy").setLevel(logging.ERROR)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(cov=covariance, n_samples=data.n_obs, obj="MLW")
        table = model.inspect(what="est")
    estimates = {}
    for lval, op, rval, value in zip(table["lval"], table["op"], table["rval"],
                                     table["Estimate"], strict=True):
        estimates[(lval, op, rval)] = float(value)
        if op == "~~":
            estimates[(rval, op, lval)] = float(value)
    theta = fallback.copy()
    covariance_rows = spec.table[(spec.table["free"] > 0) & (spec.table["op"] != "~1")]
    for _, row in covariance_rows.iterrows():
        key = ((row["rhs"], "~", row["lhs"]) if row["op"] == "=~"
               else (row["lhs"], row["op"], row["rhs"]))
        if key in estimates and np.isfinite(estimates[key]):
            theta[row["free"] - 1] = estimates[key]
    return theta


def invert_information(information: np.ndarray, n_obs: int,
                       basis: np.ndarray | None = None) -> np.ndarray | None:
    """(q, q) covariance of the estimates, the inverse of N times the (q, q) unit
    information, as lavaan; under constraints the inverse on the directions ``basis``
    (q, q - r) leaves free (:func:`~acsi_sem.numerics.constrained.constrained_inverse`).
    ``None`` where the information is (nearly) singular there."""
    reduced = information if basis is None else basis.T @ information @ basis
    try:
        eigenvalues = np.linalg.eigvalsh(reduced)
    except np.linalg.LinAlgError:
        return None
    if eigenvalues.min() <= 1e-10 * max(eigenvalues.max(), 1.0):
        return None
    return constrained_inverse(information * n_obs, basis)


def refit_moments(ram: RamModel, theta: np.ndarray, covariance: np.ndarray,
                  means: np.ndarray, system: ConstraintSystem | None) -> ScoringResult:
    """The ML estimates of one resample from the full-sample ``theta``: the covariance
    structure alone, or with the means where ``ram`` places them, under the constraints."""
    if ram.m_rows.size:
        functions = mean_structure_functions(ram, covariance, means)
        hessian = mean_structure_hessian(ram, covariance, means)
        if system is None:
            return minimize_scoring(*functions, theta, max_iterations=50, hessian=hessian)
        return minimize_constrained(*functions, theta, system, max_iterations=50,
                                    hessian=hessian).scoring
    if system is None:
        return minimize_ml(ram, theta, covariance, max_iterations=50, runaway=REFIT_RUNAWAY)
    return minimize_constrained_ml(ram, theta, covariance, system, max_iterations=50).scoring
