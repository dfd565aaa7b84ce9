"""Identification checks made before estimation, each naming the part at fault.

1. Every latent variable has a scale: a fixed loading or a fixed variance.
2. The t-rule: no more free parameters than sample moments.
3. Local identification (Wald's rank rule): the Jacobian of the implied covariances with
   respect to the free parameters has full column rank at a generic parameter point; the
   null direction names the parameters that cannot be told apart.
"""

from __future__ import annotations

import numpy as np

from acsi_sem.errors import IdentificationError
from acsi_sem.model.ram import build_ram
from acsi_sem.model.spec import ModelSpec


def check_identification(spec: ModelSpec) -> None:
    """Raise :class:`IdentificationError` if ``spec`` cannot have unique ML estimates."""
    check_scales(spec)
    check_t_rule(spec)
    check_local_identification(spec)


def check_scales(spec: ModelSpec) -> None:
    """Each latent variable needs a fixed non-zero loading or a fixed variance."""
    table = spec.table
    op, lhs, rhs = (table[name].to_numpy() for name in ("op", "lhs", "rhs"))
    fixed = table["free"].to_numpy() == 0
    nonzero = table["ustart"].to_numpy(dtype=float) != 0
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


def check_t_rule(spec: ModelSpec) -> None:
    """No more free parameters than distinct variances and covariances."""
    p = len(spec.observed)
    moments = p * (p + 1) // 2
    q = spec.n_covariance_free
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
    exo = np.flatnonzero(table["exo"] == 1)
    ram = build_ram(spec, {row: 1.0 if table.at[row, "lhs"] == table.at[row, "rhs"] else 0.3
                           for row in exo})
    theta = generic_point(spec, seed)
    derivatives = ram.sigma_derivatives(theta)
    rows, cols = np.tril_indices(ram.n_observed)
    jacobian = derivatives[:, rows, cols].T
    if jacobian.shape[1] == 0:
        return
    _, singular, right = np.linalg.svd(jacobian, full_matrices=False)
    if singular[-1] > 1e-8 * singular[0]:
        return
    null = right[-1]
    involved = [spec.parameter_name(int(i)) for i in np.flatnonzero(np.abs(null) > 0.05)]
    raise IdentificationError(
        f"{spec.source}: the model is not identified: these parameters cannot be estimated "
        f"separately from the data: {', '.join(involved)}. Fix one of them, add indicators, "
        "or give the latent variable a path to or from another variable")


def generic_point(spec: ModelSpec, seed: int) -> np.ndarray:
    """A random but proper parameter vector (q,): loadings and paths 0.3-1, variances
    1-2, covariances small."""
    rng = np.random.default_rng(seed)
    theta = np.zeros(spec.n_covariance_free)
    table = spec.table
    ops, indices = table["op"].to_numpy(), table["free"].to_numpy()
    rows = np.flatnonzero((indices > 0) & ~np.isin(ops, ["~1", "|"]))
    for op, lhs, rhs, free in zip(ops[rows], table["lhs"].to_numpy()[rows],
                                  table["rhs"].to_numpy()[rows], indices[rows], strict=True):
        if op in ("=~", "~"):
            theta[free - 1] = rng.uniform(0.3, 1.0)
        elif lhs == rhs:
            theta[free - 1] = rng.uniform(1.0, 2.0)
        else:
            theta[free - 1] = rng.uniform(0.05, 0.15)
    return theta
