"""Section 4 of the seed report, API contracts: HTTP and Python APIs against committed snapshots.

Refresh the snapshots after an intended change with
`READINESS_UPDATE_SNAPSHOTS=1 pytest checks -k api_contracts` (the checks then skip, since
nothing was compared) and commit `checks/snapshots/`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict

import pytest
import readiness_demo
from readiness_demo import openapi_document
from starlette.applications import Starlette

from .contracts import (
    SNAPSHOTS,
    diff_openapi,
    python_api_breaks,
    python_api_snapshot,
    read_snapshot,
    updating_snapshots,
    write_snapshot,
)

# Every check here shares these; each test's own marker adds its id and title.
pytestmark = pytest.mark.check(category="api_contracts")


OPENAPI_SNAPSHOT = SNAPSHOTS / "openapi.json"
PYTHON_API_SNAPSHOT = SNAPSHOTS / "python_api.json"


def _refresh(path: Path, document: Any) -> None:
    write_snapshot(path, document)
    pytest.skip(f"snapshot refreshed at {path}; nothing was compared")


@pytest.mark.check(
    id="api_contracts.openapi",
    title="OpenAPI document has no breaking change against the snapshot",
    severity="critical",
)
def test_openapi(app: Starlette, evidence: Any) -> None:
    current = openapi_document(app)
    if updating_snapshots():
        _refresh(OPENAPI_SNAPSHOT, current)
    diff = diff_openapi(read_snapshot(OPENAPI_SNAPSHOT), current)
    evidence["breaking"] = diff.breaking
    evidence["additions"] = diff.additions
    evidence["operations"] = sum(len(item) for item in current["paths"].values())
    assert not diff.breaking, "breaking API changes: " + "; ".join(diff.breaking)


@pytest.mark.check(
    id="api_contracts.python_api",
    title="Public Python API has no breaking change against the snapshot (griffe)",
    severity="major",
)
def test_python_api(evidence: Any) -> None:
    package_root = Path(readiness_demo.__file__).resolve().parent.parent
    current = python_api_snapshot("readiness_demo", package_root)
    if updating_snapshots():
        _refresh(PYTHON_API_SNAPSHOT, current)
    breaks = python_api_breaks(read_snapshot(PYTHON_API_SNAPSHOT), current)
    evidence["breaking"] = breaks
    evidence["exports"] = sorted(readiness_demo.__all__)
    assert not breaks, "breaking Python API changes: " + "; ".join(breaks)


SNAPSHOT_FIXTURE: Dict[str, Any] = {
    "openapi": "3.0.3",
    "paths": {
        "/items/{item_id}": {
            "get": {
                "parameters": [
                    {
                        "name": "item_id",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "integer"},
                    },
                    {
                        "name": "verbose",
                        "in": "query",
                        "required": False,
                        "schema": {"type": "boolean"},
                    },
                ],
                "responses": {
                    "200": {
                        "description": "ok",
                        "content": {"application/json": {"schema": {"type": "object"}}},
                    }
                },
            }
        },
        "/health": {"get": {"responses": {"200": {"description": "up"}}}},
    },
}


@pytest.mark.check(
    id="api_contracts.openapi_differ",
    title="The OpenAPI differ flags each kind of breaking change",
    severity="minor",
)
def test_openapi_differ_flags_breaking_changes() -> None:
    import copy

    changed = copy.deepcopy(SNAPSHOT_FIXTURE)
    del changed["paths"]["/health"]
    operation = changed["paths"]["/items/{item_id}"]["get"]
    operation["parameters"][1]["required"] = True
    operation["parameters"].append({"name": "tenant", "in": "header", "required": True})
    operation["responses"]["200"]["content"]["application/json"]["schema"] = {"type": "array"}
    operation["responses"]["404"] = {"description": "missing"}
    diff = diff_openapi(SNAPSHOT_FIXTURE, changed)
    assert diff.breaking == [
        "GET /health: operation removed",
        "GET /items/{item_id}: header parameter 'tenant' added as required",
        "GET /items/{item_id}: query parameter 'verbose' became required",
        "GET /items/{item_id}: response 200 schema changed",
    ]
    assert diff.additions == ["GET /items/{item_id}: response 404 added"]
    removed = copy.deepcopy(SNAPSHOT_FIXTURE)
    removed["paths"]["/items/{item_id}"]["get"]["parameters"].pop()
    assert diff_openapi(SNAPSHOT_FIXTURE, removed).breaking == [
        "GET /items/{item_id}: query parameter 'verbose' removed"
    ]
    assert diff_openapi(SNAPSHOT_FIXTURE, SNAPSHOT_FIXTURE).breaking == []
