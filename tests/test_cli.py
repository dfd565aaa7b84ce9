"""The acsi-sem command: listing, fitting, JSON output and one-paragraph errors."""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import pytest

from acsi_sem.cli.main import main
from tests.conftest import ROOT

MOBI = ROOT / "data" / "mobi.csv"


def run(capsys, *arguments: str) -> tuple[int, str, str]:
    code = main(list(arguments))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_models_lists_the_shipped_models(capsys) -> None:
    code, out, _ = run(capsys, "models")
    assert code == 0
    for name in ("acsi", "ecsi", "ccsi", "ccsi6"):
        assert f"\n{name} " in f"\n{out}"
    assert "7 latent variables, 24 indicators; default data: mobi.csv" in out
    assert "6 latent variables, 23 indicators; default data: mobi.csv" in out


def test_fit_prints_summary_and_writes_json(capsys, tmp_path) -> None:
    target = tmp_path / "acsi.json"
    code, out, _ = run(capsys, "fit", "acsi", "--json", str(target))
    assert code == 0
    assert "Chi-square" in out or "Model test" in out
    document = json.loads(target.read_text())
    assert {"model", "estimator", "n_obs", "converged", "warnings", "fit", "parameters",
            "r2"} <= set(document)
    assert document["model"] == "acsi" and document["n_obs"] == 2500
    assert document["fit"]["df"] == 69
    assert set(document["parameters"][0]) >= {"lhs", "op", "rhs", "est", "se", "z", "pvalue",
                                              "ci_lower", "ci_upper", "std_lv", "std_all"}
    assert document["r2"]["Satisfaction"] > 0.5


def test_json_to_standard_output_keeps_it_parseable(capsys) -> None:
    code, out, err = run(capsys, "fit", "ecsi", "--data", str(MOBI), "--json", "-")
    assert code == 0
    document = json.loads(out)
    assert document["converged"] is True
    assert any("Value ~ Expectation" in w for w in document["warnings"])
    assert "WARNINGS" in err


def write(path, text: str):
    path.write_text(text)
    return path


BAD_INPUTS = {
    "syntax error": (lambda d: ["fit", str(write(d / "bad.lav", "f =~ CUSA1 +\n"))],
                     r"bad.lav, line 1, column 12: the statement ends with '\+'"),
    "unknown indicator": (lambda d: ["fit", str(write(d / "m.lav", "f =~ CUSA1 + CUSA9 + CUSA2")),
                                     "--data", str(MOBI)], "CUSA9"),
    "non-numeric column": (lambda d: ["fit", str(write(d / "m.lav", "f =~ A + B + C")),
                                      "--data", str(write(d / "d.csv",
                                                          "A,B,C\n1,2,3\n2,x,4\n3,4,4\n4,5,6\n5,5,5\n"))],
                           "column B is not numeric: row 2 holds 'x'"),
    "constant column": (lambda d: ["fit", str(write(d / "m.lav", "f =~ A + B + C")),
                                   "--data", str(write(d / "d.csv",
                                                       "A,B,C\n1,2,3\n2,2,4\n3,2,4\n4,2,6\n5,2,5\n"))],
                        "column B is constant"),
    "missing data file": (lambda d: ["fit", "acsi", "--data", str(d / "nowhere.csv")],
                          "no such data file"),
    "empty data file": (lambda d: ["fit", "acsi", "--data", str(write(d / "e.csv", ""))],
                        "empty"),
    "too few rows": (lambda d: ["fit", str(write(d / "m.lav", "f =~ A + B + C")),
                                "--data", str(write(d / "d.csv", "A,B,C\n1,2,3\n2,3,5\n3,1,4\n"))],
                     "only 3 complete rows, but the model needs at least 7"),
    "unknown model": (lambda d: ["fit", "nosuchmodel"],
                      "no shipped model named 'nosuchmodel'.*acsi, ccsi, ccsi6, ecsi"),
    "not identified": (lambda d: ["fit", str(write(d / "m.lav", "f =~ NA*CUSA1 + CUSA2 + CUSA3")),
                                  "--data", str(MOBI)], "latent variable f has no scale"),
}


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_input_gives_one_paragraph_and_keeps_existing_output(capsys, tmp_path,
                                                                  case: str) -> None:
    arguments, pattern = BAD_INPUTS[case]
    existing = tmp_path / "out.json"
    existing.write_text("precious")
    code, out, err = run(capsys, *arguments(tmp_path), "--json", str(existing))
    assert code == 2
    assert err.startswith("acsi-sem: error: ")
    assert "Traceback" not in err and err.count("\n") == 1
    assert pd.Series([err]).str.contains(pattern).iloc[0], err
    assert existing.read_text() == "precious"
    assert out == ""


