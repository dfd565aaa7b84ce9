"""Words shared by the text summary and the HTML report: estimator names and file paths as a
reader wants them."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from acsi_sem.errors import AcsiSemError
from acsi_sem.model.modelfile import data_dir, load_model_file, models_dir

if TYPE_CHECKING:
    from acsi_sem.results import FitResult

ESTIMATOR_TEXT = {"ML": "ML (lavaan conventions)",
                  "MLR": "MLR (robust SEs, Yuan-Bentler scaled test)",
                  "WLSMV": "WLSMV (ordered items, DWLS, scaled-shifted test)",
                  "GLS": "GLS (normal-theory weights)", "ULS": "ULS (unweighted least squares)",
                  "DWLS": "DWLS (diagonal ADF weights)", "WLS": "WLS (ADF weights)",
                  "ULSM": "ULSM (ULS, robust SEs, Satorra-Bentler scaled test)",
                  "ULSMV": "ULSMV (ULS, robust SEs, scaled-shifted test)",
                  "WLSM": "WLSM (DWLS, robust SEs, Satorra-Bentler scaled test)",
                  "PLS": "PLS path modelling", "PLSC": "consistent PLS (PLSc)"}


def display_path(path: str) -> str:
    """A path as a reader wants it: relative to the working folder where possible, shipped
    files by their folder and name."""
    candidate = Path(path)
    if not candidate.is_absolute():
        return path
    for folder in (models_dir(), data_dir()):
        if candidate.parent == folder.resolve():
            return f"shipped {folder.name}/{candidate.name}"
    try:
        return str(candidate.relative_to(Path.cwd()))
    except ValueError:
        return path


def model_labels(result: FitResult) -> dict[str, str]:
    """Display labels declared in the model file's ``# labels:`` header, if any."""
    try:
        return load_model_file(result.spec.source).labels
    except (AcsiSemError, OSError):
        return {}
