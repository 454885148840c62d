"""The native lane's child nox: run `nox -j N -s checks-X.Y ...` with its output in the run's
log, show the board while it runs, and read nox's own report of its sessions conservatively."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any, Dict, Mapping, Sequence

from readiness.run.board import Board


def session_results(report: Path) -> Dict[str, str]:
    """Python X.Y -> nox's result for its checks session, read conservatively (missing: none)."""
    try:
        data = json.loads(report.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    results = {}
    for session in data.get("sessions", []):
        for signature in session.get("signatures") or [session.get("name", "")]:
            python = str(signature).rpartition("-")[2]  # checks-3.12 -> 3.12
            results[python] = str(session.get("result", "failed"))
    return results


# --- the child nox and the board ------------------------------------------------------


def run_child(argv: Sequence[str], env: Mapping[str, str], log: Path, board: Board) -> int:
    """Run the child nox with its output in `log` (redacted), showing the board until it ends."""
    import threading

    log.parent.mkdir(parents=True, exist_ok=True)
    process = subprocess.Popen(list(argv), env=dict(env), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, **_new_group())
    copier = threading.Thread(target=_copy_redacted, args=(process.stdout, log, env), daemon=True)
    copier.start()
    try:
        while process.poll() is None:
            board.refresh()
            time.sleep(0.5)
    except KeyboardInterrupt:
        _stop(process)
        copier.join(5)
        raise
    copier.join(10)  # a process the cells left behind may hold the pipe: the log is kept anyway
    board.refresh()
    return process.returncode


def _copy_redacted(stream: Any, log: Path, env: Mapping[str, str]) -> None:
    """Copy the child's output into `log` as it arrives, with every secret it knows of masked."""
    from readiness.cell.redact import Redactor, StreamRedactor

    scrub = StreamRedactor(Redactor.from_environment(env))
    with log.open("ab") as sink:
        for chunk in iter(lambda: stream.read1(65536), b""):
            sink.write(scrub.feed(chunk))
            sink.flush()
        sink.write(scrub.flush())
    stream.close()


def _new_group() -> Dict[str, Any]:
    if os.name == "nt":
        return {"creationflags": subprocess.CREATE_NEW_PROCESS_GROUP}  # type: ignore[attr-defined]
    return {"start_new_session": True}


def _stop(process: "subprocess.Popen[bytes]") -> None:
    """Interrupt the child nox and its cells; kill what is left after a grace period."""
    if os.name == "nt":
        process.send_signal(signal.CTRL_BREAK_EVENT)  # type: ignore[attr-defined]
    else:
        os.killpg(process.pid, signal.SIGINT)
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        if os.name == "nt":
            subprocess.run(["taskkill", "/T", "/F", "/PID", str(process.pid)], capture_output=True, check=False)
        else:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)
