"""readiness's nox sessions for any project: `from readiness.nox import register; register()`.

`checks-3.X` runs the check suite in one isolated environment per Python; `validate` plans the
cells of every lane, runs them in parallel, merges what they wrote and exits with the verdict's
code. Both read `[tool.readiness]` in the project's pyproject.toml for what to install (`target`)
and what to run (`suite`) (README, "Validate your own project").
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import List, Optional

import nox

from readiness.judge import policy
from readiness.model.errors import ReadinessError
from readiness.model.ids import version_key

DEFAULT_PYTHONS = ("3.9", "3.10", "3.11", "3.12", "3.13")


def register(root: Optional[Path] = None) -> None:
    """Add the `checks` and `validate` sessions to the calling noxfile."""
    root = (root or Path.cwd()).resolve()
    os.environ.setdefault("UV_PYTHON_DOWNLOADS", "never")  # a missing Python is a finding
    _activate_pyenv()
    nox.options.default_venv_backend = "uv"
    try:
        rules: Optional[policy.Policy] = policy.load_policy(cwd=root)
        problem = None
    except ReadinessError as exc:  # only readiness's own sessions stop for a bad [tool.readiness]
        rules, problem = None, str(exc)
        print(f"readiness: warning: {problem}\nreadiness: checks-* and validate exit 2 until it is fixed; "
              "the noxfile's other sessions run as usual", file=sys.stderr, flush=True)
    pythons = (list(rules.pythons) if rules else []) or _found_pythons() or list(DEFAULT_PYTHONS)

    @nox.session(name="checks", python=_supported(root, rules, pythons), reuse_venv=True, allow_parallel=True)
    def checks(session: nox.Session) -> None:
        """Run the check suite in this Python's cell and write its env document."""
        from readiness.run.lanes import native

        native.run_session(session, root, _usable(rules, problem))

    @nox.session(name="validate", python=False, allow_parallel=False)  # type: ignore[call-overload,misc,unused-ignore]
    def validate(session: nox.Session) -> None:
        """Every cell in parallel, then one matrix verdict; exits 0 GO, 1 NO-GO, 3 INCOMPLETE."""
        from readiness.run import options, validate

        try:
            code = validate.validate(root, _usable(rules, problem), pythons, options.parse(session.posargs))
        except ReadinessError as exc:  # bad options, a run id in use: a message and 2, as the CLI does
            print(f"readiness: error: {exc}", file=sys.stderr, flush=True)
            code = 2
        raise SystemExit(code)


def _usable(rules: Optional[policy.Policy], problem: Optional[str]) -> policy.Policy:
    """The policy, or the policy's problem and exit 2 (as the CLI does: a message, not a traceback)."""
    if rules is None:
        print(f"readiness: error: {problem}", file=sys.stderr, flush=True)
        raise SystemExit(2)
    return rules


def _supported(root: Path, rules: Optional[policy.Policy], pythons: List[str]) -> List[str]:
    """The `checks-X.Y` sessions: the Pythons the target's requires-python allows, each one left out said once."""
    if rules is None:
        return pythons
    from readiness.run.install import InstallRequest, supports

    requires = InstallRequest.from_policy(root, rules).requires_python()
    kept = [p for p in pythons if supports(requires, p)]
    for python in rules.pythons:
        if python not in kept:
            print(f"readiness: no checks-{python} session: the target requires Python {requires}",
                  file=sys.stderr, flush=True)
    return kept


def _activate_pyenv() -> None:
    # nox and uv find pyenv Pythons only when active: make every installed version active.
    versions = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    if versions.is_dir():
        active = [v for v in os.environ.get("PYENV_VERSION", "").split(":") if v]
        installed = sorted(p.name for p in versions.iterdir() if p.name[:1].isdigit())
        os.environ["PYENV_VERSION"] = ":".join(dict.fromkeys(active + installed))


def _found_pythons() -> List[str]:
    try:
        from readiness.platform import interpreters

        found = interpreters.discover(include_wine=False)  # the native cells' Pythons alone
    except Exception:
        return []
    return sorted({i.minor for i in found.chosen if i.lane == "native"}, key=version_key)
