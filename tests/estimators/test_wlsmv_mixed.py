"""WLSMV with ordered and continuous items together against lavaan 0.6.14
(tests/fixtures/lavaan/make_wlsmv_mixed_fixtures.R): sample statistics (thresholds, means,
variances, polyserial and Pearson correlations, NACOV)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from acsi_sem.numerics.polychoric import ordinal_statistics
from tests.conftest import LAVAAN, ROOT

DATA = ROOT / "tests" / "fixtures" / "data"
ACSI_DATA = DATA / "acsi_mixed.csv"
ACSI_CONTINUOUS = ("CUSA1", "CUSCO", "CUSL1", "CUSL2")
HS_CONTINUOUS = ("x1", "x5", "x9")


def hs_frame() -> pd.DataFrame:
    """The R script's data: x1, x5, x9 continuous, the other items in four categories."""
    frame = pd.read_csv(DATA / "holzinger1939_ordinal.csv").drop(columns="school")
    raw = pd.read_csv(DATA / "holzinger1939.csv")
    return frame.assign(**{name: raw[name] for name in HS_CONTINUOUS})


CASES = {"acsi_mixed_wlsmv": (lambda: pd.read_csv(ACSI_DATA), ACSI_CONTINUOUS),
         "hs_mixed_wlsmv": (hs_frame, HS_CONTINUOUS)}


@pytest.mark.parametrize("case", CASES)
def test_sample_statistics_and_their_covariance_equal_lavaan(case: str) -> None:
    frame, continuous = CASES[case]
    statistics = ordinal_statistics(frame(), continuous=continuous)
    lavaan = pd.read_csv(LAVAAN / f"{case}_sampstat.csv")
    # lavaan stores minus each continuous item's mean (and flips its rows of Gamma).
    sign = np.where(lavaan["statistic"].str.endswith("~1"), -1.0, 1.0)
    vector = statistics.vector * sign
    univariate = slice(0, statistics.n_univariate)
    # Thresholds, means and variances are closed-form; lavaan's optimiser stops the
    # polyserial correlations about 5e-8 short.
    np.testing.assert_allclose(vector[univariate], lavaan["value"][univariate], rtol=1e-12)
    np.testing.assert_allclose(vector, lavaan["value"], rtol=0, atol=1e-7)
    gamma = statistics.gamma * np.outer(sign, sign)
    np.testing.assert_allclose(np.diag(gamma), lavaan["gamma_diag"], rtol=1e-6)
    for column in (c for c in lavaan.columns if c.startswith("gamma_") and c != "gamma_diag"):
        row = int(np.flatnonzero(lavaan["statistic"] == column.removeprefix("gamma_"))[0])
        np.testing.assert_allclose(gamma[row], lavaan[column], rtol=1e-6, atol=1e-8,
                                   err_msg=column)
