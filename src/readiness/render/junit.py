"""JUnit XML: one testsuite per cell with the cell fingerprint as properties, plus the verdict.

The XML is written as text, in the very form `xml.etree.ElementTree` gives after `ET.indent`
(two spaces, ` />` for an empty element, the same escapes): building and walking a tree of tens
of thousands of test cases three times over (indent, namespaces, serialize) was most of the cost.
"""

from __future__ import annotations

import re
from operator import attrgetter
from typing import Any, Dict, List, Optional, Sequence, Tuple

from readiness.judge.budgets import paired_outcomes
from readiness.judge.merge import Matrix
from readiness.judge.verdict import Verdict
from readiness.model.document import CheckRecord, EnvDocument, Outcome
from readiness.render.common import Context, Output

# JUnit's one slot for a test without a result is <skipped>: its message names our outcome (`not_run: interrupted`).
_NO_RESULT = (Outcome.NOT_RUN, Outcome.SKIPPED, Outcome.DESELECTED, Outcome.XFAILED, Outcome.NOT_APPLICABLE)
# XML 1.0 cannot hold most control characters, even escaped.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")

Attributes = Sequence[Tuple[str, str]]
# An element: tag, attributes, text, children.
Node = Tuple[str, Attributes, str, List[Any]]


def clean(text: Any) -> str:
    shown = str(text)
    return shown if shown.isprintable() else _NOT_XML.sub("\ufffd", shown)  # what it replaces is unprintable


def render(matrix: Matrix, verdict: Verdict, context: Context) -> List[Output]:
    paired = paired_outcomes(verdict.measurements)
    suites = [_suite(doc, paired) for doc in matrix.documents.values()] + [_verdict_suite(verdict, context)]
    root = _open("testsuites", (("name", "readiness"), ("timestamp", context.generated_at)))
    parts = ['<?xml version="1.0" encoding="UTF-8"?>\n', root, ">\n  ", "\n  ".join(suites), "\n</testsuites>\n"]
    return [Output("junit.xml", "".join(parts))]


def _suite(doc: EnvDocument, paired: Dict[Tuple[str, str], List[str]]) -> str:
    counts = doc.summary
    head = _open("testsuite", (
        ("name", doc.cell_id), ("tests", str(len(doc.checks))),
        ("failures", str(counts["failed"] + counts["xpassed"])), ("errors", str(counts["error"])),
        ("skipped", str(sum(counts[outcome.value] for outcome in _NO_RESULT))),
        ("time", f"{doc.duration_s:.3f}"), ("timestamp", doc.started_at),
    ))
    children = [_properties(_property_values(doc).items())]
    state = doc.state.value
    if state != "complete":
        error: Node = ("error", (("message", clean(f"cell {state}: {doc.reason or ''}")), ("type", state)), "", [])
        children.append(_node("testcase", (("classname", "readiness.cell"), ("name", "cell state"), ("time", "0")),
                              [error], 2))
    children += _cases(doc, paired)
    return _with_children(head, "testsuite", children, 1)


def _cases(doc: EnvDocument, paired: Dict[Tuple[str, str], List[str]]) -> List[str]:
    """A test case per check; the check ids and categories made fit for attributes all at once."""
    records, cell = doc.checks, doc.cell_id
    names, classes = _attributes(list(map(_ID, records))), _attributes(list(map(_CATEGORY, records)))
    if not paired:  # no pairs taken in this run: no case has properties
        return [_case(record, name, classname) for record, name, classname in zip(records, names, classes)]
    return [_case(record, name, classname, paired.get((record.id, cell), ()))
            for record, name, classname in zip(records, names, classes)]


_ID, _CATEGORY = attrgetter("id"), attrgetter("category")


def _attributes(values: List[Any]) -> List[Any]:
    """`_clean_attribute` of each value: the values themselves when, joined, they are printable strings
    with nothing to escape, as check ids and categories are."""
    if {*map(type, values)} <= {str}:
        joined = "".join(values)
        if joined.isprintable() and not any(char in joined for char in '&<>"'):
            return values
    return list(map(_clean_attribute, values))


def _property_values(doc: EnvDocument) -> Dict[str, Any]:
    props: Dict[str, Any] = {"run_id": doc.run_id, "cell": doc.cell_id, "state": doc.state.value}
    for key, value in sorted(doc.fingerprint.items()):
        if isinstance(value, dict):
            props.update({f"{key}.{k}": _text(v) for k, v in sorted(value.items())})
        else:
            props[key] = _text(value)
    props.update({f"target.{k}": v for k, v in sorted(vars(doc.target).items()) if v is not None})
    return props


def _properties(values: Any) -> str:
    properties = [_open("property", (("name", name), ("value", clean(value)))) + " />" for name, value in values]
    return _with_children("<properties", "properties", properties, 2)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def _case(record: CheckRecord, name: str, classname: str, paired: Sequence[str] = ()) -> str:
    # One per check and cell: the start tag written at once (a time is digits, nothing to escape); `name`
    # and `classname` are the record's id and category, fit for an attribute.
    head = f'<testcase classname="{classname}" name="{name}" time="{record.duration_s:.3f}"'
    if not paired and record.outcome is Outcome.PASSED:  # most cases: nothing under it
        return head + " />"
    children = []
    if paired:  # a relative budget judged from the cell's own pairs, as properties of the case
        outcomes = [_open("property", (("name", "paired"), ("value", clean(text)))) + " />" for text in paired]
        children.append(_with_children("<properties", "properties", outcomes, 3))
    child = _result(record)
    if child is not None:
        children.append(_leaf(*child))
    return head + " />" if not children else _with_children(head, "testcase", children, 2)


