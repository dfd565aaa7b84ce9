"""Helpers every sub-command shares: writing a command's text and JSON, reading --scale.
Sub-command modules import this one; it imports none of them."""

from __future__ import annotations

import sys
from pathlib import Path

from acsi_sem.errors import AcsiSemError
from acsi_sem.survey.files import write_atomically


def emit(text: str, document: dict, json_path: str | None) -> None:
    """Print a command's text, and its JSON ``document`` to ``json_path`` ('-': standard
    output, the text then goes to standard error; ``None``: no JSON)."""
    to_stdout = json_path == "-"
    print(text, file=sys.stderr if to_stdout else sys.stdout)
    from acsi_sem.json_output import json_text

    serialized = json_text(document)
    if to_stdout:
        print(serialized)
    elif json_path:
        write_atomically(Path(json_path), serialized + "\n")


def parse_scale(text: str | None) -> tuple[float, float] | None:
    """``"1-10"`` as ``(1.0, 10.0)``; ``None`` stays ``None``."""
    if text is None:
        return None
    from acsi_sem.model.modelfile import read_scale

    scale = read_scale(text)
    if scale is None:
        raise AcsiSemError(f"cannot read the scale {text!r}; write it as LOW-HIGH, e.g. 1-10")
    return scale
