"""JSON text written from parts, byte for byte as `json.dumps(value, ensure_ascii=False, allow_nan=False,
separators=(",", ":"))` writes it: reports of tens of thousands of records write each one with a few
string operations, and the text of a value that several reports hold is written once (`Memo`).

Each part falls back to the json module for anything but the plain case, so the text (and any
error, such as a NaN) is always the json module's own.
"""

from __future__ import annotations

import json
from json import encoder as _json_encoder
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Set, Tuple

# The string escape json uses for ensure_ascii=False (its C version where there is one): '"...".
string: Callable[[str], str] = _json_encoder.encode_basestring


def _default(value: Any) -> Any:
    raise TypeError(f"Object of type {value.__class__.__name__} is not JSON serializable")


_MARKERS: Dict[int, Any] = {}  # json's guard against circular values, kept by one reused encoder
_MAKE = getattr(_json_encoder, "c_make_encoder", None)
_C_ENCODE = None if _MAKE is None else _MAKE(_MARKERS, _default, string, None, ":", ",", False, False, False)
_PY_ENCODE = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode


def dumps(value: Any) -> str:
    """Any JSON value's text (json's encoder, made once rather than at every call)."""
    if _C_ENCODE is None:
        return _PY_ENCODE(value)
    try:
        return "".join(_C_ENCODE(value, 0))
    except BaseException:
        _MARKERS.clear()  # an error leaves the values it was inside marked as being written
        raise


def text(value: Optional[str]) -> str:
    """A string or null (the fields that are optional text)."""
    if value is None:
        return "null"
    return string(value) if type(value) is str else dumps(value)


def number(value: Any) -> str:
    """A float or an int, as json writes it (NaN and infinities refused by json itself)."""
    kind = type(value)
    if kind is float:
        written = float.__repr__(value)
        return written if "n" not in written else dumps(value)  # "nan", "inf": json's own error
    return int.__repr__(value) if kind is int else dumps(value)


def value_text(value: Any) -> str:
    """Any JSON value; strings, numbers and null without the encoder."""
    kind = type(value)
    if kind is str:
        return string(value)
    if value is None:
        return "null"
    return number(value) if kind is float or kind is int else dumps(value)


def floats(values: List[float]) -> str:
    """A list of floats (a measurement's samples); any other list as json writes it."""
    try:
        written = ",".join(map(float.__repr__, values))
    except TypeError:  # an int, a bool, a string among them
        return dumps(values)
    return f"[{written}]" if "n" not in written else dumps(values)


def strings(values: Iterable[str]) -> str:
    """A list of strings (check ids, cells)."""
    try:
        return "[" + ",".join(map(string, values)) + "]"
    except TypeError:
        return dumps(list(values))


# Large texts are returned in parts, joined once by the caller: each `a + b` of a text of tens of
# megabytes is a copy, into memory the process has to be given first.


def object_parts(head: Dict[str, Any], *members: Tuple[str, List[str]]) -> List[str]:
    """The parts of the object `head` with more members after its own, each a key and the parts of
    its value, already written."""
    parts = [dumps(head)[:-1] if head else "{"]
    for key, value in members:
        parts.append(("," if len(parts) > 1 or head else "") + string(key) + ":")
        parts += value
    parts.append("}")
    return parts


def array_parts(items: List[str]) -> List[str]:
    """The parts of an array of values already written."""
    parts = [","] * (2 * len(items) + 1)
    parts[1::2] = items
    parts[0], parts[-1] = "[", "]"
    return parts if items else ["[]"]


class Memo:
    """The text of values already written, by identity: what several reports hold is written once.

    Documents are evidence and are not changed once read, so an entry stays right for as long as
    the memo lives; the memo keeps each value alive, so no other value can take its id meanwhile.
    """

    def __init__(self) -> None:
        self.texts: Dict[int, str] = {}  # id(value) -> its text: callers look up `texts.get(id(value))`
        self._kept: List[Any] = []
        self.filled: Set[int] = set()  # ids of the things whose values were all written at once (keep_all)

    def keep(self, value: Any, written: str) -> str:
        self.texts[id(value)] = written
        self._kept.append(value)
        return written

    def floats(self, values: List[float]) -> str:
        """A list of floats (a measurement's samples), written once."""
        found = self.texts.get(id(values))
        return found if found is not None else self.keep(values, floats(values))

    def value(self, value: Any) -> str:
        """Any JSON value (a check's evidence), written once; the empty object without a look-up."""
        if not value and type(value) is dict:
            return "{}"
        found = self.texts.get(id(value))
        return found if found is not None else self.keep(value, dumps(value))

    def keep_all(self, values: List[Any]) -> None:
        """Write many values (each check's evidence) at once: one call of json's encoder for all of
        them, its text then cut at a mark put between them. Where a value's own text holds the mark
        too, or json refuses one of them, nothing is kept: each is written on its own when asked for,
        and json's error comes then."""
        values = [value for value in values if id(value) not in self.texts]
        self._keep(values, self.apart(values))

    @staticmethod
    def apart(values: List[Any]) -> Optional[List[str]]:
        """The text of each of `values`, written in one call of json's encoder (see `keep_all`); None where
        a value's own text holds the mark, or json refuses one of them."""
        marked: List[Any] = [_MARK] * (2 * len(values))
        marked[1::2] = values
        parts = _cut(marked, len(_MARK_TEXT), 1, _SEPARATOR)
        return parts if parts is not None and len(parts) == len(values) else None

    def keep_lists(self, values: List[List[float]]) -> None:
        """`keep_all` for lists of numbers (each measurement's samples), cut where one list ends and
        the next begins: no number's text holds that."""
        values = [value for value in values if id(value) not in self.texts]
        parts = _cut(values, 2, 2, "],[") if {*map(type, values)} == {list} else None
        self._keep(values, None if parts is None else ["[" + part + "]" for part in parts])

    def keep_numbers(self, values: List[float]) -> None:
        """`keep_all` for numbers (each check's duration), cut at the commas: no number's text holds one."""
        values = [value for value in values if id(value) not in self.texts]
        self._keep(values, _cut(values, 1, 1, ","))

    def keep_texts(self, values: Sequence[Any], texts: List[str]) -> None:
        """Keep the text of each of `values`, written elsewhere."""
        self._keep(values, texts)

    def _keep(self, values: Sequence[Any], parts: Optional[List[str]]) -> None:
        if parts is not None and len(parts) == len(values):  # else a value's own text held a cut
            self.texts.update(zip(map(id, values), parts))
            self._kept += values


def _cut(values: List[Any], head: int, tail: int, separator: str) -> Optional[List[str]]:
    """The text of `values` (none, or one json refuses: None), `head` and `tail` characters off, cut
    at `separator`."""
    if not values:
        return None
    try:
        return dumps(values)[head:-tail].split(separator)
    except ValueError:
        return None


_MARK = "\x00"
_MARK_TEXT = "[" + dumps(_MARK) + ","  # the text's start: '["\u0000",'
# Between two values: in a value's own text only where it holds a list with this very string in it.
_SEPARATOR = "," + dumps(_MARK) + ","
