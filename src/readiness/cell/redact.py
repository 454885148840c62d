"""Keeps secrets out of everything readiness writes: by key name, by value shape, by known value.

A `Redactor` knows the values of secret-looking environment variables (plus any given to it)
and rewrites text and JSON values so none of them, no URL credential and no well-known token
shape survives. Ordinary facts about secrets (`secret_key_length = 69`) are kept.
"""

from __future__ import annotations

import json
import os
import re
from typing import Any, AnyStr, Dict, Generic, Iterable, List, Mapping, Optional

MASK = "[REDACTED]"
# Values shorter than this are too common to replace wherever they appear.
MIN_SECRET_LENGTH = 4

_SECRET_WORDS = (
    r"secret|passw(?:or)?d|passwd|passphrase|token|api[_-]?key|apikey|private[_-]?key|credential"
    r"|auth(?!or)|session[_-]?key|access[_-]?key|signing[_-]?key|cookie|dsn|bearer|salt"
)


class _Lazy(Generic[AnyStr]):
    """A regular expression compiled when first used: most text never needs the costly ones
    (see `_may_name_secret` and the like), and a run that never needs one does not compile it."""

    def __init__(self, source: AnyStr) -> None:
        self.source: AnyStr = source
        self._compiled: Optional[re.Pattern[AnyStr]] = None

    @property
    def compiled(self) -> re.Pattern[AnyStr]:
        if self._compiled is None:
            self._compiled = re.compile(self.source)
        return self._compiled


_SECRET_NAME = _Lazy(rf"(?i)({_SECRET_WORDS})")
# Keys that describe a secret without holding it.
_DESCRIBING_SUFFIX = _Lazy(
    r"(?i)[_-]?(length|len|count|size|bits|present|set|configured|enabled|required|type|algorithm|source|name|names|header)$"
)
_URL_CREDENTIALS = _Lazy(r"(?i)\b([a-z][a-z0-9+.-]*://)([^\s:/@'\"]*):([^\s@/'\"]+)@")
_TOKEN_SHAPES = _Lazy(
    r"-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|\Z)"
    r"|\bgh[pousr]_[A-Za-z0-9]{20,}"
    r"|\bgithub_pat_[A-Za-z0-9_]{20,}"
    r"|\bAKIA[0-9A-Z]{16}\b"
    r"|\bxox[abposr]-[A-Za-z0-9-]{10,}"
    r"|\bsk-[A-Za-z0-9_-]{20,}"
    r"|\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*"
    r"|(?i:\bbearer\s+)[A-Za-z0-9._~+/-]{8,}=*"
)
# `password=hunter2`, `"api_key": "abc"`, `secret_key  = 'a b c'` (as --showlocals prints it).
# A quoted value runs to its closing quote, spaces and escaped quotes included.
_ASSIGNMENT = _Lazy(
    rf"(?i)(\b[\w.-]*(?:{_SECRET_WORDS})[\w.-]*)(['\"]?\s*(?:=(?!=)|:)\s*)(b?['\"]?)(?!\[REDACTED\])"
    r"((?<=')(?:[^'\\\n]|\\.)+|(?<=\")(?:[^\"\\\n]|\\.)+|[^'\"\s,;}\])]+)"
)

# Before a costly pattern runs: literal parts one of which each of its matches contains, lowercase
# where the pattern ignores case. In ASCII text (?i) is plain ASCII case folding, so text without
# any of them cannot match; other text takes the pattern itself (Unicode folding: U+017F, the
# long s, matches `s`). A URL credential always holds `://`.
_SECRET_WORD_PARTS = re.compile("secret|passw|passphrase|token|api|private|credential|auth|session|access"
                                "|signing|cookie|dsn|bearer|salt")
_TOKEN_MARKS = re.compile("-----BEGIN |gh|github_pat_|AKIA|xox|sk-|eyJ")


def _may_name_secret(text: str) -> bool:
    """False only when neither `_SECRET_NAME` nor `_ASSIGNMENT` can match `text`."""
    return not text.isascii() or _SECRET_WORD_PARTS.search(text.lower()) is not None


def _may_assign(text: str) -> bool:
    """False only when `_ASSIGNMENT` cannot match `text`: it takes a secret word, then `=` or `:`."""
    return ("=" in text or ":" in text) and _may_name_secret(text)


def _may_hold_token(text: str) -> bool:
    """False only when `_TOKEN_SHAPES` cannot match `text`."""
    return not text.isascii() or _TOKEN_MARKS.search(text) is not None or "bearer" in text.lower()


def looks_secret(name: str) -> bool:
    """True when a key or variable name says it holds a secret."""
    if not _may_name_secret(name):
        return False
    return bool(_SECRET_NAME.compiled.search(name)) and not _DESCRIBING_SUFFIX.compiled.search(name)


def secret_env_values(environ: Mapping[str, str] = os.environ) -> List[str]:
    """The values of environment variables whose names look secret, plus URL passwords."""
    values = [v for k, v in environ.items() if looks_secret(k) and _could_be_secret(v)]
    for value in environ.values():
        if "://" in value:
            values.extend(m.group(3) for m in _URL_CREDENTIALS.compiled.finditer(value))
    return values


