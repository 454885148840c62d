"""The JSON Schemas shipped with readiness, and the small validator that applies them.

Readers validate every document against the shipped schema itself, so what the loader accepts
and what the published schema accepts cannot drift apart. The validator covers the part of
JSON Schema (draft 2020-12) that the shipped schemas use, with the same semantics as the
reference implementation; it needs nothing beyond the standard library, because it runs inside
every checked environment.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any, Callable, Dict, List, Mapping, Optional, Set, Tuple, TypeVar

from readiness.model.schemabatch import ANNOTATIONS, Batch, BatchCompiler, ecma_pattern

Schema = Mapping[str, Any]

# Keywords that only annotate; every other keyword must be one `_Compiler` knows.
_ANNOTATIONS = ANNOTATIONS


@cache
def shipped(kind: str, version: int) -> Dict[str, Any]:
    """The shipped schema of `kind` (e.g. "env") at `version`."""
    name = f"{kind}-{version}.schema.json"
    text = resources.files("readiness").joinpath("schemas").joinpath(name).read_text(encoding="utf-8")
    schema: Dict[str, Any] = json.loads(text)
    return schema


def first_error(instance: Any, schema: Schema) -> Optional[Tuple[str, str]]:
    """The first place where `instance` breaks `schema`, as (field path, problem), or None."""
    if _compiled(_BATCHES, schema, _batch_of)([instance]):  # every field valid, a column at a time (schemabatch.py)
        return None
    error = _compiled(_CHECKS, schema, _check_of)(instance)
    if error is None:
        return None
    steps, problem = error
    return _path(steps), problem


# A schema is compiled into nested checking functions when first needed (the check naming the error
# only for a document the batch refuses). A check returns None for a valid value, or (steps, problem)
# with steps to the bad value, built only on the way out of an error: valid documents cost no strings.
Error = Tuple[List[Any], str]
Check = Callable[[Any], Optional[Error]]
_CHECKS: Dict[int, Tuple[Schema, Check]] = {}
_BATCHES: Dict[int, Tuple[Schema, Batch]] = {}
_T = TypeVar("_T")


def _compiled(cache: Dict[int, Tuple[Schema, _T]], schema: Schema, compile_: Callable[[Schema], _T]) -> _T:
    cached = cache.get(id(schema))
    if cached is None or cached[0] is not schema:  # the schema is kept alive: its id stays its own
        cached = cache[id(schema)] = (schema, compile_(schema))
    return cached[1]


def _compiled_schema(key: int, schema: Schema) -> Tuple[Check, Batch]:  # both checks; `key`: the schema's id
    return _compiled(_CHECKS, schema, _check_of), _compiled(_BATCHES, schema, _batch_of)


def _check_of(schema: Schema) -> Check:
    return _Compiler(schema).node(schema)


def _batch_of(schema: Schema) -> Batch:
    return BatchCompiler(schema).node(schema)


def _path(steps: List[Any]) -> str:
    text = "$"
    for step in steps:
        text += f"[{step}]" if isinstance(step, int) else f".{step}"
    return text


class _Compiler:
    """Turns schema nodes into checks, keyword by keyword, type and presence first."""

    def __init__(self, root: Schema) -> None:
        self.root = root
        self.refs: Dict[str, Check] = {}
        self.building: Set[str] = set()  # definitions being compiled (a reference to one recurses)

    def node(self, node: Schema) -> Check:
        generic = self._composed(node)
        keywords = set(node) - _ANNOTATIONS
        types = node.get("type")
        names = [types] if isinstance(types, str) else types if isinstance(types, list) else []
        if "string" in names and keywords <= _STRING_KEYWORDS:
            return _fast_string(node, generic)
        closed_or_open = node.get("additionalProperties", True) in (True, False)
        if names == ["object"] and keywords <= _OBJECT_KEYWORDS and closed_or_open:
            return self._fast_object(node, generic)
        return generic

    def _fast_object(self, node: Schema, generic: Check) -> Check:
        """An object node checked in one function when the value is a plain dict; the same checks,
        in the same order (required, then unknown names, then each property), as `generic`."""
        required = list(node.get("required", ()))
        closed = node.get("additionalProperties", True) is False
        known = frozenset(node.get("properties", {}))
        properties = [(name, self.node(sub)) for name, sub in node.get("properties", {}).items()]

        def check_object(value: Any) -> Optional[Error]:
            if type(value) is not dict:
                return generic(value)
            for name in required:
                if name not in value:
                    return [name], "missing"
            if closed and not known.issuperset(value):
                return generic(value)  # names the first unknown field
            for name, check in properties:
                if name in value:
                    error = check(value[name])
                    if error is not None:
                        return [name, *error[0]], error[1]
            return None

        return check_object

    def _composed(self, node: Schema) -> Check:
        checks: List[Check] = []
        for keyword in sorted(node, key=lambda k: _ORDER.get(k, len(_ORDER))):
            if keyword in _ANNOTATIONS:
                continue
            build = getattr(self, "k_" + keyword.replace("$", ""), None)
            if build is None:
                raise ValueError(f"schema keyword {keyword!r} is not supported by readiness.model.schema")
            checks.append(build(node[keyword], node))
        if len(checks) == 1:
            return checks[0]
        if len(checks) == 2:  # the common case (a type and one bound): no loop
            first, second = checks

            def check_both(value: Any) -> Optional[Error]:
                return first(value) or second(value)  # an error is a non-empty, so true, tuple

            return check_both

        def check_all(value: Any) -> Optional[Error]:
            for check in checks:
                error = check(value)
                if error is not None:
                    return error
            return None

        return check_all

    def k_ref(self, arg: str, node: Schema) -> Check:
        prefix = "#/$defs/"
        if not arg.startswith(prefix):
            raise ValueError(f"only local $defs references are supported, not {arg!r}")
        name = arg[len(prefix):]
        if name in self.refs:
            return self.refs[name]
        if name in self.building:  # a definition that refers to itself: looked up when used

            def check_ref(value: Any) -> Optional[Error]:
                return self.refs[name](value)

            return check_ref
        # Compiled once, here, so a valid value costs no lookup on the way through a reference.
        self.building.add(name)
        check = self.refs[name] = self.node(self.root["$defs"][name])
        self.building.discard(name)
        return check

    def k_type(self, arg: Any, node: Schema) -> Check:
        names: List[str] = [arg] if isinstance(arg, str) else list(arg)
        exact = frozenset(t for name in names for t in _EXACT_TYPES[name])  # KeyError: unknown type
        integral_floats = "integer" in names and "number" not in names
        expected = " or ".join(names)

        def check_type(value: Any) -> Optional[Error]:
            kind = type(value)
            if kind in exact:  # what json.loads makes: one dict lookup
                return None
            if integral_floats and kind is float and value.is_integer():
                return None
            if kind not in _JSON_TYPES and any(_is_type(value, name) for name in names):
                return None  # a subclass of a JSON type, judged the slow way
            return [], f"expected {expected}, found {_describe(value)}"

        return check_type

    def k_const(self, arg: Any, node: Schema) -> Check:
        def check_const(value: Any) -> Optional[Error]:
            return None if _json_equal(value, arg) else ([], f"expected {json.dumps(arg)}, found {_short(value)}")

        return check_const

    def k_enum(self, arg: Any, node: Schema) -> Check:
        options = ", ".join(json.dumps(o) for o in arg)
        strings = frozenset(o for o in arg if isinstance(o, str))
        others = [o for o in arg if not isinstance(o, str)]

        def check_enum(value: Any) -> Optional[Error]:
            if type(value) is str and value in strings:
                return None
            if any(_json_equal(value, option) for option in others) or (
                isinstance(value, str) and type(value) is not str and value in strings
            ):
                return None
            return [], f"expected one of {options}; found {_short(value)}"

        return check_enum

    def k_properties(self, arg: Any, node: Schema) -> Check:
        properties = [(name, self.node(sub)) for name, sub in arg.items()]

        def check_properties(value: Any) -> Optional[Error]:
            if isinstance(value, dict):
                for name, check in properties:
                    if name in value:
                        error = check(value[name])
                        if error is not None:
                            return [name, *error[0]], error[1]
            return None

        return check_properties

    def k_required(self, arg: Any, node: Schema) -> Check:
        def check_required(value: Any) -> Optional[Error]:
            if isinstance(value, dict):
                for name in arg:
                    if name not in value:
                        return [name], "missing"
            return None

        return check_required

    def k_additionalProperties(self, arg: Any, node: Schema) -> Check:
        known = frozenset(node.get("properties", {}))
        sub = self.node(arg) if isinstance(arg, dict) else None

        def check_additional(value: Any) -> Optional[Error]:
            if not isinstance(value, dict) or arg is True:
                return None
            for name in value:
                if name in known:
                    continue
                if sub is None:
                    return [name], "not a field of this kind of document"
                error = sub(value[name])
                if error is not None:
                    return [name, *error[0]], error[1]
            return None

        return check_additional

    def k_propertyNames(self, arg: Any, node: Schema) -> Check:
        sub = self.node(arg)

        def check_names(value: Any) -> Optional[Error]:
            if isinstance(value, dict):
                for name in value:
                    error = sub(name)
                    if error is not None:
                        return [name], f"name {error[1]}"
            return None

        return check_names

    def k_items(self, arg: Any, node: Schema) -> Check:
        sub = self.node(arg)

        def check_items(value: Any) -> Optional[Error]:
            if isinstance(value, list):
                for index, item in enumerate(value):
                    error = sub(item)
                    if error is not None:
                        return [index, *error[0]], error[1]
            return None

        return check_items

    # One closure per bound, with no helper calls: these run for nearly every value of a document.
    def k_minItems(self, arg: Any, node: Schema) -> Check:
        def check_min_items(value: Any) -> Optional[Error]:
            if isinstance(value, list) and len(value) < arg:
                return [], f"needs at least {arg} item(s), found {len(value)}"
            return None

        return check_min_items

    def k_maxItems(self, arg: Any, node: Schema) -> Check:
        def check_max_items(value: Any) -> Optional[Error]:
            if isinstance(value, list) and len(value) > arg:
                return [], f"holds at most {arg} item(s), found {len(value)}"
            return None

        return check_max_items

    def k_minimum(self, arg: Any, node: Schema) -> Check:
        def check_minimum(value: Any) -> Optional[Error]:
            if isinstance(value, (int, float)) and not isinstance(value, bool) and value < arg:
                return [], f"must be at least {arg}, found {value}"
            return None

        return check_minimum

    def k_minLength(self, arg: Any, node: Schema) -> Check:
        def check_min_length(value: Any) -> Optional[Error]:
            if isinstance(value, str) and len(value) < arg:
                return [], f"must be at least {arg} character(s) long"
            return None

        return check_min_length

    def k_maxLength(self, arg: Any, node: Schema) -> Check:
        def check_max_length(value: Any) -> Optional[Error]:
            if isinstance(value, str) and len(value) > arg:
                return [], f"must be at most {arg} characters long, found {len(value)}"
            return None

        return check_max_length

    def k_pattern(self, arg: Any, node: Schema) -> Check:
        pattern = ecma_pattern(arg)  # a final `$` is the end of the string, as in ECMA-262

        def check_pattern(value: Any) -> Optional[Error]:
            if isinstance(value, str) and not pattern.search(value):
                return [], f"{_short(value)} does not match {arg}"
            return None

        return check_pattern


def _fast_string(node: Schema, generic: Check) -> Check:
    """A string node: a plain str within its bounds and pattern passes in one step; anything else
    goes through `generic`, which says what is wrong exactly as before."""
    shortest = node.get("minLength", 0)
    longest = node.get("maxLength", float("inf"))
    pattern = ecma_pattern(node["pattern"]) if "pattern" in node else None

    def check_string(value: Any) -> Optional[Error]:
        if type(value) is str and shortest <= len(value) <= longest and (pattern is None or pattern.search(value)):
            return None
        return generic(value)

    return check_string


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


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=True)
    return text if len(text) <= 60 else text[:57] + "..."


_EXACT_TYPES: Dict[str, Tuple[type, ...]] = {
    "null": (type(None),), "boolean": (bool,), "object": (dict,), "array": (list,),
    "string": (str,), "number": (int, float), "integer": (int,),
}
_JSON_TYPES = frozenset(t for types in _EXACT_TYPES.values() for t in types)
_STRING_KEYWORDS = frozenset({"type", "minLength", "maxLength", "pattern"})
_OBJECT_KEYWORDS = frozenset({"type", "required", "additionalProperties", "properties"})
_ORDER = {"$ref": 0, "type": 1, "const": 2, "enum": 3, "required": 4, "additionalProperties": 5}
