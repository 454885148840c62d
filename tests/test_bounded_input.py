"""Bounded input, end to end: huge, numerous and deeply nested documents through the command.

Each case runs `python -m readiness ...` in a child process under an address-space limit and
measures the child's peak resident memory (VmHWM, which the child reads from /proc at exit: the
ru_maxrss of os.wait4 would also count the pages of this process the child was forked from), so
a case that reads what it must not, or recurses where it must not, fails here instead of on a
user's machine. The limits are stated in
README ("Limits"): a document of 64 MiB, a matrix or baseline of 256 MiB, one merge 256 MiB,
500,000 check results and 20,000 files, evidence nested 32 deep.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, List, Optional

import pytest
from conftest import ROOT
from envdocs import check, env, write

from readiness.judge import merge, policy, verdict
from readiness.model import document
from readiness.model.reader import MAX_DEPTH

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="measures the child through /proc")

MiB = 1024 * 1024
CELL = "linux-x86_64-cpython3.12"
# The child may map this much address space at most: a regression that reads a huge file
# fails with MemoryError here rather than taking the machine's memory.
ADDRESS_SPACE = 2048 * MiB
# `python -m readiness ARGS` that writes its peak resident memory (kB) to the file named first:
# the benchmark's own wrapper, so the test and benchmarks/bounded_input.py measure alike.
_spec = importlib.util.spec_from_file_location("bounded_input", ROOT / "benchmarks" / "bounded_input.py")
assert _spec is not None and _spec.loader is not None
_benchmark = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_benchmark)
MEASURED: str = _benchmark.MEASURED


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str
    peak_rss_mib: float


def readiness(tmp_path: Path, *args: str, address_space: int = ADDRESS_SPACE) -> Run:
    """Run the command in a child under an address-space limit; its exit, output and peak RSS."""
    import resource

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (address_space, address_space))

    out, err, peak = tmp_path / "stdout.txt", tmp_path / "stderr.txt", tmp_path / "peak.txt"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        code = subprocess.call([sys.executable, "-c", MEASURED, str(peak), *args], stdin=subprocess.DEVNULL,
                               stdout=stdout, stderr=stderr, cwd=tmp_path, preexec_fn=limit,
                               env={**os.environ, "NO_COLOR": "1"})
    run = Run(code, out.read_text(encoding="utf-8"), err.read_text(encoding="utf-8"),
              int(peak.read_text(encoding="utf-8")) / 1024)
    assert "Traceback" not in run.stderr, run.stderr
    return run


def template(cell: str = CELL, evidence: Optional[Any] = None) -> str:
    """A small valid env document's JSON text, for writing many of them fast."""
    return document.dumps(env(cell, [check("health.app", evidence={"deep": evidence} if evidence else None)]))


