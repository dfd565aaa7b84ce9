"""lavaan's FIML-corrected robust CFI / TLI / RMSEA (``lav_fit_fiml_corrected``) computed at
lavaan's own EM moments (tests/fixtures/lavaan/make_fiml_corrected_fixtures.R).

acsi-sem's EM converges further than lavaan's (which stops at changes of 1e-5), and the
corrected statistic is sensitive to the moments to first order; at lavaan's moments the
computation itself is checked to 1e-7. The end-to-end comparisons (acsi-sem's own moments)
are in tests/estimators/test_cbsem_survey.py and test_fiml_groups.py."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import acsi_sem
from acsi_sem.estimators import cbsem, multigroup
from acsi_sem.numerics.fiml_corrected import CorrectedTest, SaturatedGroup
from tests.conftest import LAVAAN, ROOT, assert_close, assert_indices_close, lavaan_fit

MODELS = ROOT / "tests" / "fixtures" / "models"
INCOMPLETE = ROOT / "tests" / "fixtures" / "data" / "holzinger1939_missing.csv"
SCALAR = "loadings, intercepts"
CASES = {
    "hs_cfa_fiml": ("hs_cfa", {}),
    "hs_cfa_fiml_mlr": ("hs_cfa", {"estimator": "mlr"}),
    "hs_fiml_groups_scalar": ("hs_cfa", {"group": "school", "group_equal": SCALAR}),
    "hs_fiml_groups_scalar_mlr": ("hs_cfa", {"group": "school", "group_equal": SCALAR,
                                             "estimator": "mlr"}),
    "hs_fiml_covariates_mlr": ("hs_cfa_age", {"estimator": "mlr"}),
}
ROBUST = ["cfi_robust", "tli_robust", "rmsea_robust", "rmsea_ci_lower_robust",
          "rmsea_ci_upper_robust", "rmsea_pvalue_robust"]


def lavaan_em_moments(case: str) -> list[tuple[pd.Series, pd.DataFrame]]:
    """lavaan's EM means and covariance of each group, labelled by item."""
    frame = pd.read_csv(LAVAAN / "fiml_corrected_h1.csv")
    frame = frame[frame["case"] == case]
    moments = []
    for _, group in frame.groupby("group", sort=True):
        means = group[group["col"] == "mean"].set_index("row")["value"]
        covariance = group[group["col"] != "mean"].pivot(index="row", columns="col",
                                                         values="value")
        moments.append((means, covariance.loc[means.index, means.index]))
    return moments


def lavaan_corrected(case: str) -> pd.Series:
    frame = pd.read_csv(LAVAAN / "fiml_corrected.csv")
    return frame[frame["case"] == case].set_index("measure")["value"]


def fit_at_lavaans_moments(case: str, monkeypatch: pytest.MonkeyPatch
                           ) -> tuple[acsi_sem.FitResult, CorrectedTest]:
    """The fit of ``case`` with lavaan's EM moments in place of acsi-sem's for the
    corrected statistics only, and those statistics."""
    model, options = CASES[case]
    moments = iter(lavaan_em_moments(case))
    original = SaturatedGroup.at_em
    captured: list[CorrectedTest] = []

    def at_lavaans_moments(patterns, items, means, covariance, covariates=()):
        lavaan_means, lavaan_covariance = next(moments)
        # The fit's own EM means are lavaan's to about 2e-6, which also checks that the
        # groups and items come in lavaan's order.
        np.testing.assert_allclose(means, lavaan_means.to_numpy(), atol=1e-5)
        return original(patterns, items, lavaan_means.to_numpy(),
                        lavaan_covariance.to_numpy(), covariates)

    def capture(test):
        def wrapped(*args, **kwargs):
            captured.append(test(*args, **kwargs))
            return captured[-1]
        return wrapped

    monkeypatch.setattr(SaturatedGroup, "at_em", staticmethod(at_lavaans_moments))
    for module in (cbsem, multigroup):
        monkeypatch.setattr(module, "fiml_corrected_test", capture(module.fiml_corrected_test))
    result = acsi_sem.fit(MODELS / f"{model}.lav", INCOMPLETE, missing="fiml", **options)
    (corrected,) = captured
    return result, corrected


@pytest.mark.parametrize("case", list(CASES))
def test_corrected_statistics_equal_lavaan_at_its_em_moments(
        case: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """XX3 and c-hat3 of the model and of the baseline as lavaan's to 1e-7 (MLR: version
    "V3" with the scores; ML: "V6"), and the robust measures made of them to 3e-6 (at
    worst 1e-6: the close-fit p-value of 6e-5 of the scalar MLR fit, which the estimates'
    own difference of up to 1e-5 from lavaan's moves most)."""
    result, corrected = fit_at_lavaans_moments(case, monkeypatch)
    theirs = lavaan_corrected(case)
    for ours, name in [(corrected.chisq, "XX3"), (corrected.c_hat, "c.hat3"),
                       (corrected.baseline_chisq, "XX3.null"),
                       (corrected.baseline_c_hat, "c.hat3.null")]:
        assert_close(ours, theirs[name], rel=1e-7, absolute=1e-9, what=name)
    assert_indices_close(result.fit_indices, lavaan_fit(case), ROBUST, rel=3e-6,
                         absolute=1e-9)


def test_a_model_without_degrees_of_freedom_has_lavaans_uncorrected_values() -> None:
    """df = 0: lavaan's formulas drop c-hat, giving CFI and TLI 1 (CFI 1 less the rounding
    of a chi-square of about 1e-12), RMSEA and its interval 0 and no close-fit p-value."""
    result = acsi_sem.fit("visual =~ x1 + x2 + x3", INCOMPLETE, missing="fiml",
                          estimator="mlr")
    ours, theirs = result.fit_indices, lavaan_fit("hs_fiml_saturated_mlr")
    assert_indices_close(ours, theirs, ROBUST[:-1], rel=1e-9, absolute=1e-9)
    assert np.isnan(ours["rmsea_pvalue_robust"]) and np.isnan(theirs["rmsea_pvalue_robust"])
