"""Section 1 of the seed report, system health: the app builds, configuration validates,
sessions are wired."""

from __future__ import annotations

from typing import Any, Iterator

import pytest
import readiness_demo
from readiness_demo import Settings
from readiness_demo.settings import validate
from sqlalchemy.engine import make_url
from starlette.applications import Starlette
from starlette.middleware.sessions import SessionMiddleware
from starlette.testclient import TestClient

# Every check here shares these; each test's own marker adds its id and title.
pytestmark = pytest.mark.check(category="health", severity="critical")


@pytest.mark.check(
    id="health.app_builds",
    title="The app imports, builds and answers /health",
)
def test_app_builds(app: Starlette, client: TestClient, settings: Settings, evidence: Any) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "environment": settings.environment}
    evidence["version"] = readiness_demo.__version__
    evidence["routes"] = sorted(getattr(route, "path", "") for route in app.routes)
    evidence["loop_policy"] = app.state.loop_policy


@pytest.mark.check(
    id="health.configuration",
    title="Configuration validates for this environment",
)
def test_configuration(settings: Settings, evidence: Any) -> None:
    validate(settings)
    url = make_url(settings.database_url)
    evidence["environment"] = settings.environment
    evidence["database_backend"] = url.get_backend_name()
    evidence["database_module"] = settings.database_module
    evidence["redis_configured"] = settings.redis_url is not None
    evidence["expiry_s"] = settings.token_ttl_s


@pytest.mark.check(
    id="health.session_middleware",
    title="SessionMiddleware is in the stack with the configured settings",
)
def test_session_middleware(app: Starlette, settings: Settings, evidence: Any) -> None:
    declared = [m for m in app.user_middleware if m.cls is SessionMiddleware]
    assert len(declared) == 1, f"expected one SessionMiddleware, found {len(declared)}"
    options = declared[0].kwargs
    assert options["same_site"] == settings.session_same_site
    assert options["https_only"] == settings.session_https_only
    assert options["secret_key"] == settings.secret_key
    built = [
        layer
        for layer in _layers(app.build_middleware_stack())
        if isinstance(layer, SessionMiddleware)
    ]
    assert len(built) == 1, "SessionMiddleware is declared but not in the built stack"
    assert f"samesite={settings.session_same_site}" in built[0].security_flags
    assert ("secure" in built[0].security_flags) == settings.session_https_only
    evidence["same_site"] = settings.session_same_site
    evidence["https_only"] = settings.session_https_only
    evidence["environment"] = settings.environment
    evidence["secret_key_length"] = len(settings.secret_key)


def _layers(app: Any) -> Iterator[Any]:
    """Each ASGI layer of a built middleware stack, outermost first."""
    while app is not None:
        yield app
        app = getattr(app, "app", None)
