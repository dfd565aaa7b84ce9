"""Writing output files safely: whole or not at all, never over a half-written file."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from acsi_sem.errors import AcsiSemError


def write_atomically(path: Path, content: str | bytes) -> None:
    """Write ``content`` (text as UTF-8) to ``path`` only once it is complete, with the
    permissions a plain ``open`` would give, so no half file is ever left.

    Raises:
        AcsiSemError: the folder of ``path`` does not exist.
    """
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.is_dir():
        raise AcsiSemError(f"{path}: cannot write the file, folder {directory} does not exist")
    data = content.encode("utf-8") if isinstance(content, str) else content
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.chmod(temporary, 0o666 & ~_umask())  # mkstemp's 0600 would hide the file
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
