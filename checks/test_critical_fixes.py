"""Section 2 of the seed report, the P1 fixes.

Sessions survive between requests; on Windows, asyncio subprocesses and sockets do not deadlock.
"""

from __future__ import annotations

import asyncio
import sys
import time
from typing import Any, Dict

import pytest
from readiness_demo import configure_event_loop_policy
from readiness_demo.app import SESSION_COOKIE
from starlette.testclient import TestClient

# Every check here shares these; each test's own marker adds its id and title.
pytestmark = pytest.mark.check(category="critical_fixes", severity="critical")


ROUND_TRIP_TIMEOUT_S = 30.0


@pytest.mark.check(
    id="critical_fixes.session_cookie_round_trip",
    title="A session cookie set by one request is read back by the next",
)
def test_session_cookie_round_trip(client: TestClient, evidence: Any) -> None:
    written = client.post("/session", json={"user": "ada"})
    assert written.status_code == 200
    set_cookie = written.headers["set-cookie"]
    assert set_cookie.startswith(f"{SESSION_COOKIE}=")
    assert client.get("/session").json() == {"user": "ada"}
    cookie = client.cookies[SESSION_COOKIE]
    client.cookies.clear()
    assert _session_user(client, cookie) == "ada", "the cookie alone does not carry the session"
    tampered = ("B" if cookie[0] != "B" else "C") + cookie[1:]
    assert _session_user(client, tampered) is None, "a tampered cookie was accepted"
    flags = sorted(part.strip().split("=")[0].lower() for part in set_cookie.split(";")[1:])
    evidence["cookie_flags"] = flags


def _session_user(client: TestClient, cookie: str) -> Any:
    response = client.get("/session", headers={"Cookie": f"{SESSION_COOKIE}={cookie}"})
    return response.json()["user"]


@pytest.mark.check(
    id="critical_fixes.windows_proactor_loop",
    title="Windows: Proactor loop policy; subprocess and socket round trip do not hang",
    platforms=["windows"],
)
def test_windows_proactor_loop(evidence: Any) -> None:
    policy = configure_event_loop_policy()
    assert policy == "WindowsProactorEventLoopPolicy"
    timings = asyncio.run(asyncio.wait_for(_round_trips(), timeout=ROUND_TRIP_TIMEOUT_S))
    evidence["loop_policy"] = policy
    evidence.update(timings)


async def _round_trips() -> Dict[str, float]:
    started = time.perf_counter()
    await _subprocess_round_trip()
    middle = time.perf_counter()
    await _socket_round_trip()
    return {"subprocess_s": middle - started, "socket_s": time.perf_counter() - middle}


async def _subprocess_round_trip() -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", "print(input()[::-1])",
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    output, _ = await process.communicate(b"readiness\n")
    assert process.returncode == 0
    assert output.decode("utf-8").strip() == "ssenidaer"


async def _socket_round_trip() -> None:
    async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(await reader.readline())
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(echo, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"ping\n")
        await writer.drain()
        assert await reader.readline() == b"ping\n"
        writer.close()
        await writer.wait_closed()
    finally:
        server.close()
        await server.wait_closed()
