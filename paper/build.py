"""Build the paper: fit the models, write every table and figure the paper cites, and fill
them into ``paper.md``.

    python3 paper/build.py [--out paper/build]

writes ``OUT/paper.md`` (the source with every ``{{name}}`` replaced), ``OUT/figures/*.svg``
and ``*.png``, and ``OUT/tables/*.csv``. Nothing in the paper is typed by hand: each number
comes from a fit run here, with fixed seeds, so a rebuild gives the same paper.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))  # the checkout's package, as the test suite uses it

import acsi_sem  # noqa: E402
from acsi_sem.report.plots import (  # noqa: E402
    importance_performance,
    importance_performance_plot,
    index_plot,
)

BOOTSTRAP = 200
SEED = 2005  # the year of Tenenhaus et al.'s mobi analysis
PLACEHOLDER = re.compile(r"\{\{(\w+)\}\}")


def markdown_table(frame: pd.DataFrame, digits: int = 3) -> str:
    """A pipe table with fixed decimals and blanks for NaN (index as the first column)."""
    def cell(value) -> str:
        if isinstance(value, float | np.floating):
            return "" if pd.isna(value) else f"{value:.{digits}f}"
        return str(value)

    header = [frame.index.name or "", *map(str, frame.columns)]
    lines = ["| " + " | ".join(header) + " |",
             "|" + "|".join(["---"] + ["---:"] * len(frame.columns)) + "|"]
    for position, label in enumerate(frame.index):
        # Column by column, so integer columns stay integers.
        cells = [cell(frame[column].iloc[position]) for column in frame.columns]
        lines.append("| " + " | ".join([str(label), *cells]) + " |")
    return "\n".join(lines)


def structural_paths(result) -> pd.Series:
    """Standardized paths as ``outcome <- predictor``."""
    rows = result.parameters[result.parameters["op"] == "~"]
    return pd.Series(rows["std_all"].to_numpy(),
                     index=[f"{o} ← {p}" for o, p in zip(rows["lhs"], rows["rhs"],
                                                          strict=True)])


def lavaan_agreement(fits: dict[str, tuple[str, object]]) -> pd.DataFrame:
    """Largest absolute differences from lavaan 0.6.14 (the test suite's golden values),
    one row per model: ``{row name: (fixture case, ML result)}``."""
    rows = {}
    for name, (case, result) in fits.items():
        theirs = pd.read_csv(ROOT / "tests/fixtures/lavaan" / f"{case}_parameters.csv")
        theirs.columns = [c.replace(".", "_") for c in theirs.columns]
        merged = result.parameters.merge(theirs, on=["lhs", "op", "rhs"],
                                         suffixes=("", "_lavaan"))
        fit = pd.read_csv(ROOT / "tests/fixtures/lavaan" / f"{case}_fit.csv")
        fit = pd.Series(fit["value"].to_numpy(), index=fit["measure"].str.replace(".", "_"))
        row = {"parameters": str(len(merged))}
        for column in ("est", "se", "std_all"):
            gap = (merged[column] - merged[f"{column}_lavaan"]).abs().max()
            row[f"max Δ {column}"] = f"{gap:.1e}"
        for measure in ("chisq", "rmsea"):
            row[f"Δ {measure}"] = f"{abs(result.fit_indices[measure] - fit[measure]):.1e}"
        rows[name] = row
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("model")


def build(out: Path) -> Path:
    """Fit, write tables and figures into ``out`` and the filled paper; returns its path."""
    (out / "figures").mkdir(parents=True, exist_ok=True)
    (out / "tables").mkdir(parents=True, exist_ok=True)
    pls = acsi_sem.fit("ecsi", estimator="pls", bootstrap=BOOTSTRAP, seed=SEED)
    plsc = acsi_sem.fit("ecsi", estimator="plsc")
    ml = acsi_sem.fit("ecsi")

    tables = {
        "paths": pd.DataFrame({"PLS": structural_paths(pls), "PLSc": structural_paths(plsc),
                               "CB-SEM (ML)": structural_paths(ml)}).rename_axis("path"),
        "quality": pls.quality.reliability.rename_axis("construct"),
        "index": _index_table(pls),
        "ipma": importance_performance(pls).rename_axis("driver of Loyalty"),
        "lavaan": lavaan_agreement({"ACSI, simulated survey": ("acsi_simulated",
                                                               acsi_sem.fit("acsi")),
                                    "ECSI, mobi": ("ecsi_mobi", ml)}),
    }
    for name, table in tables.items():
        table.to_csv(out / "tables" / f"{name}.csv")
    figures = {"diagram": pls.plot(title=""), "index": index_plot(pls),
               "ipma": importance_performance_plot(pls)}
    for name, figure in figures.items():
        figure.savefig(out / "figures" / f"{name}.svg")
        figure.savefig(out / "figures" / f"{name}.png", dpi=150)

    correlations = {name: result.quality.fornell_larcker.loc["Expectation", "Quality"]
                    for name, result in (("pls", pls), ("plsc", plsc), ("ml", ml))}
    values = {f"table_{name}": markdown_table(table, 1 if name == "index" else 3)
              for name, table in tables.items()}
    values.update({
        "version": acsi_sem.__version__, "bootstrap": str(BOOTSTRAP), "seed": str(SEED),
        "n_obs": str(pls.n_obs), "n_items": str(len(pls.spec.observed)),
        "r2_satisfaction_pls": f"{pls.r2['Satisfaction']:.2f}",
        "r2_loyalty_pls": f"{pls.r2['Loyalty']:.2f}",
        "index_satisfaction": f"{pls.index['Satisfaction']:.1f}",
        "lowest_index_name": pls.index.idxmin(),
        "lowest_index": f"{pls.index.min():.1f}",
        "cor_eq_pls": f"{correlations['pls']:.2f}", "cor_eq_plsc": f"{correlations['plsc']:.2f}",
        "cor_eq_ml": f"{correlations['ml']:.3f}",
        "n_improper": str(sum(w.startswith("improper") for w in ml.warnings)),
        "n_flags": str(len(pls.quality.flags)),
    })
    check_claims(tables, pls, plsc, ml, correlations)
    source = (HERE / "paper.md").read_text(encoding="utf-8")
    unknown = sorted(set(PLACEHOLDER.findall(source)) - set(values))
    if unknown:
        raise SystemExit(f"paper.md cites {', '.join(unknown)}, which build.py does not make")
    paper = out / "paper.md"
    paper.write_text(PLACEHOLDER.sub(lambda m: values[m.group(1)], source), encoding="utf-8")
    return paper


def check_claims(tables: dict[str, pd.DataFrame], pls, plsc, ml,
                 correlations: dict[str, float]) -> None:
    """The statements paper.md makes in words, checked on this build's numbers: a rebuild
    that no longer supports the text fails instead of printing it."""
    paths = tables["paths"]
    lavaan = tables["lavaan"].astype({c: float for c in tables["lavaan"].columns[1:]})
    ipma = tables["ipma"]
    claims = {
        "ACSI agrees with lavaan to rounding": (
            lavaan.loc["ACSI, simulated survey"].iloc[1:] < 1e-5).all(),
        "ECSI chi-square agrees to 1e-7": lavaan.loc["ECSI, mobi", "Δ chisq"] < 1e-6,
        "ECSI estimates differ in the third decimal": 1e-3 < lavaan.loc[
            "ECSI, mobi", "max Δ est"] < 1e-2,
        "ECSI standard errors differ by a few hundredths": lavaan.loc[
            "ECSI, mobi", "max Δ se"] < 0.05,
        "PLS and PLSc paths are proper": (paths[["PLS", "PLSc"]].abs() < 1).all().all(),
        "CB-SEM is improper": ml.improper and (paths["CB-SEM (ML)"].abs() > 1).any(),
        "PLS < PLSc < CB-SEM correlation": correlations["pls"] < correlations["plsc"]
        < correlations["ml"],
        "expectation and loyalty have low alpha": (tables["quality"].loc[
            ["Expectation", "Loyalty"], "alpha"] < 0.7).all(),
        "HTMT above 0.90 is flagged": any(f.startswith("HTMT") for f in pls.quality.flags),
        "satisfaction and image matter most": list(ipma.index[:2]) == ["Satisfaction",
                                                                        "Image"],
        "and perform above the average": (ipma.loc[["Satisfaction", "Image"], "performance"]
                                          > ipma["performance"].mean()).all(),
        "value performs worst with little effect": pls.index.idxmin() == "Value"
        and ipma.loc["Value", "importance"] < ipma["importance"].median(),
        "no warnings for PLS and PLSc": not pls.improper and not plsc.improper,
    }
    failed = [claim for claim, holds in claims.items() if not holds]
    if failed:
        raise SystemExit("paper.md says what these numbers no longer show: " +
                         "; ".join(failed))


def _index_table(pls) -> pd.DataFrame:
    intervals = pls.bootstrap.intervals()
    keys = [f"index: {name}" for name in pls.index.index]
    return pd.DataFrame({"index": pls.index.to_numpy(),
                         "95% lower": intervals.loc[keys, "ci_lower"].to_numpy(),
                         "95% upper": intervals.loc[keys, "ci_upper"].to_numpy()},
                        index=pd.Index(pls.index.index, name="construct"))


def main(argv: list[str] | None = None) -> int:
    """Command line: ``--out`` folder (default ``paper/build``)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE / "build")
    paper = build(parser.parse_args(argv).out)
    print(f"wrote {paper}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
