"""Markdown report: the report the seed's author should have written, computed from evidence.

Sections: executive summary, one per check category that has checks (system health, critical
fixes, integration, API contracts, then the other checks), performance, regression, risks,
verdict. Every claim names its cells and comes from the documents; findings of many checks that
fail alike are one line (judge/causes.py); a section with no evidence says so instead of
claiming anything.
"""

from __future__ import annotations

import functools
import json
import re
from operator import attrgetter
from typing import Any, Dict, List, Sequence, Tuple, Union

from readiness import __version__
from readiness.judge.budgets import MeasurementResult, emulated
from readiness.judge.merge import Matrix, Row
from readiness.judge.verdict import Cause, Effect, Finding, Verdict
from readiness.model.document import Outcome
from readiness.model.jsontext import string
from readiness.model.output import printable
from readiness.render.common import Context, Output, coverage_lines, one_line, rows_in_order, scope_lines

# Check categories shown in their own section; any other category goes to "Other checks".
CATEGORY_SECTIONS: Tuple[Tuple[str, Tuple[str, ...]], ...] = (
    ("System health", ("health",)),
    ("Critical fixes", ("fix", "fixes", "critical-fix", "critical-fixes")),
    ("Integration", ("integration",)),
    ("API contracts", ("api", "contract", "contracts", "api-contracts")),
)
# HTML made inert, Markdown's own syntax escaped, and control characters (terminal escapes, bidi
# overrides) shown as escapes such as `\x1b`: each character on its own, as one str.translate
# would, but by a few str.replace (translate takes a Python lookup per character once a
# replacement is longer than one character). The backslash goes first and the controls last,
# so no replacement is taken up again by a later one.
_REPLACEMENTS = (("\\", "\\\\"), *((char, "\\" + char) for char in "`*_[]|#~"),
                 ("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"))
_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\ud800-\udfff]")


def md(text: Any) -> str:
    """Inline-safe Markdown text: HTML and Markdown syntax escaped, one line."""
    return _md_str(text) if type(text) is str else _md_str(str(text))


@functools.lru_cache(maxsize=65536)  # cells, units and check ids come back once per measurement
def _md_str(text: str) -> str:
    text = " ".join(text.split())
    for char, escaped in _REPLACEMENTS:
        if char in text:
            text = text.replace(char, escaped)
    return text if text.isprintable() or not _CONTROLS.search(text) else _CONTROLS.sub(_control, text)


def _control(match: "re.Match[str]") -> str:
    return printable(match.group())


def md_all(texts: Sequence[str]) -> List[str]:
    """`md` of each text, its steps taken once over all of them joined by a character that no step
    changes: a report has a line per measurement, and `md` is a few Python calls per text."""
    joined = _APART.join(texts)
    if joined.count(_APART) != len(texts) - 1:  # a text holds it: each on its own
        return [md(text) for text in texts]
    # A printable text has no control and no whitespace but the space (str.isprintable, in C: a
    # regular expression's character class takes far longer over megabytes).
    plain = joined.isprintable()
    if not plain or "  " in joined or f" {_APART}" in joined or f"{_APART} " in joined or joined[:1] == " " \
            or joined[-1:] == " ":  # whitespace as `md` leaves it: runs made one space, none at either end
        joined = " ".join(joined.split()).replace(" " + _APART, _APART).replace(_APART + " ", _APART)
    for char, escaped in _REPLACEMENTS:
        if char in joined:
            joined = joined.replace(char, escaped)
    if not plain and _CONTROLS.search(joined):
        joined = _CONTROLS.sub(_control, joined)
    return joined.split(_APART)


_OUTCOME = attrgetter("outcome")
_APART = "\xa4"  # ¤: printable, neither whitespace nor a control, and nothing Markdown or HTML escapes


def render(matrix: Matrix, verdict: Verdict, context: Context) -> List[Output]:
    parts = [_title(matrix, verdict, context), _summary(verdict), *_check_sections(matrix, verdict)]
    parts += [*_performance_lines(verdict), _regression(verdict), _risks(matrix, verdict),
              _verdict(verdict, coverage_lines(matrix))]
    return [Output("report.md", "\n".join(parts))]  # the performance section's lines joined once, with the rest


def _title(matrix: Matrix, verdict: Verdict, context: Context) -> str:
    return (f"# Readiness report: {md(verdict.target.title())}\n\n"
            f"Run `{md(matrix.run_id or 'none')}`; generated {context.generated_at} by readiness "
            f"{__version__}; policy: {md(verdict.policy_label)}.\n")


