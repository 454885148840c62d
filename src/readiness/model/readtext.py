"""The checks of an env document as read, written by json's encoder in one call: the matrix file
embeds that text, and the reports take from it the part of each check they show alike (its evidence
and measurements) where that reads as the typed record writes it (model/envtext.py).

A part is cut where its key first appears in a check's text: with the keys in the order readiness
writes them, every value before it is a string, a list of strings, a number or null, whose text
cannot hold a key (a quote inside a string is written escaped).
"""

from __future__ import annotations

from itertools import chain, repeat
from operator import attrgetter, eq, is_, itemgetter
from typing import Any, Dict, List, Sequence

from readiness.model.document import CheckRecord
from readiness.model.jsontext import Memo

# A check record's keys in the order readiness writes them (CheckRecord.to_dict).
CHECK_KEYS = ("id", "nodeid", "title", "category", "severity", "platforms", "outcome", "attempts", "duration_s",
              "message", "longrepr", "first_failure", "evidence", "measurements")
# A measurement's keys as Measurement.to_dict writes them (`load` and `sampling` when known).
_MEASUREMENT_KEYS = frozenset({("unit", "samples"), ("unit", "samples", "load"), ("unit", "samples", "sampling"),
                               ("unit", "samples", "load", "sampling")})
_SAMPLING_KEYS = ("taken", "max", "reason")


def keep(memo: Memo, records: Sequence[CheckRecord], checks: Any) -> bool:
    """Keep the text of `checks` (a document's checks as read, `records` their typed form) for the
    matrix file, and, by each record, the tail of its text that reports show as it is:
    `"evidence":...,"measurements":...`. False when the checks do not read as readiness writes them: the
    reports then write each check's parts themselves."""
    if type(checks) is not list or not checks or len(checks) != len(records) or {*map(type, checks)} != {dict}:
        return False
    parts = memo.apart(checks)
    if parts is None:
        return False
    memo.keep(checks, "".join(["[", ",".join(parts), "]"]))
    if not all(map(eq, map(tuple, checks), repeat(CHECK_KEYS))) or not _same_records(records, checks) \
            or not _as_written(checks):
        return False
    memo.keep_texts(records, [part[part.index(',"evidence":') + 1:-1] for part in parts])
    return True


def _same_records(records: Sequence[CheckRecord], checks: List[Dict[str, Any]]) -> bool:
    """Each record read from the check beside it: it holds the very evidence read."""
    return all(map(is_, map(attrgetter("evidence"), records), map(itemgetter("evidence"), checks)))


def _as_written(checks: List[Dict[str, Any]]) -> bool:
    """Whether each check's measurements as read have the text of their typed form (Measurement.to_dict,
    names sorted): the keys in its order, floats for samples, integers where it takes integers, no null it
    would leave out, no pairs (their numbers are taken as floats)."""
    measurements = list(map(itemgetter("measurements"), checks))
    if {*map(type, measurements)} != {dict}:
        return False
    if {*map(len, measurements)} - {0, 1} and any(list(m) != sorted(m) for m in measurements if len(m) > 1):
        return False
    each = list(chain.from_iterable(map(dict.values, measurements)))
    if not each:
        return True
    if {*map(type, each)} != {dict}:
        return False
    keys = {*map(tuple, each)}
    if not _MEASUREMENT_KEYS.issuperset(keys):
        return False
    samples = list(map(itemgetter("samples"), each))
    if {*map(type, map(itemgetter("unit"), each))} != {str} or {*map(type, samples)} != {list} or not \
            {*map(type, chain.from_iterable(samples))} <= {float}:
        return False
    if keys == {("unit", "samples")}:  # nothing more to look at
        return True
    if None in [m["load"] for m in each if "load" in m]:
        return False
    return _sampling_as_written([m["sampling"] for m in each if "sampling" in m])


def _sampling_as_written(samplings: List[Any]) -> bool:
    if not samplings:
        return True
    if {*map(type, samplings)} != {dict} or {*map(tuple, samplings)} != {_SAMPLING_KEYS}:
        return False
    return ({*map(type, map(itemgetter("taken"), samplings))} | {*map(type, map(itemgetter("max"), samplings))}
            == {int} and {*map(type, map(itemgetter("reason"), samplings))} == {str})