def nested(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = [value]
    return value


# --- a document too large to read --------------------------------------------------------


def test_a_200_mib_document_is_refused_unread(tmp_path: Path) -> None:
    envs = tmp_path / "envs"
    envs.mkdir()
    write(envs, env(CELL, [check("health.app")]))
    huge = envs / "linux-x86_64-cpython3.13.json"
    with huge.open("wb") as handle:  # sparse: the size is there, the bytes are never written
        handle.write(b'{"kind": "readiness/env", "padding": "')
        handle.seek(200 * MiB - 2)
        handle.write(b'"}')
    finding = "envs/linux-x86_64-cpython3.13.json: larger than the 64 MiB readiness reads (200.0 MiB); it was not read"
    try:
        judged = readiness(tmp_path, "verdict", "envs")
        assert judged.code == 3
        assert "VERDICT: INCOMPLETE" in judged.stdout and finding in judged.stdout
        reported = readiness(tmp_path, "report", "envs", "-o", "out")
        assert reported.code == 3 and "verdict: INCOMPLETE" in reported.stdout
        assert finding in (tmp_path / "out" / "verdict.json").read_text(encoding="utf-8")
        merged = readiness(tmp_path, "merge", "envs", "-o", "matrix.json")
        assert merged.code == 0 and finding in merged.stderr
        matrix = json.loads((tmp_path / "matrix.json").read_text(encoding="utf-8"))
        assert [p["paths"] for p in matrix["problems"]] == [["envs/linux-x86_64-cpython3.13.json"]]
        assert [c["id"] for c in matrix["cells"]] == [CELL]
        # Not read: the child's peak memory is that of a small run, far below the file's size.
        assert max(r.peak_rss_mib for r in (judged, reported, merged)) < 150
    finally:
        huge.unlink()


def test_a_document_of_a_million_checks_is_refused_unread(tmp_path: Path) -> None:
    """10^6 checks take at least 190 MB as JSON (every check has 14 fields): past 64 MiB."""
    envs = tmp_path / "envs"
    envs.mkdir()
    data = json.loads(template())
    record = json.dumps(data["checks"][0])
    data["checks"] = "CHECKS"
    head, tail = json.dumps(data).split('"CHECKS"')
    big = envs / f"{CELL}.json"
    with big.open("w", encoding="utf-8") as handle:
        handle.write(head + "[")
        handle.write(",".join(record.replace('"health.app"', f'"check.{i}"') for i in range(1_000_000)))
        handle.write("]" + tail)
    size = big.stat().st_size
    try:
        assert size > 190 * MiB
        judged = readiness(tmp_path, "verdict", "envs")
        assert judged.code == 3
        assert f"envs/{CELL}.json: larger than the 64 MiB readiness reads ({size / MiB:,.1f} MiB)" in judged.stdout
        assert judged.peak_rss_mib < 150
    finally:
        big.unlink()


# --- one merge is bounded ------------------------------------------------------------------


def test_a_folder_of_huge_documents_is_read_up_to_the_merge_limit_and_the_rest_listed(tmp_path: Path) -> None:
    """Five valid documents of 60 MiB each (300 MiB): four are read, the fifth is a finding."""
    envs = tmp_path / "envs"
    envs.mkdir()
    cells = [f"linux-x86_64-cpython3.{minor}" for minor in range(10, 15)]
    padding = b" " * (60 * MiB)
    for cell in cells:  # valid JSON: whitespace after the object
        with (envs / f"{cell}.json").open("wb") as handle:
            handle.write(template(cell).encode("utf-8"))
            handle.write(padding)
    del padding
    try:
        judged = readiness(tmp_path, "verdict", "envs")
        assert judged.code == 3 and "VERDICT: INCOMPLETE" in judged.stdout
        assert ("1 input file(s) not merged, from envs/linux-x86_64-cpython3.14.json on: "
                "one merge reads at most 256 MiB of files") in judged.stdout
        assert "cells run / required: 4 / 4" in judged.stdout
        # Each file is read, judged and let go: memory holds about one file's bytes, not four.
        assert judged.peak_rss_mib < 400
    finally:
        for cell in cells:
            (envs / f"{cell}.json").unlink()


def test_past_a_merge_limit_the_files_are_listed_never_dropped(tmp_path: Path) -> None:
    cells = [f"linux-x86_64-cpython3.{minor}" for minor in range(10, 15)]
    write(tmp_path, *(env(cell, [check("health.app"), check("api.ok")]) for cell in cells))
    rules = policy.default_policy()
    for limits, over in ((merge.Limits(results=6), "6 check results"), (merge.Limits(files=3), "3 files")):
        matrix = merge.merge_paths([str(tmp_path)], limits=limits)
        assert matrix.cells == cells[:3]
        (problem,) = matrix.problems
        assert problem.kind == "over-limit"
        assert problem.paths == tuple((tmp_path / f"{cell}.json").as_posix() for cell in cells[3:])
        assert f"2 input file(s) not merged, from {problem.paths[0]} on: one merge reads at most {over}" \
            in problem.message
        judged = verdict.decide(matrix, rules, today=dt.date(2026, 11, 30))
        assert judged.state.value == "INCOMPLETE"


# --- many documents -------------------------------------------------------------------------


def test_a_folder_of_10000_documents_ends_in_a_verdict(tmp_path: Path) -> None:
    envs = tmp_path / "envs"
    envs.mkdir()
    text = template()
    for index in range(10_000):
        cell = f"linux-a{index}-cpython3.12"
        (envs / f"{cell}.json").write_text(text.replace(CELL, cell), encoding="utf-8")
    judged = readiness(tmp_path, "verdict", "envs")
    assert judged.code == 0, judged.stdout + judged.stderr
    assert "cells run / required: 10000 / 10000" in judged.stdout
    assert "VERDICT: GO" in judged.stdout
    merged = readiness(tmp_path, "merge", "envs", "-o", "matrix.json")
    assert merged.code == 0 and merged.stderr == ""
    assert len(json.loads((tmp_path / "matrix.json").read_text(encoding="utf-8"))["cells"]) == 10_000
    assert max(judged.peak_rss_mib, merged.peak_rss_mib) < 400


# --- deeply nested evidence -------------------------------------------------------------------


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 900])
def test_deeply_nested_evidence_is_a_finding_naming_file_and_field(tmp_path: Path, depth: int) -> None:
    envs = tmp_path / "envs"
    envs.mkdir()
    (envs / f"{CELL}.json").write_text(template(evidence=nested(depth)), encoding="utf-8")
    write(envs, env("linux-x86_64-cpython3.13", [check("health.app")]))
    finding = (f"envs/{CELL}.json: field $.checks[0].evidence.deep: nested more than {MAX_DEPTH} lists and "
               "objects deep")
    judged = readiness(tmp_path, "verdict", "envs")
    assert judged.code == 3 and finding in judged.stdout
    reported = readiness(tmp_path, "report", "envs", "-o", "out")
    assert reported.code == 3
    assert {p.name for p in (tmp_path / "out").iterdir()} >= {"report.md", "report.html", "junit.xml", "ctrf",
                                                             "verdict.json", "matrix.json"}
    merged = readiness(tmp_path, "merge", "envs", "-o", "matrix.json")
    assert merged.code == 0 and finding in merged.stderr
    compared = readiness(tmp_path, "compare", "envs")
    assert compared.code == 0
    saved = readiness(tmp_path, "baseline", "save", "envs", "--name", "deep")
    assert saved.code == 0 and finding in saved.stderr
    with_baseline = readiness(tmp_path, "verdict", "envs", "--baseline", "deep")
    assert with_baseline.code == 3 and finding in with_baseline.stdout


