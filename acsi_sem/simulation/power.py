"""Monte Carlo power and sample-size planning for CB-SEM (maximum likelihood).

For each sample size n, R surveys are drawn from a normal population
(:class:`acsi_sem.simulation.simulate.Population`) and the analysis model is fitted to each by
ML with expected-information standard errors (lavaan's defaults, as :func:`acsi_sem.fit`). Per free
parameter and n the study reports

* ``power``: the share of converged replications whose Wald test rejects ``parameter = 0``
  at level ``alpha`` (two-sided);
* ``bias`` and ``rmse`` of the estimate against the population value;
* ``coverage``: the share whose Wald interval at ``level`` holds the population value.

The population value of each parameter is the analysis model's ML estimate on the
population covariance itself (an exact fit when the model is the population's): it is the
value in the analysis model's own parameterization (marker loadings fixed at 1), whatever
the population model's scaling.

Replications are fitted in batches (:mod:`acsi_sem.numerics.batched`), the batches of
every sample size run in parallel on local cores (joblib) or on a Dask distributed cluster
(``scheduler``). Every batch has its own seed, spawned from the study's seed, so the
results do not depend on where or in which order the batches run.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.special import ndtri

from acsi_sem.errors import AcsiSemError
from acsi_sem.json_output import json_text
from acsi_sem.model.ram import RamModel, build_ram
from acsi_sem.model.spec import ModelSpec
from acsi_sem.numerics.batched import BatchedRam, minimize_ml_batched, ml_state
from acsi_sem.numerics.ml import minimize_ml
from acsi_sem.parallel import run_batches
from acsi_sem.report.json_document import finite_or_none
from acsi_sem.simulation.simulate import Population

# Replications per parallel task: large enough for the batched fit to pay off.
BATCH_SIZE = 50
COLUMNS = ("parameter", "n", "population", "mean_estimate", "bias", "rmse", "mean_se",
           "sd_estimate", "power", "coverage", "converged")


@dataclass(frozen=True)
class PowerStudy:
    """Results of a Monte Carlo power study.

    Attributes:
        table: one row per (parameter, n) with the columns of :data:`COLUMNS`: population
            value, mean estimate, bias, RMSE, mean standard error, SD of the estimates,
            power, coverage and the number of converged replications.
        sizes: the sample sizes studied.
        replications: replications per sample size.
        seed, alpha, level: the study's seed, test level and interval level.
        population: where the population values come from.
        model: the analysis model's name.
    """

    table: pd.DataFrame
    sizes: tuple[int, ...]
    replications: int
    seed: int | None
    alpha: float
    level: float
    population: str
    model: str

    def to_dict(self) -> dict:
        """JSON-ready document: settings, then ``parameters -> {n -> statistics}``."""
        parameters: dict[str, dict[str, dict[str, float | int | None]]] = {}
        for row in self.table.itertuples(index=False):
            values = row._asdict()
            name, n = values.pop("parameter"), values.pop("n")
            parameters.setdefault(name, {})[str(n)] = {
                key: int(v) if key == "converged" else finite_or_none(v)
                for key, v in values.items()}
        return {"model": self.model, "population": self.population, "sizes": list(self.sizes),
                "replications": self.replications, "seed": self.seed, "alpha": self.alpha,
                "level": self.level, "parameters": parameters}

    def to_json(self) -> str:
        """:meth:`to_dict` as indented JSON text."""
        return json_text(self.to_dict())

    def plot(self, path: str | Path, *, parameters: list[str] | None = None) -> None:
        """Write power curves (power against n, one line per parameter) to an image file.

        Args:
            parameters: the parameters drawn; default the regressions (``~``), or every
                parameter when the model has none.
        """
        from matplotlib.figure import Figure

        names = parameters or _default_plotted(self.table["parameter"].unique().tolist())
        # A Figure without pyplot: no backend switch, nothing left open in a notebook.
        figure = Figure(figsize=(7, 4.5))
        axes = figure.add_subplot()
        for name in names:
            rows = self.table[self.table["parameter"] == name]
            axes.plot(rows["n"], rows["power"], marker="o", label=name)
        axes.axhline(0.8, color="grey", linestyle="--", linewidth=0.8)
        axes.set(xlabel="sample size n", ylabel=f"power (alpha = {self.alpha:g})",
                 ylim=(0, 1.02), title=f"{self.model}: Monte Carlo power, "
                                       f"{self.replications} replications per n")
        axes.legend(fontsize="small", loc="lower right")
        figure.tight_layout()
        figure.savefig(path, dpi=120)


def _default_plotted(names: list[str]) -> list[str]:
    regressions = [name for name in names if " ~ " in name]
    return regressions or names


def population_values(spec: ModelSpec, population: Population) -> np.ndarray:
    """The analysis model's parameters (q,) at the population: its ML fit to the
    population covariance.

    Raises:
        AcsiSemError: the analysis model cannot be fitted to the population (different
            variables, or no convergence).
    """
    from acsi_sem.numerics.cbsem import fit_ml
    from acsi_sem.survey.moments import SurveyMoments

    population = aligned(population, spec)
    # The population as a (very large) sample for fit_ml: its own quasi-Newton run, or
    # semopy's start, then the polish to a zero gradient.
    moments = SurveyMoments(variables=tuple(population.variables), n_obs=10 ** 6,
                            means=population.means, covariance=population.covariance,
                            n_total=10 ** 6, missing_per_item=pd.Series(dtype=float),
                            source=population.description)
    solution = fit_ml(spec, moments)
    if not solution.converged:
        raise AcsiSemError("the analysis model did not converge on the population covariance; "
                           "check that it fits the population model")
    return solution.theta


def aligned(population: Population, spec: ModelSpec) -> Population:
    """``population`` with its variables in ``spec.observed`` order.

    Raises:
        AcsiSemError: the two name different variables.
    """
    if set(spec.observed) != set(population.variables):
        raise AcsiSemError("the analysis model's indicators "
                           f"({', '.join(spec.observed)}) differ from the population's "
                           f"({', '.join(population.variables)})")
    order = [population.variables.index(name) for name in spec.observed]
    return replace(population, variables=tuple(spec.observed),
                   means=population.means[order],
                   covariance=population.covariance[np.ix_(order, order)])


@dataclass(frozen=True)
class _Population:
    """What every batch of replications needs, picklable."""

    ram: RamModel
    truth: np.ndarray
    means: np.ndarray
    covariance: np.ndarray


@dataclass(frozen=True)
class _Batch:
    """One batch: ``replications`` surveys of ``n`` respondents from its own seed."""

    n: int
    replications: int
    seed: np.random.SeedSequence


def _run_batch(population: _Population, batch: _Batch
               ) -> tuple[int, np.ndarray, np.ndarray, np.ndarray]:
    """``(n, estimates (r, q), standard errors (r, q), converged (r,))`` of one batch."""
    rng = np.random.default_rng(batch.seed)
    p = len(population.means)
    covariances = np.empty((batch.replications, p, p))
    for index in range(batch.replications):
        sample = rng.multivariate_normal(population.means, population.covariance,
                                         size=batch.n, method="cholesky")
        covariances[index] = np.cov(sample, rowvar=False, bias=True)
    fitted = minimize_ml_batched(population.ram, population.truth, covariances,
                                 max_iterations=200)
    theta, converged = fitted.theta, fitted.converged.copy()
    for index in np.flatnonzero(~converged):  # the one-at-a-time optimiser, as fit() does
        single = minimize_ml(population.ram, population.truth, covariances[index])
        theta[index], converged[index] = single.theta, single.converged
    information = ml_state(BatchedRam.of(population.ram), theta, covariances).information / 2
    errors = np.full_like(theta, np.nan)
    for index in range(len(theta)):
        try:
            # lavaan: vcov = inverse of N times the unit expected information.
            errors[index] = np.sqrt(np.diag(np.linalg.inv(information[index] * batch.n)))
        except np.linalg.LinAlgError:
            converged[index] = False
    return batch.n, theta, errors, converged


def power_study(spec: ModelSpec, population: Population, sizes: list[int] | tuple[int, ...],
                *, replications: int, seed: int | None, alpha: float = 0.05,
                level: float = 0.95, jobs: int = 1, scheduler: str | None = None,
                progress: bool = False, model_name: str = "model") -> PowerStudy:
    """Run the Monte Carlo study (see the module's description).

    Args:
        spec: the analysis model (CB-SEM, no fixed.x covariates, no mean structure).
        population: the population the surveys are drawn from.
        sizes: sample sizes n.
        replications: surveys per sample size.
        seed: seed of the study; the same seed gives the same table on any cluster.
        alpha: level of the two-sided Wald test of ``parameter = 0``.
        level: confidence level of the Wald intervals for coverage.
        jobs: local worker processes (joblib; -1: every core); ignored with ``scheduler``.
        scheduler: address of a Dask distributed scheduler (``tcp://host:8786``) or a
            ``dask.distributed.Client``; the batches then run on its workers.
        progress: show a progress bar on standard error.
    """
    _check_study(spec, sizes, replications, alpha, level)
    population = aligned(population, spec)
    ram = build_ram(spec)
    truth = population_values(spec, population)
    shared = _Population(ram, truth, population.means, population.covariance)
    outputs = run_batches(_run_batch, shared, _batches(sizes, replications, seed), jobs=jobs,
                          scheduler=scheduler, progress=progress, description="power study")
    table = _summarise(spec, truth, outputs, sizes, alpha, level)
    return PowerStudy(table, tuple(sizes), replications, seed, alpha, level,
                      population.description, model_name)


def _check_study(spec: ModelSpec, sizes, replications: int, alpha: float, level: float) -> None:
    if (spec.table["exo"] == 1).any() or (spec.table["op"] == "~1").any():
        raise AcsiSemError("the power study handles models without fixed.x covariates and "
                           "without a mean structure")
    if (spec.table["op"] == "<~").any():
        raise AcsiSemError("the power study fits CB-SEM; the model has a composite (<~)")
    if spec.constraints:
        raise AcsiSemError(f"the power study's replications are fitted without constraints; "
                           f"drop '{spec.constraints[0]}' (or write equal parameters with "
                           "one shared label)")
    if not sizes or min(sizes) <= len(spec.observed):
        raise AcsiSemError(f"every sample size must exceed the {len(spec.observed)} observed "
                           f"variables, not {list(sizes)}")
    if replications < 2:
        raise AcsiSemError(f"the study needs at least 2 replications, not {replications}")
    if not (0 < alpha < 1 and 0 < level < 1):
        raise AcsiSemError(f"alpha and level must lie between 0 and 1, not {alpha}, {level}")


def _batches(sizes, replications: int, seed: int | None) -> list[_Batch]:
    counts = [min(BATCH_SIZE, replications - start)
              for start in range(0, replications, BATCH_SIZE)]
    seeds = iter(np.random.SeedSequence(seed).spawn(len(sizes) * len(counts)))
    return [_Batch(int(n), count, next(seeds)) for n in sizes for count in counts]


def _summarise(spec: ModelSpec, truth: np.ndarray, outputs: list, sizes, alpha: float,
               level: float) -> pd.DataFrame:
    rows = []
    critical_test, critical_interval = ndtri(1 - alpha / 2), ndtri(0.5 + level / 2)
    names = [spec.parameter_name(index) for index in range(len(truth))]
    for n in sizes:
        mine = [output for output in outputs if output[0] == n]
        theta = np.concatenate([output[1] for output in mine])
        errors = np.concatenate([output[2] for output in mine])
        converged = np.concatenate([output[3] for output in mine])
        theta, errors = theta[converged], errors[converged]
        with np.errstate(divide="ignore", invalid="ignore"):
            rejected = np.abs(theta / errors) > critical_test
        covered = np.abs(theta - truth) <= critical_interval * errors
        for index, name in enumerate(names):
            error = theta[:, index] - truth[index]
            rows.append((name, int(n), truth[index], theta[:, index].mean(), error.mean(),
                         np.sqrt((error ** 2).mean()), errors[:, index].mean(),
                         theta[:, index].std(ddof=1), rejected[:, index].mean(),
                         covered[:, index].mean(), int(converged.sum())))
    return pd.DataFrame(rows, columns=list(COLUMNS))
