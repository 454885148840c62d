"""readiness's nox sessions for any project: `from readiness.nox import register; register()`.

`checks-3.X` runs the check suite in one isolated environment per Python; `validate` plans the
cells, starts the services, runs the cells in parallel through a child nox, merges what they
wrote and exits with the verdict's code. Both read `[tool.readiness]` in the project's
pyproject.toml for what to install (`target`) and what to run (`suite`).
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import re
import signal
import sys
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

import nox

from readiness.cell import fingerprint, target
from readiness.judge import policy
from readiness.model import ids
from readiness.model.errors import ReadinessError
from readiness.run import orchestrate, runlock

DEFAULT_PYTHONS = ("3.9", "3.10", "3.11", "3.12", "3.13")


def register(root: Optional[Path] = None) -> None:
    """Add the `checks` and `validate` sessions to the calling noxfile."""
    root = (root or Path.cwd()).resolve()
    os.environ.setdefault("UV_PYTHON_DOWNLOADS", "never")  # a missing Python is a finding
    os.environ.setdefault("UV_COMPILE_BYTECODE", "1")
    _activate_pyenv()
    nox.options.default_venv_backend = "uv"
    try:
        rules = policy.load_policy(cwd=root)
    except ReadinessError as exc:  # a bad [tool.readiness]: its message and 2, as the CLI does, not a traceback
        print(f"readiness: error: {exc}", file=sys.stderr, flush=True)
        raise SystemExit(2) from None
    pythons = list(rules.pythons) or _found_pythons() or list(DEFAULT_PYTHONS)

    @nox.session(name="checks", python=pythons, reuse_venv=True, allow_parallel=True)
    def checks(session: nox.Session) -> None:
        """Run the check suite in this Python's cell and write its env document."""
        _checks(session, root, rules)

    @nox.session(name="validate", python=False, allow_parallel=False)  # type: ignore[call-overload,misc,unused-ignore]
    def validate(session: nox.Session) -> None:
        """Every cell in parallel, then one matrix verdict; exits 0 GO, 1 NO-GO, 3 INCOMPLETE."""
        try:
            code = _validate(session, root, rules, pythons)
        except ReadinessError as exc:  # bad options, a run id in use: a message and 2, as the CLI does
            print(f"readiness: error: {exc}", file=sys.stderr, flush=True)
            code = 2
        raise SystemExit(code)


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

        found = interpreters.discover()
    except Exception:
        return []
    return sorted({i.minor for i in found.chosen if i.lane == "native"}, key=orchestrate._version_key)


def _readiness_spec() -> List[str]:
    """How a cell installs readiness: this source tree when run from one, else the release."""
    from readiness import __version__

    source = Path(__file__).resolve().parents[2]
    if (source / "pyproject.toml").is_file() and (source / "src" / "readiness").is_dir():
        return ["-e", str(source)]  # in place: no wheel to rebuild on every warm run
    origin = _installed_from()
    return ["-e", origin] if origin else [f"readiness=={__version__}"]


def _installed_from() -> Optional[str]:
    """Where this readiness was installed from, when that was a local folder (PEP 610)."""
    import json
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
    return path if Path(path).is_dir() else None


def _target_spec(root: Path, rules: policy.Policy) -> List[str]:
    spec: List[str] = []
    settings = rules.target
    if settings.constraints:
        spec += ["-c", str(root / settings.constraints)]
    if settings.requirements:
        spec += ["-r", str(root / settings.requirements)]
    if settings.path:
        extras = f"[{','.join(settings.extras)}]" if settings.extras else ""
        path = f"{(root / settings.path).as_posix()}{extras}"
        spec += ["-e", path] if settings.editable else [path]
    return spec


def _checks(session: nox.Session, root: Path, rules: policy.Policy) -> None:
    run_dir = _run_dir(root)
    python = str(session.python)
    progress = run_dir / "progress" / f"{python}.json"
    from readiness.model.output import write_text

    write_text(progress, '{"phase": "building"}')
    _install(session, [*_target_spec(root, rules), *_readiness_spec(), *_coverage_spec(rules), *_reruns_spec(rules)])
    env = _cell_env(root, rules, run_dir, progress)
    timeout = os.environ.get("READINESS_CELL_TIMEOUT")
    suite = [rules.suite.path, *rules.suite.pytest_args, *_reruns_args(rules)]
    session.run(
        "python", "-m", "readiness.run.cellrun", "--out", str(run_dir / "envs"),
        "--log-dir", str(run_dir / "logs"), *(["--timeout", timeout] if timeout else []),
        *_coverage_args(rules, run_dir),
        "--", *suite, "-p", "no:cacheprovider", *session.posargs,
        env=env, success_codes=[0, 1],
    )


