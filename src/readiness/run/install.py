"""What every cell installs, as one request built once from `[tool.readiness].target` and carried out
by every lane (README, "Policy" and "Validate your own project").

A lane turns the request into its installer's arguments: a native cell into a uv environment
(the target editable when asked, so its sources are live), a Wine cell into a target folder of
Windows wheels (copies). A warm cell installs nothing unless the request or a copied project's
files changed (`check_install`).
"""

from __future__ import annotations

import enum
import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import List, Mapping, NamedTuple, Optional, Sequence, Tuple

from readiness.cell import target as target_facts
from readiness.judge.policy import Policy
from readiness.model.errors import ReadinessError
from readiness.platform import process
from readiness.run.cellrun import log_note

COVERAGE = "coverage>=7.10"
RERUNFAILURES = "pytest-rerunfailures>=14"
BUILD_TIMEOUT_S = 1800  # a build step (an environment, an install, readiness's wheel) that takes longer is stopped


# A named tuple, immutable as a frozen dataclass and a quarter of its cost to define (on every run).
class ReadinessSource(NamedTuple):
    """How a cell gets readiness itself: this source tree (or the folder it was installed from), else the release."""

    folder: Optional[Path]
    version: str

    @classmethod
    def here(cls) -> "ReadinessSource":
        from readiness import __version__

        source = Path(__file__).resolve().parents[3]
        if (source / "pyproject.toml").is_file() and (source / "src" / "readiness").is_dir():
            return cls(source, __version__)
        return cls(_installed_from(), __version__)

    def requirement(self) -> List[str]:
        """What an installer takes for it: the folder (a cell installs the wheel built from it
        once, run/ownwheel.py), else the release."""
        if self.folder is None:
            return [f"readiness=={self.version}"]
        return [self.folder.as_posix()]

    def package(self) -> Optional[Path]:
        """The folder whose files make its wheel (its package, all of it that builds), if local."""
        if self.folder is None:
            return None
        package = self.folder / "src" / "readiness"
        return package if package.is_dir() else self.folder


@dataclass(frozen=True)
class InstallRequest:
    """The target (path, extras, editable), its requirements and constraints, and the tools the checks need."""

    target: Optional[Path] = None
    extras: Tuple[str, ...] = ()
    groups: Tuple[str, ...] = ()  # PEP 735 dependency groups of the target's pyproject.toml
    editable: bool = False
    requirements: Optional[Path] = None  # a requirements file
    requirement_specs: Tuple[str, ...] = ()  # requirement strings
    constraints: Optional[Path] = None
    tools: Tuple[str, ...] = ()
    readiness: ReadinessSource = field(default_factory=ReadinessSource.here)

    @classmethod
    def from_policy(cls, project: Path, rules: Policy) -> "InstallRequest":
        settings = rules.target
        tools = ((COVERAGE,) if rules.coverage.enabled else ()) + ((RERUNFAILURES,) if rules.flaky.reruns else ())
        requirements = settings.requirements
        return cls(
            target=project / settings.path if settings.path else None,
            extras=tuple(settings.extras),
            groups=tuple(settings.dependency_groups),
            editable=settings.editable,
            requirements=project / requirements if isinstance(requirements, str) else None,
            requirement_specs=requirements if isinstance(requirements, tuple) else (),
            constraints=project / settings.constraints if settings.constraints else None,
            tools=tools,
        )

    def requires_python(self) -> Optional[str]:
        """The target's `requires-python`, which decides the Pythons it is checked on (None: any)."""
        if self.target is None:
            return None
        value = target_facts.project_table(self.target / "pyproject.toml").get("requires-python")
        return str(value) if value else None

    def target_requirement(self) -> Optional[str]:
        """`path[extra,...]`: the target as an installer takes it."""
        if self.target is None:
            return None
        extras = f"[{','.join(self.extras)}]" if self.extras else ""
        return f"{self.target.as_posix()}{extras}"

    def arguments(self, *, live: bool, wheel: Optional[Path] = None) -> List[str]:
        """uv pip arguments: `live` installs the target in place (if the policy says editable);
        `wheel`: readiness's own wheel built for this install, in place of its folder."""
        args: List[str] = []
        if self.constraints is not None:
            args += ["-c", str(self.constraints)]
        if self.requirements is not None:
            args += ["-r", str(self.requirements)]
        if self.target is not None:
            for group in self.groups:
                args += ["--group", f"{(self.target / 'pyproject.toml').as_posix()}:{group}"]
        args += list(self.requirement_specs)
        requirement = self.target_requirement()
        if requirement is not None:
            args += ["-e", requirement] if live and self.editable else [requirement]
        own = [str(wheel)] if wheel is not None else self.readiness.requirement()
        return args + own + list(self.tools)

    def copies(self, *, live: bool) -> List[Tuple[str, Path]]:
        """(distribution name, folder) of each local project installed as a copy, not in place:
        a copy is rebuilt when its files change (run/sources.py)."""
        found: List[Tuple[str, Path]] = []
        if self.target is not None and not (live and self.editable):
            name = target_facts.project_table(self.target / "pyproject.toml").get("name")
            found.append((str(name or self.target.name), self.target))
        package = self.readiness.package()
        if package is not None:
            found.append(("readiness", package))
        return found

    def digest(self, *, live: bool) -> str:
        """Changes when the install would: the arguments, or a file they name (constraints,
        requirements, a pyproject.toml). A warm cell with another digest installs again."""
        digest = hashlib.sha256(json.dumps(self.arguments(live=live)).encode("utf-8"))
        for path in self._files():
            if path.is_file():
                digest.update(_install_relevant(path))
        return digest.hexdigest()

    def _files(self) -> List[Path]:
        files = [self.constraints, self.requirements]
        for folder in (self.target, self.readiness.folder):
            if folder is not None:
                files.append(folder / "pyproject.toml")
        return [path for path in files if path is not None]


