"""The options of `nox -s validate -- ...` (README, "Options of `nox -s validate`"), parsed into a typed record."""

from __future__ import annotations

import argparse
import math
import re
from typing import NamedTuple, Optional, Sequence, Tuple


# A named tuple, immutable as a frozen dataclass and a quarter of its cost to define (on every run).
class ValidateOptions(NamedTuple):
    """What the user asked validate for; what it does not know goes to pytest in every cell."""

    pythons: Tuple[str, ...] = ()
    cells: Tuple[str, ...] = ()
    cell_timeout: Optional[float] = None
    jobs: Optional[int] = None
    mixed_from: Tuple[str, ...] = ()
    profile: Optional[str] = None
    config: Optional[str] = None
    baseline: Optional[str] = None
    baseline_ref: Optional[str] = None  # a git ref: the target at that commit is measured beside this one
    scenario: Optional[str] = None
    run_id: Optional[str] = None
    rerun: bool = False
    pytest_args: Tuple[str, ...] = ()


def parse(argv: Sequence[str]) -> ValidateOptions:
    """Parse validate's arguments; a bad value exits 2 with argparse's message."""
    args, rest = _parser().parse_known_args(list(argv))
    return ValidateOptions(
        pythons=tuple(args.python), cells=tuple(args.cells), cell_timeout=args.cell_timeout, jobs=args.jobs,
        mixed_from=tuple(args.mixed_from), profile=args.profile, config=args.config, baseline=args.baseline,
        baseline_ref=args.baseline_ref, scenario=args.scenario, run_id=args.run_id, rerun=args.rerun,
        pytest_args=tuple(rest),
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="nox -s validate --", add_help=True)
    parser.add_argument("--python", action="append", default=[], type=_minor, help="run only these Pythons (X.Y)")
    parser.add_argument("--cells", action="append", default=[], help="run only these cell ids")
    parser.add_argument("--cell-timeout", type=_seconds, default=None,
                        help="seconds before a cell is killed (default: the policy's cell_timeout, else none)")
    parser.add_argument("-j", "--jobs", type=_jobs, default=None,
                        help="cells at once (default: one per core, two while cells wait)")
    parser.add_argument("--from", dest="mixed_from", action="append", default=[],
                        help="also merge documents from this folder (e.g. CI artifacts)")
    parser.add_argument("--profile", default=None, help="policy profile")
    parser.add_argument("--config", default=None, help="another pyproject.toml or TOML policy")
    parser.add_argument("--baseline", default=None,
                        help="compare with a saved baseline (name) or a baseline, matrix or env documents (path)")
    parser.add_argument("--baseline-ref", metavar="REF", default=None,
                        help="also install the target as it is at this git ref (branch, tag, commit) and "
                             "measure the two in pairs (README, \"Against a baseline ref\")")
    parser.add_argument("--scenario", default=None, help="passed to the checks as READINESS_SCENARIO")
    parser.add_argument("--run-id", default=None, help="the run id (default: generated)")
    parser.add_argument("--rerun", action="store_true",
                        help="re-run only the failed, crashed and not-run cells of the latest run, into it")
    return parser


def _minor(text: str) -> str:
    if not re.fullmatch(r"[0-9]+\.[0-9]+", text):
        raise argparse.ArgumentTypeError(f"{text!r} is not a Python version: give X.Y, e.g. 3.12")
    return text


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds above 0")
    return value


def _jobs(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of cells (1 or more)")
    return int(text)
