"""A lavaan-style text summary of a fit, and its HTML twin for Jupyter."""

from __future__ import annotations

import math
import textwrap
from typing import TYPE_CHECKING

import pandas as pd

from acsi_sem.report.labels import ESTIMATOR_TEXT, display_path
from acsi_sem.version import __version__

if TYPE_CHECKING:
    from acsi_sem.results import FitResult

WIDTH = 78
_SECTIONS = [("=~", "Latent variables"), ("<~", "Formative weights"), ("~", "Regressions"),
             ("~~cov", "Covariances"),
             ("~1", "Intercepts"), ("|", "Thresholds"), ("~~var", "Variances"),
             (":=", "Defined parameters")]


class Summary:
    """The printable summary of a :class:`FitResult` (``print(result.summary())``)."""

    def __init__(self, result: FitResult) -> None:
        self.result = result

    def as_text(self) -> str:
        """The whole summary as plain text, at most 78 columns wide."""
        return format_summary(self.result)

    def __str__(self) -> str:
        return self.as_text()

    def __repr__(self) -> str:
        return self.as_text()

    def _repr_html_(self) -> str:
        return summary_html(self.result)


def _number(value: float, digits: int = 3) -> str:
    """Blank where a number is undefined (NaN, as lavaan prints fixed values' errors), "-"
    where it is infinite (a singular matrix: the warnings say why)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if not math.isfinite(value):
        return "-"
    return f"{value:.{digits}f}"


def _pair(label: str, value: str) -> str:
    """``label`` left and ``value`` right-aligned on one line (the value wins if long)."""
    padding = max(WIDTH - 2 - len(label) - len(value), 2)
    return f"  {label}{' ' * padding}{value}"


def format_summary(result: FitResult) -> str:
    """Header, warnings, model test, fit indices, estimates, R-squared and notes."""
    lines = [f"acsi-sem {__version__}: {result.title}", "=" * WIDTH]
    lines += _header_lines(result)
    if result.warnings:
        lines += ["", "WARNINGS " + "!" * (WIDTH - 9)]
        lines += [textwrap.fill(w, WIDTH, initial_indent="  ! ", subsequent_indent="    ")
                  for w in result.warnings]
        lines += ["!" * WIDTH]
    if len(result.fit_indices):
        lines += ["", *fit_lines(result.fit_indices, result.estimator)]
    else:
        lines += ["", "Model test: none (PLS path modelling has no likelihood-based test)"]
    source = _standard_error_source(result)
    lines += ["", f"Parameter estimates (standard errors: {source}):"]
    lines += _estimate_lines(result)
    lines += _constraint_lines(result)
    lines += _pls_lines(result)
    lines += _moderation_lines(result)
    lines += _quality_lines(result)
    if result.notes:
        lines += ["", "Notes:"] + [textwrap.fill(note, WIDTH, initial_indent="  - ",
                                                   subsequent_indent="    ")
                                     for note in result.notes]
    return "\n".join(lines)


def _estimate_lines(result: FitResult) -> list[str]:
    """Estimates and R-square, once per group in a multi-group model."""
    if result.groups is None:
        return [*parameter_lines(result.parameters), "", "R-square:",
                *_r2_lines(result.r2)]
    lines = []
    parameters = result.parameters
    for number, label in enumerate(result.groups["labels"], start=1):
        size = result.groups["n_obs"][label]
        lines += ["", f"Group {number} [{label}], N = {size}:".ljust(WIDTH, "-")]
        lines += parameter_lines(parameters[parameters["group"] == label])
        lines += ["", "R-square:", *_r2_lines(result.r2.loc[label])]
    defined = parameters[parameters["group"] == ""]
    if len(defined):
        lines += ["", "All groups:".ljust(WIDTH, "-"), *parameter_lines(defined)]
    return lines


def _r2_lines(r2: pd.Series) -> list[str]:
    # NaN: a negative residual variance (the warnings name it), printed as lavaan's NA.
    return [f"    {name:<20}{_number(value) or 'NA':>10}" for name, value in r2.items()]


def _pls_lines(result: FitResult) -> list[str]:
    lines = []
    if result.model_fit is not None:
        lines += ["", "Model fit (implied indicator correlations; d_G with log10):",
                  f"{'':<24}{'Saturated':>11}{'Estimated':>11}"]
        for name, row in result.model_fit.iterrows():
            lines.append(f"  {MODEL_FIT_NAMES[name]:<22}{_number(row['saturated']):>11}"
                         f"{_number(row['estimated']):>11}")
    if result.outer_weights is not None:
        lines += ["", "Outer weights:", f"{'':<24}{'Weight':>9}{'Item-metric':>13}"]
        for _, row in result.outer_weights.iterrows():
            lines.append(f"  {row['latent'] + ' <- ' + row['indicator']:<22}"
                         f"{row['weight']:>9.3f}{row['unstandardized']:>13.3f}")
    if result.index is not None:
        lines += ["", "ACSI 0-100 index:", *_index_lines(result)]
    if result.index_by_group is not None:
        lines += ["", "Index by group:", result.index_by_group.round(1).to_string()]
    return lines


MODEL_FIT_NAMES = {"srmr": "SRMR", "d_uls": "d_ULS", "d_g": "d_G"}


def _constraint_lines(result: FitResult) -> list[str]:
    """Each constraint with both sides at the estimates; binding inequalities marked."""
    if result.constraints is None:
        return []
    lines = ["", "Constraints:", f"{'':<44}{'lhs':>9}{'rhs':>9}"]
    for row in result.constraints.itertuples(index=False):
        text = f"{row.lhs} {row.op} {row.rhs}"
        mark = "  (binds)" if row.binding and row.op != "==" else ""
        lines.append(f"  {text:<42}{_number(row.lhs_value):>9}{_number(row.rhs_value):>9}"
                     f"{mark}")
    return lines


def _moderation_lines(result: FitResult) -> list[str]:
    """The interaction effects with f², and the simple slopes at -1, 0, +1 SD."""
    if not result.spec.interactions:
        return []
    lines = ["", "Moderation (interaction: effect of the product of the standardized "
             "constructs):", f"{'':<44}{'Estimate':>9}{'Std.Err':>9}{'95% interval':>18}"]
    for row in result.moderation().itertuples(index=False):
        if row.effect == "interaction":
            lines.append(f"  {row.outcome} ~ {row.term}  (f2 = {_number(row.f2)})")
            name = "interaction"
        else:
            name = f"{row.independent} slope, {row.moderator} at " + (
                "mean" if row.moderator_sd == 0 else f"{row.moderator_sd:+g} SD")
        interval = ("" if math.isnan(row.ci_lower)
                    else f"[{_number(row.ci_lower)}, {_number(row.ci_upper)}]")
        lines.append(f"    {name:<40}{_number(row.estimate):>9}{_number(row.se):>9}"
                     f"{interval:>18}")
    return lines


def _index_lines(result: FitResult) -> list[str]:
    """One line per construct: its index, and its bootstrap interval when there is one."""
    boot = result.bootstrap
    intervals = boot.intervals() if boot is not None else None
    lines = []
    for name, value in result.index.items():
        line = f"    {name:<20}{value:>10.1f}"
        key = f"index: {name}"
        if intervals is not None and key in intervals.index:
            low, high = intervals.loc[key, ["ci_lower", "ci_upper"]]
            line += f"   [{low:5.1f}, {high:5.1f}]"
        lines.append(line)
    if intervals is not None:
        lines.append(f"    (brackets: {boot.level:.0%} {boot.interval} bootstrap interval)")
    return lines


def _quality_lines(result: FitResult) -> list[str]:
    quality = result.quality
    if quality is None:
        return []
    lines = ["", "Measurement quality:", quality.reliability.round(3).to_string(na_rep=""),
             "", "HTMT:", quality.htmt.round(3).to_string(na_rep="")]
    if quality.flags:
        lines += ["", "Below the usual thresholds:"]
        lines += [textwrap.fill(flag, WIDTH, initial_indent="  - ", subsequent_indent="    ")
                  for flag in quality.flags]
    return lines


def _header_lines(result: FitResult) -> list[str]:
    used = f"{result.n_obs} of {result.n_total}" if result.n_obs != result.n_total \
        else str(result.n_obs)
    count = (str(int(result.fit_indices["npar"])) if "npar" in result.fit_indices
             else str(len(result.parameters[result.parameters["op"].isin(["=~", "<~", "~"])])))
    return [
        _pair("Model", f"{result.model_name} ({display_path(result.spec.source)})"),
        _pair("Data", display_path(result.data_source)),
        _pair("Observations used", used),
        *_missing_lines(result),
        *_group_lines(result),
        _pair("Estimator", ESTIMATOR_TEXT.get(result.estimator, result.estimator)),
        _pair("Converged", "yes" if result.converged else "NO"),
        _pair("Free parameters", count),
    ]


def _standard_error_source(result: FitResult) -> str:
    if result.bootstrap is not None:
        return "the bootstrap"
    if result.estimator in ("MLR", "WLSMV"):
        return "robust (Huber-White sandwich)"
    if result.estimator == "ML":
        fiml = result.missing is not None and result.missing["method"] == "fiml"
        return "the observed information" if fiml else "the expected information"
    if result.estimator in ("GLS", "ULS", "DWLS", "WLS"):
        return "lavaan's standard: ((N - G) Delta' W Delta)^-1"
    if result.estimator in ("ULSM", "ULSMV", "WLSM"):
        return "robust.sem: (Delta' W Delta)^-1 Delta' W Gamma W Delta (Delta' W Delta)^-1"
    return "none without --bootstrap"


def _missing_lines(result: FitResult) -> list[str]:
    if result.missing is None or result.missing["method"] != "fiml":
        return []
    report = result.missing
    return [_pair("Missing answers", f"FIML, {report['patterns']} patterns, "
                  f"{report['complete_cases']} complete rows")]


def _group_lines(result: FitResult) -> list[str]:
    if result.groups is None:
        return []
    groups = result.groups
    sizes = ", ".join(f"{label} {groups['n_obs'][label]}" for label in groups["labels"])
    return [_pair(f"Groups ({groups['column']})", sizes),
            _pair("Held equal across groups", ", ".join(groups["equal"]) or "nothing")]


def _interval(fit: pd.Series, name: str, suffix: str = "") -> str:
    """``estimate [lower, upper]`` of RMSEA, or ``n/a`` where it is undefined."""
    values = [fit[f"{name}{suffix}"], fit[f"{name}_ci_lower{suffix}"],
              fit[f"{name}_ci_upper{suffix}"]]
    if any(math.isnan(value) for value in values):
        return "n/a"
    return f"{values[0]:.3f} [{values[1]:.3f}, {values[2]:.3f}]"


def _pair_of(fit: pd.Series, first: str, second: str) -> str:
    if math.isnan(fit[first]) or math.isnan(fit[second]):
        return "n/a"
    return f"{fit[first]:.3f} / {fit[second]:.3f}"


def _robust_lines(fit: pd.Series, estimator: str = "WLSMV") -> list[str]:
    if "shift_parameter" in fit:
        return _scaled_shifted_lines(fit, estimator)
    if "cfi_robust" not in fit:
        return []
    rmsea = _interval(fit, "rmsea", "_robust")
    if "scaling_factor" not in fit:
        # ML by FIML: lavaan still reports its FIML-corrected robust indices.
        return ["", "Robust (FIML-corrected):",
                _pair("Robust CFI / TLI", _pair_of(fit, "cfi_robust", "tli_robust")),
                _pair("Robust RMSEA [90% CI]", rmsea)]
    return [
        "", "Robust (MLR):",
        _pair("Scaled test statistic", _number(fit["chisq_scaled"])),
        _pair("Scaling factor (Yuan-Bentler)", _number(fit["scaling_factor"], 4)),
        _pair("P-value (scaled)", _number(fit["pvalue_scaled"])),
        _pair("Robust CFI / TLI", _pair_of(fit, "cfi_robust", "tli_robust")),
        _pair("Robust RMSEA [90% CI]", rmsea),
    ]


def _scaled_shifted_lines(fit: pd.Series, estimator: str) -> list[str]:
    """The scaled-shifted test of WLSMV or ULSMV, or the Satorra-Bentler test of ULSM and
    WLSM (no shift)."""
    scaled, robust = _interval(fit, "rmsea", "_scaled"), _interval(fit, "rmsea", "_robust")
    shifted = estimator not in ("ULSM", "WLSM")
    scaling = (_pair("Scaling factor / shift",
                     _pair_of(fit, "scaling_factor", "shift_parameter")) if shifted
               else _pair("Scaling factor", _number(fit["scaling_factor"], 4)))
    return [
        "", f"{'Scaled-shifted' if shifted else 'Satorra-Bentler scaled'} test ({estimator}):",
        _pair("Test statistic", _number(fit["chisq_scaled"])),
        scaling,
        _pair("P-value (scaled)", _number(fit["pvalue_scaled"])),
        _pair("CFI / TLI (scaled)", _pair_of(fit, "cfi_scaled", "tli_scaled")),
        _pair("RMSEA [90% CI] (scaled)", scaled),
        _pair("Robust CFI / TLI", _pair_of(fit, "cfi_robust", "tli_robust")),
        _pair("Robust RMSEA [90% CI]", robust),
    ]


def fit_lines(fit: pd.Series, estimator: str = "WLSMV") -> list[str]:
    """The model test and fit indices block."""
    rmsea = _interval(fit, "rmsea")
    return [
        "Model test (chi-square):",
        _pair("Test statistic", _number(fit["chisq"])),
        _pair("Degrees of freedom", f"{int(fit['df'])}"),
        _pair("P-value", _number(fit["pvalue"])),
        _pair("Baseline test statistic (df)",
              f"{fit['baseline_chisq']:.3f} ({int(fit['baseline_df'])})"),
        *([_pair("P-value (Bollen-Stine bootstrap)", _number(fit["bollen_stine_pvalue"]))]
          if "bollen_stine_pvalue" in fit.index else []),
        "", "Fit indices:",
        _pair("CFI", _number(fit["cfi"])), _pair("TLI", _number(fit["tli"])),
        _pair("NFI", _number(fit["nfi"])),
        _pair("RMSEA [90% CI]", rmsea),
        _pair("P(RMSEA <= 0.05)", _number(fit["rmsea_pvalue"])),
        _pair("SRMR", _number(fit["srmr"])),
        _pair("GFI", _number(fit["gfi"])), _pair("AGFI", _number(fit["agfi"])),
        _pair("Log-likelihood", _number(fit["loglik"])),
        _pair("AIC", _number(fit["aic"])), _pair("BIC", _number(fit["bic"])),
        _pair("BIC (sample-size adjusted)", _number(fit["bic2"])),
        *_robust_lines(fit, estimator),
    ]


def _section_of(row: pd.Series) -> str:
    if row["op"] == "~~":
        return "~~var" if row["lhs"] == row["rhs"] else "~~cov"
    return row["op"]


def parameter_lines(parameters: pd.DataFrame) -> list[str]:
    """Estimates grouped like lavaan's summary: one block per operator, one per lhs."""
    head = (f"{'':<24}{'Estimate':>9}{'Std.Err':>9}{'z-value':>9}{'P(>|z|)':>9}"
            f"{'Std.lv':>9}{'Std.all':>9}")
    sections = parameters.apply(_section_of, axis=1)
    lines = []
    for key, title in _SECTIONS:
        rows = parameters[sections == key]
        if rows.empty:
            continue
        lines += ["", f"{title}:", head]
        grouped = key in ("=~", "<~", "~", "~~cov")
        for lhs, block in rows.groupby("lhs", sort=False) if grouped else [("", rows)]:
            if grouped:
                lines.append(f"  {lhs} {block['op'].iloc[0]}")
            for _, row in block.iterrows():
                name = row["rhs"] if grouped else row["lhs"]
                if row["op"] == "|":
                    name = f"{row['lhs']}|{row['rhs']}"
                if row["label"]:
                    name = f"{name} ({row['label']})"
                lines.append(_estimate_line(("    " if grouped else "  ") + name, row))
    return lines


def _estimate_line(name: str, row: pd.Series) -> str:
    cells = [_number(row["est"]), _number(row["se"]) if row["se"] else "",
             _number(row["z"]), _number(row["pvalue"]), _number(row["std_lv"]),
             _number(row["std_all"])]
    return f"{name[:24]:<24}" + "".join(f"{cell:>9}" for cell in cells)


def summary_html(result: FitResult) -> str:
    """The result as HTML tables for Jupyter (see :mod:`acsi_sem.report.html`)."""
    from acsi_sem.report.html import result_tables_html

    return result_tables_html(result)
