"""lavaan's ``standardizedSolution()``: standardized estimates with standard errors.

Each standardized value is a function of the free parameters, so its standard error comes
from the delta method, ``J V J'``, with ``J`` the central-difference Jacobian of the
standardized values and ``V`` the fit's covariance of the estimates (the sandwich under MLR,
the constrained one under ``==``), as lavaan 0.6 computes it. Defined parameters are
evaluated on the standardized values of their labels (a label's first row, as lavaan).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy import special

from acsi_sem.errors import AcsiSemError
from acsi_sem.model.groups import group_view
from acsi_sem.model.ram import build_ram
from acsi_sem.statistics.defined import definition_jacobian, evaluate_definitions
from acsi_sem.statistics.modification import free_estimates
from acsi_sem.statistics.standardize import first_labels, row_values, standardized_kind

if TYPE_CHECKING:
    from acsi_sem.results import FitResult

STANDARDIZED_COLUMNS = ["lhs", "op", "rhs", "label", "est_std", "se", "z", "pvalue",
                        "ci_lower", "ci_upper"]
KINDS = ("std_all", "std_lv", "std_nox")
_Z_975 = special.ndtri(0.975)
# lavaan sets standard errors below .Machine$double.eps^(1/4) to 0 (and their z to NA).
_ZERO_SE = np.finfo(float).eps ** 0.25


def standardized_solution(result: FitResult, kind: str = "std_all") -> pd.DataFrame:
    """One row per row of ``result.parameters``: ``lhs, op, rhs, [group,] label, est_std,
    se, z, pvalue, ci_lower, ci_upper`` (95% Wald intervals), as lavaan's
    ``standardizedSolution(fit, type = "std.all")`` (``kind="std_lv"``: ``type = "std.lv"``;
    ``kind="std_nox"``: ``type = "std.nox"``, the observed covariates left in their units).

    Raises:
        AcsiSemError: an unknown ``kind``; a PLS or ordered-item (WLSMV) fit; a fit without
            a covariance of its estimates (singular information).
    """
    if kind not in KINDS:
        raise AcsiSemError(f"unknown kind {kind!r}; choose one of {', '.join(KINDS)}")
    _check_result(result)
    vcov = estimate_covariance(result)
    # Saturated intercepts are numbered after the parameters that vcov covers.
    theta = free_estimates(result)[: len(vcov)]
    order = _row_order(result)
    standardizer = _standardizer(result, kind)

    def function(values: np.ndarray) -> np.ndarray:
        return standardizer(values)[order]
    estimates = function(theta)
    jacobian = definition_jacobian(function, theta)
    variance = np.einsum("kq,qr,kr->k", jacobian, vcov, jacobian)
    with np.errstate(invalid="ignore"):
        errors = np.where(variance < 0, np.nan, np.sqrt(np.abs(variance)))
    errors = np.where(errors < _ZERO_SE, 0.0, errors)
    errors = np.where(_saturated_intercepts(result)[order], np.nan, errors)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(errors == 0, np.nan, estimates / errors)
    keys = ["lhs", "op", "rhs", *(["group"] if result.groups is not None else []), "label"]
    frame = result.parameters[keys].reset_index(drop=True)
    return frame.assign(est_std=estimates, se=errors, z=z,
                        pvalue=2 * special.ndtr(-np.abs(z)),
                        ci_lower=estimates - _Z_975 * errors,
                        ci_upper=estimates + _Z_975 * errors)


def _row_order(result: FitResult) -> np.ndarray:
    """(rows,) the position in ``result.spec.table`` of each row of ``result.parameters``."""
    table, parameters = result.spec.table, result.parameters
    columns = ["lhs", "op", "rhs"]
    keys = list(zip(*(table[c] for c in columns), strict=True))
    wanted = list(zip(*(parameters[c] for c in columns), strict=True))
    if result.groups is not None:
        labels = ["", *result.groups["labels"]]
        keys = [(*key, labels[g]) for key, g in zip(keys, table["group"], strict=True)]
        wanted = [(*key, group) for key, group in zip(wanted, parameters["group"],
                                                      strict=True)]
    position = {key: row for row, key in enumerate(keys)}
    return np.array([position[key] for key in wanted], dtype=int)


def estimate_covariance(result: FitResult) -> np.ndarray:
    """(Q, Q) the covariance of the free estimates: of the bootstrap draws (ddof 1, as the
    bootstrap SEs) when the fit was bootstrapped, lavaan's ``vcov`` with ``se =
    "bootstrap"``; else the fit's own (information, sandwich, constrained)."""
    names = list(result.vcov.index)
    boot = result.bootstrap
    if boot is None or not set(names) <= set(boot.names) or len(boot.draws) < 2:
        return result.vcov.to_numpy()
    position = {name: i for i, name in enumerate(boot.names)}
    draws = boot.draws[:, [position[name] for name in names]]
    return np.cov(draws, rowvar=False, ddof=1)


def _check_result(result: FitResult) -> None:
    if result.estimator in ("PLS", "PLSC"):
        raise AcsiSemError("standardized_solution is lavaan's, for CB-SEM fits; a PLS fit's "
                           "estimates are standardized already (see result.parameters)")
    if result.estimator == "WLSMV":
        raise AcsiSemError("standard errors of the standardized solution are not available "
                           "with ordered items (WLSMV) yet; result.parameters has std_all")
    if result.vcov is None:
        raise AcsiSemError("the fit has no covariance of its estimates (its information "
                           "matrix is singular), so its standardized values have no "
                           "standard errors")


def _standardizer(result: FitResult, kind: str):
    """``theta (Q,) -> (rows,)``: the standardized value of each row of
    ``result.parameters``, in its order."""
    spec = result.spec
    if result.groups is None:
        ram = build_ram(spec)
        saturated = _saturated_intercepts(result)
        sample_means = result.parameters["est"].to_numpy()[np.argsort(_row_order(result))]
        location = spec.table["op"].to_numpy() == "~1"

        def single(theta: np.ndarray) -> np.ndarray:
            intercepts = np.where(saturated, sample_means, row_values(spec, theta))
            return standardized_kind(spec, ram, theta[: ram.n_free], kind,
                                     intercepts if location.any() else None)
        return single
    views = [group_view(spec, g, label)
             for g, label in enumerate(result.groups["labels"], start=1)]
    rams = [build_ram(view.spec, means=True) for view in views]
    table = spec.table
    group_rows = [np.flatnonzero(table["group"].to_numpy() == g)
                  for g in range(1, len(views) + 1)]
    definitions = table["op"].to_numpy() == ":="

    def grouped(theta: np.ndarray) -> np.ndarray:
        values = np.full(len(table), np.nan)
        for view, ram, rows in zip(views, rams, group_rows, strict=True):
            values[rows] = standardized_kind(view.own_spec, ram, theta[view.global_index],
                                             kind)
        if definitions.any():
            values[definitions] = list(evaluate_definitions(
                spec, first_labels(table, values)).values())
        return values
    return grouped


def _saturated_intercepts(result: FitResult) -> np.ndarray:
    """(rows,) of ``result.spec.table``: the single-group ``~1`` rows outside theta (the
    sample means of a saturated mean structure), whose uncertainty ``vcov`` does not hold."""
    table = result.spec.table
    free = table["free"].to_numpy()
    return ((table["op"].to_numpy() == "~1") & (free > len(result.vcov))
            if result.groups is None else np.zeros(len(table), dtype=bool))
