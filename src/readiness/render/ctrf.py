"""CTRF JSON: one report per cell, all sharing the run id as `runId`."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections import Counter
from typing import Any, Dict, List

from readiness import __version__
from readiness.judge.budgets import paired_outcomes
from readiness.judge.merge import Matrix
from readiness.judge.verdict import Verdict
from readiness.model import ids
from readiness.model.document import OUTCOME_VALUES, SEVERITY_VALUES, CheckRecord, EnvDocument, Outcome
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
    return [Output(ids.cell_file("ctrf", doc.cell_id, ".json").as_posix(),
                   _dumps(_report(doc, run_id, verdict, context)))
            for doc in matrix.documents.values()]


def _dumps(data: Dict[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False, allow_nan=False, separators=(",", ":")) + "\n"


def _report(doc: EnvDocument, run_id: str, verdict: Verdict, context: Context) -> Dict[str, Any]:
    tests = [_test(record, doc.cell_id) for record in doc.checks]
    paired = paired_outcomes(m for m in verdict.measurements if m.cell == doc.cell_id)
    for test in tests:  # a relative budget judged from the cell's own pairs: its outcome text
        if (test["name"], doc.cell_id) in paired:
            test["extra"]["paired"] = paired[(test["name"], doc.cell_id)]
    environment = _environment(doc)
    if "appName" not in environment and verdict.target.name:  # named by the policy, not the cell
        environment["appName"] = verdict.target.name
        if verdict.target.version:
            environment["appVersion"] = verdict.target.version
    return {
        "reportFormat": "CTRF", "specVersion": SPEC_VERSION,
        "reportId": str(uuid.uuid5(_NAMESPACE, f"{run_id}/{doc.cell_id}/{doc.finished_at}")),
        "runId": run_id, "timestamp": context.generated_at, "generatedBy": f"readiness {__version__}",
        "results": {
            "tool": {"name": "readiness", "version": __version__},
            "summary": _summary(tests, doc),
            "tests": tests,
            "environment": environment,
            "extra": {"cell": doc.cell_id, "state": doc.state.value, "reason": doc.reason,
                      "verdict": verdict.state.value},
        },
    }


def _summary(tests: List[Dict[str, Any]], doc: EnvDocument) -> Dict[str, Any]:
    found = Counter(t["status"] for t in tests)
    counts = {status: found[status] for status in ("passed", "failed", "skipped", "pending", "other")}
    return {"tests": len(tests), **counts, "start": _millis(doc.started_at), "stop": _millis(doc.finished_at)}


def _millis(timestamp: str) -> int:
    parsed = dt.datetime.fromisoformat(timestamp.replace("Z", "+00:00"))
    return int(parsed.timestamp() * 1000)


def _test(record: CheckRecord, cell: str) -> Dict[str, Any]:
    outcome, measurements = record.outcome, record.measurements
    items = sorted(measurements.items()) if len(measurements) > 1 else measurements.items()
    test: Dict[str, Any] = {
        "name": record.id, "status": _STATUS[outcome], "duration": round(record.duration_s * 1000),
        "rawStatus": OUTCOME_VALUES[outcome], "suite": record.category, "retries": max(0, record.attempts - 1),
        "flaky": outcome == Outcome.FLAKY,
        "extra": {"title": record.title, "severity": SEVERITY_VALUES[record.severity], "cell": cell,
                  "evidence": record.evidence, "measurements": {k: m.to_dict() for k, m in items}},
    }
    if record.message:
        test["message"] = record.message
    if record.longrepr:
        test["trace"] = record.longrepr
    return test


def _environment(doc: EnvDocument) -> Dict[str, Any]:
    fp = doc.fingerprint
    env: Dict[str, Any] = {"osPlatform": fp.get("os"), "osRelease": fp.get("os_release"),
                           "extra": {"cell": doc.cell_id, "fingerprint": fp}}
    if doc.target.name:
        env["appName"] = doc.target.name
    if doc.target.version:
        env["appVersion"] = doc.target.version
    return env
