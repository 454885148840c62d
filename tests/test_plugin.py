"""The pytest plugin end to end: what a check suite run writes, serial and under xdist."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Dict, Set

import pytest
from conftest import read_document

pytest_plugins = ["pytester"]

SUITE = """
import os
import pytest

@pytest.mark.check(id="health.app", title="App builds", category="health", severity="critical")
def test_app(evidence):
    evidence["secret_key_length"] = 69
    evidence["nested"] = {"sizes": (1, 2), "ok": True}
    evidence.measure("startup_s", [1.0, 1.25, 1.5], unit="s")

@pytest.mark.check(category="integration")
def test_database():
    raise ModuleNotFoundError("No module named 'netra_backend.app.database.connection'")

@pytest.mark.check(platforms=["windows"])
def test_proactor_policy():
    pass

@pytest.mark.xfail(reason="known bug 12")
def test_known_bug():
    assert False

@pytest.mark.xfail(reason="fixed since")
def test_fixed_since():
    pass

@pytest.mark.skip(reason="needs a GPU")
def test_gpu():
    pass

@pytest.fixture
def broken_setup():
    raise RuntimeError("setup boom")

def test_setup_error(broken_setup):
    pass

@pytest.fixture
def broken_teardown():
    yield
    raise RuntimeError("teardown boom")

def test_teardown_error(broken_teardown):
    pass

def test_unselected():
    pass

def test_plain():
    "A plain test is a check with the defaults."
"""

EXPECTED = {
    "health.app": "passed",
    "test_suite.py::test_database": "failed",
    "test_suite.py::test_proactor_policy": "not_applicable",
    "test_suite.py::test_known_bug": "xfailed",
    "test_suite.py::test_fixed_since": "xpassed",
    "test_suite.py::test_gpu": "skipped",
    "test_suite.py::test_setup_error": "error",
    "test_suite.py::test_teardown_error": "error",
    "test_suite.py::test_unselected": "deselected",
    "test_suite.py::test_plain": "passed",
}


def _only_document(folder: Path) -> Dict[str, Any]:
    files = sorted(folder.glob("*.json"))
    assert len(files) == 1, files
    return read_document(files[0])


def _by_id(doc: Dict[str, Any]) -> Dict[str, Dict[str, Any]]:
    return {check["id"]: check for check in doc["checks"]}


def test_plugin_is_passive_without_an_output(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_suite=SUITE)
    result = pytester.runpytest("-k", "not unselected")
    result.assert_outcomes(passed=4, failed=1, errors=2, skipped=1, xfailed=1, xpassed=1, deselected=1)
    assert not list(pytester.path.rglob("*.json"))
    result.stdout.no_fnmatch_line("readiness: wrote*")


def test_every_outcome_maps_exactly(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_suite=SUITE)
    result = pytester.runpytest("-k", "not unselected", "--readiness-out", "out")
    result.stdout.fnmatch_lines(["readiness: wrote *-cpython3.* (complete) to *out*.json"])
    doc = _only_document(pytester.path / "out")
    assert {cid: check["outcome"] for cid, check in _by_id(doc).items()} == EXPECTED
    assert doc["collected"] == sorted(EXPECTED)
    assert doc["summary"]["error"] == 2 and doc["summary"]["not_applicable"] == 1
    assert doc["state"] == "complete" and doc["reason"] is None


def test_records_carry_marker_fields_evidence_and_messages(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_suite=SUITE)
    pytester.runpytest("--readiness-out", "out")
    checks = _by_id(_only_document(pytester.path / "out"))
    app = checks["health.app"]
    assert (app["title"], app["category"], app["severity"]) == ("App builds", "health", "critical")
    assert app["evidence"] == {"secret_key_length": 69, "nested": {"sizes": [1, 2], "ok": True}}
    assert app["measurements"]["startup_s"]["samples"] == [1.0, 1.25, 1.5]
    assert app["measurements"]["startup_s"]["unit"] == "s"
    database = checks["test_suite.py::test_database"]
    assert database["message"] == (
        "ModuleNotFoundError: No module named 'netra_backend.app.database.connection'"
    )
    assert "netra_backend.app.database.connection" in database["longrepr"]
    assert (database["severity"], database["category"]) == ("major", "integration")
    assert checks["test_suite.py::test_plain"]["title"] == "A plain test is a check with the defaults."
    assert checks["test_suite.py::test_proactor_policy"]["message"] == (
        "not applicable: runs on windows only"
    )
    assert checks["test_suite.py::test_gpu"]["message"] == "Skipped: needs a GPU"
    assert checks["test_suite.py::test_teardown_error"]["message"] == "RuntimeError: teardown boom"


def test_output_to_a_json_path_and_from_the_environment(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile(test_suite="def test_one():\n    pass\n")
    pytester.runpytest("--readiness-out", "given/name.json")
    assert read_document(pytester.path / "given" / "name.json")["summary"]["passed"] == 1
    monkeypatch.setenv("READINESS_OUT", str(pytester.path / "from-env"))
    pytester.runpytest()
    assert _only_document(pytester.path / "from-env")["checks"][0]["id"] == "test_suite.py::test_one"


def _comparable(doc: Dict[str, Any]) -> Dict[str, Any]:
    checks = []
    for check in doc["checks"]:
        check = dict(check, duration_s=0)
        for measurement in check["measurements"].values():
            measurement.pop("load", None)  # the machine's load when sampled, not the check's result
        check.pop("longrepr")  # tracebacks differ in process details, not in substance
        checks.append(check)
    return {"collected": doc["collected"], "checks": checks, "summary": doc["summary"]}


def test_xdist_writes_the_same_document_as_a_serial_run(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_suite=SUITE)
    pytester.runpytest("-k", "not unselected", "--readiness-out", "serial")
    result = pytester.runpytest("-n", "2", "-k", "not unselected", "--readiness-out", "xdist")
    result.stdout.fnmatch_lines(["readiness: wrote *"])
    serial = _only_document(pytester.path / "serial")
    parallel = _only_document(pytester.path / "xdist")
    assert json.dumps(_comparable(parallel), indent=1) == json.dumps(_comparable(serial), indent=1)
    # Written once, by the controller.
    assert len(list((pytester.path / "xdist").iterdir())) == 1


@pytest.mark.parametrize("death", ["os._exit(3)", "os.abort()"])
def test_a_worker_that_dies_gives_an_error_record(pytester: pytest.Pytester, death: str) -> None:
    pytester.makepyfile(
        test_suite=f"""
