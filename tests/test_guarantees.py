"""README's "What readiness guarantees" table: every row names a test, and every test named exists and is collected."""

from __future__ import annotations

import re
import subprocess
import sys

from conftest import ROOT

TEST = r"`(tests/test_\w+\.py::test_\w+)`"


def _section() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    return readme.split("## What readiness guarantees", 1)[1].split("\n## ", 1)[0]


def _named_tests() -> list:
    return re.findall(TEST, _section())


def test_every_row_of_the_guarantees_table_names_a_test() -> None:
    rows = [line for line in _section().splitlines()
            if line.startswith("|") and not line.startswith(("|---", "| fault or bad input |"))]
    assert len(rows) >= 40
    unproved = [row for row in rows if not re.search(TEST + r" \|$", row)]
    assert not unproved, f"rows that name no test in their last column: {unproved}"


def test_every_test_the_guarantees_table_names_is_collected() -> None:
    named = _named_tests()
    assert len(named) >= 20
    files = sorted({name.split("::")[0] for name in named})
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", *files],
        cwd=ROOT, capture_output=True, text=True, encoding="utf-8", check=False,
    )
    collected = {line.split("[")[0] for line in done.stdout.splitlines() if "::" in line}
    missing = [name for name in named if name not in collected]
    assert not missing, f"named in README but not collected: {missing}\n{done.stdout[-2000:]}"
