"""The policy's waivers in one verdict: which were used (and on what), which match nothing (stale),
which expired or expire soon."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, List, Tuple

from readiness.judge.context import Context
from readiness.judge.findings import Effect, Finding
from readiness.judge.settings import EXPIRY_WARNING_DAYS, Waiver


@dataclass(frozen=True)
class WaiverStatus:
    """A waiver of the policy and what it did in this verdict."""

    waiver: Waiver
    status: str  # "used", "unused", "expired"
    days_left: int
    covered: Tuple[Tuple[str, str], ...] = ()  # (check, cell) pairs it waived

    def to_dict(self) -> Dict[str, Any]:
        w = self.waiver
        return {"check": w.check, "cells": list(w.cells), "reason": w.reason, "owner": w.owner,
                "expires": w.expires.isoformat(), "days_left": self.days_left, "status": self.status,
                "expiring_soon": 0 <= self.days_left <= EXPIRY_WARNING_DAYS,
                "covered": [{"check": c, "cell": cell} for c, cell in self.covered]}


def waiver_statuses(ctx: Context) -> List[WaiverStatus]:
    """Each waiver of the policy: expired, used (with the checks and cells it covered) or unused."""
    statuses = []
    for index, waiver in enumerate(ctx.policy.waivers):
        days = waiver.days_left(ctx.today)
        status = "expired" if days < 0 else "used" if index in ctx.waiver_uses else "unused"
        covered = tuple(sorted(set(ctx.waiver_uses.get(index, []))))
        statuses.append(WaiverStatus(waiver, status, days, covered))
    return statuses


def waiver_findings(statuses: List[WaiverStatus]) -> List[Finding]:
    """Warnings: a waiver expired, stale (it matches nothing) or about to expire."""
    return [finding for status in statuses for finding in _waiver_warnings(status)]


def _waiver_warnings(s: WaiverStatus) -> List[Finding]:
    w = s.waiver
    label = f"waiver for {w.check}" + (f" in {', '.join(w.cells)}" if w.cells else "")
    texts = []
    if s.status == "expired":
        texts.append(("waiver-expired", f"{label} expired on {w.expires.isoformat()} and does not apply"))
    elif s.status == "unused":
        texts.append(("waiver-stale", f"{label} matches nothing in this run: remove it"))
    if s.status != "expired" and s.days_left <= EXPIRY_WARNING_DAYS:
        texts.append(("waiver-expiring", f"{label} expires in {s.days_left} day(s), on {w.expires.isoformat()}"))
    return [Finding(Effect.WARNING, kind, f"{text} (owner {w.owner})", (w.check,), w.cells) for kind, text in texts]
