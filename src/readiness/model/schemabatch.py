"""Whole columns of values checked against one schema node at once: the fast yes of the validator.

A document of 2,000 checks holds 2,000 check records of one shape. Instead of a call per field
of each record, a batch check takes every record at once, then the column of each field across
them (every `id`, every `duration_s`), then the items of every list: a few passes at C speed per
field, not one Python call per value. A batch check answers only "all of these are valid"; on
anything else (a bad value, a value it does not judge quickly, such as 3.0 for an integer) it
answers no, and `schema.first_error` walks the document value by value as before, to name the
first problem. So a batch may say no to a valid column, but never yes to an invalid one.
"""

from __future__ import annotations

import operator
import re
from itertools import chain, repeat
from typing import Any, Callable, Dict, FrozenSet, Mapping, Sequence, Set

Schema = Mapping[str, Any]
Batch = Callable[[Sequence[Any]], bool]

ANNOTATIONS = frozenset({"$schema", "$id", "$defs", "title", "description"})
EXACT_TYPES: Dict[str, FrozenSet[type]] = {
    "null": frozenset({type(None)}), "boolean": frozenset({bool}), "object": frozenset({dict}),
    "array": frozenset({list}), "string": frozenset({str}), "number": frozenset({int, float}),
    "integer": frozenset({int}),
}
# What json.loads makes; a column holding anything else (a subclass) is judged value by value.
_PLAIN = frozenset(t for types in EXACT_TYPES.values() for t in types)
_SCALARS = (str, int, float, bool, type(None))
_KEYS_KEYWORDS = ("required", "additionalProperties")  # judged together where both close an object


def ecma_pattern(arg: str) -> re.Pattern[str]:
    """A JSON Schema pattern: ECMA-262, where a final `$` is the end of the string. Python's `$`
    also matches before a final newline, which would let "linux-x86_64-cpython3.12\\n" pass for
    a cell id (and name a file)."""
    return re.compile(arg[:-1] + r"\Z" if arg.endswith("$") and not arg.endswith("\\$") else arg)


class Column:
    """Values checked together, and those of each JSON type among them (gathered once)."""

    def __init__(self, values: Sequence[Any], types: Set[type]) -> None:
        self.values = values
        self.types = types
        self._of: Dict[type, Sequence[Any]] = {}

    def of(self, kind: type) -> Sequence[Any]:
        """The values of exactly this type."""
        if kind not in self.types:
            return ()
        if len(self.types) == 1:
            return self.values
        if kind not in self._of:
            self._of[kind] = [value for value in self.values if type(value) is kind]
        return self._of[kind]


Keyword = Callable[[Column], bool]


def _always(column: Column) -> bool:
    return True


def _never(column: Column) -> bool:
    return False