def _install_relevant(path: Path) -> bytes:
    """What of a file an install depends on: all of it, except a pyproject.toml's `[tool.readiness]`
    (the policy: its install keys are in the arguments, and editing the rest rebuilds nothing)."""
    tables = target_facts.pyproject_tables(path) if path.name == "pyproject.toml" else {}
    if not tables:
        return path.read_bytes()
    tools = {name: table for name, table in (tables.get("tool") or {}).items() if name != "readiness"}
    return json.dumps(dict(tables, tool=tools), sort_keys=True, default=str).encode("utf-8")


class Warmth(enum.Enum):
    """What a warm environment needs before its cell runs."""

    NEW = "new"  # nothing installed yet (or an install that stopped half way)
    REQUEST = "request"  # the request changed: install it again, exactly
    SOURCES = "sources"  # the same request, but a local project installed as a copy changed: rebuild it
    CURRENT = "current"  # exactly this install, from these sources: nothing to do


@dataclass(frozen=True)
class InstallCheck:
    """A warm environment's stamp read against the request: what to do, and the stamp to write after."""

    warmth: Warmth
    stamp: str
    rebuild: Tuple[str, ...]  # the copies to reinstall (uv's --reinstall-package)

    def rebuild_note(self) -> str:
        return f"readiness: rebuilding {', '.join(self.rebuild)}: its files changed since the last install"

    def reinstall_arguments(self) -> List[str]:
        return [arg for name in self.rebuild for arg in ("--reinstall-package", name)]


def check_install(stamp: Path, request: InstallRequest, *, live: bool, ignore: Sequence[Path] = ()) -> InstallCheck:
    """Read `stamp` (the request's digest, then each copy's fingerprint) against what `request`
    would install now. `ignore`: folders under a project that are no source (the run's reports)."""
    from readiness.run import sources

    copies = request.copies(live=live)
    prints = [f"{name} {sources.fingerprint([folder], ignore)}" for name, folder in copies]
    digest = request.digest(live=live)
    wanted = "\n".join([digest, *prints]) + "\n"
    try:
        held = stamp.read_text(encoding="utf-8")
    except OSError:
        return InstallCheck(Warmth.NEW, wanted, ())
    if held == wanted:
        return InstallCheck(Warmth.CURRENT, wanted, ())
    names = tuple(name for name, _ in copies)
    lines = held.splitlines()
    if lines[:1] != [digest]:
        return InstallCheck(Warmth.REQUEST, wanted, names)
    changed = tuple(name for (name, _), line in zip(copies, prints) if line not in lines[1:])
    return InstallCheck(Warmth.SOURCES, wanted, changed or names)


def _installed_from() -> Optional[Path]:
    """Where this readiness was installed from, when that was a local folder (PEP 610)."""
    from importlib import metadata
    from urllib.parse import unquote, urlparse

    try:
        text = metadata.distribution("readiness").read_text("direct_url.json")
        url = json.loads(text or "{}").get("url", "")
    except (metadata.PackageNotFoundError, ValueError):
        return None
    parsed = urlparse(url)
    if parsed.scheme != "file":
        return None
    path = unquote(parsed.path)
    if os.name == "nt" and path.startswith("/"):
        path = path[1:]
    return Path(path) if Path(path).is_dir() else None


def supports(requires_python: Optional[str], python: str) -> bool:
    """Whether X.Y satisfies a `requires-python` specifier (None, or one that cannot be read: everything does)."""
    if not requires_python:
        return True
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    try:
        spec = SpecifierSet(requires_python)
    except InvalidSpecifier:
        return True
    version = python.rstrip("t")
    return spec.contains(f"{version}.0", prereleases=True) or spec.contains(f"{version}.99", prereleases=True)


class BuildFailed(ReadinessError):
    """A cell's environment could not be created or its install request could not be carried out."""


def build_step(argv: List[str], log: Path, env: Mapping[str, str], what: str) -> None:
    """Run a build step, its output in the cell's log; BuildFailed with what it said last on failure."""
    log_note(log, "readiness: " + " ".join(argv))
    said = process.Capture(limit=8192)  # redacted, as the log is
    with log.open("ab") as sink:
        code = process.run(argv, process.Options(env=env, timeout=BUILD_TIMEOUT_S, what=what),
                           [process.file_sink(sink), said])
    if code != 0:
        last = [line.strip() for line in said.text().splitlines() if line.strip()][-6:]
        raise BuildFailed(f"{what} failed (`{' '.join(argv[1:3])}` exited with code {code}): " + " | ".join(last))
