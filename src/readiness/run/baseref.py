"""`--baseline-ref REF`: the commit a ref names, and the project's tree at that commit, checked out
once per commit into a cache (README, "Against a baseline ref")."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Dict, Optional, Sequence, Tuple

from readiness.cell.baseline_env import (
    BASELINE_ERROR_ENV,
    BASELINE_PYTHON_ENV,
    BASELINE_PYTHONPATH_ENV,
    BASELINE_REF_ENV,
    BASELINE_SHA_ENV,
)
from readiness.model.errors import ReadinessError, UsageError
from readiness.platform import process
from readiness.run import runlock
from readiness.run.install import InstallRequest

OPTION = "--baseline-ref"
_SHA = re.compile(r"^([0-9a-f]{40}|[0-9a-f]{64})$")  # SHA-1 or SHA-256 repositories
# Set by a git hook that runs validate, these would point every git command below at another repository.
_LOCATION = ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_COMMON_DIR", "GIT_OBJECT_DIRECTORY")
_QUICK_S = 120.0  # rev-parse and friends; a checkout of a large tree may take longer (no limit)


@dataclass(frozen=True)
class BaselineRef:
    """A ref as the user gave it, the commit it names, and the repository it was resolved in."""

    ref: str
    sha: str
    short: str
    toplevel: Path  # the git toplevel of the project's checkout

    def label(self) -> str:
        """The ref and its commit, as messages name them: `main (1a2b3c4d5e6f)`."""
        return f"{self.ref} ({self.short})"


@dataclass(frozen=True)
class BaselineInstall:
    """The target at a baseline ref, installed in every cell beside the current one: the same
    install request with the target's folder in the ref's tree (never editable: it is a snapshot)."""

    base: BaselineRef
    request: InstallRequest

    def environ(self, python: str, pythonpath: Optional[str] = None) -> Dict[str, str]:
        """What a cell's checks are told of a baseline installed there (see cell/baseline_env.py)."""
        env = {BASELINE_REF_ENV: self.base.ref, BASELINE_SHA_ENV: self.base.sha, BASELINE_PYTHON_ENV: python}
        if pythonpath is not None:
            env[BASELINE_PYTHONPATH_ENV] = pythonpath
        return env

    def failed(self, error: str) -> Dict[str, str]:
        """What a cell's checks are told when the baseline could not be installed there: why."""
        return {BASELINE_REF_ENV: self.base.ref, BASELINE_SHA_ENV: self.base.sha, BASELINE_ERROR_ENV: error[-2000:]}


def prepare(project: Path, ref: str, request: InstallRequest, cache: Path) -> BaselineInstall:
    """Resolve `ref`, check its tree out (cached by commit under `cache`) and point the install
    request at the target there; UsageError (exit 2, before any cell is built) when it cannot be."""
    if request.target is None:
        raise UsageError(f"{OPTION} {ref}: there is no target to compare; set [tool.readiness].target "
                         "(its path) in pyproject.toml")
    base = resolve(project, ref)
    tree = checkout(base, cache)
    return BaselineInstall(base, replace(request, target=target_at(base, tree, request.target), editable=False))


def resolve(project: Path, ref: str) -> BaselineRef:
    """The commit `ref` names in the repository holding `project`; a UsageError (exit 2) naming the
    ref and the fix when there is no repository, no git, or no such commit."""
    if not ref.strip() or ref.startswith("-") or any(c in ref for c in "\r\n\0"):
        raise UsageError(f"{OPTION} {ref!r}: not a git ref; give a branch, tag or commit (e.g. origin/main)")
    toplevel = _toplevel(project, ref)
    code, out = _git(toplevel, ["rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"], ref)
    sha = _sha(out) if code == 0 else None
    if sha is None:
        raise UsageError(_no_commit(toplevel, ref))
    return BaselineRef(ref=ref, sha=sha, short=sha[:12], toplevel=toplevel)


