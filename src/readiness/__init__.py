"""readiness: an evidence-based, cross-platform ship/no-ship verdict for Python services."""

__version__ = "0.1.0"