def _reruns_spec(rules: policy.Policy) -> List[str]:
    """`flaky.reruns` retries a failing check with pytest-rerunfailures; a pass on a retry is `flaky`."""
    return ["pytest-rerunfailures>=14"] if rules.flaky.reruns else []


def _reruns_args(rules: policy.Policy) -> List[str]:
    return ["--reruns", str(rules.flaky.reruns)] if rules.flaky.reruns else []


def _coverage_spec(rules: policy.Policy) -> List[str]:
    return ["coverage>=7.10"] if rules.coverage.enabled else []


def _coverage_args(rules: policy.Policy, run_dir: Path) -> List[str]:
    """cellrun's options for coverage of the target: one data file per cell in the run folder."""
    if not rules.coverage.enabled:
        return []
    args = ["--coverage-data", str(run_dir / "coverage" / "{cell}.coverage")]
    for package in rules.coverage.source:
        args += ["--coverage-source", package]
    return args


def _install(session: nox.Session, spec: List[str]) -> None:
    """Install the cell's packages, unless this reused environment already has exactly these.

    The target and readiness are installed in place, so their sources are live; what needs a
    reinstall is a change to the install itself: the spec, or a file it names (constraints,
    requirements, a pyproject.toml). A fresh environment has no stamp and always installs.
    """
    import hashlib

    digest = hashlib.sha256("\0".join(spec).encode("utf-8"))
    for item in spec:
        base = Path(item.split("[", 1)[0])
        for path in (base, base / "pyproject.toml"):
            if path.is_file():
                digest.update(path.read_bytes())
    stamp = Path(str(session.virtualenv.location)) / ".readiness-install"
    if stamp.is_file() and stamp.read_text(encoding="utf-8") == digest.hexdigest():
        session.log("readiness: the environment already has this install; skipping it")
        return
    session.install(*spec)
    stamp.write_text(digest.hexdigest(), encoding="utf-8")


def _run_dir(root: Path) -> Path:
    explicit = os.environ.get("READINESS_RUN_DIR")
    if explicit:
        return Path(explicit)
    run_id = fingerprint.run_id()
    os.environ["READINESS_RUN_ID"] = run_id
    return root / "reports" / "runs" / run_id


def _cell_env(root: Path, rules: policy.Policy, run_dir: Path, progress: Path) -> Dict[str, str]:
    env = {
        "READINESS_RUN_ID": run_dir.name,
        "READINESS_PROGRESS": str(progress),
        "READINESS_RUNNER": "nox",
        "READINESS_LOCK": str(run_dir / "timing.lock"),
    }
    if rules.target.name:
        env["READINESS_TARGET"] = rules.target.name
    if rules.target.path:
        source = root / rules.target.path
        env["READINESS_TARGET_ROOT"] = str(source)
        commit, dirty = target.git_commit(source), target.git_dirty(source)
        if commit:
            env["READINESS_TARGET_COMMIT"] = commit
        if dirty is not None:
            env["READINESS_TARGET_DIRTY"] = "1" if dirty else "0"
        env["READINESS_TARGET_SOURCE_HASH"] = target.source_hash_of(source) or ""
    return env


# --- validate -------------------------------------------------------------------------


def _options(argv: Sequence[str]) -> "tuple[argparse.Namespace, List[str]]":
    parser = argparse.ArgumentParser(prog="nox -s validate --", add_help=True)
    parser.add_argument("--python", action="append", default=[], type=_minor, help="run only these Pythons (X.Y)")
    parser.add_argument("--cells", action="append", default=[], help="run only these cell ids")
    parser.add_argument("--cell-timeout", type=_seconds, default=None,
                        help="seconds before a cell is killed (default: the policy's cell_timeout, else none)")
    parser.add_argument("-j", "--jobs", type=_jobs, default=None, help="cells at once (default: two per core)")
    parser.add_argument("--from", dest="mixed_from", action="append", default=[],
                        help="also merge documents from this folder (e.g. CI artifacts)")
    parser.add_argument("--profile", default=None, help="policy profile")
    parser.add_argument("--config", default=None, help="another pyproject.toml or TOML policy")
    parser.add_argument("--baseline", default=None,
                        help="compare with a saved baseline (name) or a baseline, matrix or env documents (path)")
    parser.add_argument("--scenario", default=None, help="passed to the checks as READINESS_SCENARIO")
    parser.add_argument("--run-id", default=None, help="the run id (default: generated)")
    parser.add_argument("--rerun", action="store_true",
                        help="re-run only the failed, crashed and not-run cells of the latest run, into it")
    return parser.parse_known_args(list(argv))


