"""The strict, bounded reader of every readiness file kind: size limits, strict UTF-8 JSON, then
kind, schema version and shipped schema; any problem raises a `DocumentError` naming file and fix.
"""

from __future__ import annotations

import json
import os
import re
from itertools import chain
from operator import itemgetter
from pathlib import Path
from typing import IO, Any, Dict, Iterator, List, Optional, Set, Tuple

from readiness.model import schema
from readiness.model.errors import BrokenJSONError, DocumentError, SchemaError, SchemaVersionError, UnknownKindError
from readiness.model.output import PathLike

ENV_KIND = "readiness/env"
BASELINE_KIND = "readiness/baseline"
# What each kind's reader accepts: the previous schema and the current one, current last.
READABLE_SCHEMAS: Dict[str, Tuple[int, ...]] = {
    ENV_KIND: (1, 2),
    "readiness/plan": (1,),
    "readiness/matrix": (1, 2),
    "readiness/verdict": (1,),
    BASELINE_KIND: (1,),
}
KNOWN_KINDS = tuple(READABLE_SCHEMAS)
# Reading is bounded: a larger file is refused by its size, before it is read. An env or plan
# document may hold 64 MiB (a cell of 2,000 checks writes about 1 MiB); a matrix or baseline,
# which holds one merge's documents, as much as one merge reads (merge.MAX_MERGE_BYTES).
DEFAULT_MAX_BYTES = 64 * 1024 * 1024
COMBINED_MAX_BYTES = 256 * 1024 * 1024
_COMBINED_KINDS = (b"readiness/matrix", b"readiness/baseline")
# Readiness writes `kind` first; the head of a file tells a matrix or baseline before it is read.
_HEAD = re.compile(rb'\A(?:\xef\xbb\xbf)?\s*\{\s*"kind"\s*:\s*"(readiness/[a-z]+)"')
# Free-form values (evidence, coverage) nest at most this many lists and objects deep, so that
# no reader, renderer or redaction pass can run out of stack on them.
MAX_DEPTH = 32
_REWRITE = "regenerate it by running the checks again, or replace the file"


def current_schema(kind: str) -> int:
    """The schema version readiness writes for `kind` (e.g. "readiness/plan")."""
    return max(READABLE_SCHEMAS[kind])


def read_json(path: PathLike, *, max_bytes: Optional[int] = None) -> Dict[str, Any]:
    """Read a readiness JSON file: bounded in size, strict UTF-8 JSON, an object at the top."""
    return parse_json(os.fspath(path), read_bytes(path, max_bytes=max_bytes))


# --- bounded bytes ---------------------------------------------------------------------


class NoRoom(Exception):
    """A file within its own size limit, but larger than the room a caller has left for it."""


