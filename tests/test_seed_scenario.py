"""The seed's situation rebuilt as env documents: the hand-written "GO FOR PRODUCTION" must be
impossible. The database integration failed, so the verdict is NO-GO naming it; the claimed
"~2 % performance impact" had no baseline, so it is INCONCLUSIVE."""

from __future__ import annotations

import json
from pathlib import Path
from typing import List

import pytest
from envdocs import check, env, write

from readiness import cli
from readiness.model.document import CheckRecord

LINUX = "linux-x86_64-cpython3.12"
WINDOWS = "windows-x86_64-cpython3.12"
DB_ERROR = "ModuleNotFoundError: No module named 'netra_backend.app.database.connection'"
POLICY = """
[tool.readiness]
required_checks = ["health", "integration/database"]

[tool.readiness.budgets.startup_s]
max = 15
max_increase_pct = 5
"""


def seed_checks(windows: bool) -> List[CheckRecord]:
    return [
        check("health", category="health", severity="critical", evidence={"status": 200}),
        check("fix/session-middleware", category="fix", severity="critical",
              evidence={"same_site": "lax", "https_only": False, "secret_key_length": 69}),
        check("fix/windows-asyncio-policy", "passed" if windows else "not_applicable", category="fix",
              severity="critical", evidence={"policy": "WindowsProactorEventLoopPolicy"} if windows else {},
              message=None if windows else "not applicable: runs on windows only"),
        check("integration/websocket", category="integration"),
        check("integration/redis", category="integration"),
        check("integration/auth", category="integration"),
        check("integration/database", "failed", category="integration", severity="critical", message=DB_ERROR),
        check("perf/startup", category="performance", severity="info",
              measurements={"startup_s": [11.12, 11.13, 11.14]}),
    ]


@pytest.fixture
def seed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1764500000")
    (tmp_path / "pyproject.toml").write_text(POLICY, encoding="utf-8")
    write(tmp_path / "envs", env(LINUX, seed_checks(False)), env(WINDOWS, seed_checks(True)))
    return tmp_path


def test_the_seed_is_no_go_naming_the_database_check(seed: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["verdict", "envs", "--json", "verdict.json"]) == 1
    out = capsys.readouterr().out
    assert out.rstrip().splitlines()[-1].startswith("VERDICT: NO-GO")
    assert f"integration/database (integration, critical) failed in {LINUX}, {WINDOWS}: {DB_ERROR}" in out
    verdict = json.loads((seed / "verdict.json").read_text(encoding="utf-8"))
    assert verdict["state"] == "NO-GO"
    assert [r["checks"] for r in verdict["reasons"]] == [["integration/database"]]
    assert verdict["reasons"][0]["cells"] == [LINUX, WINDOWS]


def test_the_performance_claim_is_inconclusive_without_a_baseline(
    seed: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["verdict", "envs", "--json", "verdict.json"]) == 1
    verdict = json.loads((seed / "verdict.json").read_text(encoding="utf-8"))
    [inconclusive] = [f for f in verdict["findings"] if f["effect"] == "inconclusive"]
    assert "startup_s" in inconclusive["message"] and "no baseline" in inconclusive["message"]
    assert inconclusive["checks"] == ["perf/startup"]
    within = [f["message"] for f in verdict["findings"] if f["kind"] == "budget"]
    assert f"perf/startup: startup_s median 11.13 s of 3 sample(s) in {LINUX} is within the budget of 15 s" in within
    assert "confidence" not in json.dumps(verdict).lower()


def test_the_markdown_report_says_what_the_seed_should_have_said(
    seed: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["report", "envs", "--format", "md", "-o", "out"]) == 1
    report = (seed / "out" / "report.md").read_text(encoding="utf-8")
    summary = report.split("## System health")[0]
    assert "**Verdict: NO-GO**" in summary and "integration/database" in summary
    assert "GO FOR PRODUCTION" not in report and "confidence" not in report.replace("No confidence figure", "")
    assert ("| fix/windows-asyncio-policy | critical | **passed** in windows-x86\\_64-cpython3.12; "
            "**not\\_applicable** in linux-x86\\_64-cpython3.12 |") in report
    assert "**INCONCLUSIVE** relative budget on startup\\_s" in report
    assert "No baseline was given: no claim about new failures" in report
