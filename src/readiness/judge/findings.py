"""A finding: one claim of the verdict, what it does to the verdict (its effect), and the checks and
cells it rests on; with the wording findings share."""

from __future__ import annotations

import enum
from operator import itemgetter
from typing import Any, Dict, List, NamedTuple, Optional, Sequence, Tuple

from readiness.model.jsontext import dumps, string


class Effect(str, enum.Enum):
    """What a finding does to the verdict, declared strongest first."""

    NO_GO = "no-go"
    INCOMPLETE = "incomplete"
    INCONCLUSIVE = "inconclusive"
    WAIVED = "waived"
    WARNING = "warning"
    INFO = "info"


_EFFECT_RANK = {effect: index for index, effect in enumerate(Effect)}
# Each effect's value, by effect: `.value` is a property written in Python, and a verdict has many findings.
EFFECT_VALUES = {effect: effect.value for effect in Effect}
_EFFECT_TEXT = {effect: string(value) for effect, value in EFFECT_VALUES.items()}


class Finding(NamedTuple):
    """One claim of the verdict, with the checks and cells it rests on. A named tuple, not a frozen
    dataclass: a verdict can make one per measurement, and a named tuple is made at a third the cost."""

    effect: Effect
    kind: str
    message: str
    checks: Tuple[str, ...] = ()
    cells: Tuple[str, ...] = ()
    # The parts of a check's finding that reports fold many checks by (judge/causes.py): the
    # first line of its message, and what the policy made of it (" - waived"). Not in to_dict.
    detail: str = ""
    note: str = ""

    def to_dict(self) -> Dict[str, Any]:
        return {"effect": EFFECT_VALUES[self.effect], "kind": self.kind, "message": self.message,
                "checks": list(self.checks), "cells": list(self.cells)}

    def to_json(self) -> str:
        """`to_dict()` as JSON text (model/jsontext.py): a verdict lists tens of thousands of findings."""
        try:  # every field a string, as it is typed
            return (f'{{"effect":{_EFFECT_TEXT[self.effect]},"kind":{string(self.kind)},'
                    f'"message":{string(self.message)},"checks":[{",".join(map(string, self.checks))}],'
                    f'"cells":[{",".join(map(string, self.cells))}]}}')
        except TypeError:  # one that is not: as json writes it
            return dumps(self.to_dict())

    def sort_key(self) -> Tuple[int, str, Tuple[str, ...], Tuple[str, ...], str]:
        return _EFFECT_RANK[self.effect], self.kind, self.checks, self.cells, self.message


# Named tuples of many are made as `kind._make` makes them, `tuple.__new__(kind, fields)` with all
# fields, defaults included: a verdict makes a finding and a result per measurement, and the call of the
# generated `__new__` of each is a good part of what that costs.
NEW = tuple.__new__


def in_order(findings: Sequence[Finding]) -> List[Finding]:
    """The findings sorted by `Finding.sort_key`: those of each effect apart, each group sorted by
    the rest of the key, taken in C."""
    groups: Dict[Effect, List[Finding]] = {effect: [] for effect in Effect}
    for finding in findings:
        groups[finding.effect].append(finding)
    ordered: List[Finding] = []
    for group in groups.values():  # in the order of the effects' ranks
        ordered += sorted(group, key=_AFTER_EFFECT)
    return ordered


_AFTER_EFFECT = itemgetter(1, 3, 4, 2)  # kind, checks, cells, message


def findings_json(findings: Sequence[Finding]) -> List[str]:
    """`to_json()` of each finding, written here (a verdict can hold a finding per measurement)."""
    texts = []
    for finding in findings:
        effect, kind, message, checks, cells, _, _ = finding
        try:  # every field a string, as it is typed; one check and one cell, as most name, without a join
            texts.append(f'{{"effect":{_EFFECT_TEXT[effect]},"kind":{string(kind)},"message":{string(message)},'
                         f'"checks":[{string(checks[0]) if len(checks) == 1 else ",".join(map(string, checks))}],'
                         f'"cells":[{string(cells[0]) if len(cells) == 1 else ",".join(map(string, cells))}]}}')
        except TypeError:  # one that is not: as json writes it
            texts.append(dumps(finding.to_dict()))
    return texts


def cells_text(cells: Sequence[str], required: Sequence[str]) -> str:
    """The cells a finding names; every required cell, when there are more than three, said so."""
    if len(cells) > 3 and set(cells) == set(required):
        return f"all {len(cells)} required cells"
    return ", ".join(cells)


def first_line(text: Optional[str], limit: int = 200) -> str:
    """The first line of a message, cut to `limit` characters."""
    line = (text or "").strip().splitlines()[0] if (text or "").strip() else ""
    return line if len(line) <= limit else line[: limit - 3] + "..."
