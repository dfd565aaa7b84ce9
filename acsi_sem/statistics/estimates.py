"""The parameter table of a CB-SEM solution, with lavaan's columns, and R-squared."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import special

from acsi_sem.model.ram import RamModel
from acsi_sem.model.spec import ModelSpec
from acsi_sem.numerics.cbsem import CbsemSolution
from acsi_sem.statistics.defined import delta_method_se, evaluate_definitions
from acsi_sem.statistics.standardize import first_labels, label_map, row_values, standardized

PARAMETER_COLUMNS = ["lhs", "op", "rhs", "label", "est", "se", "z", "pvalue", "ci_lower",
                     "ci_upper", "std_lv", "std_all"]
_Z_975 = special.ndtri(0.975)


def parameter_table(solution: CbsemSolution, means: np.ndarray, n_obs: int, *,
                    intercept_variances: np.ndarray | None = None) -> pd.DataFrame:
    """lavaan's ``parameterEstimates(fit, standardized = TRUE)`` for an ML solution.

    Args:
        solution: the fitted model.
        means: (p,) sample means, the ML intercepts under a saturated mean structure.
        n_obs: N, for the intercepts' standard errors.
        intercept_variances: (p,) variances for the intercepts' standard errors; the
            model-implied ones by default, the sample's for the robust sandwich.
    """
    spec, ram, theta = solution.spec, solution.ram, solution.theta
    table = spec.table
    estimates = row_values(spec, theta)
    errors = _row_standard_errors(table["free"].to_numpy(), solution.vcov)
    variances = (np.diag(ram.implied_covariance(theta)) if intercept_variances is None
                 else intercept_variances)
    # Modelled means (FIML) are in theta; otherwise intercepts are the saturated means.
    intercepts = (None if ram.m_rows.size
                  else _intercepts(spec.observed, table, means, variances, n_obs))
    if intercepts is not None:
        estimates = np.where(table["op"] == "~1", intercepts[0], estimates)
        errors = np.where(table["op"] == "~1", intercepts[1], errors)
    definitions = table["op"].to_numpy() == ":="
    if definitions.any():
        estimates, errors = _add_definitions(solution, estimates, errors, definitions)
    std_lv, std_all = standardized(spec, ram, theta,
                                   None if intercepts is None else intercepts[0])
    return _estimate_frame(table, estimates, errors, std_lv, std_all)


def stacked_definition_values(spec: ModelSpec, theta: np.ndarray) -> np.ndarray:
    """The values (d,) of the ``:=`` rows of a multi-group (stacked) ``spec`` at the global
    parameters ``theta`` (Q,): each label at its first row's value, so that a definition
    may combine the ``c(...)`` labels of different groups (lavaan's)."""
    labels = first_labels(spec.table, row_values(spec, theta))
    return np.array(list(evaluate_definitions(spec, labels).values()), dtype=float)


def stacked_definition_rows(spec: ModelSpec, theta: np.ndarray, vcov: np.ndarray | None,
                            parameters: pd.DataFrame) -> pd.DataFrame:
    """The ``:=`` rows of a multi-group fit, in lavaan's columns: their estimates over every
    group's labels at the global ``theta`` (Q,), delta-method SEs from ``vcov`` (Q, Q), and
    their standardized values from the labels' own in ``parameters`` (the groups' rows)."""
    table = spec.table[spec.table["op"] == ":="]

    def values(point: np.ndarray) -> np.ndarray:
        return stacked_definition_values(spec, point)

    std_lv, std_all = (np.array(list(evaluate_definitions(spec, first_labels(
        parameters, parameters[column].to_numpy())).values()), dtype=float)
        for column in ("std_lv", "std_all"))
    return _estimate_frame(table, values(theta), delta_method_se(values, theta, vcov),
                           std_lv, std_all)


def _estimate_frame(table: pd.DataFrame, estimates: np.ndarray, errors: np.ndarray,
                    std_lv: np.ndarray, std_all: np.ndarray) -> pd.DataFrame:
    """lavaan's columns for the rows of ``table``: z, p-values and Wald intervals added."""
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(errors == 0, np.nan, estimates / errors)
    # One construction from arrays: column by column assignment costs several times more.
    columns = {name: table[name].to_numpy() for name in ("lhs", "op", "rhs", "label")}
    columns.update(est=estimates, se=errors, z=z, pvalue=2 * special.ndtr(-np.abs(z)),
                   ci_lower=estimates - _Z_975 * errors,
                   ci_upper=estimates + _Z_975 * errors, std_lv=std_lv, std_all=std_all)
    return pd.DataFrame(columns, columns=PARAMETER_COLUMNS)


def _row_standard_errors(free: np.ndarray, vcov: np.ndarray | None) -> np.ndarray:
    if vcov is None:
        return np.where(free > 0, np.nan, 0.0)
    se = np.sqrt(np.clip(np.diag(vcov), 0, None))
    return np.where(free > 0, se[np.clip(free - 1, 0, len(se) - 1)], 0.0)


def _intercepts(observed, table: pd.DataFrame, means: np.ndarray, variances: np.ndarray,
                n_obs: int) -> tuple[np.ndarray, np.ndarray] | None:
    """With saturated means the ML intercepts are the sample means, se = sqrt(var_i / N)."""
    rows = table["op"].to_numpy() == "~1"
    if not rows.any():
        return None
    position = {name: i for i, name in enumerate(observed)}
    values = np.zeros(len(table))
    errors = np.zeros(len(table))
    for row in np.flatnonzero(rows):
        name = table["lhs"].iat[row]
        if name in position:
            values[row] = means[position[name]]
            errors[row] = np.sqrt(variances[position[name]] / n_obs)
    return values, errors


def _add_definitions(solution: CbsemSolution, estimates: np.ndarray, errors: np.ndarray,
                     definitions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    spec = solution.spec
    names = spec.table.loc[definitions, "lhs"].tolist()

    def defined_values(theta: np.ndarray) -> np.ndarray:
        values = evaluate_definitions(spec, label_map(spec, row_values(spec, theta)))
        return np.array([values[name] for name in names])

    estimates, errors = estimates.copy(), errors.copy()
    estimates[definitions] = defined_values(solution.theta)
    errors[definitions] = delta_method_se(defined_values, solution.theta, solution.vcov)
    return estimates, errors


def r_squared(ram: RamModel, theta: np.ndarray) -> pd.Series:
    """R-squared (proportion of explained variance) of every variable with incoming paths;
    NaN where a negative residual variance would put it above 1 (an improper solution,
    which the result's warnings name), as lavaan's ``lavInspect(fit, "r2")`` gives NA."""
    a_matrix, s_matrix = ram.matrices(theta)
    total = np.diag(ram.full_covariance(theta))
    endogenous = np.flatnonzero(np.abs(a_matrix).sum(axis=1) > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        values = 1 - np.diag(s_matrix)[endogenous] / total[endogenous]
    values[values > 1] = np.nan
    return pd.Series(values, index=[ram.variables[i] for i in endogenous], name="r2")