def _minor(text: str) -> str:
    if not re.fullmatch(r"[0-9]+\.[0-9]+", text):
        raise argparse.ArgumentTypeError(f"{text!r} is not a Python version: give X.Y, e.g. 3.12")
    return text


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds above 0")
    return value


def _jobs(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of cells (1 or more)")
    return int(text)


def _validate(session: nox.Session, root: Path, rules: policy.Policy, pythons: List[str]) -> int:
    args, pytest_args = _options(session.posargs)
    if args.profile or args.config:
        rules = policy.load_policy(args.config, args.profile, cwd=root)
    if args.cell_timeout is None:
        args.cell_timeout = rules.cell_timeout
    if args.baseline:  # a wrong name fails now, not after every cell has run
        from readiness.judge import baseline

        baseline.resolve(args.baseline, root=root)
    run_id = _latest(root) if args.rerun else (args.run_id or fingerprint.run_id())
    ids.check_run_id(run_id, "reports/latest" if args.rerun else "--run-id" if args.run_id else "the run id")
    run_dir = root / "reports" / "runs" / run_id
    with runlock.claim_run(run_dir, run_id):  # a second run with this id is refused, never mixed in
        return _validate_run(root, rules, pythons, args, pytest_args, run_id, run_dir)


def _validate_run(root: Path, rules: policy.Policy, pythons: List[str], args: argparse.Namespace,
                  pytest_args: List[str], run_id: str, run_dir: Path) -> int:
    found = _interpreters(pythons)
    wanted = args.python or pythons
    plan = orchestrate.make_plan(run_id, {p: found.get(p) for p in wanted if p in found},
                                 wanted, _requires_python(root, rules))
    wine_cells, wine_unavailable = _wine_lane(rules, wanted if args.python else None)
    plan.cells += wine_cells
    if args.cells:
        plan.cells = [c for c in plan.cells if c.id in args.cells]
        wine_unavailable = [c for c in wine_unavailable if c.id in args.cells]
    orchestrate.write_plan(run_dir, plan)
    _say_plan(plan, run_dir)
    done = orchestrate.finished_cells(run_dir) if args.rerun else set()
    runnable = [c.python for c in plan.cells if not c.skip_reason and c.id not in done and c.lane == "native"]
    orchestrate.clear_cells(run_dir, [c.id for c in plan.cells if c.id not in done])
    board = orchestrate.Board(run_dir, plan)
    results: Dict[str, str] = {}
    try:
        turn: Optional[runlock.HeldLock] = _take_turn(root, run_id)
    except KeyboardInterrupt:  # Ctrl-C or SIGTERM while waiting: nothing ran, the cells are not_run
        turn, interrupted = None, True
    with turn or contextlib.nullcontext():  # the OS releases it if this process dies
        if turn is not None:
            results, interrupted = _run_cells(root, rules, run_dir, run_id, plan, runnable, done, args,
                                              pytest_args, board)
            _combine_coverage(root, rules, run_dir, args.mixed_from)  # may use a cell's interpreter
        from readiness.run import winecells

        winecells.record_unavailable(run_dir, run_id, wine_unavailable)
        orchestrate.fill_missing(run_dir, plan, results)
        board.refresh()
        code = orchestrate.judge(run_dir, mixed_from=args.mixed_from, config=args.config, profile=args.profile,
                                 root=root, baseline=args.baseline,
                                 color=sys.stdout.isatty() and not os.environ.get("NO_COLOR"))
        # Only now, with the verdict and reports written: `latest` names the run that finished last.
        orchestrate.mark_latest(root / "reports", run_id)
    print(f"readiness: run {run_id}: reports in {run_dir.relative_to(root).as_posix()}/")
    return 130 if interrupted else code


def _take_turn(root: Path, run_id: str) -> runlock.HeldLock:
    """This repository to this run alone, from its first cell to its verdict: runs share the cell
    environments (.nox/) and would skew each other's timings. Another run's turn is waited for."""
    where = runlock.REPOSITORY_LOCK.parent.as_posix()

    def waiting(found: Dict[str, Any]) -> None:
        print(f"readiness: run {run_id} waits for {runlock.describe(found)}: runs in one repository take "
              f"turns (they share the cell environments in {where}/ and would skew each other's timings)",
              flush=True)

    def going_on() -> None:
        print(f"readiness: run {run_id}: its turn; the cells start now", flush=True)

    return runlock.hold(root / runlock.REPOSITORY_LOCK, run_id, waiting, going_on)


def _run_cells(root: Path, rules: policy.Policy, run_dir: Path, run_id: str, plan: orchestrate.Plan,
               runnable: List[str], done: "set[str]", args: argparse.Namespace, pytest_args: List[str],
               board: orchestrate.Board) -> "tuple[Dict[str, str], bool]":
    """The native cells through a child nox, then the Wine cells: (nox's session results, interrupted)."""
    with _redis(run_dir) as redis_url:
        env = _child_env(run_dir, run_id, redis_url, args)
        report = run_dir / "nox-report.json"
        # Cells mostly wait (interpreter start, I/O-bound checks): two per core keeps both
        # cores busy without thrashing a small machine.
        jobs = args.jobs or max(1, min(len(runnable), 2 * (os.cpu_count() or 1)))
        argv = [sys.executable, "-m", "nox", "-f", str(root / "noxfile.py"), "--report", str(report),
                "-s", *[f"checks-{p}" for p in runnable], *(["-j", str(jobs)] if jobs > 1 else []),
                *(["-R"] if "-R" in sys.argv or "--reuse-existing-virtualenvs" in sys.argv else [])]
        if pytest_args:
            argv += ["--", *pytest_args]
        interrupted = False
        if runnable:
            try:
                orchestrate.run_child(argv, env, run_dir / "logs" / "nox.log", board)
            except KeyboardInterrupt:
                interrupted = True
        if not interrupted:
            try:
                _run_wine_cells(root, rules, run_dir, [c for c in plan.cells if c.lane == "wine" and c.id not in done],
                                env, args, pytest_args, board)
            except KeyboardInterrupt:
                interrupted = True
        return orchestrate.session_results(report), interrupted


def _combine_coverage(root: Path, rules: policy.Policy, run_dir: Path, mixed_from: Sequence[str]) -> None:
    """Archive and combine the cells' coverage data before any report is written."""
    if not rules.coverage.enabled:
        return
    from readiness.run import coverage as coverage_merge

    summary = coverage_merge.combine_run(run_dir, root=root, source=rules.coverage.source,
                                         target_path=rules.target.path, mixed_from=mixed_from)
    if summary is None:
        print("readiness: coverage: no cell recorded a coverage data file")
    elif summary["percent"] is None:
        print(f"readiness: coverage: {summary['note']}")
    else:
        print(f"readiness: coverage of {', '.join(rules.coverage.source)} over {len(summary['inputs'])} "
              f"data file(s): {summary['percent']:.1f}% (coverage/{coverage_merge.COMBINED})")


def _wine_lane(rules: policy.Policy, only: Optional[List[str]]) -> "tuple[List[orchestrate.PlannedCell], List[orchestrate.PlannedCell]]":
    """The Wine cells: planned where wine is installed, else recorded not_run (not required)."""
    if not (rules.wine.enabled or rules.wine.pythons):
        return [], []
    from readiness.run import winecells

    pythons = [p for p in (rules.wine.pythons or winecells.DEFAULT_PYTHONS) if only is None or p in only]
    return winecells.plan_cells(pythons, os.environ)


def _run_wine_cells(root: Path, rules: policy.Policy, run_dir: Path, cells: List[orchestrate.PlannedCell],
                    env: Dict[str, str], args: argparse.Namespace, pytest_args: List[str],
                    board: orchestrate.Board) -> None:
    """After the native cells (two lanes at once would distort each other's timings)."""
    from readiness.run import winecells

    if not cells:
        return
    cell_env = dict(env, **_cell_env(root, rules, run_dir, run_dir / "progress" / "unused.json"))
    # Copied into the Wine cell's target folder: an in-place install would point at a Linux path.
    readiness_spec = [item for item in _readiness_spec() if item != "-e"]
    requirements = winecells.target_requirements(root, rules.target.path, rules.target.extras,
                                                 [*readiness_spec, *_reruns_spec(rules)])
    constraints = str(root / rules.target.constraints) if rules.target.constraints else None
    suite = [rules.suite.path, *rules.suite.pytest_args, *_reruns_args(rules), *pytest_args]
    import threading

    stop = threading.Event()

    def tick() -> None:  # the board keeps moving while a Wine cell installs and runs
        while not stop.wait(0.5):
            board.refresh()

    ticker = threading.Thread(target=tick, daemon=True)
    ticker.start()
    try:
        for cell in cells:
            _run_wine_cell(cell, winecells, rules, cell_env, root, run_dir, requirements, constraints, suite, args)
    finally:
        stop.set()
        ticker.join(2)
        board.refresh()


def _run_wine_cell(cell: orchestrate.PlannedCell, winecells: Any, rules: policy.Policy, cell_env: Dict[str, str], root: Path,
                   run_dir: Path, requirements: List[str], constraints: Optional[str], suite: List[str],
                   args: argparse.Namespace) -> None:
    py = winecells.provision(cell, cell_env)
    if py is None:
        return  # provision() set the cell's skip_reason: it becomes a not_run document
    try:
        winecells.run_cell(cell, py, root=root, run_dir=run_dir, requirements=requirements,
                           constraints=constraints, suite=suite, env=cell_env, timeout=args.cell_timeout,
                           coverage_source=rules.coverage.source)
    except Exception as exc:
        winecells.record_crash(run_dir, cell, f"the Wine cell failed to run: {exc!r}")


def _latest(root: Path) -> str:
    from readiness.model.errors import UsageError

    try:
        return (root / "reports" / "latest").read_text(encoding="utf-8").strip()
    except OSError:
        raise UsageError("--rerun: there is no earlier run (reports/latest is missing)") from None


def _interpreters(pythons: List[str]) -> Dict[str, Optional[str]]:
    try:
        from readiness.platform import interpreters

        found = interpreters.discover()
        return {i.minor: i.executable for i in found.chosen if i.lane == "native"}
    except Exception:
        import shutil

        return {p: shutil.which(f"python{p}") for p in pythons}


def _requires_python(root: Path, rules: policy.Policy) -> Optional[str]:
    if not rules.target.path:
        return None
    value = target.project_table(root / rules.target.path / "pyproject.toml").get("requires-python")
    return str(value) if value else None


def _say_plan(plan: orchestrate.Plan, run_dir: Path) -> None:
    print(f"readiness: run {plan.run_id}: {len(plan.cells)} cell(s) planned")
    for line in plan.excluded:
        print(f"  left out of the plan: {line}")


def _child_env(run_dir: Path, run_id: str, redis_url: Optional[str], args: argparse.Namespace) -> Dict[str, str]:
    env = dict(os.environ, READINESS_RUN_ID=run_id, READINESS_RUN_DIR=str(run_dir))
    if redis_url:
        env["REDIS_URL"] = redis_url
    if args.cell_timeout:
        env["READINESS_CELL_TIMEOUT"] = str(args.cell_timeout)
    if args.scenario:
        env["READINESS_SCENARIO"] = args.scenario
    return env


class _redis:
    """A throwaway redis-server for the run, unless REDIS_URL names one; None if none can start."""

    def __init__(self, run_dir: Path) -> None:
        self.run_dir = run_dir
        self.server: Any = None

    def __enter__(self) -> Optional[str]:
        if os.environ.get("REDIS_URL"):
            return os.environ["REDIS_URL"]
        try:
            from readiness.run import services

            self.server = services.start_redis()
        except Exception as exc:
            print(f"readiness: no Redis for this run ({exc}); checks that need it will not run")
            return None
        return str(self.server.url)

    def __exit__(self, *exc: Any) -> None:
        if self.server is not None:
            from readiness.run import services

            services.stop_redis(self.server)


def _sigterm_is_interrupt() -> None:
    # CI cancels with SIGTERM to the top process: treat it like Ctrl-C so the cells are stopped.
    if os.name != "nt":
        signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))


_sigterm_is_interrupt()
