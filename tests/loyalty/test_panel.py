"""The shipped loyalty panel is what its documented script draws, and shows what it builds in."""

from __future__ import annotations

import importlib.util

import pandas as pd

from tests.conftest import ROOT


def test_shipped_panel_is_the_scripts_draw() -> None:
    spec = importlib.util.spec_from_file_location("make_loyalty_panel",
                                                  ROOT / "data" / "make_loyalty_panel.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    shipped = pd.read_csv(ROOT / "data" / "loyalty_panel.csv")
    pd.testing.assert_frame_equal(shipped, module.loyalty_panel(), check_dtype=False)


def test_population_model_shows_in_the_panel() -> None:
    panel = pd.read_csv(ROOT / "data" / "loyalty_panel.csv")
    by_wave = panel.groupby("wave")["PURCHASES"].mean()
    assert by_wave[2026] < by_wave[2025]  # the propensity drops by 0.3 in the second wave
    single = panel[panel["BRANDS"] == 1]
    assert (single["SHARE"][single["PURCHASES"] > 0] == 1).all()
    assert (panel["SPEND_BRAND"] <= panel["SPEND_CATEGORY"]).all()
    # Attachment raises purchases and lowers price sensitivity.
    correlations = panel[["ATTACHMENT", "PURCHASES", "PRICE_SENSITIVITY"]].corr()
    assert correlations.loc["ATTACHMENT", "PURCHASES"] > 0.2
    assert correlations.loc["ATTACHMENT", "PRICE_SENSITIVITY"] < -0.2
