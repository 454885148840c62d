"""The fast paths give what the plain ones gave: JUnit text as ElementTree writes it, Markdown
escaped one character at a time, the schema checked a column at a time, the collector paused."""

from __future__ import annotations

import copy
import datetime as dt
import gc
import json
import uuid
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path
from typing import Any, Dict, List

import pytest
from envdocs import check, env
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from readiness import __version__
from readiness.cell.paired import ratio_interval
from readiness.judge import gcpause, merge, policy, verdict
from readiness.judge.budgets import document_lane, emulated, paired_outcomes
from readiness.judge.matrix import Matrix
from readiness.judge.verdict import Verdict
from readiness.model import document, jsontext, output, schema
from readiness.model.document import CellState, CheckRecord, EnvDocument, Outcome, Pair, Paired, Sampling
from readiness.model.output import printable
from readiness.render import Context, ctrf, html, junit, markdown, render
from readiness.render.common import coverage_lines, divergent_checks, rows_in_order, scope_lines

# Text that every escape has to deal with: markup, quotes, line breaks, tabs, controls XML cannot
# hold, bidi overrides, lone surrogates.
NASTY = 'a&b <i>"q"</i> \'s\' \r\n\tend\x1b[31m\x00\u202e\ud800 ~*_[]|#`\\ \u2028\x85 é'
OUTCOMES = ["passed", "failed", "error", "flaky", "xpassed", "not_run", "skipped", "deselected", "xfailed",
            "not_applicable"]


# --- JUnit: the text ElementTree wrote -----------------------------------------------------------


def _element_tree_junit(matrix: Matrix, result: Verdict, context: Context) -> str:
    """The JUnit renderer as it was, on ElementTree: the oracle for the text junit.py writes."""
    root = ET.Element("testsuites", name="readiness", timestamp=context.generated_at)
    for doc in matrix.documents.values():
        suite = ET.SubElement(root, "testsuite", {
            "name": doc.cell_id, "tests": str(len(doc.checks)),
            "failures": str(doc.summary["failed"] + doc.summary["xpassed"]), "errors": str(doc.summary["error"]),
            "skipped": str(sum(doc.summary[o.value] for o in junit._NO_RESULT)),
            "time": f"{doc.duration_s:.3f}", "timestamp": doc.started_at})
        properties = ET.SubElement(suite, "properties")
        for name, value in junit._property_values(doc).items():
            ET.SubElement(properties, "property", name=name, value=junit.clean(value))
        if doc.state.value != "complete":
            case = ET.SubElement(suite, "testcase", classname="readiness.cell", name="cell state", time="0")
            ET.SubElement(case, "error", message=junit.clean(f"cell {doc.state.value}: {doc.reason or ''}"),
                          type=doc.state.value)
        for record in doc.checks:
            case = ET.SubElement(suite, "testcase", classname=junit.clean(record.category),
                                 name=junit.clean(record.id), time=f"{record.duration_s:.3f}")
            outcome, message = record.outcome, junit.clean(record.message or record.outcome.value)
            if outcome in (Outcome.FAILED, Outcome.XPASSED):
                ET.SubElement(case, "failure", message=message, type=outcome.value).text = junit.clean(
                    record.longrepr or "")
            elif outcome == Outcome.ERROR:
                ET.SubElement(case, "error", message=message, type="error").text = junit.clean(record.longrepr or "")
            elif outcome in junit._NO_RESULT:
                ET.SubElement(case, "skipped",
                              message=junit.clean(f"{outcome.value}: {record.message or ''}".rstrip(": ")))
            elif outcome == Outcome.FLAKY:
                flaky = f"flaky: passed after {record.attempts} attempt(s)"
                ET.SubElement(case, "system-out").text = junit.clean(flaky)
    reasons = result.reasons if result.state.exit_code else []
    suite = ET.SubElement(root, "testsuite", {"name": "readiness.verdict", "tests": str(max(1, len(reasons))),
                                              "failures": str(len(reasons)), "errors": "0", "skipped": "0",
                                              "time": "0", "timestamp": context.generated_at})
    properties = ET.SubElement(suite, "properties")
    ET.SubElement(properties, "property", name="state", value=result.state.value)
    ET.SubElement(properties, "property", name="policy", value=junit.clean(result.policy_label))
    ET.SubElement(properties, "property", name="target", value=junit.clean(result.target.title()))
    if not reasons:
        ET.SubElement(suite, "testcase", classname="readiness.verdict", name=result.state.value, time="0")
    for finding in reasons:
        case = ET.SubElement(suite, "testcase", classname="readiness.verdict",
                             name=junit.clean(f"{finding.kind}: {', '.join(finding.checks) or '-'}"), time="0")
        ET.SubElement(case, "failure", message=junit.clean(finding.message), type=finding.effect.value)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _nasty_documents() -> List[EnvDocument]:
    records = []
    for index, outcome in enumerate(OUTCOMES):
        record = check(f"check/{index}{NASTY}", outcome, category=f"cat{NASTY}", message=NASTY if index % 2 else None,
                       evidence={"text": NASTY})
        record.longrepr = None if index % 3 == 0 else f"Traceback{NASTY}" if index % 3 == 1 else "   "
        record.attempts = index
        records.append(record)
    linux = env("linux-x86_64-cpython3.12", records)
    linux.fingerprint["os_release"] = NASTY
    broken = env("windows-x86_64-cpython3.12", records[:3], state="crashed", reason=NASTY)
    empty = env("macos-arm64-cpython3.12", [])
    return [linux, broken, empty]


