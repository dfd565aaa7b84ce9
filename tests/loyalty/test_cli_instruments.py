"""acsi-sem diamond, loyalty-types and metrics on the shipped loyalty panel."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from acsi_sem.cli.main import main
from tests.conftest import ROOT

PANEL = ROOT / "data" / "loyalty_panel.csv"


@pytest.fixture(scope="module")
def panel() -> pd.DataFrame:
    return pd.read_csv(PANEL)


def run_json(capsys, *arguments: str) -> tuple[dict, str]:
    assert main([*arguments, "--json", "-"]) == 0
    captured = capsys.readouterr()
    return json.loads(captured.out), captured.err


def test_diamond_per_wave_counts_every_buyer(capsys, tmp_path, panel) -> None:
    document, text = run_json(capsys, "diamond", "--data", str(PANEL), "--brands", "BRANDS",
                              "--involvement", "INVOLVEMENT", "--share", "SHARE", "--group",
                              "wave", "--plot", str(tmp_path))
    assert set(document["diamond"]) == {"2025", "2026"}
    wave = panel[panel["wave"] == 2025]
    high = wave["INVOLVEMENT"] >= wave["INVOLVEMENT"].median()
    narrow = (wave["BRANDS"] <= 1) | (wave["SHARE"] >= 0.5)
    segments = document["diamond"]["2025"]["segments"]
    assert segments["loyal"]["count"] == int((high & narrow).sum())
    assert segments["switcher"]["count"] == int((~high & ~narrow).sum())
    assert sum(s["count"] for s in segments.values()) == len(wave)
    assert "Loyalty diamond" in text
    assert {p.name for p in tmp_path.glob("*.png")} == {"diamond_2025.png", "diamond_2026.png"}


def test_loyalty_types_with_one_cut(capsys, tmp_path, panel) -> None:
    document, _ = run_json(capsys, "loyalty-types", "--data", str(PANEL), "--attachment",
                           "ATTACHMENT", "--purchases", "PURCHASES", "--price-sensitivity",
                           "PRICE_SENSITIVITY", "--switching-cost", "SWITCHING_COST",
                           "--rewards", "REWARDS", "--convenience", "CONVENIENCE", "--cut", "5",
                           "--plot", str(tmp_path))
    types = document["types"]["all"]
    assert types["cuts"]["attachment"] == 5 and types["n"] == len(panel)
    latent = (panel["PURCHASES"] < 2) & (panel["ATTACHMENT"] >= 5)
    premium = ((panel["PURCHASES"] >= 2) & (panel["ATTACHMENT"] >= 5)
               & (panel["PRICE_SENSITIVITY"] < 5))
    assert types["types"]["latent"]["count"] == int(latent.sum())
    assert types["types"]["premium"]["count"] == int(premium.sum())
    assert all(t["count"] > 0 for t in types["types"].values())
    assert (tmp_path / "loyalty_types.png").stat().st_size > 0


def test_metrics_retention_and_lifetime_value(capsys, tmp_path, panel) -> None:
    document, text = run_json(capsys, "metrics", "--data", str(PANEL), "--purchases",
                              "PURCHASES", "--complained", "COMPLAINED", "--brand-spend",
                              "SPEND_BRAND", "--category-spend", "SPEND_CATEGORY",
                              "--group", "wave", "--wave", "wave", "--id", "id", "--margin",
                              "100", "--discount", "0.1", "--replicates", "200", "--seed", "4",
                              "--plot", str(tmp_path))
    rows = {(r["group"], r["metric"]): r for r in document["metrics"]}
    later = panel[panel["wave"] == 2026]
    assert rows[(2026, "complaint_rate")]["estimate"] == pytest.approx(
        (later["COMPLAINED"] > 0).mean())
    buyers = panel[panel["PURCHASES"] > 0]
    assert rows[(2025, "repeat_purchase_rate")]["n"] == int((buyers["wave"] == 2025).sum())
    # Retention by hand: 2025 customers, all of whom answered 2026, still buying there.
    wide = panel.pivot(index="id", columns="wave", values="PURCHASES")
    customers = wide[wide[2025] > 0]
    (retention,) = document["retention"]
    assert retention["customers"] == len(customers)
    assert retention["retained"] == int((customers[2026] > 0).sum())
    rate = retention["retention"]
    assert retention["clv"] == pytest.approx(100 * rate / (1.1 - rate))
    assert retention["clv_lower"] < retention["clv"] < retention["clv_upper"]
    assert "Retention and churn" in text
    assert (tmp_path / "loyalty_metrics.png").stat().st_size > 0


@pytest.mark.parametrize(("arguments", "message"), [
    (["metrics", "--data", str(PANEL)], "needs at least one of --purchases"),
    (["metrics", "--data", str(PANEL), "--wave", "wave", "--purchases", "PURCHASES"],
     "--wave and --id go together"),
    (["metrics", "--data", str(PANEL), "--wave", "wave", "--id", "id", "--complained",
      "COMPLAINED"], "retention between waves needs --purchases"),
    (["diamond", "--data", str(PANEL), "--brands", "BRANDS", "--involvement", "INVOLVEMENT",
      "--group", "region"], "no column 'region' for --group"),
])
def test_bad_arguments_are_one_paragraph(capsys, arguments, message) -> None:
    assert main(arguments) == 2
    assert message in capsys.readouterr().err
