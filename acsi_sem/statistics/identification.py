"""Identification checks made before estimation, each naming the part at fault.

1. Every latent variable has a scale: a fixed loading or a fixed variance.
2. The t-rule: no more free parameters than sample moments.
3. Local identification (Wald's rank rule): the Jacobian of the implied covariances with
   respect to the free parameters has full column rank at a generic parameter point; the
   null direction names the parameters that cannot be told apart.
"""

from __future__ import annotations

import weakref

import numpy as np

from acsi_sem.errors import IdentificationError
from acsi_sem.model.ram import build_ram
from acsi_sem.model.spec import ModelSpec
from acsi_sem.numerics.constrained import binding_basis, constraint_system

# The specifications that passed, by identity (held weakly: an entry goes with its spec). A
# spec does not change, so a refit of the same one (fits of one model file, power studies,
# invariance steps) need not repeat the rank rule's SVD.
_IDENTIFIED: weakref.WeakValueDictionary[int, ModelSpec] = weakref.WeakValueDictionary()


def check_identification(spec: ModelSpec) -> None:
    """Raise :class:`IdentificationError` if ``spec`` cannot have unique ML estimates."""
    if _IDENTIFIED.get(id(spec)) is spec:
        return
    check_scales(spec)
    check_t_rule(spec)
    check_local_identification(spec)
    _IDENTIFIED[id(spec)] = spec


def check_scales(spec: ModelSpec) -> None:
    """Each latent variable needs a fixed non-zero loading or a fixed variance; a label
    held at a number by a constraint (``v == 1``) counts as fixed, as in lavaan."""
    table = spec.table
    op, lhs, rhs = (table[name].to_numpy() for name in ("op", "lhs", "rhs"))
    pinned = constrained_values(spec)
    labels = table["label"].to_numpy()
    held = np.array([label in pinned for label in labels], dtype=bool)
    values = np.where(held, [pinned.get(label, np.nan) for label in labels],
                      table["ustart"].to_numpy(dtype=float))
    fixed = (table["free"].to_numpy() == 0) | held
    nonzero = values != 0
    for latent in spec.latent:
        loadings = (op == "=~") & (lhs == latent)
        variance = (op == "~~") & (lhs == latent) & (rhs == latent)
        fixed_loading = (loadings & fixed & nonzero).any()
        fixed_variance = (variance & fixed).any()
        if not (fixed_loading or fixed_variance):
            raise IdentificationError(
                f"{spec.source}: latent variable {latent} has no scale: fix one of its "
                f"loadings (e.g. {latent} =~ 1*{rhs[loadings][0]} + ...) or its "
                f"variance ({latent} ~~ 1*{latent})")


def constrained_values(spec: ModelSpec) -> dict[str, float]:
    """``{label: value}`` of the labels an equality constraint holds at a number
    (``v == 1`` or ``1 == v``)."""
    pinned = {}
    for constraint in spec.constraints:
        if constraint.op != "==":
            continue
        for label, number in ((constraint.lhs, constraint.rhs), (constraint.rhs, constraint.lhs)):
            try:
                pinned[label.strip()] = float(number)
            except ValueError:
                continue
    return pinned


def check_t_rule(spec: ModelSpec) -> None:
    """No more free parameters, less the equality constraints, than distinct variances and
    covariances."""
    p = len(spec.observed)
    moments = p * (p + 1) // 2
    q = spec.n_covariance_free - sum(c.op == "==" for c in spec.constraints)
    if q > moments:
        raise IdentificationError(
            f"{spec.source}: the model has {q} free parameters but the {p} observed "
            f"variables give only {moments} variances and covariances, so it is not "
            f"identified; fix or remove {q - moments} parameter(s)")


def check_local_identification(spec: ModelSpec, *, seed: int = 20261123) -> None:
    """Wald's rank rule at a generic parameter point."""
    # Covariates' moments are data, not parameters: give them a proper (unit variance,
    # 0.3 correlation) covariance so that they are not collinear.
    table = spec.table
    lhs, rhs = table["lhs"].to_numpy(), table["rhs"].to_numpy()
    exo = np.flatnonzero(table["exo"].to_numpy() == 1)
    ram = build_ram(spec, {row: 1.0 if lhs[row] == rhs[row] else 0.3 for row in exo})
    theta = generic_point(spec, seed)
    derivatives = ram.sigma_derivatives(theta)
    rows, cols = np.tril_indices(ram.n_observed)
    jacobian = derivatives[:, rows, cols].T
    # Equality constraints remove directions: the rank rule holds on the ones they leave.
    basis = _equality_basis(spec, theta)
    if basis is not None:
        jacobian = jacobian @ basis
    if jacobian.shape[1] == 0:
        return
    _, singular, right = np.linalg.svd(jacobian, full_matrices=False)
    if singular[-1] > 1e-8 * singular[0]:
        return
    null = right[-1] if basis is None else basis @ right[-1]
    involved = [spec.parameter_name(int(i)) for i in np.flatnonzero(np.abs(null) > 0.05)]
    raise IdentificationError(
        f"{spec.source}: the model is not identified: these parameters cannot be estimated "
        f"separately from the data: {', '.join(involved)}. Fix one of them, add indicators, "
        "or give the latent variable a path to or from another variable")


def _equality_basis(spec: ModelSpec, theta: np.ndarray) -> np.ndarray | None:
    """(q, q - r) basis of the directions the equality constraints leave free at ``theta``
    (covariance parameters), or ``None`` without equalities among them."""
    system = constraint_system(spec)
    if system is None or not system.equality.any():
        return None
    if max(system.labels.values(), default=0) >= len(theta):
        return None  # constraints on intercepts: the covariance rank rule ignores them
    return binding_basis(system, theta, system.equality)


def generic_point(spec: ModelSpec, seed: int) -> np.ndarray:
    """A random but proper parameter vector (q,): loadings and paths 0.3-1, variances
    1-2, covariances small."""
    rng = np.random.default_rng(seed)
    theta = np.zeros(spec.n_covariance_free)
    table = spec.table
    ops, indices = table["op"].to_numpy(), table["free"].to_numpy()
    rows = np.flatnonzero((indices > 0) & ~np.isin(ops, ["~1", "|"]))
    directed = np.isin(ops[rows], ["=~", "~"])
    variance = table["lhs"].to_numpy()[rows] == table["rhs"].to_numpy()[rows]
    low = np.where(directed, 0.3, np.where(variance, 1.0, 0.05))
    high = np.where(directed, 1.0, np.where(variance, 2.0, 0.15))
    # One draw per row in row order, as one call per row would give (later rows sharing a
    # label overwrite earlier ones, as before).
    theta[indices[rows] - 1] = rng.uniform(low, high)
    return theta