@pytest.mark.parametrize("failing", [True, False])
def test_junit_is_the_text_element_tree_wrote(failing: bool) -> None:
    documents = _nasty_documents() if failing else [env("linux-x86_64-cpython3.12", [check("ok")])]
    matrix = Matrix("run-1", {doc.cell_id: doc for doc in documents})
    rules = policy.Policy(source=f"policy {NASTY}", is_default=False)
    result = verdict.decide(matrix, rules, today=dt.date(2026, 11, 30))
    context = Context("2026-11-30T00:00:00Z")
    assert [output.text for output in junit.render(matrix, result, context)] == [
        _element_tree_junit(matrix, result, context)]


# --- Markdown: each character escaped on its own ---------------------------------------------------


def _md_one_character_at_a_time(text: str) -> str:
    escapes = {"&": "&amp;", "<": "&lt;", ">": "&gt;", **{c: "\\" + c for c in "\\`*_[]|#~"}}
    out = []
    for char in " ".join(text.split()):
        if char in escapes:
            out.append(escapes[char])
        elif printable(char) != char:
            out.append(printable(char))
        else:
            out.append(char)
    return "".join(out)


@given(st.text(alphabet=st.sampled_from(NASTY + "&amp;lt;gt\\x1b") | st.characters(), max_size=40))
def test_markdown_escapes_each_character_on_its_own(text: str) -> None:
    assert markdown.md(text) == _md_one_character_at_a_time(text)


@given(st.lists(st.text(alphabet=st.sampled_from(NASTY + "\xa4\xa0  ") | st.characters(), max_size=20), max_size=6))
def test_markdown_escapes_many_texts_at_once_as_each_on_its_own(texts: List[str]) -> None:
    assert markdown.md_all(texts) == [markdown.md(text) for text in texts]


@given(st.text(alphabet=st.sampled_from(NASTY) | st.characters(), max_size=40))
def test_printable_text_is_what_the_pattern_left(text: str) -> None:
    assert printable(text) == output._UNPRINTABLE.sub(output._escape, text)
    assert printable(text, keep_newlines=True) == output._UNPRINTABLE_BUT_NEWLINE.sub(output._escape, text)


def test_what_the_escape_patterns_find_is_unprintable() -> None:
    """The fast paths skip a pattern on text that str.isprintable passes: every character the pattern
    finds must fail it (in JUnit attributes, the four characters XML escapes are looked for as well)."""
    patterns = [markdown._CONTROLS, output._UNPRINTABLE, output._UNPRINTABLE_BUT_NEWLINE, junit._NOT_XML]
    found = {chr(code) for code in range(0x110000) for pattern in patterns if pattern.match(chr(code))}
    assert not {char for char in found if char.isprintable()}
    attribute = {chr(code) for code in range(0x110000) if junit._CLEAN_OR_ESCAPE.match(chr(code))}
    assert {char for char in attribute if char.isprintable()} == set('&<>"')


def test_markdown_escapes_every_control_character() -> None:
    for code in [*range(0x20), *range(0x7F, 0xA0), 0x61C, 0x200E, 0x200F, *range(0x2028, 0x202F),
                 *range(0x2066, 0x206A), 0xD800, 0xDBFF, 0xDC00, 0xDFFF]:
        text = f"a{chr(code)}b"
        assert markdown.md(text) == _md_one_character_at_a_time(text), hex(code)