import os, pytest
@pytest.mark.check(id="dies", severity="critical")
def test_dies():
    {death}
def test_survives():
    pass
"""
    )
    pytester.runpytest("-n", "2", "--readiness-out", "out")
    checks = _by_id(_only_document(pytester.path / "out"))
    assert checks["dies"]["outcome"] == "error"
    assert checks["dies"]["severity"] == "critical"
    assert "crashed while running 'test_suite.py::test_dies'" in checks["dies"]["message"]
    assert checks["test_suite.py::test_survives"]["outcome"] == "passed"


def test_flaky_check_counts_attempts_and_keeps_the_first_failure(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_suite="""
import pytest
attempts = []
@pytest.mark.flaky(reruns=3)
def test_sometimes():
    attempts.append(1)
    assert len(attempts) >= 3, f"failed on attempt {len(attempts)}"
@pytest.mark.flaky(reruns=1)
def test_always():
    assert False, "always broken"
"""
    )
    pytester.runpytest("-p", "rerunfailures", "--readiness-out", "out")
    checks = _by_id(_only_document(pytester.path / "out"))
    sometimes = checks["test_suite.py::test_sometimes"]
    assert (sometimes["outcome"], sometimes["attempts"]) == ("flaky", 3)
    assert "failed on attempt 1" in sometimes["first_failure"]
    always = checks["test_suite.py::test_always"]
    assert (always["outcome"], always["attempts"]) == ("failed", 2)


@pytest.mark.skipif(pytest.version_tuple < (9,), reason="the subtests fixture is pytest's own from 9")
@pytest.mark.parametrize("xdist", [[], ["-n", "2"]], ids=["serial", "xdist"])
def test_subtests_are_parts_of_their_check(pytester: pytest.Pytester, xdist: "list[str]") -> None:
    pytester.makepyfile(
        test_suite="""
import pytest
def test_parts(subtests):
    for i in range(3):
        with subtests.test(i=i):
            if i == 1:
                pytest.skip("not on this one")
def test_broken_part(subtests):
    for i in range(3):
        with subtests.test(i=i):
            assert i < 2, f"part {i} broke"
