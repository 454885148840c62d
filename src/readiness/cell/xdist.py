"""Under pytest-xdist: workers hand what they collected to the controller through small files in
a folder made for the run, and only the controller writes the document."""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import Any, Dict, List, Optional, Protocol, Set, Tuple

import pytest

from readiness.cell.checkinfo import CheckInfo
from readiness.cell.handoff import replace_text


class Recorder(Protocol):
    """What the controller hooks need of the recorder (cell/recorder.py), without importing it back."""

    collect_folder: Optional[Path]
    under_xdist: bool
    cell_os: str
    progress: Any

    def merge_worker_collection(self, folder: Path) -> None: ...

    def worker_down(self, worker: str, error: object) -> None: ...


# The keys in each worker's workerinput: where it writes its collection, the cell's platform.
_COLLECT_DIR = "readiness_collect_dir"
_CELL_OS = "readiness_cell_os"


def is_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


def cell_os(config: pytest.Config) -> Optional[str]:
    """On a worker: the platform the controller's cell matches checks against, as it said."""
    value = config.workerinput.get(_CELL_OS)  # type: ignore[attr-defined]
    return str(value) if value else None


def share_collection(config: pytest.Config, infos: Dict[str, CheckInfo], deselected: Set[str]) -> None:
    """On a worker, before any check runs: write what it collected where the controller reads it."""
    folder = config.workerinput.get(_COLLECT_DIR)  # type: ignore[attr-defined]
    if not folder:
        return
    worker = config.workerinput["workerid"]  # type: ignore[attr-defined]
    data = {"infos": {nodeid: info.to_dict() for nodeid, info in infos.items()}, "deselected": sorted(deselected)}
    replace_text(Path(folder) / f"{worker}.json", json.dumps(data))


def read_collections(folder: Path, seen: Dict[str, Tuple[int, int]]) -> Tuple[Dict[str, CheckInfo], Set[str]]:
    """What the workers collected, from the files not read yet (`seen`: each file read, by name,
    with its modification time and size, updated here): check infos by node id, deselected ids."""
    infos: Dict[str, CheckInfo] = {}
    deselected: Set[str] = set()
    for path in sorted(folder.glob("*.json")):
        stat = path.stat()
        if seen.get(path.name) == (stat.st_mtime_ns, stat.st_size):
            continue  # a worker writes its collection once; read again it says the same
        seen[path.name] = (stat.st_mtime_ns, stat.st_size)
        data = json.loads(path.read_text(encoding="utf-8"))
        infos.update((nodeid, CheckInfo.from_dict(info)) for nodeid, info in data["infos"].items())
        deselected.update(data["deselected"])
    return infos, deselected


class XdistController:
    """Hooks that exist only with pytest-xdist installed, on the controller."""

    def __init__(self, recorder: Recorder) -> None:
        self.recorder = recorder

    def pytest_configure_node(self, node: Any) -> None:
        if self.recorder.collect_folder is None:
            self.recorder.collect_folder = Path(tempfile.mkdtemp(prefix="readiness-collect-"))
        self.recorder.under_xdist = True
        node.workerinput[_COLLECT_DIR] = str(self.recorder.collect_folder)
        node.workerinput[_CELL_OS] = self.recorder.cell_os

    def pytest_xdist_node_collection_finished(self, node: Any, ids: List[str]) -> None:
        self.recorder.progress.total = max(self.recorder.progress.total, len(ids))

    def pytest_testnodedown(self, node: Any, error: object) -> None:
        if error:
            self.recorder.worker_down(str(node.gateway.id), error)

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        folder = self.recorder.collect_folder
        if folder is not None:
            self.recorder.merge_worker_collection(folder)
            shutil.rmtree(folder, ignore_errors=True)
