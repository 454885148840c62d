"""The `readiness` command: a thin `main(argv)` over the library; errors become output here only."""

from __future__ import annotations

import argparse
import sys
from typing import Callable, Dict, List, Optional, Sequence

from readiness import __version__
from readiness.errors import ReadinessError, UsageError

# Exit codes shared by every command (see README, "Exit codes").
EXIT_OK = 0
EXIT_NO_GO = 1
EXIT_USAGE = 2
EXIT_INCOMPLETE = 3
EXIT_INTERRUPTED = 130

Command = Callable[[argparse.Namespace], int]
COMMANDS: Dict[str, Command] = {}


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{self.prog}: {message}")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="readiness",
        description="Tells, with evidence, whether a Python service is ready to ship on every "
        "platform and Python it supports.",
    )
    parser.add_argument("--version", action="version", version=f"readiness {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    commands.add_parser(
        "schema", help="print the JSON Schema of a readiness file kind",
        description="Print the shipped JSON Schema of a readiness file kind.",
    ).add_argument("kind", choices=["env"], help="the file kind")
    return parser


def _schema(args: argparse.Namespace) -> int:
    import json

    from readiness import schema
    from readiness.document import SCHEMA_VERSION

    sys.stdout.write(json.dumps(schema.shipped(args.kind, SCHEMA_VERSION), indent=2) + "\n")
    return EXIT_OK


COMMANDS["schema"] = _schema


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run one command; return its exit code (0, 1 NO-GO, 2 usage, 3 INCOMPLETE, 130)."""
    args_list: List[str] = list(sys.argv[1:] if argv is None else argv)
    try:
        args = build_parser().parse_args(args_list)
        if args.command is None:
            build_parser().print_help()
            return EXIT_USAGE
        return COMMANDS[args.command](args)
    except ReadinessError as exc:
        sys.stderr.write(f"readiness: error: {exc}\n")
        return EXIT_USAGE
    except KeyboardInterrupt:
        sys.stderr.write("readiness: interrupted\n")
        return EXIT_INTERRUPTED


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
