"""GLS, ULS, DWLS and WLS of continuous answers against lavaan 0.6.14
(tests/fixtures/lavaan/make_least_squares_fixtures.R and
make_least_squares_more_fixtures.R): covariance and mean structures, observed covariates,
groups."""

from __future__ import annotations

import numpy as np
import pytest

import acsi_sem
from acsi_sem.api import prepare
from acsi_sem.errors import AcsiSemError
from acsi_sem.estimators.least_squares import fit_least_squares, least_squares_indices
from acsi_sem.numerics.wls import cross_product_covariance, moment_weights
from tests.conftest import (
    ROOT,
    SCHOOLS,
    assert_close,
    assert_matches_lavaan,
    lavaan_fit,
    lavaan_parameters,
    match_rows,
)

MODELS = ROOT / "tests" / "fixtures" / "models"
DATA = ROOT / "tests" / "fixtures" / "data"
CASES = {**{f"hs_cfa_{e}": ("hs_cfa", "holzinger1939.csv", e) for e in
            ("gls", "uls", "dwls", "wls")},
         **{f"poldem_{e}": ("poldem", "political_democracy.csv", e) for e in ("gls", "dwls")}}
ESTIMATORS = ("gls", "uls", "dwls", "wls")
MORE = {**{f"hs_cfa_means_{e}": ("hs_cfa_means", e) for e in ESTIMATORS},
        **{f"hs_latent_means_{e}": ("hs_latent_means", e) for e in ESTIMATORS},
        **{f"hs_cfa_ageyr_{e}": ("hs_cfa_ageyr", e) for e in ESTIMATORS},
        **{f"hs_covariates_{e}": ("hs_covariates", e) for e in ESTIMATORS},
        **{f"hs_cfa_ageyr_means_{e}": ("hs_cfa_ageyr_means", e) for e in ("gls", "dwls", "wls")}}
GROUPS = {**{f"hs_scalar_{e}": ("hs_cfa", e, "loadings, intercepts") for e in ESTIMATORS},
          "hs_metric_gls": ("hs_cfa", "gls", "loadings"),
          **{f"hs_covariates_groups_{e}": ("hs_covariates", e, "loadings")
             for e in ("gls", "dwls")}}
FIXED_X = {**{f"hs_covariates_fixed_x_{e}": ("hs_covariates", e) for e in ESTIMATORS},
           **{f"hs_cfa_ageyr_means_fixed_x_{e}": ("hs_cfa_ageyr_means", e)
              for e in ("gls", "dwls", "wls")}}
ROBUST = {"hs_cfa_ulsm": ("ulsm", {}), "hs_cfa_ulsmv": ("ulsmv", {}),
          "hs_cfa_wlsm": ("wlsm", {}),
          **{f"hs_scalar_{e}": (e, {"group": "school", "group_equal": "loadings, intercepts"})
             for e in ("ulsmv", "wlsm")}}
SCALED = ["chisq_scaled", "df_scaled", "pvalue_scaled", "scaling_factor",
          "baseline_chisq_scaled", "baseline_scaling_factor", "cfi_scaled", "tli_scaled",
          "rmsea_scaled", "rmsea_ci_lower_scaled", "rmsea_ci_upper_scaled",
          "rmsea_pvalue_scaled", "cfi_robust", "tli_robust", "rmsea_robust",
          "rmsea_ci_lower_robust", "rmsea_ci_upper_robust", "rmsea_pvalue_robust"]
FIT = ["npar", "chisq", "df", "pvalue", "baseline_chisq", "baseline_df", "cfi", "tli", "nfi",
       "rmsea", "rmsea_ci_lower", "rmsea_ci_upper", "rmsea_pvalue", "srmr", "gfi", "agfi"]


@pytest.mark.parametrize("case", list(CASES))
def test_estimates_and_fit_equal_lavaan(case: str) -> None:
    model, data, estimator = CASES[case]
    result = acsi_sem.fit(MODELS / f"{model}.lav", DATA / data, estimator=estimator)
    assert result.converged and result.estimator == estimator.upper()
    # lavaan's nlminb stops near 1e-6 of the least-squares optimum (flat for DWLS); SRMR
    # and GFI move to first order with it (3e-6 for DWLS).
    assert_matches_lavaan(result, case, rel=1e-4, fit_names=FIT, fit_rel=1e-5,
                          columns=("est", "se", "z", "std_lv", "std_all"))
    for undefined in ("loglik", "aic", "bic"):
        assert np.isnan(result.fit_indices[undefined])


@pytest.mark.parametrize("case", list(MORE))
def test_mean_structures_and_covariates_equal_lavaan(case: str) -> None:
    """``~ 1`` rows (meanstructure = TRUE, free latent means) and observed covariates, which
    lavaan's least-squares estimators treat as random (fixed.x = FALSE: their variances,
    covariances and means are parameters)."""
    model, estimator = MORE[case]
    result = acsi_sem.fit(MODELS / f"{model}.lav", DATA / "holzinger1939.csv",
                          estimator=estimator)
    assert result.converged
    # The means' rows share the covariances' tolerance (lavaan's nlminb stops about 1e-6
    # short; DWLS's optimum is flattest).
    assert_matches_lavaan(result, case, rel=1e-4, fit_names=FIT, fit_rel=1e-5,
                          columns=("est", "se", "z", "std_lv", "std_all"))


