"""CTRF JSON: one report per cell, all sharing the run id as `runId`."""

from __future__ import annotations

import datetime as dt
import uuid
from collections import Counter
from typing import Any, Dict, List, Optional, Tuple

from readiness import __version__
from readiness.judge.budgets import paired_outcomes
from readiness.judge.merge import Matrix
from readiness.judge.verdict import Verdict
from readiness.model import envtext, ids, jsontext
from readiness.model.document import OUTCOME_VALUES, SEVERITY_VALUES, CheckRecord, EnvDocument, Outcome
from readiness.model.jsontext import number, string, text
from readiness.render.common import Context, Output

SPEC_VERSION = "1.0.0"
_STATUS = {
    Outcome.PASSED: "passed", Outcome.FLAKY: "passed", Outcome.FAILED: "failed", Outcome.ERROR: "failed",
    Outcome.SKIPPED: "skipped", Outcome.DESELECTED: "skipped", Outcome.NOT_APPLICABLE: "skipped",
    Outcome.XFAILED: "other", Outcome.XPASSED: "other",
    Outcome.NOT_RUN: "pending",  # CTRF: "has not yet executed"; `skipped` is "intentionally not executed"
}
_NAMESPACE = uuid.UUID("6f1b3c2e-58a4-4d4e-9d35-2a41f6f0c001")


def render(matrix: Matrix, verdict: Verdict, context: Context) -> List[Output]:
    run_id = matrix.run_id or "unknown"
    envtext.fill(matrix.memo, matrix.documents, matrix.raw)
    paired = paired_outcomes(verdict.measurements)  # once for every cell: each key names its cell
    return [Output(ids.cell_file("ctrf", doc.cell_id, ".json").as_posix(),
                   _report(doc, run_id, verdict, context, matrix.memo, paired))
            for doc in matrix.documents.values()]


def _report(doc: EnvDocument, run_id: str, verdict: Verdict, context: Context, memo: jsontext.Memo,
            paired: Dict[Tuple[str, str], List[str]]) -> str:
    """One cell's report as JSON text, written part by part (model/jsontext.py); each check's
    evidence and samples as the matrix file wrote them."""
    cell, cell_id = string(doc.cell_id), doc.cell_id
    tests = [_test(record, cell, paired.get((record.id, cell_id)) if paired else None, memo)
             for record in doc.checks]
    environment = _environment(doc)
    if "appName" not in environment and verdict.target.name:  # named by the policy, not the cell
        environment["appName"] = verdict.target.name
        if verdict.target.version:
            environment["appVersion"] = verdict.target.version
    results = jsontext.object_parts(
        {"tool": {"name": "readiness", "version": __version__}, "summary": _summary(doc)},
        ("tests", jsontext.array_parts(tests)), ("environment", [jsontext.dumps(environment)]),
        ("extra", [jsontext.dumps({"cell": doc.cell_id, "state": doc.state.value, "reason": doc.reason,
                                   "verdict": verdict.state.value})]))
    return "".join(jsontext.object_parts({
        "reportFormat": "CTRF", "specVersion": SPEC_VERSION,
        "reportId": str(uuid.uuid5(_NAMESPACE, f"{run_id}/{doc.cell_id}/{doc.finished_at}")),
        "runId": run_id, "timestamp": context.generated_at, "generatedBy": f"readiness {__version__}",
    }, ("results", results)) + ["\n"])


def _summary(doc: EnvDocument) -> Dict[str, Any]:
    found = Counter(_STATUS[record.outcome] for record in doc.checks)
    counts = {status: found[status] for status in ("passed", "failed", "skipped", "pending", "other")}
    return {"tests": len(doc.checks), **counts, "start": _millis(doc.started_at), "stop": _millis(doc.finished_at)}


def _millis(timestamp: str) -> int:
    parsed = dt.datetime.fromisoformat(timestamp.replace("Z", "+00:00"))
    return int(parsed.timestamp() * 1000)


def _test(record: CheckRecord, cell: str, paired: Optional[List[str]], memo: jsontext.Memo) -> str:
    """One check's test, `cell` its cell as JSON text; with the outcome text of a relative budget
    judged from the cell's own pairs."""
    outcome, attempts, message, longrepr = record.outcome, record.attempts, record.message, record.longrepr
    tail = memo.texts.get(id(record)) or _tail(record, memo)  # evidence and measurements (model/readtext.py)
    try:  # texts that are strings, a whole number of attempts, as they are typed
        written = (f'{{"name":{string(record.id)},"status":{_STATUS_TEXT[outcome]},'
                   f'"duration":{int.__repr__(round(record.duration_s * 1000))},"rawStatus":{_OUTCOME_TEXT[outcome]},'
                   f'"suite":{string(record.category)},"retries":{int.__repr__(attempts - 1 if attempts > 1 else 0)},'
                   f'"flaky":{"true" if outcome == Outcome.FLAKY else "false"},'
                   f'"extra":{{"title":{string(record.title)},"severity":{_SEVERITY_TEXT[record.severity]},'
                   f'"cell":{cell},{tail}{"" if paired is None else "," + _PAIRED + jsontext.strings(paired)}}}')
    except TypeError:
        return _any_test(record, cell, paired, tail)
    if message:
        written += ',"message":' + text(message)
    if longrepr:
        written += ',"trace":' + text(longrepr)
    return written + "}"


_PAIRED = string("paired") + ":"


def _any_test(record: CheckRecord, cell: str, paired: Optional[List[str]], tail: str) -> str:
    """`_test` of a record whose fields are of other types than it is typed with, as json writes them."""
    outcome, attempts = record.outcome, record.attempts
    extra = (f'{{"title":{text(record.title)},"severity":{_SEVERITY_TEXT[record.severity]},"cell":{cell},{tail}')
    if paired is not None:
        extra += ',"paired":' + jsontext.strings(paired)
    retries = max(0, attempts - 1)
    written = (f'{{"name":{text(record.id)},"status":{_STATUS_TEXT[outcome]},'
               f'"duration":{number(round(record.duration_s * 1000))},"rawStatus":{_OUTCOME_TEXT[outcome]},'
               f'"suite":{text(record.category)},'
               f'"retries":{int.__repr__(retries) if type(retries) is int else number(retries)},'
               f'"flaky":{"true" if outcome == Outcome.FLAKY else "false"},"extra":{extra}}}')
    if record.message:
        written += ',"message":' + text(record.message)
    if record.longrepr:
        written += ',"trace":' + text(record.longrepr)
    return written + "}"


def _tail(record: CheckRecord, memo: jsontext.Memo) -> str:
    """A check's evidence and measurements, where the memo holds no text of them (model/readtext.py)."""
    evidence, measurements = record.evidence, record.measurements
    return (f'"evidence":{memo.texts.get(id(evidence)) or memo.value(evidence)},'
            f'"measurements":{memo.texts.get(id(measurements)) or envtext.measurements(measurements, memo)}')


_STATUS_TEXT = {outcome: string(status) for outcome, status in _STATUS.items()}
_OUTCOME_TEXT = {outcome: string(value) for outcome, value in OUTCOME_VALUES.items()}
_SEVERITY_TEXT = {severity: string(value) for severity, value in SEVERITY_VALUES.items()}


def _environment(doc: EnvDocument) -> Dict[str, Any]:
    fp = doc.fingerprint
    env: Dict[str, Any] = {"osPlatform": fp.get("os"), "osRelease": fp.get("os_release"),
                           "extra": {"cell": doc.cell_id, "fingerprint": fp}}
    if doc.target.name:
        env["appName"] = doc.target.name
    if doc.target.version:
        env["appVersion"] = doc.target.version
    return env
