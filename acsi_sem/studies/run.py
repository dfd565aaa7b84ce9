""":func:`study`: a customer-satisfaction index study from a model file and a survey of many
companies.

    model file -> spec -> survey (checked, sorted into company-by-wave cells) -> revenue file
    -> units (companies, industries, sectors, nation) -> estimates and bootstrap -> tables
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from acsi_sem.errors import AcsiSemError, DataError
from acsi_sem.estimators.pls import checked_layout
from acsi_sem.model.modelfile import ModelFile
from acsi_sem.model.spec import ModelSpec
from acsi_sem.statistics.index import negative_weight_warnings
from acsi_sem.studies.aggregate import Units, study_units
from acsi_sem.studies.bootstrap import StudySample, bootstrap_study, full_sample
from acsi_sem.studies.design import (
    SINGLE_WAVE,
    StudyColumns,
    StudySurvey,
    read_design_file,
    study_survey,
)
from acsi_sem.studies.estimate import StudyEstimates, StudyLayout, linearized_variance
from acsi_sem.studies.result import StudyResult
from acsi_sem.studies.revenue import read_revenue
from acsi_sem.studies.tables import (
    change_table,
    index_table,
    measurement_table,
    path_table,
    unit_values,
    weight_change_table,
)
from acsi_sem.survey.prepare import prepare_data, read_table

WEIGHTS_BY = ("pooled", "industry", "company")
# The ACSI interviews about 250 customers per company; far fewer make a fragile index.
SMALL_CELL = 100


def study(model: str | Path | ModelFile | ModelSpec, data: pd.DataFrame | str | Path | None = None,
          *, company: str | None = None, industry: str | None = None,
          sector: str | None = None, wave: str | None = None,
          revenue: str | Path | None = None, weights: str | None = None,
          weights_by: str = "pooled", design: str | Path | None = None, bootstrap: int = 0,
          seed: int | None = None, level: float = 0.95,
          scale: tuple[float, float] | None = None, scheme: str = "path", jobs: int = 1,
          scheduler=None, progress: bool = False) -> StudyResult:
    """Run a customer-satisfaction index study.

    Args:
        model: a shipped model's name, a model file, lavaan text or a ``ModelSpec``.
        data: the survey (one row per respondent), a file's path, or None for the design's
            data (``design``, or the model file's ``# study:`` design).
        company: the column naming each respondent's company (required, here or in the
            design file).
        industry, sector: columns placing companies in industries and sectors (or give
            them in the revenue file).
        wave: the column naming the survey wave (e.g. the year); changes are computed
            between consecutive waves.
        revenue: the revenue file (see :mod:`acsi_sem.studies.revenue`); without it,
            companies weigh equally.
        weights: the column of sampling weights.
        weights_by: whose measurement weights make the index: ``"pooled"`` (one PLS fit of
            every company and wave; the ACSI practice), ``"industry"`` or ``"company"`` (one
            fit per industry or company, pooled over its waves). Weights never differ
            between waves, so a change is a change of the customers' answers.
        design: a TOML study design naming the data, revenue file and columns (see
            :mod:`acsi_sem.studies.design`); explicit arguments take precedence.
        bootstrap: stratified bootstrap replicates (0: linearized standard errors with the
            measurement weights taken as known).
        seed: seed of the bootstrap; the same seed gives the same numbers on any scheduler.
        level: confidence level of the intervals.
        scale: the answer scale; default: the model file's ``# scale:``.
        scheme: the PLS inner weighting scheme.
        jobs, scheduler: run the bootstrap's batches on ``jobs`` local processes or on a
            Dask scheduler (its address or a ``Client``).
        progress: show a progress bar of the bootstrap's batches.

    Returns:
        The study's DataFrames (:class:`StudyResult`); ``print(result.summary())``.

    Raises:
        AcsiSemError: a subclass naming the file, column, row or company at fault.
    """
    from acsi_sem.api import resolve_model
    from acsi_sem.estimators.checks import check_no_constraints

    model_file, spec = resolve_model(model)
    settings = _settings(model_file, data, design, dict(
        company=company, industry=industry, sector=sector, wave=wave, weights=weights,
        revenue=revenue))
    columns, data, revenue = settings
    scale = scale or (model_file.scale if model_file is not None else None)
    _check_options(scale, weights_by, columns, bootstrap, level)
    check_no_constraints(spec, "the PLS of an index study")
    layout = checked_layout(spec)
    raw, source = _read(data)
    prepared = prepare_data(raw, spec.observed, source=source, scale=scale, group=columns.company,
                            weights=columns.weights, min_rows=len(layout.indicators) + 2)
    survey = study_survey(raw, prepared, layout.indicators, columns)
    checked_revenue = read_revenue(revenue, survey) if revenue is not None else None
    companies = (checked_revenue.companies if checked_revenue is not None else survey.companies)
    if weights_by == "industry" and companies["industry"].isna().any():
        raise AcsiSemError("weights_by='industry' needs industries (an industry column, or "
                           "an industry column in the revenue file)")
    units = study_units(survey.cells, companies, checked_revenue, survey.waves)
    groups, cell_group = _measurement_groups(survey, companies, weights_by)
    study_layout = StudyLayout(
        layout, cell_group, _cell_waves(survey), len(groups), len(survey.waves),
        _path_positions(layout), scale, scheme)
    sample = _sample(survey, study_layout, by_wave=bool(bootstrap) and len(survey.waves) > 1)
    full = full_sample(sample)
    if full.failed[0]:
        raise AcsiSemError(_failed_measurement(groups, full))
    draws = (bootstrap_study(sample, bootstrap, seed, jobs=jobs, scheduler=scheduler,
                             progress=progress) if bootstrap else None)
    return _result(model_file, spec, survey, companies, units, groups, study_layout, full,
                   draws, columns, weights_by, level, bootstrap, seed)


def _settings(model_file: ModelFile | None, data, design, given: dict
              ) -> tuple[StudyColumns, object, object]:
    """The columns, data and revenue file: the arguments, then the design file's."""
    if design is None and data is None and model_file is not None:
        design = model_file.default_study
    if design is None and data is None:
        raise DataError("no survey given and the model names no study design ('# study: "
                        "FILE' in its header); pass data")
    from_file = read_design_file(design) if design is not None else None
    chosen = {name: value if value is not None else
              (getattr(from_file.columns, name, None) if from_file else None)
              for name, value in given.items() if name != "revenue"}
    if chosen["company"] is None:
        raise AcsiSemError("a study needs the column naming each respondent's company "
                           "(company=... or --company COLUMN)")
    data = data if data is not None else (from_file.data if from_file else None)
    revenue = given["revenue"] if given["revenue"] is not None else (
        from_file.revenue if from_file else None)
    return StudyColumns(**chosen), data, revenue


