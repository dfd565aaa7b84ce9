"""StudyResult: the numbers of a customer-satisfaction index study, as DataFrames."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from acsi_sem.json_output import json_text
from acsi_sem.studies.design import StudyColumns


@dataclass(frozen=True)
class StudyResult:
    """A fitted study.

    Attributes:
        model_name, title: the model's name and title.
        data_source: the survey file, or ``<DataFrame>``.
        columns: the design columns used.
        weights_by: ``"pooled"`` (one measurement fit of all companies and waves, the ACSI
            practice), ``"industry"`` or ``"company"`` (one fit per industry or company,
            each pooled over the waves).
        scale: the answer scale of the 0-100 index.
        level: the confidence level of the intervals.
        constructs: the model's constructs, in its order.
        waves: the wave labels in time order (``("all",)`` without a wave column).
        indices: one row per unit (``level`` company, industry, sector or national; ``unit``;
            ``wave``; ``industry``, ``sector``; ``n`` respondents) and ``construct``: the
            0-100 ``index``, its ``se`` and ``ci_lower``/``ci_upper``.
        changes: one row per unit, construct and pair of consecutive waves: ``index_from``,
            ``index_to``, ``change``, ``se``, the interval, ``z`` and ``pvalue``.
        paths: path coefficients per company and wave (``lhs ~ rhs``, ``est``, ``se``,
            interval).
        r2: R² per company, wave and endogenous construct.
        measurement: the measurement weights of each group (``weight`` standardized,
            ``loading``, the index's ``item_weight`` and its bootstrap ``item_weight_se``).
        weight_changes: each group's item weights fitted wave by wave and their change
            (bootstrap only; None otherwise).
        composition: each aggregate's members and weights.
        cells: one row per company and wave: ``n``, ``weight_sum`` and ``effective_n``.
        warnings: problems (small samples, unestimable paths, improper weights).
        notes: how the study was computed.
        bootstrap: ``requested``, ``used``, ``failed``, ``seed`` (empty without one).
        se_method: ``"bootstrap"`` or ``"linearization"``.
    """

    model_name: str
    title: str
    data_source: str
    columns: StudyColumns
    weights_by: str
    scale: tuple[float, float]
    level: float
    constructs: tuple[str, ...]
    waves: tuple[str, ...]
    indices: pd.DataFrame
    changes: pd.DataFrame
    paths: pd.DataFrame = field(repr=False)
    r2: pd.DataFrame = field(repr=False)
    measurement: pd.DataFrame = field(repr=False)
    weight_changes: pd.DataFrame | None = field(repr=False)
    composition: pd.DataFrame = field(repr=False)
    cells: pd.DataFrame = field(repr=False)
    warnings: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    bootstrap: dict = field(default_factory=dict)
    se_method: str = "linearization"

    @property
    def target(self) -> str:
        """The construct a league table ranks by default: Satisfaction when the model has
        it, else the last construct."""
        return "Satisfaction" if "Satisfaction" in self.constructs else self.constructs[-1]

    def league_table(self, construct: str | None = None, wave: str | None = None
                     ) -> pd.DataFrame:
        """Companies ranked by their index of ``construct`` (default: :attr:`target`) in
        ``wave`` (default: the last), within each industry: ``industry, rank, company,
        n, index, se, ci_lower, ci_upper`` and the ``change`` since the previous wave."""
        construct = construct or self.target
        wave = wave or self.waves[-1]
        rows = self.indices[(self.indices["level"] == "company")
                            & (self.indices["construct"] == construct)
                            & (self.indices["wave"] == wave)]
        table = rows[["industry", "unit", "n", "index", "se", "ci_lower", "ci_upper"]].rename(
            columns={"unit": "company"})
        changes = self.changes[(self.changes["level"] == "company")
                               & (self.changes["construct"] == construct)
                               & (self.changes["wave_to"] == wave)].set_index("unit")["change"]
        table = table.assign(change=table["company"].map(changes))
        table = table.sort_values(["industry", "index"], ascending=[True, False],
                                  na_position="last")
        table.insert(1, "rank", table.groupby("industry", dropna=False).cumcount() + 1)
        return table.reset_index(drop=True)

    def aggregates(self, construct: str | None = None) -> pd.DataFrame:
        """Industry, sector and national indices of ``construct`` (default: :attr:`target`),
        one row per unit and wave."""
        construct = construct or self.target
        rows = self.indices[(self.indices["level"] != "company")
                            & (self.indices["construct"] == construct)]
        return rows.drop(columns=["construct"]).reset_index(drop=True)

    def drivers(self, target: str | None = None, wave: str | None = None) -> pd.DataFrame:
        """Importance (standardized total effect on ``target``) against performance (the
        0-100 index) per industry in ``wave`` (default: the last); see
        :mod:`acsi_sem.studies.drivers`."""
        from acsi_sem.studies.drivers import industry_drivers

        return industry_drivers(self, target, wave)

    def summary(self):
        """The text summary; ``print(result.summary())``."""
        from acsi_sem.report.study_summary import StudySummary

        return StudySummary(self)

    def to_dict(self) -> dict:
        """The JSON document of ``acsi-sem study --json`` as a Python dict (NaN as None)."""
        from acsi_sem.report.study_summary import study_document

        return study_document(self)

    def to_json(self, path: str | Path | None = None) -> str:
        """The JSON document as text; also written to ``path`` if given."""
        text = json_text(self.to_dict())
        if path is not None:
            Path(path).write_text(text + "\n", encoding="utf-8")
        return text

    def write_report(self, out_dir: str | Path, construct: str | None = None) -> Path:
        """Write the study's HTML report and figures into ``out_dir``; returns the path of
        ``report.html``."""
        from acsi_sem.report.study_report import write_study_report

        return write_study_report(self, out_dir, construct)

    def _repr_html_(self) -> str:
        from acsi_sem.report.study_summary import study_html

        return study_html(self)

