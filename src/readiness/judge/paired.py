"""A relative budget judged from paired measurement: the pairs a cell took of the current target and
the target at a baseline ref (`--baseline-ref`), their median ratio current/baseline and its
two-sided distribution-free (sign test) interval, and the outcome text that names those figures.

    paired_change(paired, max_increase_pct) -> PairedChange   (what the verdict judges a cell by)
    PairedChange.text(name) -> "startup_s +2.1 % (95 % interval -0.8 % to +4.6 %) against HEAD 1a2b3c4,
                                18 pairs: within +5 %"
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any, Dict, Optional

from readiness.model.document import Paired
from readiness.model.statistics import (
    MAX_PAIRS_ESTIMATE,
    PAIRED_METHOD,
    fewest_for_interval,
    median_interval,
    pairs_needed,
)

CONFIDENCE = 0.95
_ERROR_CHARS = 500  # of the baseline's build error, in a finding's one line


@dataclass(frozen=True)
class PairedChange:
    """One cell's paired measurement, judged: "pass" (the whole interval is within the budget), "fail"
    (the whole interval is over it), "inconclusive" (it straddles it, too few pairs, or the baseline
    was not built in the cell: `error`), or "measured" (no relative budget: reported only)."""

    ref: str
    sha: str
    pairs: int
    status: str
    max_increase_pct: Optional[float]
    change_pct: Optional[float] = None  # the median ratio, as a change in per cent
    low_pct: Optional[float] = None
    high_pct: Optional[float] = None
    pairs_needed: Optional[int] = None
    error: Optional[str] = None
    emulated: bool = False  # both sides were timed in an emulated lane (Wine)
    note: str = ""  # why pairs that were taken cannot be judged

    @property
    def against(self) -> str:
        """The baseline as the text names it: its ref and short sha."""
        return f"{self.ref} {self.sha[:7]}" if self.sha else self.ref

    def text(self, name: str) -> str:
        """The outcome in one line, naming its figures."""
        if self.error is not None:
            return (f"{name} against {self.against} cannot be judged: the target at {self.ref} "
                    f"was not built in this cell: {self.error}")
        return f"{self.figures(name)}: {self.outcome()}"

    def figures(self, name: str) -> str:
        shown = name if self.change_pct is None else f"{name} {self.change_pct:+.1f} %"
        if self.low_pct is not None and self.high_pct is not None:
            shown += f" ({CONFIDENCE * 100:g} % interval {self.low_pct:+.1f} % to {self.high_pct:+.1f} %)"
        both = ", both sides emulated" if self.emulated else ""
        return f"{shown} against {self.against}, {self.pairs} pairs{both}"

    def outcome(self) -> str:
        limit = "" if self.max_increase_pct is None else f"+{self.max_increase_pct:g} %"
        if self.status == "pass":
            return f"within {limit}"
        if self.status == "fail":
            return f"over {limit} (the whole interval is above it)"
        if self.status == "measured":
            return "no relative budget applies"
        if self.note:
            return self.note
        if self.low_pct is None or self.high_pct is None:
            return (f"fewer than {fewest_for_interval(CONFIDENCE)} pairs give no {CONFIDENCE * 100:g} % interval; "
                    f"{self.pairs_needed} pairs would give one")
        if self.pairs_needed is None:
            return f"the median sits on {limit} itself: no number of pairs settles it"
        if self.pairs_needed > MAX_PAIRS_ESTIMATE:
            return f"the interval straddles {limit}; more than {MAX_PAIRS_ESTIMATE} pairs would be needed to settle it"
        return f"the interval straddles {limit}; about {self.pairs_needed} pairs would settle it"

    def to_dict(self) -> Dict[str, Any]:
        return {"ref": self.ref, "sha": self.sha, "pairs": self.pairs, "status": self.status,
                "max_increase_pct": self.max_increase_pct, "change_pct": self.change_pct,
                "ci_low_pct": self.low_pct, "ci_high_pct": self.high_pct, "pairs_needed": self.pairs_needed,
                "error": self.error, "method": PAIRED_METHOD, "emulated": self.emulated}


def paired_change(paired: Paired, max_increase_pct: Optional[float], emulated: bool = False) -> PairedChange:
    """Judge the pairs against `max_increase_pct` (None: only measure) from the pairs themselves.

    The budget passes only when the whole two-sided 95 % interval of the median ratio is within
    1 + max_increase_pct / 100, fails only when the whole interval is over it, and is INCONCLUSIVE
    otherwise, with about how many pairs would settle it. A baseline that was not built in the
    cell is INCONCLUSIVE, naming its error.
    """
    unjudged = PairedChange(paired.ref, paired.sha, len(paired.pairs), "inconclusive", max_increase_pct,
                            emulated=emulated)
    if paired.error is not None:
        return replace(unjudged, error=_one_line(paired.error))
    if not paired.pairs:
        return replace(unjudged, note="no pairs were recorded")
    if min(min(p.current, p.baseline) for p in paired.pairs) <= 0:
        return replace(unjudged, note="a sample is not above 0: no ratio can be formed")
    interval = median_interval([pair.ratio for pair in paired.pairs], CONFIDENCE)
    judged = replace(unjudged, change_pct=_pct(interval.median), low_pct=_pct(interval.lower),
                     high_pct=_pct(interval.upper))
    if max_increase_pct is None:
        return replace(judged, status="measured")
    limit = 1.0 + max_increase_pct / 100.0
    if interval.upper is not None and interval.upper <= limit:
        return replace(judged, status="pass")
    if interval.lower is not None and interval.lower > limit:
        return replace(judged, status="fail")
    return replace(judged, pairs_needed=pairs_needed(len(paired.pairs), interval, limit))


def _pct(ratio: Optional[float]) -> Optional[float]:
    return None if ratio is None or not math.isfinite(ratio) else (ratio - 1.0) * 100.0


def _one_line(error: str) -> str:
    text = " ".join(error.split()) or "no reason was given"
    return text if len(text) <= _ERROR_CHARS else text[: _ERROR_CHARS - 3] + "..."