def test_evidence_nested_to_the_limit_goes_through_every_reader_and_renderer(tmp_path: Path) -> None:
    envs = tmp_path / "envs"
    envs.mkdir()
    (envs / f"{CELL}.json").write_text(template(evidence=nested(MAX_DEPTH)), encoding="utf-8")
    reported = readiness(tmp_path, "report", "envs", "-o", "out")
    assert reported.code == 0 and "verdict: GO" in reported.stdout
    ctrf = json.loads((tmp_path / "out" / "ctrf" / f"{CELL}.json").read_text(encoding="utf-8"))
    assert json.dumps(nested(MAX_DEPTH)) in json.dumps(ctrf)
    saved = readiness(tmp_path, "baseline", "save", "out/matrix.json", "--name", "flat-enough")
    assert saved.code == 0
    judged = readiness(tmp_path, "verdict", "envs", "--baseline", "flat-enough")
    assert judged.code == 0 and "VERDICT: GO" in judged.stdout


def test_a_check_recording_too_deep_evidence_is_told_where() -> None:
    from readiness.cell.plugin import Evidence

    evidence = Evidence()
    evidence["ok"] = nested(MAX_DEPTH)
    with pytest.raises(TypeError, match=rf"evidence\['deep'\](\[0\]){{{MAX_DEPTH}}} nests more than {MAX_DEPTH}"):
        evidence["deep"] = nested(MAX_DEPTH + 1)
    loop: List[Any] = []
    loop.append(loop)
    with pytest.raises(TypeError, match="nests more than"):
        evidence["loop"] = loop
    assert list(evidence) == ["ok"]
