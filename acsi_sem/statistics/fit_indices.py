"""Fit indices of a maximum likelihood solution, defined as lavaan's ``fitMeasures()``.

Where semopy differs (its AIC/BIC use its own likelihood, its RMSEA divides by N - 1 and
it has no SRMR, RMSEA interval or lavaan's GFI), these follow lavaan 0.6.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import special

from acsi_sem.numerics.fiml_corrected import CorrectedTest
from acsi_sem.numerics.ml import ml_value
from acsi_sem.numerics.robust import independence_covariance

FIT_NAMES = ["npar", "chisq", "df", "pvalue", "baseline_chisq", "baseline_df",
             "baseline_pvalue", "cfi", "tli", "nfi", "rmsea", "rmsea_ci_lower",
             "rmsea_ci_upper", "rmsea_pvalue", "srmr", "aic", "bic", "bic2", "loglik",
             "unrestricted_loglik", "gfi", "agfi", "ntotal"]


@dataclass(frozen=True)
class MomentFit:
    """What the indices need: sample and implied moments of one ML solution.

    Attributes:
        sample_cov: (p, p) sample covariance, divisor N.
        implied_cov: (p, p) model-implied covariance.
        n_obs: N, the number of respondents used.
        npar: number of free parameters (intercepts included with a mean structure).
        n_moments: p(p+1)/2, plus p with a mean structure.
        meanstructure: whether intercepts are modelled.
        sample_means, implied_means: (p,) observed and model-implied means, where the
            means are modelled rather than saturated (multi-group models).
        covariates: positions of the observed exogenous covariates, whose moments are
            fixed at the sample's (lavaan's fixed.x): they are not counted as data, and the
            likelihoods are conditional on them.
    """

    sample_cov: np.ndarray
    implied_cov: np.ndarray
    n_obs: int
    npar: int
    n_moments: int
    meanstructure: bool = False
    sample_means: np.ndarray | None = None
    implied_means: np.ndarray | None = None
    covariates: tuple[int, ...] = ()

    @property
    def size(self) -> ModelSize:
        """The counts the indices need, for this one group."""
        nx = len(self.covariates)
        fixed = nx * (nx + 1) // 2 + (nx if self.meanstructure else 0)
        return ModelSize(n_obs=self.n_obs, npar=self.npar, n_moments=self.n_moments - fixed,
                         n_observed=len(self.sample_cov), n_covariates=nx)

    @property
    def covariate_loglik(self) -> float:
        """The covariates' own saturated log-likelihood, which lavaan leaves out of every
        log-likelihood under fixed.x (0 without covariates)."""
        if not self.covariates:
            return 0.0
        block = self.sample_cov[np.ix_(self.covariates, self.covariates)]
        return _loglik(block, block, self.n_obs)

    @property
    def mean_residual(self) -> np.ndarray | None:
        """(p,) observed minus implied means, or ``None`` with saturated means."""
        if self.sample_means is None or self.implied_means is None:
            return None
        return self.sample_means - self.implied_means


@dataclass(frozen=True)
class ModelSize:
    """Counts behind df, the information criteria and RMSEA.

    Attributes:
        n_obs: N, respondents over all groups.
        npar: distinct free parameters.
        n_moments: sample moments over all groups.
        n_observed: p, observed variables.
        n_groups: G.
        n_covariates: observed exogenous covariates (fixed.x), whose correlations are not
            part of the baseline model's misfit.
    """

    n_obs: int
    npar: int
    n_moments: int
    n_observed: int
    n_groups: int = 1
    n_covariates: int = 0


def fit_indices(moments: MomentFit) -> pd.Series:
    """Every index in :data:`FIT_NAMES` as a Series (NaN where undefined)."""
    s, sigma, n = moments.sample_cov, moments.implied_cov, moments.n_obs
    conditional = moments.covariate_loglik
    loglik = _loglik(sigma, s, n, moments.mean_residual) - conditional
    unrestricted = _loglik(s, s, n) - conditional
    independence = independence_covariance(s, moments.covariates)
    baseline = unrestricted - n * ml_value(independence, s) / 2
    df = moments.size.n_moments - moments.npar
    if moments.mean_residual is None:
        return _indices(moments.size, loglik, unrestricted, baseline, _srmr(s, sigma),
                        _gfi(s, sigma, moments.n_moments, df, moments.covariates))
    # lavaan's SRMR and GFI with a mean structure count the means' residuals too.
    srmr = _srmr(s, sigma, moments.sample_means, moments.implied_means)
    gfi = (_gfi_with_means(moments) if not moments.covariates
           else _gfi_without(s, sigma, moments.covariates,
                             (moments.sample_means, moments.implied_means)))
    agfi = 1.0 - moments.n_moments / df * (1.0 - gfi) if df > 0 else np.nan
    return _indices(moments.size, loglik, unrestricted, baseline, srmr,
                    {"gfi": gfi, "agfi": agfi})


def grouped_fit_indices(groups: list[MomentFit], npar: int) -> pd.Series:
    """Indices of a multi-group ML solution, lavaan's way: log-likelihoods and chi-squares
    add over groups, SRMR and GFI are averages weighted by group size, RMSEA is multiplied
    by the square root of the number of groups and the baseline model is fitted in each
    group separately. Under fixed.x (``MomentFit.covariates``) each group's
    log-likelihoods are conditional on its covariates, whose block its baseline keeps.

    Args:
        groups: one :class:`MomentFit` per group, with modelled means.
        npar: distinct free parameters over all groups.
    """
    conditional = sum(g.covariate_loglik for g in groups)
    loglik = sum(_loglik(g.implied_cov, g.sample_cov, g.n_obs, g.mean_residual)
                 for g in groups) - conditional
    unrestricted = sum(_loglik(g.sample_cov, g.sample_cov, g.n_obs) for g in groups
                       ) - conditional
    baseline = unrestricted - sum(
        g.n_obs * ml_value(independence_covariance(g.sample_cov, g.covariates),
                           g.sample_cov) / 2 for g in groups)
    size = _grouped_size(groups, npar)
    gfi = sum(w * _group_gfi(g) for w, g in zip(_group_weights(groups), groups, strict=True))
    df = size.n_moments - npar
    # lavaan's AGFI counts every moment, the covariates' own included.
    n_moments = sum(g.n_moments for g in groups)
    agfi = 1.0 - n_moments / df * (1.0 - gfi) if df > 0 else np.nan
    return _indices(size, loglik, unrestricted, baseline, _grouped_srmr(groups),
                    {"gfi": gfi, "agfi": agfi})


def _group_gfi(group: MomentFit) -> float:
    """One group's GFI over its means and covariances, the fixed.x covariates' own left
    out."""
    if not group.covariates:
        return _gfi_with_means(group)
    return _gfi_without(group.sample_cov, group.implied_cov, group.covariates,
                        (group.sample_means, group.implied_means))


def fiml_fit_indices(size: ModelSize, loglik: float, unrestricted: float,
                     baseline: float, srmr: float) -> pd.Series:
    """Indices of a FIML solution from its log-likelihoods (model, saturated by EM, and
    independence; under fixed.x each without the covariates' own); ``srmr`` compares the
    EM moments, means included, with the implied ones. GFI and AGFI are left undefined:
    lavaan weighs them by the saturated model's observed information, which acsi-sem does
    not compute."""
    undefined = {"gfi": np.nan, "agfi": np.nan}
    return _indices(size, loglik, unrestricted, baseline, srmr, undefined)


def grouped_fiml_fit_indices(groups: list[MomentFit], npar: int, loglik: float,
                             unrestricted: float, baseline: float) -> pd.Series:
    """:func:`fiml_fit_indices` of a multi-group FIML solution: the log-likelihoods summed
    over groups, ``groups`` holding each group's EM moments as its sample moments (for
    SRMR, weighted by group size as in :func:`grouped_fit_indices`)."""
    return fiml_fit_indices(_grouped_size(groups, npar), loglik, unrestricted, baseline,
                            _grouped_srmr(groups))


def _group_weights(groups: list[MomentFit]) -> list[float]:
    n = sum(group.n_obs for group in groups)
    return [group.n_obs / n for group in groups]


def _grouped_size(groups: list[MomentFit], npar: int) -> ModelSize:
    """The counts over all groups: each group's moments less its fixed.x covariates'."""
    return ModelSize(n_obs=sum(g.n_obs for g in groups), npar=npar,
                     n_moments=sum(g.size.n_moments for g in groups),
                     n_observed=len(groups[0].sample_cov), n_groups=len(groups),
                     n_covariates=groups[0].size.n_covariates)


def _grouped_srmr(groups: list[MomentFit]) -> float:
    """lavaan's multi-group SRMR: the groups' SRMRs (means included) weighted by size."""
    return sum(w * _srmr(g.sample_cov, g.implied_cov, g.sample_means, g.implied_means)
               for w, g in zip(_group_weights(groups), groups, strict=True))


def with_corrected_robust_indices(indices: pd.Series, corrected: CorrectedTest, *,
                                  groups: int = 1) -> pd.Series:
    """``indices`` with its ``*_robust`` CFI, TLI and RMSEA (interval and close-fit p-value)
    set to lavaan's under FIML (added where an ML fit has none): the population-corrected
    formulas of
    :func:`robust_indices` applied to the FIML-corrected statistics and c-hats
    (:func:`~acsi_sem.numerics.fiml_corrected.fiml_corrected_test`)."""
    df = indices["df"]
    # Without degrees of freedom lavaan's formulas fall back to the uncorrected ones
    # (lav_fit_cfi's test of df > 0): CFI and TLI 1, RMSEA 0 for a saturated model.
    c_hat, c_base = ((corrected.c_hat, corrected.baseline_c_hat) if df > 0 else (1.0, 1.0))
    robust = _robust_indices(corrected.chisq, df, corrected.baseline_chisq,
                             indices["baseline_df"], indices["ntotal"], c_hat, c_base,
                             groups=groups)
    indices = indices.copy()
    for name, value in robust.items():
        indices[name] = value
    return indices


def _indices(size: ModelSize, loglik: float, unrestricted: float, baseline: float,
             srmr: float, gfi: dict[str, float]) -> pd.Series:
    n, p, npar = size.n_obs, size.n_observed, size.npar
    chisq = max(2 * (unrestricted - loglik), 0.0)
    df = size.n_moments - npar
    baseline_chisq = 2 * (unrestricted - baseline)
    nx = size.n_covariates
    baseline_df = size.n_groups * (p * (p - 1) / 2 - nx * (nx - 1) / 2)
    values = {
        "npar": npar,
        **_test_indices(chisq, df, baseline_chisq, baseline_df, n, groups=size.n_groups),
        "srmr": srmr,
        "aic": -2 * loglik + 2 * npar,
        "bic": -2 * loglik + npar * np.log(n),
        # lavaan's sample-size adjusted BIC (Sclove 1987): N* = (N + 2) / 24.
        "bic2": -2 * loglik + npar * np.log((n + 2) / 24),
        "loglik": loglik, "unrestricted_loglik": unrestricted,
        **gfi,
        "ntotal": n,
    }
    return pd.Series(values, index=FIT_NAMES, dtype=float)


def _test_indices(chisq: float, df: float, base: float, base_df: float, n: int, *,
                  groups: int = 1) -> dict[str, float]:
    """The test, its baseline and the indices made of them (CFI, TLI, NFI, RMSEA with its
    interval), ``n`` being the N of RMSEA."""
    return {"chisq": chisq, "df": df,
            "pvalue": special.chdtrc(df, chisq) if df > 0 else np.nan,
            "baseline_chisq": base, "baseline_df": base_df,
            "baseline_pvalue": special.chdtrc(base_df, base),
            "cfi": _cfi(chisq, df, base, base_df), "tli": _tli(chisq, df, base, base_df),
            "nfi": _nfi(chisq, df, base, base_df),
            **_rmsea(chisq, df, n, groups=groups)}


def _nfi(chisq: float, df: float, base: float, base_df: float) -> float:
    """lavaan's lav_fit_nfi: undefined where the model has more degrees of freedom than
    the baseline (the baseline of a model with covariates given, conditional.x) or the
    baseline fits exactly."""
    if df > base_df or base <= 0:
        return np.nan
    return (base - chisq) / base if df > 0 else 1.0


def _robust_indices(chisq: float, df: float, base: float, base_df: float, n: int,
                    c_hat: float, c_base: float, *, groups: int = 1) -> dict[str, float]:
    """Population-corrected CFI, TLI and RMSEA (Brosseau-Liard, Savalei and Li; Savalei):
    a statistic and its baseline less c-hat times their degrees of freedom."""
    return {"cfi_robust": _cfi(chisq, c_hat * df, base, c_base * base_df),
            "tli_robust": _tli_excess(chisq - c_hat * df, df, base - c_base * base_df,
                                      base_df),
            **{f"{key}_robust": value for key, value
               in _rmsea(chisq / c_hat, df, n, c_hat=c_hat, groups=groups).items()}}


ROBUST_NAMES = ["chisq_scaled", "df_scaled", "pvalue_scaled", "scaling_factor",
                "baseline_chisq_scaled", "baseline_scaling_factor", "cfi_scaled", "tli_scaled",
                "rmsea_scaled", "rmsea_ci_lower_scaled", "rmsea_ci_upper_scaled",
                "rmsea_pvalue_scaled", "cfi_robust", "tli_robust", "rmsea_robust",
                "rmsea_ci_lower_robust", "rmsea_ci_upper_robust", "rmsea_pvalue_robust"]


def robust_indices(plain: pd.Series, scaling: float, baseline_scaling: float, *,
                   groups: int = 1) -> pd.Series:
    """lavaan's scaled and robust indices for a test divided by a scaling factor c.

    ``*_scaled`` use the scaled chi-squares (lavaan's RMSEA puts c into the degrees of
    freedom instead, which gives the same point estimate); ``*_robust`` are the population
    corrected indices of Brosseau-Liard, Savalei and Li (2012, 2014): the unscaled
    chi-square minus c times its degrees of freedom.

    Args:
        plain: the indices of :func:`fit_indices` (``chisq, df, baseline_chisq, ...``).
        scaling, baseline_scaling: c of the model and of the baseline model.
        groups: G, for RMSEA's factor sqrt(G).
    """
    chisq, df, n = plain["chisq"], plain["df"], plain["ntotal"]
    base, base_df = plain["baseline_chisq"], plain["baseline_df"]
    # A saturated model has no scaling factor: lavaan leaves its test unscaled (CFI 1).
    scaled = chisq / scaling if df > 0 else chisq
    base_scaled = base / baseline_scaling
    scaled_rmsea = _rmsea(chisq, scaling * df, n, groups=groups)
    values = {
        "chisq_scaled": scaled, "df_scaled": df,
        "pvalue_scaled": special.chdtrc(df, scaled) if df > 0 else np.nan,
        "scaling_factor": scaling, "baseline_chisq_scaled": base_scaled,
        "baseline_scaling_factor": baseline_scaling,
        "cfi_scaled": _cfi(scaled, df, base_scaled, base_df),
        "tli_scaled": _tli(scaled, df, base_scaled, base_df),
        **{f"{key}_scaled": value for key, value in scaled_rmsea.items()},
        **_robust_indices(chisq, df, base, base_df, n, scaling, baseline_scaling,
                          groups=groups),
    }
    if df <= 0:
        values["tli_robust"] = np.nan  # lavaan's NA: c-hat times df is 0 over 0
    return pd.Series(values, index=ROBUST_NAMES, dtype=float)


ORDINAL_NAMES = ["chisq_scaled", "df_scaled", "pvalue_scaled", "scaling_factor",
                 "shift_parameter", "baseline_chisq_scaled", "baseline_scaling_factor",
                 "cfi_scaled", "tli_scaled", "rmsea_scaled", "rmsea_ci_lower_scaled",
                 "rmsea_ci_upper_scaled", "rmsea_pvalue_scaled", "cfi_robust", "tli_robust",
                 "rmsea_robust", "rmsea_ci_lower_robust", "rmsea_ci_upper_robust",
                 "rmsea_pvalue_robust"]


@dataclass(frozen=True)
class OrdinalTest:
    """The DWLS test statistics an ordinal (WLSMV) fit reports.

    Attributes:
        chisq, df: the DWLS statistic, (N - 1) F, and its degrees of freedom.
        scale, shift: a and b of the scaled-shifted statistic a chisq + b.
        baseline_chisq, baseline_df, baseline_scale, baseline_shift: the same for the
            independence model.
        catml: Savalei's robust statistic and c-hat, and the same for the baseline
            (``chisq, scaling, baseline_chisq, baseline_scaling``).
        n_obs: N, respondents.
        npar: free parameters.
        srmr: root mean square of the correlation residuals (lavaan's divisor p(p+1)/2).
        gfi, agfi: lavaan's GFI with the DWLS weights.
        groups: G, the number of groups (RMSEA's N is N - G and it is scaled by sqrt(G)).
    """

    chisq: float
    df: float
    scale: float
    shift: float
    baseline_chisq: float
    baseline_df: float
    baseline_scale: float
    baseline_shift: float
    catml: tuple[float, float, float, float]
    n_obs: int
    npar: int
    srmr: float
    gfi: float
    agfi: float
    groups: int = 1


def ordinal_fit_indices(test: OrdinalTest) -> pd.Series:
    """lavaan's fit measures for WLSMV: the plain DWLS ones, ``*_scaled`` from the
    scaled-shifted statistics and ``*_robust`` from catML (Savalei 2021). RMSEA uses
    N - 1 as lavaan does for every estimator but ML; there is no likelihood, so loglik and
    the information criteria are undefined."""
    chisq, df, base, base_df = test.chisq, test.df, test.baseline_chisq, test.baseline_df
    n, groups = test.n_obs - test.groups, test.groups
    scaled = test.scale * chisq + test.shift
    base_scaled = test.baseline_scale * base + test.baseline_shift
    robust, c_hat, robust_base, c_base = test.catml
    plain = {"npar": test.npar, **_test_indices(chisq, df, base, base_df, n, groups=groups),
             "srmr": test.srmr,
             "aic": np.nan, "bic": np.nan, "bic2": np.nan, "loglik": np.nan,
             "unrestricted_loglik": np.nan, "gfi": test.gfi, "agfi": test.agfi,
             "ntotal": test.n_obs}
    ordinal = {
        "chisq_scaled": scaled, "df_scaled": df,
        "pvalue_scaled": special.chdtrc(df, scaled) if df > 0 else np.nan,
        "scaling_factor": 1 / test.scale, "shift_parameter": test.shift,
        "baseline_chisq_scaled": base_scaled,
        "baseline_scaling_factor": 1 / test.baseline_scale,
        "cfi_scaled": _cfi(scaled, df, base_scaled, base_df),
        "tli_scaled": _tli(scaled, df, base_scaled, base_df),
        **{f"{key}_scaled": value
           for key, value in _rmsea(scaled, df, n, groups=groups).items()},
    }
    if np.isfinite(robust):
        ordinal.update(_robust_indices(robust, df, robust_base, base_df, n, c_hat, c_base))
    return pd.concat([pd.Series(plain, index=FIT_NAMES, dtype=float),
                      pd.Series(ordinal, index=ORDINAL_NAMES, dtype=float)])


def _loglik(sigma: np.ndarray, s: np.ndarray, n: int,
            mean_residual: np.ndarray | None = None) -> float:
    # With saturated means the mean term vanishes at the ML estimate.
    p = len(s)
    _, logdet = np.linalg.slogdet(sigma)
    moments = s if mean_residual is None else s + np.outer(mean_residual, mean_residual)
    return float(-n / 2 * (p * np.log(2 * np.pi) + logdet
                           + np.trace(np.linalg.solve(sigma, moments))))


def _cfi(chisq: float, df: float, base: float, base_df: float) -> float:
    # lavaan: 1 - max(X2 - df, 0) / max(X2 - df, X2.null - df.null, 0)
    model_excess = max(chisq - df, 0.0)
    worst = max(chisq - df, base - base_df, 0.0)
    return 1.0 if worst == 0 else 1.0 - model_excess / worst


def _tli(chisq: float, df: float, base: float, base_df: float) -> float:
    if df <= 0:
        return 1.0
    return (base / base_df - chisq / df) / (base / base_df - 1.0)


def _tli_excess(excess: float, df: float, base_excess: float, base_df: float) -> float:
    """TLI from chi-squares already reduced by their expected values."""
    if df <= 0:
        return 1.0
    return 1.0 - (excess / df) / (base_excess / base_df)


def _rmsea(chisq: float, df: float, n: int, level: float = 0.90,
           c_hat: float = 1.0, groups: int = 1) -> dict[str, float]:
    """RMSEA with lavaan's N (not N - 1), its 90% interval and the test of close fit.

    ``c_hat`` is lavaan's correction for robust RMSEA: ``chisq`` is then the scaled
    statistic and the noncentrality is multiplied by c. With G groups lavaan multiplies
    RMSEA and its bounds by sqrt(G) (Steiger 1998).
    """
    if df <= 0:
        return {"rmsea": 0.0, "rmsea_ci_lower": 0.0, "rmsea_ci_upper": 0.0,
                "rmsea_pvalue": np.nan}
    root_groups = np.sqrt(groups)
    rmsea = np.sqrt(max(c_hat * (chisq - df), 0.0) / (df * n)) * root_groups
    tail = (1 - level) / 2
    lower = _noncentrality(chisq, df, 1 - tail)
    upper = _noncentrality(chisq, df, tail)
    return {"rmsea": rmsea,
            "rmsea_ci_lower": np.sqrt(c_hat * lower / (n * df)) * root_groups,
            "rmsea_ci_upper": np.sqrt(c_hat * upper / (n * df)) * root_groups,
            "rmsea_pvalue": 1 - special.chndtr(chisq, df, n * df * 0.05 ** 2 / (c_hat * groups))}


def _noncentrality(chisq: float, df: float, probability: float) -> float:
    """The lambda with P(X2 <= chisq | df, lambda) = probability, or 0 if none is positive."""
    def excess(lam: float) -> float:
        return _chi2_cdf(chisq, df, lam) - probability

    if excess(0.0) < 0:
        return 0.0
    high = max(chisq, 1.0)
    while excess(high) > 0:
        high *= 2
    return _bisect(excess, 0.0, high, tolerance=1e-12)


def _bisect(function, low: float, high: float, *, tolerance: float) -> float:
    """The root of ``function`` in ``[low, high]`` (positive at ``low``, not positive at
    ``high``) to within ``tolerance``: bisection, so the fit path need not import
    scipy.optimize (about 0.1 s of the command's start-up) for one bracketed root."""
    while high - low > tolerance:
        middle = (low + high) / 2
        if middle in (low, high):  # no float left between them
            break
        if function(middle) > 0:
            low = middle
        else:
            high = middle
    return (low + high) / 2


def _chi2_cdf(x: float, df: float, lam: float) -> float:
    return special.chdtr(df, x) if lam == 0 else special.chndtr(x, df, lam)


def _srmr(s: np.ndarray, sigma: np.ndarray, means: np.ndarray | None = None,
          implied_means: np.ndarray | None = None) -> float:
    """Bentler's SRMR: residual correlations scaled by the observed SDs, diagonal included,
    and with a modelled mean structure the standardized mean residuals too."""
    sd = np.sqrt(np.diag(s))
    residual = (s - sigma) / np.outer(sd, sd)
    terms = residual[np.tril_indices(len(s))]
    if means is not None:
        terms = np.concatenate([terms, (means - implied_means) / sd])
    return float(np.sqrt(np.mean(terms ** 2)))


def mean_structure_srmr(s: np.ndarray, sigma: np.ndarray, means: np.ndarray,
                        implied_means: np.ndarray) -> float:
    """SRMR over covariances (p, p) and means (p,) together, as lavaan with a mean
    structure."""
    return _srmr(s, sigma, means, implied_means)


def _gfi_without(s: np.ndarray, sigma: np.ndarray, covariates: tuple[int, ...],
                 means: tuple[np.ndarray, np.ndarray] | None = None) -> float:
    """GFI as the quadratic form of vech(S - Sigma) in (1/2) D'(Sigma^-1 (x) Sigma^-1) D,
    over every moment but the covariates' own; with ``means`` (sample, implied; (p,) each)
    also of the means' residuals in Sigma^-1, the covariates' means left out too."""
    from acsi_sem.numerics.robust import duplication_matrix

    p = len(s)
    rows, cols = np.triu_indices(p)
    keep = ~(np.isin(rows, covariates) & np.isin(cols, covariates))
    inverse = np.linalg.inv(sigma)
    duplication = duplication_matrix(p)[:, keep]
    weight = 0.5 * duplication.T @ np.kron(inverse, inverse) @ duplication
    residual, sample = (s - sigma)[rows, cols][keep], s[rows, cols][keep]
    badness, total = residual @ weight @ residual, sample @ weight @ sample
    if means is not None:
        free = np.setdiff1d(np.arange(p), covariates)
        mean_weight = inverse[np.ix_(free, free)]
        observed, implied = means[0][free], means[1][free]
        badness += (observed - implied) @ mean_weight @ (observed - implied)
        total += observed @ mean_weight @ observed
    return float(1.0 - badness / total)


def _gfi_with_means(group: MomentFit) -> float:
    """GFI over means and covariances, lavaan's weight: Sigma^-1 for the means and
    (1/2) D'(Sigma^-1 (x) Sigma^-1) D for the covariances."""
    sigma_inv = np.linalg.inv(group.implied_cov)
    residual = group.mean_residual
    misfit = (sigma_inv @ (group.sample_cov - group.implied_cov))
    weighted = sigma_inv @ group.sample_cov
    badness = residual @ sigma_inv @ residual + np.trace(misfit @ misfit) / 2
    total = (group.sample_means @ sigma_inv @ group.sample_means
             + np.trace(weighted @ weighted) / 2)
    return float(1.0 - badness / total)


def _gfi(s: np.ndarray, sigma: np.ndarray, n_moments: int, df: float,
         covariates: tuple[int, ...] = ()) -> dict[str, float]:
    """Jöreskog-Sörbom GFI for ML, weight Sigma^-1; AGFI as lavaan: 1 - nel/df (1 - GFI).
    The covariates' own (co)variances (fixed.x) are left out of GFI's sums, as lavaan."""
    if covariates:
        gfi = _gfi_without(s, sigma, covariates)
    else:
        weighted = np.linalg.solve(sigma, s)
        residual = weighted - np.eye(len(s))
        gfi = 1.0 - np.trace(residual @ residual) / np.trace(weighted @ weighted)
    agfi = 1.0 - n_moments / df * (1.0 - gfi) if df > 0 else np.nan
    return {"gfi": gfi, "agfi": agfi}


@dataclass(frozen=True)
class LeastSquaresMoments:
    """One group of a GLS, ULS, DWLS or WLS fit, as its indices need it.

    Attributes:
        discrepancy, baseline: F_g of the model and of the independence model.
        n_obs: N_g (the statistics use N_g - 1).
        n_moments, baseline_df: the group's data moments (less the fixed.x covariates'
            own) and its baseline model's degrees of freedom.
        observed, implied: (k,) the moments lavaan weighs (``WLS.obs``, ``WLS.est``).
        weight: (k, k) the estimator's W.
        sample_cov, implied_cov: (p, p) S (divisor N_g - 1) and Sigma.
        sample_means, implied_means: (p,) with a mean structure, else ``None``.
    """

    discrepancy: float
    baseline: float
    n_obs: int
    n_moments: int
    baseline_df: int
    observed: np.ndarray
    implied: np.ndarray
    weight: np.ndarray
    sample_cov: np.ndarray
    implied_cov: np.ndarray
    sample_means: np.ndarray | None = None
    implied_means: np.ndarray | None = None

    @property
    def gfi(self) -> float:
        """lav_fit_gfi: ``1 - r' W r / s' W s`` over the weighted moments."""
        residual = self.observed - self.implied
        return float(1.0 - residual @ self.weight @ residual
                     / (self.observed @ self.weight @ self.observed))


def least_squares_fit_indices(estimator: str, groups: list[LeastSquaresMoments],
                              npar: int) -> pd.Series:
    """lavaan's ``fitMeasures()`` of a GLS, ULS, DWLS or WLS fit in one group or several
    (no likelihood: loglik, AIC and BIC are undefined; ULS's test has no p-value, as
    lavaan's). The test is ``sum_g (N_g - 1) F_g``, RMSEA uses N - G
    (lav_utils_get_ntotal), SRMR and GFI are averages weighted by N_g and AGFI counts
    every weighted moment, as lavaan.

    Args:
        estimator: which of them (``"uls"`` drops the p-values of the test).
        groups: one entry per group.
        npar: free parameters (less independent equality constraints).
    """
    n = sum(g.n_obs for g in groups)
    multiplier = n - len(groups)
    chisq = sum((g.n_obs - 1) * g.discrepancy for g in groups)
    base = sum((g.n_obs - 1) * g.baseline for g in groups)
    df = sum(g.n_moments for g in groups) - npar
    base_df = sum(g.baseline_df for g in groups)
    shares = [g.n_obs / n for g in groups]
    srmr = sum(w * _srmr(g.sample_cov, g.implied_cov, g.sample_means, g.implied_means)
               for w, g in zip(shares, groups, strict=True))
    values = {"npar": npar, **_test_indices(chisq, df, base, base_df, multiplier,
                                            groups=len(groups)),
              "srmr": srmr, "ntotal": n}
    if estimator == "uls":
        values["pvalue"] = values["baseline_pvalue"] = np.nan
    gfi = sum(w * g.gfi for w, g in zip(shares, groups, strict=True))
    n_weighted = sum(len(g.observed) for g in groups)
    values.update(gfi=gfi, agfi=1.0 - n_weighted / df * (1.0 - gfi) if df > 0 else np.nan)
    return pd.Series(values, index=FIT_NAMES, dtype=float)


@dataclass(frozen=True)
class ScaledTest:
    """A scaled least-squares test as lavaan reports it: the statistic, its scaling factor
    and shift, and ``c_hat = tr(U Gamma) / df`` (the population correction of the robust
    indices)."""

    chisq: float
    scaling: float
    shift: float
    c_hat: float


def scaled_least_squares_indices(plain: pd.Series, model: ScaledTest, baseline: ScaledTest, *,
                                 shifted: bool, groups: int = 1) -> pd.Series:
    """lavaan's ``*_scaled`` and ``*_robust`` measures of ULSM, ULSMV and WLSM fits
    (lav_fit_cfi_lavobject, lav_fit_rmsea_lavobject for continuous data): CFI and TLI
    scaled from the scaled statistics; scaled RMSEA from the scaled-shifted statistic, or
    for Satorra-Bentler from the plain one on ``tr(U Gamma)`` degrees of freedom; the robust
    indices corrected by ``c_hat``, the scaled-shifted RMSEA interval from its statistic
    and its scaling factor.

    Args:
        plain: :func:`least_squares_fit_indices` of the fit.
        model, baseline: the scaled tests of the model and of the baseline model.
        shifted: whether the test is scaled-shifted (ULSMV) rather than Satorra-Bentler.
    """
    chisq, df, base, base_df = (plain["chisq"], plain["df"], plain["baseline_chisq"],
                                plain["baseline_df"])
    n = plain["ntotal"] - groups
    scaled_rmsea = (_rmsea(model.chisq, df, n, groups=groups) if shifted
                    else _rmsea(chisq, model.c_hat * df, n, groups=groups))
    values = {
        "chisq_scaled": model.chisq, "df_scaled": df,
        "pvalue_scaled": special.chdtrc(df, model.chisq) if df > 0 else np.nan,
        "scaling_factor": model.scaling, "shift_parameter": model.shift if shifted else np.nan,
        "baseline_chisq_scaled": baseline.chisq, "baseline_scaling_factor": baseline.scaling,
        "cfi_scaled": _cfi(model.chisq, df, baseline.chisq, base_df),
        "tli_scaled": _tli(model.chisq, df, baseline.chisq, base_df),
        **{f"{key}_scaled": value for key, value in scaled_rmsea.items()},
        **_robust_indices(chisq, df, base, base_df, n, model.c_hat, baseline.c_hat,
                          groups=groups),
    }
    if abs(model.c_hat - 1) < 1e-10 or abs(baseline.c_hat - 1) < 1e-10:
        # lav_fit_cfi and lav_fit_tli drop the correction unless both c-hats differ from
        # 1, which DWLS's baseline c-hat is (its diagonal weights make tr(U Gamma) = df).
        uncorrected = _robust_indices(chisq, df, base, base_df, n, 1.0, 1.0, groups=groups)
        values["cfi_robust"], values["tli_robust"] = (uncorrected["cfi_robust"],
                                                      uncorrected["tli_robust"])
    if shifted:
        interval = _rmsea(model.chisq, df, n, c_hat=model.scaling, groups=groups)
        for key in ("rmsea_ci_lower", "rmsea_ci_upper", "rmsea_pvalue"):
            values[f"{key}_robust"] = interval[key]
    return pd.Series(values, index=ORDINAL_NAMES, dtype=float)