def read_bytes(path: PathLike, *, max_bytes: Optional[int] = None, room: Optional[int] = None) -> bytes:
    """The bytes of a readiness file, refused by its size before it is read when larger than
    `max_bytes` (default: 64 MiB, or 256 MiB for a matrix or baseline); `NoRoom`, unread, when
    within that but larger than `room`."""
    name = os.fspath(path)
    try:
        with Path(path).open("rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            limit = _default_limit(handle, size) if max_bytes is None else max_bytes
            if room is not None and room < size <= limit:
                raise NoRoom(name)
            # Size first: read(limit + 1) would set aside the whole limit for every file.
            raw = b"" if size > limit else handle.read(limit + 1)
    except OSError as exc:
        raise DocumentError(name, f"cannot be read: {exc.strerror or exc}") from None
    if size > limit or len(raw) > limit:
        raise BrokenJSONError(
            name,
            f"larger than the {limit // (1024 * 1024)} MiB readiness reads "
            f"({_mib(max(size, len(raw)))}); it was not read",
            "check that this is a readiness document; split the run if it really is one",
        )
    return raw


def _default_limit(handle: IO[bytes], size: int) -> int:
    """64 MiB, or 256 MiB for a larger file whose head names a matrix or baseline."""
    if size <= DEFAULT_MAX_BYTES:
        return DEFAULT_MAX_BYTES
    head = _HEAD.match(handle.read(256))
    handle.seek(0)
    return COMBINED_MAX_BYTES if head is not None and head.group(1) in _COMBINED_KINDS else DEFAULT_MAX_BYTES


def _mib(size: int) -> str:
    return f"{size / (1024 * 1024):,.1f} MiB"


# --- strict JSON -----------------------------------------------------------------------


def parse_json(name: str, raw: bytes) -> Dict[str, Any]:
    """Parse the bytes of a readiness JSON file named `name`."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BrokenJSONError(name, f"not UTF-8 text (byte {exc.start})", _REWRITE) from None
    data = _loads(name, text)
    if not isinstance(data, dict):
        raise SchemaError(name, "$", "the document must be a JSON object", _REWRITE)
    if ("\\ud" in text or "\\uD" in text) and _SURROGATE_ESCAPE.search(text):  # two quick looks first
        _refuse_lone_surrogates(name, data)
    return data


def _loads(name: str, text: str) -> Any:
    """JSON with no repeated key in an object and no NaN or Infinity."""
    try:
        return json.loads(text, object_pairs_hook=_unique_keys, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise BrokenJSONError(
            name, f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}", _REWRITE
        ) from None
    except _DuplicateKey as exc:
        raise BrokenJSONError(name, f"the key {exc.args[0]!r} appears twice in one object", _REWRITE) from None
    except _BadConstant as exc:
        raise BrokenJSONError(name, f"{exc.args[0]} is not a JSON number", _REWRITE) from None
    except RecursionError:
        raise BrokenJSONError(name, "nested too deeply to read", _REWRITE) from None


class _DuplicateKey(ValueError):
    pass


class _BadConstant(ValueError):
    pass


def _unique_keys(pairs: List[Tuple[str, Any]]) -> Dict[str, Any]:
    result = dict(pairs)  # built in C; only an object with a repeated key is searched for it
    if len(result) != len(pairs):
        seen: Set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _DuplicateKey(key)
            seen.add(key)
    return result


def _no_constant(text: str) -> Any:
    raise _BadConstant(text)


# UTF-8 cannot carry a lone UTF-16 surrogate, but a JSON escape can (`"\ud800"`); such a string
# is no text and could not be written again. Only a file with such an escape is searched.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _refuse_lone_surrogates(name: str, data: Any) -> None:
    stack: List[Tuple[str, Any]] = [("$", data)]
    while stack:
        where, value = stack.pop()
        if isinstance(value, dict):
            for key, item in value.items():
                if _LONE_SURROGATE.search(key):
                    raise BrokenJSONError(name, f"a key of {where} holds a lone UTF-16 surrogate, not text", _REWRITE)
                stack.append((f"{where}.{key}", item))
        elif isinstance(value, list):
            stack.extend((f"{where}[{index}]", item) for index, item in enumerate(value))
        elif isinstance(value, str) and _LONE_SURROGATE.search(value):
            raise BrokenJSONError(name, f"field {where} holds a lone UTF-16 surrogate, not text", _REWRITE)


# --- kind, version, schema -------------------------------------------------------------


def validate(name: str, data: Dict[str, Any], expected_kind: Optional[str] = None) -> Tuple[str, int]:
    """Check kind, version and schema of a parsed readiness file; return (kind, version)."""
    kind = _kind(name, data, expected_kind)
    version = _version(name, data, kind)
    problem = schema.first_error(data, schema.shipped(kind.split("/")[1], version))
    if problem is not None:
        where, what = problem
        raise SchemaError(name, where, what, _REWRITE)
    if kind == ENV_KIND:
        _check_unique_ids(name, data["checks"])
    _check_depth(name, data, kind)
    return kind, version


def _kind(name: str, data: Dict[str, Any], expected_kind: Optional[str]) -> str:
    kind = data.get("kind")
    if "kind" not in data:
        raise SchemaError(name, "$.kind", "missing: this is not a readiness file", _REWRITE)
    if kind not in KNOWN_KINDS:
        raise UnknownKindError(
            name, f"kind {kind!r} is not a readiness file kind", f"expected one of {', '.join(KNOWN_KINDS)}"
        )
    if expected_kind is not None and kind != expected_kind:
        raise UnknownKindError(name, f"is a {kind} file, not a {expected_kind} file", "pass the right file")
    return str(kind)


def _version(name: str, data: Dict[str, Any], kind: str) -> int:
    version = data.get("schema")
    readable = READABLE_SCHEMAS[kind]
    if isinstance(version, bool) or not isinstance(version, (int, float)):
        raise SchemaError(name, "$.schema", f"expected a schema version number, found {version!r}", _REWRITE)
    if version not in readable:
        fix = (
            "it was written by a newer readiness: upgrade readiness"
            if version > max(readable)
            else "it was written by an older readiness: run the checks again to regenerate it"
        )
        raise SchemaVersionError(
            name, f"{kind} schema {version} is not readable here (readable: {readable})", fix
        )
    return int(version)


def _check_depth(name: str, data: Dict[str, Any], kind: str) -> None:
    """Refuse a free-form value (evidence, coverage) nested more than MAX_DEPTH deep."""
    for where, value in _free_form(data, kind):
        if too_deep(value):
            raise SchemaError(
                name, where, f"nested more than {MAX_DEPTH} lists and objects deep",
                "record flatter evidence; readiness reads no deeper values",
            )


def _free_form(data: Dict[str, Any], kind: str) -> Iterator[Tuple[str, Any]]:
    """The free-form values of a document, in document order, each with where it is."""
    yield "$.coverage", data.get("coverage")
    if kind == ENV_KIND and not _scalars_only(data["checks"]):
        for index, check in enumerate(data["checks"]):
            for key, value in check["evidence"].items():
                if isinstance(value, (dict, list)):  # a scalar nests nothing
                    yield f"$.checks[{index}].evidence.{key}", value
    elif kind == BASELINE_KIND:
        yield from ((f"$.machines.{cell}", value) for cell, value in (data.get("machines") or {}).items())


def _scalars_only(checks: List[Dict[str, Any]]) -> bool:
    """Whether every check's evidence holds only strings, numbers, booleans and null, as most does:
    such evidence nests nothing (looked at in one pass over all of it)."""
    values = chain.from_iterable(map(dict.values, map(itemgetter("evidence"), checks)))
    return _SCALARS.issuperset(map(type, values))


_SCALARS = frozenset({str, int, float, bool, type(None)})


def too_deep(value: Any, limit: int = MAX_DEPTH) -> bool:
    """True when `value` nests more than `limit` lists and objects (walked without recursion)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is None:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return False


def _check_unique_ids(name: str, checks: List[Dict[str, Any]]) -> None:
    ids = list(map(itemgetter("id"), checks))
    if len(set(ids)) == len(ids):  # each its own: nothing to name
        return
    seen: Dict[str, int] = {}
    for index, check in enumerate(checks):
        first = seen.setdefault(check["id"], index)
        if first != index:
            raise SchemaError(
                name,
                f"$.checks[{index}].id",
                f"duplicate check id {check['id']!r} (also $.checks[{first}])",
                "give each check its own id= in @pytest.mark.check",
            )
