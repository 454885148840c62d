"""What makes a warm cell install again: the install request's digest and each copy's fingerprint.

Editing the policy (`[tool.readiness]` beside the target's `[project]`) rebuilds nothing; editing
what an install reads (`[project]`, a build backend's `[tool.*]` table, the install keys of
the policy) does; a copy whose files changed is rebuilt alone.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from readiness.run.install import InstallRequest, ReadinessSource, Warmth, check_install

PYPROJECT = """
[project]
name = "shop"
version = "1.0"
dependencies = ["attrs"]

[tool.hatch.build]
exclude = ["docs"]

[tool.readiness]
target = {path = ".", extras = []}
suite = {path = "tests"}
"""


def _request(project: Path, **changes: object) -> InstallRequest:
    return InstallRequest(target=project, readiness=ReadinessSource(None, "1.0"), **changes)  # type: ignore[arg-type]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "shop").mkdir()
    (tmp_path / "shop" / "pyproject.toml").write_text(PYPROJECT, encoding="utf-8")
    return tmp_path / "shop"


@pytest.mark.parametrize("edit", [
    ("suite = {path = \"tests\"}", "suite = {path = \"checks\"}\naccept_own_skips = true"),
    ("[tool.readiness]", "[tool.readiness.severity]\n\"a.b\" = \"minor\"\n\n[tool.readiness]"),
    ("\n[tool.readiness]", "\n# a comment\n\n[tool.readiness]"),
])
def test_editing_the_policy_rebuilds_nothing(project: Path, edit: "tuple[str, str]") -> None:
    before = _request(project).digest(live=True)
    text = (project / "pyproject.toml").read_text(encoding="utf-8")
    (project / "pyproject.toml").write_text(text.replace(*edit), encoding="utf-8")
    assert _request(project).digest(live=True) == before


@pytest.mark.parametrize("edit", [
    ('dependencies = ["attrs"]', 'dependencies = ["attrs", "cattrs"]'),
    ('exclude = ["docs"]', 'exclude = ["docs", "tests"]'),
    ("[tool.readiness]", "[build-system]\nrequires = [\"hatchling\"]\n\n[tool.readiness]"),
    ("[project]", "[project\n"),  # unreadable: the bytes count
])
def test_editing_what_an_install_reads_installs_again(project: Path, edit: "tuple[str, str]") -> None:
    before = _request(project).digest(live=True)
    text = (project / "pyproject.toml").read_text(encoding="utf-8")
    (project / "pyproject.toml").write_text(text.replace(*edit), encoding="utf-8")
    assert _request(project).digest(live=True) != before


def test_the_policy_s_install_keys_count(project: Path) -> None:
    before = _request(project).digest(live=True)
    assert _request(project, extras=("test",)).digest(live=True) != before
    assert _request(project, editable=True).digest(live=True) != before


def test_only_the_copy_whose_files_changed_is_rebuilt(project: Path, tmp_path: Path) -> None:
    own = tmp_path / "own"
    (own / "src" / "readiness").mkdir(parents=True)
    (own / "src" / "readiness" / "__init__.py").write_text("", encoding="utf-8")
    (project / "shop.py").write_text("VALUE = 1\n", encoding="utf-8")
    request = InstallRequest(target=project, readiness=ReadinessSource(own, "1.0"))
    stamp = tmp_path / "stamp"
    first = check_install(stamp, request, live=False)
    assert first.warmth is Warmth.NEW
    stamp.write_text(first.stamp, encoding="utf-8")
    assert check_install(stamp, request, live=False).warmth is Warmth.CURRENT
    (project / "shop.py").write_text("VALUE = 22\n", encoding="utf-8")
    changed = check_install(stamp, request, live=False)
    assert (changed.warmth, changed.rebuild) == (Warmth.SOURCES, ("shop",))
    assert changed.reinstall_arguments() == ["--reinstall-package", "shop"]
