"""The `check` marker (its help is the plugin's `MARKER_HELP`): what it declares about a test (id,
title, category, severity, platforms), read and validated once per collected item into a `CheckInfo`."""

from __future__ import annotations

from typing import Any, Dict, Iterable, List, Mapping, NamedTuple, Optional

import pytest

PLATFORMS = ("linux", "windows", "macos")
# sys.platform's names are taken too, and recorded as the names above.
PLATFORM_ALIASES = {"win32": "windows", "darwin": "macos"}
_FIELDS = frozenset({"id", "title", "category", "severity", "platforms"})
# The document's severities (`readiness.model.document.Severity`) by name: an xdist worker, which
# writes no document, reads the markers without importing it.
SEVERITIES = {"critical": "critical", "major": "major", "minor": "minor", "info": "info"}


class CheckInfo(NamedTuple):  # not a frozen dataclass: defining one costs each recording process ~2 ms
    """One collected test as a check: its marker's fields, defaults filled, and whether it
    applies to this cell's platform."""

    id: str
    nodeid: str
    title: str
    category: str = "general"
    severity: str = "major"  # one of SEVERITIES
    platforms: Optional[List[str]] = None
    applicable: bool = True

    def to_dict(self) -> Dict[str, Any]:
        """Plain JSON data: xdist workers hand their collection to the controller this way."""
        platforms = None if self.platforms is None else list(self.platforms)
        return {"id": self.id, "nodeid": self.nodeid, "title": self.title, "category": self.category,
                "severity": self.severity, "platforms": platforms, "applicable": self.applicable}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CheckInfo:
        return cls(data["id"], data["nodeid"], data["title"], data["category"], data["severity"],
                   data["platforms"], data["applicable"])

    @classmethod
    def fallback(cls, nodeid: str) -> CheckInfo:
        """A check the controller never saw collected (a worker that died early): the defaults."""
        return cls(id=nodeid, nodeid=nodeid, title=nodeid.rsplit("::", 1)[-1])


def check_info(item: pytest.Item, cell_os: str) -> CheckInfo:
    """The marker's fields for one item, defaults filled, validated; raises UsageError."""
    fields = _marker_fields(item)
    nodeid = item.nodeid
    if not fields:  # most tests: a check with the defaults
        return CheckInfo(id=nodeid, nodeid=nodeid, title=str(_docstring_title(item) or item.name))
    severity = fields.get("severity", "major")
    if severity not in SEVERITIES:
        raise pytest.UsageError(
            f"{nodeid}: severity={severity!r} is not one of critical, major, minor, info"
        )
    platforms = _platforms(item, fields.get("platforms"))
    return CheckInfo(
        id=_check_id(item, fields.get("id")),
        nodeid=nodeid,
        title=str(fields.get("title") or _docstring_title(item) or item.name),
        category=str(fields.get("category") or "general"),
        severity=SEVERITIES[severity],
        platforms=platforms,
        applicable=platforms is None or cell_os in platforms,
    )


def _marker_fields(item: pytest.Item) -> Dict[str, Any]:
    fields: Dict[str, Any] = {}
    for marker in item.iter_markers("check"):  # closest first: the test's own wins
        if marker.args:
            raise pytest.UsageError(f"{item.nodeid}: @pytest.mark.check takes keyword arguments only")
        for key, value in marker.kwargs.items():
            fields.setdefault(key, value)
    if not fields:
        return fields
    unknown = set(fields) - _FIELDS
    if unknown:
        raise pytest.UsageError(
            f"{item.nodeid}: @pytest.mark.check has no argument {sorted(unknown)[0]!r} "
            "(it takes id, title, category, severity, platforms)"
        )
    return fields


def _platforms(item: pytest.Item, declared: Any) -> Optional[List[str]]:
    if declared is None:
        return None
    given = [declared] if isinstance(declared, str) else list(declared)
    platforms = [PLATFORM_ALIASES.get(p, p) if isinstance(p, str) else p for p in given]
    bad = [g for g, p in zip(given, platforms) if p not in PLATFORMS]
    if bad:
        raise pytest.UsageError(
            f"{item.nodeid}: platforms={bad[0]!r} is not one of {', '.join(PLATFORMS)} "
            f"(or {', '.join(PLATFORM_ALIASES)})"
        )
    return list(dict.fromkeys(platforms))


def _check_id(item: pytest.Item, declared: Any) -> str:
    """`id=` with the parameter set's id appended, else the node id."""
    if not declared:
        return str(item.nodeid)
    callspec = getattr(item, "callspec", None)
    return str(declared if callspec is None else f"{declared}[{callspec.id}]")


def _docstring_title(item: pytest.Item) -> str:
    doc = getattr(getattr(item, "obj", None), "__doc__", None) or ""
    return doc.strip().splitlines()[0] if doc.strip() else ""


def check_unique(infos: Iterable[CheckInfo]) -> None:
    """Refuse two tests that claim one check id; the message names both."""
    seen: Dict[str, str] = {}
    for info in infos:
        other = seen.setdefault(info.id, info.nodeid)
        if other != info.nodeid:
            raise pytest.UsageError(
                f"readiness: check id {info.id!r} is used by both {other} and "
                f"{info.nodeid}; give each its own id= in @pytest.mark.check"
            )
