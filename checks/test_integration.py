"""Section 3 of the seed report, integration: WebSocket, Redis, auth and database round trips."""

from __future__ import annotations

import time
from typing import Any, Optional

import pytest
from readiness_demo import RedisStore, Settings, TokenSigner, open_database
from sqlalchemy.engine import make_url
from starlette.testclient import TestClient

# Every check here shares these; each test's own marker adds its id and title.
pytestmark = pytest.mark.check(category="integration", severity="critical")


@pytest.mark.check(
    id="integration.websocket_round_trip",
    title="WebSocket: echo to the sender and broadcast to every connection",
)
def test_websocket_round_trip(client: TestClient, evidence: Any) -> None:
    with client.websocket_connect("/ws") as sender, client.websocket_connect("/ws") as listener:
        sender.send_text("status?")
        assert sender.receive_json() == {"type": "echo", "text": "status?"}
        assert sender.receive_json() == {"type": "broadcast", "from": 1, "text": "status?"}
        assert listener.receive_json() == {"type": "broadcast", "from": 1, "text": "status?"}
    evidence["connections"] = 2


@pytest.mark.check(
    id="integration.redis",
    title="Redis: PING, SET, GET and session store on a real server",
)
def test_redis(redis_url: Optional[str], key_prefix: str, evidence: Any) -> None:
    if redis_url is None:
        pytest.skip(
            "Redis not available: REDIS_URL is not set (validate starts a redis-server; "
            "or export REDIS_URL=redis://127.0.0.1:6379/0)"
        )
    store = RedisStore.from_url(redis_url, key_prefix + "store:")
    neighbour = RedisStore.from_url(redis_url, key_prefix + "neighbour:")
    try:
        assert store.ping()
        store.cache_set("greeting", "héllo", ttl_s=60)
        assert store.cache_get("greeting") == "héllo"
        store.save_session("s1", {"user": "ada"}, ttl_s=60)
        assert store.load_session("s1") == {"user": "ada"}
        neighbour.cache_set("kept", "yes", ttl_s=60)
        evidence["keys_deleted"] = store.clear()
        assert store.cache_get("greeting") is None and store.load_session("s1") is None
        assert neighbour.cache_get("kept") == "yes", "clearing one prefix deleted another's key"
        evidence["redis_version"] = str(store.client.info("server")["redis_version"])
        evidence["key_prefix"] = key_prefix
    finally:
        neighbour.clear()
        store.close()
        neighbour.close()


@pytest.mark.check(
    id="integration.auth_tokens",
    title="Auth: a token is issued, verified, and rejected when forged or expired",
)
def test_auth_tokens(client: TestClient, settings: Settings, evidence: Any) -> None:
    issued = client.post("/auth/token", json={"subject": "ada"})
    assert issued.status_code == 200
    token = issued.json()["token"]
    assert _me(client, token) == (200, {"subject": "ada"})
    forged = TokenSigner("another-secret-entirely").issue("ada")
    assert _me(client, forged) == (401, {"error": "bad token signature"})
    expired = TokenSigner(settings.secret_key, ttl_s=1).issue("ada", now=time.time() - 10)
    assert _me(client, expired) == (401, {"error": "token expired"})
    assert client.get("/me").status_code == 401
    evidence["expiry_s"] = settings.token_ttl_s
    evidence["rejected"] = ["forged", "expired", "missing"]


def _me(client: TestClient, token: str) -> tuple[int, Any]:
    response = client.get("/me", headers={"Authorization": f"Bearer {token}"})
    return response.status_code, response.json()


@pytest.mark.check(
    id="integration.database",
    title="Database: create, write and read back",
)
def test_database(settings: Settings, evidence: Any) -> None:
    evidence["database_module"] = settings.database_module
    evidence["database_backend"] = make_url(settings.database_url).get_backend_name()
    database = open_database(settings.database_url, settings.database_module)
    try:
        database.create_schema()
        note_id = database.add_note("readiness", "round trip")
        note = database.get_note(note_id)
        assert note is not None and (note.author, note.body) == ("readiness", "round trip")
        evidence["notes_read"] = len(database.list_notes())
    finally:
        database.close()
