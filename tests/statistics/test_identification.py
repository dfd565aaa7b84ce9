"""Models that are not identified are refused before estimation, naming the part at fault."""

from __future__ import annotations

import pandas as pd
import pytest

import acsi_sem
from acsi_sem.errors import IdentificationError
from tests.conftest import ROOT

HS = pd.read_csv(ROOT / "tests" / "fixtures" / "data" / "holzinger1939.csv")


@pytest.mark.parametrize(("model", "words"), [
    ("f =~ NA*x1 + x2 + x3", "latent variable f has no scale"),
    ("f =~ x1 + x2\nx1 ~~ x2", "5 free parameters but the 2 observed variables give only 3"),
    ("f =~ x1 + x2\ng =~ x3 + x4 + x5\nf ~~ 0*g",
     "cannot be estimated separately from the data: f =~ x2, .*f ~~ f"),
])
def test_unidentified_models_are_refused(model: str, words: str) -> None:
    with pytest.raises(IdentificationError, match=words):
        acsi_sem.fit(model, HS)


def test_identified_two_indicator_factor_passes() -> None:
    result = acsi_sem.fit("f =~ x1 + x2\ng =~ x3 + x4 + x5", HS)
    assert result.converged
    assert result.fit_indices["df"] == 4
