"""Terminal report: the target, a compact checks x cells matrix (problems first), the findings
folded by cause, the verdict last.

Colour is plain ANSI, on only when asked (the CLI asks when stdout is a TTY and NO_COLOR is
unset).
"""

from __future__ import annotations

from operator import attrgetter
from typing import List, Sequence

from readiness.judge.merge import Matrix
from readiness.judge.verdict import Cause, Effect, State, Verdict
from readiness.model.document import Outcome
from readiness.model.output import printable
from readiness.render.common import (
    LEGEND,
    SYMBOLS,
    Context,
    Output,
    causes_by_effect,
    coverage_lines,
    one_line,
    plain_lines,
    problem_rows,
    scope_lines,
)

_RED, _GREEN, _YELLOW, _DIM, _BOLD, _RESET = "\x1b[31m", "\x1b[32m", "\x1b[33m", "\x1b[2m", "\x1b[1m", "\x1b[0m"
_OUTCOME_COLOUR = {
    Outcome.ERROR: _RED, Outcome.FAILED: _RED, Outcome.FLAKY: _YELLOW, Outcome.XPASSED: _YELLOW,
    Outcome.NOT_RUN: _YELLOW, Outcome.SKIPPED: _YELLOW, Outcome.DESELECTED: _YELLOW, Outcome.XFAILED: _DIM,
    Outcome.PASSED: _GREEN, Outcome.NOT_APPLICABLE: _DIM,
}
_STATE_COLOUR = {State.GO: _GREEN, State.GO_WITH_WAIVERS: _YELLOW, State.NO_GO: _RED, State.INCOMPLETE: _YELLOW}
_SECTIONS = (
    (Effect.NO_GO, "Blocking (NO-GO)"),
    (Effect.INCOMPLETE, "Missing evidence (INCOMPLETE)"),
    (Effect.INCONCLUSIVE, "INCONCLUSIVE (cannot be judged)"),
    (Effect.WAIVED, "Waived"),
    (Effect.WARNING, "Warnings"),
    (Effect.INFO, "Notes"),
)
MAX_ROWS = 60


def render(matrix: Matrix, verdict: Verdict, context: Context) -> List[Output]:
    lines = [_paint(f"readiness report: {printable(verdict.target.title())}", _BOLD, context.color),
             f"run {printable(matrix.run_id or 'none')}", ""]
    lines += matrix_lines(matrix, context.color) + [""] + verdict_lines(verdict, context.color, coverage_lines(matrix))
    lines.append("")  # the last line's end: joined with the rest, not added to a copy of them
    return [Output("report.txt", "\n".join(lines))]


def _paint(text: str, colour: str, on: bool) -> str:
    return f"{colour}{text}{_RESET}" if on and colour else text


def matrix_lines(matrix: Matrix, color: bool) -> List[str]:
    """Cells numbered in a legend; one row per check with a problem; a count of the rest."""
    cells = matrix.cells
    lines = ["cells:"] + [f"  {index + 1:>2} {printable(cell)}" for index, cell in enumerate(cells)]
    rows = problem_rows(matrix)
    ids = [printable(row.id) for row in rows[:MAX_ROWS]]
    width = min(60, max([len("check")] + [len(check) for check in ids]))
    lines += ["", "check".ljust(width) + " " + _header(len(cells))]
    for row, check in zip(rows[:MAX_ROWS], ids):
        marks = " ".join(" " + _mark(row.outcome(cell), color) for cell in cells)
        lines.append(_fit(check, width) + " " + marks)
    if len(rows) > MAX_ROWS:
        lines.append(f"... {len(rows) - MAX_ROWS} more check(s) with problems not shown: every row is in "
                     "report.md and report.html (readiness report INPUTS -o DIR)")
    clean = len(matrix.rows) - len(rows)
    lines += [f"{clean} other check(s) passed (or were not applicable) in every cell", LEGEND]
    return lines


def _header(count: int) -> str:
    return " ".join(f"{index + 1:>2}" for index in range(count))


def _mark(outcome: object, color: bool) -> str:
    symbol = SYMBOLS.get(outcome, "?")  # type: ignore[call-overload]
    return _paint(symbol, _OUTCOME_COLOUR.get(outcome, ""), color)  # type: ignore[call-overload]


def _fit(text: str, width: int) -> str:
    return text.ljust(width) if len(text) <= width else text[: width - 3] + "..."


def verdict_lines(verdict: Verdict, color: bool, coverage: Sequence[str] = ()) -> List[str]:
    """Findings by effect, folded by cause; waivers, scope (and the target's coverage), then the
    state on the last line."""
    lines: List[str] = []
    groups = causes_by_effect(verdict)
    for effect, title in _SECTIONS:
        causes = groups.get(effect)
        if causes:
            lines += [_paint(f"{title}:", _BOLD, color)]
            lines += _causes_lines(causes) + [""]
    lines += [printable(line) for line in waiver_lines(verdict)]
    lines += ["Scope:"] + [f"  {printable(line)}" for line in scope_lines(verdict)]
    lines += [f"  {printable(coverage[0])}"] + [f"    {printable(line)}" for line in coverage[1:]] if coverage else []
    lines += [""]
    state = verdict.state
    lines.append(_paint(f"VERDICT: {state.value}", _BOLD + _STATE_COLOUR[state], color)
                 + f"  ({printable(verdict.policy_label)}; exit code {verdict.process_exit_code}"
                 + (", interrupted" if verdict.interrupted else "") + ")")
    return lines


def _causes_lines(causes: List[Cause]) -> List[str]:
    """`_cause_lines` of each cause: where none says why and each text is one plain line (as the notes of
    many measurements are), each line is the text itself."""
    texts = list(map(_TEXT, causes))
    if any(map(_WHY, causes)) or not plain_lines(texts, 400):
        return [line for cause in causes for line in _cause_lines(cause)]
    return list(map("  - ".__add__, texts))


_TEXT, _WHY = attrgetter("text"), attrgetter("why")


def _cause_lines(cause: Cause) -> List[str]:
    head = f"  - {printable(one_line(cause.text, 400))}"
    return [head] + ([f"    {printable(one_line(cause.why, 400))}"] if cause.why else [])


def waiver_lines(verdict: Verdict) -> List[str]:
    if not verdict.waivers:
        return []
    lines = ["Waivers:"]
    for status in verdict.waivers:
        w = status.waiver
        where = f" in {', '.join(w.cells)}" if w.cells else ""
        left = "expired" if status.days_left < 0 else f"{status.days_left} day(s) left"
        soon = " - EXPIRES SOON" if 0 <= status.days_left <= 14 else ""
        lines.append(f"  - {w.check}{where}: {status.status}, expires {w.expires.isoformat()} ({left}){soon}; "
                     f"owner {w.owner}; reason: {one_line(w.reason)}")
    return lines + [""]


def verdict_text(verdict: Verdict, color: bool = False) -> str:
    """What `readiness verdict` prints."""
    return "\n".join(verdict_lines(verdict, color)) + "\n"


