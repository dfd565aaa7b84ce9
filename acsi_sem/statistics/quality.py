"""Measurement quality: reliability, convergent and discriminant validity, collinearity.

The same functions serve both estimators; what differs is where the loadings and construct
correlations come from (PLS composites, PLSc factors, or the CB-SEM standardized solution).
Thresholds follow Hair, Risher, Sarstedt & Ringle (2019), "When to use and how to report the
results of PLS-SEM", European Business Review 31(1), and Henseler, Ringle & Sarstedt (2015)
for HTMT.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

THRESHOLDS = {
    "loading": 0.708,      # indicator reliability: loading^2 >= 0.5
    "alpha": 0.70, "rho_c": 0.70, "rho_a": 0.70,
    "rho_c_max": 0.95,     # above it items are near-duplicates
    "ave": 0.50,
    "htmt": 0.90,
    "vif": 5.0,
}


@dataclass(frozen=True)
class QualityInput:
    """Everything the quality measures read.

    Attributes:
        latent: the L construct names.
        indicators: the p indicator names, block by block.
        blocks: positions of each construct's indicators in ``indicators``.
        reflective: (L,) True for reflective (mode A / ``=~``) blocks.
        correlation: (p, p) indicator correlations.
        loadings: (p,) standardized loading of each indicator on its construct.
        residuals: (p,) standardized residual variances (1 - loading^2 for PLS).
        construct_cor: (L, L) construct correlations.
        predecessors: (L, L) boolean, ``[j, k]`` True if k has a path to j.
        cross_loadings: (p, L) indicator-construct correlations, if defined.
        rho_a: (L,) Dijkstra-Henseler rho_A, if defined (PLS only).
        effect_sizes: precomputed ``(outcome, predictor, f2)`` triples (PLS re-estimates the
            model without each path); by default f^2 comes from ``construct_cor``.
    """

    latent: tuple[str, ...]
    indicators: tuple[str, ...]
    blocks: tuple[np.ndarray, ...]
    reflective: np.ndarray
    correlation: np.ndarray
    loadings: np.ndarray
    residuals: np.ndarray
    construct_cor: np.ndarray
    predecessors: np.ndarray
    cross_loadings: np.ndarray | None = None
    rho_a: np.ndarray | None = None
    effect_sizes: list[tuple[int, int, float]] | None = None


@dataclass(frozen=True)
class MeasurementQuality:
    """The quality tables and the list of values that miss their thresholds."""

    reliability: pd.DataFrame
    loadings: pd.DataFrame
    fornell_larcker: pd.DataFrame
    htmt: pd.DataFrame
    cross_loadings: pd.DataFrame | None
    indicator_vif: pd.DataFrame
    inner_vif: pd.DataFrame
    f_squared: pd.DataFrame
    flags: list[str] = field(default_factory=list)
    htmt2: pd.DataFrame | None = None

    def to_dict(self) -> dict:
        """JSON-ready tables (NaN as None)."""
        def records(frame: pd.DataFrame | None) -> list[dict] | None:
            if frame is None:
                return None
            clean = frame.astype(object).where(frame.notna(), None)
            return clean.reset_index().to_dict(orient="records")

        return {"reliability": records(self.reliability), "loadings": records(self.loadings),
                "fornell_larcker": records(self.fornell_larcker), "htmt": records(self.htmt),
                "cross_loadings": records(self.cross_loadings),
                "indicator_vif": records(self.indicator_vif),
                "inner_vif": records(self.inner_vif), "f_squared": records(self.f_squared),
                "htmt2": records(self.htmt2), "flags": list(self.flags)}


def cronbach_alpha(block_correlation: np.ndarray) -> float:
    """Standardized Cronbach's alpha of one block: k/(k-1) (1 - k / sum(R))."""
    k = len(block_correlation)
    if k < 2:
        return np.nan
    return k / (k - 1) * (1 - k / block_correlation.sum())


def composite_reliability(loadings: np.ndarray, residuals: np.ndarray) -> float:
    """rho_C = (sum l)^2 / ((sum l)^2 + sum theta) (Jöreskog 1971)."""
    total = loadings.sum() ** 2
    return total / (total + residuals.sum())


