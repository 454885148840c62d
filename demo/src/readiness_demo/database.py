"""The SQL layer: one notes table through SQLAlchemy Core, on any URL (SQLite file by default)."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from types import ModuleType
from typing import List, Optional

from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine, insert, select
from sqlalchemy.engine import Engine

metadata = MetaData()

notes = Table(
    "notes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("author", String(100), nullable=False),
    Column("body", String(2000), nullable=False),
)


@dataclass(frozen=True)
class Note:
    """One stored note."""

    id: int
    author: str
    body: str


class Database:
    """Owns an engine; creates the schema and reads and writes notes."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine: Engine = create_engine(url)

    def create_schema(self) -> None:
        """Create missing tables (idempotent)."""
        metadata.create_all(self.engine)

    def add_note(self, author: str, body: str) -> int:
        """Store a note; returns its id."""
        with self.engine.begin() as connection:
            result = connection.execute(insert(notes).values(author=author, body=body))
            key = result.inserted_primary_key
            assert key is not None, "an INSERT always reports its primary key"
            return int(key[0])

    def get_note(self, note_id: int) -> Optional[Note]:
        """The note with this id, or None."""
        with self.engine.connect() as connection:
            row = connection.execute(select(notes).where(notes.c.id == note_id)).first()
        return None if row is None else Note(id=row.id, author=row.author, body=row.body)

    def list_notes(self) -> List[Note]:
        """Every note, oldest first."""
        with self.engine.connect() as connection:
            rows = connection.execute(select(notes).order_by(notes.c.id)).all()
        return [Note(id=row.id, author=row.author, body=row.body) for row in rows]

    def close(self) -> None:
        """Release pooled connections (SQLite files can then be removed, also on Windows)."""
        self.engine.dispose()


def load_database_module(path: str) -> ModuleType:
    """Import the module that provides `Database`, by the dotted path the settings name."""
    try:
        return importlib.import_module(path)
    except ModuleNotFoundError as exc:
        raise ModuleNotFoundError(
            f"No module named {path!r} (the configured database module; {exc})", name=path
        ) from exc


def open_database(url: str, module_path: str = __name__) -> Database:
    """A Database from the configured module: the seam a misconfigured module path breaks."""
    module = load_database_module(module_path)
    database: Database = module.Database(url)
    return database
