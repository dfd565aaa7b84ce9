"""MICOM and PLS multi-group analysis: by their definitions, on a simulated survey with a
known group difference, and the permutation test's size by simulation."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import acsi_sem
from acsi_sem.cli.main import main
from acsi_sem.errors import AcsiSemError, DataError
from acsi_sem.pls_groups import _henseler_p, compare_groups
from tests.conftest import ROOT

MOBI = pd.read_csv(ROOT / "data" / "mobi.csv").assign(
    half=np.where(np.arange(250) < 125, "first", "second"))
SMALL = """Image =~ IMAG1 + IMAG2 + IMAG3
Satisfaction =~ CUSA1 + CUSA2 + CUSA3
Loyalty =~ CUSL1 + CUSL2 + CUSL3
Satisfaction ~ Image
Loyalty ~ Satisfaction + Image"""
SIMULATED = "X =~ x1 + x2 + x3\nY =~ y1 + y2 + y3\nZ =~ z1 + z2 + z3\nY ~ X\nZ ~ Y"


def two_group_survey(effects: tuple[float, float], n: int, rng: np.random.Generator
                     ) -> pd.DataFrame:
    """Per group: X -> Y with the given effect, Y -> Z = 0.5 in both; three items per
    construct with loadings 0.8 (standardized)."""
    frames = []
    for label, effect in zip(("a", "b"), effects, strict=True):
        x = rng.normal(size=n)
        y = effect * x + rng.normal(scale=np.sqrt(1 - effect ** 2), size=n)
        z = 0.5 * y + rng.normal(scale=np.sqrt(0.75), size=n)
        items = {f"{name}{i}": 0.8 * factor + rng.normal(scale=0.6, size=n)
                 for name, factor in (("x", x), ("y", y), ("z", z)) for i in (1, 2, 3)}
        frames.append(pd.DataFrame(items).assign(group=label))
    return pd.concat(frames, ignore_index=True)


@pytest.fixture(scope="module")
def halves() -> acsi_sem.pls_groups.GroupComparison:
    return compare_groups(SMALL, MOBI, group="half", permutations=200, bootstrap=200, seed=3)


def test_compositional_c_correlates_each_groups_composite_on_the_pooled_data(halves) -> None:
    fits = [acsi_sem.fit(SMALL, MOBI[MOBI["half"] == name], estimator="pls")
            for name in ("first", "second")]
    items = fits[0].outer_weights["indicator"].tolist()
    pooled = MOBI[items].to_numpy(dtype=float)
    standardized = (pooled - pooled.mean(axis=0)) / pooled.std(axis=0, ddof=1)
    for construct in ("Image", "Satisfaction", "Loyalty"):
        scores = [standardized @ np.where(fit.outer_weights["latent"] == construct,
                                          fit.outer_weights["weight"], 0.0) for fit in fits]
        c = np.corrcoef(scores[0], scores[1])[0, 1]
        assert halves.compositional.at[construct, "c"] == pytest.approx(c, rel=1e-9)


def test_step_3_compares_the_pooled_scores_of_the_groups(halves) -> None:
    scores = acsi_sem.fit(SMALL, MOBI, estimator="pls").scores
    first = (MOBI["half"] == "first").to_numpy()
    for construct in ("Image", "Loyalty"):
        values = scores[construct].to_numpy()
        row = halves.means_variances.loc[construct]
        assert row["mean_difference"] == pytest.approx(
            values[first].mean() - values[~first].mean(), rel=1e-9)
        assert row["log_variance_difference"] == pytest.approx(
            np.log(values[first].var(ddof=1)) - np.log(values[~first].var(ddof=1)), rel=1e-9)
    assert set(halves.means_variances["invariance"]) <= {"full", "partial", "none"}


def test_permutation_p_is_the_share_of_permuted_differences_as_large() -> None:
    result = compare_groups(SMALL, MOBI, group="half", permutations=25, bootstrap=0, seed=5)
    first = (MOBI["half"] == "first").to_numpy()
    rng = np.random.default_rng(5)
    observed = result.paths.at[("Loyalty", "Satisfaction"), "difference"]
    larger = 0
    for _ in range(25):
        labels = np.where(rng.permutation(first), "p", "q")
        paths = [acsi_sem.fit(SMALL, MOBI[labels == name], estimator="pls").parameters
                 .query("lhs == 'Loyalty' and rhs == 'Satisfaction'")["est"].iat[0]
                 for name in ("p", "q")]
        larger += abs(paths[0] - paths[1]) >= abs(observed)
    assert result.paths.at[("Loyalty", "Satisfaction"), "permutation_p"] == larger / 25
    assert "henseler_p" not in result.paths


def test_henseler_p_and_the_parametric_tests_follow_their_formulas(halves) -> None:
    first, second = np.array([0.5, 0.6, 0.7]), np.array([0.1, 0.65, 0.3])
    # 2 mean1 - b1_j - 2 mean2 + b2_k > 0 for 7 of the 9 pairs.
    assert _henseler_p(first, second) == pytest.approx(1 - 7 / 9)
    row = halves.paths.loc[("Loyalty", "Satisfaction")]
    n1 = n2 = 125
    pooled = np.sqrt((n1 - 1) ** 2 / (n1 + n2 - 2) * row["se_first"] ** 2
                     + (n2 - 1) ** 2 / (n1 + n2 - 2) * row["se_second"] ** 2) \
        * np.sqrt(1 / n1 + 1 / n2)
    assert row["keil_t"] == pytest.approx(row["difference"] / pooled, rel=1e-12)
    assert row["keil_df"] == 248
    assert row["henseler_p_two_sided"] == pytest.approx(
        2 * min(row["henseler_p"], 1 - row["henseler_p"]))


def test_a_known_group_difference_is_found_and_an_equal_path_is_not() -> None:
    data = two_group_survey((0.2, 0.7), 300, np.random.default_rng(2009))
    result = compare_groups(SIMULATED, data, group="group", permutations=1000,
                            bootstrap=500, seed=1)
    different, equal = result.paths.loc[("Y", "X")], result.paths.loc[("Z", "Y")]
    assert different["difference"] == pytest.approx(-0.5, abs=0.1)
    for column in ("permutation_p", "henseler_p_two_sided", "keil_p", "welch_p"):
        assert different[column] < 0.01
        assert equal[column] > 0.05
    # The items load equally in both groups: every composite is nearly the same (here Z's
    # c = 0.9953 still falls below its permutation 5% quantile, p = 0.02: one of three tests).
    assert (result.compositional["c"] > 0.99).all()


@pytest.mark.slow
def test_the_permutation_test_has_near_nominal_size() -> None:
    rng = np.random.default_rng(2010)
    pvalues = []
    for _ in range(80):
        data = two_group_survey((0.4, 0.4), 100, rng)
        result = compare_groups(SIMULATED, data, group="group", permutations=199,
                                bootstrap=0, seed=int(rng.integers(1 << 30)))
        pvalues.append(result.paths.at[("Y", "X"), "permutation_p"])
    assert np.mean(np.array(pvalues) < 0.05) <= 0.12
    assert 0.3 < np.median(pvalues) < 0.7


@pytest.mark.parametrize(("data", "options", "error", "message"), [
    (MOBI.assign(half="one"), {}, DataError, "needs two groups; 'half' has 1"),
    (MOBI.assign(half=np.arange(250) % 3), {}, DataError, "choose two"),
    (MOBI.assign(half=np.where(np.arange(250) < 5, "tiny", "big")), {}, DataError,
     "group 'tiny' of 'half' has 5 respondents"),
    (MOBI, {"groups": ("first", "third")}, DataError, "must name two of the labels"),
    (MOBI, {"permutations": 5}, AcsiSemError, "at least 19 permutations"),
])
def test_misuse_is_named(data: pd.DataFrame, options: dict, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        compare_groups(SMALL, data, group="half", **options)


def test_cli_writes_the_comparison(tmp_path, capsys) -> None:
    survey = tmp_path / "mobi.csv"
    MOBI.to_csv(survey, index=False)
    target = tmp_path / "groups.json"
    assert main(["groups", "ecsi", "--data", str(survey), "--group", "half",
                 "--permutations", "50", "--bootstrap", "50", "--seed", "1", "--json",
                 str(target)]) == 0
    document = json.loads(target.read_text())
    reference = compare_groups("ecsi", MOBI, group="half", permutations=50, bootstrap=50,
                               seed=1)
    assert document["compositional"][0]["c"] == pytest.approx(
        reference.compositional["c"].iloc[0])
    assert document["paths"][0]["permutation_p"] == reference.paths["permutation_p"].iloc[0]
    assert "MICOM step 2" in capsys.readouterr().out


def test_each_groups_paths_equal_seminr_mga() -> None:
    # tests/fixtures/seminr/make_mga_fixtures.py: seminr 0.2.1's estimate_pls_mga, ECSI on
    # the two halves of mobi.
    theirs = pd.read_csv(ROOT / "tests" / "fixtures" / "seminr" / "mga__paths.csv").set_index(
        ["lhs", "rhs"])
    ours = compare_groups("ecsi", MOBI, group="half", permutations=19, bootstrap=0,
                          seed=1).paths
    ours.index = ours.index.set_names(["lhs", "rhs"])
    assert np.abs(ours.loc[theirs.index, "first"] - theirs["group1_beta"]).max() < 1e-10
    assert np.abs(ours.loc[theirs.index, "second"] - theirs["group2_beta"]).max() < 1e-10


def test_an_item_constant_in_one_group_is_named() -> None:
    constant = MOBI.assign(IMAG1=np.where(MOBI["half"] == "first", 7, MOBI["IMAG1"]))
    with pytest.raises(DataError, match="does not vary within a group"):
        compare_groups(SMALL, constant, group="half", permutations=19, bootstrap=0)
