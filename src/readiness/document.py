"""Public name kept for users: `readiness.document.load(path)` reads an env document.

The document model lives in `readiness.model.document` (README, "Layout").
"""

from readiness.model.document import (  # noqa: F401 - re-exported
    SCHEMA_VERSION,
    CellState,
    CheckRecord,
    EnvDocument,
    Measurement,
    Outcome,
    Severity,
    dump,
    dumps,
    load,
)
