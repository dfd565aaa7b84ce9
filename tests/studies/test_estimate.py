"""The study's numbers equal the one-model fits they stand for."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import acsi_sem
from acsi_sem.studies.bootstrap import stratified_counts
from tests.conftest import ROOT

COMPANIES = [f"C{i}" for i in range(6)]


@pytest.fixture(scope="module")
def survey() -> pd.DataFrame:
    """acsi_simulated.csv's first 1,200 respondents as 6 companies in 2 industries over 2
    waves (100 per cell), with uneven sampling weights."""
    frame = pd.read_csv(ROOT / "data" / "acsi_simulated.csv").iloc[:1200].copy()
    frame["company"] = np.repeat(COMPANIES, 200)
    frame["industry"] = frame["company"].map(lambda name: "I1" if name < "C3" else "I2")
    frame["wave"] = np.tile([2025, 2026], 600)
    frame["w"] = np.random.default_rng(5).uniform(0.3, 2.0, len(frame))
    return frame


def run(survey: pd.DataFrame, **options):
    return acsi_sem.study("acsi", survey, company="company", industry="industry", wave="wave",
                          weights="w", **options)


def company_index(result, company: str, wave: str, construct: str = "Satisfaction") -> float:
    rows = result.indices
    return float(rows.loc[(rows["level"] == "company") & (rows["unit"] == company)
                          & (rows["wave"] == wave) & (rows["construct"] == construct),
                          "index"].iloc[0])


def test_pooled_weights_are_the_weighted_pls_fit_of_everyone(survey: pd.DataFrame) -> None:
    result = run(survey)
    pooled = acsi_sem.fit("acsi", survey, estimator="pls", weights="w",
                          group="company")
    np.testing.assert_allclose(result.measurement["item_weight"],
                               pooled.outer_weights["unstandardized"], rtol=0, atol=1e-10)
    np.testing.assert_allclose(result.measurement["loading"],
                               pooled.parameters.loc[pooled.parameters["op"] == "=~", "est"],
                               rtol=0, atol=1e-10)
    cells = survey["company"] + "/" + survey["wave"].astype(str)
    by_cell = acsi_sem.fit("acsi", survey.assign(cell=cells), estimator="pls", weights="w",
                           group="cell").index_by_group
    for company in COMPANIES:
        for wave in ("2025", "2026"):
            assert company_index(result, company, wave) == pytest.approx(
                by_cell.loc[f"{company}/{wave}", "Satisfaction"], abs=1e-10)


def test_company_weights_are_each_company_s_own_fit(survey: pd.DataFrame) -> None:
    result = run(survey, weights_by="company")
    own = survey[survey["company"] == "C4"]
    fitted = acsi_sem.fit("acsi", own, estimator="pls", weights="w", group="wave")
    weights = result.measurement[result.measurement["group"] == "C4"]
    np.testing.assert_allclose(weights["item_weight"], fitted.outer_weights["unstandardized"],
                               rtol=0, atol=1e-10)
    assert company_index(result, "C4", "2026", "Loyalty") == pytest.approx(
        fitted.index_by_group.loc["2026", "Loyalty"], abs=1e-10)
    assert "one PLS fit per company (6)" in " ".join(result.notes)


def test_cell_paths_are_ols_between_the_cell_s_weighted_composites(
        survey: pd.DataFrame) -> None:
    result = run(survey)
    weights = result.measurement.set_index("indicator")["item_weight"]
    cell = survey[(survey["company"] == "C2") & (survey["wave"] == 2026)]
    share = cell["w"].to_numpy()
    composites = {construct: cell[list(rows.index)].to_numpy() @ rows.to_numpy()
                  for construct, rows in weights.groupby(
                      result.measurement.set_index("indicator")["construct"], sort=False)}
    predictors = np.column_stack([composites[name] for name in
                                  ("Expectation", "Quality", "Value")])

    def standardized(values: np.ndarray) -> np.ndarray:
        centred = values - share @ values / share.sum()
        return centred / np.sqrt(share @ centred ** 2 / share.sum())

    x = np.column_stack([standardized(column) for column in predictors.T])
    y = standardized(composites["Satisfaction"])
    beta = np.linalg.solve(x.T @ (share[:, None] * x), x.T @ (share * y))
    paths = result.paths[(result.paths["company"] == "C2") & (result.paths["wave"] == "2026")
                         & (result.paths["lhs"] == "Satisfaction")].set_index("rhs")["est"]
    np.testing.assert_allclose(paths[["Expectation", "Quality", "Value"]], beta, atol=1e-10)


def test_stratified_counts_resample_within_each_cell() -> None:
    starts, stops = np.array([0, 3, 10]), np.array([3, 10, 12])
    counts = stratified_counts(np.random.default_rng(1), starts, stops, 50)
    for start, stop in zip(starts, stops, strict=True):
        assert (counts[:, start:stop].sum(axis=1) == stop - start).all()
    assert counts.std(axis=0).min() > 0


def test_same_seed_same_numbers_on_one_core_and_two(survey: pd.DataFrame) -> None:
    serial = run(survey, bootstrap=40, seed=11)
    parallel = run(survey, bootstrap=40, seed=11, jobs=2)
    pd.testing.assert_frame_equal(serial.indices, parallel.indices)
    pd.testing.assert_frame_equal(serial.changes, parallel.changes)
    other = run(survey, bootstrap=40, seed=12)
    assert not np.allclose(serial.indices["se"], other.indices["se"])


def test_bootstrap_errors_agree_with_the_linearization(survey: pd.DataFrame) -> None:
    boot = run(survey, bootstrap=400, seed=3)
    plain = run(survey)
    ratio = (boot.indices["se"] / plain.indices["se"]).to_numpy()
    # The bootstrap adds the measurement weights' sampling error; a little, not a lot.
    assert 0.85 < np.median(ratio) < 1.2
    assert boot.se_method == "bootstrap" and boot.bootstrap["used"] == 400
    national = boot.indices[boot.indices["level"] == "national"]
    assert (national["ci_lower"] < national["index"]).all()
    assert (national["index"] < national["ci_upper"]).all()
    weight_changes = boot.weight_changes
    # CUSCO alone measures Complaints: its weight is 1 in every wave.
    assert set(weight_changes["indicator"]) == set(boot.measurement["indicator"]) - {"CUSCO"}
    assert weight_changes["se"].gt(0).all()


def test_same_numbers_on_a_dask_cluster(survey: pd.DataFrame) -> None:
    from dask.distributed import Client, LocalCluster

    serial = run(survey, bootstrap=30, seed=21)
    with LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        distributed = run(survey, bootstrap=30, seed=21, scheduler=client)
    pd.testing.assert_frame_equal(serial.indices, distributed.indices)
    pd.testing.assert_frame_equal(serial.paths, distributed.paths)


def test_a_note_names_the_items_whose_weights_change_between_waves(
        survey: pd.DataFrame) -> None:
    """CUEX1 made pure noise in wave 2026: its weight collapses and the note says so (with
    the other Expectation items, whose weights take its share); unchanged data: no note."""
    changed = survey.copy()
    late = changed["wave"] == 2026
    changed.loc[late, "CUEX1"] = np.random.default_rng(1).integers(1, 11, int(late.sum()))
    notes = {}
    for name, frame in (("same", survey), ("changed", changed)):
        result = run(frame, bootstrap=200, seed=1)
        notes[name] = [note for note in result.notes if "differ between waves" in note]
        table = result.weight_changes
        cuex1 = table[table["indicator"] == "CUEX1"].iloc[0]
        assert bool(cuex1["significant"]) == (name == "changed")
    assert notes["same"] == []
    assert len(notes["changed"]) == 1 and "CUEX1" in notes["changed"][0]
    assert "2025 and 2026" in notes["changed"][0]


def test_study_weights_mistakes_are_named(survey: pd.DataFrame) -> None:
    from acsi_sem.errors import DataError

    negative = survey.assign(w=survey["w"].where(survey.index != 7, -1.0))
    with pytest.raises(DataError, match="weight column w: the weight in row 8 is negative"):
        run(negative)
    silent = survey.assign(w=survey["w"].where(survey["company"] != "C2", 0.0))
    with pytest.raises(DataError, match="company C2 in wave 2025 has 100 respondent\\(s\\), 0 "
                                        "with a positive weight"):
        run(silent)
