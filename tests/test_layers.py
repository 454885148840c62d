"""The layer rules of src/readiness (`[tool.importlinter]` in pyproject.toml): each contract
refuses a forbidden import added to a copy of the package, and every layer has a contract."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, List

import pytest
from conftest import ROOT, require_tool

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - the tests run on 3.11+, tomli is the plugin's fallback
    import tomli as tomllib

PACKAGE = ROOT / "src" / "readiness"
CONFIG = ROOT / "pyproject.toml"
CONTRACTS: Dict[str, Dict[str, Any]] = {
    contract["id"]: contract
    for contract in tomllib.loads(CONFIG.read_text(encoding="utf-8"))["tool"]["importlinter"]["contracts"]
}


def _a_module_of(layer: str) -> str:
    """A module of the layer other than its `__init__`: the first by name, so renames keep the test."""
    modules = sorted(path for path in (PACKAGE / layer).glob("*.py") if path.name != "__init__.py")
    return ".".join(("readiness", layer, modules[0].stem))


# (contract broken, module the import is added to, the import): one per contract, then the
# shims and top modules a layer is most tempted to reach for.
BAD_IMPORTS = [
    ("version", "readiness", _a_module_of("model")),
    ("model", _a_module_of("model"), _a_module_of("cell")),
    ("model", "readiness.model", "readiness.document"),
    ("cell", _a_module_of("cell"), _a_module_of("run")),
    ("cell", "readiness.cell", "readiness.measure"),
    ("judge", _a_module_of("judge"), _a_module_of("render")),
    ("render", _a_module_of("render"), _a_module_of("run")),
    ("platform", _a_module_of("platform"), _a_module_of("judge")),
    ("run", _a_module_of("run"), "readiness.cli"),
    ("run", "readiness.run", "readiness.nox"),
]


def _lint_imports(src: Path) -> subprocess.CompletedProcess[str]:
    """lint-imports with this repository's configuration over the package copied into `src`."""
    found = shutil.which("lint-imports", path=str(Path(sys.executable).parent)) or shutil.which("lint-imports")
    command = require_tool("lint-imports", found)
    # The copy comes first on the path; the repository root holds the `allowlist` contract type.
    # Not measured: run from the copy, coverage would record its files under names no source matches.
    env = {k: v for k, v in os.environ.items() if not k.startswith("COV")}
    env.update(PYTHONPATH=os.pathsep.join([str(src), str(ROOT)]), COLUMNS="200", NO_COLOR="1")
    return subprocess.run(
        [command, "--no-cache", "--no-logo", str(CONFIG)],
        cwd=src, env=env, capture_output=True, text=True, encoding="utf-8", check=False,
    )


def _copy_package(tmp_path: Path) -> Path:
    src = tmp_path / "src"
    shutil.copytree(PACKAGE, src / "readiness", ignore=shutil.ignore_patterns("__pycache__"))
    return src


def _file_of(src: Path, module: str) -> Path:
    path = src.joinpath(*module.split("."))
    return path / "__init__.py" if path.is_dir() else path.with_suffix(".py")


def _add_import(src: Path, importer: str, imported: str) -> None:
    path = _file_of(src, importer)
    text = path.read_text(encoding="utf-8")
    path.write_text(f"{text.rstrip()}\n\nimport {imported}\n", encoding="utf-8")


def _broken(output: str) -> List[str]:
    return [contract["id"] for contract in CONTRACTS.values() if f"{contract['name']} BROKEN" in output]


@pytest.mark.parametrize(("contract", "importer", "imported"), BAD_IMPORTS,
                         ids=[f"{importer}->{imported}" for _, importer, imported in BAD_IMPORTS])
def test_each_contract_refuses_a_forbidden_import_added_to_its_layer(
    tmp_path: Path, contract: str, importer: str, imported: str
) -> None:
    src = _copy_package(tmp_path)
    _add_import(src, importer, imported)
    done = _lint_imports(src)
    assert done.returncode == 1, done.stdout + done.stderr
    assert contract in _broken(done.stdout), done.stdout
    assert f"- {importer} -> {imported} (l." in done.stdout, done.stdout


def test_an_import_cycle_inside_a_layer_is_refused(tmp_path: Path) -> None:
    src = _copy_package(tmp_path)
    judge = src / "readiness" / "judge"
    (judge / "cycle_a.py").write_text("import readiness.judge.cycle_b\n", encoding="utf-8")
    (judge / "cycle_b.py").write_text("from readiness.judge import cycle_a\n", encoding="utf-8")
    done = _lint_imports(src)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "acyclic" in _broken(done.stdout), done.stdout
    assert "No cycles are allowed in readiness.judge." in done.stdout


def test_a_contract_naming_a_layer_that_does_not_exist_is_an_error_not_a_pass(tmp_path: Path) -> None:
    src = _copy_package(tmp_path)
    shutil.rmtree(src / "readiness" / "platform")
    done = _lint_imports(src)
    assert done.returncode != 0
    assert "names modules that do not exist: ['readiness.platform']" in " ".join((done.stdout + done.stderr).split())


def test_every_layer_has_an_allowlist_contract_and_no_contract_ignores_an_import() -> None:
    layers = sorted(f"readiness.{path.parent.name}" for path in PACKAGE.glob("*/__init__.py"))
    allowlists = [contract for contract in CONTRACTS.values() if contract["type"] == "allowlist"]
    assert sorted(c["layer"] for c in allowlists if c.get("as_package", True)) == layers
    assert [c["id"] for c in allowlists if not c.get("as_package", True)] == ["version"]
    assert not [c["id"] for c in CONTRACTS.values() if "ignore_imports" in c]


@pytest.mark.current_tree
def test_the_package_as_it_stands_keeps_every_contract(tmp_path: Path) -> None:
    done = _lint_imports(_copy_package(tmp_path))
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"Contracts: {len(CONTRACTS)} kept, 0 broken." in done.stdout


def test_the_readme_layout_names_every_module_of_every_layer() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    layout = readme[readme.index("## Layout"):]
    rows = {line.split("|")[1].strip().strip("`/"): line for line in layout.splitlines() if line.startswith("| ")}
    package = ROOT / "src" / "readiness"
    missing = []
    for path in sorted(package.rglob("*.py")):
        parts = path.relative_to(package).with_suffix("").parts
        if parts[-1] == "__init__" or len(parts) == 1:
            row = rows.get("top") if len(parts) == 1 else None
            if len(parts) == 1 and parts[0] != "__init__" and f"`{parts[0]}`" not in (row or ""):
                missing.append(path.name)
            continue
        if f"`{parts[-1]}`" not in rows.get(parts[0], ""):
            missing.append("/".join(parts))
    assert missing == [], f"README.md's Layout does not name: {missing}"
