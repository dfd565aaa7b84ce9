"""Overall fit of PLS models (SRMR, d_ULS, d_G, the test of exact fit) and HTMT2, by their
definitions. The formulas were also checked once against ADANCO 2.2.1's values shipped in
cSEM's comparison files (SRMR 0.052505 / 0.086076, d_ULS 1.042042 / 2.800629, d_G 0.860047
/ 0.972905 for the saturated / estimated model): equal to all six digits; that data is
not ours to ship."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import acsi_sem
from acsi_sem.cli.main import main
from acsi_sem.estimators.options import FitOptions
from acsi_sem.estimators.pls import checked_layout, pls_core
from acsi_sem.estimators.pls_fit_test import (
    exact_fit_test,
    rotated_items,
    sample_distances,
)
from acsi_sem.model.spec import parse_model
from acsi_sem.resample import resampled_rows
from acsi_sem.statistics.pls_fit import (
    composite_blocks,
    implied_construct_correlation,
    implied_indicator_correlation,
)
from acsi_sem.statistics.quality import heterotrait_monotrait
from tests.conftest import ROOT

MOBI = pd.read_csv(ROOT / "data" / "mobi.csv")
CHAIN = """Image =~ IMAG1 + IMAG2 + IMAG3
Satisfaction =~ CUSA1 + CUSA2 + CUSA3
Loyalty =~ CUSL1 + CUSL2 + CUSL3
Satisfaction ~ Image
Loyalty ~ Satisfaction"""


def implied_by_hand(result: acsi_sem.FitResult, construct: np.ndarray,
                    composite: bool) -> np.ndarray:
    """Element by element: lambda_i lambda_j V_ab between blocks; S (composite) or
    lambda_i lambda_j (common factor) within."""
    loadings = result.parameters[result.parameters["op"] == "=~"]
    owner = dict(zip(loadings["rhs"], loadings["lhs"], strict=True))
    lam = dict(zip(loadings["rhs"], loadings["est"], strict=True))
    latent = list(result.spec.latent)
    items = list(result.sample_cov.index)
    implied = np.eye(len(items))
    for i, a in enumerate(items):
        for j, b in enumerate(items):
            if i == j:
                continue
            if owner[a] == owner[b] and composite:
                implied[i, j] = result.sample_cov.iat[i, j]
            else:
                implied[i, j] = lam[a] * lam[b] * construct[latent.index(owner[a]),
                                                           latent.index(owner[b])]
    return implied


def distances_by_hand(sample: np.ndarray, implied: np.ndarray) -> list[float]:
    size = len(sample)
    residuals = [sample[i, j] - implied[i, j] for i in range(size) for j in range(i + 1)]
    srmr = np.sqrt(np.mean(np.square(residuals)))
    eigenvalues = np.linalg.eigvals(np.linalg.inv(sample) @ implied).real
    return [srmr, float(np.sum(np.square(residuals))),
            0.5 * float(np.sum(np.log10(eigenvalues) ** 2))]


@pytest.mark.parametrize("estimator", ["pls", "plsc"])
def test_saturated_and_estimated_distances_follow_their_definitions(estimator: str) -> None:
    result = acsi_sem.fit("ecsi", estimator=estimator)
    sample = result.sample_cov.to_numpy()
    saturated = result.implied_cov.to_numpy()
    paths = np.zeros_like(saturated)
    latent = list(result.spec.latent)
    for row in result.parameters[result.parameters["op"] == "~"].itertuples():
        paths[latent.index(row.lhs), latent.index(row.rhs)] = row.est
    layout = checked_layout(result.spec)
    estimated = implied_construct_correlation(saturated, paths, layout.predecessors)
    for model, construct in (("saturated", saturated), ("estimated", estimated)):
        # PLSc: the common factors' blocks are lambda_i lambda_j (single-item Complaints
        # has no off-diagonal cells, so it needs no exception).
        implied = implied_by_hand(result, construct, composite=estimator == "pls")
        assert np.allclose(result.model_fit[model], distances_by_hand(sample, implied),
                           rtol=1e-10)


def test_estimated_construct_correlations_trace_the_paths() -> None:
    result = acsi_sem.fit(CHAIN, MOBI, estimator="pls")
    layout = checked_layout(result.spec)
    construct = result.implied_cov.to_numpy()
    paths = np.zeros((3, 3))
    paths[1, 0] = result.parameters.query("lhs == 'Satisfaction' and op == '~'")["est"].iat[0]
    paths[2, 1] = result.parameters.query("lhs == 'Loyalty' and op == '~'")["est"].iat[0]
    implied = implied_construct_correlation(construct, paths, layout.predecessors)
    assert implied[2, 0] == pytest.approx(paths[1, 0] * paths[2, 1], rel=1e-12)
    assert implied[1, 0] == pytest.approx(construct[1, 0], rel=1e-12)
    assert np.allclose(np.diag(implied), 1)
    # Add Loyalty ~ Image: the structure is saturated and both models are one.
    saturated = acsi_sem.fit(CHAIN.replace("Loyalty ~ Satisfaction",
                                           "Loyalty ~ Satisfaction + Image"), MOBI,
                             estimator="pls")
    assert np.allclose(saturated.model_fit["saturated"], saturated.model_fit["estimated"],
                       rtol=1e-10)
    assert result.model_fit.at["srmr", "estimated"] > result.model_fit.at["srmr",
                                                                          "saturated"]


def test_exact_fit_quantiles_are_those_of_the_rotated_bootstrap() -> None:
    spec = parse_model(CHAIN)
    layout = checked_layout(spec)
    options = FitOptions(estimator="pls")
    items = MOBI[list(layout.indicators)].to_numpy(dtype=float)
    composite = composite_blocks(layout, options.estimator)
    rotated = rotated_items(items, layout, options, composite, saturated=False)
    # The rotation makes the model-implied correlations the sample's.
    solution = pls_core(items, layout, options).solution
    sample = np.corrcoef(items, rowvar=False)
    implied = implied_indicator_correlation(
        sample, solution.loadings, implied_construct_correlation(
            solution.construct_cor, solution.paths, layout.predecessors), layout, composite)
    assert np.allclose(np.corrcoef(rotated, rowvar=False), implied, atol=1e-12)
    table = exact_fit_test(CHAIN, MOBI, replicates=40, seed=8).set_index(
        ["model", "distance"])
    draws = np.array([sample_distances(rotated[rows], layout, options, composite)[1]
                      for rows in resampled_rows(len(items), 40, 8)])
    row = table.loc[("estimated", "srmr")]
    assert row["hi95"] == pytest.approx(np.quantile(draws[:, 0], 0.95), rel=1e-9)
    assert row["pvalue"] == pytest.approx((draws[:, 0] >= row["value"]).mean())
    assert row["value"] == pytest.approx(acsi_sem.fit(CHAIN, MOBI, estimator="pls")
                                         .model_fit.at["srmr", "estimated"], rel=1e-12)


@pytest.mark.slow
def test_exact_fit_test_has_near_nominal_size_when_the_model_holds() -> None:
    # Population: the estimated model's implied correlations of the chain on mobi, so the
    # composite model with its structure holds exactly; 60 samples of 250.
    spec = parse_model(CHAIN)
    layout = checked_layout(spec)
    options = FitOptions(estimator="pls")
    items = MOBI[list(layout.indicators)].to_numpy(dtype=float)
    population = np.corrcoef(rotated_items(items, layout, options,
                                           composite_blocks(layout, options.estimator),
                                           saturated=False), rowvar=False)
    rng = np.random.default_rng(2015)
    pvalues = []
    for _ in range(60):
        sample = pd.DataFrame(rng.multivariate_normal(np.zeros(len(population)), population,
                                                      size=250), columns=layout.indicators)
        table = exact_fit_test(CHAIN, sample, replicates=99, seed=int(rng.integers(1 << 30)))
        pvalues.append(table.set_index(["model", "distance"]).at[("estimated", "srmr"),
                                                                 "pvalue"])
    # Seen: 3.3% below 0.05, 8.3% below 0.10, median 0.52.
    assert np.mean(np.array(pvalues) < 0.05) <= 0.12
    assert 0.3 < np.median(pvalues) < 0.7


def test_htmt2_uses_geometric_means() -> None:
    correlation = np.array([[1, 0.6, 0.3, 0.2], [0.6, 1, 0.4, 0.5],
                            [0.3, 0.4, 1, 0.8], [0.2, 0.5, 0.8, 1]])
    blocks = (np.array([0, 1]), np.array([2, 3]))
    htmt2 = heterotrait_monotrait(correlation, blocks, geometric=True)[0, 1]
    hetero = (0.3 * 0.2 * 0.4 * 0.5) ** 0.25
    assert htmt2 == pytest.approx(hetero / np.sqrt(0.6 * 0.8), rel=1e-12)
    equal = np.full((4, 4), 0.5) + 0.5 * np.eye(4)
    assert heterotrait_monotrait(equal, blocks, geometric=True)[0, 1] == pytest.approx(
        heterotrait_monotrait(equal, blocks)[0, 1])


def test_model_fit_reaches_the_summary_json_and_cli(tmp_path, capsys) -> None:
    result = acsi_sem.fit("ecsi", estimator="pls")
    assert "Model fit (implied indicator correlations" in str(result.summary())
    document = result.to_dict()
    assert document["model_fit"]["estimated"]["srmr"] == pytest.approx(
        result.model_fit.at["srmr", "estimated"])
    first = document["quality"]["htmt2"][0]
    assert first["index"] == "Image" and first["Expectation"] == pytest.approx(
        result.quality.htmt2.at["Image", "Expectation"])
    target = tmp_path / "fit.json"
    assert main(["fit", "ecsi", "--estimator", "pls", "--exact-fit", "20", "--seed", "1",
                 "--json", str(target)]) == 0
    rows = json.loads(target.read_text())["exact_fit"]
    assert len(rows) == 6 and {row["model"] for row in rows} == {"saturated", "estimated"}
    assert "Test of exact fit" in capsys.readouterr().out


@pytest.mark.parametrize(("options", "message"), [
    ({"estimator": "ml"}, "for PLS and PLSc"),
    ({"replicates": 10}, "at least 19 replicates"),
])
def test_exact_fit_test_refuses_misuse(options: dict, message: str) -> None:
    with pytest.raises(acsi_sem.AcsiSemError, match=message):
        exact_fit_test("ecsi", **options)