def _check_options(scale, weights_by: str, columns: StudyColumns, bootstrap: int,
                   level: float) -> None:
    if scale is None:
        raise AcsiSemError("a study reports 0-100 indices: declare the answer scale "
                           "('# scale: 1-10' in the model file, or scale=(1, 10))")
    if weights_by not in WEIGHTS_BY:
        raise AcsiSemError(f"unknown weights_by {weights_by!r}; choose one of "
                           f"{', '.join(WEIGHTS_BY)}")
    if bootstrap < 0 or bootstrap == 1:
        raise AcsiSemError(f"bootstrap needs at least 2 replicates, not {bootstrap}")
    if not 0 < level < 1:
        raise AcsiSemError(f"level must lie between 0 and 1, not {level}")
    used = [name for name in (columns.company, columns.industry, columns.sector,
                              columns.wave, columns.weights) if name is not None]
    if len(set(used)) < len(used):
        raise AcsiSemError(f"one column plays two parts in the design: {', '.join(used)}")


def _read(data) -> tuple[pd.DataFrame, str]:
    if isinstance(data, pd.DataFrame):
        return data, "<DataFrame>"
    return read_table(data), str(data)


def _measurement_groups(survey: StudySurvey, companies: pd.DataFrame, weights_by: str
                        ) -> tuple[tuple[str, ...], np.ndarray]:
    """The measurement groups' names and each cell's group."""
    if weights_by == "pooled":
        return ("all companies",), np.zeros(len(survey.cells), dtype=int)
    owner = survey.cells["company"]
    if weights_by == "industry":
        owner = owner.map(companies.set_index("company")["industry"])
    names = tuple(pd.unique(owner))
    position = {name: g for g, name in enumerate(names)}
    return names, owner.map(position).to_numpy()


