"""Two groups in PLS: measurement invariance of composites (MICOM) and multi-group analysis.

MICOM (Henseler, Ringle & Sarstedt 2016), as cSEM's ``testMICOM``:

1. configural invariance: one model, one set of items and one algorithm for both groups (this
   function fits them so; it is reported, not tested);
2. compositional invariance: c, the correlation of each composite computed on the pooled
   data with group 1's and with group 2's weights, against its permutation distribution
   (group labels shuffled, both groups re-estimated): p is the share of permuted c at or
   below the observed one;
3. equal means and variances: the pooled model's standardized scores; the groups' mean
   difference and log-variance difference against their permutation distributions
   (two-sided p).

Multi-group analysis of the paths (each group estimated on its own rows):

* the permutation test (Chin & Dibbern 2010): p is the share of permuted differences at
  least as large in absolute value as the observed one;
* Henseler's bootstrap MGA (Henseler, Ringle & Sinkovics 2009), as seminr:
  ``p = 1 - J^-2 sum_jk [2 mean1 - b1_j - 2 mean2 + b2_k > 0]`` (small: group 1's path
  larger), and the two-sided ``2 min(p, 1 - p)``;
* the parametric test assuming equal variances (Keil et al. 2000) and the
  Welch-Satterthwaite test (Nitzl 2010), with the bootstrap standard errors, as cSEM.

Every permutation and bootstrap replicate is estimated at once per batch
(:mod:`acsi_sem.numerics.pls_batched`); both tests share the permutations.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from acsi_sem.errors import AcsiSemError, DataError
from acsi_sem.estimators.options import FitOptions
from acsi_sem.estimators.pls import checked_layout, pls_core
from acsi_sem.estimators.pls_higher_order import refuse_built_constructs
from acsi_sem.model.spec import ModelSpec
from acsi_sem.numerics.batched import weighted_correlations
from acsi_sem.numerics.pls import PlsLayout
from acsi_sem.numerics.pls_batched import BatchedPlsSolution, estimate_pls_batched
from acsi_sem.resample import resampled_rows

BATCH = 500
MIN_GROUP_ROWS = 10


@dataclass(frozen=True)
class GroupComparison:
    """MICOM and multi-group analysis of two groups.

    Attributes:
        groups: the two group labels, in the order of every difference (first - second).
        sizes: their numbers of respondents.
        compositional: step 2 of MICOM per construct: ``c``, ``c_5pct`` (the permutation
            distribution's 5% quantile), ``pvalue``, ``invariant`` (p >= 0.05).
        means_variances: step 3 per construct: ``mean_difference``, its permutation
            interval ``mean_lower``/``mean_upper`` (2.5%, 97.5%) and ``mean_pvalue``; the
            same for ``log_variance_difference``; ``invariance``: ``full``, ``partial``
            (step 2 holds, step 3 does not) or ``none``.
        paths: per path: each group's estimate, their ``difference``, ``permutation_p``,
            and with a bootstrap ``henseler_p`` (one-sided), ``henseler_p_two_sided``,
            ``se_first``, ``se_second``, ``keil_t``, ``keil_df``, ``keil_p``,
            ``welch_t``, ``welch_df``, ``welch_p``.
        permutations, bootstrap, seed: the settings.
    """

    groups: tuple[str, str]
    sizes: tuple[int, int]
    compositional: pd.DataFrame
    means_variances: pd.DataFrame
    paths: pd.DataFrame
    permutations: int
    bootstrap: int
    seed: int | None
    notes: tuple[str, ...] = field(default=())

    def summary(self) -> str:
        """The three tables as text."""
        def table(frame: pd.DataFrame) -> str:
            return frame.to_string(float_format=lambda v: f"{v:.4f}")

        first, second = self.groups
        return "\n".join([
            f"Groups {first} (n = {self.sizes[0]}) and {second} (n = {self.sizes[1]}); "
            f"{self.permutations} permutations, {self.bootstrap} bootstrap replicates per "
            f"group, seed {self.seed}",
            "", "MICOM step 1 (configural): one model, one item set, one algorithm.",
            "", "MICOM step 2 (compositional invariance, c = 1):", table(self.compositional),
            "", "MICOM step 3 (equal means and variances, first - second):",
            table(self.means_variances),
            "", f"Multi-group analysis of the paths ({first} - {second}):", table(self.paths),
            *(["", *self.notes] if self.notes else [])])

    def to_dict(self) -> dict:
        """The JSON form."""
        from acsi_sem.report.json_document import table_records

        return {"groups": list(self.groups), "sizes": list(self.sizes),
                "permutations": self.permutations, "bootstrap": self.bootstrap,
                "seed": self.seed,
                "compositional": table_records(self.compositional.reset_index()),
                "means_variances": table_records(self.means_variances.reset_index()),
                "paths": table_records(self.paths.reset_index()), "notes": list(self.notes)}


def compare_groups(model: str | Path | ModelSpec, data: pd.DataFrame | str | Path | None = None,
                   *, group: str, groups: tuple[str, str] | None = None,
                   permutations: int = 5000, bootstrap: int = 1000, seed: int | None = None,
                   scheme: str = "path", tolerance: float = 1e-7,
                   max_iterations: int = 300) -> GroupComparison:
    """MICOM and multi-group analysis of two groups (see the module's description).

    Args:
        model, data: as for :func:`acsi_sem.fit`.
        group: the column naming the groups.
        groups: the two labels to compare when the column has more.
        permutations: label permutations (MICOM and the permutation test).
        bootstrap: bootstrap replicates within each group (Henseler's MGA and the
            parametric tests); 0 leaves those columns out.

    Raises:
        AcsiSemError: not two groups, a group with too few respondents, a model with
            interaction terms, or too few permutations.
    """
    from acsi_sem.api import prepare

    if permutations < 19:
        raise AcsiSemError(f"the permutation tests need at least 19 permutations, not "
                           f"{permutations}")
    spec, prepared, _, options = prepare(model, data, estimator="pls", scheme=scheme,
                                         tolerance=tolerance, max_iterations=max_iterations,
                                         group=group)
    refuse_built_constructs(spec, "a group comparison")
    layout = checked_layout(spec)
    items = prepared.frame[list(layout.indicators)].to_numpy()
    kept, first, names = _two_groups(prepared.groups, group, groups, _rows_needed(layout))
    items = items[kept]
    rng = np.random.default_rng(seed)
    observed = _split_fit(items, first[None], layout, options)
    permuted = np.stack([rng.permutation(first) for _ in range(permutations)])
    fits = _split_fit(items, permuted, layout, options)
    compositional = _compositional(items, observed, fits, layout)
    means_variances = _means_variances(items, first, permuted, layout, options,
                                       compositional["invariant"])
    paths = _path_differences(observed, fits, layout)
    notes = []
    if bootstrap:
        paths = paths.join(_bootstrap_tests(items, first, paths, layout, options, bootstrap,
                                            seed))
    dropped = permutations - fits.used
    if dropped:
        notes.append(f"{dropped} permutations left out: a group's estimation did not "
                     "converge")
    return GroupComparison(names, (int(first.sum()), int((~first).sum())), compositional,
                           means_variances, paths, permutations, bootstrap, seed, tuple(notes))


def _rows_needed(layout: PlsLayout) -> int:
    largest = max([len(b) for j, b in enumerate(layout.blocks) if layout.mode_b[j]] + [0]
                  + list(layout.predecessors.sum(axis=1)))
    return max(MIN_GROUP_ROWS, largest + 2)


def _two_groups(groups: pd.Series, column: str, chosen: tuple[str, str] | None,
                needed: int) -> tuple[np.ndarray, np.ndarray, tuple[str, str]]:
    """Rows in the comparison (n,), among them the first group's (m,), and the two labels.

    Raises:
        DataError: not exactly two groups (or unknown chosen ones), or a group too small.
    """
    present = [str(label) for label in pd.unique(groups)]
    if chosen is not None:
        unknown = [str(name) for name in chosen if str(name) not in present]
        if unknown or len(chosen) != 2:
            raise DataError(f"groups must name two of the labels in {column!r} "
                            f"({', '.join(present)}), not {', '.join(map(str, chosen))}")
    elif len(present) != 2:
        raise DataError(f"the group comparison needs two groups; {column!r} has "
                        f"{len(present)} ({', '.join(present)}): choose two (groups= in Python, "
                        "--compare A,B on the command line)")
    names = [str(name) for name in (chosen or present)]
    text = groups.astype(str).to_numpy()
    for name in names:
        count = int((text == name).sum())
        if count < needed:
            raise DataError(f"group {name!r} of {column!r} has {count} respondents; the "
                            f"permutation and bootstrap tests need at least {needed}")
    kept = np.isin(text, names)
    return kept, text[kept] == names[0], (names[0], names[1])


@dataclass(frozen=True)
class _SplitFits:
    """Both groups' solutions for b splits: ``first`` and ``second`` (b stacked), the
    converged splits' positions ``kept``."""

    first: BatchedPlsSolution
    second: BatchedPlsSolution
    kept: np.ndarray

    @property
    def used(self) -> int:
        return len(self.kept)


def _split_fit(items: np.ndarray, first: np.ndarray, layout: PlsLayout,
               options: FitOptions) -> _SplitFits:
    """Estimate each group of b splits (b, n) (True: the first group)."""
    solutions = [_fit_rows(items, mask, layout, options) for mask in (first, ~first)]
    kept = np.flatnonzero(solutions[0].converged & solutions[1].converged)
    if not len(kept):
        raise AcsiSemError("PLS did not converge in either group; check the model")
    return _SplitFits(*solutions, kept)


def _fit_rows(items: np.ndarray, weights: np.ndarray, layout: PlsLayout,
              options: FitOptions) -> BatchedPlsSolution:
    """Batched PLS of the rows weighted by ``weights`` (b, n; counts or a boolean mask),
    in batches."""
    parts = []
    for start in range(0, len(weights), BATCH):
        moments = weighted_correlations(items, weights[start:start + BATCH].astype(float))
        if moments.failed.any():
            raise DataError("an item does not vary within a group (or a permutation of "
                            "one); the groups cannot be compared")
        parts.append(estimate_pls_batched(moments.correlations, layout, scheme=options.scheme,
                                          tolerance=options.tolerance,
                                          max_iterations=options.max_iterations))
    return BatchedPlsSolution(*(np.concatenate([getattr(part, name) for part in parts])
                                for name in BatchedPlsSolution.__dataclass_fields__))


def _composite_correlation(correlation: np.ndarray, first: np.ndarray, second: np.ndarray,
                           layout: PlsLayout) -> np.ndarray:
    """(b, L) correlation, on the pooled data, of each composite built with the first
    group's weights (b, p, L) and with the second's."""
    def form(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.einsum("bpl,pq,bql->bl", a, correlation, b)

    return form(first, second) / np.sqrt(form(first, first) * form(second, second))


def _compositional(items: np.ndarray, observed: _SplitFits, fits: _SplitFits,
                   layout: PlsLayout) -> pd.DataFrame:
    correlation = np.atleast_2d(np.corrcoef(items, rowvar=False))
    c = _composite_correlation(correlation, observed.first.weights, observed.second.weights,
                               layout)[0]
    kept = fits.kept
    permuted = _composite_correlation(correlation, fits.first.weights[kept],
                                      fits.second.weights[kept], layout)
    pvalue = (permuted <= c).mean(axis=0)
    return pd.DataFrame({"c": c, "c_5pct": np.quantile(permuted, 0.05, axis=0),
                         "pvalue": pvalue, "invariant": pvalue >= 0.05},
                        index=pd.Index(layout.latent, name="construct"))


def _means_variances(items: np.ndarray, first: np.ndarray, permuted: np.ndarray,
                     layout: PlsLayout, options: FitOptions,
                     compositional: pd.Series) -> pd.DataFrame:
    """Step 3 on the pooled model's standardized scores."""
    core = pls_core(items, layout, options)
    scores = (items - core.item_means) / core.item_sd @ core.solution.weights
    splits = np.vstack([first[None], permuted])
    mean_difference, log_variance = _group_moments(scores, splits)
    frame = pd.DataFrame(index=pd.Index(layout.latent, name="construct"))
    for name, values in (("mean", mean_difference), ("log_variance", log_variance)):
        observed, reference = values[0], values[1:]
        frame[f"{name}_difference"] = observed
        frame[f"{name}_lower"] = np.quantile(reference, 0.025, axis=0)
        frame[f"{name}_upper"] = np.quantile(reference, 0.975, axis=0)
        frame[f"{name}_pvalue"] = ((reference > np.abs(observed)).mean(axis=0)
                                   + (reference < -np.abs(observed)).mean(axis=0))
    equal = (frame["mean_pvalue"] >= 0.05) & (frame["log_variance_pvalue"] >= 0.05)
    frame["invariance"] = np.where(~compositional, "none",
                                   np.where(equal, "full", "partial"))
    return frame


def _group_moments(scores: np.ndarray, splits: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(b, L) mean difference and log-variance difference (first - second; variances with
    divisor n - 1) of the scores (n, L) for each split (b, n)."""
    results = []
    for mask in (splits, ~splits):
        weight = mask.astype(float)
        count = weight.sum(axis=1, keepdims=True)
        mean = weight @ scores / count
        variance = (weight @ scores ** 2 - count * mean ** 2) / (count - 1)
        results.append((mean, variance))
    (mean1, var1), (mean2, var2) = results
    return mean1 - mean2, np.log(var1) - np.log(var2)


def _path_differences(observed: _SplitFits, fits: _SplitFits, layout: PlsLayout
                      ) -> pd.DataFrame:
    outcome, cause = np.nonzero(layout.predecessors)
    first = observed.first.paths[0, outcome, cause]
    second = observed.second.paths[0, outcome, cause]
    kept = fits.kept
    permuted = (fits.first.paths[kept][:, outcome, cause]
                - fits.second.paths[kept][:, outcome, cause])
    difference = first - second
    index = pd.MultiIndex.from_arrays([[layout.latent[j] for j in outcome],
                                       [layout.latent[k] for k in cause]],
                                      names=["outcome", "predictor"])
    return pd.DataFrame({"first": first, "second": second, "difference": difference,
                         "permutation_p": (np.abs(permuted) >= np.abs(difference)).mean(
                             axis=0)}, index=index)


def _bootstrap_tests(items: np.ndarray, first: np.ndarray, paths: pd.DataFrame,
                     layout: PlsLayout, options: FitOptions, replicates: int,
                     seed: int | None) -> pd.DataFrame:
    """Henseler's MGA and the parametric tests from each group's own bootstrap."""
    outcome, cause = np.nonzero(layout.predecessors)
    draws = []
    for offset, mask in enumerate((first, ~first)):
        rows = np.flatnonzero(mask)
        counts = np.zeros((replicates, len(items)))
        # Each group draws its own stream, so adding replicates never changes the first ones.
        stream = resampled_rows(len(rows), replicates, None if seed is None else seed + offset)
        for replicate, drawn in enumerate(stream):
            counts[replicate] = np.bincount(rows[drawn], minlength=len(items))
        solution = _fit_rows(items, counts, layout, options)
        draws.append(solution.paths[solution.converged][:, outcome, cause])
    used = min(len(d) for d in draws)
    first_draws, second_draws = (d[:used] for d in draws)
    henseler = np.array([_henseler_p(first_draws[:, k], second_draws[:, k])
                         for k in range(len(outcome))])
    n1, n2 = int(first.sum()), int((~first).sum())
    se1, se2 = first_draws.std(axis=0, ddof=1), second_draws.std(axis=0, ddof=1)
    difference = paths["difference"].to_numpy()
    pooled = np.sqrt((n1 - 1) ** 2 / (n1 + n2 - 2) * se1 ** 2
                     + (n2 - 1) ** 2 / (n1 + n2 - 2) * se2 ** 2) * np.sqrt(1 / n1 + 1 / n2)
    keil_t = difference / pooled
    welch_se = np.sqrt((n1 - 1) / n1 * se1 ** 2 + (n2 - 1) / n2 * se2 ** 2)
    welch_df = np.round(welch_se ** 4 / ((n1 - 1) / n1 ** 2 * se1 ** 4
                                         + (n2 - 1) / n2 ** 2 * se2 ** 4) - 2)
    welch_t = difference / welch_se
    return pd.DataFrame({
        "henseler_p": henseler, "henseler_p_two_sided": 2 * np.minimum(henseler, 1 - henseler),
        "se_first": se1, "se_second": se2,
        "keil_t": keil_t, "keil_df": float(n1 + n2 - 2),
        "keil_p": 2 * stats.t.sf(np.abs(keil_t), n1 + n2 - 2),
        "welch_t": welch_t, "welch_df": welch_df,
        "welch_p": 2 * stats.t.sf(np.abs(welch_t), welch_df)}, index=paths.index)


def _henseler_p(first: np.ndarray, second: np.ndarray) -> float:
    """``1 - J^-2 sum_jk [2 mean1 - b1_j - 2 mean2 + b2_k > 0]`` (Henseler et al. 2009)."""
    left = 2 * first.mean() - first - 2 * second.mean()
    return float(1 - (left[:, None] + second[None, :] > 0).mean())
