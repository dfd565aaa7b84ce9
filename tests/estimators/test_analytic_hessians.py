"""The analytic Hessians of the ML discrepancy (Newton steps, MLR's bread) equal central
differences of the analytic gradient, with and without a mean structure, labels shared
between cells and fixed.x covariates."""

from __future__ import annotations

import numpy as np
import pytest

from acsi_sem.api import prepare
from acsi_sem.model.ram import build_ram
from acsi_sem.model.spec import with_mean_structure
from acsi_sem.numerics.cbsem import fill_fixed_x, simple_start_values
from acsi_sem.numerics.ml import hessian_from_gradient, ml_gradient, ml_mean_discrepancy
from acsi_sem.numerics.ml_hessian import observed_hessian, observed_mean_hessian
from tests.conftest import ROOT

FIXTURES = ROOT / "tests" / "fixtures"
CASES = [("growth_linear.lav", "demo_growth.csv", "growth"),
         ("growth_conditional.lav", "demo_growth.csv", "growth"),
         ("hs_latent_means.lav", "holzinger1939.csv", None),
         ("poldem_labels.lav", "political_democracy.csv", None),
         ("hs_covariates.lav", "holzinger1939.csv", None)]


def _model_at_a_trial_point(model: str, data: str, kind: str | None):
    """The model with a mean structure, its sample moments and a point off the optimum."""
    spec, prepared, _, _ = prepare(FIXTURES / "models" / model, FIXTURES / "data" / data,
                                   kind=kind)
    spec = spec if spec.has_modelled_means else with_mean_structure(spec)
    spec = fill_fixed_x(spec, prepared.covariance, prepared.means)
    ram = build_ram(spec, means=True)
    rng = np.random.default_rng(5)
    start = simple_start_values(spec, build_ram(spec), prepared.covariance)
    theta = 0.3 + 0.2 * rng.random(ram.n_free)
    theta[:len(start)] = start + 0.05 * rng.standard_normal(len(start))
    return ram, theta, prepared.covariance, prepared.means


@pytest.mark.parametrize(("model", "data", "kind"), CASES)
def test_mean_structure_hessian_equals_differenced_gradient(model: str, data: str,
                                                            kind: str | None) -> None:
    ram, theta, covariance, means = _model_at_a_trial_point(model, data, kind)
    differenced = hessian_from_gradient(lambda t: ml_mean_discrepancy(
        ram, t, covariance, means, with_information=False).gradient, theta)
    analytic = observed_mean_hessian(ram, theta, covariance, means)
    scale = np.abs(differenced).max()
    np.testing.assert_allclose(analytic, differenced, rtol=0, atol=1e-7 * scale)
    assert np.abs(analytic - analytic.T).max() < 1e-10 * scale


@pytest.mark.parametrize(("model", "data", "kind"), CASES[3:])
def test_covariance_hessian_equals_differenced_gradient(model: str, data: str,
                                                        kind: str | None) -> None:
    spec, prepared, _, _ = prepare(FIXTURES / "models" / model, FIXTURES / "data" / data)
    spec = fill_fixed_x(spec, prepared.covariance, prepared.means)
    ram = build_ram(spec)
    theta = simple_start_values(spec, ram, prepared.covariance) + 0.1
    differenced = hessian_from_gradient(lambda t: ml_gradient(ram, t, prepared.covariance),
                                        theta)
    analytic = observed_hessian(ram, theta, prepared.covariance)
    np.testing.assert_allclose(analytic, differenced, rtol=0,
                               atol=1e-7 * np.abs(differenced).max())
