"""What discovery learnt by running a program, kept between runs: a probe is run again only when
the program's file changed (path, size, modification time, inode), so planning costs no process.

The cache is `<XDG cache or ~/.cache>/readiness/interpreters.json` (READINESS_CACHE_HOME moves it);
deleting it is always safe. Only answers with exit code 0 are kept: a failure is asked again.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import threading
from pathlib import Path
from typing import Dict, Mapping, Optional, Sequence

from readiness.model.output import write_text
from readiness.platform.interpreters.records import CommandResult, CommandRunner

VERSION = 1
# What a program's answer may depend on besides the program itself (uv's folders).
_ENVIRON = ("UV_PYTHON_INSTALL_DIR", "XDG_DATA_HOME", "HOME", "APPDATA", "UV_CONFIG_FILE")


def cache_home(environ: Mapping[str, str] = os.environ) -> Path:
    """READINESS_CACHE_HOME, else `<XDG cache or ~/.cache>/readiness`."""
    if environ.get("READINESS_CACHE_HOME"):
        return Path(environ["READINESS_CACHE_HOME"])
    home = Path(environ.get("HOME") or Path.home())
    return Path(environ.get("XDG_CACHE_HOME") or str(home / ".cache")) / "readiness"


class CachedRunner:
    """A CommandRunner that answers from the cache when the program is unchanged; `save()` keeps
    what it learnt. Thread-safe: discovery probes in parallel."""

    def __init__(self, runner: CommandRunner, path: Path, environ: Mapping[str, str] = os.environ) -> None:
        self._runner, self._path = runner, path
        self._context = {name: environ.get(name, "") for name in _ENVIRON}
        self._lock = threading.Lock()
        self._answers = _load(path)
        self._used: Dict[str, Dict[str, object]] = {}  # what this discovery asked: all the cache keeps
        self._changed = False

    def __call__(self, argv: Sequence[str], timeout: float) -> CommandResult:
        key = self._key(argv)
        with self._lock:
            known = self._answers.get(key) if key else None
            if key and known is not None:
                self._used[key] = known
        if known is not None:
            return CommandResult(0, str(known.get("stdout", "")), str(known.get("stderr", "")))
        done = self._runner(argv, timeout)
        if key and done.returncode == 0:
            with self._lock:
                self._used[key] = {"stdout": done.stdout, "stderr": done.stderr}
                self._changed = True
        return done

    def save(self) -> None:
        """Write what this discovery asked (answers about programs gone or changed are dropped) if it
        learnt something new; a cache that cannot be written is only slower."""
        with self._lock:
            if not self._changed and len(self._used) == len(self._answers):
                return
            body = json.dumps({"version": VERSION, "answers": self._used}, sort_keys=True)
            self._changed = False
        with contextlib.suppress(OSError):
            write_text(self._path, body)

    def _key(self, argv: Sequence[str]) -> Optional[str]:
        """The program's identity and the whole command line; None when the program is not found."""
        program = shutil.which(argv[0]) if argv else None
        if program is None:
            return None
        try:
            real = Path(program).resolve()
            stat = real.stat()
        except OSError:
            return None
        identity = [str(real), stat.st_size, stat.st_mtime_ns, stat.st_ino, list(argv), self._context]
        return hashlib.sha256(json.dumps(identity).encode("utf-8")).hexdigest()


def _load(path: Path) -> Dict[str, Dict[str, object]]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    answers = data.get("answers") if isinstance(data, dict) and data.get("version") == VERSION else None
    return {k: v for k, v in answers.items() if isinstance(v, dict)} if isinstance(answers, dict) else {}
