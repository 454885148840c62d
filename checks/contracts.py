"""Contract snapshots: the OpenAPI differ and the public Python API comparison (griffe).

A contract change is breaking when a client written against the snapshot could stop working:
a removed path or operation, a removed parameter, a parameter or request body newly required,
a removed or changed response schema. Additions are fine and reported as such.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterator, List, Tuple

SNAPSHOTS = Path(__file__).resolve().parent / "snapshots"
UPDATE_ENV = "READINESS_UPDATE_SNAPSHOTS"
# Volatile or descriptive fields a Python API snapshot does not keep: they change with every
# edit and no caller depends on them.
_VOLATILE_KEYS = frozenset({"docstring", "filepath"})
_LINE_KEYS = frozenset({"lineno", "endlineno"})
# Attributes whose value is expected to change between releases.
_VALUE_MAY_CHANGE = frozenset({"__version__"})

Operation = Dict[str, Any]
ParameterKey = Tuple[str, str]


@dataclass
class ContractDiff:
    """What changed between a snapshot and the current contract."""

    breaking: List[str] = field(default_factory=list)
    additions: List[str] = field(default_factory=list)


def updating_snapshots() -> bool:
    """True when the run was asked to rewrite snapshots instead of comparing against them."""
    return os.environ.get(UPDATE_ENV, "") not in ("", "0")


def write_snapshot(path: Path, document: Any) -> None:
    """Write a snapshot as stable, sorted, UTF-8 JSON."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    path.write_text(text, encoding="utf-8")


def read_snapshot(path: Path) -> Any:
    """The committed snapshot; a missing one says how to create it."""
    if not path.is_file():
        raise FileNotFoundError(f"no snapshot at {path}: run the suite once with {UPDATE_ENV}=1")
    return json.loads(path.read_text(encoding="utf-8"))


def diff_openapi(old: Dict[str, Any], new: Dict[str, Any]) -> ContractDiff:
    """Compare two OpenAPI documents operation by operation."""
    diff = ContractDiff()
    old_ops, new_ops = dict(_operations(old)), dict(_operations(new))
    for key in sorted(set(old_ops) | set(new_ops)):
        where = f"{key[1].upper()} {key[0]}"
        if key not in new_ops:
            diff.breaking.append(f"{where}: operation removed")
        elif key not in old_ops:
            diff.additions.append(f"{where}: operation added")
        else:
            _diff_operation(where, old_ops[key], new_ops[key], diff)
    return diff


def _operations(document: Dict[str, Any]) -> Iterator[Tuple[Tuple[str, str], Operation]]:
    for path, item in (document.get("paths") or {}).items():
        for method, operation in item.items():
            if method in ("get", "put", "post", "delete", "patch", "head", "options", "trace"):
                yield (path, method), operation


def _diff_operation(where: str, old: Operation, new: Operation, diff: ContractDiff) -> None:
    _diff_parameters(where, _parameters(old), _parameters(new), diff)
    _diff_request_body(where, old.get("requestBody"), new.get("requestBody"), diff)
    _diff_responses(where, old.get("responses") or {}, new.get("responses") or {}, diff)


def _parameters(operation: Operation) -> Dict[ParameterKey, Dict[str, Any]]:
    return {(p["in"], p["name"]): p for p in operation.get("parameters") or []}


def _diff_parameters(
    where: str,
    old: Dict[ParameterKey, Dict[str, Any]],
    new: Dict[ParameterKey, Dict[str, Any]],
    diff: ContractDiff,
) -> None:
    for key in sorted(set(old) | set(new)):
        name = f"{where}: {key[0]} parameter {key[1]!r}"
        if key not in new:
            diff.breaking.append(f"{name} removed")
        elif key not in old:
            target = diff.breaking if new[key].get("required") else diff.additions
            target.append(f"{name} added" + (" as required" if new[key].get("required") else ""))
        elif new[key].get("required") and not old[key].get("required"):
            diff.breaking.append(f"{name} became required")
        elif new[key].get("schema") != old[key].get("schema"):
            diff.breaking.append(f"{name} schema changed")


def _diff_request_body(where: str, old: Any, new: Any, diff: ContractDiff) -> None:
    if new is None or old == new:
        return
    if old is None:
        if new.get("required"):
            diff.breaking.append(f"{where}: request body added as required")
        return
    if new.get("required") and not old.get("required"):
        diff.breaking.append(f"{where}: request body became required")
    if _required_fields(new) - _required_fields(old):
        added = ", ".join(sorted(_required_fields(new) - _required_fields(old)))
        diff.breaking.append(f"{where}: request body fields newly required: {added}")


def _required_fields(body: Dict[str, Any]) -> set:  # type: ignore[type-arg]
    fields: set = set()  # type: ignore[type-arg]
    for media in (body.get("content") or {}).values():
        fields |= set((media.get("schema") or {}).get("required") or [])
    return fields


def _diff_responses(
    where: str, old: Dict[str, Any], new: Dict[str, Any], diff: ContractDiff
) -> None:
    for status in sorted(set(old) | set(new), key=str):
        name = f"{where}: response {status}"
        if status not in new:
            diff.breaking.append(f"{name} removed")
        elif status not in old:
            diff.additions.append(f"{name} added")
        elif old[status].get("content") != new[status].get("content"):
            diff.breaking.append(f"{name} schema changed")


def python_api_snapshot(package: str, search_path: Path) -> Dict[str, Any]:
    """The package's API as griffe sees it statically, without volatile fields."""
    import griffe

    module = griffe.load(package, search_paths=[str(search_path)], resolve_aliases=False)
    return _without_volatile(json.loads(module.as_json()))


def _without_volatile(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            k: None if k in _LINE_KEYS else _without_volatile(v)
            for k, v in value.items()
            if k not in _VOLATILE_KEYS
        }
    if isinstance(value, list):
        return [_without_volatile(item) for item in value]
    return value


def python_api_breaks(old: Dict[str, Any], new: Dict[str, Any]) -> List[str]:
    """griffe's breaking changes from the `old` snapshot to the `new` one, explained."""
    import griffe

    breakages = griffe.find_breaking_changes(_decode(old), _decode(new))
    return [
        _explain(breakage)
        for breakage in breakages
        if not (
            breakage.kind.name == "ATTRIBUTE_CHANGED_VALUE"
            and breakage.obj.name in _VALUE_MAY_CHANGE
        )
    ]


def _explain(breakage: Any) -> str:
    """One line per break (griffe's own explain() needs source files a snapshot does not keep)."""
    text = f"{breakage.obj.path}: {breakage.kind.value}"
    old = getattr(breakage.old_value, "name", breakage.old_value)
    new = getattr(breakage.new_value, "name", breakage.new_value)
    if old is not None or new is not None:
        text += f" ({old!s} -> {new!s})"
    return text


def _decode(snapshot: Dict[str, Any]) -> Any:
    """A griffe module from a snapshot, inside its own collection so its aliases resolve."""
    import griffe

    module = json.loads(json.dumps(snapshot), object_hook=griffe.json_decoder)
    collection = griffe.ModulesCollection()
    collection.set_member(module.path, module)
    # griffe's JSON decoder builds a detached module; aliases resolve through the collection of
    # the top module, which the decoder does not set and the public API offers no setter for.
    module._modules_collection = collection
    return module
