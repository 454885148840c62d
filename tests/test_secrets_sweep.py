"""Secrets planted everywhere a check suite can put them reach no file of a validate run.

One `nox -s validate` on a small project with two cells (this Python natively and, where Wine
is installed, Windows CPython 3.11 under Wine). The suite plants secrets in evidence (under
secret-looking keys, nested, as a key), assertion text, `--showlocals`, captured stdout and
stderr, exception arguments, environment variables with secret-looking names and credentials
inside URLs. Every file under the run folder, the GitHub summary and validate's own output are
searched, as bytes, for each secret in raw, JSON-, HTML-, URL-escaped and repr form.
"""

from __future__ import annotations

import html
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Dict, Iterator, List, Tuple
from urllib.parse import quote, quote_plus

import pytest
from conftest import IN_CI, read_document, require_tool
from test_validate import make_project

from readiness.cell.redact import MASK, Redactor, StreamRedactor

pytestmark = pytest.mark.xdist_group("wine")

PYTHON = f"{sys.version_info[0]}.{sys.version_info[1]}"
WINE_PYTHON = "3.11"
WINE_CELL = f"windows-x86_64-wine-cpython{WINE_PYTHON}"

# Each secret carries characters that make its escaped forms differ from the raw one.
ENV_TOKEN = "tok_9f8E7d6C+5b4A/3e2D=="  # base64-ish: + / = change under URL escaping
ENV_PASSWORD = 'Pa55 "w0rd" & <more>\\x'  # space, quotes, &, <, >, backslash
URL_PASSWORD = "Url-Pa55&31337!"  # credentials inside a URL in the environment
EVIDENCE_PASSWORD = "ev<pw>'777&co"  # only ever in evidence (and printed by the check)
NESTED_KEY = "nest-key-123/abc+def"
LOCAL_PASSPHRASE = "quartz walrus 42 hinge"  # a local with spaces, shown by --showlocals
REDIS_PASSWORD = "Redis-Pw~7731"  # in REDIS_URL, which readiness hands to the cells itself
ARG_PASSWORD = "Arg-Pa55$9911"  # in a URL given to the checks on validate's command line
PLANTED = [ENV_TOKEN, ENV_PASSWORD, URL_PASSWORD, EVIDENCE_PASSWORD, NESTED_KEY, LOCAL_PASSPHRASE,
           REDIS_PASSWORD, ARG_PASSWORD]

ENVIRONMENT = {
    "DEMO_API_TOKEN": ENV_TOKEN,
    "DEMO_PASSWORD": ENV_PASSWORD,
    "DATABASE_URL": f"postgres://admin:{URL_PASSWORD}@db.internal:5432/billing",
    "REDIS_URL": f"redis://:{REDIS_PASSWORD}@127.0.0.1:1/0",  # nothing listens: no check needs it
}

CONFTEST = """
def pytest_addoption(parser):
    parser.addoption("--replica-url", default=None)
"""

SUITE = f'''
import atexit, os, sys, warnings
import pytest

TOKEN = os.environ["DEMO_API_TOKEN"]
DATABASE_URL = os.environ["DATABASE_URL"]
# After pytest has stopped capturing: straight into the cell's output pipe.
atexit.register(print, "closing pool", DATABASE_URL, os.environ["DEMO_PASSWORD"], flush=True)


@pytest.mark.check(id="config.loaded", category="config", severity="minor")
def test_config_is_loaded(evidence):
    evidence["service_name"] = "billing-api"
    evidence["replicas"] = 3
    evidence["secret_key_length"] = len(os.environ["DEMO_PASSWORD"])
    evidence["api_token"] = TOKEN
    evidence["db_password"] = {EVIDENCE_PASSWORD!r}
    evidence["config"] = {{
        "redis": {{"password": os.environ["DEMO_PASSWORD"], "db": 3}},
        "upstreams": ["https://pay.example.com/v1", {{"name": "auth-upstream", "api_key": {NESTED_KEY!r}}}],
    }}
    evidence["database_url"] = DATABASE_URL
    evidence["token_owners"] = {{TOKEN: "ci-bot"}}
    print("connecting to", DATABASE_URL, "as", {EVIDENCE_PASSWORD!r})
    print("with token", TOKEN, file=sys.stderr)


@pytest.mark.check(id="auth.login", category="security", severity="critical")
def test_login_with_the_configured_credentials():
    passphrase = "{LOCAL_PASSPHRASE}"
    token = TOKEN
    print("trying", os.environ["DEMO_PASSWORD"])
    print("dsn", DATABASE_URL, file=sys.stderr)
    assert token == passphrase, "login rejected for admin using " + os.environ["DEMO_PASSWORD"]


@pytest.mark.check(id="db.connect", category="integration", severity="major")
def test_database_connects(request):
    print("replica", request.config.getoption("--replica-url"), "redis", os.environ["REDIS_URL"])
    raise ConnectionError(os.environ["DEMO_PASSWORD"], DATABASE_URL, {{"api_key": {NESTED_KEY!r}}})


@pytest.mark.check(id="health.ok", category="health", severity="critical")
def test_health(evidence):
    import tiny_target
    assert tiny_target.VALUE == 1
    warnings.warn(f"deprecated auth scheme for token {{TOKEN}} at {{DATABASE_URL}}")
    evidence["status_code"] = 200
    evidence["endpoint"] = "https://billing.example.com/healthz"
'''

