"""Figures show what the tables hold (Agg backend, no pyplot state)."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd

from acsi_sem.loyalty import (
    kano_evaluation,
    loyalty_matrix,
    net_promoter_score,
    satisfaction_loyalty_curve,
)
from acsi_sem.loyalty.plots import (
    kano_figure,
    loyalty_matrix_figure,
    nps_figure,
    satisfaction_loyalty_figure,
)


def texts(figure) -> list[str]:
    return [text.get_text() for text in figure.axes[0].texts]


def test_quadrant_plot_labels_counts_and_cuts() -> None:
    data = pd.DataFrame({"att": [1, 2, 3, 4, 5, 6, 6], "buy": [6, 1, 5, 2, 4, 3, 3]})
    figure = loyalty_matrix_figure(loyalty_matrix(data, "att", "buy"))
    # Medians 4 and 3; loyalty: (5, 4) and (6, 3) twice, 3 of 7 = 43%.
    assert "loyalty\n3 (43%)" in texts(figure)
    assert "latent loyalty\n1 (14%)" in texts(figure)
    axes = figure.axes[0]
    assert axes.lines[0].get_xdata()[0] == 4                # attitude median
    # The repeated point (6, 3) is drawn once, twice as large.
    sizes = dict(zip(map(tuple, axes.collections[0].get_offsets()),
                     axes.collections[0].get_sizes(), strict=True))
    assert sizes[(6.0, 3.0)] == 2 * sizes[(1.0, 6.0)]


def test_kano_plot_places_features_at_better_and_worse() -> None:
    data = pd.DataFrame({"x_functional": [1, 1, 2], "x_dysfunctional": [5, 3, 5]})
    figure = kano_figure(kano_evaluation(data))
    # O, A, M: better 2/3, |worse| 2/3.
    np.testing.assert_allclose(figure.axes[0].collections[0].get_offsets(), [[2 / 3, 2 / 3]])
    assert "x" in texts(figure)


def test_nps_and_curve_figures_draw_every_group() -> None:
    data = pd.DataFrame({"R": [10, 9, 3, 8, 0, 10] * 4, "sat": np.arange(24.0),
                         "market": ["a", "b"] * 12})
    nps = nps_figure(net_promoter_score(data, "R", group="market", seed=1, replicates=100))
    assert len(nps.axes[0].patches) == 6                    # 3 shares x 2 groups
    assert any(t.startswith("NPS ") for t in texts(nps))
    curve = satisfaction_loyalty_curve(data, "sat", "R", group="market", bins=3)
    figure = satisfaction_loyalty_figure(curve)
    assert [t.get_text() for t in figure.axes[0].get_legend().get_texts()] == ["a", "b"]
    figure.savefig(io.BytesIO(), format="png")
