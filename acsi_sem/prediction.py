"""Out-of-sample prediction of a PLS model: PLSpredict and CVPAT.

PLSpredict (Shmueli et al. 2016; 2019): the respondents are split into k folds; the model is
estimated on k - 1 of them and predicts the endogenous constructs' items of the held-out fold
from its exogenous information, as seminr's ``predict_pls`` does it:

* ``direct`` antecedents (default): each endogenous construct from the scores of its direct
  predictors; ``earliest``: from the exogenous constructs, through the model;
* an item's prediction is the predicted construct score times the item's loading, in the
  item's metric (training-fold mean and SD);
* the benchmarks: the training-fold mean of the item (for Q²predict = 1 - SSE / SSE of the
  mean) and a linear model of the item on the items of the same predictors (LM).

Repetitions shuffle the folds anew; each metric is computed per repetition and averaged.
Every training fold of every repetition is estimated at once, as the bootstrap is
(:mod:`acsi_sem.numerics.pls_batched`).

CVPAT (Liengaard et al. 2021): each respondent's loss is the squared prediction error
averaged over the predicted items (and the repetitions); the test asks whether the mean
loss difference to a benchmark, or to a second model, is below zero (a one-sided t test with
n - 1 degrees of freedom).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from acsi_sem.errors import AcsiSemError
from acsi_sem.estimators.options import FitOptions
from acsi_sem.estimators.pls import checked_layout
from acsi_sem.estimators.pls_higher_order import refuse_built_constructs
from acsi_sem.model.spec import ModelSpec
from acsi_sem.numerics.batched import weighted_correlations
from acsi_sem.numerics.pls import PlsLayout
from acsi_sem.numerics.pls_batched import estimate_pls_batched

TECHNIQUES = ("direct", "earliest")
BENCHMARKS = ("lm", "ia")


@dataclass(frozen=True)
class Predictions:
    """Out-of-sample predictions of each repetition, each (r, n, q) for q predicted items.

    Attributes:
        pls: the model's predictions.
        lm: the linear-model benchmark's.
        mean: the training-fold mean of each item (the benchmark of Q²predict; Liengaard et
            al.'s indicator average, IA).
        actual: (n, q) the answers.
    """

    pls: np.ndarray
    lm: np.ndarray
    mean: np.ndarray
    actual: np.ndarray

    def losses(self, which: str) -> np.ndarray:
        """(n,) each respondent's squared error averaged over items and repetitions."""
        predicted = {"pls": self.pls, "lm": self.lm, "ia": self.mean}[which]
        return ((self.actual - predicted) ** 2).mean(axis=(0, 2))


@dataclass(frozen=True)
class PredictionResult:
    """PLSpredict of one model.

    Attributes:
        metrics: per predicted item: ``construct, indicator, q2_predict, rmse, mae,
            lm_rmse, lm_mae`` (each the mean over the repetitions) and ``rmse_below_lm``.
        predictions: the out-of-sample predictions behind them.
        items: the q predicted items, in ``metrics`` order.
        folds, repetitions, seed, technique: the settings.
        assignments: (r, n) each respondent's fold in each repetition (to predict another
            model on the same folds).
    """

    metrics: pd.DataFrame
    predictions: Predictions = field(repr=False)
    items: tuple[str, ...]
    folds: int
    repetitions: int
    seed: int | None
    technique: str
    assignments: np.ndarray | None = field(default=None, repr=False)

    def cvpat(self, benchmark: str = "lm") -> pd.Series:
        """CVPAT of the model against ``"lm"`` (the linear model) or ``"ia"`` (indicator
        averages): ``loss, benchmark_loss, difference`` (benchmark minus model: positive
        when the model predicts better), ``t``, ``df`` and the one-sided ``pvalue``."""
        if benchmark not in BENCHMARKS:
            raise AcsiSemError(f"unknown CVPAT benchmark {benchmark!r}; choose lm or ia")
        return loss_test(self.predictions.losses("pls"), self.predictions.losses(benchmark))

    def summary(self) -> str:
        """The metrics table and both CVPAT tests as text."""
        lines = [f"PLSpredict: {self.folds} folds x {self.repetitions} repetitions "
                 f"({self.technique} antecedents, seed {self.seed})",
                 self.metrics.to_string(index=False, float_format=lambda v: f"{v:.3f}"), "",
                 "CVPAT (one-sided: the model's loss below the benchmark's):"]
        for benchmark in BENCHMARKS:
            test = self.cvpat(benchmark)
            lines.append(f"  vs {benchmark.upper():<3} loss {test['loss']:.4f} against "
                         f"{test['benchmark_loss']:.4f}: t({int(test['df'])}) = "
                         f"{test['t']:.3f}, p = {test['pvalue']:.4f}")
        return "\n".join(lines)

    def to_dict(self) -> dict:
        """The JSON form: settings, per-item metrics and the CVPAT tests."""
        from acsi_sem.report.json_document import finite_or_none, table_records

        return {"folds": self.folds, "repetitions": self.repetitions, "seed": self.seed,
                "technique": self.technique, "metrics": table_records(self.metrics),
                "cvpat": {benchmark: {key: finite_or_none(value) for key, value
                                      in self.cvpat(benchmark).items()}
                          for benchmark in BENCHMARKS}}


def pls_predict(model: str | Path | ModelSpec, data: pd.DataFrame | str | Path | None = None,
                *, folds: int = 10, repetitions: int = 10, seed: int | None = None,
                technique: str = "direct", assignments: np.ndarray | None = None,
                scheme: str = "path", tolerance: float = 1e-7,
                max_iterations: int = 300) -> PredictionResult:
    """PLSpredict of a model on survey data (see the module's description).

    Args:
        model, data: as for :func:`acsi_sem.fit`.
        folds: k, at least 2 and at most the number of respondents.
        repetitions: r, how often the folds are drawn anew.
        seed: seed of the fold draws.
        technique: ``"direct"`` or ``"earliest"`` antecedents.
        assignments: (r, n) fold number (0 to k - 1) of each respondent in each repetition,
            instead of drawing them (e.g. to reproduce another program's folds).

    Raises:
        AcsiSemError: bad settings, a model without an endogenous construct or with
            interaction terms, or a training fold whose estimation does not converge.
    """
    from acsi_sem.api import prepare

    spec, prepared, _, options = prepare(model, data, estimator="pls", scheme=scheme,
                                         tolerance=tolerance, max_iterations=max_iterations)
    if technique not in TECHNIQUES:
        raise AcsiSemError(f"unknown prediction technique {technique!r}; choose direct or "
                           "earliest")
    refuse_built_constructs(spec, "PLSpredict")
    layout = checked_layout(spec)
    items = prepared.frame[list(layout.indicators)].to_numpy()
    if assignments is None:
        assignments = draw_folds(len(items), folds, repetitions, seed)
    assignments = _checked_assignments(np.asarray(assignments), len(items))
    predictions, names = cross_validate(items, layout, options, assignments, technique)
    return PredictionResult(_metrics(predictions, names), predictions,
                            tuple(item for _, item in names), int(assignments.max()) + 1,
                            len(assignments), seed, technique, assignments)


def loss_test(losses: np.ndarray, benchmark: np.ndarray) -> pd.Series:
    """The CVPAT t test of per-respondent losses (n,) against a benchmark's (n,):
    ``loss, benchmark_loss, difference, t, df, pvalue`` (H1: the benchmark's loss is
    larger)."""
    difference = benchmark - losses
    n = len(difference)
    spread = difference.std(ddof=1)
    t = difference.mean() / (spread / np.sqrt(n)) if spread > 0 else np.nan
    return pd.Series({"loss": losses.mean(), "benchmark_loss": benchmark.mean(),
                      "difference": difference.mean(), "t": t, "df": float(n - 1),
                      "pvalue": stats.t.sf(t, n - 1) if np.isfinite(t) else np.nan})


def compare_predictions(first: PredictionResult, second: PredictionResult) -> pd.Series:
    """CVPAT of two models predicting the same items on the same respondents: positive
    ``difference`` and a small ``pvalue`` say the first predicts better.

    Raises:
        AcsiSemError: the two predict different items or respondents.
    """
    if first.items != second.items or (first.predictions.actual.shape
                                       != second.predictions.actual.shape):
        raise AcsiSemError("CVPAT compares models that predict the same items of the same "
                           f"respondents; these predict {', '.join(first.items)} and "
                           f"{', '.join(second.items)}")
    return loss_test(first.predictions.losses("pls"), second.predictions.losses("pls"))


def draw_folds(n: int, folds: int, repetitions: int, seed: int | None) -> np.ndarray:
    """(r, n) fold numbers: each repetition shuffles the respondents and cuts them into
    ``folds`` contiguous groups of near-equal size."""
    if not 2 <= folds <= n:
        raise AcsiSemError(f"PLSpredict needs between 2 and {n} folds (one per respondent), "
                           f"not {folds}")
    if repetitions < 1:
        raise AcsiSemError(f"PLSpredict needs at least one repetition, not {repetitions}")
    rng = np.random.default_rng(seed)
    assignments = np.empty((repetitions, n), dtype=int)
    position_fold = np.arange(n) * folds // n
    for repetition in range(repetitions):
        assignments[repetition, rng.permutation(n)] = position_fold
    return assignments


def _checked_assignments(assignments: np.ndarray, n: int) -> np.ndarray:
    if assignments.ndim != 2 or assignments.shape[1] != n:
        raise AcsiSemError(f"fold assignments must be (repetitions, {n}), one fold number per "
                           f"respondent, not of shape {assignments.shape}")
    if not np.issubdtype(assignments.dtype, np.integer) or assignments.min() < 0:
        raise AcsiSemError("fold assignments must be whole fold numbers from 0 to k - 1")
    for row in assignments:
        counts = np.bincount(row)
        if row.min() < 0 or len(counts) < 2 or (counts == 0).any():
            raise AcsiSemError("each repetition's folds must be numbered 0 to k - 1 with at "
                               "least two folds, none empty")
    return assignments.astype(int)


def cross_validate(items: np.ndarray, layout: PlsLayout, options: FitOptions,
                   assignments: np.ndarray, technique: str
                   ) -> tuple[Predictions, list[tuple[str, str]]]:
    """Out-of-sample predictions of the endogenous items (n, p items in layout order) for
    fold assignments (r, n); also the ``(construct, item)`` names of the q predicted items.

    Raises:
        AcsiSemError: no endogenous construct, or a training fold not converging.
    """
    endogenous = layout.endogenous
    if not endogenous:
        raise AcsiSemError("PLSpredict predicts endogenous constructs; the model has none")
    targets = np.concatenate([layout.blocks[j] for j in endogenous])
    folds = int(assignments.max()) + 1
    training = np.repeat(assignments, folds, axis=0) != np.tile(np.arange(folds),
                                                               len(assignments))[:, None]
    moments = _training_moments(items, training.astype(float))
    solution = estimate_pls_batched(moments.correlations, layout, scheme=options.scheme,
                                    tolerance=options.tolerance,
                                    max_iterations=options.max_iterations)
    if not solution.converged.all():
        raise AcsiSemError("PLS did not converge in a training fold; raise max_iterations "
                           "or check the model")
    shape = (len(assignments), len(items), len(targets))
    pls, lm, mean = np.empty(shape), np.empty(shape), np.empty(shape)
    loadings = layout.membership * solution.loadings[:, :, None]
    for replicate, kept in enumerate(training):
        repetition, held_out = replicate // folds, ~kept
        rows = items[held_out]
        standardized = (rows - moments.means[replicate]) / moments.sd[replicate]
        scores = _predicted_scores(standardized @ solution.weights[replicate],
                                   solution.paths[replicate], layout, technique)
        predicted = (scores @ loadings[replicate].T * moments.sd[replicate]
                     + moments.means[replicate])
        pls[repetition, held_out] = predicted[:, targets]
        lm[repetition, held_out] = _linear_benchmark(rows, moments, replicate, layout,
                                                     technique)
        mean[repetition, held_out] = moments.means[replicate, targets]
    names = [(layout.latent[j], layout.indicators[i]) for j in endogenous
             for i in layout.blocks[j]]
    return Predictions(pls, lm, mean, items[:, targets]), names


@dataclass(frozen=True)
class _Moments:
    """Training-fold moments, stacked: means (b, p), covariances (b, p, p) (divisor n),
    sd (b, p) (divisor n - 1) and correlations (b, p, p)."""

    means: np.ndarray
    covariances: np.ndarray
    sd: np.ndarray
    correlations: np.ndarray


def _training_moments(items: np.ndarray, training: np.ndarray) -> _Moments:
    moments = weighted_correlations(items, training)
    if moments.failed.any():
        raise AcsiSemError("an item does not vary within a training fold; use fewer folds")
    root = np.sqrt(np.einsum("bii->bi", moments.covariances))
    total = training.sum(axis=1)[:, None]
    return _Moments(moments.means, moments.covariances, root * np.sqrt(total / (total - 1)),
                    moments.correlations)


def _predicted_scores(scores: np.ndarray, paths: np.ndarray, layout: PlsLayout,
                      technique: str) -> np.ndarray:
    """(m, L) predicted construct scores from the held-out rows' own scores (m, L):
    exogenous constructs keep theirs; endogenous ones follow from their direct predictors'
    scores (direct) or from the exogenous scores through the model (earliest)."""
    predicted = scores.copy()
    endogenous = layout.endogenous
    if technique == "direct":
        predicted[:, endogenous] = scores @ paths[endogenous].T
        return predicted
    for j in _causal_order(layout):
        predicted[:, j] = predicted @ paths[j]
    return predicted


def _causal_order(layout: PlsLayout) -> list[int]:
    """Endogenous constructs, each after all of its predictors."""
    done = set(np.flatnonzero(~layout.predecessors.any(axis=1)))
    order: list[int] = []
    pending = list(layout.endogenous)
    while pending:
        ready = [j for j in pending if set(np.flatnonzero(layout.predecessors[j])) <= done]
        if not ready:
            raise AcsiSemError("predicting from the earliest antecedents needs a recursive "
                               "model (no loops); use technique='direct'")
        order += ready
        done |= set(ready)
        pending = [j for j in pending if j not in ready]
    return order


def _linear_benchmark(rows: np.ndarray, moments: _Moments, replicate: int,
                      layout: PlsLayout, technique: str) -> np.ndarray:
    """(m, q) the LM benchmark: each endogenous item regressed (OLS with intercept, on the
    training fold) on the items of its construct's direct predictors (direct) or of the
    exogenous constructs (earliest)."""
    exogenous = np.flatnonzero(~layout.predecessors.any(axis=1))
    means, covariances = moments.means[replicate], moments.covariances[replicate]
    columns = []
    for j in layout.endogenous:
        sources = np.flatnonzero(layout.predecessors[j]) if technique == "direct" else exogenous
        x = np.concatenate([layout.blocks[k] for k in sources])
        y = layout.blocks[j]
        beta = np.linalg.solve(covariances[np.ix_(x, x)], covariances[np.ix_(x, y)])
        columns.append(means[y] + (rows[:, x] - means[x]) @ beta)
    return np.column_stack(columns)


def _metrics(predictions: Predictions, names: list[tuple[str, str]]) -> pd.DataFrame:
    """Per item: Q²predict, RMSE and MAE of the model and of the LM, averaged over
    repetitions."""
    actual = predictions.actual[None]

    def rmse(predicted: np.ndarray) -> np.ndarray:
        return np.sqrt(((actual - predicted) ** 2).mean(axis=1)).mean(axis=0)

    def mae(predicted: np.ndarray) -> np.ndarray:
        return np.abs(actual - predicted).mean(axis=1).mean(axis=0)

    squared = ((actual - predictions.pls) ** 2).sum(axis=1)
    naive = ((actual - predictions.mean) ** 2).sum(axis=1)
    table = pd.DataFrame({
        "construct": [construct for construct, _ in names],
        "indicator": [item for _, item in names],
        "q2_predict": (1 - squared / naive).mean(axis=0),
        "rmse": rmse(predictions.pls), "mae": mae(predictions.pls),
        "lm_rmse": rmse(predictions.lm), "lm_mae": mae(predictions.lm)})
    table["rmse_below_lm"] = table["rmse"] < table["lm_rmse"]
    return table


def default_omission_distance(n: int) -> int:
    """The first of 7, 8, 9, 6, 5, 10, 11, 12 that does not divide n respondents.

    Raises:
        AcsiSemError: all of them divide n (a multiple of 27,720).
    """
    distance = next((d for d in (7, 8, 9, 6, 5, 10, 11, 12) if n % d), None)
    if distance is None:
        raise AcsiSemError(f"every usual omission distance (5 to 12) divides the {n} "
                           "respondents; choose one with omission_distance=")
    return distance


def blindfolding(model: str | Path | ModelSpec, data: pd.DataFrame | str | Path | None = None,
                 *, omission_distance: int = 7, scheme: str = "path",
                 tolerance: float = 1e-7, max_iterations: int = 300) -> pd.DataFrame:
    """Stone-Geisser's Q² by blindfolding, the cross-validated redundancy (Chin 1998; Hair et
    al. 2017, ch. 6).

    For each endogenous construct, the answers to its items, standardized on the whole
    sample and numbered item by item (all respondents' answers to the first item, then to
    the second), are left out in D rounds: round d omits every D-th answer starting at d.
    Each omitted answer is replaced by the mean of its item's remaining answers, the model
    is estimated, and the omitted answer predicted as the item's loading times the
    construct's score predicted from its predictors' scores (in the standardized metric of
    the full sample). Over all rounds, ``Q² = 1 - SSE / SSO`` with SSE the squared
    prediction errors and SSO the squared standardized answers.

    Args:
        model, data: as for :func:`acsi_sem.fit`.
        omission_distance: D, from 5 to 12 by convention; the number of respondents must
            not be a multiple of it (else the same items would always be omitted together).

    Returns:
        One row per endogenous construct: ``construct, sso, sse, q2``.

    Raises:
        AcsiSemError: a bad omission distance, or a model without endogenous constructs.
    """
    from acsi_sem.api import prepare

    spec, prepared, _, options = prepare(model, data, estimator="pls", scheme=scheme,
                                         tolerance=tolerance, max_iterations=max_iterations)
    refuse_built_constructs(spec, "blindfolding")
    layout = checked_layout(spec)
    items = prepared.frame[list(layout.indicators)].to_numpy()
    n = len(items)
    if not 2 <= omission_distance < n or n % omission_distance == 0:
        raise AcsiSemError(f"the omission distance must be at least 2, below the {n} "
                           f"respondents and not a divisor of {n}, not {omission_distance}")
    if not layout.endogenous:
        raise AcsiSemError("blindfolding predicts endogenous constructs; the model has none")
    standardized = (items - items.mean(axis=0)) / items.std(axis=0, ddof=1)
    rows = []
    for j in layout.endogenous:
        sse, sso = _blindfold_construct(standardized, layout, options, j, omission_distance)
        rows.append({"construct": layout.latent[j], "sso": sso, "sse": sse,
                     "q2": 1 - sse / sso})
    return pd.DataFrame(rows)


def _blindfold_construct(standardized: np.ndarray, layout: PlsLayout, options: FitOptions,
                         construct: int, distance: int) -> tuple[float, float]:
    """``(SSE, SSO)`` of one endogenous construct's items over the D rounds."""
    from acsi_sem.estimators.pls import pls_core

    block = layout.blocks[construct]
    n, k = len(standardized), len(block)
    position = np.arange(n * k).reshape(k, n).T  # item by item, as SmartPLS counts
    sse = sso = 0.0
    for round_number in range(distance):
        omitted = position % distance == round_number
        if not omitted.any():
            continue
        modified = standardized.copy()
        values = modified[:, block]
        kept_means = np.array([values[~omitted[:, m], m].mean() for m in range(k)])
        values[omitted] = np.broadcast_to(kept_means, values.shape)[omitted]
        modified[:, block] = values
        core = pls_core(modified, layout, options)
        solution = core.solution
        scores = (modified - core.item_means) / core.item_sd @ solution.weights
        predicted_score = scores @ solution.paths[construct]
        # Back to the full sample's standardized metric of each item.
        predicted = (core.item_means[block] + core.item_sd[block]
                     * solution.loadings[block] * predicted_score[:, None])
        actual = standardized[:, block]
        sse += float(((actual - predicted)[omitted] ** 2).sum())
        sso += float((actual[omitted] ** 2).sum())
    return sse, sso
