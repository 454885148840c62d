"""What runs inside every cell's pytest: the plugin, evidence, measurement, the fingerprint, redaction.

Depends on pytest (and tomli before 3.11) and `readiness.model` alone."""