"""
    )
    pytester.runpytest(*xdist, "--readiness-out", "out")
    checks = _by_id(_only_document(pytester.path / "out"))
    parts = checks["test_suite.py::test_parts"]
    assert (parts["outcome"], parts["attempts"]) == ("passed", 1), "a skipped part does not skip the check"
    assert parts["message"] == "passed; 1 subtest(s) skipped: Skipped: not on this one"
    broken = checks["test_suite.py::test_broken_part"]
    assert (broken["outcome"], broken["attempts"]) == ("failed", 1)
    assert broken["message"].startswith("AssertionError: part 2 broke")


def test_duplicate_check_ids_are_an_error_naming_both_tests(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_suite="""
import pytest
@pytest.mark.check(id="db.roundtrip")
def test_one(): pass
@pytest.mark.check(id="db.roundtrip")
def test_two(): pass
"""
    )
    result = pytester.runpytest("--readiness-out", "out")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([
        "*check id 'db.roundtrip' is used by both test_suite.py::test_one and "
        "test_suite.py::test_two*"
    ])


def test_parametrized_checks_get_one_id_per_parameter(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_suite="""
import pytest
@pytest.mark.check(id="api.status")
@pytest.mark.parametrize("path", ["/health", "/ready"])
def test_status(path): pass
"""
    )
    pytester.runpytest("--readiness-out", "out")
    doc = _only_document(pytester.path / "out")
    assert doc["collected"] == ["api.status[/health]", "api.status[/ready]"]


@pytest.mark.parametrize(
    ("marker", "message"),
    [
        ("severity='blocker'", "severity='blocker' is not one of critical, major, minor, info"),
        ("platforms=['solaris']", "platforms='solaris' is not one of linux, windows, macos"),
        ("owner='me'", "@pytest.mark.check has no argument 'owner'"),
    ],
)
def test_bad_marker_arguments_are_named(pytester: pytest.Pytester, marker: str, message: str) -> None:
    pytester.makepyfile(test_suite=f"import pytest\n@pytest.mark.check({marker})\ndef test_x(): pass\n")
    result = pytester.runpytest("--readiness-out", "out")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"*test_suite.py::test_x: {message}*"])


def test_platforms_take_sys_platform_names(pytester: pytest.Pytester) -> None:
    here = "linux" if sys.platform.startswith("linux") else {"win32": "windows", "darwin": "macos"}[sys.platform]
    pytester.makepyfile(test_suite="""
import pytest
@pytest.mark.check(platforms=["win32", "darwin"])
def test_elsewhere(): pass
@pytest.mark.check(platforms=["linux", "win32", "darwin"])
def test_everywhere(): pass
""")
    pytester.runpytest("--readiness-out", "out")
    checks = {c["id"]: c for c in _only_document(pytester.path / "out")["checks"]}
    assert checks["test_suite.py::test_elsewhere"]["platforms"] == ["windows", "macos"]
    assert checks["test_suite.py::test_everywhere"]["platforms"] == ["linux", "windows", "macos"]
    assert checks["test_suite.py::test_everywhere"]["outcome"] == "passed"
    elsewhere = checks["test_suite.py::test_elsewhere"]["outcome"]
    assert elsewhere == ("passed" if here in ("windows", "macos") else "not_applicable")


def test_evidence_refuses_values_json_cannot_hold(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_suite="""
def test_set(evidence):
    evidence["hosts"] = {"a", "b"}
"""
    )
    result = pytester.runpytest("--readiness-out", "out")
    message = _only_document(pytester.path / "out")["checks"][0]["message"]
    assert message == (
        "TypeError: evidence['hosts'] is a set; evidence holds str, int, float, bool, None, "
        "and lists or dicts of those"
    )
    result.stdout.fnmatch_lines(["*TypeError: evidence?'hosts'? is a set*"])


def test_run_id_target_and_fingerprint(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("READINESS_RUN_ID", "release-1.2.3")
    monkeypatch.setenv("READINESS_TARGET", "pytest")
    monkeypatch.setenv("READINESS_TARGET_COMMIT", "0123abc")
    monkeypatch.setenv("READINESS_TARGET_DIRTY", "1")
    pytester.makepyfile(test_suite="def test_one(): pass\n")
    pytester.runpytest("--readiness-out", "out")
    doc = _only_document(pytester.path / "out")
    assert doc["run_id"] == "release-1.2.3"
    assert doc["target"]["name"] == "pytest"
    assert doc["target"]["version"] == pytest.__version__
    assert (doc["target"]["commit"], doc["target"]["dirty"]) == ("0123abc", True)
    assert doc["target"]["source_hash"].startswith("sha256:")
    assert doc["installed"]["pytest"] == pytest.__version__
    assert doc["cell"]["fingerprint"]["runner"] in ("nox", "tox", "plain")
    assert (pytester.path / "out" / f"{doc['cell']['id']}.json").is_file()
    assert doc["coverage"] is None


def test_an_invalid_run_id_is_a_usage_error(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("READINESS_RUN_ID", "../../etc")
    pytester.makepyfile(test_suite="def test_one(): pass\n")
    result = pytester.runpytest("--readiness-out", "out")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*READINESS_RUN_ID='../../etc' is not a valid run id*"])
    assert not (pytester.path / "out").exists()


def test_progress_file_for_the_live_board(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("READINESS_PROGRESS", str(pytester.path / "progress.json"))
    pytester.makepyfile(test_suite="def test_a(): pass\ndef test_b(): assert 0\n")
    pytester.runpytest("--readiness-out", "out")
    progress = json.loads((pytester.path / "progress.json").read_text(encoding="utf-8"))
    assert progress["total"] == 2 and progress["done"] == 2 and progress["final"] is True
    assert progress["counts"] == {"passed": 1, "failed": 1}


def test_progress_moves_while_the_cell_runs(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    path = pytester.path / "progress.json"
    monkeypatch.setenv("READINESS_PROGRESS", str(path))
    pytester.makepyfile(test_suite=f"""
