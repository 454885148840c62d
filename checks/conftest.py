"""Fixtures shared by the check suite, and the hook that turns the demo's own tests into checks.

Environment: `REDIS_URL` (a running Redis; without it the Redis check says so and does not run),
`DATABASE_URL` (default: a SQLite file in a temporary folder), `READINESS_CELL` (names this
cell's Redis keys), `READINESS_SCENARIO=seed` (reproduce the seed report's broken module path).
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Dict, Iterator, List, Optional

import pytest
from readiness_demo import Settings, load_settings
from readiness_demo.app import create_app
from starlette.applications import Starlette
from starlette.testclient import TestClient

SCENARIO_ENV = "READINESS_SCENARIO"
SCENARIOS = ("", "normal", "seed")
# The module path the seed's backend used for its database layer; it never existed there.
SEED_DATABASE_MODULE = "readiness_demo.app.database.connection"
DEMO_TESTS = Path(__file__).resolve().parent.parent / "demo" / "tests"


def pytest_configure(config: pytest.Config) -> None:
    scenario = os.environ.get(SCENARIO_ENV, "")
    if scenario not in SCENARIOS:
        raise pytest.UsageError(f"{SCENARIO_ENV}={scenario!r} is not one of: normal, seed")


def pytest_collection_modifyitems(config: pytest.Config, items: List[pytest.Item]) -> None:
    """Every demo unit test becomes a regression check (unless it declares its own)."""
    for item in items:
        if _is_demo_test(item) and item.get_closest_marker("check") is None:
            item.add_marker(pytest.mark.check(category="regression", severity="major"))


def _is_demo_test(item: pytest.Item) -> bool:
    path = Path(str(item.path)).resolve()
    return path == DEMO_TESTS or DEMO_TESTS in path.parents


@pytest.fixture(scope="session")
def scenario() -> str:
    """`seed` reproduces the seed report's failure; anything else is a normal run."""
    return os.environ.get(SCENARIO_ENV, "") or "normal"


@pytest.fixture(scope="session")
def key_prefix() -> str:
    """Redis key prefix owned by this cell and this run alone."""
    cell = os.environ.get("READINESS_CELL") or "local"
    return f"readiness-demo:{cell}:{uuid.uuid4().hex[:12]}:"


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A SQLite file in this check's temporary folder."""
    return f"sqlite:///{(tmp_path / 'readiness-demo.sqlite3').as_posix()}"


@pytest.fixture(scope="session")
def redis_url() -> Optional[str]:
    """The Redis given to this cell, or None."""
    return os.environ.get("REDIS_URL") or None


@pytest.fixture
def cell_environ(sqlite_url: str, key_prefix: str, scenario: str) -> Dict[str, str]:
    """The environment the service is configured from in this cell."""
    environ = dict(os.environ)
    environ.setdefault("READINESS_DEMO_ENV", "testing")
    environ.setdefault("DATABASE_URL", sqlite_url)
    environ["REDIS_KEY_PREFIX"] = key_prefix
    if scenario == "seed":
        environ["READINESS_DEMO_DATABASE_MODULE"] = SEED_DATABASE_MODULE
    return environ


@pytest.fixture
def settings(cell_environ: Dict[str, str]) -> Settings:
    return load_settings(cell_environ)


@pytest.fixture
def app(settings: Settings) -> Iterator[Starlette]:
    application = create_app(settings)
    yield application
    if application.state.database is not None:
        application.state.database.close()
    if application.state.store is not None:
        application.state.store.close()


@pytest.fixture
def client(app: Starlette) -> Iterator[TestClient]:
    """An HTTPS test client, so cookies marked Secure (production settings) travel too."""
    with TestClient(app, base_url="https://testserver") as test_client:
        yield test_client
