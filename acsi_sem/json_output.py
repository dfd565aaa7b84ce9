"""JSON text for every document the package writes (results, studies, power, commands)."""

from __future__ import annotations

import json

import numpy as np

NON_FINITE_NOTE = ("these numbers came out infinite or undefined (NaN) and are written as null: "
                   "usually a singular matrix (collinear items, an improper solution) or a "
                   "division by a zero variance; read the warnings")


def json_text(document: dict) -> str:
    """``document`` as indented JSON that never fails on a number: NaN and infinities are
    written as ``null``, and where one was not already, its path is listed under
    ``non_finite`` with :data:`NON_FINITE_NOTE`."""
    paths: list[str] = []
    cleaned = _finite_everywhere(document, "", paths)
    if paths:
        cleaned["non_finite"] = {"note": NON_FINITE_NOTE, "fields": paths}
    return json.dumps(cleaned, indent=2, allow_nan=False)


def _finite_everywhere(value: object, path: str, paths: list[str]) -> object:
    if isinstance(value, dict):
        return {key: _finite_everywhere(item, f"{path}.{key}" if path else str(key), paths)
                for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_finite_everywhere(item, f"{path}[{i}]", paths)
                for i, item in enumerate(value)]
    if isinstance(value, float | np.floating) and not np.isfinite(value):
        paths.append(path)
        return None
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return value