_NOT_SECRET_VALUES = frozenset({"true", "false", "yes", "no", "none", "null", "on", "off"})
_FILE_PATH = _Lazy(r"(?:/|[A-Za-z]:[\\/])[^\s]*")


def _could_be_secret(value: str) -> bool:
    # Switches and file paths (TOKENIZERS_PARALLELISM=false, *_CREDENTIALS_FILE=/path) name
    # or configure secrets without being one; masking them would blank ordinary text.
    return (
        len(value) >= MIN_SECRET_LENGTH
        and value.lower() not in _NOT_SECRET_VALUES
        and not _FILE_PATH.compiled.fullmatch(value)
    )


class Redactor:
    """Rewrites text and JSON values so that no known or secret-shaped value survives."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._forms: set[str] = set()
        self._known: re.Pattern[str] | None = None
        self.learn(secrets)

    def learn(self, secrets: Iterable[str]) -> None:
        """Treat these values as secrets from now on, wherever they show up."""
        forms = set()
        for secret in secrets:
            if len(secret) < MIN_SECRET_LENGTH or secret == MASK:
                continue
            # The raw value and the escaped forms it takes in reprs and JSON.
            forms.update({secret, repr(secret)[1:-1], json.dumps(secret)[1:-1]})
        if forms - self._forms:
            self._forms |= forms
            ordered = sorted(self._forms, key=len, reverse=True)
            self._known = re.compile("|".join(map(re.escape, ordered)))

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] = os.environ) -> Redactor:
        return cls(secret_env_values(environ))

    def text(self, text: str) -> str:
        """`text` with every secret replaced by the mask; assigned secrets are learnt first."""
        if not text:
            return text  # nothing to search: the common case of a check that printed nothing
        # Each costly pattern runs only where its literal part is in the text: the same result,
        # without searching the common text that has none.
        if _may_assign(text):
            self.learn(m.group(4) for m in _ASSIGNMENT.compiled.finditer(text) if self._assigned_secret(m))
        if "://" in text:
            self.learn(m.group(3) for m in _URL_CREDENTIALS.compiled.finditer(text))
        if self._known is not None:
            text = self._known.sub(MASK, text)
        if "://" in text:
            text = _URL_CREDENTIALS.compiled.sub(lambda m: f"{m.group(1)}{m.group(2)}:{MASK}@", text)
        if _may_hold_token(text):
            text = _TOKEN_SHAPES.compiled.sub(MASK, text)
        return _ASSIGNMENT.compiled.sub(self._assignment, text) if _may_assign(text) else text

    @staticmethod
    def _assigned_secret(match: re.Match[str]) -> bool:
        name, value = match.group(1), match.group(4)
        return not _DESCRIBING_SUFFIX.compiled.search(name) and not (value.isdigit() and len(value) < 4)

    def _assignment(self, match: re.Match[str]) -> str:
        if not self._assigned_secret(match):
            return match.group(0)
        name, separator, quote, _ = match.groups()
        return f"{name}{separator}{quote}{MASK}"

    def value(self, value: Any, key: str = "") -> Any:
        """A JSON value with secrets removed: secret-named keys masked, strings rewritten."""
        if key and looks_secret(key) and not isinstance(value, (bool, type(None))):
            if isinstance(value, (dict, list)):
                return self.value(value)
            self.learn([str(value)])
            return MASK
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {self.text(str(k)): self.value(v, str(k)) for k, v in value.items()}
        if isinstance(value, list):
            return [self.value(item, key) for item in value]
        return value

    def mapping(self, data: Mapping[str, Any]) -> Dict[str, Any]:
        result = self.value(dict(data))
        assert isinstance(result, dict)
        return result


_OPEN_PRIVATE_KEY = _Lazy(rb"-----BEGIN [A-Z ]*PRIVATE KEY-----(?![\s\S]*-----END [A-Z ]*PRIVATE KEY-----)")


class StreamRedactor:
    """Redacts a byte stream (a child's output on its way to a log) a line at a time.

    A line is held until its end arrives, so a secret split across two reads is still seen
    whole; so is a private key block until its END line. `limit` bounds what is held: a longer
    run without a line end is redacted and let through as it is.
    """

    def __init__(self, redactor: Redactor, limit: int = 65536) -> None:
        self.redactor = redactor
        self.limit = limit
        self._pending = b""

    def feed(self, chunk: bytes) -> bytes:
        """What of the stream so far can be written, redacted."""
        data = self._pending + chunk
        end = data.rfind(b"\n") + 1
        if len(data) >= self.limit:
            end = len(data)
        elif end and _OPEN_PRIVATE_KEY.compiled.search(data, 0, end):
            end = 0
        self._pending = data[end:]
        return self._redact(data[:end])

    def flush(self) -> bytes:
        """The rest of the stream, redacted: call once it has ended."""
        data, self._pending = self._pending, b""
        return self._redact(data)

    def _redact(self, data: bytes) -> bytes:
        if not data:
            return b""
        text = data.decode("utf-8", "surrogateescape")
        return self.redactor.text(text).encode("utf-8", "surrogateescape")
