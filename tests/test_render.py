"""Every renderer against its gold file (see tests/gold/README.md to update them)."""

from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import List

import jsonschema
import pytest
from envdocs import check, env, write, write_plan

from readiness import __version__, cli
from readiness.model import reader, schema
from readiness.model.document import CheckRecord, Target
from readiness.render import github, markdown

GOLD = Path(__file__).parent / "gold"
UPDATE = os.environ.get("READINESS_UPDATE_GOLD") == "1"
LINUX = "linux-x86_64-cpython3.12"
OLD_LINUX = "linux-x86_64-cpython3.9"
WINE = "windows-x86_64-wine-cpython3.11"
HOSTILE = "<script>window.pwned=1</script>"
POLICY = """
[tool.readiness]
severity = {"style/*" = "minor"}

[tool.readiness.budgets.startup_s]
max = 15
max_increase_pct = 5

[[tool.readiness.waivers]]
check = "integration/ldap"
cells = ["windows-*"]
reason = "no LDAP server on the Windows lane (ticket 42)"
owner = "ana"
expires = 2025-12-10
"""


def checks(cell: str) -> List[CheckRecord]:
    windows = cell.startswith("windows")
    return [
        check("health", category="health", severity="critical", evidence={"status": 200, "body": {"ok": True}}),
        check("fix/asyncio-policy", "passed" if windows else "not_applicable", category="fix", severity="critical"),
        check("integration/database", "failed" if cell == OLD_LINUX else "passed", category="integration",
              message="TypeError: unsupported operand | for dict" if cell == OLD_LINUX else None),
        check("integration/ldap", "skipped" if windows else "passed", category="integration",
              message="Skipped: no server" if windows else None),
        check("api/openapi", category="api", evidence={"paths": 12}),
        check("style/docstrings", "failed", category="style", message="3 functions lack docstrings"),
        check(HOSTILE, category="<b>bold</b>", message="<img src=x onerror=alert(1)> & 'quotes'"),
        check("perf/startup", category="performance", severity="info",
              measurements={"startup_s": [11.1 + i / 100 for i in range(5)]}),
    ]


@pytest.fixture
def scenario(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A planned run of three cells plus one missing, with the policy above."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1764500000")  # 2025-11-30T10:53:20Z
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    (tmp_path / "pyproject.toml").write_text(POLICY, encoding="utf-8")
    run = Path("runs") / "run-1"
    write(run / "envs", *[env(c, checks(c), installed={"pytest": "9.0.3", "anyio": "4.1" if c == OLD_LINUX else "4.6"})
                          for c in (LINUX, OLD_LINUX, WINE)])
    write_plan(run / "plan.json", [LINUX, OLD_LINUX, WINE, "macos-arm64-cpython3.12"])
    return run


def normalise(text: str, name: str = "") -> str:
    """Volatile text stripped; JSON re-indented (it is written compact) so gold diffs read well."""
    if name.endswith(".json"):
        text = json.dumps(json.loads(text), indent=1, ensure_ascii=False) + "\n"
    return text.replace(__version__, "VERSION")


def assert_gold(name: str, text: str) -> None:
    path = GOLD / name
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(normalise(text, name), encoding="utf-8")
    expected = path.read_text(encoding="utf-8") if path.exists() else f"(no gold file {name}: see tests/gold/README.md)"
    assert normalise(text, name) == expected


@pytest.mark.parametrize(("fmt", "files"), [
    ("md", ["report.md"]),
    ("html", ["report.html"]),
    ("junit", ["junit.xml"]),
    ("ctrf", [f"ctrf/{c}.json" for c in (LINUX, OLD_LINUX, WINE)]),
    ("json", ["verdict.json", "matrix.json"]),
])
def test_file_formats_match_their_gold_files(scenario: Path, fmt: str, files: List[str],
                                             capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["report", str(scenario), "--format", fmt, "-o", "out"]) == 1
    assert capsys.readouterr().out.splitlines()[-1] == "verdict: NO-GO"
    for name in files:
        assert_gold(name.replace("/", "-"), Path("out", name).read_text(encoding="utf-8"))