def _check_sections(matrix: Matrix, verdict: Verdict) -> List[str]:
    """A section per known category that has checks, then the others; rows with a problem first."""
    rows = rows_in_order(matrix)
    known = {c for _, categories in CATEGORY_SECTIONS for c in categories}
    parts = [_check_section(title, [r for r in rows if r.category in categories], matrix, verdict)
             for title, categories in CATEGORY_SECTIONS if any(r.category in categories for r in rows)]
    others = [r for r in rows if r.category not in known]
    if others or not parts:
        title = "Other checks" if parts else "Checks"
        parts.append(_check_section(title, others, matrix, verdict, with_category=True))
    return parts


def _summary(verdict: Verdict) -> str:
    lines = ["## Executive summary", "", f"**Verdict: {verdict.state.value}** (exit code {verdict.exit_code}).", ""]
    reasons = verdict.causes_by(Effect.NO_GO, Effect.INCOMPLETE) or verdict.reason_causes
    if reasons:
        lines += ["Because:", ""] + _items(reasons) + [""]
    inconclusive = verdict.by_effect(Effect.INCONCLUSIVE)
    if inconclusive:
        lines += [f"{len(inconclusive)} claim(s) are INCONCLUSIVE (see Performance and Risks)."] + [""]
    lines += [f"- {md(line)}" for line in scope_lines(verdict)]
    return "\n".join(lines) + "\n"


def _check_section(title: str, rows: Sequence[Row], matrix: Matrix, verdict: Verdict,
                   with_category: bool = False) -> str:
    lines = [f"## {title}", ""]
    if not rows:
        return "\n".join(lines + ["No check ran: nothing is claimed here.", ""])
    head = "| Check | " + ("Category | " if with_category else "") + "Severity | Result | Evidence |"
    lines += [head, _rule(head)]
    for row in rows:
        category = f"{md(row.category)} | " if with_category else ""
        severity = verdict.severities.get(row.id, row.severity).value
        lines.append(f"| {md(row.id)} | {category}{md(severity)} | "
                     f"{_result(row, matrix.cells)} | {_evidence(row)} |")
    return "\n".join(lines) + "\n"


def _rule(head: str) -> str:
    return "|" + "---|" * (head.count("|") - 1)


def _result(row: Row, cells: Sequence[str]) -> str:
    """Outcomes with their cells, worst first: 'failed in a; passed in b, c'."""
    results = row.results
    outcomes = {*map(_OUTCOME, results.values())}
    if len(outcomes) == 1 and len(results) == len(cells) and results.keys() >= set(cells):  # one outcome everywhere
        return f"**{md(outcomes.pop().value)}** in {_cells(cells, len(cells))}"
    groups: Dict[Outcome, List[str]] = {}
    missing = []
    for cell in cells:
        record = results.get(cell)
        if record is None:
            missing.append(cell)
        else:
            groups.setdefault(record.outcome, []).append(cell)
    parts = [f"**{md(o.value)}** in {_cells(cs, len(cells))}"
             for o, cs in sorted(groups.items(), key=lambda i: i[0].rank)]
    if missing:
        parts.append(f"no result in {_cells(missing, len(cells))}")
    return "; ".join(parts)


def _cells(cells: Sequence[str], total: int) -> str:
    if len(cells) == total and total > 3:
        return f"all {total} cells"
    return ", ".join(md(c) for c in cells)


def _evidence(row: Row) -> str:
    """The message of the worst cell, then recorded facts (shortened)."""
    # The first record of the worst outcome (every record of a row has the row's id).
    worst_outcome = row.worst
    worst = next(r for r in row.results.values() if r.outcome is worst_outcome)
    parts = []
    if worst.message and worst.outcome != Outcome.PASSED:
        parts.append(md(one_line(worst.message, 200)))
    facts = [f"{k}={_fact(v)}" for k, v in sorted(worst.evidence.items())[:5]]
    if facts:
        parts.append(md(one_line("; ".join(facts), 200)))
    return "<br>".join(parts) or "-"


_FACT = json.JSONEncoder(ensure_ascii=False).encode  # json.dumps(v, ensure_ascii=False), made once


def _fact(value: Any) -> str:
    """`_FACT(value)`: a string's or an integer's text written directly (the encoder makes an encoder
    for each value that is not a string)."""
    kind = type(value)
    if kind is str:
        return string(value)
    return int.__repr__(value) if kind is int else _FACT(value)


def _performance(verdict: Verdict) -> str:
    return "\n".join(_performance_lines(verdict))


