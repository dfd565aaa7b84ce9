"""Big survey files read in chunks give the in-memory estimates, and the same errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import acsi_sem
from acsi_sem.errors import AcsiSemError, DataError
from acsi_sem.model.spec import parse_model
from acsi_sem.simulation.simulate import simulate_survey
from acsi_sem.survey.moments import read_moments
from tests.conftest import ROOT

ROWS = 200_000


@pytest.fixture(scope="module")
def big_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    population = parse_model((ROOT / "data" / "acsi_population.lav").read_text())
    survey = simulate_survey(population, ROWS, seed=5, scale=(1, 10), item_mean=7.0,
                             item_sd=1.7)
    survey.loc[[10, 150_001], "CUSA1"] = np.nan  # one gap in the first chunk, one in a later
    path = tmp_path_factory.mktemp("big") / "survey.csv"
    survey.to_csv(path, index=False)
    return path


def test_chunked_estimates_equal_the_in_memory_ones(big_file: Path) -> None:
    chunked = acsi_sem.fit("acsi", big_file, chunksize=30_000)
    in_memory = acsi_sem.fit("acsi", big_file)
    assert chunked.n_obs == in_memory.n_obs == ROWS - 2 and chunked.n_total == ROWS
    for column in ("est", "se", "std_all"):
        np.testing.assert_allclose(chunked.parameters[column], in_memory.parameters[column],
                                   rtol=0, atol=1e-8)
    np.testing.assert_allclose(chunked.fit_indices.to_numpy(dtype=float),
                               in_memory.fit_indices.to_numpy(dtype=float), rtol=1e-8)
    assert chunked.missing == in_memory.missing
    assert any("read in chunks" in note for note in chunked.notes)


def test_moments_equal_numpys(big_file: Path) -> None:
    frame = pd.read_csv(big_file).dropna()
    moments = read_moments(big_file, list(frame.columns), chunksize=7_777)
    np.testing.assert_allclose(moments.means, frame.mean().to_numpy(), rtol=1e-13)
    np.testing.assert_allclose(moments.covariance,
                               np.cov(frame.to_numpy(), rowvar=False, bias=True), rtol=1e-11)


def test_a_bad_answer_in_a_later_chunk_names_its_file_row(tmp_path: Path) -> None:
    frame = pd.read_csv(ROOT / "data" / "mobi.csv")
    frame["CUSA2"] = frame["CUSA2"].astype(object)
    frame.loc[216, "CUSA2"] = "very good"
    path = tmp_path / "bad.csv"
    frame.to_csv(path, index=False)
    with pytest.raises(DataError, match=r"column CUSA2 is not numeric: row 217 holds"):
        read_moments(path, ["CUSA1", "CUSA2"], chunksize=50)
    frame.loc[216, "CUSA2"] = 5
    frame.loc[123, "CUSA1"] = 11
    frame.to_csv(path, index=False)
    with pytest.raises(DataError, match=r"column CUSA1, row 124 holds 11, outside"):
        read_moments(path, ["CUSA1", "CUSA2"], chunksize=50, scale=(1, 10))


def test_options_that_need_the_rows_are_refused(big_file: Path) -> None:
    with pytest.raises(AcsiSemError, match="bootstrap"):
        acsi_sem.fit("acsi", big_file, chunksize=50_000, bootstrap=10)
    with pytest.raises(AcsiSemError, match="estimator 'pls'"):
        acsi_sem.fit("acsi", big_file, chunksize=50_000, estimator="pls")


def test_command_line_chunksize(capsys: pytest.CaptureFixture[str]) -> None:
    from acsi_sem.cli.main import main

    status = main(["fit", "acsi", "--data", str(ROOT / "data" / "acsi_simulated.csv"),
                   "--chunksize", "700"])
    assert status == 0
    assert "read in chunks: 2500 rows, 2500 complete" in " ".join(
        capsys.readouterr().out.split())


def test_parquet_in_batches_equals_the_csv(big_file: Path, tmp_path: Path) -> None:
    pytest.importorskip("pyarrow")
    path = tmp_path / "survey.parquet"
    pd.read_csv(big_file).to_parquet(path, row_group_size=40_000)
    from_parquet = read_moments(path, ["CUSA1", "CUSA2", "PERQ1"], chunksize=25_000)
    from_csv = read_moments(big_file, ["CUSA1", "CUSA2", "PERQ1"], chunksize=60_000)
    assert from_parquet.n_obs == from_csv.n_obs == ROWS - 2
    np.testing.assert_allclose(from_parquet.covariance, from_csv.covariance, rtol=1e-12)
    fitted = acsi_sem.fit("acsi", path, chunksize=50_000)
    assert fitted.n_obs == ROWS - 2 and fitted.converged


def test_an_unreadable_file_is_a_data_error(tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_text("")
    with pytest.raises(DataError, match=r"empty\.csv: cannot read"):
        read_moments(path, ["CUSA1"], chunksize=10)
