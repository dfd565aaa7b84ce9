"""One exception family for every mistake a user can make.

Each message names the file, line, column, variable or parameter at fault and says what to
do; the command line prints it as one paragraph and exits non-zero, without a traceback.
"""

from __future__ import annotations


class AcsiSemError(Exception):
    """Base class of every error acsi-sem raises on purpose."""


class ModelSyntaxError(AcsiSemError):
    """The model text is not valid lavaan syntax (or uses a part acsi-sem does not support)."""

    def __init__(self, message: str, *, source: str = "<model>", line: int | None = None,
                 column: int | None = None) -> None:
        self.source, self.line, self.column = source, line, column
        where = source
        if line is not None:
            where += f", line {line}"
        if column is not None:
            where += f", column {column}"
        super().__init__(f"{where}: {message}")


class ModelNotFoundError(AcsiSemError):
    """Neither a shipped model of that name nor a model file at that path exists."""


class DataError(AcsiSemError):
    """The data cannot be used with the model: missing file, column, values or rows."""


class IdentificationError(AcsiSemError):
    """The model is not identified, so its parameters have no unique estimates."""


class ConvergenceError(AcsiSemError):
    """The estimator did not reach a solution."""
