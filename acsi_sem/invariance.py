"""Measurement invariance across groups: the configural, metric, scalar and strict models
fitted in turn, each compared with the one before it, as ``lavTestLRT`` compares them.

Each step holds more parameters equal across groups (see
:data:`acsi_sem.model.groups.INVARIANCE_STEPS`). A step is tested against the step before it with
the chi-square difference test (with MLR, the scaled difference of Satorra & Bentler 2001,
lavaan's default); its RMSEA is lavaan's, ``sqrt(max(dchisq / (N ddf) - 1/N,
0)) sqrt(G)``. The change in CFI is the criterion of Cheung and Rensvold (2002): a drop of
more than 0.01 suggests that the added constraints do not hold.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import special

from acsi_sem.errors import AcsiSemError
from acsi_sem.model.groups import INVARIANCE_STEPS
from acsi_sem.model.modelfile import ModelFile
from acsi_sem.model.spec import ModelSpec
from acsi_sem.report.json_document import finite_or_none
from acsi_sem.results import FitResult

INVARIANCE_COLUMNS = ["model", "npar", "chisq", "df", "pvalue", "cfi", "tli", "rmsea",
                      "srmr", "aic", "bic", "chisq_diff", "df_diff", "pvalue_diff",
                      "rmsea_diff", "delta_cfi", "delta_rmsea", "scaling_diff"]
_FORMATS = {name: (lambda v: "" if np.isnan(v) else f"{v:.0f}") if name in
            ("npar", "df", "df_diff") else (lambda v: "" if np.isnan(v) else f"{v:.3f}")
            for name in INVARIANCE_COLUMNS[1:]}
# Cheung & Rensvold (2002): a CFI drop beyond this rejects the added constraints.
CFI_DROP = -0.01


@dataclass(frozen=True)
class InvarianceResult:
    """The invariance sequence.

    Attributes:
        table: one row per step with :data:`INVARIANCE_COLUMNS`; the ``*_diff`` and
            ``delta_*`` columns compare a step with the one before it (NaN in the first);
            ``scaling_diff`` is the Satorra-Bentler (2001) scaling of a robust (MLR)
            difference test.
        fits: the fitted model of each step, by step name.
        group: the grouping column.
    """

    table: pd.DataFrame
    fits: dict[str, FitResult]
    group: str

    def summary(self) -> str:
        """The comparison table as text, with the steps whose CFI drops too far marked."""
        shown = self.table.set_index("model")[["npar", "chisq", "df", "cfi", "rmsea", "bic",
                                               "chisq_diff", "df_diff", "pvalue_diff",
                                               "delta_cfi"]]
        flagged = [step for step, drop in self.table[["model", "delta_cfi"]].to_numpy()
                   if drop < CFI_DROP]
        lines = [f"Measurement invariance across {self.group} "
                 f"({', '.join(self.fits[self.table['model'].iloc[0]].groups['labels'])}):",
                 shown.to_string(formatters=_FORMATS, na_rep="")]
        if flagged:
            lines.append(f"! CFI drops by more than {-CFI_DROP:.2f} at: {', '.join(flagged)}"
                         " (Cheung & Rensvold 2002): those constraints do not hold")
        return "\n".join(lines)

    def to_list(self) -> list[dict]:
        """The table as JSON-ready records (NaN as ``None``)."""
        return [{key: value if key == "model" else finite_or_none(value)
                 for key, value in row.items()} for row in self.table.to_dict("records")]

    def to_dict(self) -> dict:
        """The first (least constrained) step's JSON document with the comparison under
        ``"invariance"``: what ``acsi-sem fit --invariance --json`` writes."""
        document = next(iter(self.fits.values())).to_dict()
        document["invariance"] = self.to_list()
        return document

    def to_table(self, *, style: str = "apa", language: str | None = None) -> pd.DataFrame:
        """The invariance steps as a paper's table (see :meth:`FitResult.to_table`)."""
        from acsi_sem.report.paper_tables import paper_frame

        return paper_frame(self.to_dict(), "invariance", style=style, language=language)

    def to_json(self, path: str | Path | None = None) -> str:
        """``{"group": ..., "invariance": [...]}`` as JSON text; written to ``path`` if
        given."""
        text = json.dumps({"group": self.group, "invariance": self.to_list()}, indent=2)
        if path is not None:
            Path(path).write_text(text + "\n", encoding="utf-8")
        return text

    def _repr_html_(self) -> str:
        return self.table.to_html(index=False, float_format="%.3f", na_rep="")


