"""A fast first attempt at the ML optimum, without semopy.

From lavaan's "simple" starting values: first Fisher scoring turning into Newton steps on the
analytic Hessian (:func:`acsi_sem.numerics.batched.minimize_ml_batched` with one replicate,
about 20 cheap iterations on ACSI); where that does not converge, BFGS on F_ML with the
analytic gradient (what lavaan's nlminb does with its quasi-Newton steps). Either way
:func:`minimize_ml` then confirms the gradient is below its tolerance. Where neither route
gets there within its budget the caller falls back to semopy's start, so the answer never
depends on which route found the optimum (all end at a zero gradient).
"""

from __future__ import annotations

import numpy as np

from acsi_sem.model.ram import RamModel
from acsi_sem.numerics.batched import BatchedRam, minimize_ml_batched, ml_state
from acsi_sem.numerics.ml import ScoringResult, minimize_ml

# F where Sigma is not positive definite: large, finite, so the line search backs off.
_OUTSIDE = 1e10
MAX_ITERATIONS = 150
# Below this largest gradient element an unfinished run is worth minimize_ml's Newton polish.
_NEAR = 1e-4
# Scoring from the simple starts gives up once the gradient grows this many times beyond
# its starting size (on ECSI it runs towards a boundary while F falls); BFGS takes over.
_RUNAWAY = 10.0
_SCORING_ITERATIONS = 60


def quasi_newton_fit(ram: RamModel, start: np.ndarray, sample_cov: np.ndarray, *,
                     max_iterations: int = MAX_ITERATIONS,
                     scoring_start: np.ndarray | None = None) -> ScoringResult | None:
    """The ML optimum from ``start`` (q,) for ``sample_cov`` (p, p), or ``None`` when
    neither scoring nor the quasi-Newton run (with the polish) converge, the latter within
    ``max_iterations``. ``scoring_start`` (q,), if given, is where the scoring run begins
    instead (with minimum-norm steps where its information is singular); the quasi-Newton
    run always starts from ``start``."""
    scored = _scoring_fit(ram, start if scoring_start is None else scoring_start,
                          sample_cov, minimum_norm=scoring_start is not None)
    if scored is None and scoring_start is not None:
        # Where the faster start fails, scoring from lavaan's (the route before it).
        scored = _scoring_fit(ram, start, sample_cov)
    if scored is not None:
        return scored
    from scipy.optimize import minimize  # only here: importing it costs about 0.1 s

    batched, covariance = BatchedRam.of(ram), sample_cov[None]

    def value_and_gradient(theta: np.ndarray) -> tuple[float, np.ndarray]:
        state = ml_state(batched, theta[None], covariance, with_information=False)
        if not state.finite[0] or not np.isfinite(state.gradient).all():
            return _OUTSIDE, np.zeros_like(theta)
        return float(state.value[0]), state.gradient[0]

    with np.errstate(all="ignore"):
        found = minimize(value_and_gradient, start, jac=True, method="BFGS",
                         options={"maxiter": max_iterations, "gtol": 1e-6})
        if not np.isfinite(found.fun) or found.fun >= _OUTSIDE:
            return None
        # A few plain scoring steps usually reach the tolerance; minimize_ml (with its
        # Newton steps on a numerical Hessian) only where they do not.
        scored = minimize_ml_batched(ram, found.x, covariance, max_iterations=8)
        if not scored.converged[0] and np.max(np.abs(found.jac)) > _NEAR:
            return None  # far from an optimum: semopy's start is the cheaper way on
        theta = scored.theta[0] if scored.converged[0] else found.x
        try:
            polished = minimize_ml(ram, theta, sample_cov, max_iterations=20)
        except np.linalg.LinAlgError:
            return None
    tight = np.max(np.abs(polished.gradient), initial=0.0) < 1e-9
    return polished if polished.converged and tight else None


def _scoring_fit(ram: RamModel, start: np.ndarray, sample_cov: np.ndarray, *,
                 minimum_norm: bool = False) -> ScoringResult | None:
    """Batched scoring/Newton with one replicate from ``start``, confirmed by
    :func:`minimize_ml`; ``None`` where it does not converge."""
    covariance = sample_cov[None]
    with np.errstate(all="ignore"):
        scored = minimize_ml_batched(ram, start, covariance, runaway=_RUNAWAY,
                                     max_iterations=_SCORING_ITERATIONS,
                                     minimum_norm=minimum_norm)
        if not scored.converged[0]:
            return None
        try:
            polished = minimize_ml(ram, scored.theta[0], sample_cov, max_iterations=20)
        except np.linalg.LinAlgError:
            return None
    tight = np.max(np.abs(polished.gradient), initial=0.0) < 1e-9
    return polished if polished.converged and tight else None
