"""Multi-group ML and the measurement invariance sequence against lavaan 0.6.14
(tests/fixtures/lavaan/make_survey_fixtures.R, sections d and e)."""

from __future__ import annotations

import json
from functools import cache

import numpy as np
import pandas as pd
import pytest

import acsi_sem
from acsi_sem.cli.main import main
from acsi_sem.errors import AcsiSemError, DataError
from acsi_sem.resample import resampled_rows
from tests.conftest import (
    LAVAAN,
    ROOT,
    assert_close,
    assert_indices_close,
    lavaan_fit,
    lavaan_parameters,
    match_rows,
)

HS_CFA = ROOT / "tests" / "fixtures" / "models" / "hs_cfa.lav"
HS_SEM = ROOT / "tests" / "fixtures" / "models" / "hs_sem.lav"
DATA = ROOT / "tests" / "fixtures" / "data" / "holzinger1939.csv"
# lavaan numbers the groups in order of first appearance in the data.
SCHOOLS = {1: "Pasteur", 2: "Grant-White"}
FIT = ["npar", "chisq", "df", "pvalue", "baseline_chisq", "baseline_df", "cfi", "tli", "nfi",
       "rmsea", "rmsea_ci_lower", "rmsea_ci_upper", "rmsea_pvalue", "srmr", "aic", "bic",
       "bic2", "loglik", "unrestricted_loglik", "gfi", "agfi"]


@cache
def invariance() -> acsi_sem.InvarianceResult:
    return acsi_sem.measurement_invariance(HS_CFA, DATA, group="school")


def assert_matches_lavaan(result: acsi_sem.FitResult, case: str) -> None:
    theirs = lavaan_parameters(case)
    theirs["group"] = theirs["group"].map(SCHOOLS)
    merged = match_rows(result.parameters, theirs, by=("group",))
    assert (merged["_merge"] == "both").all(), merged.loc[merged["_merge"] != "both",
                                                          ["lhs", "op", "rhs", "group"]]
    for column in ["est", "se", "z", "std_lv", "std_all"]:
        assert_close(merged[column], merged[f"{column}_lavaan"], rel=2e-4, absolute=2e-5,
                     what=f"{case} {column}")
    ours, lavaan = result.fit_indices, lavaan_fit(case)
    for name in FIT:
        assert_close(ours[name], lavaan[name], rel=1e-6, absolute=1e-6, what=f"{case} {name}")


@pytest.mark.parametrize("step", ["configural", "metric", "scalar", "strict"])
def test_each_invariance_step_equals_lavaan(step: str) -> None:
    assert_matches_lavaan(invariance().fits[step], f"hs_invariance_{step}")


def test_equal_regressions_across_groups_equal_lavaan() -> None:
    result = acsi_sem.fit(HS_SEM, DATA, group="school", group_equal="loadings, regressions")
    assert_matches_lavaan(result, "hs_sem_groups_regressions")
    paths = result.parameters.query("op == '~'")
    assert paths.groupby(["lhs", "rhs"])["est"].nunique().eq(1).all()
    assert set(result.effects["group"]) == {"Pasteur", "Grant-White"}


def test_chi_square_difference_tests_equal_lavtestlrt() -> None:
    lavaan = pd.read_csv(LAVAAN / "hs_invariance_lrt.csv")
    ours = invariance().table
    assert ours["model"].tolist() == lavaan["model"].tolist()
    pairs = {"df": "Df", "aic": "AIC", "bic": "BIC", "chisq": "Chisq",
             "chisq_diff": "Chisq diff", "df_diff": "Df diff", "pvalue_diff": "Pr(>Chisq)",
             "rmsea_diff": "RMSEA", "cfi": "cfi", "delta_cfi": "delta.cfi",
             "rmsea": "rmsea", "delta_rmsea": "delta.rmsea"}
    for column, theirs in pairs.items():
        assert_close(ours[column], lavaan[theirs], rel=1e-6, absolute=1e-8, what=column)


