"""What every judging step of the verdict reads (the matrix, the policy, today, the required cells,
the baseline) and the waiver uses they record; and what each outcome means to a judge."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

from readiness.judge.matrix import Matrix, Row
from readiness.judge.policy import Policy
from readiness.judge.rundiff import FAILING
from readiness.judge.settings import Waiver
from readiness.model.document import Outcome, Severity

__all__ = ["FAILING", "NOT_RUN", "RAN", "Context"]

# Outcomes that mean the check ran in the cell (not run, skipped, deselected or not applicable).
RAN = frozenset({Outcome.ERROR, Outcome.FAILED, Outcome.FLAKY, Outcome.XPASSED,
                 Outcome.XFAILED, Outcome.PASSED})
# Outcomes of a check collected in the cell that gave no result there: a blocking one is missing evidence.
NOT_RUN = frozenset({Outcome.NOT_RUN, Outcome.SKIPPED, Outcome.DESELECTED})


@dataclass
class Context:
    """What every judging step reads, and the waiver uses they record."""

    matrix: Matrix
    policy: Policy
    today: dt.date
    required: List[str]
    baseline: Optional[Matrix]
    waiver_uses: Dict[int, List[Tuple[str, str]]] = field(default_factory=dict)
    # Divergence explanations by (failing cells, passing cells): many checks split the cells alike.
    explained: Dict[Tuple[Tuple[str, ...], Tuple[str, ...]], str] = field(default_factory=dict)

    def present_required(self) -> List[str]:
        return [cell for cell in self.required if cell in self.matrix.documents]

    def severity(self, row: Row) -> Severity:
        return self.policy.severity_of(row.id, row.severity)

    def blocks(self, row: Row) -> bool:
        return self.policy.blocks(self.severity(row))

    def waiver_for(self, check: str, cell: str) -> Optional[Waiver]:
        """The first unexpired waiver covering (check, cell); its use is recorded."""
        for index, waiver in enumerate(self.policy.waivers):
            if not waiver.covers(check, cell) or waiver.expires < self.today:
                continue
            self.waiver_uses.setdefault(index, []).append((check, cell))
            return waiver
        return None
