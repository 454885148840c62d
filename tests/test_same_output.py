"""The fast paths give what the plain ones gave: JUnit text as ElementTree writes it, Markdown
escaped one character at a time, the schema checked a column at a time, the collector paused."""

from __future__ import annotations

import copy
import datetime as dt
import gc
import xml.etree.ElementTree as ET
from typing import Any, Dict, List

import pytest
from envdocs import check, env
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from readiness.judge import gcpause, policy, verdict
from readiness.judge.matrix import Matrix
from readiness.judge.verdict import Verdict
from readiness.model import schema
from readiness.model.document import CellState, EnvDocument, Outcome
from readiness.model.output import printable
from readiness.render import Context, junit, markdown

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
