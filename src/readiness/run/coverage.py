"""Coverage across the matrix: archive every cell's data file, then combine them into one figure.

Cells record relative file names, but a Windows cell (native or under Wine) and a Linux one
still name the target's files differently (`.nox\\wine-3.12\\site\\pkg\\app.py`,
`demo/src/pkg/app.py`), so the combine maps every root of each measured package onto the
package's source folder through a `[paths]` section. `coverage combine` deletes what it
combines, so the raw files are copied to `coverage/raw/` first and the combine works on copies.

validate runs in nox's own interpreter, which need not have `coverage`; the combine runs as a
subprocess of an interpreter that has it (this one, else a cell's environment).
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import sys
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

from readiness.model.output import write_text
from readiness.platform import process

COMBINED = "combined.coverage"
SUMMARY = "combined.json"
RCFILE = "combine.coveragerc"


def data_files(folders: Sequence[Path]) -> List[Path]:
    """Every cell's coverage data file in these folders (and below), sorted; combined ones left out."""
    found: Dict[str, Path] = {}
    for folder in folders:
        if folder.is_file() and folder.name.endswith(".coverage"):
            found.setdefault(folder.resolve().as_posix(), folder)
        elif folder.is_dir():
            for path in sorted(folder.rglob("*.coverage")):
                if path.is_file() and path.name != COMBINED and "raw" not in path.relative_to(folder).parts[:-1]:
                    found.setdefault(path.resolve().as_posix(), path)
    return sorted(found.values(), key=lambda p: p.as_posix())


def archive(files: Sequence[Path], raw: Path) -> List[Path]:
    """Copy each data file into `raw/`, unchanged, under its own name (a name already taken by
    other bytes, say the same cell from two CI artifacts, gets a suffix). Returns the copies."""
    raw.mkdir(parents=True, exist_ok=True)
    copies: List[Path] = []
    for path in files:
        data = path.read_bytes()
        target, counter = raw / path.name, 2
        while target in copies and target.read_bytes() != data:
            target = raw / f"{path.stem}-{counter}{path.suffix}"
            counter += 1
        if target not in copies:
            target.write_bytes(data)
            copies.append(target)
    return copies


def source_folder(root: Path, target_path: Optional[str], package: str) -> str:
    """Where a measured package's sources live, relative to root (src layout or flat)."""
    bases = [Path(target_path) / "src", Path(target_path)] if target_path else []
    for base in [*bases, Path("src"), Path()]:
        if (root / base / package).is_dir():
            return _posix(base / package)
    return package


def _posix(path: Path) -> str:
    text = path.as_posix()
    return text[2:] if text.startswith("./") else text


def paths_config(root: Path, target_path: Optional[str], source: Sequence[str]) -> str:
    """The combine's settings: relative names, and each package's roots mapped to its sources."""
    lines = ["[run]", "relative_files = True", "", "[paths]"]
    for package in source:
        lines += [f"{package} =", f"    {source_folder(root, target_path, package)}",
                  f"    */{package}", f"    *\\{package}"]
    return "\n".join(lines) + "\n"


def coverage_python(root: Path) -> Optional[str]:
    """An interpreter that can run `python -m coverage`: this one, else a cell's environment."""
    if importlib.util.find_spec("coverage") is not None:
        return sys.executable
    candidates = sorted((root / ".nox").glob("checks-*/bin/python"), key=_version_key, reverse=True)
    candidates += sorted((root / ".nox").glob("checks-*/Scripts/python.exe"), key=_version_key, reverse=True)
    for python in candidates:
        code, _ = process.capture([str(python), "-c", "import coverage"])
        if code == 0:
            return str(python)
    return None


def _version_key(python: Path) -> "tuple[int, ...]":
    digits = python.parent.parent.name.removeprefix("checks-").replace("-", ".").split(".")
    return tuple(int(d) for d in digits if d.isdigit())


def combine_run(run_dir: Path, *, root: Path, source: Sequence[str], target_path: Optional[str],
                mixed_from: Sequence[str] = (), python: Optional[str] = None) -> Optional[Dict[str, Any]]:
    """Archive and combine the run's data files (and those under `mixed_from`); write and return
    the combined summary, or None when no cell recorded coverage."""
    folder = run_dir / "coverage"
    files = data_files([folder, *(Path(f) for f in mixed_from)])
    if not files:
        return None
    archived = archive(files, folder / "raw")
    summary: Dict[str, Any] = {"percent": None, "covered_lines": None, "num_statements": None,
                               "data_file": None, "source": list(source),
                               "inputs": [f"coverage/raw/{p.name}" for p in archived], "note": None}
    python = python or coverage_python(root)
    if python is None:
        summary["note"] = "not combined: no interpreter here has the coverage package (pip install coverage)"
    else:
        summary.update(_combine(python, folder, archived, paths_config(root, target_path, source), root))
    write_text(folder / SUMMARY, json.dumps(summary, indent=1) + "\n")
    return summary


def _combine(python: str, folder: Path, archived: Sequence[Path], config: str, root: Path) -> Dict[str, Any]:
    rcfile, combined, staging = folder / RCFILE, folder / COMBINED, folder / ".combine"
    write_text(rcfile, config)
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    staged = [shutil.copy2(path, staging / path.name) for path in archived]  # combine deletes its inputs
    combined.unlink(missing_ok=True)
    try:
        code, output = _coverage(python, root, "combine", f"--rcfile={rcfile}", f"--data-file={combined}", "-q",
                                 *[str(p) for p in staged])
        if code != 0 or not combined.is_file():
            return {"note": f"`coverage combine` failed: {_last_line(output)}"}
        _code, report = _coverage(python, root, "json", f"--rcfile={rcfile}", f"--data-file={combined}",
                                  "-i", "-q", "-o", "-")
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    try:
        totals = json.loads(report[report.index("{"):report.rindex("}") + 1])["totals"]
    except (ValueError, KeyError, TypeError):
        return {"note": f"`coverage json` failed: {_last_line(report)}"}
    return {"percent": round(float(totals["percent_covered"]), 2), "covered_lines": int(totals["covered_lines"]),
            "num_statements": int(totals["num_statements"]), "data_file": f"coverage/{COMBINED}"}


def _coverage(python: str, root: Path, *args: str) -> "tuple[int, str]":
    # From the project root: the relative file names the cells recorded are relative to it.
    return process.capture([python, "-m", "coverage", *args], process.Options(cwd=root, timeout=600), raw=True)


def _last_line(text: str) -> str:
    """The last line of a command's (unredacted) output, redacted for the summary that shows it."""
    from readiness.cell.redact import Redactor

    lines = [line for line in Redactor.from_environment().text(text or "").splitlines() if line.strip()]
    return lines[-1] if lines else "no output"


def read_summary(run_dir: Path) -> Optional[Dict[str, Any]]:
    """The combined summary validate wrote for a run, or None when there is none."""
    try:
        data = json.loads((run_dir / "coverage" / SUMMARY).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None