# --- the schema: a column at a time says yes only when value by value does ------------------------


def _document(checks: int) -> Dict[str, Any]:
    records = [check(f"c/{i}", OUTCOMES[i % len(OUTCOMES)], evidence={"i": i, "deep": [{"a": [i]}]},
                     measurements={"latency_s": [0.1, 0.2]} if i % 2 else None) for i in range(checks)]
    return env("linux-x86_64-cpython3.12", records, state=CellState.COMPLETE.value).to_dict()


VALID = _document(6)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 3) | st.floats(-2, 2) | st.sampled_from(["", "x", NASTY, "a" * 300]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(["unit", "samples", "x"]), inner,
                                                                max_size=3),
    max_leaves=6,
)


def _places(value: Any, prefix: List[Any]) -> List[List[Any]]:
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, item in value.items():
            found += _places(item, [*prefix, key])
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _places(item, [*prefix, index])
    return found


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(where=st.sampled_from(_places(VALID, [])), action=st.sampled_from(["replace", "delete", "add"]), value=JSON)
def test_the_column_check_says_yes_only_when_every_value_is_valid(where: List[Any], action: str, value: Any) -> None:
    data: Dict[str, Any] = copy.deepcopy(VALID)
    parent: Any = data
    for step in where[:-1]:
        parent = parent[step]
    if action == "replace":
        parent[where[-1]] = value
    elif action == "delete" and isinstance(parent, dict):
        del parent[where[-1]]
    elif isinstance(parent, dict):
        parent["unexpected_field"] = value
    else:
        parent.append(value)
    env_schema = schema.shipped("env", 2)
    check_value, check_column = schema._compiled_schema(id(env_schema), env_schema)
    precise = check_value(data)
    if check_column([data]):
        assert precise is None
    expected = None if precise is None else (schema._path(precise[0]), precise[1])
    assert schema.first_error(data, env_schema) == expected


def test_a_column_of_valid_documents_is_valid_at_once() -> None:
    env_schema = schema.shipped("env", 2)
    _, check_column = schema._compiled_schema(id(env_schema), env_schema)
    assert check_column([_document(50), _document(3), _document(0)])


# --- the collector --------------------------------------------------------------------------------


def test_what_is_built_while_paused_is_left_to_full_collections() -> None:
    was_enabled = gc.isenabled()
    gc.enable()
    try:
        with gcpause.paused():
            assert not gc.isenabled()
            built = [[index] for index in range(1000)]
        assert gc.isenabled()
        oldest = {id(item) for item in gc.get_objects(generation=2)}
        assert all(id(item) in oldest for item in built)
    finally:
        if not was_enabled:
            gc.disable()


def test_the_collector_stays_off_when_it_was_off() -> None:
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        with gcpause.paused():
            pass
        assert not gc.isenabled()
    finally:
        if was_enabled:
            gc.enable()


# --- JSON written part by part: what json.dumps wrote --------------------------------------------

COMPACT = {"ensure_ascii": False, "allow_nan": False, "separators": (",", ":")}


def _compact(value: Any) -> str:
    return json.dumps(value, **COMPACT)  # type: ignore[arg-type]


@given(JSON)
def test_a_json_part_is_what_json_dumps_wrote(value: Any) -> None:
    expected = _compact(value)
    assert jsontext.dumps(value) == expected
    assert jsontext.value_text(value) == expected
    if isinstance(value, list):
        assert jsontext.floats(value) == expected
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        assert jsontext.number(value) == expected


@given(st.lists(st.text(alphabet=st.sampled_from(NASTY) | st.characters(), max_size=8), max_size=4))
def test_strings_are_what_json_dumps_wrote(values: List[str]) -> None:
    assert jsontext.strings(values) == jsontext.strings(tuple(values)) == _compact(values)
    assert [jsontext.text(v) for v in values] == [_compact(v) for v in values]


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
def test_a_part_refuses_what_json_refuses(bad: float) -> None:
    for write in (jsontext.number, jsontext.value_text, jsontext.dumps):
        with pytest.raises(ValueError, match="Out of range float"):
            write(bad)
    with pytest.raises(ValueError, match="Out of range float"):
        jsontext.floats([1.0, bad])


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(JSON | st.just("\x00") | st.just(["\x00", 1]) | st.just({"\x00": ["\x00"]}), max_size=6))
def test_values_written_at_once_are_what_json_dumps_wrote(values: List[Any]) -> None:
    memo = jsontext.Memo()
    memo.keep_all(values)
    for value in values:
        written = memo.texts.get(id(value))
        assert written is None or written == _compact(value)
        assert memo.value(value) == _compact(value)


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(st.floats(allow_nan=False) | st.integers() | st.just("],[") | st.just([1])) | JSON,
                max_size=6), st.lists(st.floats() | st.integers() | JSON, max_size=6))