def _make_project(path: Path, wine: bool) -> Path:
    """test_validate's small project, with this suite, its conftest, coverage and the Wine lane."""
    lane = f'wine = {{enabled = true, pythons = ["{WINE_PYTHON}"]}}\n' if wine else ""
    make_project(path, [PYTHON], extra='coverage = {source = ["tiny_target"]}\n' + lane)
    (path / "checks" / "test_suite.py").write_text(SUITE, encoding="utf-8")
    (path / "checks" / "conftest.py").write_text(CONFTEST, encoding="utf-8")
    return path


class Run:
    def __init__(self, folder: Path, output: bytes, code: int, summary: Path, wine: bool) -> None:
        self.folder, self.raw_output, self.code, self.summary, self.wine = folder, output, code, summary, wine
        self.output = output.decode("utf-8", "replace")

    def files(self) -> Iterator[Path]:
        yield from (p for p in sorted(self.folder.rglob("*")) if p.is_file())
        yield self.summary

    def documents(self) -> Dict[str, dict]:
        return {p.stem: read_document(p) for p in sorted((self.folder / "envs").glob("*.json"))}


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    wine = shutil.which("wine") is not None
    if not wine and IN_CI:
        require_tool("wine")  # fails: under CI the Wine cell is part of the sweep
    tmp = tmp_path_factory.mktemp("sweep")
    project = _make_project(tmp / "p", wine)
    summary = tmp / "step-summary.md"
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("READINESS_", "NOX_", "COV"))}
    environ.update(ENVIRONMENT, GITHUB_STEP_SUMMARY=str(summary))
    done = subprocess.run(
        [sys.executable, "-m", "nox", "-f", str(project / "noxfile.py"), "-s", "validate", "--",
         "--showlocals", "-rA", f"--replica-url=postgres://replica:{ARG_PASSWORD}@db-ro.internal/billing"],
        cwd=project, env=environ, capture_output=True, stdin=subprocess.DEVNULL, timeout=1200, check=False,
    )
    output = done.stdout + done.stderr
    latest = project / "reports" / "latest"
    assert latest.is_file(), output.decode("utf-8", "replace")[-4000:]
    run_id = latest.read_text(encoding="utf-8").strip()
    return Run(project / "reports" / "runs" / run_id, output, done.returncode, summary, wine)