def test_scalar_step_frees_latent_means_in_later_groups_only() -> None:
    means = invariance().fits["scalar"].parameters.query("op == '~1' and lhs == 'visual'")
    first, second = means["est"].to_numpy()
    assert first == 0 and means["se"].iloc[0] == 0
    assert second == pytest.approx(-0.148, abs=1e-3) and means["se"].iloc[1] > 0
    intercepts = invariance().fits["scalar"].parameters.query("op == '~1' and lhs == 'x1'")
    assert intercepts["est"].nunique() == 1


def test_summary_and_json_show_every_group() -> None:
    result = invariance().fits["metric"]
    text = str(result.summary())
    assert "Group 1 [Pasteur], N = 156" in text and "Group 2 [Grant-White], N = 145" in text
    assert "Held equal across groups" in text and "loadings" in text
    document = json.loads(result.to_json())
    assert document["groups"]["n_obs"] == {"Pasteur": 156, "Grant-White": 145}
    assert {entry["group"] for entry in document["parameters"]} == {"Pasteur", "Grant-White"}
    assert set(document["r2"]) == {"Pasteur", "Grant-White"}
    sequence = invariance().summary()
    assert "CFI drops by more than 0.01 at: scalar" in sequence


def test_invariance_from_the_shell(capsys) -> None:
    code = main(["fit", str(HS_CFA), "--data", str(DATA), "--group", "school", "--invariance",
                 "--json", "-"])
    captured = capsys.readouterr()
    assert code == 0
    document = json.loads(captured.out)
    steps = {entry["model"]: entry for entry in document["invariance"]}
    assert list(steps) == ["configural", "metric", "scalar", "strict"]
    assert steps["metric"]["chisq_diff"] == pytest.approx(8.19220030, rel=1e-6)
    assert steps["scalar"]["df"] == 60 and steps["configural"]["delta_cfi"] is None
    assert "Measurement invariance across school" in captured.err


def small_group_data() -> pd.DataFrame:
    data = pd.read_csv(DATA)
    data.loc[data.index[:5], "school"] = "Tiny"
    return data


@pytest.mark.parametrize(("data", "options", "pattern"), [
    (small_group_data, {"group": "school"}, "group 'Tiny' of column school has only 5"),
    (lambda: pd.read_csv(DATA).assign(x4=lambda d: np.where(d["school"] == "Pasteur", 3.0,
                                                            d["x4"])),
     {"group": "school"}, "group 'Pasteur' of column school: every answer to x4"),
    (lambda: pd.read_csv(DATA).assign(school="Pasteur"), {"group": "school"},
     "at least two groups"),
    (lambda: pd.read_csv(DATA), {"group_equal": "loadings"}, "needs a group column"),
    (lambda: pd.read_csv(DATA), {"group": "school", "group_equal": "loadngs"},
     "unknown group_equal class 'loadngs'"),
    (lambda: pd.read_csv(DATA), {"group": "school", "estimator": "wlsmv"},
     "column x1 is declared ordered but holds non-integer answers"),
    (lambda: pd.read_csv(DATA), {"group": "school", "group_equal": "loadings",
                                 "estimator": "pls"}, "PLS reports the index per group"),
    (lambda: pd.read_csv(DATA).assign(x3=lambda d: d["x3"].where(
        d["school"] != "Pasteur", 2 * d["x2"] + 1)), {"group": "school"},
     "x2, x3 are linearly dependent in that group"),
    (lambda: pd.read_csv(DATA).assign(school=lambda d: [1 if i % 2 else "1"
                                                         for i in range(len(d))]),
     {"group": "school"}, "spells one group in several ways"),
    (lambda: pd.read_csv(DATA), {"group": "school", "group_equal": ["loadings", None]},
     "class names as text"),
])
def test_impossible_group_requests_name_the_cause(data, options: dict, pattern: str) -> None:
    with pytest.raises((AcsiSemError, DataError), match=pattern):
        acsi_sem.fit(HS_CFA, data(), **options)


ROBUST_FIT = ["chisq_scaled", "scaling_factor", "pvalue_scaled", "baseline_chisq_scaled",
              "cfi_scaled", "tli_scaled", "rmsea_scaled", "cfi_robust", "tli_robust",
              "rmsea_robust", "rmsea_ci_lower_robust", "rmsea_ci_upper_robust"]


