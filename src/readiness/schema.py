"""The JSON Schemas shipped with readiness, and the small validator that applies them.

Readers validate every document against the shipped schema itself, so what the loader accepts
and what the published schema accepts cannot drift apart. The validator covers the part of
JSON Schema (draft 2020-12) that the shipped schemas use, with the same semantics as the
reference implementation; it needs nothing beyond the standard library, because it runs inside
every checked environment.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from importlib import resources
from typing import Any, Callable, Dict, Iterator, List, Mapping, Tuple

Schema = Mapping[str, Any]

# Keywords that only annotate; every other keyword must be one `_KEYWORDS` knows.
_ANNOTATIONS = frozenset({"$schema", "$id", "$defs", "title", "description"})


@lru_cache(maxsize=None)
def shipped(kind: str, version: int) -> Dict[str, Any]:
    """The shipped schema of `kind` (e.g. "env") at `version`."""
    name = f"{kind}-{version}.schema.json"
    text = resources.files("readiness").joinpath("schemas", name).read_text(encoding="utf-8")
    schema: Dict[str, Any] = json.loads(text)
    return schema


def first_error(instance: Any, schema: Schema) -> Tuple[str, str] | None:
    """The first place where `instance` breaks `schema`, as (field path, problem), or None."""
    for error in _errors(instance, schema, schema, "$"):
        return error
    return None


def _errors(value: Any, node: Schema, root: Schema, path: str) -> Iterator[Tuple[str, str]]:
    for keyword, check in _plan(node):
        yield from check(value, node[keyword], node, root, path)


_PLANS: Dict[int, Tuple[Any, List[Tuple[str, Any]]]] = {}


def _plan(node: Schema) -> List[Tuple[str, Any]]:
    """The keywords of a schema node in checking order, worked out once per node."""
    cached = _PLANS.get(id(node))
    if cached is not None and cached[0] is node:
        return cached[1]
    # Type and presence first, so the first error reported is the most telling one.
    plan = []
    for keyword in sorted(node, key=lambda k: _ORDER.get(k, len(_ORDER))):
        if keyword in _ANNOTATIONS:
            continue
        check = _KEYWORDS.get(keyword)
        if check is None:
            raise ValueError(f"schema keyword {keyword!r} is not supported by readiness.schema")
        plan.append((keyword, check))
    _PLANS[id(node)] = (node, plan)  # the node is kept alive, so its id stays its own
    return plan


def _is_type(value: Any, name: str) -> bool:
    if name == "null":
        return value is None
    if name == "boolean":
        return isinstance(value, bool)
    if name == "object":
        return isinstance(value, dict)
    if name == "array":
        return isinstance(value, list)
    if name == "string":
        return isinstance(value, str)
    is_number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if name == "number":
        return is_number
    if name == "integer":
        return is_number and (isinstance(value, int) or float(value).is_integer())
    raise ValueError(f"unknown JSON type {name!r} in schema")


def _json_equal(left: Any, right: Any) -> bool:
    # JSON Schema equality: booleans are not numbers, 1 == 1.0, containers compare deeply.
    if isinstance(left, bool) or isinstance(right, bool):
        return isinstance(left, bool) and isinstance(right, bool) and left == right
    if _is_type(left, "number") and _is_type(right, "number"):
        return bool(left == right)
    if isinstance(left, dict) and isinstance(right, dict):
        return left.keys() == right.keys() and all(_json_equal(left[k], right[k]) for k in left)
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(map(_json_equal, left, right))
    return type(left) is type(right) and bool(left == right)


def _describe(value: Any) -> str:
    for name in ("null", "boolean", "integer", "number", "string", "array", "object"):
        if _is_type(value, name):
            return name
    return type(value).__name__


def _type(value: Any, arg: Any, node: Schema, root: Schema, path: str) -> Iterator[Tuple[str, str]]:
    names: List[str] = [arg] if isinstance(arg, str) else list(arg)
    if not any(_is_type(value, name) for name in names):
        yield path, f"expected {' or '.join(names)}, found {_describe(value)}"


def _const(value: Any, arg: Any, node: Schema, root: Schema, path: str) -> Iterator[Tuple[str, str]]:
    if not _json_equal(value, arg):
        yield path, f"expected {json.dumps(arg)}, found {_short(value)}"


def _enum(value: Any, arg: Any, node: Schema, root: Schema, path: str) -> Iterator[Tuple[str, str]]:
    if not any(_json_equal(value, option) for option in arg):
        yield path, f"expected one of {', '.join(json.dumps(o) for o in arg)}; found {_short(value)}"


def _properties(value: Any, arg: Any, node: Schema, root: Schema, path: str) -> Iterator[Tuple[str, str]]:
    if isinstance(value, dict):
        for name, subschema in arg.items():
            if name in value:
                yield from _errors(value[name], subschema, root, f"{path}.{name}")


def _required(value: Any, arg: Any, node: Schema, root: Schema, path: str) -> Iterator[Tuple[str, str]]:
    if isinstance(value, dict):
        for name in arg:
            if name not in value:
                yield f"{path}.{name}", "missing"


def _additional(value: Any, arg: Any, node: Schema, root: Schema, path: str) -> Iterator[Tuple[str, str]]:
    if not isinstance(value, dict):
        return
    known = node.get("properties", {})
    for name in value:
        if name in known:
            continue
        if arg is False:
            yield f"{path}.{name}", "not a field of this kind of document"
        elif isinstance(arg, dict):
            yield from _errors(value[name], arg, root, f"{path}.{name}")


def _property_names(value: Any, arg: Any, node: Schema, root: Schema, path: str) -> Iterator[Tuple[str, str]]:
    if isinstance(value, dict):
        for name in value:
            for where, problem in _errors(name, arg, root, f"{path}.{name}"):
                yield where, f"name {problem}"


def _items(value: Any, arg: Any, node: Schema, root: Schema, path: str) -> Iterator[Tuple[str, str]]:
    if isinstance(value, list):
        for index, item in enumerate(value):
            yield from _errors(item, arg, root, f"{path}[{index}]")


def _min_items(value: Any, arg: Any, node: Schema, root: Schema, path: str) -> Iterator[Tuple[str, str]]:
    if isinstance(value, list) and len(value) < arg:
        yield path, f"needs at least {arg} item(s), found {len(value)}"


def _minimum(value: Any, arg: Any, node: Schema, root: Schema, path: str) -> Iterator[Tuple[str, str]]:
    if _is_type(value, "number") and value < arg:
        yield path, f"must be at least {arg}, found {value}"


def _min_length(value: Any, arg: Any, node: Schema, root: Schema, path: str) -> Iterator[Tuple[str, str]]:
    if isinstance(value, str) and len(value) < arg:
        yield path, f"must be at least {arg} character(s) long"


def _max_length(value: Any, arg: Any, node: Schema, root: Schema, path: str) -> Iterator[Tuple[str, str]]:
    if isinstance(value, str) and len(value) > arg:
        yield path, f"must be at most {arg} characters long, found {len(value)}"


def _pattern(value: Any, arg: Any, node: Schema, root: Schema, path: str) -> Iterator[Tuple[str, str]]:
    if isinstance(value, str) and not _compiled(arg).search(value):
        yield path, f"{_short(value)} does not match {arg}"


def _ref(value: Any, arg: Any, node: Schema, root: Schema, path: str) -> Iterator[Tuple[str, str]]:
    prefix = "#/$defs/"
    if not arg.startswith(prefix):
        raise ValueError(f"only local $defs references are supported, not {arg!r}")
    yield from _errors(value, root["$defs"][arg[len(prefix):]], root, path)


@lru_cache(maxsize=None)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=True)
    return text if len(text) <= 60 else text[:57] + "..."


_Check = Callable[[Any, Any, Schema, Schema, str], Iterator[Tuple[str, str]]]
_KEYWORDS: Dict[str, _Check] = {
    "type": _type,
    "const": _const,
    "enum": _enum,
    "properties": _properties,
    "required": _required,
    "additionalProperties": _additional,
    "propertyNames": _property_names,
    "items": _items,
    "minItems": _min_items,
    "minimum": _minimum,
    "minLength": _min_length,
    "maxLength": _max_length,
    "pattern": _pattern,
    "$ref": _ref,
}
_ORDER = {"$ref": 0, "type": 1, "const": 2, "enum": 3, "required": 4, "additionalProperties": 5}
