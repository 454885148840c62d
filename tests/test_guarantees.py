"""Every test README's "What readiness guarantees" table names exists and is collected."""

from __future__ import annotations

import re
import subprocess
import sys

from conftest import ROOT


def _named_tests() -> list:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## What readiness guarantees", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"`(tests/test_\w+\.py::test_\w+)`", section)


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
