"""The env document: round trip, atomic writing, and a strict loader that agrees with the schema."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any, Dict, List

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema

from readiness.model import document, schema
from readiness.model.document import CellState, CheckRecord, EnvDocument, Measurement, Outcome, Severity
from readiness.model.errors import (
    BrokenJSONError,
    DocumentError,
    ReadinessError,
    SchemaError,
    SchemaVersionError,
    UnknownKindError,
)

ENV_SCHEMA = schema.shipped("env", document.SCHEMA_VERSION)


def sample_document() -> EnvDocument:
    return EnvDocument(
        run_id="20261130T120000Z-abc123",
        cell_id="linux-x86_64-cpython3.12",
        fingerprint={
            "os": "linux", "os_release": "Linux-6.1", "arch": "x86_64",
            "implementation": "cpython", "python_version": "3.12.1", "free_threaded": False,
            "executable": "/usr/bin/python3.12", "runner": "nox", "lane": "native",
            "ci": None, "machine": {"cpu": "x", "cores": 2, "platform": "linux-x86_64"},
        },
        state=CellState.COMPLETE,
        started_at="2026-11-30T12:00:00.000Z",
        finished_at="2026-11-30T12:00:03.500Z",
        duration_s=3.5,
        installed={"pytest": "9.0.3"},
        collected=["health.app", "integration.database"],
        checks=[
            CheckRecord(
                id="health.app", outcome=Outcome.PASSED, severity=Severity.CRITICAL,
                evidence={"secret_key_length": 69},
                measurements={"startup_s": Measurement("s", [1.0, 1.1], load=0.5)},
            ),
            CheckRecord(
                id="integration.database", outcome=Outcome.FAILED, message="No module named 'x'",
            ),
        ],
    )


def write(tmp_path: Path, data: Any, name: str = "cell.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_round_trip_is_lossless(tmp_path: Path) -> None:
    original = sample_document()
    path = tmp_path / "envs" / "linux-x86_64-cpython3.12.json"
    document.dump(original, path)
    loaded = document.load(path)
    assert loaded == original
    assert loaded.summary["failed"] == 1 and loaded.summary["passed"] == 1
    jsonschema.Draft202012Validator(ENV_SCHEMA).validate(json.loads(path.read_text("utf-8")))
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary file left


@pytest.mark.parametrize(
    ("mutate", "error", "message"),
    [
        (lambda d: d.pop("state"), SchemaError, r"cell\.json: field \$\.state: missing \(regenerate"),
        (lambda d: d.update(duration_s="3"), SchemaError, r"field \$\.duration_s: expected number, found string"),
        (lambda d: d["checks"][0].update(outcome="green"), SchemaError,
         r"field \$\.checks\[0\]\.outcome: expected one of .*\"passed\".*found \"green\""),
        (lambda d: d.update(kind="readiness/weather"), UnknownKindError,
         r"kind 'readiness/weather' is not a readiness file kind \(expected one of readiness/env"),
        (lambda d: d.update(kind="readiness/matrix"), UnknownKindError,
         r"is a readiness/matrix file, not a readiness/env file"),
        (lambda d: d.update(schema=7), SchemaVersionError, r"written by a newer readiness: upgrade readiness"),
        (lambda d: d.update(schema=0), SchemaVersionError, r"written by an older readiness"),
        (lambda d: d.update(colour="red"), SchemaError, r"field \$\.colour: not a field of this kind"),
        (lambda d: d["checks"][1].update(id="health.app"), SchemaError,
         r"field \$\.checks\[1\]\.id: duplicate check id 'health.app' \(also \$\.checks\[0\]\) "
         r"\(give each check its own id="),
        (lambda d: d["cell"].update(id="../../etc/passwd"), SchemaError, r"field \$\.cell\.id: .* does not match"),
    ],
)
def test_a_bad_document_names_file_field_and_fix(
    tmp_path: Path, mutate: Any, error: type, message: str
) -> None:
    data = sample_document().to_dict()
    mutate(data)
    with pytest.raises(error, match=message):
        document.load(write(tmp_path, data))


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b'{"kind": "readiness/env",', r"not valid JSON: Expecting .* at line 1 column 26"),
        (b'{"a": 1, "a": 2}', r"the key 'a' appears twice in one object"),
        (b'{"duration_s": NaN}', r"NaN is not a JSON number"),
        (b"\xff\xfe{}", r"not UTF-8 text \(byte 0\)"),
        (b"[1, 2]", r"field \$: the document must be a JSON object"),
        (b"[" * 100_000 + b"]" * 100_000, r"nested too deeply to read"),
    ],
)
def test_broken_json_is_refused(tmp_path: Path, raw: bytes, message: str) -> None:
    path = tmp_path / "cell.json"
    path.write_bytes(raw)
    with pytest.raises(DocumentError, match=message):
        document.load(path)


def test_reading_is_bounded(tmp_path: Path) -> None:
    path = write(tmp_path, sample_document().to_dict())
    with pytest.raises(BrokenJSONError, match="larger than the 0 MiB readiness reads"):
        document.load(path, max_bytes=100)


def test_a_missing_file_is_a_document_error(tmp_path: Path) -> None:
    with pytest.raises(DocumentError, match=r"gone\.json: cannot be read: No such file"):
        document.load(tmp_path / "gone.json")


def test_outcomes_are_ordered_worst_first() -> None:
    order = [o.value for o in sorted(Outcome, key=lambda o: o.rank)]
    assert order == [
        "error", "failed", "flaky", "xpassed", "not_run", "skipped", "deselected", "xfailed", "passed",
        "not_applicable",
    ]
    assert document.worst([Outcome.SKIPPED, Outcome.NOT_RUN, Outcome.PASSED]) is Outcome.NOT_RUN
    assert document.worst([Outcome.PASSED, Outcome.XFAILED, Outcome.NOT_APPLICABLE]) is Outcome.XFAILED
    assert document.worst([]) is None


def test_a_check_that_never_ran_is_not_run_with_its_reason_and_its_own_count(tmp_path: Path) -> None:
    original = sample_document()
    original.checks.append(CheckRecord(id="slow.check", outcome=Outcome.NOT_RUN, attempts=0, message="interrupted"))
    path = tmp_path / "cell.json"
    document.dump(original, path)
    data = json.loads(path.read_text("utf-8"))
    assert (data["schema"], data["summary"]["not_run"], data["summary"]["skipped"]) == (2, 1, 0)
    assert document.load(path) == original


# --- schema 1, the previous one, still reads ------------------------------------------


def schema_1(data: Dict[str, Any]) -> Dict[str, Any]:
    """A schema-2 document as schema 1 wrote it: no `not_run` count in the summary."""
    old = copy.deepcopy(data)
    old["schema"] = 1
    del old["summary"]["not_run"]
    return old


def test_a_schema_1_document_still_loads(tmp_path: Path) -> None:
    old = schema_1(sample_document().to_dict())
    jsonschema.Draft202012Validator(schema.shipped("env", 1)).validate(old)
    loaded = document.load(write(tmp_path, old))
    assert loaded == sample_document()
    assert loaded.to_dict()["schema"] == 2 and loaded.summary["not_run"] == 0


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d["checks"][0].update(outcome="not_run"), r"field \$\.checks\[0\]\.outcome: expected one of"),
        (lambda d: d["summary"].update(not_run=0), r"field \$\.summary\.not_run: not a field of this kind"),
    ],
)
def test_a_schema_1_document_is_read_by_its_own_schema(tmp_path: Path, mutate: Any, message: str) -> None:
    old = schema_1(sample_document().to_dict())
    mutate(old)
    with pytest.raises(SchemaError, match=message):
        document.load(write(tmp_path, old))


def test_a_schema_2_document_counts_not_run(tmp_path: Path) -> None:
    data = sample_document().to_dict()
    del data["summary"]["not_run"]
    with pytest.raises(SchemaError, match=r"field \$\.summary\.not_run: missing"):
        document.load(write(tmp_path, data))


# --- the loader and the shipped schema agree -----------------------------------------

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)


def _paths(value: Any, prefix: List[Any]) -> List[List[Any]]:
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, [*prefix, key])
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, [*prefix, index])
    return found


VALID = sample_document().to_dict()
FIELD_PATHS = _paths(VALID, [])


def _schema_accepts(data: Any) -> bool:
    return jsonschema.Draft202012Validator(ENV_SCHEMA).is_valid(data)


def _unique_ids(data: Any) -> bool:
    ids = [c.get("id") for c in data["checks"] if isinstance(c, dict)]
    return len(ids) == len(set(map(json.dumps, ids)))


def _loader_accepts(tmp_path: Path, data: Any) -> bool:
    path = tmp_path / "mutant.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    try:
        document.load(path)
    except ReadinessError:
        return False
    return True


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    where=st.sampled_from(FIELD_PATHS),
    action=st.sampled_from(["replace", "delete", "add"]),
    value=JSON_VALUES,
)
def test_the_loader_accepts_a_mutant_exactly_when_the_schema_does(
    tmp_path: Path, where: List[Any], action: str, value: Any
) -> None:
    data: Dict[str, Any] = copy.deepcopy(VALID)
    parent: Any = data
    for step in where[:-1]:
        parent = parent[step]
    last = where[-1]
    if action == "replace":
        parent[last] = value
    elif action == "delete":
        del parent[last]
    elif isinstance(parent[last], dict):
        parent[last]["unexpected_field"] = value
    else:
        parent[last] = [parent[last], value] if isinstance(last, int) else value
    expected = _schema_accepts(data) and (not isinstance(data.get("checks"), list) or _unique_ids(data))
    assert _loader_accepts(tmp_path, data) is expected


def _inline(node: Any, defs: Dict[str, Any]) -> Any:
    """The schema with every local $ref replaced by its definition (none is recursive)."""
    if isinstance(node, dict):
        if "$ref" in node:
            return _inline(defs[node["$ref"].rsplit("/", 1)[1]], defs)
        return {k: _inline(v, defs) for k, v in node.items() if k not in ("$defs", "$id", "$schema")}
    if isinstance(node, list):
        return [_inline(item, defs) for item in node]
    return node


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.data_too_large, HealthCheck.filter_too_much])
@given(data=from_schema(_inline(ENV_SCHEMA, ENV_SCHEMA["$defs"])))
def test_every_document_the_schema_allows_loads(tmp_path: Path, data: Dict[str, Any]) -> None:
    assert _loader_accepts(tmp_path, data) is _unique_ids(data)
