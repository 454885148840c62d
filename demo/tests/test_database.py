"""The SQL layer round-trips notes, and a wrong module path fails loudly with the path it tried."""

from __future__ import annotations

from pathlib import Path

import pytest
from readiness_demo import Database, load_database_module, open_database


def test_notes_round_trip_through_a_sqlite_file(tmp_path: Path) -> None:
    path = tmp_path / "notes.sqlite3"
    database = open_database(f"sqlite:///{path.as_posix()}")
    try:
        database.create_schema()
        database.create_schema()
        first = database.add_note("ada", "engines")
        second = database.add_note("grace", "compilers")
        assert database.get_note(first).body == "engines"  # type: ignore[union-attr]
        assert [note.author for note in database.list_notes()] == ["ada", "grace"]
        assert database.get_note(second + 1) is None
    finally:
        database.close()
    assert path.is_file()


def test_the_default_module_provides_database() -> None:
    assert load_database_module("readiness_demo.database").Database is Database


def test_a_missing_module_names_the_configured_path() -> None:
    with pytest.raises(
        ModuleNotFoundError, match=r"No module named 'readiness_demo\.nowhere\.connection'"
    ):
        open_database("sqlite://", "readiness_demo.nowhere.connection")
