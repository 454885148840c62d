"""The process layer: one pipe, redacted copies to every sink, the whole group ended and waited for."""

from __future__ import annotations

import io
import os
import sys
import time
from pathlib import Path
from typing import List

import pytest

from readiness.platform import process

POSIX_ONLY = pytest.mark.skipif(sys.platform == "win32", reason="POSIX process groups and signals")


def _python(script: str) -> List[str]:
    return [sys.executable, "-c", script]


def _alive(pid: int) -> bool:
    """Running; a zombie (killed, its parent gone, waiting for init to reap it) is dead."""
    stat = Path(f"/proc/{pid}/stat")
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return not (stat.is_file() and stat.read_text(encoding="utf-8").rpartition(")")[2].split()[0] == "Z")


def test_stdout_and_stderr_reach_every_sink_redacted() -> None:
    secret = "hunter2-very-secret"
    env = dict(os.environ, DEMO_API_TOKEN=secret)
    script = f"import sys; print('token {secret}', flush=True); print('on stderr', file=sys.stderr)"
    first, second = process.Capture(), process.Capture()
    echo = io.BytesIO()
    code = process.run(_python(script), process.Options(env=env), [first, second, process.file_sink(echo)])
    assert code == 0
    assert first.text() == second.text() == echo.getvalue().decode() == "token [REDACTED]\non stderr\n"


def test_a_sink_that_fails_is_dropped_and_the_others_still_get_everything() -> None:
    def broken(_chunk: bytes) -> None:
        raise BrokenPipeError("the console went away")

    kept = process.Capture()
    assert process.run(_python("print('one'); print('two')"), None, [broken, kept]) == 0
    assert kept.text() == "one\ntwo\n"


def test_windows_line_endings_become_linux_ones_when_asked() -> None:
    script = "import os; os.write(1, b'a\\r'); os.write(1, b'\\nb\\r\\n')"
    plain, fixed = process.Capture(), process.Capture()
    process.run(_python(script), None, [plain])
    process.run(_python(script), process.Options(crlf_to_lf=True), [fixed])
    assert (plain.data, fixed.data) == (b"a\r\nb\r\n", b"a\nb\n")


@POSIX_ONLY
def test_a_timeout_kills_the_whole_group_and_waits_until_it_is_gone(tmp_path: Path) -> None:
    # The middle process exits at once, orphaning the sleeper (as Wine's double fork does): it
    # is no child of ours to wait for, yet it must be gone when the layer returns.
    pids = tmp_path / "pids"
    (tmp_path / "middle.py").write_text(
        "import subprocess, sys\n"
        "sleeper = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)'])\n"
        f"open({str(pids)!r}, 'w').write(str(sleeper.pid))\n", encoding="utf-8")
    script = ("import subprocess, sys, time\n"
              f"subprocess.run([sys.executable, {str(tmp_path / 'middle.py')!r}])\n"
              "print('started', flush=True)\n"
              "time.sleep(600)\n")
    output = process.Capture()
    with pytest.raises(process.ProcessTimeout, match=r"^`.*python.* -c` did not finish within 3 s; "
                       r"its processes were killed$") as raised:
        process.run(_python(script), process.Options(timeout=3), [output])
    assert raised.value.returncode == -9
    assert output.text() == "started\n"
    assert not _alive(int(pids.read_text(encoding="utf-8")))


@POSIX_ONLY
def test_a_leftover_process_is_killed_at_the_end_only_when_asked(tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    script = ("import subprocess, sys\n"
              "p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)'])\n"
              f"open({str(pids)!r}, 'w').write(str(p.pid))\n")
    started = time.monotonic()
    assert process.run(_python(script), process.Options(kill_leftovers=True)) == 0
    assert not _alive(int(pids.read_text(encoding="utf-8")))
    assert process.run(_python(script)) == 0
    leftover = int(pids.read_text(encoding="utf-8"))
    try:
        assert _alive(leftover)
    finally:
        os.kill(leftover, 9)
    assert time.monotonic() - started < 30  # the leftover's open pipe did not stall the copy


@POSIX_ONLY
def test_ctrl_c_interrupts_first_when_the_caller_gives_a_grace_period(tmp_path: Path) -> None:
    cleaned = tmp_path / "cleaned"
    script = ("import time\n"
              "print('ready', flush=True)\n"
              "try:\n    time.sleep(600)\n"
              f"except KeyboardInterrupt:\n    open({str(cleaned)!r}, 'w').write('done')\n")
    output = process.Capture()
    running = process.start(_python(script), process.Options(interrupt_grace=10.0), [output])

    def ctrl_c() -> None:
        if "ready" in output.text():
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        running.wait(tick=ctrl_c, tick_s=0.1)
    assert cleaned.read_text(encoding="utf-8") == "done"
    assert running.returncode == 0


@POSIX_ONLY
def test_ctrl_c_without_a_grace_period_kills_at_once() -> None:
    output = process.Capture()
    script = ("import signal, time\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\n"
              "print('ready', flush=True)\ntime.sleep(600)\n")
    running = process.start(_python(script), None, [output])

    def ctrl_c() -> None:
        if "ready" in output.text():
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        running.wait(tick=ctrl_c, tick_s=0.1)
    assert running.returncode == -9


@POSIX_ONLY
def test_a_service_that_ignores_terminate_is_killed_after_the_grace() -> None:
    script = ("import signal, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
              "print('serving', flush=True)\ntime.sleep(600)\n")
    service = process.Service(_python(script))
    deadline = time.monotonic() + 30
    while "serving" not in service.output() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert service.poll() is None
    service.stop(grace=0.5)
    assert (service.returncode, service.output()) == (-9, "serving\n")


def test_the_tail_of_a_log_is_its_last_lines_redacted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEMO_PASSWORD", "s3cret-value")
    log = tmp_path / "cell.log"
    log.write_text("".join(f"line {n}\n" for n in range(50)) + "password s3cret-value\n", encoding="utf-8")
    assert process.tail(log, 3) == "line 48\nline 49\npassword [REDACTED]"
    assert process.tail(tmp_path / "missing.log", 3) == ""