def test_lists_and_numbers_written_at_once_are_what_json_dumps_wrote(lists: List[Any], numbers: List[Any]) -> None:
    memo = jsontext.Memo()
    memo.keep_lists(lists)
    memo.keep_numbers(numbers)
    for value in lists + numbers:
        written = memo.texts.get(id(value))
        assert written is None or written == _compact(value)


def test_values_json_refuses_are_not_written_at_once() -> None:
    memo = jsontext.Memo()
    values = [[1.0], [float("nan")]]
    memo.keep_all(values)
    memo.keep_lists(values)
    memo.keep_numbers([1.0, float("inf")])
    assert memo.texts == {}
    assert memo.floats(values[0]) == "[1.0]"
    with pytest.raises(ValueError, match="Out of range float"):
        memo.floats(values[1])


def _measured(index: int, nasty: str) -> CheckRecord:
    """A check with every kind of measurement: plain, with load and sampling, paired, integer samples."""
    record = check(f"perf/{index}{nasty}", OUTCOMES[index % len(OUTCOMES)], message=nasty if index % 2 else None,
                   evidence={"text": nasty, "deep": [{"\x00": ["\x00", 1.5]}]} if index % 3 else None,
                   measurements={"latency_s": [0.1 + index / 7, 0.2, 0.3], f"b{nasty}": [1, 2]})
    pairs = [Pair(1.5 + i / 10, 1.5, f"2026-11-30T10:00:{i:02d}Z", f"2026-11-30T10:00:{i:02d}Z", "current", 0.1, None)
             for i in range(6)]
    latency = record.measurements["latency_s"]
    latency.load, latency.sampling = 0.25, Sampling(3, 30, nasty)
    if index % 2:
        latency.paired = Paired("HEAD", "1" * 40, pairs, ratio_interval(pairs), nasty)
    record.duration_s, record.attempts, record.platforms = index / 3, index + 1, ["linux", "windows"]
    record.first_failure = nasty if index % 2 else None
    record.longrepr = f"Traceback{nasty}" if index % 3 == 1 else None
    return record


def _measured_matrix(tmp_path: Path) -> Matrix:
    """Documents of every kind, read back from files (the matrix writes what it read) and held in memory."""
    cells = ["linux-x86_64-cpython3.12", "windows-x86_64-wine-cpython3.11", "macos-arm64-cpython3.13"]
    readable = NASTY.replace("\ud800", "")  # a file cannot hold a lone surrogate; a document in memory can
    documents = [env(cell, [_measured(i, NASTY if cell.startswith("macos") else readable) for i in range(8)])
                 for cell in cells]
    documents[1].state, documents[1].reason = CellState.CRASHED, readable
    folder = tmp_path / "envs"
    folder.mkdir()
    for doc in documents[:2]:
        data = doc.to_dict()
        if doc is documents[1]:  # written by another tool: keys in another order, integers for floats
            data = dict(reversed(list(data.items())))
            data["checks"][0] = dict(reversed(list(data["checks"][0].items())))
            data["checks"][1]["duration_s"] = 2
            data["checks"][1]["measurements"]["latency_s"]["load"] = None
        (folder / f"{doc.cell_id}.json").write_text(json.dumps(data, indent=1), encoding="utf-8")
    read = merge.merge_paths([str(folder)])
    assert not read.problems
    return Matrix(read.run_id, {**read.documents, cells[2]: documents[2]}, raw=read.raw)


def _measured_verdict(matrix: Matrix) -> Verdict:
    rules = policy.parse_policy({"budgets": {"latency_s": {"max": 0.3, "max_increase_pct": 5.0},
                                             f"b{NASTY}": {"max": 1.5, "statistic": "p95"}}}, "policy.toml")
    return verdict.decide(matrix, rules, today=dt.date(2026, 11, 30), baseline=matrix)


