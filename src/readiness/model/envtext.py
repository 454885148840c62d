"""The JSON text of env documents and their parts, as json.dumps writes it compactly
(model/jsontext.py): the matrix embeds every cell's document, and the reports embed each check's
evidence and measurements; a memo shared by them writes each measurement's samples once."""

from __future__ import annotations

from typing import Any, Dict, List, Mapping

from readiness.model import readtext
from readiness.model.document import EnvDocument, Measurement
from readiness.model.jsontext import Memo, dumps, number, string, text, value_text

_CHECK_KEYS = readtext.CHECK_KEYS


def document(data: Mapping[str, Any], memo: Memo) -> str:
    """An env document's text (as read, or `EnvDocument.to_dict()`)."""
    return "".join(document_parts(data, memo))


def document_parts(data: Mapping[str, Any], memo: Memo) -> List[str]:
    """`document` in parts, the text of the checks (most of it) one of them: a matrix joins every
    document's parts once, not each document's text, then the matrix's."""
    parts = ["{"]
    try:
        for key, value in data.items():
            parts.append(("," if len(parts) > 1 else "") + string(key) + ":")
            parts.append(_checks(value, memo) if key == "checks" else value_text(value))
    except TypeError:  # a key that is no string, or a value json cannot write: json's text or error
        return [dumps(data)]
    parts.append("}")
    return parts


def _checks(checks: Any, memo: Memo) -> str:
    found = memo.texts.get(id(checks))  # written at once (`fill`)
    if found is not None:
        return found
    if type(checks) is not list:
        return dumps(checks)
    return "[" + ",".join([_check(check, memo) if type(check) is dict else dumps(check) for check in checks]) + "]"


def _check(check: Dict[str, Any], memo: Memo) -> str:
    if tuple(check) != _CHECK_KEYS:  # written by something else: member by member
        return "{" + ",".join(string(key) + ":" + _member(key, value, memo) for key, value in check.items()) + "}"
    (check_id, nodeid, title, category, severity, platforms, outcome, attempts, duration, message, longrepr,
     first_failure, evidence, measurements) = check.values()
    return (f'{{"id":{string(check_id)},"nodeid":{string(nodeid)},"title":{string(title)},'
            f'"category":{string(category)},"severity":{string(severity)},'
            f'"platforms":{"null" if platforms is None else dumps(platforms)},"outcome":{string(outcome)},'
            f'"attempts":{int.__repr__(attempts) if type(attempts) is int else dumps(attempts)},'
            f'"duration_s":{memo.texts.get(id(duration)) or number(duration)},'
            f'"message":{"null" if message is None else string(message)},'
            f'"longrepr":{"null" if longrepr is None else string(longrepr)},'
            f'"first_failure":{"null" if first_failure is None else string(first_failure)},'
            f'"evidence":{memo.value(evidence)},"measurements":{_raw_measurements(measurements, memo)}}}')


def _member(key: str, value: Any, memo: Memo) -> str:
    if key == "measurements":
        return _raw_measurements(value, memo)
    return memo.value(value) if key == "evidence" else value_text(value)


def _raw_measurements(values: Any, memo: Memo) -> str:
    if type(values) is not dict:
        return dumps(values)
    if len(values) == 1:  # most checks measure one thing, or nothing
        for name, m in values.items():
            return "{" + string(name) + ":" + _raw_measurement(m, memo) + "}"
    return "{" + ",".join([string(name) + ":" + _raw_measurement(m, memo) for name, m in values.items()]) + "}"


def _raw_measurement(data: Any, memo: Memo) -> str:
    if type(data) is dict and tuple(data) == _PLAIN_MEASUREMENT:
        return '{"unit":' + value_text(data["unit"]) + ',"samples":' + memo.floats(data["samples"]) + "}"
    if type(data) is not dict:
        return dumps(data)
    return "{" + ",".join([string(key) + ":" + (memo.floats(value) if key == "samples" and type(value) is list
                                                else value_text(value)) for key, value in data.items()]) + "}"


_PLAIN_MEASUREMENT = ("unit", "samples")


def measurement(m: Measurement, memo: Memo) -> str:
    """`Measurement.to_dict()`'s text."""
    samples = m.samples
    written = memo.texts.get(id(samples)) or memo.floats(samples)
    written = '{"unit":' + text(m.unit) + ',"samples":' + written
    if m.load is None and m.sampling is None and m.paired is None:
        return written + "}"
    if m.load is not None:
        written += ',"load":' + number(m.load)
    if m.sampling is not None:
        written += ',"sampling":' + dumps(m.sampling.to_dict())
    if m.paired is not None:
        written += ',"paired":' + dumps(m.paired.to_dict())
    return written + "}"


def measurements(values: Dict[str, Measurement], memo: Memo) -> str:
    """A check's measurements by name, sorted (`CheckRecord.to_dict()["measurements"]`); the text is
    kept in the memo, for every report that shows them."""
    if not values:
        return "{}"
    found = memo.texts.get(id(values))
    if found is not None:
        return found
    if len(values) == 1:
        for name, m in values.items():
            return memo.keep(values, "{" + string(name) + ":" + measurement(m, memo) + "}")
    items = sorted(values.items())
    return memo.keep(values, "{" + ",".join([string(k) + ":" + measurement(m, memo) for k, m in items]) + "}")


def fill(memo: Memo, documents: Mapping[str, EnvDocument], raw: Mapping[str, Mapping[str, Any]]) -> None:
    """Write what the matrix file and the reports share of every check of these documents (by cell),
    before they write the checks one by one: of a document as read (`raw`), the text of all its checks at
    once and of each check the parts reports show (model/readtext.py); of any other, every check's samples,
    evidence and duration at once (`Memo.keep_all`)."""
    others = [doc for cell, doc in documents.items() if id(doc) not in memo.filled
              and not (cell in raw and readtext.keep(memo, doc.checks, raw[cell].get("checks")))]
    records = [record for doc in others for record in doc.checks]
    memo.keep_lists([m.samples for record in records for m in record.measurements.values()])
    memo.keep_all([record.evidence for record in records if record.evidence])
    memo.keep_numbers([record.duration_s for record in records])
    memo.filled.update(map(id, documents.values()))
