"""`readiness interpreters`: the Pythons found, the one chosen per cell, the shadowed, the rejected."""

from __future__ import annotations

import argparse
import sys

from readiness.platform.interpreters.discovery import discover
from readiness.platform.interpreters.records import Discovery


def format_table(discovery: Discovery) -> str:
    """What `readiness interpreters` prints: chosen per cell, then shadowed, then rejected."""
    lines = ["cell                              python    source       executable"]
    lines += [_row(found.cell, found.version, found.source, found.executable)
              for found in discovery.chosen]
    if not discovery.chosen:
        lines.append("(no CPython 3.9+ found)")
    if discovery.shadowed:
        lines += ["", "shadowed (another interpreter takes the cell):"]
        for found in discovery.shadowed:
            winner = discovery.shadowed_by(found)
            by = f"  (by {winner.source} {winner.version})" if winner else ""
            lines.append(_row(found.cell, found.version, found.source, found.executable) + by)
    if discovery.rejected:
        lines += ["", "rejected:"]
        lines += [f"  {item.path}  [{item.source}]: {item.reason}" for item in discovery.rejected]
    return "\n".join(lines) + "\n"


def _row(cell: str, version: str, source: str, executable: str) -> str:
    return f"{cell:<33} {version:<9} {source:<12} {executable}"


def command(args: argparse.Namespace) -> int:
    """`readiness interpreters`: print what was found, where, and what was shadowed."""
    sys.stdout.write(format_table(discover()))
    return 0