def test_the_matrix_and_the_verdict_are_what_json_dumps_wrote(tmp_path: Path) -> None:
    matrix = _measured_matrix(tmp_path)
    result = _measured_verdict(matrix)
    assert result.measurements and any(m.paired for m in result.measurements)
    assert any(m.lane != "native" for m in result.measurements)
    assert any(m.change for m in result.measurements)
    assert any(m.statistic != "median" for m in result.measurements)
    for _ in range(2):  # the second time from what the memo kept
        assert merge.dumps(matrix) == _compact(matrix.to_dict()) + "\n"
        assert verdict.dumps(result) == _compact(result.to_dict()) + "\n"


def _html_as_it_was(matrix: Matrix, result: Verdict, context: Context) -> str:
    """The HTML renderer as it was, a dict per result for json: the oracle of the text html.py writes."""
    divergent = set(divergent_checks(result))
    lanes = {cell: document_lane(doc) for cell, doc in matrix.documents.items()}

    def shown(record: CheckRecord, lane: str) -> Dict[str, Any]:
        measurements = {k: m.to_dict() for k, m in sorted(record.measurements.items())}
        if lane != "native":
            measurements = {k: dict(m, lane=emulated(lane)) for k, m in measurements.items()}
        return {"outcome": record.outcome.value, "message": record.message, "longrepr": record.longrepr,
                "duration_s": record.duration_s, "attempts": record.attempts, "evidence": record.evidence,
                "measurements": measurements}

    data = {
        "generated_at": context.generated_at, "tool_version": __version__, "run_id": matrix.run_id,
        "state": result.state.value, "policy": result.policy_label,
        "scope": scope_lines(result) + coverage_lines(matrix), "target": result.target.title(),
        "causes": [{"effect": c.effect.value, "text": c.text, "why": c.why} for c in result.causes],
        "waivers": [w.to_dict() for w in result.waivers], "cells": matrix.cells,
        "checks": [{"id": row.id, "title": row.title, "category": row.category,
                    "severity": result.severities.get(row.id, row.severity).value,
                    "worst": None if row.worst is None else row.worst.value, "divergent": row.id in divergent,
                    "results": {cell: shown(record, lanes.get(cell, "native")) for cell, record in row.results.items()}}
                   for row in rows_in_order(matrix)],
    }
    return html._TEMPLATE.replace("@CSP@", html._CSP).replace("@DATA@", html.script_json(data))


def _ctrf_as_it_was(matrix: Matrix, result: Verdict, context: Context) -> List[str]:
    """The CTRF renderer as it was, a dict per test for json: the oracle of the text ctrf.py writes."""
    reports = []
    for doc in matrix.documents.values():
        paired = paired_outcomes(m for m in result.measurements if m.cell == doc.cell_id)
        tests = []
        for record in doc.checks:
            test: Dict[str, Any] = {
                "name": record.id, "status": ctrf._STATUS[record.outcome], "duration": round(record.duration_s * 1000),
                "rawStatus": record.outcome.value, "suite": record.category, "retries": max(0, record.attempts - 1),
                "flaky": record.outcome == Outcome.FLAKY,
                "extra": {"title": record.title, "severity": record.severity.value, "cell": doc.cell_id,
                          "evidence": record.evidence,
                          "measurements": {k: m.to_dict() for k, m in sorted(record.measurements.items())}}}
            if (record.id, doc.cell_id) in paired:
                test["extra"]["paired"] = paired[(record.id, doc.cell_id)]
            if record.message:
                test["message"] = record.message
            if record.longrepr:
                test["trace"] = record.longrepr
            tests.append(test)
        environment = ctrf._environment(doc)
        if "appName" not in environment and result.target.name:
            environment["appName"] = result.target.name
            if result.target.version:
                environment["appVersion"] = result.target.version
        found = Counter(t["status"] for t in tests)
        summary = {"tests": len(tests), **{s: found[s] for s in ("passed", "failed", "skipped", "pending", "other")},
                   "start": ctrf._millis(doc.started_at), "stop": ctrf._millis(doc.finished_at)}
        run_id = matrix.run_id or "unknown"
        reports.append(_compact({
            "reportFormat": "CTRF", "specVersion": ctrf.SPEC_VERSION,
            "reportId": str(uuid.uuid5(ctrf._NAMESPACE, f"{run_id}/{doc.cell_id}/{doc.finished_at}")),
            "runId": run_id, "timestamp": context.generated_at, "generatedBy": f"readiness {__version__}",
            "results": {"tool": {"name": "readiness", "version": __version__}, "summary": summary, "tests": tests,
                        "environment": environment,
                        "extra": {"cell": doc.cell_id, "state": doc.state.value, "reason": doc.reason,
                                  "verdict": result.state.value}},
        }) + "\n")
    return reports