def _result(record: CheckRecord) -> Optional[Node]:
    """The one element under a test case that says how it went; None for a pass."""
    outcome = record.outcome
    message = clean(record.message or outcome.value) if outcome in _HAS_MESSAGE else ""
    if outcome in (Outcome.FAILED, Outcome.XPASSED):
        return "failure", (("message", message), ("type", outcome.value)), clean(record.longrepr or ""), []
    if outcome == Outcome.ERROR:
        return "error", (("message", message), ("type", "error")), clean(record.longrepr or ""), []
    if outcome in _NO_RESULT:
        return "skipped", (("message", clean(f"{outcome.value}: {record.message or ''}".rstrip(": "))),), "", []
    if outcome == Outcome.FLAKY:
        return "system-out", (), clean(f"flaky: passed after {record.attempts} attempt(s)"), []
    return None


_HAS_MESSAGE = frozenset({Outcome.FAILED, Outcome.XPASSED, Outcome.ERROR})


def _verdict_suite(verdict: Verdict, context: Context) -> str:
    reasons = verdict.reasons if verdict.state.exit_code else []
    head = _open("testsuite", (("name", "readiness.verdict"), ("tests", str(max(1, len(reasons)))),
                               ("failures", str(len(reasons))), ("errors", "0"), ("skipped", "0"),
                               ("time", "0"), ("timestamp", context.generated_at)))
    children = [_properties((("state", verdict.state.value), ("policy", clean(verdict.policy_label)),
                             ("target", clean(verdict.target.title()))))]
    if not reasons:
        children.append(_node("testcase", (("classname", "readiness.verdict"), ("name", verdict.state.value),
                                           ("time", "0")), [], 2))
    for finding in reasons:
        failure: Node = ("failure", (("message", clean(finding.message)), ("type", finding.effect.value)), "", [])
        children.append(_node("testcase", (("classname", "readiness.verdict"),
                                           ("name", clean(f"{finding.kind}: {', '.join(finding.checks) or '-'}")),
                                           ("time", "0")), [failure], 2))
    return _with_children(head, "testsuite", children, 1)


# --- the text of elements, as ElementTree writes it -------------------------------------------


def _open(tag: str, attributes: Attributes) -> str:
    """`<tag a="v" ...`, the start tag before its `>` or ` />`."""
    return f"<{tag}" + "".join(f' {name}="{_attribute(value)}"' for name, value in attributes)


def _node(tag: str, attributes: Attributes, children: List[Node], level: int) -> str:
    """An element whose children, if any, are leaves (elements with text and no children)."""
    head = _open(tag, attributes)
    if not children:
        return head + " />"
    return _with_children(head, tag, [_leaf(*child) for child in children], level)


def _leaf(tag: str, attributes: Attributes, text: str, children: List[Any]) -> str:
    head = _open(tag, attributes)
    return f"{head}>{_escape(text)}</{tag}>" if text else head + " />"


def _with_children(head: str, tag: str, children: List[str], level: int) -> str:
    """An element with children, indented as `ET.indent` does: each child on a line of its own,
    two spaces deeper than the element."""
    inner = "\n" + "  " * (level + 1)
    return head + ">" + inner + inner.join(children) + "\n" + "  " * level + f"</{tag}>"


# ElementTree's escapes: `&`, `<`, `>` in text; also `"` and the whitespace that attribute
# normalisation would change (as character references) in attribute values.
_TEXT_ESCAPES = (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"))
_ATTRIBUTE_ESCAPES = (*_TEXT_ESCAPES, ('"', "&quot;"), ("\r", "&#13;"), ("\n", "&#10;"), ("\t", "&#09;"))
_ATTRIBUTE_SPECIAL = re.compile('[&<>"\r\n\t]')


def _clean_attribute(value: Any) -> str:
    """`clean`, then `_attribute`: a few looks at the text, in C, when it needs neither, as most do
    (every character the pattern finds is either unprintable or one of these four)."""
    text = str(value)
    if text.isprintable() and "&" not in text and "<" not in text and ">" not in text and '"' not in text:
        return text
    return text if not _CLEAN_OR_ESCAPE.search(text) else _attribute(clean(text))


_CLEAN_OR_ESCAPE = re.compile(f'{_NOT_XML.pattern[:-1]}&<>"\r\n\t]')


def _attribute(value: str) -> str:
    if not _ATTRIBUTE_SPECIAL.search(value):
        return value
    for char, escaped in _ATTRIBUTE_ESCAPES:
        value = value.replace(char, escaped)
    return value


def _escape(text: str) -> str:
    for char, escaped in _TEXT_ESCAPES:
        if char in text:
            text = text.replace(char, escaped)
    return text