def test_terminal_report_matches_its_gold_file(scenario: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["report", str(scenario)]) == 1
    out = capsys.readouterr().out
    assert "\x1b[" not in out  # not a TTY: no colour
    assert_gold("report.txt", out)


def test_reports_are_byte_identical_when_run_twice(scenario: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cli.main(["report", str(scenario), "-o", "a"])
    cli.main(["report", str(scenario), "-o", "b"])
    for path in sorted(Path("a").rglob("*")):
        if path.is_file():
            assert path.read_bytes() == (Path("b") / path.relative_to("a")).read_bytes()


def test_json_outputs_are_valid_against_the_shipped_schemas(scenario: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cli.main(["report", str(scenario), "--format", "json", "-o", "out"])
    for kind in ("verdict", "matrix"):
        data = json.loads(Path("out", f"{kind}.json").read_text(encoding="utf-8"))
        current = reader.current_schema(f"readiness/{kind}")
        jsonschema.Draft202012Validator(schema.shipped(kind, current)).validate(data)
        assert schema.first_error(data, schema.shipped(kind, current)) is None


def test_junit_has_one_suite_per_cell_with_the_fingerprint(scenario: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cli.main(["report", str(scenario), "--format", "junit", "-o", "out"])
    root = ET.parse("out/junit.xml").getroot()
    suites = {s.get("name"): s for s in root.iter("testsuite")}
    assert sorted(suites) == sorted([LINUX, OLD_LINUX, WINE, "readiness.verdict"])
    props = {p.get("name"): p.get("value") for p in suites[WINE].iter("property")}
    assert props["lane"] == "wine" and props["python_version"] == "3.11.1" and props["run_id"] == "run-1"
    assert suites[OLD_LINUX].get("failures") == "2"


def test_ctrf_reports_share_one_run_id(scenario: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cli.main(["report", str(scenario), "--format", "ctrf", "-o", "out"])
    reports = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(Path("out/ctrf").glob("*.json"))]
    assert len(reports) == 3 and {r["runId"] for r in reports} == {"run-1"}
    assert all(r["reportFormat"] == "CTRF" and r["results"]["summary"]["tests"] == 8 for r in reports)


def test_html_is_self_contained_and_escapes_every_value(scenario: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cli.main(["report", str(scenario), "--format", "html", "-o", "out"])
    page = Path("out/report.html").read_text(encoding="utf-8")
    assert "<script>window" not in page and "<img" not in page and "<b>bold" not in page
    assert "http://" not in page and "https://" not in page and "innerHTML" not in page


def test_github_summary_is_appended_when_the_variable_is_set(scenario: Path, monkeypatch: pytest.MonkeyPatch,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    summary = Path("summary.md")
    summary.write_text("earlier step\n", encoding="utf-8")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    assert cli.main(["report", str(scenario), "--format", "md", "-o", "out"]) == 1
    text = summary.read_text(encoding="utf-8")
    assert text.startswith("earlier step\n## readiness: NO-GO")
    assert_gold("github-summary.md", text[len("earlier step\n"):])


def test_github_summary_is_capped_at_one_mebibyte() -> None:
    text = "".join(f"- finding {i} " + "x" * 100 + "\n" for i in range(20000))
    capped = github.cap(text, github.LIMIT_BYTES)
    assert len(capped.encode("utf-8")) <= github.LIMIT_BYTES
    assert capped.endswith("the full report is in report.md and report.html._\n")


def test_ctrf_to_stdout_is_refused(scenario: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["report", str(scenario), "--format", "ctrf", "-o", "-"]) == 2
    assert "give -o DIR, not -" in capsys.readouterr().err


def test_unknown_format_is_a_usage_error(scenario: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["report", str(scenario), "--format", "pdf"]) == 2
    assert "unknown report format 'pdf'" in capsys.readouterr().err


# --- a library of 300 checks, 268 failing only on Python 3.12 ------------------------------------

LIBRARY_CELLS = [f"linux-x86_64-cpython3.{minor}" for minor in (13, 12, 11, 10, 9)] + [
    "windows-x86_64-wine-cpython3.12", "windows-x86_64-wine-cpython3.11"]
SIGNER_ERROR = "RuntimeError: 3.12 only: the signer cannot load its key"


def library_checks(cell: str) -> List[CheckRecord]:
    broken = cell.endswith("3.12")
    return [check(f"test_signer.py::test_{i:03}", "failed" if broken and i < 268 else "passed",
                  message=f"{SIGNER_ERROR}\nTraceback line {i}" if broken and i < 268 else None)
            for i in range(300)]


@pytest.fixture
def library(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Seven cells (3.9 to 3.13 on Linux, 3.11 and 3.12 under Wine), no plan, a `[project]` table."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1764500000")
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'signer'\nversion = '2.1.0'\n\n"
                                             "[tool.readiness]\nrequired_checks = []\n", encoding="utf-8")
    write(tmp_path / "envs", *[env(c, library_checks(c), installed={
        "pytest": "9.0.3", "cffi": "1.17" if c.endswith("3.12") else "1.16"}) for c in LIBRARY_CELLS])
    return tmp_path / "envs"


def section(lines: List[str], title: str) -> List[str]:
    """The lines under `title` (past blank lines) up to the next blank line."""
    start = lines.index(title) + 1
    while lines[start] == "":
        start += 1
    return lines[start:lines.index("", start)]


FOLDED = ("268 checks fail only in cpython3.12 (linux, windows-wine): " + SIGNER_ERROR
          + ": test_signer.py::test_000, test_signer.py::test_001, test_signer.py::test_002, and 265 more")
APART = "the failing cells differ in: Python 3.12 (passing: 3.9, 3.10, 3.11, 3.13); cffi 1.17 (passing: 1.16)"


def test_many_checks_failing_alike_are_one_line_in_the_terminal(library: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["report", str(library)]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "readiness report: signer 2.1.0 (named by [project] in pyproject.toml)"
    cells = [line.split()[1] for line in lines[lines.index("cells:") + 1:lines.index("cells:") + 8]]
    assert cells == ["linux-x86_64-cpython3.9", "linux-x86_64-cpython3.10", "linux-x86_64-cpython3.11",
                     "linux-x86_64-cpython3.12", "linux-x86_64-cpython3.13",
                     "windows-x86_64-wine-cpython3.11", "windows-x86_64-wine-cpython3.12"]
    blocking = section(lines, "Blocking (NO-GO):")
    assert blocking[0] == "  - " + FOLDED
    assert blocking[1].endswith(APART) and len(blocking) == 2
    grid = lines[lines.index("cells:") + 9:]
    assert grid[1].startswith("test_signer.py::test_000") and grid[1].split()[1:] == [".", ".", ".", "F", ".", ".", "F"]
    assert "... 208 more check(s) with problems not shown: every row is in report.md and report.html" in grid[61]
    assert not any("divergence" in line for line in lines)  # each check once, as a failure


def test_many_checks_failing_alike_are_one_line_in_every_report(library: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["report", str(library), "--format", "md", "--format", "html", "--format", "github",
                     "-o", "out"]) == 1
    report = Path("out/report.md").read_text(encoding="utf-8")
    assert report.startswith("# Readiness report: signer 2.1.0 (named by \\[project\\] in pyproject.toml)\n")
    because = section(report.splitlines(), "Because:")
    assert because[0] == "- **NO-GO** " + markdown.md(FOLDED) and len(because) == 2
    assert because[1].startswith("  - passes in linux") and because[1].endswith(markdown.md(APART))
    titles = [line for line in report.splitlines() if line.startswith("## ")]
    assert titles == ["## Executive summary", "## Checks", "## Performance", "## Regression", "## Risks", "## Verdict"]
    rows = [line for line in report.splitlines() if line.startswith("| test\\_signer")]
    assert len(rows) == 300 and "**failed**" in rows[267] and "**failed**" not in rows[268]  # failing rows first
    data = json.loads(Path("out/report.html").read_text(encoding="utf-8")
                      .split('id="readiness-data">')[1].split("</script>")[0])
    assert data["target"] == "signer 2.1.0 (named by [project] in pyproject.toml)"
    assert [c["text"] for c in data["causes"] if c["effect"] == "no-go"] == [FOLDED]
    assert data["cells"][:2] == ["linux-x86_64-cpython3.9", "linux-x86_64-cpython3.10"]
    assert [c["worst"] for c in data["checks"][267:269]] == ["failed", "passed"]
    summary = github.render(*_judged(library))[0].text.splitlines()
    assert section(summary, "### Blocking") == ["- " + markdown.md(FOLDED), because[1]]


def _judged(inputs: Path):  # type: ignore[no-untyped-def]
    from readiness.judge import merge, policy, verdict
    from readiness.render.common import Context

    matrix = merge.merge_paths([str(inputs)])
    return matrix, verdict.decide(matrix, policy.load_policy(), today=verdict.today_from_environment()), Context("now")


def test_the_title_names_the_target_the_cells_recorded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    docs = [env(c, [check("a")]) for c in (LINUX, WINE)]
    for doc in docs:
        doc.target = Target("signer", "2.2.0.dev1", "0123456789abcdef0123", True, "sha256:x")
    write(tmp_path / "envs", *docs)
    assert cli.main(["report", "envs"]) == 0
    assert capsys.readouterr().out.startswith(
        "readiness report: signer 2.2.0.dev1 (commit 0123456789ab, uncommitted changes)\n")
    assert cli.main(["report", "envs", "--format", "junit", "--format", "ctrf", "-o", "out"]) == 0
    assert 'name="target" value="signer 2.2.0.dev1 (commit 0123456789ab, uncommitted changes)"' in \
        Path("out/junit.xml").read_text(encoding="utf-8")


def test_a_check_that_did_not_run_shows_in_every_format(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    (tmp_path / "pyproject.toml").write_text("[tool.readiness]\n", encoding="utf-8")
    write(Path("envs"), env(LINUX, [check("done"), check("later", "not_run", message="interrupted")],
                            state="interrupted", reason="interrupted (Ctrl-C or SIGINT); 1 check(s) did not run"))
    assert cli.main(["report", "envs"]) == 3
    terminal = capsys.readouterr().out
    assert [line.split() for line in terminal.splitlines() if line.startswith("later")] == [["later", "n"]]
    assert "n not run" in terminal
    assert "later (general, major) was collected but not run in linux-x86_64-cpython3.12: interrupted" in terminal
    assert cli.main(["report", "envs", "-o", "out"]) == 3
    assert "| later | general | major | **not\\_run** in linux-x86\\_64-cpython3.12 | interrupted |" in Path(
        "out/report.md").read_text(encoding="utf-8")
    html = Path("out/report.html").read_text(encoding="utf-8")
    assert 'not_run: "n"' in html and ".o-not_run" in html and '"outcome":"not_run","message":"interrupted"' in html
    suite = next(s for s in ET.parse("out/junit.xml").getroot().iter("testsuite") if s.get("name") == LINUX)
    case = next(c for c in suite.iter("testcase") if c.get("name") == "later")
    assert case.find("skipped").get("message") == "not_run: interrupted"  # type: ignore[union-attr]
    ctrf = json.loads(Path(f"out/ctrf/{LINUX}.json").read_text(encoding="utf-8"))["results"]
    assert [(t["status"], t["rawStatus"]) for t in ctrf["tests"] if t["name"] == "later"] == [("pending", "not_run")]
    assert (ctrf["summary"]["pending"], ctrf["summary"]["skipped"]) == (1, 0)
    findings = json.loads(Path("out/verdict.json").read_text(encoding="utf-8"))["findings"]
    assert [f["effect"] for f in findings if f["kind"] == "not_run"] == ["incomplete"]
    cells = json.loads(Path("out/matrix.json").read_text(encoding="utf-8"))["cells"]
    assert cells[0]["document"]["summary"]["not_run"] == 1
