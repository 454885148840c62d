"""Builders of env documents for the merge, verdict and report tests (no pytest run needed)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional

from readiness.model import document
from readiness.model.document import CellState, CheckRecord, EnvDocument, Measurement, Outcome, Severity

RUN = "run-1"


def fingerprint(cell: str) -> Dict[str, Any]:
    parts = cell.split("-")
    version = parts[-1].lstrip("cpython").rstrip("t")
    return {
        "os": parts[0], "os_release": f"{parts[0]}-release", "arch": parts[1],
        "implementation": "cpython", "python_version": f"{version}.1", "free_threaded": False,
        "executable": f"/opt/{cell}/python", "runner": "nox",
        "lane": "wine" if "wine" in parts else "native", "ci": None,
        "machine": {"cpu": "Test CPU", "cores": 2, "platform": f"{parts[0]}-{parts[1]}"},
    }


def check(check_id: str, outcome: str = "passed", *, severity: str = "major", category: str = "general",
          message: Optional[str] = None, evidence: Optional[Dict[str, Any]] = None,
          measurements: Optional[Dict[str, List[float]]] = None, title: str = "") -> CheckRecord:
    return CheckRecord(
        id=check_id, outcome=Outcome(outcome), nodeid=f"checks/test_x.py::{check_id}",
        title=title or check_id, category=category, severity=Severity(severity), message=message,
        evidence=dict(evidence or {}),
        measurements={k: Measurement("s", list(v)) for k, v in (measurements or {}).items()},
    )


def env(cell: str, checks: Iterable[CheckRecord], *, run_id: str = RUN, state: str = "complete",
        reason: Optional[str] = None, installed: Optional[Dict[str, str]] = None,
        collected: Optional[List[str]] = None) -> EnvDocument:
    records = list(checks)
    return EnvDocument(
        run_id=run_id, cell_id=cell, fingerprint=fingerprint(cell), state=CellState(state),
        started_at="2026-11-30T10:00:00Z", finished_at="2026-11-30T10:00:05Z", duration_s=5.0,
        reason=reason, installed=dict(installed or {"pytest": "9.0.3"}),
        collected=sorted(c.id for c in records) if collected is None else collected,
        checks=records, tool_version="0.1.0",
    )


def write(folder: Path, *docs: EnvDocument) -> List[Path]:
    """Write documents as `<folder>/<cell>.json`; return their paths."""
    paths = []
    for doc in docs:
        path = folder / f"{doc.cell_id}.json"
        document.dump(doc, path)
        paths.append(path)
    return paths


def write_plan(path: Path, cells: Iterable[str], run_id: str = RUN) -> Path:
    import json

    data = {"kind": "readiness/plan", "schema": 1, "run_id": run_id, "cells": [{"id": c} for c in cells]}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data), encoding="utf-8")
    return path
