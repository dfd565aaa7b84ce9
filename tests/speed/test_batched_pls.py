"""The batched PLS bootstrap gives every replicate the one-at-a-time estimates."""

from __future__ import annotations

import numpy as np
import pytest

import acsi_sem
import acsi_sem.estimators.pls_batched as pls_batched
from acsi_sem.model.modelfile import load_model_file
from acsi_sem.resample import resampled_rows

# ECSI with a formative (mode B) Image block and a defined effect.
FORMATIVE = (load_model_file("ecsi").text.replace("Image        =~", "Image        <~")
             .replace("Loyalty      ~ Image + Satisfaction",
                      "Loyalty      ~ Image + s*Satisfaction")
             + "\ndoubled := 2*s\n")


def capture_pls_one_at_a_time(monkeypatch: pytest.MonkeyPatch) -> list:
    """Record the one-at-a-time statistic that the PLS bootstrap hands to the batch."""
    captured = []
    original = pls_batched.batched_pls_statistic

    def spy(*arguments):
        captured.append(arguments[7])  # the one-at-a-time statistic
        return original(*arguments)

    monkeypatch.setattr(pls_batched, "batched_pls_statistic", spy)
    return captured


@pytest.mark.parametrize(("model", "estimator", "scheme"),
                         [("ecsi", "pls", "path"), ("ecsi", "plsc", "path"),
                          (FORMATIVE, "pls", "factorial"), ("ecsi", "pls", "centroid")])
def test_sampled_replicates_equal_the_one_at_a_time_fit(
        monkeypatch: pytest.MonkeyPatch, model: str, estimator: str, scheme: str) -> None:
    captured = capture_pls_one_at_a_time(monkeypatch)
    data = None if model == "ecsi" else acsi_sem.read_table("data/mobi.csv")
    result = acsi_sem.fit(model, data, estimator=estimator, scheme=scheme, bootstrap=40,
                          seed=4, scale=(1, 10), ci="bca")
    boot = result.bootstrap
    assert boot.failed == 0 and len(boot.draws) == 40
    rows = list(resampled_rows(result.n_obs, 40, 4))
    for index in (0, 13, 39):
        expected = captured[0](rows[index]).values
        np.testing.assert_allclose(boot.draws[index], expected, rtol=0, atol=1e-6)
    assert np.isfinite(boot.jackknife).all()
