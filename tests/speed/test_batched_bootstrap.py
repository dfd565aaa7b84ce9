"""The batched CB-SEM bootstrap gives every replicate the one-at-a-time path's estimates."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import acsi_sem
import acsi_sem.estimators.cbsem_batched as cbsem_batched
from acsi_sem.api import load_data, resolve_model
from acsi_sem.estimators.cbsem_batched import batched_htmt
from acsi_sem.numerics.batched import BatchedRam, ml_hessian, ml_state, weighted_moments
from acsi_sem.numerics.cbsem import fit_ml
from acsi_sem.numerics.ml import ml_discrepancy
from acsi_sem.resample import resampled_rows
from acsi_sem.statistics.quality import heterotrait_monotrait
from tests.conftest import LAVAAN_CASES, ROOT


def _capture_one_at_a_time(monkeypatch: pytest.MonkeyPatch) -> list:
    """Record the one-at-a-time statistic that bootstrap_cbsem hands to the batch."""
    captured = []
    original = cbsem_batched.batched_cbsem_statistic

    def spy(solution, items, effects, layout, one_at_a_time, row_weights=None):
        captured.append(one_at_a_time)
        return original(solution, items, effects, layout, one_at_a_time, row_weights)

    monkeypatch.setattr(cbsem_batched, "batched_cbsem_statistic", spy)
    return captured


@pytest.mark.parametrize(("case", "replicates"), [("acsi_simulated", 30),
                                                  ("poldem_labels", 30)])
def test_sampled_replicates_equal_the_one_at_a_time_fit(
        monkeypatch: pytest.MonkeyPatch, case: str, replicates: int) -> None:
    captured = _capture_one_at_a_time(monkeypatch)
    data, model = LAVAAN_CASES[case]
    result = acsi_sem.fit(ROOT / model, ROOT / data, bootstrap=replicates, seed=11, ci="bca")
    boot = result.bootstrap
    assert boot.failed == 0 and len(boot.draws) == replicates
    rows = list(resampled_rows(result.n_obs, replicates, 11))
    for index in (0, 7, replicates - 1):
        expected = captured[0](rows[index]).values
        np.testing.assert_allclose(boot.draws[index], expected, rtol=0, atol=1e-6)
    # The BCa jackknife runs batched too; its first leave-group-out fit agrees as well.
    groups = np.array_split(np.arange(result.n_obs), min(250, result.n_obs))
    kept = np.setdiff1d(np.arange(result.n_obs), groups[0])
    np.testing.assert_allclose(boot.jackknife[0], captured[0](kept).values, atol=1e-6)


def test_percentile_intervals_never_compute_the_jackknife(
        monkeypatch: pytest.MonkeyPatch) -> None:
    result = acsi_sem.fit("acsi", bootstrap=20, seed=2)
    assert "jackknife" not in vars(result.bootstrap)  # the cached property was never filled
    assert result.parameters["ci_lower"].notna().any()
    assert np.isfinite(result.bootstrap.table()["bca_lower"]).any()  # the table still has BCa
    assert "jackknife" in vars(result.bootstrap)


def test_weighted_moments_equal_the_resample_covariance() -> None:
    items = np.random.default_rng(0).normal(size=(300, 5)) * [1, 2, 3, 4, 5] + 10
    rows = np.random.default_rng(1).integers(0, 300, size=300)
    weights = np.bincount(rows, minlength=300)[None, :].astype(float)
    means, covariances = weighted_moments(items, weights)
    np.testing.assert_allclose(means[0], items[rows].mean(axis=0), rtol=1e-13)
    np.testing.assert_allclose(covariances[0], np.cov(items[rows], rowvar=False, bias=True),
                               rtol=1e-12)


def test_batched_gradient_and_information_equal_the_single_ones() -> None:
    model_file, spec = resolve_model("acsi")
    data = load_data(spec, None, model_file, model_file.scale)
    solution = fit_ml(spec, data)
    theta = solution.theta * 1.05
    single = ml_discrepancy(solution.ram, theta, data.covariance)
    state = ml_state(BatchedRam.of(solution.ram), theta[None], data.covariance[None])
    assert state.value[0] == pytest.approx(single.value, rel=1e-12)
    np.testing.assert_allclose(state.gradient[0], single.gradient, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(state.information[0], single.information, rtol=1e-9,
                               atol=1e-12)


def _hessian_case(name: str) -> tuple[BatchedRam, np.ndarray, np.ndarray]:
    """A model, a point away from its optimum (1, q) and a covariance (1, p, p)."""
    if name == "labels":  # equality constraints: cells sharing a parameter
        from acsi_sem.model.ram import build_ram
        from acsi_sem.model.spec import parse_model

        ram = build_ram(parse_model("eta1 =~ y1 + a*y2 + a*y3\neta2 =~ y4 + b*y5 + b*y6\n"
                                    "eta2 ~ eta1"))
        theta = np.linspace(0.6, 1.4, ram.n_free)
        loadings = np.random.default_rng(5).normal(size=(6, 6))
        covariance = loadings @ loadings.T + 6 * np.eye(6)
        return BatchedRam.of(ram), theta[None], covariance[None]
    model_file, spec = resolve_model(name)
    data = load_data(spec, None, model_file, model_file.scale)
    solution = fit_ml(spec, data)
    # Away from the optimum, where the observed and expected Hessians differ.
    return BatchedRam.of(solution.ram), solution.theta[None] * 1.05, data.covariance[None]


@pytest.mark.parametrize("name", ["acsi", "ecsi", "labels"])
def test_the_analytic_hessian_equals_differences_of_the_gradient(name: str) -> None:
    batched, theta, covariance = _hessian_case(name)
    q = theta.shape[1]
    numerical = np.empty((q, q))
    for index in range(q):
        step = 1e-6 * max(1.0, abs(theta[0, index]))
        up, down = theta.copy(), theta.copy()
        up[0, index] += step
        down[0, index] -= step
        numerical[:, index] = (ml_state(batched, up, covariance).gradient[0]
                               - ml_state(batched, down, covariance).gradient[0]) / (2 * step)
    analytic = ml_hessian(batched, theta, covariance)[0]
    np.testing.assert_allclose(analytic, analytic.T, atol=1e-12)
    np.testing.assert_allclose(analytic, numerical, rtol=1e-5, atol=1e-6)


def test_batched_htmt_equals_the_single_one() -> None:
    items = np.random.default_rng(3).normal(size=(200, 6)) + np.repeat(
        np.random.default_rng(4).normal(size=(200, 2)), 3, axis=1)
    blocks = (np.array([0, 1, 2]), np.array([3, 4]), np.array([5]))
    expected = heterotrait_monotrait(np.corrcoef(items, rowvar=False), blocks)
    found = batched_htmt(np.cov(items, rowvar=False)[None], blocks)[0]
    np.testing.assert_allclose(found, expected[np.triu_indices(3, 1)], rtol=1e-12)


def test_a_bootstrap_result_pickles_with_its_jackknife() -> None:
    import pickle

    result = acsi_sem.fit("acsi", bootstrap=5, seed=3)
    copy = pickle.loads(pickle.dumps(result.bootstrap))
    np.testing.assert_array_equal(copy.jackknife, result.bootstrap.jackknife)
    assert copy.table()["bca_lower"].notna().any()


@pytest.mark.parametrize(("model", "path"), [("hs_covariates.lav", "visual ~ x4"),
                                           ("hs_random_covariate.lav", "speed ~ grade")])
def test_covariate_replicates_equal_the_one_at_a_time_fit(monkeypatch: pytest.MonkeyPatch,
                                                          model: str, path: str) -> None:
    """fixed.x covariates: the batch frees their moments, the one-at-a-time refit holds them
    at each resample's values; the estimates agree (with a random predictor beside the
    fixed.x ones too, which covaries with a factor)."""
    captured = _capture_one_at_a_time(monkeypatch)
    fixtures = ROOT / "tests" / "fixtures"
    result = acsi_sem.fit(fixtures / "models" / model, fixtures / "data" / "holzinger1939.csv",
                          bootstrap=25, seed=4)
    boot = result.bootstrap
    assert len(captured) == 1 and boot.failed == 0 and len(boot.draws) == 25
    rows = list(resampled_rows(result.n_obs, 25, 4))
    for index in (0, 12, 24):
        np.testing.assert_allclose(boot.draws[index], captured[0](rows[index]).values,
                                   rtol=0, atol=1e-6)
    assert boot.draws[:, list(boot.names).index(path)].std() > 0.01  # the replicates differ


@pytest.mark.parametrize(("model", "data", "kind"), [
    ("growth_linear.lav", "demo_growth.csv", "growth"),
    ("growth_conditional.lav", "demo_growth.csv", "growth"),  # fixed.x covariates too
    ("hs_latent_means.lav", "holzinger1939.csv", None),
])
def test_mean_structure_replicates_equal_the_one_at_a_time_fit(
        monkeypatch: pytest.MonkeyPatch, model: str, data: str, kind: str | None) -> None:
    """Growth and latent-mean models run batched, their means as paths from a constant."""
    captured = _capture_one_at_a_time(monkeypatch)
    fixtures = ROOT / "tests" / "fixtures"
    result = acsi_sem.fit(fixtures / "models" / model, fixtures / "data" / data, kind=kind,
                          bootstrap=20, seed=6)
    boot = result.bootstrap
    assert len(captured) == 1 and boot.failed == 0 and len(boot.draws) == 20
    assert any(name.endswith("~1") or " ~1" in name for name in boot.names)
    rows = list(resampled_rows(result.n_obs, 20, 6))
    for index in (0, 9, 19):
        np.testing.assert_allclose(boot.draws[index], captured[0](rows[index]).values,
                                   rtol=0, atol=1e-6)


@pytest.mark.parametrize("equal", ["loadings", "loadings,intercepts"])
def test_group_replicates_equal_the_one_at_a_time_fit(monkeypatch: pytest.MonkeyPatch,
                                                      equal: str) -> None:
    """The multi-group bootstrap runs batched, each group's means as paths from a constant
    and the equal parameters shared; its replicates (and the BCa jackknife) are the
    one-at-a-time refits."""
    import acsi_sem.estimators.multigroup_batched as multigroup_batched

    captured = []
    original = multigroup_batched.batched_group_statistic

    def spy(solution, items, codes, masks, effect_cells, one_at_a_time, definitions):
        captured.append(one_at_a_time)
        return original(solution, items, codes, masks, effect_cells, one_at_a_time,
                        definitions)

    monkeypatch.setattr(multigroup_batched, "batched_group_statistic", spy)
    fixtures = ROOT / "tests" / "fixtures"
    frame = pd.read_csv(fixtures / "data" / "holzinger1939.csv")
    result = acsi_sem.fit(fixtures / "models" / "hs_sem.lav", frame, group="school",
                          group_equal=equal, bootstrap=12, seed=8, ci="bca")
    boot = result.bootstrap
    assert len(captured) == 1 and len(boot.draws) + boot.failed == 12
    rows = list(resampled_rows(len(frame), 12, 8, frame["school"].to_numpy()))
    for index in (0, 5):
        np.testing.assert_allclose(boot.draws[index], captured[0](rows[index]).values,
                                   rtol=0, atol=1e-6)
    groups = np.array_split(np.arange(len(frame)), 250)
    kept = np.setdiff1d(np.arange(len(frame)), groups[0])
    np.testing.assert_allclose(boot.jackknife[0], captured[0](kept).values, atol=1e-6)
