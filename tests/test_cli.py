"""The `readiness` command line: version, help, exit codes for bad usage."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from readiness import __version__, cli


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        cli.main(["--version"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out == f"readiness {__version__}\n"


def test_help_lists_commands(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    out = capsys.readouterr().out
    assert out.startswith("usage: readiness")
    assert "schema" in out


def test_no_command_prints_help_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main([]) == 2
    assert "usage: readiness" in capsys.readouterr().out


def test_an_unknown_command_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["frobnicate"]) == 2
    assert "readiness: error: readiness: argument COMMAND: invalid choice: 'frobnicate'" in (
        capsys.readouterr().err
    )


def test_schema_prints_the_shipped_env_schema(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["schema", "env"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["$id"] == "urn:readiness:schema:env:2"


@pytest.mark.parametrize("kind", ["env", "plan", "matrix", "verdict", "baseline"])
def test_schema_prints_each_kinds_own_schema(kind: str, capsys: pytest.CaptureFixture[str]) -> None:
    from readiness.judge import baseline, matrix, verdict
    from readiness.model import document, plan

    written = {"env": document.SCHEMA_VERSION, "plan": plan.PLAN_SCHEMA, "matrix": matrix.MATRIX_SCHEMA,
               "verdict": verdict.VERDICT_SCHEMA, "baseline": baseline.BASELINE_SCHEMA}[kind]
    assert cli.main(["schema", kind]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["$id"] == f"urn:readiness:schema:{kind}:{written}"
    assert printed["properties"]["kind"] == {"const": f"readiness/{kind}"}
    assert printed["properties"]["schema"] == {"const": written}


def test_the_installed_command_and_module_run() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "readiness", "--version"], capture_output=True, text=True,
        encoding="utf-8", check=False,
    )
    assert (done.returncode, done.stdout) == (0, f"readiness {__version__}\n")