class BatchCompiler:
    """Turns schema nodes into batch checks, one per keyword, all of which must say yes."""

    def __init__(self, root: Schema) -> None:
        self.root = root
        self.refs: Dict[str, Batch] = {}
        self.building: Set[str] = set()

    def node(self, node: Schema) -> Batch:
        names = [keyword for keyword in node if keyword not in ANNOTATIONS]
        exact = node.get("additionalProperties") is False and "required" in node
        keywords = [self._keyword(keyword, node) for keyword in names if not (exact and keyword in _KEYS_KEYWORDS)]
        if exact:
            keywords.insert(0, self._exact_keys(node))

        def batch_node(values: Sequence[Any]) -> bool:
            if not values:
                return True
            types = set(map(type, values))
            if not _PLAIN.issuperset(types):
                return False
            column = Column(values, types)
            return all(keyword(column) for keyword in keywords)

        return batch_node

    def _exact_keys(self, node: Schema) -> Keyword:
        """`required` with `additionalProperties: false`: objects whose keys are the required ones in
        the schema's order, as readiness writes them, are judged by one comparison each; a column
        holding any other is judged by both keywords."""
        required = self.k_required(node["required"], node)
        closed = self.k_additionalProperties(False, node)
        order = tuple(node["required"])
        if not set(order) <= set(node.get("properties", {})):
            return lambda column: required(column) and closed(column)
        return lambda column: (all(map(operator.eq, map(tuple, column.of(dict)), repeat(order)))
                               or (required(column) and closed(column)))

    def _keyword(self, keyword: str, node: Schema) -> Keyword:
        build = getattr(self, "k_" + keyword.replace("$", ""), None)
        return _never if build is None else build(node[keyword], node)

    def k_ref(self, arg: str, node: Schema) -> Keyword:
        name = arg[len("#/$defs/"):]
        if name not in self.refs and name not in self.building and arg.startswith("#/$defs/"):
            self.building.add(name)
            self.refs[name] = self.node(self.root["$defs"][name])
            self.building.discard(name)
        # Looked up when used: a definition may refer to itself.
        return lambda column: name in self.refs and self.refs[name](column.values)

    def k_type(self, arg: Any, node: Schema) -> Keyword:
        names = [arg] if isinstance(arg, str) else list(arg)
        exact = frozenset(t for name in names for t in EXACT_TYPES.get(name, ()))
        return lambda column: exact.issuperset(column.types)

    def k_const(self, arg: Any, node: Schema) -> Keyword:
        if not isinstance(arg, _SCALARS):
            return _never  # containers compare by JSON's rules: value by value
        kind = type(arg)
        return lambda column: column.types == {kind} and all(value == arg for value in column.values)

    def k_enum(self, arg: Any, node: Schema) -> Keyword:
        strings = frozenset(option for option in arg if isinstance(option, str))
        return lambda column: column.types == {str} and strings.issuperset(column.values)

    def k_required(self, arg: Any, node: Schema) -> Keyword:
        required = frozenset(arg)
        return lambda column: all(map(operator.ge, map(dict.keys, column.of(dict)), repeat(required)))

    def k_properties(self, arg: Any, node: Schema) -> Keyword:
        required = set(node.get("required", ()))
        properties = [(name, name in required, self.node(sub)) for name, sub in arg.items()]

        def batch_properties(column: Column) -> bool:
            objects = column.of(dict)
            return all(batch(_field(objects, name, always)) for name, always, batch in properties)

        return batch_properties

    def k_additionalProperties(self, arg: Any, node: Schema) -> Keyword:
        known = frozenset(node.get("properties", {}))
        if arg is True:
            return _always
        if arg is False:
            return lambda column: all(map(operator.le, map(dict.keys, column.of(dict)), repeat(known)))
        sub = self.node(arg)
        if not known:  # every value of every object
            return lambda column: sub(list(chain.from_iterable(map(dict.values, column.of(dict)))))
        return lambda column: sub([v for item in column.of(dict) for k, v in item.items() if k not in known])

    def k_propertyNames(self, arg: Any, node: Schema) -> Keyword:
        sub = self.node(arg)
        return lambda column: sub([name for item in column.of(dict) for name in item])

    def k_items(self, arg: Any, node: Schema) -> Keyword:
        sub = self.node(arg)
        return lambda column: sub(list(chain.from_iterable(column.of(list))))

    def k_minItems(self, arg: Any, node: Schema) -> Keyword:
        return lambda column: min(map(len, column.of(list)), default=arg) >= arg

    def k_minimum(self, arg: Any, node: Schema) -> Keyword:
        return lambda column: min(chain(column.of(int), column.of(float)), default=arg) >= arg

    def k_minLength(self, arg: Any, node: Schema) -> Keyword:
        return lambda column: min(map(len, column.of(str)), default=arg) >= arg

    def k_maxLength(self, arg: Any, node: Schema) -> Keyword:
        return lambda column: max(map(len, column.of(str)), default=arg) <= arg

    def k_pattern(self, arg: Any, node: Schema) -> Keyword:
        search = ecma_pattern(arg).search
        return lambda column: all(map(search, column.of(str)))


def _field(objects: Sequence[Dict[str, Any]], name: str, always: bool) -> Sequence[Any]:
    """The values of field `name` across `objects`; a required field is read at C speed (a
    missing one: nothing to judge in a batch, the required keyword already says no)."""
    if always:
        try:
            return list(map(operator.itemgetter(name), objects))
        except KeyError:
            return []
    return [item[name] for item in objects if name in item]