def average_variance_extracted(loadings: np.ndarray, residuals: np.ndarray) -> float:
    """AVE = sum l^2 / (sum l^2 + sum theta) (Fornell & Larcker 1981)."""
    squares = (loadings ** 2).sum()
    return squares / (squares + residuals.sum())


def heterotrait_monotrait(correlation: np.ndarray, blocks: tuple[np.ndarray, ...], *,
                          geometric: bool = False) -> np.ndarray:
    """(L, L) HTMT: mean between-block correlation over the geometric mean of the mean
    within-block correlations (Henseler et al. 2015); single items count as 1. With
    ``geometric`` every mean is a geometric mean: HTMT2 (Roemer, Schuberth & Henseler 2021),
    consistent also when a block's loadings differ (tau-equivalence not needed).

    Absolute correlations are averaged, as seminr does, so that a reverse-worded item does
    not cancel the others (cSEM's HTMT2 takes the signed ones; they agree when every
    correlation is positive).
    """
    correlation = np.abs(correlation)

    def mean(values: np.ndarray) -> float:
        if not geometric:
            return values.mean()
        with np.errstate(divide="ignore"):  # a zero correlation makes the mean 0
            return float(np.exp(np.log(values).mean()))

    size = len(blocks)
    monotrait = np.ones(size)
    for j, block in enumerate(blocks):
        if len(block) > 1:
            inner = correlation[np.ix_(block, block)]
            monotrait[j] = mean(inner[np.triu_indices(len(block), 1)])
    values = np.full((size, size), np.nan)
    for a in range(size):
        for b in range(a + 1, size):
            hetero = mean(correlation[np.ix_(blocks[a], blocks[b])].ravel())
            values[a, b] = values[b, a] = hetero / np.sqrt(monotrait[a] * monotrait[b])
    return values


def variance_inflation(correlation: np.ndarray) -> np.ndarray:
    """VIF of each variable against the others: diag(R^-1)."""
    if len(correlation) < 2:
        return np.ones(len(correlation))
    try:
        return np.diag(np.linalg.inv(correlation))
    except np.linalg.LinAlgError:  # perfectly collinear variables
        return np.full(len(correlation), np.inf)


def f_squared(construct_cor: np.ndarray, predecessors: np.ndarray
              ) -> list[tuple[int, int, float]]:
    """Cohen's f^2 of every path: (R^2 with - R^2 without) / (1 - R^2 with), both R^2 from
    the same construct correlations."""
    out = []
    for j in np.flatnonzero(predecessors.any(axis=1)):
        before = np.flatnonzero(predecessors[j])
        full = r_squared_from(construct_cor, before, j)
        for k in before:
            reduced = r_squared_from(construct_cor, before[before != k], j)
            out.append((j, int(k), (full - reduced) / (1 - full)))
    return out


def r_squared_from(construct_cor: np.ndarray, predictors: np.ndarray, outcome: int) -> float:
    if not len(predictors):
        return 0.0
    sub = construct_cor[np.ix_(predictors, predictors)]
    vector = construct_cor[predictors, outcome]
    return float(vector @ np.linalg.solve(sub, vector))


