"""Public names kept for checks: `from readiness.measure import sample_command` and friends.

Measurement lives in `readiness.cell.measure`, its statistics in `readiness.model.statistics`
(README, "Layout").
"""

from readiness.cell.measure import MeasurementError, machine_load, sample_command, timing_lock  # noqa: F401
from readiness.model.statistics import percentile, summarize  # noqa: F401