def measurement_invariance(model: str | Path | ModelFile | ModelSpec,
                           data: pd.DataFrame | str | Path | None = None, *, group: str,
                           steps: tuple[str, ...] = tuple(INVARIANCE_STEPS),
                           **options: object) -> InvarianceResult:
    """Fit the invariance sequence of ``model`` across the groups in column ``group``.

    Args:
        model, data: as for :func:`acsi_sem.fit`.
        group: the column naming the groups.
        steps: which of ``"configural"``, ``"metric"``, ``"scalar"``, ``"strict"`` to fit,
            in that order.
        options: further keyword arguments of :func:`acsi_sem.fit` (e.g. ``scale``).

    Returns:
        The comparison table and every step's fit.
    """
    from acsi_sem.api import fit_prepared, prepare

    unknown = [step for step in steps if step not in INVARIANCE_STEPS]
    if unknown or not steps:
        raise AcsiSemError(f"invariance steps must be some of {', '.join(INVARIANCE_STEPS)}; "
                           f"got {', '.join(map(repr, steps)) or 'none'}")
    if options.get("estimator", "ml").lower() not in ("ml", "mlr"):
        raise AcsiSemError("measurement invariance is tested with a multi-group CB-SEM model; "
                           "use estimator 'ml' or 'mlr'")
    if "group_equal" in options:
        raise AcsiSemError("measurement_invariance sets group_equal itself for each step; "
                           "leave it out")
    ordered = [step for step in INVARIANCE_STEPS if step in steps]
    # Read and check the data once; each step only changes the equality constraints.
    spec, prepared, model_file, settings = prepare(model, data, group=group, **options)
    fits = {step: fit_prepared(spec, prepared, model_file,
                               replace(settings, group_equal=INVARIANCE_STEPS[step]))
            for step in ordered}
    return InvarianceResult(table=comparison_table(fits), fits=fits, group=group)


def comparison_table(fits: dict[str, FitResult]) -> pd.DataFrame:
    """Fit of each model and the chi-square difference test against the model before it
    (the models ordered from least to most constrained)."""
    rows = []
    previous = None
    for name, result in fits.items():
        fit = result.fit_indices
        row = {"model": name, **{key: fit[key] for key in INVARIANCE_COLUMNS[1:11]}}
        row.update(_difference(previous, fit, len(result.groups["labels"]))
                   if previous is not None else {})
        rows.append(row)
        previous = fit
    table = pd.DataFrame(rows, columns=INVARIANCE_COLUMNS)
    return table


def _difference(looser: pd.Series, tighter: pd.Series, groups: int) -> dict[str, float]:
    df = tighter["df"] - looser["df"]
    chisq, scaling = tighter["chisq"] - looser["chisq"], np.nan
    if "scaling_factor" in tighter:
        # Satorra & Bentler (2001): the difference of unscaled statistics over the
        # difference of df-weighted scaling factors.
        scaling = ((tighter["df"] * tighter["scaling_factor"]
                    - looser["df"] * looser["scaling_factor"]) / df)
        chisq = chisq / scaling if scaling > 0 else np.nan
    n = tighter["ntotal"]
    rmsea = np.sqrt(max(chisq / (n * df) - 1 / n, 0.0)) * np.sqrt(groups) if df > 0 \
        else np.nan
    return {"chisq_diff": chisq, "df_diff": df,
            "pvalue_diff": special.chdtrc(df, chisq) if df > 0 else np.nan,
            "rmsea_diff": rmsea, "delta_cfi": tighter["cfi"] - looser["cfi"],
            "delta_rmsea": tighter["rmsea"] - looser["rmsea"], "scaling_diff": scaling}
