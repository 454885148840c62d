"""The service end to end through its ASGI interface."""

from __future__ import annotations

import sys

from readiness_demo import configure_event_loop_policy, openapi_document
from starlette.testclient import TestClient


def test_health_reports_the_environment(client: TestClient) -> None:
    assert client.get("/health").json() == {"status": "ok", "environment": "testing"}


def test_the_session_cookie_carries_the_user_between_requests(client: TestClient) -> None:
    assert client.get("/session").json() == {"user": None}
    assert client.post("/session", json={"user": "ada"}).status_code == 200
    assert "readiness_demo_session" in client.cookies
    assert client.get("/session").json() == {"user": "ada"}


def test_a_session_without_user_is_refused(client: TestClient) -> None:
    assert client.post("/session", json={}).status_code == 422


def test_the_protected_endpoint_needs_a_valid_token(client: TestClient) -> None:
    token = client.post("/auth/token", json={"subject": "ada"}).json()["token"]
    assert client.get("/me", headers={"Authorization": f"Bearer {token}"}).json() == {
        "subject": "ada"
    }
    assert client.get("/me").status_code == 401
    refused = client.get("/me", headers={"Authorization": f"Bearer {token}x"})
    assert refused.status_code == 401
    assert refused.json() == {"error": "bad token signature"}


def test_notes_are_stored_and_read_back(client: TestClient) -> None:
    created = client.post("/notes", json={"author": "ada", "body": "engines"})
    assert created.status_code == 201
    note_id = created.json()["id"]
    assert client.get(f"/notes/{note_id}").json() == {
        "id": note_id,
        "author": "ada",
        "body": "engines",
    }
    assert client.get(f"/notes/{note_id + 1}").status_code == 404


def test_websocket_echoes_to_the_sender_and_broadcasts_to_all(client: TestClient) -> None:
    with client.websocket_connect("/ws") as first, client.websocket_connect("/ws") as second:
        first.send_text("hello")
        assert first.receive_json() == {"type": "echo", "text": "hello"}
        assert first.receive_json() == {"type": "broadcast", "from": 1, "text": "hello"}
        assert second.receive_json() == {"type": "broadcast", "from": 1, "text": "hello"}


def test_openapi_lists_every_http_route(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    assert document == openapi_document(client.app)  # type: ignore[arg-type]
    assert sorted(document["paths"]) == [
        "/auth/token",
        "/health",
        "/me",
        "/notes",
        "/notes/{note_id}",
        "/session",
    ]


def test_loop_policy_is_proactor_only_on_windows() -> None:
    name = configure_event_loop_policy()
    if sys.platform == "win32":
        assert name == "WindowsProactorEventLoopPolicy"
    else:
        assert name != "WindowsProactorEventLoopPolicy"