def checkout(base: BaselineRef, cache: Path) -> Path:
    """The tree at `base.sha`: `cache/<sha>/`, reused when present and complete, else built into a
    temporary sibling and renamed into place, so no half-built tree ever has the final name.

    The tree is a detached `git worktree`, not a `git archive` extracted with tarfile. An archive
    leaves no trace in the repository, but its tree has no git metadata: under the cache, inside
    the current checkout, git answers for the enclosing checkout, so a target whose version comes
    from git (setuptools-scm, hatch-vcs) would get the current commit's version or none, and
    `export-ignore`/`export-subst` attributes would change the content. A worktree is a real
    checkout at that commit (any commit of the repository, with its tags for `git describe`); the
    price is an entry in `.git/worktrees`, which `git worktree list` shows and `git worktree prune`
    forgets once the cache is deleted. Neither has submodules: the tree holds the superproject's
    files only. Uncommitted changes are not part of a ref, so they are not in the tree either.
    """
    final = cache / base.sha
    if _complete(final, base):
        return final
    cache.mkdir(parents=True, exist_ok=True)
    # One checkout at a time per repository: concurrent `git worktree add`s race on the
    # repository's own records (`.git/worktrees`), and a loser's removal can break a winner's add.
    with runlock.hold(cache.with_name(cache.name + ".lock"), "baseline-checkout", _quiet, _quiet):
        if _complete(final, base):  # built while this one waited
            return final
        _clear_leftovers(base, cache)
        if final.exists():  # not at that commit (edited by hand, or broken): build it again
            _discard(base, final)
        _build(base, cache, final)
    return final


def _clear_leftovers(base: BaselineRef, cache: Path) -> None:
    """Remove the half-built checkouts of a process that was killed while building one (the lock is
    this one's, so no build is under way), and the repository's record of them."""
    for holder in cache.glob(".*.partial"):
        for tree in [path for path in holder.iterdir() if path.is_dir()]:
            _discard(base, tree)
        shutil.rmtree(holder, ignore_errors=True)
    _git(base.toplevel, ["worktree", "prune"], base.ref)


def _quiet(*_: object) -> None:
    """Waiting for another checkout of the same repository needs no message: it takes seconds."""


def target_at(base: BaselineRef, tree: Path, target: Path) -> Path:
    """Where `target` (a folder of the current checkout) is in the baseline's `tree`."""
    try:
        inside = target.resolve().relative_to(base.toplevel.resolve())
    except ValueError:
        raise UsageError(f"{OPTION} {base.ref}: the target folder {target} is outside the repository at "
                         f"{base.toplevel}, so no commit of it holds the target") from None
    found = tree / inside
    shown = "./" if inside == Path() else f"{inside.as_posix()}/"
    if not found.is_dir():
        raise UsageError(f"{OPTION} {base.ref}: the target folder {shown} does not exist at {base.label()}; "
                         "give a ref at which the target is there")
    if not any((found / name).is_file() for name in ("pyproject.toml", "setup.py", "setup.cfg")):
        raise UsageError(f"{OPTION} {base.ref}: the target folder {shown} has no pyproject.toml or setup.py "
                         f"at {base.label()}, so it cannot be installed")
    return found


# --- resolving --------------------------------------------------------------------------------


def _toplevel(project: Path, ref: str) -> Path:
    code, out = _git(project, ["rev-parse", "--show-toplevel"], ref)
    lines = out.strip().splitlines()
    if code != 0 or not lines:
        said = f" (git: {lines[-1].strip()})" if lines else ""
        raise UsageError(f"{OPTION} {ref}: {project} is not inside a git checkout{said}; the baseline is a "
                         "commit of the project's repository: run validate in a clone of it, or leave "
                         f"{OPTION} out")
    return Path(lines[-1].strip()).resolve()


def _sha(output: str) -> Optional[str]:
    """The full sha in rev-parse's output (a warning such as an ambiguous ref name may precede it)."""
    found = [line.strip() for line in output.splitlines() if _SHA.match(line.strip())]
    return found[-1] if found else None


