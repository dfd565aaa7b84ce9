"""The ``tables`` sub-command of ``acsi-sem``: a saved result's JSON in, APA tables for a
paper out (Markdown, LaTeX, Excel, Word). No statistics here, and no refitting."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from acsi_sem.errors import AcsiSemError

COMMANDS = ("tables",)


def add_commands(commands: argparse._SubParsersAction) -> None:
    """Add ``tables`` to the sub-command parsers."""
    tables = commands.add_parser(
        "tables", help="APA 7 tables for a paper from a result's JSON (acsi-sem fit --json)",
        description="Write the estimates, fit, measurement, Fornell-Larcker, HTMT, index, "
                    "mediation and invariance tables that the result has, formatted as APA 7 "
                    "tables, as Markdown, LaTeX (booktabs), Excel or Word.")
    tables.add_argument("result", help="JSON written by acsi-sem fit --json")
    tables.add_argument("--out", required=True, metavar="FILE", help="the file to write")
    tables.add_argument("--format", dest="file_format",
                        choices=["md", "latex", "xlsx", "docx"],
                        help="default: from the suffix of --out (.md, .tex, .xlsx, .docx)")
    tables.add_argument("--kind", action="append", metavar="TABLE",
                        help="a table to write (repeat for several): estimates, fit, "
                             "measurement, fornell_larcker, htmt, index, mediation, "
                             "invariance; default: every one the result has")
    tables.add_argument("--language", choices=["en", "zh"],
                        help="captions and notes; default: Chinese when the model declares "
                             "Chinese labels")
    tables.add_argument("--figure", action="append", metavar="IMAGE",
                        help="a PNG or JPEG (e.g. the path diagram) placed in the Word document")


def run(arguments: argparse.Namespace) -> int:
    """Read the result, build the tables, write them; print where."""
    from acsi_sem.report.paper_tables import paper_tables
    from acsi_sem.report.table_files import PaperFigure, write_tables

    document = read_result(arguments.result)
    tables = paper_tables(document, tuple(arguments.kind) if arguments.kind else None,
                          language=arguments.language)
    figures = tuple(PaperFigure(Path(name).stem, _read_image(name))
                    for name in arguments.figure or ())
    written = write_tables(tables, arguments.out, arguments.file_format, figures=figures)
    print(f"{len(tables)} tables ({', '.join(t.kind for t in tables)}) written to {written}")
    return 0


def read_result(path: str) -> dict:
    """The JSON document of ``acsi-sem fit --json`` at ``path``.

    Raises:
        AcsiSemError: the file is missing, not JSON, or not a fit result.
    """
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as error:
        raise AcsiSemError(f"{path}: cannot read the result ({error.strerror})") from error
    except json.JSONDecodeError as error:
        raise AcsiSemError(f"{path}: not JSON (line {error.lineno}, column {error.colno}: "
                           f"{error.msg})") from error
    missing = [key for key in ("title", "estimator", "n_obs", "parameters", "fit")
               if not isinstance(document, dict) or key not in document]
    if missing:
        raise AcsiSemError(f"{path}: not a result of acsi-sem fit --json (no "
                           f"{', '.join(missing)})")
    return document


def _read_image(path: str) -> bytes:
    if Path(path).suffix.lower() not in (".png", ".jpg", ".jpeg"):
        raise AcsiSemError(f"{path}: Word takes PNG or JPEG figures (save the diagram as "
                           f".png)")
    try:
        return Path(path).read_bytes()
    except OSError as error:
        raise AcsiSemError(f"{path}: cannot read the figure ({error.strerror})") from error
