"""The WLSMV bootstrap against lavaan 0.6.14: lavaan's own WLSMV fit of each of 20 resamples
(tests/fixtures/lavaan/make_wlsmv_bootstrap_fixtures.R, rows from
make_wlsmv_bootstrap_rows.py), replicate by replicate, single-group and with groups."""

from __future__ import annotations

import json
from functools import cache

import numpy as np
import pandas as pd
import pytest

import acsi_sem
from acsi_sem.cli.main import main
from acsi_sem.estimators.ordinal_bootstrap import ResampledStatistics
from acsi_sem.numerics.polychoric import ordinal_statistics
from acsi_sem.resample import FailedReplicateError, resampled_rows
from tests.conftest import LAVAAN, ROOT, assert_close

DATA = ROOT / "tests" / "fixtures" / "data"
ACSI = ROOT / "models" / "acsi.lav"
# lavaan's delta case lets the item CUSCO stand in for Complaints (make_survey_fixtures.R).
DIRECT = (ACSI.read_text().replace("Complaints   =~ CUSCO\n", "")
          .replace("Complaints", "CUSCO"))
HS_CFA = ROOT / "tests" / "fixtures" / "models" / "hs_cfa.lav"
SEED, REPLICATES = 20261207, 20   # make_wlsmv_bootstrap_rows.py
SCHOOLS = {1: "Pasteur", 2: "Grant-White"}


@cache
def single() -> acsi_sem.FitResult:
    return acsi_sem.fit(DIRECT, DATA / "acsi_ordinal.csv", estimator="wlsmv",
                        bootstrap=REPLICATES, seed=SEED)


@cache
def groups() -> acsi_sem.FitResult:
    return acsi_sem.fit(HS_CFA, DATA / "holzinger1939_ordinal.csv", group="school",
                        estimator="wlsmv", ordered="all", group_equal=["thresholds"],
                        bootstrap=REPLICATES, seed=SEED)


def lavaan_replicates(case: str) -> pd.DataFrame:
    """(replicates, parameters) lavaan's estimates, named as the bootstrap names them."""
    table = pd.read_csv(LAVAAN / f"wlsmv_bootstrap_{case}.csv")
    assert table["converged"].all()
    keys = (table["lhs"] + " " + table["op"] + " " + table["rhs"].fillna("").astype(str)
            ).str.strip()
    if "group" in table.columns:
        keys = keys + " [" + table["group"].map(SCHOOLS) + "]"
    return table.assign(key=keys).pivot(index="replicate", columns="key", values="est")


def complete_replicates(case: str) -> np.ndarray:
    """The replicates (1-based) whose resample kept every answer category (lavaan fits the
    others with fewer thresholds; acsi-sem counts them as failed)."""
    table = pd.read_csv(LAVAAN / f"wlsmv_bootstrap_{case}.csv")
    counts = table.groupby("replicate")["thresholds"].first()
    return counts.index[counts == counts.max()].to_numpy()


@pytest.mark.parametrize(("case", "data", "strata"), [
    ("acsi_ordinal", "acsi_ordinal.csv", None),
    ("hs_ordinal_groups", "holzinger1939_ordinal.csv", "school"),
])
def test_the_fixture_rows_are_the_seeded_resampling_stream(case: str, data: str,
                                                           strata: str | None) -> None:
    frame = pd.read_csv(DATA / data)
    codes = None if strata is None else frame[strata].to_numpy()
    rows = pd.read_csv(LAVAAN / f"wlsmv_bootstrap_rows_{case}.csv")
    drawn = np.concatenate(list(resampled_rows(len(frame), REPLICATES, SEED, codes)))
    np.testing.assert_array_equal(rows["row"].to_numpy() - 1, drawn)


def test_single_group_replicates_equal_lavaans_fits_of_the_same_rows() -> None:
    boot = single().bootstrap
    complete = complete_replicates("acsi_ordinal")
    # 7 of the 20 resamples lose an answer category of a rare answer: failed, as in lavaan's
    # bootstrap, whose sample statistics fail there.
    assert (boot.requested, boot.failed, len(complete)) == (20, 7, 13)
    theirs = lavaan_replicates("acsi_ordinal").loc[complete]
    ours = pd.DataFrame(boot.draws, columns=boot.names)
    assert set(theirs.columns) <= set(ours.columns) and len(theirs.columns) == 78
    assert_close(ours[theirs.columns].to_numpy(), theirs.to_numpy(), rel=1e-5,
                 absolute=1e-5, what="replicate estimates")
    assert_close(boot.se[[boot.names.index(k) for k in theirs.columns]],
                 theirs.std(ddof=1).to_numpy(), rel=1e-4, what="bootstrap SE")


def test_multigroup_replicates_equal_lavaans_fits_of_the_same_rows() -> None:
    boot = groups().bootstrap
    assert (boot.requested, boot.failed) == (20, 0)
    theirs = lavaan_replicates("hs_ordinal_groups")
    ours = pd.DataFrame(boot.draws, columns=boot.names)
    # Thresholds, loadings, (co)variances of both schools, Grant-White's scale factors and
    # latent means.
    assert set(theirs.columns) == set(ours.columns[:len(theirs.columns)])
    assert len(theirs.columns) == 90
    # lavaan's nlminb stops where the estimates along this model's flat directions still
    # move by about 1e-4 (as in the full-sample fit, test_wlsmv_groups.py).
    assert_close(ours[theirs.columns].to_numpy(), theirs.to_numpy(), rel=2e-4,
                 absolute=1e-4, what="replicate estimates")
    assert_close(boot.se[[boot.names.index(k) for k in theirs.columns]],
                 theirs.std(ddof=1).to_numpy(), rel=1e-4, what="bootstrap SE")


