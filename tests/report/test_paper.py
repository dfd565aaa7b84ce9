"""The paper builds from the package: every figure it cites is written, every placeholder
filled, and the tables hold the package's numbers."""

from __future__ import annotations

import re
import subprocess
import sys

import pandas as pd
import pytest

from tests.conftest import ROOT


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """paper/build.py run as a reader would run it, into a fresh folder."""
    out = tmp_path_factory.mktemp("paper")
    done = subprocess.run([sys.executable, str(ROOT / "paper" / "build.py"), "--out", str(out)],
                          capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-3000:]
    return out


def test_every_citation_is_filled_and_every_figure_exists(built) -> None:
    source = (ROOT / "paper" / "paper.md").read_text(encoding="utf-8")
    paper = (built / "paper.md").read_text(encoding="utf-8")
    assert "{{" not in paper and "}}" not in paper
    figures = re.findall(r"\]\((figures/[^)]+)\)", source)
    assert figures == ["figures/diagram.svg", "figures/index.svg", "figures/ipma.svg"]
    for figure in figures:
        assert (built / figure).read_text().lstrip().startswith("<?xml"), figure
        assert (built / figure).with_suffix(".png").stat().st_size > 10_000
    tables = re.findall(r"\{\{table_(\w+)\}\}", source)
    assert sorted(tables) == sorted(p.stem for p in (built / "tables").glob("*.csv"))


def test_tables_hold_the_package_numbers(built, pls_fits) -> None:
    pls = pls_fits["ecsi"]  # same PLS estimates; only the bootstrap seed differs
    index = pd.read_csv(built / "tables" / "index.csv", index_col=0)
    assert index["index"].to_dict() == pytest.approx(pls.index.to_dict())
    paths = pd.read_csv(built / "tables" / "paths.csv", index_col=0)
    row = pls.parameters.query("lhs == 'Loyalty' and op == '~' and rhs == 'Satisfaction'")
    assert paths.loc["Loyalty ← Satisfaction", "PLS"] == pytest.approx(row["std_all"].iloc[0])
    assert (paths["CB-SEM (ML)"].abs() > 1).sum() == 6
    paper = (built / "paper.md").read_text(encoding="utf-8")
    assert f"| Value | {pls.index['Value']:.1f} |" in paper
    assert f"Satisfaction stands at {pls.index['Satisfaction']:.1f}" in paper
