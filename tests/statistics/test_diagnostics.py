"""Improper solutions are reported loudly, naming the parameter."""

from __future__ import annotations

import numpy as np
import pandas as pd

import acsi_sem


def exact_sample(covariance: np.ndarray, n: int, seed: int) -> pd.DataFrame:
    """Data whose sample covariance (divisor N) is exactly ``covariance``."""
    rng = np.random.default_rng(seed)
    raw = rng.standard_normal((n, len(covariance)))
    raw -= raw.mean(axis=0)
    whitened = raw @ np.linalg.inv(np.linalg.cholesky(np.cov(raw, rowvar=False, bias=True)).T)
    return pd.DataFrame(whitened @ np.linalg.cholesky(covariance).T,
                        columns=[f"x{i + 1}" for i in range(len(covariance))])


def test_heywood_case_is_flagged() -> None:
    # One factor, three indicators: lambda_1^2 = r12 r13 / r23 = 1.28, so the residual
    # variance of x1 must be 1 - 1.28 = -0.28 (a textbook Heywood case).
    correlation = np.array([[1.0, 0.8, 0.8], [0.8, 1.0, 0.5], [0.8, 0.5, 1.0]])
    result = acsi_sem.fit("f =~ x1 + x2 + x3", exact_sample(correlation, 400, seed=1))
    variance = result.parameters.set_index(["lhs", "op", "rhs"]).loc[("x1", "~~", "x1")]
    assert variance["est"] < 0
    assert np.isclose(variance["std_all"], -0.28, atol=1e-6)
    assert result.improper
    assert any("negative variance x1 ~~ x1" in w for w in result.warnings)
    assert any("f =~ x1 is 1.131" in w for w in result.warnings)
    assert "negative variance x1 ~~ x1" in result.summary().as_text()


def test_ecsi_on_mobi_reports_its_improper_cb_sem_solution() -> None:
    result = acsi_sem.fit("ecsi")
    assert result.converged and result.improper
    text = " ".join(result.warnings)
    assert "standardized value of Value ~ Expectation is 2.19" in text
    assert "Expectation and Quality correlate 0.995" in text


def _two_factor_theta(spec, f1_variance: float, covariance: float) -> np.ndarray:
    values = {"f1 ~~ f1": f1_variance, "f2 ~~ f2": 1.0, "f1 ~~ f2": covariance}
    return np.array([values.get(name, 0.7) for name in spec.free_parameter_names])


def test_near_collinear_latents_are_named_with_their_correlation() -> None:
    from acsi_sem.model.ram import build_ram
    from acsi_sem.model.spec import parse_model
    from acsi_sem.statistics.diagnostics import _near_collinear_latents

    spec = parse_model("f1 =~ a + b + c\nf2 =~ d + e + g")
    messages = _near_collinear_latents(build_ram(spec), _two_factor_theta(spec, 1.0, 0.97))
    assert len(messages) == 1
    assert "f1 and f2 correlate 0.970" in messages[0]


def test_no_latent_correlation_is_printed_beside_a_negative_latent_variance() -> None:
    """A latent variance below 0 (reported as a Heywood case) once gave -1.4e150 here."""
    from acsi_sem.model.ram import build_ram
    from acsi_sem.model.spec import parse_model
    from acsi_sem.statistics.diagnostics import _near_collinear_latents

    spec = parse_model("f1 =~ a + b + c\nf2 =~ d + e + g")
    assert _near_collinear_latents(build_ram(spec), _two_factor_theta(spec, -0.2, 0.5)) == []