import json, pathlib, time
PROGRESS = pathlib.Path({str(path)!r})

def seen():
    data = json.loads(PROGRESS.read_text(encoding="utf-8"))
    return data["done"], data["total"], data["final"]

def test_a():
    pass

def test_b():
    assert seen() == (1, 3, False)  # the first check to finish is written at once
    time.sleep(1.1)  # past the interval between writes: the next one to finish is written too

def test_c():
    assert seen() == (2, 3, False)
""")
    pytester.runpytest("--readiness-out", "out").assert_outcomes(passed=3)
    assert json.loads(path.read_text(encoding="utf-8"))["final"] is True


MODULES_CONFTEST = """
import json, sys
def pytest_sessionfinish(session):
    worker = getattr(session.config, "workerinput", {}).get("workerid", "controller")
    loaded = sorted(name for name in sys.modules if name.startswith("readiness"))
    rewritten = [name for name in loaded if type(sys.modules[name].__loader__).__name__ == "AssertionRewritingHook"]
    with open(f"modules-{worker}.json", "w", encoding="utf-8") as handle:
        json.dump(loaded, handle)
    with open(f"rewritten-{worker}.json", "w", encoding="utf-8") as handle:
        json.dump(rewritten, handle)
"""
WRITER_ONLY = {f"readiness.cell.{name}" for name in
               ("recorder", "envdoc", "fingerprint", "target", "outcomes", "sessionend", "progress")}
DOCUMENT = {"readiness.model.document", "readiness.model.reader"}
EVIDENCE = {"readiness.cell.evidence", "readiness.cell.measure", "readiness.cell.sampling"}


def _modules(pytester: pytest.Pytester, process: str) -> Set[str]:
    return set(json.loads((pytester.path / f"modules-{process}.json").read_text(encoding="utf-8")))


def test_a_workers_severities_are_the_documents() -> None:
    """An xdist worker reads `severity=` without importing the document's `Severity`: the same names."""
    from readiness.cell.checkinfo import SEVERITIES
    from readiness.model.document import Severity

    assert {severity.value: severity.value for severity in Severity} == SEVERITIES


def test_the_plugin_imports_only_what_the_run_needs(pytester: pytest.Pytester) -> None:
    """pytest imports the plugin in every run: passive, it imports nothing of readiness but its error
    classes; the evidence
    machinery comes when a check asks for it, and an xdist worker leaves out the document and what
    writes it."""
    pytester.makeconftest(MODULES_CONFTEST)
    pytester.makepyfile(test_suite="def test_one():\n    pass\n")
    pytester.runpytest_subprocess().assert_outcomes(passed=1)
    assert _modules(pytester, "controller") == {"readiness", "readiness.cell", "readiness.cell.plugin",
                                                "readiness.model", "readiness.model.errors"}

    pytester.runpytest_subprocess("--readiness-out", "out").assert_outcomes(passed=1)
    writer = _modules(pytester, "controller")
    assert writer >= WRITER_ONLY and not EVIDENCE & writer
    # Imported as any library is, not through pytest's assertion rewriting (the entry point and
    # the error classes it imports up front excepted: pytest imports them before the plugin can say so).
    rewritten = json.loads((pytester.path / "rewritten-controller.json").read_text(encoding="utf-8"))
    assert set(rewritten) <= {"readiness", "readiness.cell", "readiness.cell.plugin", "readiness.model",
                              "readiness.model.errors"}

    pytester.runpytest_subprocess("-n", "1", "--readiness-out", "out").assert_outcomes(passed=1)
    assert not (WRITER_ONLY | DOCUMENT | EVIDENCE) & _modules(pytester, "gw0")

    pytester.makepyfile(test_suite="def test_one(evidence):\n    evidence['n'] = 1\n")
    pytester.runpytest_subprocess("-n", "1", "--readiness-out", "out").assert_outcomes(passed=1)
    worker = _modules(pytester, "gw0")
    assert worker >= EVIDENCE and not WRITER_ONLY & worker
    assert _only_document(pytester.path / "out")["checks"][0]["evidence"] == {"n": 1}


def test_a_suite_path_that_does_not_exist_is_a_crashed_cell(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("no_such_folder", "--readiness-out", "out")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    doc = _only_document(pytester.path / "out")
    assert doc["state"] == "crashed" and doc["checks"] == []
    assert doc["reason"] == "pytest could not run the suite (usage error, exit 4): see the cell's log"