@pytest.mark.parametrize("first", ["html", "ctrf", "json"])
def test_html_and_ctrf_are_what_json_dumps_wrote(tmp_path: Path, first: str) -> None:
    matrix = _measured_matrix(tmp_path)
    result = _measured_verdict(matrix)
    context = Context("2026-11-30T00:00:00Z")
    html_text, ctrf_texts = _html_as_it_was(matrix, result, context), _ctrf_as_it_was(matrix, result, context)
    render(first, matrix, result, generated_at=context.generated_at)  # whichever writes first fills the memo
    assert [o.text for o in html.render(matrix, result, context)] == [html_text]
    assert [o.text for o in ctrf.render(matrix, result, context)] == ctrf_texts


def _as_written_matrix(tmp_path: Path) -> Matrix:
    """Documents readiness wrote and read back, whose checks the reports take as read (model/readtext.py):
    plain measurements, with load and sampling, two of them, none; a Wine cell; and documents another tool
    wrote whose measurements read otherwise (integer samples, a null load, names out of order)."""
    readable = NASTY.replace("\ud800", "")
    cells = ["linux-x86_64-cpython3.12", "windows-x86_64-wine-cpython3.11", "macos-arm64-cpython3.13",
             "linux-x86_64-cpython3.13"]
    documents = []
    for cell in cells:
        records = [check(f"c/{i}{readable if i % 4 == 1 else ''}", OUTCOMES[i % len(OUTCOMES)],
                         message=readable if i % 3 == 1 else None, evidence={"i": i, "t": readable} if i % 2 else None,
                         measurements={"latency_s": [0.5 + i / 7, 0.25], **({"a_s": [1.5]} if i % 3 == 2 else {})}
                         if i % 5 else None) for i in range(10)]
        for i, record in enumerate(records):
            record.duration_s = i / 3
            for measurement in record.measurements.values():
                measurement.load = 0.5 if i % 2 else None
                measurement.sampling = Sampling(2, 30, readable) if i % 3 else None
        documents.append(env(cell, records))
    folder = tmp_path / "envs"
    folder.mkdir()
    for doc in documents[:3]:
        document.dump(doc, folder / f"{doc.cell_id}.json")
    data = documents[3].to_dict()  # written by another tool: what it read is not what readiness writes
    data["checks"][1]["measurements"]["latency_s"]["samples"] = [1, 2]
    data["checks"][2]["measurements"]["latency_s"]["load"] = None
    data["checks"][2]["measurements"] = dict(reversed(list(data["checks"][2]["measurements"].items())))
    data["checks"][3]["duration_s"] = 1
    (folder / f"{cells[3]}.json").write_text(json.dumps(data), encoding="utf-8")
    read = merge.merge_paths([str(folder)])
    assert not read.problems
    return read


@pytest.mark.parametrize("first", ["html", "ctrf", "json"])
def test_checks_taken_as_read_are_what_json_dumps_wrote(tmp_path: Path, first: str) -> None:
    matrix = _as_written_matrix(tmp_path)
    rules = policy.parse_policy({"budgets": {"latency_s": {"max": 1.0}}}, "policy.toml")
    result = verdict.decide(matrix, rules, today=dt.date(2026, 11, 30))
    context = Context("2026-11-30T00:00:00Z")
    html_text, ctrf_texts = _html_as_it_was(matrix, result, context), _ctrf_as_it_was(matrix, result, context)
    render(first, matrix, result, generated_at=context.generated_at)
    taken = {cell for cell, doc in matrix.documents.items() if id(doc.checks[0]) in matrix.memo.texts}
    assert taken == set(matrix.cells) - {"linux-x86_64-cpython3.13"}, "what readiness wrote is taken as read"
    assert [o.text for o in html.render(matrix, result, context)] == [html_text]
    assert [o.text for o in ctrf.render(matrix, result, context)] == ctrf_texts
    assert merge.dumps(matrix) == _compact(matrix.to_dict()) + "\n"