def measurement_quality(data: QualityInput) -> MeasurementQuality:
    """Every quality table, with the values that miss their thresholds flagged."""
    latent = list(data.latent)
    rows = []
    for j, block in enumerate(data.blocks):
        reflective = bool(data.reflective[j])
        loadings, residuals = data.loadings[block], data.residuals[block]
        block_cor = data.correlation[np.ix_(block, block)]
        rows.append({
            "items": len(block),
            "alpha": cronbach_alpha(block_cor) if reflective else np.nan,
            "rho_c": composite_reliability(loadings, residuals) if reflective else np.nan,
            "rho_a": (data.rho_a[j] if data.rho_a is not None and reflective else np.nan),
            "ave": average_variance_extracted(loadings, residuals) if reflective else np.nan,
        })
    reliability = pd.DataFrame(rows, index=pd.Index(latent, name="latent"))
    loadings = pd.DataFrame({"latent": [latent[j] for j, b in enumerate(data.blocks) for _ in b],
                             "indicator": list(data.indicators), "loading": data.loadings,
                             "reflective": [bool(data.reflective[j])
                                            for j, b in enumerate(data.blocks) for _ in b]})
    fornell_values = data.construct_cor.copy()
    np.fill_diagonal(fornell_values, np.sqrt(reliability["ave"].to_numpy(dtype=float)))
    fornell = pd.DataFrame(fornell_values, index=latent, columns=latent)
    htmt = pd.DataFrame(heterotrait_monotrait(data.correlation, data.blocks), index=latent,
                        columns=latent)
    cross = (None if data.cross_loadings is None else
             pd.DataFrame(data.cross_loadings, index=list(data.indicators), columns=latent))
    indicator_vif = pd.DataFrame(
        [(latent[j], data.indicators[i], vif) for j, block in enumerate(data.blocks)
         for i, vif in zip(block, variance_inflation(data.correlation[np.ix_(block, block)]),
                           strict=True)], columns=["latent", "indicator", "vif"])
    inner_vif = pd.DataFrame(
        [(latent[j], latent[k], vif) for j in np.flatnonzero(data.predecessors.any(axis=1))
         for k, vif in zip(np.flatnonzero(data.predecessors[j]), variance_inflation(
             data.construct_cor[np.ix_(*[np.flatnonzero(data.predecessors[j])] * 2)]),
             strict=True)], columns=["outcome", "predictor", "vif"])
    triples = data.effect_sizes
    if triples is None:
        triples = f_squared(data.construct_cor, data.predecessors)
    effect_sizes = pd.DataFrame([(latent[j], latent[k], f2) for j, k, f2 in triples],
                                columns=["outcome", "predictor", "f2"])
    htmt2 = pd.DataFrame(heterotrait_monotrait(data.correlation, data.blocks, geometric=True),
                         index=latent, columns=latent)
    quality = MeasurementQuality(reliability, loadings, fornell, htmt, cross, indicator_vif,
                                 inner_vif, effect_sizes, htmt2=htmt2)
    quality.flags.extend(_flags(quality))
    return quality


def _flags(quality: MeasurementQuality) -> list[str]:
    flags = []
    t = THRESHOLDS
    # Plain column iteration: DataFrame.iterrows builds a Series per row (slow).
    loadings = quality.loadings
    for indicator, latent, loading, reflective in zip(
            loadings["indicator"], loadings["latent"], loadings["loading"],
            loadings["reflective"], strict=True):
        if reflective and loading < t["loading"]:
            flags.append(f"loading of {indicator} on {latent} is "
                         f"{loading:.3f} (< {t['loading']})")
    reliability = quality.reliability
    for name, row in zip(reliability.index, reliability.to_dict("records"), strict=True):
        if not row["items"] > 1:
            continue
        for measure in ("alpha", "rho_c", "rho_a", "ave"):
            if row[measure] < t[measure]:
                flags.append(f"{measure} of {name} is {row[measure]:.3f} (< {t[measure]})")
        if row["rho_c"] > t["rho_c_max"]:
            flags.append(f"rho_c of {name} is {row['rho_c']:.3f} (> {t['rho_c_max']}: "
                         "items may be redundant)")
    flags += _discriminant_flags(quality)
    for table, what in ((quality.indicator_vif, "indicator"), (quality.inner_vif, "predictor")):
        for name, vif in zip(table[what], table["vif"], strict=True):
            if vif > t["vif"]:
                flags.append(f"VIF of {name} is {vif:.2f} (> {t['vif']})")
    return flags


def _discriminant_flags(quality: MeasurementQuality) -> list[str]:
    flags = []
    names = list(quality.htmt.index)
    fornell = quality.fornell_larcker.to_numpy()
    for a in range(len(names)):
        for b in range(a + 1, len(names)):
            value = quality.htmt.iat[a, b]
            if value > THRESHOLDS["htmt"]:
                flags.append(f"HTMT of {names[a]} and {names[b]} is {value:.3f} "
                             f"(> {THRESHOLDS['htmt']})")
            if abs(fornell[a, b]) > min(fornell[a, a], fornell[b, b]):
                flags.append(f"Fornell-Larcker: {names[a]} and {names[b]} correlate "
                             f"{fornell[a, b]:.3f}, more than the square root of an AVE")
    return flags
