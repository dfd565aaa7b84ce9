"""The bootstrap test of exact overall fit of a PLS model (Dijkstra & Henseler 2015; cSEM's
``testOMF``; ADANCO's HI95 and HI99).

Under the null hypothesis the population indicator correlations are the model-implied ones.
The data are first rotated so that the null holds exactly in the sample (Beran & Srivastava
1985; the Bollen-Stine bootstrap): ``X* = Z S^-1/2 Sigma^1/2`` for the standardized items Z.
Each bootstrap resample of X* is estimated again and its SRMR, d_ULS and d_G computed; the
95% and 99% quantiles of those draws (HI95, HI99) are the critical values, and the p-value
is the share of draws at least as large as the sample's distance. The saturated and the
estimated model are tested each on its own rotation. Every resample of a batch is estimated
at once, as the bootstrap is.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from acsi_sem.errors import AcsiSemError
from acsi_sem.estimators.options import FitOptions
from acsi_sem.estimators.pls import checked_layout, pls_core
from acsi_sem.estimators.pls_higher_order import refuse_built_constructs
from acsi_sem.model.spec import ModelSpec
from acsi_sem.numerics.batched import weighted_correlations
from acsi_sem.numerics.pls import PlsLayout
from acsi_sem.numerics.pls_batched import estimate_pls_batched
from acsi_sem.resample import ReplicateBatch, bootstrap_batched
from acsi_sem.statistics.pls_fit import (
    DISTANCES,
    MODELS,
    composite_blocks,
    implied_construct_correlation,
    implied_indicator_correlation,
    model_distances,
)


def exact_fit_test(model: str | Path | ModelSpec,
                   data: pd.DataFrame | str | Path | None = None, *,
                   replicates: int = 499, seed: int | None = None, estimator: str = "pls",
                   scheme: str = "path", tolerance: float = 1e-7,
                   max_iterations: int = 300) -> pd.DataFrame:
    """The bootstrap test of exact fit (see the module's description).

    Args:
        model, data: as for :func:`acsi_sem.fit`.
        replicates: bootstrap resamples (cSEM's and ADANCO's default: 499).
        estimator: ``"pls"`` (every block a composite) or ``"plsc"`` (reflective blocks
            common factors).

    Returns:
        One row per model (``saturated``, ``estimated``) and distance (``srmr``, ``d_uls``,
        ``d_g``): ``value``, ``hi95``, ``hi99``, ``pvalue``, ``replicates`` (used).

    Raises:
        AcsiSemError: not a PLS estimator, interaction terms, or fewer than 19 replicates.
    """
    from acsi_sem.api import prepare

    if estimator not in ("pls", "plsc"):
        raise AcsiSemError(f"the test of exact fit is for PLS and PLSc, not {estimator!r}")
    if replicates < 19:
        raise AcsiSemError(f"the test of exact fit needs at least 19 replicates for its 95% "
                           f"quantile, not {replicates}")
    spec, prepared, _, options = prepare(model, data, estimator=estimator, scheme=scheme,
                                         tolerance=tolerance, max_iterations=max_iterations)
    refuse_built_constructs(spec, "the test of exact fit")
    layout = checked_layout(spec)
    items = prepared.frame[list(layout.indicators)].to_numpy()
    composite = composite_blocks(layout, options.estimator)
    observed = sample_distances(items, layout, options, composite)
    rows = []
    for position, name in enumerate(MODELS):
        rotated = rotated_items(items, layout, options, composite, saturated=position == 0)
        draws = _bootstrap(rotated, layout, options, composite, position, replicates, seed)
        for column, distance in enumerate(DISTANCES):
            values = draws[:, column]
            rows.append({"model": name, "distance": distance,
                         "value": observed[position, column],
                         "hi95": np.quantile(values, 0.95), "hi99": np.quantile(values, 0.99),
                         "pvalue": float((values >= observed[position, column]).mean()),
                         "replicates": len(values)})
    return pd.DataFrame(rows)


def sample_distances(items: np.ndarray, layout: PlsLayout, options: FitOptions,
                     composite: np.ndarray) -> np.ndarray:
    """(2, 3) SRMR, d_ULS, d_G of the saturated and the estimated model on items (n, p)."""
    solution = pls_core(items, layout, options).solution
    correlation = np.atleast_2d(np.corrcoef(items, rowvar=False))
    return model_distances(correlation[None], solution.loadings[None],
                           solution.construct_cor[None], solution.paths[None], layout,
                           composite)[0]


def rotated_items(items: np.ndarray, layout: PlsLayout, options: FitOptions,
                  composite: np.ndarray, *, saturated: bool) -> np.ndarray:
    """``Z S^-1/2 Sigma^1/2``: standardized items whose correlations are the implied ones."""
    solution = pls_core(items, layout, options).solution
    correlation = np.atleast_2d(np.corrcoef(items, rowvar=False))
    construct = solution.construct_cor if saturated else implied_construct_correlation(
        solution.construct_cor, solution.paths, layout.predecessors)
    implied = implied_indicator_correlation(correlation, solution.loadings, construct,
                                            layout, composite)
    standardized = (items - items.mean(axis=0)) / items.std(axis=0, ddof=1)
    return standardized @ _matrix_power(correlation, -0.5) @ _matrix_power(implied, 0.5)


def _matrix_power(matrix: np.ndarray, power: float) -> np.ndarray:
    """A symmetric positive definite matrix to a real power, by its eigen-decomposition.

    Raises:
        AcsiSemError: the matrix is not positive definite.
    """
    values, vectors = np.linalg.eigh(matrix)
    if values.min() <= 0:
        raise AcsiSemError("the sample or the model-implied indicator correlation matrix is "
                           "not positive definite; the test of exact fit is not defined")
    return (vectors * values ** power) @ vectors.T


def _bootstrap(rotated: np.ndarray, layout: PlsLayout, options: FitOptions,
               composite: np.ndarray, position: int, replicates: int,
               seed: int | None) -> np.ndarray:
    """(used, 3) the distances of the model (0 saturated, 1 estimated) in each resample."""
    def statistic(counts: np.ndarray) -> ReplicateBatch:
        moments = weighted_correlations(rotated, counts)
        correlations = moments.correlations
        solution = estimate_pls_batched(correlations, layout, scheme=options.scheme,
                                        consistent=options.estimator == "plsc",
                                        tolerance=options.tolerance,
                                        max_iterations=options.max_iterations)
        values = model_distances(correlations, solution.loadings, solution.construct_cor,
                                 solution.paths, layout, composite)[:, position]
        failed = moments.failed | ~solution.converged | ~np.isfinite(values).all(axis=1)
        return ReplicateBatch(values, failed, np.zeros(len(counts), dtype=bool))

    result = bootstrap_batched(statistic, len(rotated), replicates=replicates, seed=seed,
                               names=DISTANCES, estimate=np.zeros(len(DISTANCES)))
    return result.draws