def test_command_runs_as_a_program_without_traceback(tmp_path) -> None:
    completed = subprocess.run([sys.executable, "-m", "acsi_sem.cli.main", "fit", "nosuchmodel"],
                               capture_output=True, text=True, cwd=ROOT, check=False)
    assert completed.returncode == 2
    assert "Traceback" not in completed.stderr
    assert "no shipped model named" in completed.stderr


def test_pls_with_bootstrap_writes_weights_index_quality_and_intervals(capsys, tmp_path) -> None:
    target = tmp_path / "ecsi.json"
    code, out, _ = run(capsys, "fit", "ecsi", "--estimator", "pls", "--bootstrap", "20",
                       "--seed", "4", "--json", str(target))
    assert code == 0
    assert "ACSI 0-100 index" in out and "Measurement quality" in out
    document = json.loads(target.read_text())
    assert document["estimator"] == "PLS"
    assert document["outer_weights"]["Loyalty"]["CUSL3"] > 0.5
    assert 60 < document["index"]["Satisfaction"] < 80
    assert {"reliability", "htmt", "fornell_larcker", "flags"} <= set(document["quality"])
    path = next(p for p in document["parameters"]
                if (p["lhs"], p["op"], p["rhs"]) == ("Loyalty", "~", "Satisfaction"))
    assert path["ci_lower"] < path["est"] < path["ci_upper"]
    boot = document["bootstrap"]
    statistics = boot.pop("statistics")
    assert boot == {"requested": 20, "used": 20, "failed": 0, "improper": 0, "seed": 4,
                    "level": 0.95, "interval": "percentile"}
    assert statistics["Loyalty ~ Satisfaction"]["ci_lower"] == path["ci_lower"]
    index = statistics["index: Satisfaction"]
    assert index["estimate"] == document["index"]["Satisfaction"]
    assert index["ci_lower"] < index["estimate"] < index["ci_upper"]
    assert 0 < statistics["htmt: Quality, Satisfaction"]["se"] < 0.2
    assert "95% percentile bootstrap interval" in out


@pytest.mark.parametrize(("arguments", "pattern"), [
    (["fit", "ecsi", "--estimator", "pls", "--group", "company"], "no column 'company'"),
    (["fit", "ecsi", "--estimator", "pls", "--scale", "ten"], "cannot read the scale"),
    (["fit", "ecsi", "--bootstrap", "1"], "at least 2 replicates"),
    (["fit", "ecsi", "--estimator", "pls", "--scale", "1-5"],
     "column IMAG1, row 1 holds 7, outside the answer scale 1-5"),
])
def test_bad_pls_options_are_named(capsys, arguments: list[str], pattern: str) -> None:
    code, _, err = run(capsys, *arguments)
    assert code == 2
    assert pd.Series([err]).str.contains(pattern).iloc[0], err


def test_mlr_and_fiml_from_the_shell(capsys, tmp_path) -> None:
    model = ROOT / "tests" / "fixtures" / "models" / "hs_cfa.lav"
    data = ROOT / "tests" / "fixtures" / "data" / "holzinger1939_missing.csv"
    target = tmp_path / "fiml.json"
    code, out, _ = run(capsys, "fit", str(model), "--data", str(data), "--missing", "fiml",
                       "--json", str(target))
    assert code == 0 and "FIML, 47 patterns, 121 complete rows" in out
    document = json.loads(target.read_text())
    assert document["missing"]["patterns"] == 47 and document["n_obs"] == 301
    assert any(p["op"] == "~1" for p in document["parameters"])
    complete = ROOT / "tests" / "fixtures" / "data" / "holzinger1939.csv"
    code, out, _ = run(capsys, "fit", str(model), "--data", str(complete), "--estimator", "mlr",
                       "--json", str(target))
    assert code == 0 and "Scaling factor (Yuan-Bentler)" in out
    fit = json.loads(target.read_text())["fit"]
    assert {"chisq_scaled", "scaling_factor", "cfi_robust", "tli_robust",
            "rmsea_robust"} <= set(fit)
    assert fit["chisq_scaled"] == pytest.approx(fit["chisq"] / fit["scaling_factor"])


def test_json_file_gets_ordinary_permissions(capsys, tmp_path) -> None:
    import os
    import stat

    target = tmp_path / "result.json"
    code, _, _ = run(capsys, "fit", "acsi", "--json", str(target))
    mask = os.umask(0)
    os.umask(mask)
    assert code == 0 and stat.S_IMODE(target.stat().st_mode) == 0o666 & ~mask
    assert not list(tmp_path.glob(".*.tmp"))
