"""Monte Carlo power studies: right population values, the same answer on any scheduler."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from acsi_sem.api import resolve_model
from acsi_sem.cli.main import main
from acsi_sem.simulation.power import population_values, power_study
from acsi_sem.simulation.simulate import draw_survey, population_from_model
from tests.conftest import ROOT

POPULATION = ROOT / "data" / "acsi_population.lav"


@pytest.fixture(scope="module")
def acsi_spec():
    return resolve_model("acsi")[1]


def test_population_values_are_in_the_marker_metric(acsi_spec) -> None:
    truth = population_values(acsi_spec, population_from_model(POPULATION))
    named = {acsi_spec.parameter_name(i): value for i, value in enumerate(truth)}
    # Marker loadings 0.80 (CUEX1) and 0.85 (PERQ1) rescale the standardized path 0.55.
    assert named["Quality ~ Expectation"] == pytest.approx(0.55 * 0.85 / 0.80, abs=1e-8)
    assert named["Expectation =~ CUEX2"] == pytest.approx(0.75 / 0.80, abs=1e-8)
    assert named["Expectation ~~ Expectation"] == pytest.approx(0.80 ** 2, abs=1e-8)


def test_same_table_serially_with_joblib_and_on_a_dask_cluster(
        acsi_spec, capsys: pytest.CaptureFixture[str]) -> None:
    from dask.distributed import Client, LocalCluster

    population = population_from_model(POPULATION)
    settings = {"replications": 60, "seed": 9}
    serial = power_study(acsi_spec, population, [150, 300], jobs=1, **settings)
    parallel = power_study(acsi_spec, population, [150, 300], jobs=2, **settings)
    with LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        distributed = power_study(acsi_spec, population, [150, 300], scheduler=client,
                                  **settings)
        # The command line connects to the scheduler by its address.
        assert main(["power", "acsi", "--population", str(POPULATION), "--n", "150",
                     "--reps", "10", "--seed", "9", "--scheduler", cluster.scheduler_address,
                     "--json", "-"]) == 0
    assert json.loads(capsys.readouterr().out)["replications"] == 10
    pd.testing.assert_frame_equal(serial.table, parallel.table)
    pd.testing.assert_frame_equal(serial.table, distributed.table)
    table = serial.table.set_index(["parameter", "n"])
    assert (table["converged"] == 60).all()
    # A strong path is always detected; the weak Expectation -> Satisfaction path (0.10
    # standardized) gains power with n; coverage stays near 95 %.
    assert table.loc[("Loyalty ~ Satisfaction", 150), "power"] == 1.0
    weak = table.xs("Satisfaction ~ Expectation", level="parameter")["power"]
    assert 0 < weak.loc[150] < weak.loc[300] < 0.8
    assert 0.85 <= table["coverage"].mean() <= 0.99
    assert table["bias"].abs().max() < 0.1


def test_power_command_writes_table_json_and_plot(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "power.json"
    plot = tmp_path / "power.png"
    status = main(["power", "acsi", "--population", str(POPULATION), "--n", "200,400",
                   "--reps", "20", "--seed", "1", "--jobs", "1", "--json", str(out),
                   "--plot", str(plot)])
    assert status == 0
    document = json.loads(out.read_text())
    assert document["sizes"] == [200, 400] and document["replications"] == 20
    row = document["parameters"]["Quality ~ Expectation"]["400"]
    assert set(row) == {"population", "mean_estimate", "bias", "rmse", "mean_se",
                        "sd_estimate", "power", "coverage", "converged"}
    assert plot.stat().st_size > 1000
    assert "Monte Carlo power study of acsi" in capsys.readouterr().out


def test_simulate_command_is_reproducible(tmp_path: Path) -> None:
    paths = [tmp_path / f"survey{i}.csv" for i in range(2)]
    for path in paths:
        assert main(["simulate", str(POPULATION), "--n", "300", "--seed", "5", "--out",
                     str(path), "--scale", "1-10"]) == 0
    first, again = (pd.read_csv(path) for path in paths)
    pd.testing.assert_frame_equal(first, again)
    assert first.shape == (300, 14) and first.min().min() >= 1 and first.max().max() <= 10


def test_a_fitted_model_is_a_population() -> None:
    population = population_from_model("acsi")
    survey = draw_survey(population, 20_000, seed=3)
    np.testing.assert_allclose(survey.cov(ddof=0).to_numpy(), population.covariance,
                               atol=0.12)
    assert not population.standardized and population.means[0] > 5


def test_a_saved_result_is_a_population(tmp_path: Path) -> None:
    import acsi_sem

    result = acsi_sem.fit("acsi")
    saved = tmp_path / "acsi.json"
    saved.write_text(result.to_json())
    population = population_from_model(saved)
    np.testing.assert_allclose(population.covariance, result.implied_cov.to_numpy(),
                               rtol=1e-10)
    assert main(["simulate", str(saved), "--n", "50", "--seed", "1", "--out",
                 str(tmp_path / "drawn.csv")]) == 0
    # As a power study's population, in the analysis model's variable order.
    spec = resolve_model("acsi")[1]
    truth = population_values(spec, population)
    np.testing.assert_allclose(truth, result.parameters.query("se > 0")["est"], atol=1e-6)
