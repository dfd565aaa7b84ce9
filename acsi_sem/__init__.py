"""acsi-sem: structural equation models of customer satisfaction (ACSI, ECSI, CCSI).

    import acsi_sem
    result = acsi_sem.fit("acsi")          # shipped model on its default data
    print(result.summary())
    result.parameters                      # lhs, op, rhs, est, se, z, pvalue, ..., std_all
    study = acsi_sem.study("acsi", bootstrap=1000, seed=1)   # the shipped 12-company study
    study.league_table()                   # companies ranked per industry, with intervals
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

from acsi_sem.errors import (
    AcsiSemError,
    ConvergenceError,
    DataError,
    IdentificationError,
    ModelNotFoundError,
    ModelSyntaxError,
)
from acsi_sem.version import __version__

# Where each public name lives. They are imported on first use, so that `import acsi_sem`
# and the command's start (`acsi-sem --help`) do not load pandas, scipy and matplotlib.
_LAZY = {
    "fit": "acsi_sem.api",
    "InvarianceResult": "acsi_sem.invariance", "measurement_invariance": "acsi_sem.invariance",
    "ModelFile": "acsi_sem.model.modelfile", "load_model_file": "acsi_sem.model.modelfile",
    "shipped_models": "acsi_sem.model.modelfile",
    "ModelSpec": "acsi_sem.model.spec", "parse_model": "acsi_sem.model.spec",
    "FitResult": "acsi_sem.results",
    "pls_predict": "acsi_sem.prediction", "compare_predictions": "acsi_sem.prediction",
    "PredictionResult": "acsi_sem.prediction",
    "StudyResult": "acsi_sem.studies.result", "study": "acsi_sem.studies.run",
    "prepare_data": "acsi_sem.survey.prepare", "read_table": "acsi_sem.survey.prepare",
}

if TYPE_CHECKING:
    from acsi_sem.api import fit
    from acsi_sem.invariance import InvarianceResult, measurement_invariance
    from acsi_sem.model.modelfile import ModelFile, load_model_file, shipped_models
    from acsi_sem.model.spec import ModelSpec, parse_model
    from acsi_sem.prediction import PredictionResult, compare_predictions, pls_predict
    from acsi_sem.results import FitResult
    from acsi_sem.studies.result import StudyResult
    from acsi_sem.studies.run import study
    from acsi_sem.survey.prepare import prepare_data, read_table


def __getattr__(name: str) -> object:
    """Import a public name's module when the name is first used (PEP 562)."""
    if name not in _LAZY:
        raise AttributeError(f"module 'acsi_sem' has no attribute {name!r}")
    value = getattr(import_module(_LAZY[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "AcsiSemError", "ConvergenceError", "DataError", "FitResult", "IdentificationError",
    "InvarianceResult", "ModelFile", "ModelNotFoundError", "ModelSpec", "ModelSyntaxError",
    "PredictionResult", "StudyResult", "__version__", "compare_predictions", "fit",
    "load_model_file", "measurement_invariance", "parse_model", "pls_predict",
    "prepare_data", "read_table", "shipped_models", "study",
]
