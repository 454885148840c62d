"""Fixtures for the demo's own tests: settings for the testing environment, an app, a client."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest
from readiness_demo import Settings, create_app
from starlette.testclient import TestClient


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        environment="testing",
        secret_key="testing-secret-key-for-the-demo-unit-tests",
        database_url=f"sqlite:///{(tmp_path / 'demo.sqlite3').as_posix()}",
    )


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    app = create_app(settings)
    with TestClient(app) as test_client:
        yield test_client
    if app.state.database is not None:
        app.state.database.close()
