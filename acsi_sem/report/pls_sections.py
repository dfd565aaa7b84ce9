"""Report sections of the PLS analyses beside the fit: PLSpredict (the per-item table, the
CVPAT tests and the RMSE chart) and the two-group comparison (MICOM and MGA tables)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from acsi_sem.prediction import BENCHMARKS
from acsi_sem.report.sections import ReportSection

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from acsi_sem.pls_groups import GroupComparison
    from acsi_sem.prediction import PredictionResult


def prediction_figure(prediction: PredictionResult) -> Figure:
    """Out-of-sample RMSE of each predicted item, the model's bars beside the linear
    model's (hatched, so the chart reads in grayscale). Bars carry ``gid`` ``pls:ITEM``
    and ``lm:ITEM``."""
    import matplotlib.pyplot as plt

    metrics = prediction.metrics
    rows = np.arange(len(metrics))
    figure, axes = plt.subplots(figsize=(6.4, 0.28 * len(metrics) + 1.4),
                                layout="constrained")
    for offset, column, style, prefix in ((-0.2, "rmse", {"color": "#3b6ea8"}, "pls"),
                                          (0.2, "lm_rmse", {"color": "white",
                                                            "edgecolor": "#222222",
                                                            "hatch": "///"}, "lm")):
        bars = axes.barh(rows + offset, metrics[column], height=0.38, **style,
                         label="PLS" if prefix == "pls" else "LM benchmark")
        for bar, item in zip(bars, metrics["indicator"], strict=True):
            bar.set_gid(f"{prefix}:{item}")
    axes.set_yticks(rows, metrics["indicator"])
    axes.invert_yaxis()
    axes.set_xlabel("out-of-sample RMSE (item metric)")
    axes.set_title(f"PLSpredict: {prediction.folds} folds x {prediction.repetitions} "
                   "repetitions", fontsize=10, loc="left")
    axes.legend(frameon=False, fontsize=8)
    axes.spines[["top", "right"]].set_visible(False)
    return figure


def prediction_section(prediction: PredictionResult,
                       blindfolding: pd.DataFrame | None = None) -> ReportSection:
    """The report section of a PLSpredict result, with blindfolding's Q² when given."""
    tests = pd.DataFrame({benchmark.upper(): prediction.cvpat(benchmark)
                          for benchmark in BENCHMARKS}).T
    below = int(prediction.metrics["rmse_below_lm"].sum())
    text = (f"Out-of-sample prediction of the endogenous constructs' items by "
            f"{prediction.folds}-fold cross-validation, repeated {prediction.repetitions} "
            f"times ({prediction.technique} antecedents). Q²predict above 0 means the model "
            "predicts better than the training mean; the model's RMSE is below the linear "
            f"model's for {below} of {len(prediction.metrics)} items. CVPAT tests whether "
            "the model's average loss is below a benchmark's (one-sided t test).")
    tables = {"items": prediction.metrics, "cvpat": tests}
    if blindfolding is not None:
        tables["blindfolding_q2"] = blindfolding.set_index("construct")
        text += (" Blindfolding's Q² (cross-validated redundancy) above 0 means predictive "
                 "relevance for the construct.")
    return ReportSection("prediction", "Prediction (PLSpredict, CVPAT, blindfolding)", text,
                         tables=tables, figures={"rmse": prediction_figure(prediction)})


def groups_section(comparison: GroupComparison) -> ReportSection:
    """The report section of a two-group comparison (MICOM and multi-group analysis)."""
    first, second = comparison.groups
    steps = comparison.means_variances["invariance"].value_counts()
    text = (f"Groups {first} (n = {comparison.sizes[0]}) and {second} (n = "
            f"{comparison.sizes[1]}), {comparison.permutations} permutations. MICOM step 2 "
            "tests that each composite is the same in both groups (c = 1); step 3 that its "
            "mean and variance are equal. Invariance: "
            + ", ".join(f"{count} {kind}" for kind, count in steps.items())
            + f". The paths' differences ({first} - {second}) are tested by permutation"
            + (", Henseler's bootstrap MGA and the parametric and Welch tests."
               if comparison.bootstrap else "."))
    return ReportSection("groups", "Groups (MICOM, multi-group analysis)", text,
                         tables={"micom_step_2": comparison.compositional,
                                 "micom_step_3": comparison.means_variances,
                                 "paths": comparison.paths})
