"""pytest's test reports made safe where the check ran: its evidence attached, redacted, and every
string pytest will print (failure text, captured output, xfail reason) redacted the same way."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from readiness.cell.redact import Redactor

if TYPE_CHECKING:  # the evidence module is imported when a check asks for the fixture, not before
    from readiness.cell.evidence import Evidence

# How deep into pytest's failure representation objects redaction goes (they nest a few levels).
_MAX_OBJECT_DEPTH = 12


def attach_evidence(report: pytest.TestReport, record: Evidence, redactor: Redactor) -> None:
    """Put the check's redacted evidence on the report: xdist carries it to the controller."""
    # Evidence first: a value under a secret-looking key is learnt before the check's captured
    # output, which may print it, is redacted.
    report.readiness = {  # type: ignore[attr-defined]
        "evidence": redactor.mapping(record.facts()),
        "measurements": {k: m.to_dict() for k, m in record.measurements.items()},
    }


def redact_report(report: pytest.TestReport, redactor: Redactor) -> None:
    """What pytest prints (and so every log) gets the same redaction as the document."""
    if report.longrepr is not None:
        report.longrepr = _redact_object(report.longrepr, redactor)
    if report.sections:
        report.sections = [(title, redactor.text(body) if body else body) for title, body in report.sections]
    wasxfail = getattr(report, "wasxfail", None)
    if wasxfail:
        report.wasxfail = redactor.text(wasxfail)


def _redact_object(obj: Any, redactor: Redactor, depth: int = 0) -> Any:
    """Redact the strings inside pytest's failure representation, keeping its structure."""
    if isinstance(obj, str):
        return redactor.text(obj)
    if isinstance(obj, (list, tuple)):
        items = [_redact_object(item, redactor, depth + 1) for item in obj]
        return items if isinstance(obj, list) else tuple(items)
    if depth < _MAX_OBJECT_DEPTH and type(obj).__module__.startswith("_pytest") and hasattr(obj, "__dict__"):
        for name, value in vars(obj).items():
            if isinstance(value, (str, list, tuple)) or hasattr(value, "__dict__"):
                object.__setattr__(obj, name, _redact_object(value, redactor, depth + 1))
    return obj