@cache
def robust_invariance() -> acsi_sem.InvarianceResult:
    return acsi_sem.measurement_invariance(HS_CFA, DATA, group="school", estimator="mlr",
                                           steps=("configural", "scalar"))


@pytest.mark.parametrize("step", ["configural", "scalar"])
def test_robust_ml_across_groups_equals_lavaan(step: str) -> None:
    result = robust_invariance().fits[step]
    assert_matches_lavaan(result, f"hs_invariance_{step}_mlr")
    ours, lavaan = result.fit_indices, lavaan_fit(f"hs_invariance_{step}_mlr")
    # The bread is a Hessian by differences on both sides; factors agree to about 1e-6.
    assert_indices_close(ours, lavaan, ROBUST_FIT, rel=1e-5, absolute=1e-7)


def test_robust_difference_test_equals_lavaan() -> None:
    lavaan = pd.read_csv(LAVAAN / "hs_invariance_lrt_mlr.csv")
    row = robust_invariance().table.iloc[1]
    assert row["chisq_diff"] == pytest.approx(lavaan["Chisq diff"].iloc[1], rel=1e-5)
    assert row["df_diff"] == lavaan["Df diff"].iloc[1] == 12
    assert row["pvalue_diff"] == pytest.approx(lavaan["Pr(>Chisq)"].iloc[1], rel=1e-4)
    assert row["scaling_diff"] == pytest.approx(1.114182, rel=1e-5)


def test_group_order_is_taken_before_incomplete_rows_are_removed() -> None:
    data = pd.read_csv(DATA)
    first = data[data["school"] == "Grant-White"].index[0]
    data = pd.concat([data.loc[[first]].assign(x1=np.nan), data], ignore_index=True)
    result = acsi_sem.fit(HS_CFA, data, group="school")
    assert result.groups["labels"] == ["Grant-White", "Pasteur"]
    assert result.groups["n_obs"] == {"Grant-White": 145, "Pasteur": 156}


def test_labelled_parameters_are_reported_as_equal_across_groups() -> None:
    model = HS_CFA.read_text().replace("x2", "a*x2")
    result = acsi_sem.fit(model, DATA, group="school")
    loadings = result.parameters.query("lhs == 'visual' and rhs == 'x2'")["est"]
    assert loadings.nunique() == 1
    assert result.groups["labelled"] == ["a"] and "labelled parameters (a)" in " ".join(
        result.notes)


@pytest.mark.parametrize(("model", "pattern"), [
    ("visual =~ x1 + x2 + x3\ntextual <~ x4 + x5 + x6", "formative"),
    (HS_CFA.read_text() + "\nvisual ~ 1\n", "frees the mean of visual"),
])
def test_models_groups_cannot_fit_are_refused(model: str, pattern: str) -> None:
    with pytest.raises(AcsiSemError, match=pattern):
        acsi_sem.fit(model, DATA, group="school")


@pytest.mark.parametrize(("arguments", "pattern"), [
    (["--invariance"], "--invariance needs --group"),
    (["--group", "school", "--invariance", "--estimator", "pls"], "use estimator 'ml' or"),
])
def test_invariance_options_that_cannot_work_from_the_shell(capsys, arguments, pattern) -> None:
    code = main(["fit", str(HS_CFA), "--data", str(DATA), *arguments])
    assert code == 2 and pattern in capsys.readouterr().err


def test_the_group_bootstrap_resamples_within_groups_and_refits_them() -> None:
    result = acsi_sem.fit(HS_CFA, DATA, group="school", group_equal="loadings", bootstrap=6,
                          seed=9)
    boot = result.bootstrap
    frame = pd.read_csv(DATA)
    first = next(resampled_rows(len(frame), 1, 9, frame["school"].to_numpy()))
    drawn = frame.iloc[first]
    # Every resample keeps each school's size.
    assert drawn["school"].value_counts().to_dict() == frame["school"].value_counts().to_dict()
    refit = acsi_sem.fit(HS_CFA, drawn.reset_index(drop=True), group="school",
                         group_equal="loadings").parameters.set_index(
                             ["lhs", "op", "rhs", "group"])
    assert_first_replicate_is_the_refit(boot, refit, rel=1e-6, absolute=1e-8)
    table = result.parameters.set_index(["lhs", "op", "rhs", "group"])
    column = boot.draws[:, list(boot.names).index("visual =~ x2 [Grant-White]")]
    assert table.at[("visual", "=~", "x2", "Grant-White"), "se"] == pytest.approx(
        column.std(ddof=1))
    # Loadings held equal are equal in every replicate.
    assert np.array_equal(column, boot.draws[:, list(boot.names).index(
        "visual =~ x2 [Pasteur]")])


