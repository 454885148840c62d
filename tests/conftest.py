"""Shared test helpers: documents built in tmp_path, and tools that must exist under CI."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any, Iterator, Optional

import hypothesis  # noqa: F401  (imported once here: pytester runs would import it each time)
import pytest
from hypothesis import settings

# No per-example deadline: on a shared 2-core machine under xdist a slow example is load, not
# a bug, and a deadline turns it into a flaky failure.
settings.register_profile("readiness", deadline=None)
settings.load_profile("readiness")

ROOT = Path(__file__).resolve().parent.parent
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def require_tool(name: str, found: Optional[str] = None) -> str:
    """The path of an external tool; missing, it fails under CI=true and skips elsewhere."""
    path = found or shutil.which(name)
    if path:
        return path
    message = f"{name} is not installed (.ci/run installs it)"
    if IN_CI:
        pytest.fail(f"{message}; under CI a test never skips for a missing tool")
    pytest.skip(message)


def read_document(path: Path) -> dict:
    """Load an env document the way users' tools would, and check it against the shipped schema.

    Every document a test produces goes through here: the strict loader must accept it and the
    published JSON Schema (checked by the reference validator) must agree.
    """
    import json

    import jsonschema

    from readiness.model import document, schema

    data = json.loads(Path(path).read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(schema.shipped("env", data["schema"])).validate(data)
    document.load(path)
    return data


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture
def page() -> Iterator[Any]:
    """A page in Debian's Chromium driven by Playwright (no browser download)."""
    require_tool("chromium", CHROMIUM if Path(CHROMIUM).exists() else None)
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        message = "the playwright package is not installed (pip install playwright; no browser download)"
        if IN_CI:
            pytest.fail(f"{message}; under CI a test never skips for a missing tool")
        pytest.skip(message)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser.new_page()
        finally:
            browser.close()
