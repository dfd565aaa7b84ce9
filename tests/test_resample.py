"""The bootstrap: reproducible, honest about failures, and correct intervals."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import acsi_sem
from acsi_sem.numerics.pls import estimate_pls, pls_layout
from acsi_sem.resample import FailedReplicateError, Replicate, bootstrap
from tests.conftest import ROOT

MOBI = ROOT / "data" / "mobi.csv"


def test_same_seed_same_intervals_and_different_seed_different() -> None:
    runs = [acsi_sem.fit("ecsi", estimator="pls", bootstrap=30, seed=seed)
            for seed in (7, 7, 8)]
    first, again, other = (r.parameters for r in runs)
    np.testing.assert_array_equal(first["ci_lower"], again["ci_lower"])
    assert not np.allclose(first["ci_lower"].dropna(), other["ci_lower"].dropna())
    assert runs[0].bootstrap.requested == 30 and len(runs[0].bootstrap.draws) == 30


def test_a_loading_fixed_by_construction_has_no_bootstrap_z() -> None:
    result = acsi_sem.fit("ecsi", estimator="pls", bootstrap=10, seed=3)
    single = result.parameters.query("lhs == 'Complaints' and op == '=~'").iloc[0]
    assert single["est"] == pytest.approx(1.0)
    assert single["se"] == 0.0 and np.isnan(single["z"]) and np.isnan(single["pvalue"])
    varying = result.parameters.query("lhs == 'Loyalty' and op == '=~'")
    assert (varying["se"] > 0.005).all() and varying["z"].notna().all()


def test_failed_replicates_are_counted_not_hidden() -> None:
    calls = iter(range(1000))

    def flaky(rows: np.ndarray) -> Replicate:
        if next(calls) % 4 == 0:
            raise FailedReplicateError
        return Replicate(np.array([rows.mean()]), improper=bool(rows[0] % 2))

    result = bootstrap(flaky, 50, replicates=40, seed=1, names=("mean",),
                       estimate=np.array([24.5]), jackknife_groups=10)
    assert result.failed == 10 and len(result.draws) == 30
    assert 0 < result.improper < 30
    assert "40 replicates requested" in result.summary_line()
    assert "10 failed" in result.summary_line()


def test_replicate_of_the_sample_itself_reproduces_the_estimate() -> None:
    result = acsi_sem.fit("ecsi", estimator="pls", bootstrap=2, seed=1)
    sample = np.arange(result.n_obs)
    from acsi_sem.estimators.options import FitOptions
    from acsi_sem.estimators.pls import pls_core
    from acsi_sem.numerics.pls import pls_layout

    layout = pls_layout(result.spec)
    items = result.scores.shape  # noqa: F841 - the sample's size, for clarity
    core = pls_core(acsi_sem.read_table(MOBI)[list(layout.indicators)].to_numpy(float)[sample],
                    layout, FitOptions(estimator="pls", scale=(1, 10)))
    table = result.bootstrap.table()
    assert table.at["Loyalty ~ Satisfaction", "estimate"] == pytest.approx(
        core.solution.paths[layout.latent.index("Loyalty"),
                            layout.latent.index("Satisfaction")], abs=1e-12)


def test_bca_equals_percentile_for_a_symmetric_unbiased_statistic() -> None:
    rng = np.random.default_rng(3)
    values = rng.normal(size=400)

    def mean(rows: np.ndarray) -> Replicate:
        return Replicate(np.array([values[rows].mean()]))

    result = bootstrap(mean, 400, replicates=2000, seed=5, names=("mean",),
                       estimate=np.array([values.mean()]), jackknife_groups=400)
    pct, bca = result.percentile(), result.bca()
    assert bca[0][0] == pytest.approx(pct[0][0], abs=0.01)
    assert bca[1][0] == pytest.approx(pct[1][0], abs=0.01)
    assert result.se[0] == pytest.approx(values.std() / np.sqrt(400), rel=0.1)


def test_cbsem_bootstrap_replaces_wald_intervals() -> None:
    result = acsi_sem.fit(ROOT / "tests/fixtures/models/hs_cfa.lav",
                          ROOT / "tests/fixtures/data/holzinger1939.csv", bootstrap=40, seed=2,
                          ci="bca")
    row = result.parameters.set_index(["lhs", "op", "rhs"]).loc[("visual", "=~", "x2")]
    assert row["se"] == pytest.approx(result.bootstrap.table().at["visual =~ x2", "se"])
    assert row["ci_lower"] < row["est"] < row["ci_upper"]
    assert "standard errors and bca intervals from the bootstrap" in " ".join(result.notes)


COVERAGE_MODEL = "X =~ x1 + x2 + x3\nY =~ y1 + y2 + y3\nY ~ X"


def _population_covariance() -> np.ndarray:
    """Two constructs with three items each (loadings 0.8, 0.7, 0.6), Y = 0.5 X + error."""
    loadings = np.zeros((6, 2))
    loadings[:3, 0] = loadings[3:, 1] = [0.8, 0.7, 0.6]
    latent = np.array([[1.0, 0.5], [0.5, 1.0]])
    covariance = loadings @ latent @ loadings.T
    np.fill_diagonal(covariance, 1.0)
    return covariance


@pytest.mark.slow
def test_bootstrap_intervals_cover_95_percent_in_simulation() -> None:
    # PLS paths are biased for the latent 0.5, so the value the intervals must cover is what
    # PLS gives on the population correlation matrix itself.
    covariance = _population_covariance()
    spec = acsi_sem.parse_model(COVERAGE_MODEL)
    target = estimate_pls(covariance, pls_layout(spec)).paths[1, 0]
    assert 0.3 < target < 0.45
    rng = np.random.default_rng(2026)
    datasets = 200
    covered = {"percentile": 0, "bca": 0}
    for _ in range(datasets):
        frame = pd.DataFrame(rng.multivariate_normal(np.zeros(6), covariance, size=150),
                             columns=["x1", "x2", "x3", "y1", "y2", "y3"])
        result = acsi_sem.fit(COVERAGE_MODEL, frame, estimator="pls", bootstrap=200,
                              seed=int(rng.integers(1 << 30)))
        row = result.bootstrap.table().loc["Y ~ X"]
        covered["percentile"] += row["pct_lower"] <= target <= row["pct_upper"]
        covered["bca"] += row["bca_lower"] <= target <= row["bca_upper"]
    # Binomial SD of the coverage over 200 data sets: 1.5 points. Measured: percentile 92%,
    # BCa 88%; with 1000 replicates (100 data sets) both 93%. BCa leans on far-tail quantiles,
    # which 200 replicates estimate poorly, hence its wider band here.
    assert 0.90 <= covered["percentile"] / datasets <= 0.99, covered
    assert 0.85 <= covered["bca"] / datasets <= 0.99, covered


def test_bca_bounds_equal_scipys_on_the_same_draws() -> None:
    # scipy.stats.bootstrap draws its own resamples, so compare through its BCa step, which
    # takes the draws as given (a private function: skipped if its signature changes).
    from scipy.stats import _resampling

    sample = np.random.default_rng(5).exponential(size=40)
    boot = bootstrap(lambda rows: Replicate(np.array([sample[rows].std()])), 40,
                     replicates=2000, seed=3, names=("sd",), estimate=np.array([sample.std()]))
    try:
        low, high, _ = _resampling._bca_interval(
            (sample,), lambda data, axis=-1: np.std(data, axis=axis), axis=-1, alpha=0.025,
            theta_hat_b=boot.draws[:, 0], batch=None, xp=np)
    except (AttributeError, TypeError) as error:
        pytest.skip(f"scipy's private BCa step changed: {error}")
    expected = np.percentile(boot.draws[:, 0], [100 * low, 100 * high])
    np.testing.assert_allclose(np.concatenate(boot.bca()), expected, rtol=1e-12)


def test_column_quantiles_equal_numpy_quantile_column_by_column() -> None:
    from acsi_sem.resample import column_quantiles

    rng = np.random.default_rng(8)
    draws = rng.standard_normal((301, 12))
    draws[:, 4] = 2.5  # a constant column
    levels = rng.random(12)
    levels[[0, 1, 2]] = [0.0, 1.0, np.nan]
    got = column_quantiles(np.sort(draws, axis=0), levels)
    expected = [np.quantile(draws[:, j], levels[j]) for j in range(3, 12)]
    np.testing.assert_allclose(got[3:], expected, rtol=1e-14, atol=1e-15)
    assert got[0] == draws[:, 0].min() and got[1] == draws[:, 1].max() and np.isnan(got[2])
    assert np.isnan(column_quantiles(np.zeros((0, 3)), np.full(3, 0.5))).all()


def test_a_bootstrap_without_a_converged_replicate_has_undefined_intervals() -> None:
    from acsi_sem.resample import BootstrapResult

    empty = BootstrapResult(("a", "b"), np.array([1.0, 2.0]), np.zeros((0, 2)), 5, 5, 0,
                            np.zeros((0, 2)), seed=1, interval="bca")
    table = empty.table()
    assert table.drop(columns="estimate").isna().all().all()
    assert empty.intervals()[["se", "ci_lower", "ci_upper"]].isna().all().all()


def test_failed_jackknife_blocks_are_counted_in_the_bca_note() -> None:
    """A leave-group-out fit that fails is left out of the BCa acceleration, and said so."""
    def fails_without_row_zero(rows: np.ndarray) -> Replicate:
        if 0 not in rows:
            raise FailedReplicateError
        return Replicate(np.array([rows.mean()]), improper=False)

    result = bootstrap(fails_without_row_zero, 50, replicates=20, seed=3, names=("mean",),
                       estimate=np.array([24.5]), jackknife_groups=10, interval="bca")
    assert result.jackknife.shape == (9, 1) and result.jackknife_failed == 1
    assert result.summary_line().endswith(
        "the BCa acceleration from 9 of 10 jackknife blocks (1 failed, left out)")