def _forms(secret: str) -> List[Tuple[str, bytes]]:
    half = secret[len(secret) // 2:]  # a secret masked only in part leaks its second half
    forms = {
        "second half": half, "second half, json": json.dumps(half)[1:-1],
        "raw": secret, "json": json.dumps(secret)[1:-1],
        "html": html.escape(secret), "html-unquoted": html.escape(secret, quote=False),
        "url": quote(secret), "url-plus": quote_plus(secret), "url-safe": quote(secret, safe=""),
        "repr": repr(secret)[1:-1],
    }
    return [(name, form.encode("utf-8")) for name, form in forms.items()]


def test_no_planted_secret_reaches_any_file_of_the_run_nor_its_output(run: Run) -> None:
    assert run.code == 1, run.output[-4000:]  # NO-GO: auth.login is a failing critical check
    docs = run.documents()
    assert {d["state"] for d in docs.values()} == {"complete"}, run.output[-4000:]
    files = list(run.files())
    names = {p.relative_to(run.folder).as_posix() for p in files if run.folder in p.parents}
    for expected in ("plan.json", "matrix.json", "verdict.json", "report.md", "report.html", "junit.xml",
                     "coverage/combined.json", *(f"logs/{cell}.log" for cell in docs)):
        assert expected in names, sorted(names)
    assert run.summary.is_file()
    leaks = []
    for path in files:
        data = path.read_bytes()
        for secret in PLANTED:
            for form_name, form in _forms(secret):
                if form in data:
                    leaks.append(f"{secret!r} as {form_name} in {path.name}")
    for secret in PLANTED:
        leaks += [f"{secret!r} as {name} in validate's output"
                  for name, form in _forms(secret) if form in run.raw_output]
    assert not leaks, "\n".join(sorted(set(leaks)))


def test_the_ordinary_evidence_and_the_failure_are_still_there(run: Run) -> None:
    docs = run.documents()
    assert len(docs) == (2 if run.wine else 1)
    for cell, doc in docs.items():
        checks = {c["id"]: c for c in doc["checks"]}
        evidence = checks["config.loaded"]["evidence"]
        assert evidence["service_name"] == "billing-api", cell
        assert evidence["replicas"] == 3 and evidence["secret_key_length"] == len(ENV_PASSWORD)
        assert evidence["api_token"] == MASK and evidence["db_password"] == MASK
        assert evidence["config"] == {
            "redis": {"password": MASK, "db": 3},
            "upstreams": ["https://pay.example.com/v1", {"name": "auth-upstream", "api_key": MASK}],
        }
        assert evidence["database_url"] == f"postgres://admin:{MASK}@db.internal:5432/billing"
        assert evidence["token_owners"] == {MASK: "ci-bot"}
        assert checks["health.ok"]["evidence"] == {"status_code": 200, "endpoint": "https://billing.example.com/healthz"}
        login = checks["auth.login"]
        assert login["outcome"] == "failed"
        assert "login rejected for admin using" in login["message"] and MASK in login["message"]
        assert checks["db.connect"]["outcome"] == "failed" and "ConnectionError" in checks["db.connect"]["longrepr"]
    failure = "login rejected for admin using "
    shown = {  # each report, with the failure's masked secret as that format writes it
        "report.md": failure + "\\[REDACTED\\]",
        "report.html": failure + MASK,
        "junit.xml": failure + MASK,
        "matrix.json": failure + MASK,
        "verdict.json": failure + MASK,
        **{f"ctrf/{cell}.json": failure + MASK for cell in docs},
        **{f"logs/{cell}.log": failure + MASK for cell in docs},
    }
    for name, expected in shown.items():
        text = (run.folder / name).read_text(encoding="utf-8")
        assert expected in text, name
    for name in ("report.html", "matrix.json", *(f"ctrf/{cell}.json" for cell in docs)):
        text = (run.folder / name).read_text(encoding="utf-8")
        assert "billing-api" in text and "https://billing.example.com/healthz" in text, name
    planted_lines = [  # each channel did carry its secret, masked, into the cell's log
        f"passphrase = '{MASK}'",  # --showlocals
        f"connecting to postgres://admin:{MASK}@db.internal:5432/billing as {MASK}",  # evidence, printed
        f"with token {MASK}",  # captured stderr
        f"UserWarning: deprecated auth scheme for token {MASK}",  # the warnings summary
        f"replica postgres://replica:{MASK}@db-ro.internal/billing redis redis://:{MASK}@127.0.0.1:1/0",
        f"closing pool postgres://admin:{MASK}@db.internal:5432/billing {MASK}",  # atexit, uncaptured
    ]
    for cell in docs:
        log = (run.folder / "logs" / f"{cell}.log").read_text(encoding="utf-8")
        for line in planted_lines:
            assert line in log, (cell, line)
        # The cell's pytest command line, with validate's own arguments after `--`, heads its log.
        assert f"--replica-url=postgres://replica:{MASK}@db-ro.internal/billing" in log, cell
    assert "auth.login" in run.summary.read_text(encoding="utf-8")
    assert "VERDICT: NO-GO" in run.output and "auth.login" in run.output


def test_a_secret_split_across_reads_of_a_cell_output_is_still_masked() -> None:
    # How logs are written: the output of a cell arrives in reads of any size.
    text = (f"first line\nconnecting with {ENV_PASSWORD} now\n-----BEGIN RSA PRIVATE KEY-----\n"
            "MIIEowIBAAKCAQEA7bq\nQ2xvc2Vk\n-----END RSA PRIVATE KEY-----\nlast line without end").encode()
    for cut in range(1, len(text)):
        scrub = StreamRedactor(Redactor.from_environment({"DEMO_PASSWORD": ENV_PASSWORD}))
        out = scrub.feed(text[:cut]) + scrub.feed(text[cut:]) + scrub.flush()
        assert out == f"first line\nconnecting with {MASK} now\n{MASK}\nlast line without end".encode(), cut


def test_a_wine_cell_that_could_not_install_names_no_credential_in_its_document(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # uv's error quotes the requirement it could not fetch, credentials and all.
    from readiness.model.document import CellState
    from readiness.model.plan import PlannedCell
    from readiness.run.fallback import Missing, record

    monkeypatch.setenv("DEMO_API_TOKEN", ENV_TOKEN)
    cell = PlannedCell(WINE_CELL, WINE_PYTHON, None, lane="wine")
    (tmp_path / "envs").mkdir()
    record(tmp_path / "envs" / f"{WINE_CELL}.json", "run-1", cell, Missing(CellState.CRASHED, (
        "the cell's packages could not be installed: installing git+https://ci:"
        f"{ARG_PASSWORD}@git.example.com/billing.git failed; uv: token {ENV_TOKEN} was refused")))
    path = tmp_path / "envs" / f"{WINE_CELL}.json"
    doc = read_document(path)
    assert doc["state"] == "crashed"
    assert doc["reason"] == (f"the cell's packages could not be installed: installing git+https://ci:{MASK}"
                             f"@git.example.com/billing.git failed; uv: token {MASK} was refused")
    data = path.read_bytes()
    assert not [form for secret in (ARG_PASSWORD, ENV_TOKEN) for _, form in _forms(secret) if form in data]