def test_bootstrap_standard_errors_and_intervals_replace_the_robust_ones() -> None:
    result = groups()
    table = result.bootstrap.intervals()
    rows = result.parameters.set_index(["lhs", "op", "rhs", "group"])
    row = rows.loc[("x3", "~*~", "x3", "Grant-White")]
    key = "x3 ~*~ x3 [Grant-White]"
    assert row["se"] == pytest.approx(table.at[key, "se"], rel=1e-12)
    assert row["ci_lower"] == pytest.approx(table.at[key, "ci_lower"], rel=1e-12)
    assert "bootstrap: 20 replicates requested (seed 20261207), 20 used" in result.notes[-1]
    effects = single().effects
    assert effects["se_total"].notna().all()
    assert {"htmt: Expectation, Quality"} <= set(single().bootstrap.names)
    # The test stays the scaled-shifted one of the full sample.
    assert single().fit_indices["chisq_scaled"] == pytest.approx(
        acsi_sem.fit(DIRECT, DATA / "acsi_ordinal.csv", estimator="wlsmv")
        .fit_indices["chisq_scaled"], rel=1e-12)


def test_a_resample_that_loses_a_category_fails() -> None:
    frame = pd.read_csv(DATA / "holzinger1939_ordinal.csv").drop(columns="school")
    statistics = ordinal_statistics(frame)
    resample = ResampledStatistics(frame, statistics)
    rare = int(np.flatnonzero(frame["x1"].to_numpy() == frame["x1"].min())[0])
    others = np.flatnonzero(frame["x1"].to_numpy() != frame["x1"].min())
    with pytest.raises(FailedReplicateError):
        resample(others)
    kept = resample(np.concatenate([others, [rare]]))
    assert [len(t) for t in kept.thresholds] == [len(t) for t in statistics.thresholds]
    # Every row once is the full sample.
    np.testing.assert_array_equal(resample(np.arange(len(frame))).polychoric,
                                  statistics.polychoric)


def test_the_same_seed_draws_the_same_replicates() -> None:
    def draws(seed: int) -> np.ndarray:
        return acsi_sem.fit(HS_CFA, DATA / "holzinger1939_ordinal.csv", estimator="wlsmv",
                            ordered="all", bootstrap=4, seed=seed).bootstrap.draws

    first = draws(3)
    np.testing.assert_array_equal(first, draws(3))
    assert not np.allclose(first, draws(4))


def test_the_wlsmv_bootstrap_from_the_shell(capsys) -> None:
    code = main(["fit", str(HS_CFA), "--data", str(DATA / "holzinger1939_ordinal.csv"),
                 "--estimator", "wlsmv", "--ordered", "all", "--bootstrap", "4", "--seed",
                 "3", "--json", "-"])
    assert code == 0
    document = json.loads(capsys.readouterr().out)
    assert any("bootstrap: 4 replicates requested (seed 3)" in note
               for note in document["notes"])
    loading = next(p for p in document["parameters"]
                   if (p["lhs"], p["op"], p["rhs"]) == ("visual", "=~", "x2"))
    direct = acsi_sem.fit(HS_CFA, DATA / "holzinger1939_ordinal.csv", estimator="wlsmv",
                          ordered="all", bootstrap=4, seed=3).bootstrap
    assert loading["se"] == pytest.approx(direct.se[direct.names.index("visual =~ x2")],
                                          rel=1e-12)


def mixed_frame(continuous: tuple[str, ...]) -> pd.DataFrame:
    """The HS items in four categories but ``continuous`` on their own scale (the mixed
    WLSMV fixtures' data), with the school."""
    frame = pd.read_csv(DATA / "holzinger1939_ordinal.csv")
    raw = pd.read_csv(DATA / "holzinger1939.csv")
    return frame.assign(**{name: raw[name] for name in continuous})


@pytest.mark.parametrize(("continuous", "options"), [
    (("x1", "x5", "x9"), {}),
    (("x1", "x2", "x5", "x9"), {"group": "school"}),
])
def test_a_replicate_with_continuous_items_is_the_fit_of_its_rows(continuous: tuple[str, ...],
                                                                  options: dict) -> None:
    """Warm-started from the full sample (with the continuous items rescaled), a replicate
    ends where a fresh fit of the resampled rows does."""
    frame = mixed_frame(continuous)
    if "group" not in options:
        frame = frame.drop(columns="school")
    ordered = [f"x{j}" for j in range(1, 10) if f"x{j}" not in continuous]
    settings = {"estimator": "wlsmv", "ordered": ordered, **options}
    boot = acsi_sem.fit(HS_CFA, frame, bootstrap=2, seed=5, **settings).bootstrap
    strata = frame["school"].to_numpy() if "group" in options else None
    rows = next(resampled_rows(len(frame), 1, 5, strata))
    fresh = acsi_sem.fit(HS_CFA, frame.iloc[rows].reset_index(drop=True), **settings)
    table = fresh.parameters
    columns = ["lhs", "op", "rhs", "group"] if "group" in options else ["lhs", "op", "rhs"]
    keys = [" ".join(str(v) for v in row[:3]).strip() + (f" [{row[3]}]" if len(row) > 3
                                                          else "")
            for row in table[columns].itertuples(index=False)]
    estimates = dict(zip(keys, table["est"], strict=True))
    parameters = [name for name in boot.names if not name.startswith(("total", "indirect",
                                                                     "htmt"))]
    assert len(parameters) > 30 and any(" ~1" in name for name in parameters)
    assert_close(boot.draws[0, :len(parameters)], [estimates[name] for name in parameters],
                 rel=1e-6, absolute=1e-7, what="replicate against a fresh fit")
