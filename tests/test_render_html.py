"""The HTML report in a real browser (Debian's Chromium driven by Playwright): filters, details,
no network, and a hostile check name that stays text."""

from __future__ import annotations

from pathlib import Path
from typing import List

import pytest
from envdocs import check, env, write

from readiness import cli

HOSTILE = "<script>window.pwned=1</script>"


@pytest.fixture
def report(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1764500000")
    cells = ["linux-x86_64-cpython3.12", "linux-x86_64-cpython3.9", "windows-x86_64-wine-cpython3.11"]
    docs = [env(cell, [
        check("health", category="health", severity="critical", evidence={"status": 200}),
        check("integration/database", "failed" if cell.endswith("3.9") else "passed", category="integration",
              message="No module named 'netra_backend.app.database.connection'" if cell.endswith("3.9") else None),
        check("integration/redis", category="integration"),
        check(HOSTILE, category="security", message="<img src=x onerror=\"window.pwned=2\">"),
    ]) for cell in cells]
    write(tmp_path / "envs", *docs)
    assert cli.main(["report", "envs", "--format", "html", "-o", "out"]) == 1
    capsys.readouterr()
    return tmp_path / "out" / "report.html"


def test_the_report_works_in_a_browser(report: Path, page: object, tmp_path: Path) -> None:
    requests: List[str] = []
    page.on("request", lambda request: requests.append(request.url))  # type: ignore[attr-defined]
    page.goto(report.as_uri())  # type: ignore[attr-defined]
    rows = page.locator("#rows tr:not([hidden])")  # type: ignore[attr-defined]
    assert rows.count() == 4
    assert page.text_content("#state") == "Verdict: NO-GO"  # type: ignore[attr-defined]

    page.select_option("#f-category", "integration")  # type: ignore[attr-defined]
    assert rows.count() == 2
    assert page.text_content("#count") == "2 of 4 checks shown"  # type: ignore[attr-defined]
    page.select_option("#f-category", "all")  # type: ignore[attr-defined]
    page.select_option("#f-outcome", "failed")  # type: ignore[attr-defined]
    assert rows.count() == 1

    page.click("#rows tr:not([hidden]) td.o-failed")  # type: ignore[attr-defined]
    detail = page.text_content("#detail-body")  # type: ignore[attr-defined]
    assert "No module named 'netra_backend.app.database.connection'" in detail
    assert "linux-x86_64-cpython3.9" in detail
    assert page.locator("tr.divergent").count() == 1  # type: ignore[attr-defined]

    page.select_option("#f-outcome", "all")  # type: ignore[attr-defined]
    page.select_option("#f-category", "security")  # type: ignore[attr-defined]
    assert page.text_content("#rows tr:not([hidden]) td.id") == HOSTILE  # type: ignore[attr-defined]
    page.click("#rows tr:not([hidden]) td.o-passed")  # type: ignore[attr-defined]
    assert "<img src=x" in page.text_content("#detail-body")  # type: ignore[attr-defined]
    assert page.evaluate("typeof window.pwned") == "undefined"  # type: ignore[attr-defined]
    assert page.locator("#rows img").count() == 0  # type: ignore[attr-defined]

    page.select_option("#f-category", "all")  # type: ignore[attr-defined]
    shot = tmp_path / "screenshots" / "report.png"
    shot.parent.mkdir()
    page.screenshot(path=str(shot), full_page=True)  # type: ignore[attr-defined]
    print(f"screenshot: {shot}")
    assert shot.stat().st_size > 0
    assert requests and all(url.startswith("file://") for url in requests)