def _cell_waves(survey: StudySurvey) -> np.ndarray:
    position = {wave: t for t, wave in enumerate(survey.waves)}
    return survey.cells["wave"].map(position).to_numpy()


def _path_positions(layout) -> tuple[np.ndarray, np.ndarray]:
    outcome, cause = np.nonzero(layout.predecessors)
    return outcome, cause


def _sample(survey: StudySurvey, study_layout: StudyLayout, by_wave: bool) -> StudySample:
    centre = survey.items.mean(axis=0)
    return StudySample(survey.items - centre, survey.row_weights, survey.starts, survey.stops,
                       centre, survey.items.var(axis=0), study_layout, by_wave)


def _failed_measurement(groups: tuple[str, ...], full: StudyEstimates) -> str:
    failed = [groups[g] for g in np.flatnonzero(~full.measurement.converged[0])]
    return (f"the PLS measurement fit of {', '.join(failed)} did not converge (or an item "
            "does not vary there); no index can be computed. Check the items, or pool the "
            "measurement weights (weights_by='pooled')")


def _result(model_file, spec, survey: StudySurvey, companies: pd.DataFrame, units: Units,
            groups, study_layout: StudyLayout, full: StudyEstimates,
            draws: StudyEstimates | None, columns: StudyColumns, weights_by: str,
            level: float, bootstrap: int, seed: int | None) -> StudyResult:
    layout = study_layout.layout
    constructs = tuple(layout.latent)
    kept = None if draws is None else _successful(draws)
    cell_variance = None
    if draws is None:
        cell_variance = linearized_variance(
            survey.items, survey.row_weights, survey.starts, survey.stops,
            full.measurement.item_weights[0, study_layout.cell_group], study_layout)
    unit_estimate = unit_values(units, full.index[0])
    unit_draws = None if kept is None else unit_values(units, kept.index)
    owners = [layout.latent[j] for j, block in enumerate(layout.blocks) for _ in block]
    names = list(zip(np.array(constructs)[study_layout.paths[0]],
                     np.array(constructs)[study_layout.paths[1]], strict=True))
    weight_changes = None
    if kept is not None and full.wave_item_weights is not None:
        free = np.concatenate([np.full(len(block), len(block) > 1) for block in layout.blocks])
        weight_changes = weight_change_table(groups, owners, layout.indicators, survey.waves,
                                             full, kept, free)
    return StudyResult(
        model_name=model_file.name if model_file is not None else "model",
        title=model_file.title if model_file is not None else "user model",
        data_source=survey.source, columns=columns, weights_by=weights_by,
        scale=study_layout.scale, level=level, constructs=constructs, waves=survey.waves,
        indices=index_table(units, constructs, unit_estimate, unit_draws, cell_variance,
                            level),
        changes=change_table(units, constructs, survey.waves, unit_estimate, unit_draws,
                             cell_variance, level),
        paths=path_table(survey.cells, companies, names, full.paths[0],
                         None if kept is None else kept.paths, level),
        r2=_r2_table(survey.cells, constructs, full.r2[0]),
        measurement=measurement_table(groups, owners, layout.indicators, full, kept),
        weight_changes=weight_changes, composition=units.composition,
        cells=survey.cells.drop(columns=["start", "stop"]),
        warnings=tuple(_warnings(survey, groups, full, layout)),
        notes=tuple(_notes(survey, units, weights_by, groups, draws, bootstrap)
                    + _weight_change_notes(weight_changes)),
        bootstrap=_bootstrap_counts(draws, bootstrap, seed),
        se_method="bootstrap" if draws is not None else "linearization")


