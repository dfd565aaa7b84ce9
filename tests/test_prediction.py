"""PLSpredict against seminr 0.2.1 (tests/fixtures/seminr/make_predict_fixtures.py), and
Q²predict, repetitions and CVPAT by their definitions."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import acsi_sem
from acsi_sem.cli.main import main
from acsi_sem.errors import AcsiSemError
from acsi_sem.prediction import (
    blindfolding,
    default_omission_distance,
    draw_folds,
    loss_test,
    pls_predict,
)
from tests.conftest import FIXTURES, ROOT

SEMINR = FIXTURES / "seminr"
MOBI = pd.read_csv(ROOT / "data" / "mobi.csv")
# ECSI without Image -> Satisfaction: a model that should predict satisfaction worse.
SMALLER = (ROOT / "models" / "ecsi.lav").read_text().replace(
    "Satisfaction ~ Image + ", "Satisfaction ~ ")


def seminr_folds(technique: str) -> np.ndarray:
    return pd.read_csv(SEMINR / f"predict_{technique}__folds.csv")["fold"].to_numpy()[None]


@pytest.mark.parametrize("technique", ["direct", "earliest"])
def test_predictions_and_errors_equal_seminr(technique: str) -> None:
    result = pls_predict("ecsi", assignments=seminr_folds(technique), technique=technique)
    items = list(result.items)
    for table, ours in (("pls", result.predictions.pls[0]), ("lm", result.predictions.lm[0])):
        theirs = pd.read_csv(SEMINR / f"predict_{technique}__{table}.csv")[items].to_numpy()
        assert np.abs(ours - theirs).max() < 1e-10
    theirs = pd.read_csv(SEMINR / f"predict_{technique}__metrics.csv").set_index("indicator")
    ours = result.metrics.set_index("indicator")
    for column in ("rmse", "mae", "lm_rmse", "lm_mae"):
        assert np.abs(ours[column] - theirs.loc[items, column]).max() < 1e-10


def test_q2_predict_compares_with_the_training_fold_mean() -> None:
    folds = seminr_folds("direct")
    result = pls_predict("ecsi", assignments=folds)
    item = "CUSA2"
    column = result.items.index(item)
    answers = MOBI[item].to_numpy(dtype=float)
    training_mean = np.array([answers[folds[0] != fold].mean() for fold in folds[0]])
    error = ((answers - result.predictions.pls[0, :, column]) ** 2).sum()
    naive = ((answers - training_mean) ** 2).sum()
    q2 = result.metrics.set_index("indicator").at[item, "q2_predict"]
    assert q2 == pytest.approx(1 - error / naive, rel=1e-12)
    assert (result.metrics["q2_predict"] > 0).all()  # ECSI beats the mean for every item


def test_repeated_folds_average_the_single_repetitions() -> None:
    assignments = draw_folds(len(MOBI), 5, 3, seed=4)
    repeated = pls_predict("ecsi", assignments=assignments).metrics
    singles = [pls_predict("ecsi", assignments=row[None]).metrics for row in assignments]
    for column in ("q2_predict", "rmse", "mae", "lm_rmse", "lm_mae"):
        mean = np.mean([single[column] for single in singles], axis=0)
        assert np.allclose(repeated[column], mean, rtol=1e-12)


def test_folds_are_shuffled_near_equal_groups_reproducible_by_seed() -> None:
    assignments = draw_folds(253, 10, 4, seed=9)
    for row in assignments:
        sizes = np.bincount(row)
        assert len(sizes) == 10 and sizes.max() - sizes.min() <= 1
    assert not (assignments[0] == assignments[1]).all()
    assert (draw_folds(253, 10, 4, seed=9) == assignments).all()
    result = pls_predict("ecsi", folds=10, repetitions=2, seed=9)
    assert result.folds == 10 and result.repetitions == 2 and result.seed == 9


def test_cvpat_is_the_one_sided_t_test_of_the_loss_differences() -> None:
    losses = np.array([1.0, 2.0, 1.5, 0.5, 1.2])
    benchmark = np.array([1.4, 2.1, 1.9, 0.4, 1.8])
    test = loss_test(losses, benchmark)
    reference = stats.ttest_1samp(benchmark - losses, 0.0, alternative="greater")
    assert test["t"] == pytest.approx(reference.statistic, rel=1e-12)
    assert test["pvalue"] == pytest.approx(reference.pvalue, rel=1e-12)
    assert test["df"] == 4 and test["difference"] == pytest.approx(0.28, rel=1e-12)


def test_cvpat_losses_are_squared_errors_averaged_over_items_and_repetitions() -> None:
    result = pls_predict("ecsi", folds=5, repetitions=2, seed=3)
    predictions = result.predictions
    by_hand = np.mean([((predictions.actual - predictions.lm[r]) ** 2).mean(axis=1)
                       for r in range(2)], axis=0)
    test = result.cvpat("lm")
    assert test["benchmark_loss"] == pytest.approx(by_hand.mean(), rel=1e-12)
    assert result.cvpat("ia")["t"] > 3  # ECSI predicts far better than item means


def test_cvpat_prefers_the_model_with_the_missing_path_put_back() -> None:
    folds = draw_folds(len(MOBI), 10, 5, seed=1)
    full = pls_predict("ecsi", assignments=folds)
    smaller = pls_predict(SMALLER, MOBI, assignments=folds)
    test = acsi_sem.compare_predictions(full, smaller)
    assert test["difference"] > 0 and test["t"] > 0
    assert test["loss"] == pytest.approx(full.cvpat("lm")["loss"], rel=1e-12)


@pytest.mark.parametrize(("options", "message"), [
    ({"folds": 1}, "between 2 and 250 folds"),
    ({"folds": 251}, "between 2 and 250 folds"),
    ({"repetitions": 0}, "at least one repetition"),
    ({"technique": "latest"}, "unknown prediction technique 'latest'"),
    ({"assignments": np.zeros((1, 10), dtype=int)}, r"must be \(repetitions, 250\)"),
    ({"assignments": np.zeros((1, 250), dtype=int)}, "at least two folds"),
])
def test_bad_settings_are_named(options: dict, message: str) -> None:
    with pytest.raises(AcsiSemError, match=message):
        pls_predict("ecsi", **options)


def test_models_it_cannot_predict_are_refused() -> None:
    with pytest.raises(AcsiSemError, match="interaction terms is not available"):
        pls_predict(ROOT / "tests" / "fixtures" / "models" / "mobi_moderation.lav")
    with pytest.raises(AcsiSemError, match="has none"):
        pls_predict("A =~ CUSA1 + CUSA2\nB =~ CUSL1 + CUSL3\nA ~~ B", MOBI)
    with pytest.raises(AcsiSemError, match="same items"):
        acsi_sem.compare_predictions(pls_predict("ecsi", folds=2, repetitions=1, seed=1),
                                     pls_predict("ccsi6", folds=2, repetitions=1, seed=1))


def test_cli_predicts_compares_and_writes_json(tmp_path, capsys) -> None:
    smaller = tmp_path / "smaller.lav"
    smaller.write_text("# data: mobi.csv\n" + SMALLER)
    target = tmp_path / "p.json"
    code = main(["predict", "ecsi", "--folds", "5", "--repetitions", "2", "--seed", "7",
                 "--compare", str(smaller), "--json", str(target), "--plot", str(tmp_path),
                 "--blindfolding", "7"])
    assert code == 0
    document = json.loads(target.read_text())
    reference = pls_predict("ecsi", folds=5, repetitions=2, seed=7)
    assert document["metrics"][0]["rmse"] == pytest.approx(reference.metrics["rmse"][0])
    assert document["cvpat"]["lm"]["t"] == pytest.approx(reference.cvpat("lm")["t"])
    assert document["compare"]["difference"] > 0
    assert [row["construct"] for row in document["blindfolding"]][-1] == "Loyalty"
    assert (tmp_path / "prediction.png").exists()
    assert "CVPAT against" in capsys.readouterr().out


def test_report_gets_a_prediction_section(tmp_path) -> None:
    code = main(["report", "ecsi", "--predict", "--seed", "1", "--out", str(tmp_path)])
    assert code == 0
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "id='section-prediction'" in page and "prediction_rmse.svg" in page
    assert "prediction-blindfolding_q2" in page


def test_blindfolding_q2_refits_each_round_with_mean_replacement() -> None:
    text = (ROOT / "models" / "ecsi.lav").read_text()
    model = "\n".join(line for line in text.splitlines() if not line.startswith("#"))
    table = blindfolding(model, MOBI, omission_distance=7).set_index("construct")
    items = ["CUSA1", "CUSA2", "CUSA3"]
    answers = MOBI.copy()
    all_items = [c for c in MOBI.columns if c != "half"]
    standardized = (answers[all_items] - answers[all_items].mean()) / answers[all_items].std()
    n = len(MOBI)
    sse = sso = 0.0
    for round_number in range(7):
        modified = standardized.copy()
        omitted = {}
        for m, item in enumerate(items):
            rows = [i for i in range(n) if (m * n + i) % 7 == round_number]
            omitted[item] = rows
            keep = modified[item].drop(index=rows)
            modified.loc[rows, item] = keep.mean()
        fit = acsi_sem.fit(model, modified, estimator="pls")
        paths = fit.parameters[(fit.parameters["op"] == "~")
                               & (fit.parameters["lhs"] == "Satisfaction")]
        predicted_score = sum(fit.scores[row.rhs] * row.est for row in paths.itertuples())
        loadings = fit.parameters.set_index("rhs").query("op == '=~'")["est"]
        for item in items:
            rows = omitted[item]
            mean, sd = modified[item].mean(), modified[item].std()
            predicted = mean + sd * loadings[item] * predicted_score[rows]
            sse += float(((standardized.loc[rows, item] - predicted) ** 2).sum())
            sso += float((standardized.loc[rows, item] ** 2).sum())
    assert table.at["Satisfaction", "sse"] == pytest.approx(sse, rel=1e-9)
    assert table.at["Satisfaction", "q2"] == pytest.approx(1 - sse / sso, rel=1e-9)
    assert (table["q2"] > 0).all()  # ECSI has predictive relevance for every construct


def test_blindfolding_refuses_an_omission_distance_dividing_the_sample() -> None:
    with pytest.raises(AcsiSemError, match="not a divisor of 250, not 5"):
        blindfolding("ecsi", omission_distance=5)
    assert default_omission_distance(250) == 7 and default_omission_distance(56) == 9


def test_misuse_found_in_review_gets_the_packages_errors() -> None:
    loop = "A =~ CUSA1 + CUSA2\nB =~ CUSL1 + CUSL3\nC =~ IMAG1 + IMAG2\nA ~ C + B\nB ~ A"
    with pytest.raises(AcsiSemError, match="needs a recursive model"):
        pls_predict(loop, MOBI, technique="earliest", folds=2, repetitions=1)
    for bad in (np.full((1, 250), -1), np.zeros((1, 250)) + 0.5):
        with pytest.raises(AcsiSemError, match="whole fold numbers"):
            pls_predict("ecsi", assignments=bad)
    with pytest.raises(AcsiSemError, match="divides the 27720 respondents"):
        default_omission_distance(27720)
    # An item constant in a training fold is named, whatever rounding the moments leave.
    constant = MOBI.assign(CUSA1=np.where(np.arange(250) < 125, 5, MOBI["CUSA1"]))
    folds = (np.arange(250) >= 125).astype(int)[None]
    with pytest.raises(AcsiSemError, match="does not vary within a training fold"):
        pls_predict("ecsi", constant, assignments=folds)


def test_cli_refuses_weights_with_the_analyses_beside_the_fit(tmp_path, capsys) -> None:
    survey = tmp_path / "mobi.csv"
    MOBI.assign(w=1.0).to_csv(survey, index=False)
    code = main(["report", "ecsi", "--data", str(survey), "--weights", "w", "--predict",
                 "--out", str(tmp_path / "out")])
    assert code == 2 and "--predict does not take sampling weights" in capsys.readouterr().err