@pytest.mark.parametrize("case", list(GROUPS))
def test_groups_equal_lavaan(case: str) -> None:
    model, estimator, equal = GROUPS[case]
    result = acsi_sem.fit(MODELS / f"{model}.lav", DATA / "holzinger1939.csv",
                          estimator=estimator, group="school", group_equal=equal)
    assert result.converged and result.estimator == estimator.upper()
    if model != "hs_covariates":
        assert_matches_lavaan(result, case, rel=1e-4, fit_names=FIT, fit_rel=1e-5,
                              columns=("est", "se", "z", "std_lv", "std_all"))
        return
    # visual ~ x5 [Pasteur] is near 0 (GLS 0.0014, DWLS 0.0037): lavaan's nlminb leaves it
    # 1e-6 to 2e-6 short (it moves by that between rel.tol 1e-8 and 1e-10, and our DWLS
    # chi-square is 7e-10 lower), so the estimates get an absolute 1e-5 and z is left out.
    assert_matches_lavaan(result, case, rel=1e-4, fit_names=FIT, fit_rel=1e-5,
                          columns=("se",))
    theirs = lavaan_parameters(case)
    theirs["group"] = theirs["group"].map(SCHOOLS)
    merged = match_rows(result.parameters, theirs, by=("group",))
    for column in ("est", "std_lv", "std_all"):
        assert_close(merged[column], merged[f"{column}_lavaan"], rel=1e-4, absolute=1e-5,
                     what=column)


@pytest.mark.parametrize("case", list(FIXED_X))
def test_fixed_x_covariates_equal_lavaan(case: str) -> None:
    """``fixed_x=True``, lavaan's fixed.x = TRUE with these estimators (not its default):
    the covariates' moments held at the sample's, their rows of W zero."""
    model, estimator = FIXED_X[case]
    result = acsi_sem.fit(MODELS / f"{model}.lav", DATA / "holzinger1939.csv",
                          estimator=estimator, fixed_x=True)
    assert result.converged
    assert_matches_lavaan(result, case, rel=1e-4, fit_names=FIT, fit_rel=1e-5,
                          columns=("est", "se", "z", "std_lv", "std_all"))
    # The same through the estimator's own function.
    spec, data, _, _ = prepare(MODELS / f"{model}.lav", DATA / "holzinger1939.csv",
                               estimator=estimator)
    solution = fit_least_squares(spec, data, estimator, fixed_x=True)
    indices = least_squares_indices(solution, data.frame.to_numpy(), estimator)
    assert_close(indices[FIT], lavaan_fit(case)[FIT], rel=1e-5, absolute=1e-8)


def test_fixed_x_is_for_the_least_squares_estimators() -> None:
    with pytest.raises(AcsiSemError, match="leave fixed_x out"):
        acsi_sem.fit(MODELS / "hs_covariates.lav", DATA / "holzinger1939.csv", fixed_x=True)


@pytest.mark.parametrize("case", list(ROBUST))
def test_robust_variants_equal_lavaan(case: str) -> None:
    """ULSM, ULSMV and WLSM: ULS or DWLS estimates with lavaan's robust.sem standard errors,
    its Satorra-Bentler or scaled-shifted test and the scaled and robust indices."""
    estimator, options = ROBUST[case]
    result = acsi_sem.fit(MODELS / "hs_cfa.lav", DATA / "holzinger1939.csv",
                          estimator=estimator, **options)
    assert result.converged and result.estimator == estimator.upper()
    assert_matches_lavaan(result, case, rel=1e-4, fit_names=FIT + SCALED, fit_rel=1e-5,
                          columns=("est", "se", "z", "std_lv", "std_all"))
    label = "Scaled-shifted" if estimator.endswith("mv") else "Satorra-Bentler scaled"
    assert f"{label} test ({estimator.upper()})" in str(result.summary())


def test_uls_has_no_p_value_and_says_why() -> None:
    result = acsi_sem.fit(MODELS / "hs_cfa.lav", DATA / "holzinger1939.csv", estimator="uls")
    assert np.isnan(result.fit_indices["pvalue"])
    assert any("rough guide" in note for note in result.notes)


def test_the_adf_weights_are_the_cross_products_covariance() -> None:
    rng = np.random.default_rng(7)
    items = rng.normal(size=(40000, 3)) @ np.array([[1, 0.5, 0], [0, 1, 0.3], [0, 0, 1.0]])
    gamma = cross_product_covariance(items - items.mean(axis=0))
    sigma = np.cov(items, rowvar=False)
    # Under normality Gamma[(ij),(kl)] = s_ik s_jl + s_il s_jk.
    rows, cols = np.triu_indices(3)
    normal = (sigma[np.ix_(rows, rows)] * sigma[np.ix_(cols, cols)]
              + sigma[np.ix_(rows, cols)] * sigma[np.ix_(cols, rows)])
    assert_close(gamma, normal, rel=0.05, absolute=0.03)  # sampling error
    weights = moment_weights("dwls", items)
    assert_close(np.diag(weights.weight), 1 / np.diag(gamma), rel=1e-12)


@pytest.mark.parametrize(("options", "words"), [
    ({"missing": "fiml"}, "maximum likelihood method"),  # lavaan: missing = "ml" refused
    ({"weights": "ageyr"}, "sampling weights are not available with GLS"),
])
def test_what_least_squares_does_not_take_is_refused(options: dict, words: str) -> None:
    with pytest.raises(AcsiSemError, match=words):
        acsi_sem.fit(MODELS / "hs_cfa.lav", DATA / "holzinger1939.csv", estimator="gls",
                     **options)