def assert_first_replicate_is_the_refit(boot, refit, *, rel: float, absolute: float) -> None:
    """The bootstrap's first replicate equals a fresh fit of its rows (``refit``: a
    parameter table indexed by lhs, op, rhs, group) for a loading, an intercept and a
    variance of the Holzinger-Swineford CFA by school."""
    for lhs, op, rhs, group in [("visual", "=~", "x2", "Pasteur"),
                                ("x3", "~1", "", "Grant-White"),
                                ("speed", "~~", "speed", "Grant-White")]:
        name = f"{lhs} {op} {rhs}".strip() + f" [{group}]"
        assert boot.draws[0, list(boot.names).index(name)] == pytest.approx(
            refit.at[(lhs, op, rhs, group), "est"], rel=rel, abs=absolute)


def test_the_group_bootstrap_gives_the_effects_their_bootstrap_ses(tmp_path) -> None:
    model = tmp_path / "hs_chain.lav"
    model.write_text("visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\n"
                     "speed =~ x7 + x8 + x9\ntextual ~ visual\nspeed ~ textual\n")
    result = acsi_sem.fit(model, DATA, group="school", bootstrap=8, seed=5)
    boot, effects = result.bootstrap, result.effects
    row = effects.query("lhs == 'speed' and rhs == 'visual' and group == 'Pasteur'").iloc[0]
    draws = boot.draws[:, list(boot.names).index("indirect: speed <- visual [Pasteur]")]
    assert row["indirect"] != 0 and row["se_indirect"] == pytest.approx(draws.std(ddof=1))
    assert row["ci_lower_indirect"] <= row["indirect"] <= row["ci_upper_indirect"]
    # The first replicate's effects are those of a fresh fit of its rows.
    frame = pd.read_csv(DATA)
    first = next(resampled_rows(len(frame), 1, 5, frame["school"].to_numpy()))
    refit = acsi_sem.fit(model, frame.iloc[first].reset_index(drop=True),
                         group="school").effects.set_index(["lhs", "rhs", "group"])
    for kind in ("indirect", "total"):
        for group in ("Pasteur", "Grant-White"):
            name = f"{kind}: speed <- visual [{group}]"
            assert boot.draws[0, list(boot.names).index(name)] == pytest.approx(
                refit.at[("speed", "visual", group), kind], rel=1e-6)


def test_a_jackknife_that_empties_a_small_group_drops_that_replicate_and_counts_it(
        capfd) -> None:
    """BCa's leave-rows-out replicates ignore the groups: one that removes a 9-row group
    fails (no moments there) without NaNs reaching LAPACK, which printed to the console, and
    the bootstrap's note counts it."""
    frame = pd.read_csv(DATA)[["school", "x4", "x5", "x6"]]
    big = pd.concat([frame] * 8, ignore_index=True)
    noise = 0.3 * np.random.default_rng(0).standard_normal((len(big), 3))
    big[["x4", "x5", "x6"]] += noise
    big.loc[:8, "school"] = "Tiny"
    result = acsi_sem.fit("textual =~ x4 + x5 + x6\n", big, group="school", bootstrap=5,
                          seed=1, ci="bca")
    assert result.bootstrap.jackknife.shape[0] == 249  # of 250: the first emptied Tiny
    assert result.bootstrap.jackknife_failed == 1
    assert "from 249 of 250 jackknife blocks (1 failed, left out)" in " ".join(result.notes)
    assert result.parameters["ci_lower"].notna().any()
    printed = capfd.readouterr()
    assert "DLASCL" not in printed.out + printed.err  # LAPACK writes to standard output
