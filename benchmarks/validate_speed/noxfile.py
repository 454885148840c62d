"""validate (readiness) beside the same cells as plain nox sessions, run one after another."""

import sys
from pathlib import Path

import nox

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT.parents[1] / "src"))
from readiness.nox import register  # noqa: E402

register(ROOT)
PYTHONS = ["3.10", "3.11", "3.12", "3.13"]


@nox.session(python=PYTHONS)
def plain(session: nox.Session) -> None:
    """The same install and the same suite as a plain nox session (what users run today)."""
    session.install("-e", str(ROOT / "target"), "pytest")
    session.run("python", "-m", "pytest", "checks", "-q", "-p", "no:cacheprovider")
