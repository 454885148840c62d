"""`--baseline-ref REF`: the ref resolved to a commit (exit 2 when it cannot be), and the project's tree
at that commit checked out once per commit, in real git repositories made in tmp_path."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
from pathlib import Path
from typing import Dict, List, Optional

import pytest
from conftest import ROOT, require_tool

from readiness.model.errors import UsageError
from readiness.run import baseref
from readiness.run.options import parse

NOXFILE = f"""
import sys
sys.path.insert(0, {str(ROOT / "src")!r})
from readiness.nox import register
register()
"""


@pytest.fixture(autouse=True)
def _git_here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """git found, and never a repository above tmp_path (a folder made here is outside any checkout)."""
    require_tool("git")
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    for name in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE"):
        monkeypatch.delenv(name, raising=False)


def git(cwd: Path, *args: str) -> str:
    argv = ["git", "-c", "user.name=readiness", "-c", "user.email=readiness@example.com",
            "-c", "commit.gpgsign=false", "-c", "tag.gpgsign=false", "-c", "init.defaultBranch=main", *args]
    done = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, encoding="utf-8", check=True,
                          stdin=subprocess.DEVNULL)
    return done.stdout.strip()


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def commit(repo: Path, message: str, files: Dict[str, str]) -> str:
    for name, text in files.items():
        write(repo / name, text)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)
    return git(repo, "rev-parse", "HEAD")


def make_repo(path: Path) -> List[str]:
    """A repository with two commits of a small target (`demo/`); their shas, oldest first."""
    path.mkdir(parents=True)
    git(path, "init", "-q")
    first = commit(path, "first", {"demo/pyproject.toml": '[project]\nname = "demo"\nversion = "1.0"\n',
                                   "demo/demo.py": "VALUE = 1\n"})
    git(path, "tag", "v1")
    git(path, "tag", "-a", "v1-annotated", "-m", "the first release")
    second = commit(path, "second", {"demo/demo.py": "VALUE = 2\n"})
    git(path, "branch", "stable", first)
    return [first, second]


def files_of(tree: Path) -> Dict[str, str]:
    return {p.relative_to(tree).as_posix(): p.read_text(encoding="utf-8")
            for p in sorted(tree.rglob("*")) if p.is_file() and p.name != ".git"}


# --- resolve ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("ref", "which"), [("HEAD", 1), ("main", 1), ("stable", 0), ("v1", 0),
                                            ("v1-annotated", 0), ("HEAD~1", 0), ("short", 0)])
def test_a_ref_resolves_to_its_full_commit(tmp_path: Path, ref: str, which: int) -> None:
    shas = make_repo(tmp_path / "repo")
    given = shas[0][:8] if ref == "short" else ref
    base = baseref.resolve(tmp_path / "repo", given)
    assert base == baseref.BaselineRef(ref=given, sha=shas[which], short=shas[which][:12],
                                       toplevel=(tmp_path / "repo").resolve())
    assert base.label() == f"{given} ({shas[which][:12]})"


def test_a_ref_that_names_no_commit_is_a_usage_error_naming_it(tmp_path: Path) -> None:
    make_repo(tmp_path / "repo")
    with pytest.raises(UsageError, match=r"--baseline-ref nope: no commit named 'nope' in the repository at .*"
                                         r"`git rev-parse nope`"):
        baseref.resolve(tmp_path / "repo", "nope")
    with pytest.raises(UsageError, match="no commit named 'HEAD:demo'"):  # a tree, not a commit
        baseref.resolve(tmp_path / "repo", "HEAD:demo")
    with pytest.raises(UsageError, match="'--all': not a git ref"):  # never read as an option of git
        baseref.resolve(tmp_path / "repo", "--all")


def test_a_folder_outside_any_checkout_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "plain").mkdir()
    with pytest.raises(UsageError, match=r"--baseline-ref main: .*plain is not inside a git checkout .*"
                                         r"run validate in a clone of it"):
        baseref.resolve(tmp_path / "plain", "main")


def test_without_git_the_message_says_to_install_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    make_repo(tmp_path / "repo")
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(UsageError, match=r"--baseline-ref main: git could not be started .*install git"):
        baseref.resolve(tmp_path / "repo", "main")


def test_in_a_shallow_clone_the_message_says_to_fetch_the_history(tmp_path: Path) -> None:
    make_repo(tmp_path / "repo")
    git(tmp_path, "clone", "-q", "--depth", "1", (tmp_path / "repo").as_uri(), "shallow")
    assert baseref.resolve(tmp_path / "shallow", "HEAD").sha  # what it has resolves
    with pytest.raises(UsageError, match=r"no commit named 'HEAD~1' in .*shallow, a shallow clone "
                                         r"\(`git rev-parse --is-shallow-repository` says true\).*"
                                         r"`git fetch --unshallow --tags`.*`actions/checkout` with `fetch-depth: 0`"):
        baseref.resolve(tmp_path / "shallow", "HEAD~1")


def test_the_option_is_parsed() -> None:
    assert parse(["--baseline-ref", "origin/main", "-k", "x"]).baseline_ref == "origin/main"
    assert parse([]).baseline_ref is None


# --- checkout ---------------------------------------------------------------------------------


def test_the_tree_holds_exactly_what_was_committed(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    first, _ = make_repo(repo)
    write(repo / "demo" / "demo.py", "VALUE = 'edited, not committed'\n")
    write(repo / "demo" / "untracked.py", "")
    base = baseref.resolve(repo, "stable")
    tree = baseref.checkout(base, repo / ".nox" / "readiness-baseline")
    assert tree == repo / ".nox" / "readiness-baseline" / first
    assert files_of(tree) == {"demo/demo.py": "VALUE = 1\n",
                              "demo/pyproject.toml": '[project]\nname = "demo"\nversion = "1.0"\n'}
    assert git(tree, "rev-parse", "HEAD") == first  # git in the tree answers for the tree, not for repo
    assert git(tree, "describe", "--tags") == "v1-annotated"
    assert [p.name for p in tree.parent.iterdir()] == [first]  # no temporary folder left


def test_the_checkout_is_cached_by_commit(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    first, second = make_repo(repo)
    cache = repo / ".nox" / "readiness-baseline"
    tree = baseref.checkout(baseref.resolve(repo, "stable"), cache)
    marker = write(tree / "built-once", "")
    before = tree.stat().st_mtime_ns
    assert baseref.checkout(baseref.resolve(repo, "v1"), cache) == tree  # another ref, the same commit
    assert marker.exists() and tree.stat().st_mtime_ns == before  # reused, not rebuilt
    other = baseref.checkout(baseref.resolve(repo, "main"), cache)
    assert other == cache / second != tree
    assert (other / "demo" / "demo.py").read_text(encoding="utf-8") == "VALUE = 2\n"
    assert sorted(p.name for p in cache.iterdir()) == sorted([first, second])


def test_a_cached_tree_moved_off_its_commit_is_built_again(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    first, second = make_repo(repo)
    cache = repo / ".nox" / "readiness-baseline"
    tree = baseref.checkout(baseref.resolve(repo, "stable"), cache)
    git(tree, "checkout", "-q", "--detach", second)
    assert baseref.checkout(baseref.resolve(repo, "stable"), cache) == tree
    assert git(tree, "rev-parse", "HEAD") == first
    assert (tree / "demo" / "demo.py").read_text(encoding="utf-8") == "VALUE = 1\n"


def test_the_repository_knows_the_tree_where_it_is(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    make_repo(repo)
    tree = baseref.checkout(baseref.resolve(repo, "stable"), repo / ".nox" / "readiness-baseline")
    listed = [line.split(" ", 1)[1] for line in git(repo, "worktree", "list", "--porcelain").splitlines()
              if line.startswith("worktree ")]
    assert [Path(p).resolve() for p in listed] == [repo.resolve(), tree.resolve()]
    assert "prunable" not in git(repo, "worktree", "list", "--porcelain")


def test_concurrent_checkouts_of_one_commit_share_one_tree(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    first, _ = make_repo(repo)
    cache = repo / ".nox" / "readiness-baseline"
    base = baseref.resolve(repo, "stable")
    found: List[Optional[Path]] = [None] * 3

    def build(i: int) -> None:
        found[i] = baseref.checkout(base, cache)

    threads = [threading.Thread(target=build, args=(i,)) for i in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert found == [cache / first] * 3
    assert [p.name for p in cache.iterdir()] == [first]
    assert len(git(repo, "worktree", "list").splitlines()) == 2  # the losers' trees were removed


def test_a_checkout_left_half_built_by_a_killed_run_is_cleared(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    first, second = make_repo(repo)
    cache = repo / ".nox" / "readiness-baseline"
    left = cache / f".{first[:12]}-dead.partial" / first  # where a run killed (kill -9) mid-build left it
    left.parent.mkdir(parents=True)
    git(repo, "worktree", "add", "--quiet", "--detach", str(left), first)
    orphan = cache / f".{second[:12]}-gone.partial"  # killed before git registered anything
    write(orphan / second / "half-written", "")
    tree = baseref.checkout(baseref.resolve(repo, "stable"), cache)
    assert [p.name for p in cache.iterdir()] == [first] and tree == cache / first
    listed = git(repo, "worktree", "list", "--porcelain")
    assert "partial" not in listed and "prunable" not in listed
    assert len(git(repo, "worktree", "list").splitlines()) == 2


# --- target_at --------------------------------------------------------------------------------


def test_a_project_in_a_subfolder_of_its_repository(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q")
    first = commit(repo, "first", {"services/api/demo/pyproject.toml": '[project]\nname = "demo"\n',
                                   "services/api/demo/demo.py": "VALUE = 1\n"})
    commit(repo, "second", {"services/api/demo/demo.py": "VALUE = 2\n"})
    project = repo / "services" / "api"
    base = baseref.resolve(project, "HEAD~1")
    assert base.toplevel == repo.resolve() and base.sha == first
    tree = baseref.checkout(base, project / ".nox" / "readiness-baseline")
    found = baseref.target_at(base, tree, project / "demo")
    assert found == tree / "services" / "api" / "demo"
    assert (found / "demo.py").read_text(encoding="utf-8") == "VALUE = 1\n"


def test_a_target_missing_at_the_ref_or_outside_the_repository_is_a_usage_error(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    make_repo(repo)
    commit(repo, "third", {"other/pyproject.toml": '[project]\nname = "other"\n', "notes/readme.txt": "x\n"})
    base = baseref.resolve(repo, "stable")
    tree = baseref.checkout(base, repo / ".nox" / "readiness-baseline")
    with pytest.raises(UsageError, match=rf"--baseline-ref stable: the target folder other/ does not exist at "
                                         rf"stable \({base.short}\)"):
        baseref.target_at(base, tree, repo / "other")
    assert baseref.target_at(base, tree, repo / "demo") == tree / "demo"
    (tmp_path / "elsewhere").mkdir()
    with pytest.raises(UsageError, match=r"the target folder .*elsewhere is outside the repository"):
        baseref.target_at(base, tree, tmp_path / "elsewhere")
    write(repo / "demo" / "notes" / "x.txt", "")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "notes")
    head = baseref.resolve(repo, "HEAD")
    with pytest.raises(UsageError, match=r"the target folder notes/ has no pyproject.toml or setup.py at HEAD"):
        baseref.target_at(head, baseref.checkout(head, repo / ".nox" / "readiness-baseline"), repo / "notes")


# --- through `nox -s validate` -------------------------------------------------------------------


def make_project(path: Path) -> Path:
    write(path / "checks" / "test_ok.py", "def test_ok():\n    pass\n")
    write(path / "noxfile.py", NOXFILE)
    write(path / "lib" / "pyproject.toml", '[project]\nname = "lib"\nversion = "1.0"\n')
    write(path / "pyproject.toml", textwrap.dedent("""\
        [tool.readiness]
        pythons = ["3.11"]
        target = {path = "lib"}
        suite = {path = "checks"}
        wine = {enabled = false}
        """))
    return path


def validate(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("READINESS_", "NOX_", "COV"))}
    return subprocess.run([sys.executable, "-m", "nox", "-f", str(project / "noxfile.py"), "-s", "validate",
                           "--", *args], cwd=project, env=environ, capture_output=True, text=True,
                          encoding="utf-8", stdin=subprocess.DEVNULL, timeout=300, check=False)


@pytest.mark.xdist_group("nox")
@pytest.mark.parametrize("in_git", [True, False], ids=["unknown-ref", "not-a-checkout"])
def test_validate_exits_2_before_anything_is_built(tmp_path: Path, in_git: bool) -> None:
    project = make_project(tmp_path / "p")
    if in_git:
        git(project, "init", "-q")
        commit(project, "first", {})
    done = validate(project, "--baseline-ref", "no-such-ref")
    assert done.returncode == 2, done.stdout + done.stderr
    said = "no commit named 'no-such-ref'" if in_git else "is not inside a git checkout"
    assert "readiness: error: --baseline-ref no-such-ref: " in done.stderr and said in done.stderr, done.stderr
    assert "Traceback" not in done.stderr
    assert not (project / ".nox").exists() or not list((project / ".nox").iterdir())  # no environment
    assert not (project / "reports").exists()  # no run folder


def test_the_ci_cells_check_out_the_whole_history_as_readme_says() -> None:
    try:
        import yaml
    except ModuleNotFoundError:  # a test requirement (noxfile.py): missing, it fails under CI
        require_tool("pyyaml")
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "validate.yml").read_text(encoding="utf-8"))
    checkout = next(s for s in workflow["jobs"]["cells"]["steps"] if "actions/checkout" in s.get("uses", ""))
    assert checkout["with"]["fetch-depth"] == 0
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    ci = readme.split("## CI for your project", 1)[1].split("\n## ", 1)[0]
    assert "`cells` (`fail-fast: false`) checks out the whole history (`fetch-depth: 0`" in ci
    assert "checks the cells out with `fetch-depth: 0`" in readme.split("### Against a baseline ref", 1)[1]
