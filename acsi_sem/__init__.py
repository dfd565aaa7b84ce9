"""acsi-sem: structural equation models of customer satisfaction (ACSI, ECSI, CCSI).

    import acsi_sem
    result = acsi_sem.fit("acsi")          # shipped model on its default data
    print(result.summary())
    result.parameters                      # lhs, op, rhs, est, se, z, pvalue, ..., std_all
    study = acsi_sem.study("acsi", bootstrap=1000, seed=1)   # the shipped 12-company study
    study.league_table()                   # companies ranked per industry, with intervals
"""

from __future__ import annotations

from acsi_sem.api import fit
from acsi_sem.errors import (
    AcsiSemError,
    ConvergenceError,
    DataError,
    IdentificationError,
    ModelNotFoundError,
    ModelSyntaxError,
)
from acsi_sem.invariance import InvarianceResult, measurement_invariance
from acsi_sem.model.modelfile import ModelFile, load_model_file, shipped_models
from acsi_sem.model.spec import ModelSpec, parse_model
from acsi_sem.results import FitResult
from acsi_sem.studies.result import StudyResult
from acsi_sem.studies.run import study
from acsi_sem.survey.prepare import prepare_data, read_table
from acsi_sem.version import __version__

__all__ = [
    "AcsiSemError", "ConvergenceError", "DataError", "FitResult", "IdentificationError",
    "InvarianceResult", "ModelFile", "ModelNotFoundError", "ModelSpec", "ModelSyntaxError",
    "StudyResult", "__version__", "fit", "load_model_file", "measurement_invariance",
    "parse_model", "prepare_data", "read_table", "shipped_models", "study",
]