def _successful(draws: StudyEstimates) -> StudyEstimates:
    keep = ~draws.failed
    measurement = type(draws.measurement)(*(getattr(draws.measurement, name)[keep] for name in
                                            ("weights", "loadings", "item_weights",
                                             "converged")))
    return StudyEstimates(draws.index[keep], draws.paths[keep], draws.r2[keep], measurement,
                          None if draws.wave_item_weights is None
                          else draws.wave_item_weights[keep], draws.failed[keep])


def _r2_table(cells: pd.DataFrame, constructs: tuple[str, ...], r2: np.ndarray) -> pd.DataFrame:
    rows = [(company, wave, construct, r2[c, j])
            for c, (company, wave) in enumerate(zip(cells["company"], cells["wave"],
                                                    strict=True))
            for j, construct in enumerate(constructs) if not np.isnan(r2[c, j])]
    return pd.DataFrame(rows, columns=["company", "wave", "construct", "r2"])


def _warnings(survey: StudySurvey, groups, full: StudyEstimates, layout) -> list[str]:
    warnings = []
    for g, group in enumerate(groups):
        for text in negative_weight_warnings(full.measurement.item_weights[0, g], layout.blocks,
                                             layout.latent, layout.indicators):
            warnings.append(f"measurement weights of {group}: {text}")
    cells = survey.cells
    for c, (company, wave, n) in enumerate(zip(cells["company"], cells["wave"], cells["n"],
                                               strict=True)):
        where = company if wave == SINGLE_WAVE else f"{company} ({wave})"
        if n < SMALL_CELL:
            warnings.append(f"{where}: only {n} respondents (the ACSI interviews about 250 "
                            "per company); its index is imprecise")
        if np.isnan(full.paths[0, c]).any():
            warnings.append(f"{where}: the path coefficients cannot be estimated (a "
                            "construct's composite is constant or collinear there)")
    return warnings


def _notes(survey: StudySurvey, units: Units, weights_by: str, groups,
           draws: StudyEstimates | None, bootstrap: int) -> list[str]:
    pooled = {"pooled": "one PLS fit of every company and wave (the ACSI practice)",
              "industry": f"one PLS fit per industry ({len(groups)}), pooled over waves",
              "company": f"one PLS fit per company ({len(groups)}), pooled over waves"}
    notes = list(survey.notes)
    notes.append(f"measurement weights: {pooled[weights_by]}; the same weights in every "
                 "wave, so a change between waves is a change of the customers' answers")
    notes += list(units.notes)
    if draws is None:
        notes.append("standard errors: linearization of each weighted mean with the "
                     "measurement weights taken as known (run a bootstrap to include their "
                     "sampling error); normal intervals")
    else:
        failed = int(draws.failed.sum())
        notes.append(f"standard errors: bootstrap of {bootstrap} replicates stratified by "
                     f"company and wave ({failed} failed, left out); percentile intervals; "
                     "every level uses the same replicates")
    if len(survey.waves) == 1:
        notes.append("one wave: no change between waves")
    elif draws is None:
        notes.append("the measurement weights' change between waves is tested with a "
                     "bootstrap only")
    return notes


def _weight_change_notes(weight_changes: pd.DataFrame | None) -> list[str]:
    """One note per group and pair of waves whose item weights differ significantly."""
    if weight_changes is None:
        return []
    notes = []
    significant = weight_changes[weight_changes["significant"]]
    for (group, before, after), rows in significant.groupby(["group", "wave_from", "wave_to"],
                                                            sort=False):
        items = ", ".join(f"{row.indicator} {row.item_weight_from:.3f} -> "
                          f"{row.item_weight_to:.3f} (z = {row.z:.1f})"
                          for row in rows.itertuples(index=False))
        notes.append(f"the measurement weights of {group} differ between waves {before} and "
                     f"{after} (Bonferroni-corrected 5% test over the items): {items}; the "
                     "indices hold the pooled weights fixed, so these changes do not enter "
                     "them")
    return notes


def _bootstrap_counts(draws: StudyEstimates | None, bootstrap: int, seed: int | None) -> dict:
    if draws is None:
        return {}
    failed = int(draws.failed.sum())
    return {"requested": bootstrap, "used": bootstrap - failed, "failed": failed,
            "seed": seed}
