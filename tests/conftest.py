"""Shared paths and helpers for the test suite."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
LAVAAN = FIXTURES / "lavaan"

# The data and model of each lavaan golden case (see tests/fixtures/lavaan/make_fixtures.R).
LAVAAN_CASES = {
    "hs_cfa": ("tests/fixtures/data/holzinger1939.csv", "tests/fixtures/models/hs_cfa.lav"),
    "hs_sem": ("tests/fixtures/data/holzinger1939.csv", "tests/fixtures/models/hs_sem.lav"),
    "hs_second_order": ("tests/fixtures/data/holzinger1939.csv",
                        "tests/fixtures/models/hs_second_order.lav"),
    "poldem": ("tests/fixtures/data/political_democracy.csv",
               "tests/fixtures/models/poldem.lav"),
    "poldem_labels": ("tests/fixtures/data/political_democracy.csv",
                      "tests/fixtures/models/poldem_labels.lav"),
    "poldem_constraints": ("tests/fixtures/data/political_democracy.csv",
                           "tests/fixtures/models/poldem_constraints.lav"),
    "ecsi_mobi": ("data/mobi.csv", "models/ecsi.lav"),
    "ccsi_mobi": ("data/mobi.csv", "models/ccsi.lav"),
    "ccsi6_mobi": ("data/mobi.csv", "models/ccsi6.lav"),
    "acsi_simulated": ("data/acsi_simulated.csv", "models/acsi.lav"),
}


def lavaan_parameters(case: str) -> pd.DataFrame:
    """lavaan's parameterEstimates() with acsi-sem's column names."""
    frame = pd.read_csv(LAVAAN / f"{case}_parameters.csv", keep_default_na=False,
                        na_values=["NA"])
    frame.columns = [c.replace(".", "_") for c in frame.columns]
    return frame


def lavaan_fit(case: str) -> pd.Series:
    """lavaan's fitMeasures() with acsi-sem's names (dots to underscores, logl to loglik,
    chisq.scaling.factor to scaling_factor)."""
    frame = pd.read_csv(LAVAAN / f"{case}_fit.csv")
    names = frame["measure"].str.replace(".", "_").str.replace(r"^logl$", "loglik", regex=True)
    names = names.str.replace("unrestricted_logl", "unrestricted_loglik")
    names = names.str.replace("chisq_scaling_factor", "scaling_factor")
    return pd.Series(frame["value"].to_numpy(), index=names)


def assert_indices_close(ours: pd.Series, theirs: pd.Series, names, *, rel: float,
                         absolute: float) -> None:
    """Each fit index in ``names`` of ours against lavaan's (same names, see lavaan_fit)."""
    for name in names:
        assert_close(ours[name], theirs[name], rel=rel, absolute=absolute, what=name)


# lavaan numbers the groups of the Holzinger-Swineford data in order of first appearance.
SCHOOLS = {1: "Pasteur", 2: "Grant-White"}


def assert_matches_lavaan(result, case: str, *, rel: float, fit_names=(),
                          fit_rel: float = 1e-6,
                          columns=("est", "se", "std_lv", "std_all"),
                          groups: dict[int, str] | None = None) -> None:
    """Every parameter row of ``result`` (a FitResult) against lavaan's case ``case``, each
    of ``columns`` within ``rel`` (absolute 1e-6), and the fit indices ``fit_names`` within
    ``fit_rel``; multi-group cases are matched by group (``groups``: lavaan's group number
    to label, the schools by default). lavaan's undefined SE of a parameter a binding
    inequality fixes counts as 0."""
    theirs = lavaan_parameters(case)
    by: tuple[str, ...] = ()
    if "group" in theirs:
        theirs["group"] = theirs["group"].map(groups or SCHOOLS)
        by = ("group",)
    merged = match_rows(result.parameters, theirs, by=by)
    assert (merged["_merge"] == "both").all(), merged.loc[merged["_merge"] != "both",
                                                          ["lhs", "op", "rhs", "_merge"]]
    merged["se_lavaan"] = merged["se_lavaan"].where(
        merged["se_lavaan"].notna() | merged["se"].isna(), 0.0)
    for column in columns:
        assert_close(merged[column], merged[f"{column}_lavaan"], rel=rel, absolute=1e-6,
                     what=f"{case} {column}")
    assert_indices_close(result.fit_indices, lavaan_fit(case), fit_names, rel=fit_rel,
                         absolute=1e-8)


def lavaan_r2(case: str) -> pd.Series:
    """lavaan's inspect(fit, "r2")."""
    frame = pd.read_csv(LAVAAN / f"{case}_r2.csv")
    return pd.Series(frame["r2"].to_numpy(), index=frame["variable"])


def match_rows(ours: pd.DataFrame, theirs: pd.DataFrame, *, by: tuple[str, ...] = ()
               ) -> pd.DataFrame:
    """Join two parameter tables on (lhs, op, rhs) and the columns ``by``; ``~~`` rows
    match in either order."""
    def keyed(frame: pd.DataFrame) -> pd.DataFrame:
        frame = frame.copy()
        swap = (frame["op"] == "~~") & (frame["lhs"] > frame["rhs"])
        frame.loc[swap, ["lhs", "rhs"]] = frame.loc[swap, ["rhs", "lhs"]].to_numpy()
        frame["rhs"] = frame["rhs"].str.replace(" ", "")
        return frame

    merged = keyed(ours).merge(keyed(theirs), on=["lhs", "op", "rhs", *by], how="outer",
                               suffixes=("", "_lavaan"), indicator=True)
    return merged


def assert_close(ours, theirs, *, rel: float, absolute: float = 1e-6, what: str = "") -> None:
    """Elementwise |ours - theirs| <= rel |theirs| + absolute, NaN matching NaN."""
    ours, theirs = np.asarray(ours, dtype=float), np.asarray(theirs, dtype=float)
    both_nan = np.isnan(ours) & np.isnan(theirs)
    close = np.abs(ours - theirs) <= rel * np.abs(theirs) + absolute
    bad = ~(close | both_nan)
    assert not bad.any(), f"{what}: {ours[bad]} != {theirs[bad]}"


@pytest.fixture(scope="session")
def root() -> Path:
    """The repository root."""
    return ROOT


FIML_ROBUST = ["cfi_robust", "tli_robust", "rmsea_robust", "rmsea_ci_lower_robust",
               "rmsea_ci_upper_robust"]


def assert_fiml_robust_indices_close(ours: pd.Series, theirs: pd.Series) -> None:
    """lavaan's FIML-corrected robust CFI / TLI / RMSEA, to 2e-5 and the close-fit p-value
    to 2e-4: lavaan's EM stops at changes of 1e-5, and its moments' distance from the
    converged ones moves these to first order, by an amount that depends on the data (at
    lavaan's own moments they agree to 3e-6, tests/statistics/test_fiml_corrected.py)."""
    assert_indices_close(ours, theirs, FIML_ROBUST, rel=2e-5, absolute=1e-9)
    assert_close(ours["rmsea_pvalue_robust"], theirs["rmsea_pvalue_robust"], rel=2e-4,
                 absolute=1e-9, what="rmsea_pvalue_robust")
