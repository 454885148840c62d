"""What every renderer shares: the protocol, the render context, and small text helpers."""

from __future__ import annotations

import datetime as dt
import os
import time
from dataclasses import dataclass
from operator import attrgetter
from typing import Dict, FrozenSet, List, Optional, Protocol, Sequence, Tuple

from readiness.judge.merge import Matrix, Row
from readiness.judge.verdict import Cause, Effect, Verdict
from readiness.model.document import Outcome


@dataclass(frozen=True)
class Context:
    """How to render: the generated-at time (UTC, ISO 8601) and whether to colour."""

    generated_at: str
    color: bool = False


@dataclass(frozen=True)
class Output:
    """One rendered file: its path relative to the output folder, and its text."""

    path: str
    text: str


class Renderer(Protocol):
    def __call__(self, matrix: Matrix, verdict: Verdict, context: Context) -> List[Output]: ...


def generated_at_from_environment() -> str:
    """Now in UTC, or SOURCE_DATE_EPOCH when set, so that reports are reproducible."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    seconds = int(epoch) if epoch.isdigit() else int(time.time())
    return dt.datetime.fromtimestamp(seconds, tz=dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


# One character per outcome, as pytest prints them, for compact matrices.
SYMBOLS: Dict[Optional[Outcome], str] = {
    Outcome.ERROR: "E", Outcome.FAILED: "F", Outcome.FLAKY: "R", Outcome.XPASSED: "X", Outcome.NOT_RUN: "n",
    Outcome.SKIPPED: "s", Outcome.DESELECTED: "d", Outcome.XFAILED: "x", Outcome.PASSED: ".",
    Outcome.NOT_APPLICABLE: "-", None: "?",
}
LEGEND = ". passed  F failed  E error  R flaky  X xpassed  n not run  s skipped  d deselected  " \
         "x xfailed  - not applicable  ? no result"
PROBLEM_OUTCOMES = frozenset({Outcome.ERROR, Outcome.FAILED, Outcome.FLAKY, Outcome.XPASSED, Outcome.NOT_RUN,
                              Outcome.SKIPPED, Outcome.DESELECTED, Outcome.XFAILED})


def problem_rows(matrix: Matrix) -> List[Row]:
    """Rows that are not plainly passing everywhere, worst first, then by id."""
    cells = frozenset(matrix.cells)
    rows = [row for row in matrix.rows.values() if _has_problem(row, cells)]
    return sorted(rows, key=_worst_first)


def _worst_first(row: Row) -> Tuple[int, str]:
    worst = row.worst
    return (worst.rank if worst else -1, row.id)


def rows_in_order(matrix: Matrix) -> List[Row]:
    """Every row, those with a problem first (worst first), then the rest by id."""
    problems = problem_rows(matrix)
    shown = {row.id for row in problems}
    return problems + [row for row in matrix.rows.values() if row.id not in shown]


def _has_problem(row: Row, cells: FrozenSet[str]) -> bool:
    """A cell without a result, or a result that is a problem."""
    results = row.results
    if not results.keys() >= cells:
        return True
    if len(results) == len(cells):  # a result in every cell and nowhere else, as a merge builds rows
        return any(map(PROBLEM_OUTCOMES.__contains__, map(_OUTCOME, results.values())))
    return any(results[cell].outcome in PROBLEM_OUTCOMES for cell in cells)


_OUTCOME = attrgetter("outcome")


def causes_by_effect(verdict: Verdict) -> Dict[Effect, List[Cause]]:
    """The causes of each effect, in order: `verdict.causes_by(effect)` for every effect at once
    (a report goes through its sections, and a verdict can hold a cause per measurement)."""
    groups: Dict[Effect, List[Cause]] = {}
    for cause in verdict.causes:
        groups.setdefault(cause.effect, []).append(cause)
    return groups


def divergent_checks(verdict: Verdict) -> List[str]:
    return sorted({c for f in verdict.findings if f.kind == "divergence" for c in f.checks})


def one_line(text: Optional[str], limit: int = 300) -> str:
    """The first line of a message, shortened."""
    stripped = (text or "").strip()
    line = stripped.splitlines()[0] if stripped else ""
    return line if len(line) <= limit else line[: limit - 3] + "..."


def plain_lines(texts: Sequence[str], limit: int) -> bool:
    """Whether each text is printable, with no space at either end and at most `limit` characters: then
    `printable(one_line(text, limit))` is the text itself. Looked at joined, in a few passes in C (a
    report can show a line per measurement)."""
    joined = _APART.join(texts)
    return (joined.isprintable() and max(map(len, texts), default=0) <= limit and joined[:1] != " "
            and joined[-1:] != " " and f" {_APART}" not in joined and f"{_APART} " not in joined)


# Printable (so that a text holding it is still seen as printable), and no space: a text that begins or
# ends with a space puts one beside it.
_APART = "\xa4"


def scope_lines(verdict: Verdict) -> List[str]:
    """The scope of the verdict and its evidence coverage, as plain sentences."""
    s = verdict.scope
    if s.cells_planned is not None:
        run = f"cells run / planned: {len(s.cells_run)} / {len(s.cells_planned)}"
    else:
        run = f"cells run / required: {len(s.cells_run)} / {len(s.cells_required)} (no plan.json)"
    lines = [
        f"platforms: {', '.join(s.platforms) or 'none'}; Pythons: {', '.join(s.pythons) or 'none'}",
        run + (f" (missing: {', '.join(s.cells_missing)})" if s.cells_missing else ""),
        f"cells required: {len(s.cells_required)} ({s.required_basis})",
        f"checks run / collected: {s.checks_run} / {s.checks_collected}; "
        f"results run / collected (check x cell): {s.results_run} / {s.results_collected}",
        f"policy: {verdict.policy_label}",
    ]
    if verdict.mixed:
        lines.append("mixed run: documents from more than one run id were merged")
    return lines


def coverage_lines(matrix: Matrix) -> List[str]:
    """Coverage of the target per cell and combined; nothing when no cell measured it."""
    measured = {cell: doc.coverage for cell, doc in matrix.documents.items() if doc.coverage}
    if not measured and matrix.coverage is None:
        return []
    sources = sorted({s for c in [*measured.values(), matrix.coverage or {}] for s in c.get("source") or []})
    lines = [f"coverage of {', '.join(sources) or 'the target'}:"]
    for cell in matrix.cells:
        lines.append(f"{cell}: {_coverage_figure(measured[cell]) if cell in measured else 'not measured'}")
    combined = matrix.coverage
    if combined is None:
        lines.append("combined: not computed (validate combines the cells' data files)")
    elif combined.get("percent") is None:
        lines.append(f"combined: not computed ({combined.get('note') or 'no data'})")
    else:
        lines.append(f"combined: {_coverage_figure(combined)} over {len(combined.get('inputs') or [])} data file(s)")
    return lines


def _coverage_figure(coverage: Dict[str, object]) -> str:
    return (f"{float(coverage['percent']):.1f}% ({coverage.get('covered_lines')} of "  # type: ignore[arg-type]
            f"{coverage.get('num_statements')} lines)")
