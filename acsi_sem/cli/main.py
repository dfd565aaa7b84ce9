"""The ``acsi-sem`` command: parses arguments, calls the library, prints. No statistics here.

Each group of sub-commands lives in a module of its own with ``COMMANDS``, ``add_commands``
and ``run``; this module only builds the parser and dispatches.
"""

from __future__ import annotations

import argparse
import os
import sys

from acsi_sem.cli import fit, loyalty, pls_tools, simulation, study, tables
from acsi_sem.errors import AcsiSemError
from acsi_sem.version import __version__

SUBCOMMAND_MODULES = (fit, study, loyalty, simulation, tables, pls_tools)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with its sub-commands."""
    parser = argparse.ArgumentParser(
        prog="acsi-sem", description="Structural equation models of customer satisfaction.")
    parser.add_argument("--version", action="version", version=f"acsi-sem {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    for module in SUBCOMMAND_MODULES:
        module.add_commands(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command; returns the exit status (0 success, 2 a user error)."""
    arguments = build_parser().parse_args(argv)
    module = next(module for module in SUBCOMMAND_MODULES
                  if arguments.command in module.COMMANDS)
    try:
        return module.run(arguments)
    except AcsiSemError as error:
        print(f"acsi-sem: error: {error}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # The reader (e.g. `| head`) stopped early: not an error, and nothing left to say.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
