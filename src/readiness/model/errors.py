"""One exception base for everything readiness reports as a tool error, and its kinds."""

from __future__ import annotations


class ReadinessError(Exception):
    """Base of every error readiness turns into a message and an exit code."""


class UsageError(ReadinessError):
    """Bad arguments or options on the command line."""


class DocumentError(ReadinessError):
    """A readiness JSON file that cannot be used: unreadable, malformed or of an unknown version."""

    def __init__(self, path: str, problem: str, fix: str = "") -> None:
        self.path = path
        self.problem = problem
        self.fix = fix
        text = f"{path}: {problem}"
        if fix:
            text += f" ({fix})"
        super().__init__(text)


class BrokenJSONError(DocumentError):
    """The file is not valid JSON (or not UTF-8, or too large to read)."""


class SchemaError(DocumentError):
    """The JSON does not match the schema of its kind: a missing field, a wrong type, a bad value."""

    def __init__(self, path: str, field: str, problem: str, fix: str = "") -> None:
        self.field = field
        super().__init__(path, f"field {field}: {problem}", fix)


class UnknownKindError(DocumentError):
    """The `kind` field names no readiness file kind, or another kind than the one expected."""


class SchemaVersionError(DocumentError):
    """The `schema` field names a version this readiness cannot read."""


class PolicyError(ReadinessError):
    """A `[tool.readiness]` table that cannot be used."""
