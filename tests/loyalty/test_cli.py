"""acsi-sem nps, loyalty and kano: tables, JSON, figures and one-paragraph errors."""

from __future__ import annotations

import json
import re

import pytest

from acsi_sem.cli.main import main
from tests.conftest import ROOT

SURVEY = str(ROOT / "data" / "loyalty_survey.csv")
MODEL = str(ROOT / "data" / "loyalty_survey.lav")
KANO = str(ROOT / "data" / "kano_survey.csv")


def run(capsys, *arguments: str) -> tuple[int, str, str]:
    code = main(list(arguments))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_nps_json_on_standard_output(capsys) -> None:
    code, out, err = run(capsys, "nps", "--data", SURVEY, "--item", "RECOMMEND", "--group",
                         "market", "--seed", "1", "--replicates", "300", "--json", "-")
    assert code == 0
    document = json.loads(out)
    assert set(document) == {"data", "item", "group", "level", "replicates", "seed", "nps"}
    high = document["nps"]["high competition"]
    assert high["n"] == 292 and high["promoters"] + high["passives"] + high["detractors"] == 292
    assert high["ci_lower"] < high["nps"] < high["ci_upper"]
    assert document["nps"]["low competition"]["nps"] > high["nps"]
    assert "Net Promoter Score of RECOMMEND" in err


def test_loyalty_with_latent_scores_writes_json_and_figures(capsys, tmp_path) -> None:
    target = tmp_path / "loyalty.json"
    code, out, _ = run(capsys, "loyalty", "--model", MODEL, "--attitude", "Satisfaction",
                       "--patronage", "REPURCHASE", "--satisfaction", "Satisfaction",
                       "--loyalty", "Loyalty", "--group", "market", "--performance", "PERFORM",
                       "--expectation", "EXPECT", "--json", str(target), "--plot", str(tmp_path))
    assert code == 0
    assert "Dick-Basu loyalty matrix" in out and "Linear slope per group" in out
    document = json.loads(target.read_text())
    assert set(document) == {"data", "model", "matrix", "curve", "ratio"}
    matrix = document["matrix"]
    # 8 respondents lack LOY2, so the fit has no Satisfaction score for them.
    assert matrix["n"] == 592 and matrix["n_missing"] == 8
    assert sum(s["count"] for s in matrix["segments"].values()) == 592
    slopes = {row["group"]: row["slope"] for row in document["curve"]["slopes"]}
    assert slopes["high competition"] > slopes["low competition"]
    assert document["ratio"]["n"] == 600
    assert {p.name for p in tmp_path.glob("*.png")} == {"loyalty_matrix.png",
                                                       "satisfaction_loyalty_curve.png"}


def test_kano_with_explicit_pairs(capsys) -> None:
    code, out, _ = run(capsys, "kano", "--data", KANO, "--pair",
                       "coverage=coverage_functional,coverage_dysfunctional", "--json", "-")
    assert code == 0
    features = json.loads(out)["features"]
    assert list(features) == ["coverage"] and features["coverage"]["dominant"] == "M"


def write(path, text: str):
    path.write_text(text)
    return str(path)


BAD_INPUTS = {
    "recommend out of range": (
        lambda d: ["nps", "--data", write(d / "s.csv", "id,R\n1,9\n2,12\n"), "--item", "R"],
        r"s.csv: column R, row 2: 12 is not an answer on the 0-10 recommend scale"),
    "empty group": (
        lambda d: ["nps", "--data", write(d / "s.csv", "R,g\n9,a\n,b\n"), "--item", "R",
                   "--group", "g"],
        r"group 'b' of g has no answer to R"),
    "absent item": (
        lambda d: ["nps", "--data", SURVEY, "--item", "RECOMEND"],
        r"no column 'RECOMEND' for the recommend item \(did you mean RECOMMEND\?\)"),
    "kano out of range": (
        lambda d: ["kano", "--data", write(d / "k.csv", "a_functional,a_dysfunctional\n1,7\n")],
        r"k.csv: column a_dysfunctional, row 1: 7 is outside the Kano answers 1-5"),
    "kano missing pair": (
        lambda d: ["kano", "--data", write(d / "k.csv", "a_functional,b_dysfunctional\n1,2\n")],
        r"feature 'a' has the question a_functional but not its pair a_dysfunctional"),
    "kano unreadable pair": (
        lambda d: ["kano", "--data", KANO, "--pair", "coverage"],
        r"cannot read the Kano pair 'coverage'"),
    "curve half given": (
        lambda d: ["loyalty", "--data", SURVEY, "--attitude", "SAT1", "--patronage",
                   "REPURCHASE", "--satisfaction", "SAT1"],
        r"--satisfaction and --loyalty go together"),
    "latent name without a model": (
        lambda d: ["loyalty", "--data", SURVEY, "--attitude", "Satisfaction", "--patronage",
                   "REPURCHASE"],
        r"no column 'Satisfaction' for relative attitude"),
    "no data": (
        lambda d: ["loyalty", "--attitude", "SAT1", "--patronage", "REPURCHASE"],
        r"loyalty needs --data"),
    "plot folder missing": (
        lambda d: ["kano", "--data", KANO, "--plot", str(d / "nowhere")],
        r"nowhere: cannot save the figures there, the folder does not exist"),
    "zero expectation": (
        lambda d: ["loyalty", "--data", write(d / "s.csv", "a,p,b,e\n1,2,3,0\n2,3,4,5\n"),
                   "--attitude", "a", "--patronage", "p", "--performance", "b",
                   "--expectation", "e"],
        r"expectation e, row 1: the expectation is 0"),
}


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_input_is_one_paragraph_and_status_2(capsys, tmp_path, case) -> None:
    make_arguments, message = BAD_INPUTS[case]
    target = tmp_path / "out.json"
    code, out, err = run(capsys, *make_arguments(tmp_path), "--json", str(target))
    assert code == 2
    assert err.startswith("acsi-sem: error: ") and err.count("\n") == 1
    assert re.search(message, err), err
    assert "Traceback" not in err and not target.exists() and out == ""
