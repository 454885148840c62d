"""JUnit XML: one testsuite per cell with the cell fingerprint as properties, plus the verdict."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import Any, Dict, List, Tuple

from readiness.judge.budgets import paired_outcomes
from readiness.judge.merge import Matrix
from readiness.judge.verdict import Verdict
from readiness.model.document import CheckRecord, EnvDocument, Outcome
from readiness.render.common import Context, Output

# JUnit's one slot for a test without a result is <skipped>: its message names our outcome (`not_run: interrupted`).
_NO_RESULT = (Outcome.NOT_RUN, Outcome.SKIPPED, Outcome.DESELECTED, Outcome.XFAILED, Outcome.NOT_APPLICABLE)
# XML 1.0 cannot hold most control characters, even escaped.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def clean(text: Any) -> str:
    return _NOT_XML.sub("\ufffd", str(text))


def render(matrix: Matrix, verdict: Verdict, context: Context) -> List[Output]:
    root = ET.Element("testsuites", name="readiness", timestamp=context.generated_at)
    paired = paired_outcomes(verdict.measurements)
    for doc in matrix.documents.values():
        root.append(_suite(doc, context, paired))
    root.append(_verdict_suite(verdict, context))
    ET.indent(root)
    text = ET.tostring(root, encoding="unicode")
    return [Output("junit.xml", '<?xml version="1.0" encoding="UTF-8"?>\n' + text + "\n")]


def _suite(doc: EnvDocument, context: Context, paired: Dict[Tuple[str, str], List[str]]) -> ET.Element:
    counts = doc.summary
    suite = ET.Element("testsuite", {
        "name": doc.cell_id, "tests": str(len(doc.checks)),
        "failures": str(counts["failed"] + counts["xpassed"]), "errors": str(counts["error"]),
        "skipped": str(sum(counts[outcome.value] for outcome in _NO_RESULT)),
        "time": f"{doc.duration_s:.3f}", "timestamp": doc.started_at,
    })
    properties = ET.SubElement(suite, "properties")
    for name, value in _properties(doc).items():
        ET.SubElement(properties, "property", name=name, value=clean(value))
    if doc.state.value != "complete":
        case = ET.SubElement(suite, "testcase", classname="readiness.cell", name="cell state", time="0")
        ET.SubElement(case, "error", message=clean(f"cell {doc.state.value}: {doc.reason or ''}"), type=doc.state.value)
    for record in doc.checks:
        suite.append(_case(record))
        if (record.id, doc.cell_id) in paired:  # a relative budget judged from the cell's own pairs
            outcomes = ET.Element("properties")
            for text in paired[(record.id, doc.cell_id)]:
                ET.SubElement(outcomes, "property", name="paired", value=clean(text))
            suite[-1].insert(0, outcomes)
    return suite


def _properties(doc: EnvDocument) -> Dict[str, Any]:
    props: Dict[str, Any] = {"run_id": doc.run_id, "cell": doc.cell_id, "state": doc.state.value}
    for key, value in sorted(doc.fingerprint.items()):
        if isinstance(value, dict):
            props.update({f"{key}.{k}": _text(v) for k, v in sorted(value.items())})
        else:
            props[key] = _text(value)
    props.update({f"target.{k}": v for k, v in sorted(vars(doc.target).items()) if v is not None})
    return props


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def _case(record: CheckRecord) -> ET.Element:
    case = ET.Element("testcase", classname=clean(record.category), name=clean(record.id),
                      time=f"{record.duration_s:.3f}")
    outcome = record.outcome
    message = clean(record.message or outcome.value)
    if outcome in (Outcome.FAILED, Outcome.XPASSED):
        ET.SubElement(case, "failure", message=message, type=outcome.value).text = clean(record.longrepr or "")
    elif outcome == Outcome.ERROR:
        ET.SubElement(case, "error", message=message, type="error").text = clean(record.longrepr or "")
    elif outcome in _NO_RESULT:
        ET.SubElement(case, "skipped", message=clean(f"{outcome.value}: {record.message or ''}".rstrip(": ")))
    elif outcome == Outcome.FLAKY:
        ET.SubElement(case, "system-out").text = clean(f"flaky: passed after {record.attempts} attempt(s)")
    return case


def _verdict_suite(verdict: Verdict, context: Context) -> ET.Element:
    reasons = verdict.reasons if verdict.state.exit_code else []
    suite = ET.Element("testsuite", {"name": "readiness.verdict", "tests": str(max(1, len(reasons))),
                                     "failures": str(len(reasons)), "errors": "0", "skipped": "0",
                                     "time": "0", "timestamp": context.generated_at})
    properties = ET.SubElement(suite, "properties")
    ET.SubElement(properties, "property", name="state", value=verdict.state.value)
    ET.SubElement(properties, "property", name="policy", value=clean(verdict.policy_label))
    ET.SubElement(properties, "property", name="target", value=clean(verdict.target.title()))
    if not reasons:
        ET.SubElement(suite, "testcase", classname="readiness.verdict", name=verdict.state.value, time="0")
    for finding in reasons:
        case = ET.SubElement(suite, "testcase", classname="readiness.verdict",
                             name=clean(f"{finding.kind}: {', '.join(finding.checks) or '-'}"), time="0")
        ET.SubElement(case, "failure", message=clean(finding.message), type=finding.effect.value)
    return suite
