"""The JSON document scripts read (``acsi-sem fit --json``); its key names are stable."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from acsi_sem.report.labels import model_labels

if TYPE_CHECKING:
    import pandas as pd

    from acsi_sem.results import FitResult
    from acsi_sem.statistics.score_test import ScoreTest

PARAMETER_KEYS = ["lhs", "op", "rhs", "est", "se", "z", "pvalue", "ci_lower", "ci_upper",
                  "std_lv", "std_all"]


def finite_or_none(value: float) -> float | None:
    """JSON has no NaN: undefined numbers become ``null``."""
    return float(value) if value is not None and np.isfinite(value) else None


def table_records(table: pd.DataFrame) -> list[dict]:
    """A table's rows for JSON, undefined numbers (e.g. a standardized EPC without a scale)
    as ``null``."""
    return [{key: finite_or_none(value) if isinstance(value, float) else value
             for key, value in row.items()} for row in table.to_dict(orient="records")]


def result_document(result: FitResult) -> dict:
    """``{"model", "estimator", "n_obs", "converged", "warnings", "fit", "parameters",
    "r2", ...}`` with NaN written as ``null``."""
    parameters = []
    for _, row in result.parameters.iterrows():
        entry = {key: row[key] for key in ("lhs", "op", "rhs")}
        if "group" in row:
            entry["group"] = row["group"]
        entry.update({key: finite_or_none(row[key]) for key in PARAMETER_KEYS[3:]})
        if row["label"]:
            entry["label"] = row["label"]
        parameters.append(entry)
    effects = [{"lhs": row["lhs"], "rhs": row["rhs"],
                **({"group": row["group"]} if "group" in row else {}),
                **{key: finite_or_none(row[key]) for key in
                   ("direct", "indirect", "total", "se_direct", "se_indirect", "se_total",
                    "total_std_all")}}
               for _, row in result.effects.iterrows()]
    document = {
        "model": result.model_name,
        "title": result.title,
        "estimator": result.estimator,
        "data": result.data_source,
        "n_obs": result.n_obs,
        "n_total": result.n_total,
        "converged": result.converged,
        "warnings": list(result.warnings),
        "notes": list(result.notes),
        "fit": {name: finite_or_none(value) for name, value in result.fit_indices.items()},
        "parameters": parameters,
        "r2": _r2(result),
        "effects": effects,
    }
    document.update(_pls_keys(result))
    labels = model_labels(result)
    if labels:
        document["labels"] = labels
    if result.missing is not None:
        document["missing"] = result.missing
    if result.groups is not None:
        document["groups"] = result.groups
    if result.sampling_weights is not None:
        document["sampling_weights"] = result.sampling_weights
    if result.quality is not None:
        document["quality"] = result.quality.to_dict()
    if result.constraints is not None:
        document["constraints"] = table_records(result.constraints)
    if result.score_test is not None:
        document["score_test"] = score_test_records(result.score_test)
    if result.spec.interactions:
        document["moderation"] = table_records(result.moderation())
    if result.bootstrap is not None:
        boot = result.bootstrap
        document["bootstrap"] = {
            "requested": boot.requested, "used": len(boot.draws), "failed": boot.failed,
            "improper": boot.improper, "seed": boot.seed, "level": boot.level,
            "interval": boot.interval,
            "statistics": {name: {key: finite_or_none(value) for key, value in row.items()}
                           for name, row in boot.intervals().iterrows()}}
    return document


def _r2(result: FitResult) -> dict:
    """``{variable: r2}``, or ``{group: {variable: r2}}`` for a multi-group model."""
    if result.groups is None:
        return {name: finite_or_none(value) for name, value in result.r2.items()}
    return {label: {name: finite_or_none(value) for name, value in result.r2.loc[label].items()}
            for label in result.groups["labels"]}


def _pls_keys(result: FitResult) -> dict:
    keys: dict = {}
    if result.model_fit is not None:
        keys["model_fit"] = {model: {name: finite_or_none(value) for name, value
                                     in result.model_fit[model].items()}
                             for model in result.model_fit.columns}
    if result.outer_weights is not None:
        weights: dict[str, dict[str, float | None]] = {}
        for _, row in result.outer_weights.iterrows():
            weights.setdefault(row["latent"], {})[row["indicator"]] = finite_or_none(
                row["weight"])
        keys["outer_weights"] = weights
    if result.index is not None:
        keys["index"] = {name: finite_or_none(v) for name, v in result.index.items()}
    if result.index_weights is not None:
        keys["index_weights"] = {
            latent: {row["indicator"]: finite_or_none(row["weight"])
                     for _, row in rows.iterrows()}
            for latent, rows in result.index_weights.groupby("latent", sort=False)}
    if result.index_by_group is not None:
        keys["index_by_group"] = {
            str(group): {name: finite_or_none(v) for name, v in row.items()}
            for group, row in result.index_by_group.iterrows()}
    return keys


def score_test_records(test: ScoreTest) -> dict:
    """A :class:`~acsi_sem.statistics.score_test.ScoreTest` as JSON: ``total``,
    ``univariate`` and, where computed, ``epc`` (every parameter's expected change)."""
    records = {"total": {key: finite_or_none(value) for key, value in test.total.items()},
               "univariate": table_records(test.univariate)}
    if test.epc is not None:
        records["epc"] = table_records(test.epc)
    return records
