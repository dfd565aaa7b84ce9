"""Direct, indirect and total effects among the variables of the structural model.

With ``Beta`` the (m, m) matrix of regression paths (``~`` rows only, loadings left out),
the total effects are ``(I - Beta)^-1 - I`` and the indirect ones total minus direct
(Bollen 1987). Standard errors come from the delta method.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from acsi_sem.model.ram import RamModel
from acsi_sem.model.spec import ModelSpec
from acsi_sem.statistics.defined import delta_method_se


def regression_cells(spec: ModelSpec, ram: RamModel) -> tuple[np.ndarray, np.ndarray]:
    """Row and column indices of the ``~`` paths in the RAM matrices."""
    index = {name: i for i, name in enumerate(ram.variables)}
    regressions = spec.table[spec.table["op"] == "~"]
    return (np.array([index[name] for name in regressions["lhs"]], dtype=int),
            np.array([index[name] for name in regressions["rhs"]], dtype=int))


def effect_matrices(ram: RamModel, theta: np.ndarray, cells: tuple[np.ndarray, np.ndarray]
                    ) -> tuple[np.ndarray, np.ndarray]:
    """``(direct, total)``, each (m, m): element [i, j] is the effect of j on i.

    Args:
        cells: the regression paths' positions, from :func:`regression_cells`.
    """
    a_matrix, _ = ram.matrices(theta)
    structural = np.zeros_like(a_matrix)
    structural[cells] = a_matrix[cells]
    total = np.linalg.inv(np.eye(len(a_matrix)) - structural) - np.eye(len(a_matrix))
    return structural, total


def effects_table(spec: ModelSpec, ram: RamModel, theta: np.ndarray,
                  vcov: np.ndarray | None) -> pd.DataFrame:
    """One row per (outcome, cause) pair with a path between them.

    Columns: ``lhs`` (outcome), ``rhs`` (cause), ``direct``, ``indirect``, ``total``, their
    standard errors ``se_direct``, ``se_indirect``, ``se_total``, and ``total_std_all``
    (the total effect in standard deviations).
    """
    cells = regression_cells(spec, ram)
    _, total = effect_matrices(ram, theta, cells)
    pairs = np.argwhere(np.abs(total) > 1e-12)
    pairs = pairs[np.lexsort((pairs[:, 1], pairs[:, 0]))]

    def values(parameters: np.ndarray) -> np.ndarray:
        direct, tot = effect_matrices(ram, parameters, cells)
        picked_direct = direct[pairs[:, 0], pairs[:, 1]]
        picked_total = tot[pairs[:, 0], pairs[:, 1]]
        return np.concatenate([picked_direct, picked_total - picked_direct, picked_total])

    estimates = values(theta).reshape(3, -1)
    errors = _effect_se(values, theta, vcov, _regression_parameters(ram, cells)).reshape(3, -1)
    sd = np.sqrt(np.clip(np.diag(ram.full_covariance(theta)), 0, None))
    names = np.array(ram.variables)
    frame = pd.DataFrame({
        "lhs": names[pairs[:, 0]], "rhs": names[pairs[:, 1]],
        "direct": estimates[0], "indirect": estimates[1], "total": estimates[2],
        "se_direct": errors[0], "se_indirect": errors[1], "se_total": errors[2],
    })
    with np.errstate(divide="ignore", invalid="ignore"):
        frame["total_std_all"] = estimates[2] * sd[pairs[:, 1]] / sd[pairs[:, 0]]
    return frame


def _regression_parameters(ram: RamModel, cells: tuple[np.ndarray, np.ndarray]
                           ) -> np.ndarray:
    """The free parameters (sorted indices) sitting in the regression ``cells``."""
    size = len(ram.variables)
    in_cells = np.isin(ram.a_rows * size + ram.a_cols, cells[0] * size + cells[1])
    found = ram.a_free[in_cells]
    return np.unique(found[found >= 0])


def _effect_se(values, theta: np.ndarray, vcov: np.ndarray | None,
               parameters: np.ndarray) -> np.ndarray:
    """:func:`delta_method_se` of ``values``, differencing only the regression
    ``parameters``: the effects do not depend on the others, whose Jacobian columns are
    exactly zero."""
    if vcov is None:
        return delta_method_se(values, theta, vcov)

    def of_regressions(subset: np.ndarray) -> np.ndarray:
        full = theta.copy()
        full[parameters] = subset
        return values(full)

    return delta_method_se(of_regressions, theta[parameters],
                           vcov[np.ix_(parameters, parameters)])
