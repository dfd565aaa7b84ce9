"""Defined parameters (``name := expression``) and their delta-method standard errors."""

from __future__ import annotations

import math

import numpy as np

from acsi_sem.model.spec import ModelSpec

_FUNCTIONS = {"exp": math.exp, "log": math.log, "sqrt": math.sqrt, "abs": abs}


def evaluate_definitions(spec: ModelSpec, labels: dict[str, float]) -> dict[str, float]:
    """Values of the ``:=`` rows in order, each able to use the ones before it.

    Args:
        labels: ``{label: value}`` of the labelled parameters.
    """
    names = dict(labels)
    results: dict[str, float] = {}
    for name, code in spec.definitions:
        try:
            value = float(eval(code, {"__builtins__": {}, **_FUNCTIONS}, names))
        except (ZeroDivisionError, ValueError, OverflowError):
            value = float("nan")
        names[name] = results[name] = value
    return results


def definition_jacobian(function, theta: np.ndarray) -> np.ndarray:
    """Central-difference Jacobian (k, q) of ``function: (q,) -> (k,)`` at ``theta``."""
    base = np.asarray(function(theta))
    jacobian = np.zeros((len(base), len(theta)))
    for index in range(len(theta)):
        step = 1e-6 * max(1.0, abs(theta[index]))
        up, down = theta.copy(), theta.copy()
        up[index] += step
        down[index] -= step
        jacobian[:, index] = (np.asarray(function(up)) - np.asarray(function(down))) / (2 * step)
    return jacobian


def delta_method_se(function, theta: np.ndarray, vcov: np.ndarray | None) -> np.ndarray:
    """Standard errors (k,) of ``function(theta)`` by the delta method; NaN without vcov."""
    k = len(np.asarray(function(theta)))
    if vcov is None:
        return np.full(k, np.nan)
    jacobian = definition_jacobian(function, theta)
    variance = np.einsum("kq,qr,kr->k", jacobian, vcov, jacobian)
    return np.sqrt(np.clip(variance, 0, None))
