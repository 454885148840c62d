"""Real projects from the package index, validated as README's "Validate your own project" says.

Each project is an sdist that ships its tests, pinned by version and sha256 (tests/sdists.py).
The noxfile and the policy are README's own snippets, read from README.md, so the two cannot
drift: the only policy line added is the one README shows for a project's own skips.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Dict, List

import pytest
from conftest import ROOT, read_document, require_tool
from sdists import ITSDANGEROUS, PATHSPEC, unpack

from readiness.run.lanes.native import host_cell

pytestmark = pytest.mark.xdist_group("wine")
PYTHONS = ["3.11", "3.12"]
NATIVE = {python: host_cell(python) for python in PYTHONS}
WINE = {python: f"windows-x86_64-wine-cpython{python}" for python in PYTHONS}


def readme_blocks(language: str) -> List[str]:
    """The code blocks of README's "Validate your own project" section, in order."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Validate your own project"):]
    section = section[: section.index("\n## ", 1)]
    blocks = re.findall(rf"```{language}\n(.*?)```", section, flags=re.S)
    return [re.sub(r"(?m)^   ", "", block) for block in blocks]


def readme_policy(route: str) -> str:
    """README's [tool.readiness] snippet for one install route, and its line for the project's own skips."""
    (snippet,) = [b for b in readme_blocks("toml") if b.startswith("[tool.readiness]") and f"{route} =" in b]
    (skips,) = [b for b in readme_blocks("toml") if "accept_own_skips" in b]
    return snippet + skips


def follow_the_readme(project: Path, route: str) -> None:
    (noxfile,) = readme_blocks("python")
    (project / "noxfile.py").write_text(noxfile, encoding="utf-8")
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text(encoding="utf-8") + "\n" + readme_policy(route), encoding="utf-8")


def validate(project: Path, *args: str) -> "subprocess.CompletedProcess[str]":
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("READINESS_", "NOX_", "COV"))}
    return subprocess.run([sys.executable, "-m", "nox", "-s", "validate", "--", *args], cwd=project, env=environ,
                          capture_output=True, text=True, encoding="utf-8", stdin=subprocess.DEVNULL,
                          timeout=900, check=False)


def documents(project: Path) -> Dict[str, dict]:
    run_id = (project / "reports" / "latest").read_text(encoding="utf-8").strip()
    return {p.stem: read_document(p) for p in sorted((project / "reports" / "runs" / run_id / "envs").glob("*.json"))}


def collected_by_pytest(project: Path, python: str) -> int:
    """What plain `pytest --collect-only -q` counts in the cell's own environment."""
    interpreter = project / ".nox" / f"checks-{python.replace('.', '-')}" / "bin" / "python"
    done = subprocess.run([str(interpreter), "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", "tests"],
                          cwd=project, capture_output=True, text=True, timeout=300, check=False)
    match = re.search(r"(\d+) tests? collected", done.stdout)
    assert match, done.stdout[-2000:]
    return int(match.group(1))


def blocking_section(output: str) -> List[str]:
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("Blocking"))
    end = next(i for i in range(start + 1, len(lines)) if not lines[i].startswith("  "))
    return lines[start + 1:end]


def test_itsdangerous_through_a_requirements_file_on_every_lane(tmp_path: Path) -> None:
    require_tool("wine")
    project = unpack(ITSDANGEROUS, tmp_path)
    follow_the_readme(project, "requirements")
    cells = [*NATIVE.values(), *WINE.values()]
    pythons = [arg for python in PYTHONS for arg in ("--python", python)]

    done = validate(project, *pythons)  # plain pytest passes all 297 tests: GO
    assert done.returncode == 0 and "VERDICT: GO" in done.stdout, done.stdout[-4000:] + done.stderr[-2000:]
    docs = documents(project)
    assert sorted(docs) == sorted(cells)
    for python, cell in NATIVE.items():
        assert len(docs[cell]["collected"]) == collected_by_pytest(project, python) >= 200
    assert {len(doc["collected"]) for doc in docs.values()} == {len(docs[NATIVE["3.12"]]["collected"])}

    # One function broken on Python 3.12 only: NO-GO naming the 3.12 cells, native and Wine, alone.
    encoding = project / "src" / "itsdangerous" / "encoding.py"
    source = encoding.read_text(encoding="utf-8")
    encoding.write_text(source.replace('def base64_encode(string: str | bytes) -> bytes:\n', (
        'def base64_encode(string: str | bytes) -> bytes:\n'
        '    import sys\n    if sys.version_info[:2] == (3, 12):\n        raise RuntimeError("3.12 only")\n'), 1),
        encoding="utf-8")
    done = validate(project, *pythons)
    assert done.returncode == 1 and "VERDICT: NO-GO" in done.stdout, done.stdout[-4000:]
    failing = {cell for cell, doc in documents(project).items() if doc["summary"]["failed"] or doc["summary"]["error"]}
    assert failing == {NATIVE["3.12"], WINE["3.12"]}
    blocking = blocking_section(done.stdout)
    assert 1 <= len(blocking) <= 6, "\n".join(blocking)
    assert "only in cpython3.12" in blocking[0] and "RuntimeError: 3.12 only" in blocking[0]

    # The test dependencies taken out of the policy, on the warm cells: the cells no longer have
    # freezegun, and the verdict names the module that is missing.
    encoding.write_text(source, encoding="utf-8")
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text(encoding="utf-8").replace(
        ', requirements = "requirements/tests.txt"', ""), encoding="utf-8")
    done = validate(project, *pythons)
    assert done.returncode == 1, done.stdout[-4000:]
    assert "ModuleNotFoundError: No module named 'freezegun'" in done.stdout, done.stdout[-4000:]
    assert all(doc["state"] == "complete" for doc in documents(project).values())


def test_pathspec_through_a_dependency_group(tmp_path: Path) -> None:
    project = unpack(PATHSPEC, tmp_path)
    follow_the_readme(project, "dependency_groups")
    # The native cells: under Wine 8.0, pathspec's symlink tests fail (Wine does not model
    # Windows symlinks), which the Windows lane reports as a divergence of its own.
    done = validate(project, *[arg for cell in NATIVE.values() for arg in ("--cells", cell)])
    assert done.returncode == 0 and "VERDICT: GO" in done.stdout, done.stdout[-4000:] + done.stderr[-2000:]
    docs = documents(project)
    for python, cell in NATIVE.items():
        assert len(docs[cell]["collected"]) == collected_by_pytest(project, python) >= 150
    # Its tests run every pattern backend as a subtest and skip the ones not installed (hyperscan):
    # each such check ran and passed, its message naming the skipped parts, never a skipped check.
    parts = [c for c in docs[NATIVE["3.12"]]["checks"] if (c["message"] or "").startswith("passed; ")]
    assert parts and all(c["outcome"] == "passed" and "subtest(s) skipped" in c["message"] for c in parts)
    assert docs[NATIVE["3.12"]]["summary"]["skipped"] < len(parts)
    verdict = json.loads((project / "reports" / "runs" / docs[NATIVE["3.12"]]["run_id"] / "verdict.json")
                         .read_text(encoding="utf-8"))
    assert verdict["state"] == "GO"