def _no_commit(toplevel: Path, ref: str) -> str:
    code, out = _git(toplevel, ["rev-parse", "--is-shallow-repository"], ref)
    if code == 0 and out.strip().endswith("true"):
        return (f"{OPTION} {ref}: no commit named {ref!r} in {toplevel}, a shallow clone "
                "(`git rev-parse --is-shallow-repository` says true): fetch the history first "
                "(`git fetch --unshallow --tags`; in GitHub Actions, `actions/checkout` with `fetch-depth: 0`)")
    return (f"{OPTION} {ref}: no commit named {ref!r} in the repository at {toplevel}; give a branch, tag "
            f"or commit that `git rev-parse {ref}` knows (another remote's branch: `git fetch` it, then "
            "name it origin/NAME)")


# --- the cached tree --------------------------------------------------------------------------


def _complete(tree: Path, base: BaselineRef) -> bool:
    """A checkout of its own (not a folder git would answer for from the enclosing checkout) at the commit."""
    if not (tree / ".git").is_file():
        return False
    code, out = _git(tree, ["rev-parse", "--show-toplevel", "HEAD"], base.ref)
    lines = out.strip().splitlines()
    return code == 0 and len(lines) >= 2 and Path(lines[-2]).resolve() == tree.resolve() and lines[-1] == base.sha


def _build(base: BaselineRef, cache: Path, final: Path) -> None:
    holder = Path(tempfile.mkdtemp(prefix=f".{base.short}-", suffix=".partial", dir=cache))
    tree = holder / base.sha  # the worktree's name in .git/worktrees comes from this folder's name
    try:
        # The user's hooks (post-checkout) are for their own checkouts, not for this cache.
        code, out = _git(base.toplevel, ["-c", f"core.hooksPath={holder / 'no-hooks'}", "worktree", "add",
                                         "--quiet", "--detach", str(tree), base.sha], base.ref, timeout=None)
        if code != 0:
            raise ReadinessError(f"{OPTION} {base.ref}: could not check out {base.label()} into {cache}: "
                                 f"{_last_line(out)}")
        _publish(base, tree, final)
    finally:
        if tree.exists():  # not published: another build got there first, or this one failed
            _discard(base, tree)
        shutil.rmtree(holder, ignore_errors=True)


def _publish(base: BaselineRef, tree: Path, final: Path) -> None:
    """Give the finished tree its final name in one rename; a concurrent build that won keeps its own."""
    try:
        tree.rename(final)
    except OSError as exc:
        if _complete(final, base):
            return
        raise ReadinessError(f"{OPTION} {base.ref}: could not move the checkout of {base.label()} to {final}: "
                             f"{exc.strerror or exc}") from None
    # The repository still records the temporary path; point it at the new one.
    _git(base.toplevel, ["worktree", "repair", str(final)], base.ref)


def _discard(base: BaselineRef, tree: Path) -> None:
    _git(base.toplevel, ["worktree", "remove", "--force", "--force", str(tree)], base.ref)
    shutil.rmtree(tree, ignore_errors=True)  # not a registered worktree: a plain folder


# --- running git ------------------------------------------------------------------------------


def _git(cwd: Path, args: Sequence[str], ref: str, timeout: Optional[float] = _QUICK_S) -> Tuple[int, str]:
    """git's exit code and output (unredacted: shas and paths are parsed); git missing is a UsageError."""
    env = {k: v for k, v in os.environ.items() if k not in _LOCATION}
    options = process.Options(env=env, cwd=cwd, timeout=timeout, what=f"`git {' '.join(args[:2])}`")
    try:
        return process.capture(["git", *args], options, raw=True)
    except OSError as exc:
        raise UsageError(f"{OPTION} {ref}: git could not be started ({exc.strerror or exc}); install git, or "
                         f"put it on PATH, or leave {OPTION} out") from None


def _last_line(output: str) -> str:
    lines = [line.strip() for line in output.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "git said nothing"