def _performance_lines(verdict: Verdict) -> List[str]:
    """The performance section's lines, the last one empty: a line per measurement."""
    lines = ["## Performance", ""]
    if not verdict.measurements:
        return lines + ["No measurement was recorded: no performance claim is made.", ""]
    lines += ["| Check | Measurement | Cell | Samples | Median | Budget | Status |", _rule("| | | | | | | |")]
    lines += _measurement_rows(verdict.measurements)
    claims = [f for f in verdict.findings if f.kind in ("budget", "inconclusive")]
    messages = md_all([f.message for f in claims])
    lines += [""] + [f"- {_EFFECT_TAGS[f.effect]} {message}" for f, message in zip(claims, messages)]
    return lines + [""]


def _measurement_rows(measurements: Sequence[MeasurementResult]) -> List[str]:
    """A row per measurement. Each row's parts that many rows share are written once: the check and
    measurement (the rows come by check, then measurement), the cell, and the unit, budget and status."""
    esc = _md_str  # every field a str: the cached escape itself, no wrapper
    rows: List[str] = []
    cells: Dict[str, str] = {}
    ends: Dict[Tuple[int, str, str], str] = {}  # by the limit's identity (a budget's limit is one float)
    last_check, last_name, head = _NONE, _NONE, ""
    for check, cell, name, unit, samples, median, status, limit, _, _, _, lane, _ in measurements:
        if check is not last_check or name is not last_name:
            last_check, last_name, head = check, name, f"| {esc(check)} | {esc(name)} | "
        where = cells.get(cell) if lane == "native" else None
        if where is None:
            where = esc(cell if lane == "native" else f"{cell} ({emulated(lane)})")
            if lane == "native":
                cells[cell] = where
        end = ends.get((id(limit), unit, status))
        if end is None:
            shown = esc(unit)
            budget = "-" if limit is None else f"<= {limit:g} {shown}"
            end = ends[id(limit), unit, status] = f" {shown} | {budget} | {status} |"
        rows.append(f"{head}{where} | {samples} | {median:g}{end}")
    return rows


_NONE = object()  # no check yet


def _regression(verdict: Verdict) -> str:
    lines = ["## Regression", ""]
    if verdict.baseline is None:
        lines.append("No baseline was given: no claim about new failures or about performance change "
                     "against an earlier build can be made.")
    else:
        lines.append(f"Compared against baseline run `{md(verdict.baseline)}`.")
        lines += [f"- {md(c.text)}" for c in verdict.causes if "baseline" in c.text]
    return "\n".join(lines) + "\n\n"


def _risks(matrix: Matrix, verdict: Verdict) -> str:
    lines = ["## Risks", ""]
    risky = verdict.causes_by(Effect.INCONCLUSIVE, Effect.WAIVED, Effect.WARNING)
    lines += _items(risky) or ["No warning, waiver or INCONCLUSIVE claim."]
    if verdict.waivers:
        lines += ["", "| Waiver | Cells | Owner | Expires | Days left | Status | Reason |", _rule("| | | | | | | |")]
        for s in verdict.waivers:
            w = s.waiver
            lines.append(f"| {md(w.check)} | {md(', '.join(w.cells) or 'all')} | {md(w.owner)} | "
                         f"{w.expires.isoformat()} | {s.days_left} | {s.status} | {md(w.reason)} |")
    return "\n".join(lines) + "\n"


def _effect_tag(finding: Union[Finding, Cause]) -> str:
    return _EFFECT_TAGS[finding.effect]


_EFFECT_TAGS = {effect: f"**{effect.value.upper()}**" for effect in Effect}


def _items(causes: Sequence[Cause]) -> List[str]:
    """A bullet per cause, its explanation (for a divergence) nested under it."""
    lines = []
    for cause in causes:
        lines.append(f"- {_effect_tag(cause)} {md(cause.text)}")
        if cause.why:
            lines.append(f"  - {md(cause.why)}")
    return lines


def _verdict(verdict: Verdict, coverage: Sequence[str] = ()) -> str:
    lines = ["## Verdict", "", f"**{verdict.state.value}** under {md(verdict.policy_label)}.", ""]
    lines += _items(verdict.causes_by(Effect.NO_GO, Effect.INCOMPLETE, Effect.WAIVED))
    lines += ["", "Evidence coverage:", ""] + [f"- {md(line)}" for line in scope_lines(verdict)]
    if coverage:
        lines += [f"- {md(coverage[0])}"] + [f"  - {md(line)}" for line in coverage[1:]]
    samples = sorted({m.samples for m in verdict.measurements})
    if samples:
        lines.append(f"- samples per measurement: {samples[0]} to {samples[-1]} "
                     f"({len(verdict.measurements)} measurement(s))")
    lines += ["", "No confidence figure is given: the verdict is the policy applied to the evidence above."]
    return "\n".join(lines) + "\n"
