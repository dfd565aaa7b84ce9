"""Tables as JSON-ready records: plain Python numbers and strings, ``None`` for NaN."""

from __future__ import annotations

import math

import pandas as pd


def plain(value: object) -> object:
    """A numpy scalar as its Python value; NaN (JSON has none) as ``None``."""
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def records(frame: pd.DataFrame) -> list[dict]:
    """One dict per row, the index left out (reset it first to keep it)."""
    return [{str(k): plain(v) for k, v in row.items()}
            for row in frame.astype(object).to_dict(orient="records")]


def table_dict(frame: pd.DataFrame) -> dict:
    """``{row label: {column: value}}`` with plain values."""
    return {str(label): {str(k): plain(v) for k, v in row.items()}
            for label, row in frame.astype(object).iterrows()}
