"""The verdict: a policy applied to a matrix, giving a state and every reason behind it.

Library API:

    decide(matrix, policy, *, today, baseline=None) -> Verdict
    Verdict.to_dict() (kind readiness/verdict: what a deploy gate reads), dumps(verdict)
    today_from_environment() -> date   (SOURCE_DATE_EPOCH when set, else the local date)

States and precedence (README, the verdict table at the top): NO-GO > INCOMPLETE > GO WITH WAIVERS
> GO. Every finding names its checks and cells; INCONCLUSIVE is a finding, never a state.
There is no confidence figure anywhere.

The findings come from one module per concern: cells.py (required cells, inputs, cell states),
checks.py (each check across cells), regressions.py (against a baseline), budgets.py
(measurements), waivers.py; scope.py counts the evidence. For reports, causes.py folds the
findings of checks that fail alike into one line, and target.py names the target.
"""

from __future__ import annotations

import datetime as dt
import enum
import os
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence

from readiness import __version__
from readiness.judge import gcpause
from readiness.judge.budgets import MeasurementResult, budget_findings, measurements_json, statistic_of
from readiness.judge.causes import Cause, fold
from readiness.judge.cells import cell_findings, input_findings, required_cells
from readiness.judge.checks import missing_results, required_check_findings, row_findings
from readiness.judge.context import Context
from readiness.judge.findings import Effect, Finding, findings_json, in_order
from readiness.judge.matrix import Matrix
from readiness.judge.policy import Policy
from readiness.judge.regressions import baseline_findings
from readiness.judge.scope import Scope, scope_of
from readiness.judge.target import TargetName, target_of
from readiness.judge.waivers import WaiverStatus, waiver_findings, waiver_statuses
from readiness.model import jsontext
from readiness.model.document import Severity

# The records a verdict holds live beside their findings; these names stay importable from here.
__all__ = ["VERDICT_KIND", "VERDICT_SCHEMA", "Cause", "Effect", "Finding", "MeasurementResult", "Scope", "State",
           "TargetName", "Verdict", "WaiverStatus", "decide", "dumps", "statistic_of", "today_from_environment"]

VERDICT_KIND = "readiness/verdict"
# Schema versions of `readiness/verdict`:
#   1. First version: state, exit code, policy, scope, findings, waivers, measurements.
VERDICT_SCHEMA = 1


class State(str, enum.Enum):
    GO = "GO"
    GO_WITH_WAIVERS = "GO WITH WAIVERS"
    NO_GO = "NO-GO"
    INCOMPLETE = "INCOMPLETE"

    @property
    def exit_code(self) -> int:
        return {"GO": 0, "GO WITH WAIVERS": 0, "NO-GO": 1, "INCOMPLETE": 3}[self.value]


@dataclass
class Verdict:
    """The state, and every finding behind it, for one matrix under one policy."""

    state: State
    findings: List[Finding]
    scope: Scope
    waivers: List[WaiverStatus]
    measurements: List[MeasurementResult]
    policy_label: str
    policy_default: bool
    profile: Optional[str]
    run_id: Optional[str]
    mixed: bool
    as_of: dt.date
    baseline: Optional[str] = None
    # The severity each check was judged with (policy override, else declared; undeclared is major).
    severities: Dict[str, Severity] = field(default_factory=dict)
    # What reports show (neither is in to_dict): the target's name for their title, and the
    # findings folded by cause, one line for many checks failing alike (judge/causes.py).
    target: TargetName = field(default_factory=TargetName)
    causes: List[Cause] = field(default_factory=list)
    # Set by validate when the run was interrupted: its process exits 130 whatever the evidence says.
    interrupted: bool = False

    @property
    def exit_code(self) -> int:
        return self.state.exit_code

    @property
    def process_exit_code(self) -> int:
        """What the command that judged exits with: the verdict's code, or 130 for an interrupted run."""
        return 130 if self.interrupted else self.exit_code

    @property
    def reasons(self) -> List[Finding]:
        """The findings that decide the state (blocking, missing evidence, waived)."""
        deciding = {State.NO_GO: Effect.NO_GO, State.INCOMPLETE: Effect.INCOMPLETE,
                    State.GO_WITH_WAIVERS: Effect.WAIVED}.get(self.state)
        return [f for f in self.findings if f.effect == deciding]

    def by_effect(self, *effects: Effect) -> List[Finding]:
        return [f for f in self.findings if f.effect in effects]

    def causes_by(self, *effects: Effect) -> List[Cause]:
        """The findings of these effects as reports show them: folded by cause."""
        return [c for c in self.causes if c.effect in effects]

    @property
    def reason_causes(self) -> List[Cause]:
        """The reasons (see `reasons`), folded by cause."""
        deciding = {f.effect for f in self.reasons}
        return [c for c in self.causes if c.effect in deciding]

    def to_dict(self) -> Dict[str, Any]:
        return {
            **self._head(),
            "reasons": [f.to_dict() for f in self.reasons],
            "findings": [f.to_dict() for f in self.findings],
            "waivers": [w.to_dict() for w in self.waivers],
            "measurements": [m.to_dict() for m in self.measurements],
        }

    def _head(self) -> Dict[str, Any]:
        return {
            "kind": VERDICT_KIND, "schema": VERDICT_SCHEMA, "tool_version": __version__,
            "state": self.state.value, "exit_code": self.exit_code,
            "run_id": self.run_id, "mixed": self.mixed, "as_of": self.as_of.isoformat(),
            "policy": {"source": self.policy_label, "default": self.policy_default,
                       "profile": self.profile},
            "baseline": self.baseline,
            "scope": self.scope.to_dict(),
        }


def dumps(verdict: Verdict) -> str:
    """The verdict as JSON text (stable key order; compact, as it lists every measurement):
    `json.dumps(verdict.to_dict())`, as model/jsontext.py writes it part by part."""
    parts = jsontext.object_parts(
        verdict._head(), ("reasons", jsontext.array_parts([f.to_json() for f in verdict.reasons])),
        ("findings", jsontext.array_parts(findings_json(verdict.findings))),
        ("waivers", [jsontext.dumps([w.to_dict() for w in verdict.waivers])]),
        ("measurements", jsontext.array_parts(measurements_json(verdict.measurements))))
    return "".join(parts + ["\n"])


def today_from_environment() -> dt.date:
    """Today, for waiver expiry: SOURCE_DATE_EPOCH (UTC) when set, so output is reproducible."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch.isdigit():
        return dt.datetime.fromtimestamp(int(epoch), tz=dt.timezone.utc).date()
    return dt.date.today()


# --- deciding -------------------------------------------------------------------------------


def decide(matrix: Matrix, policy: Policy, *, today: dt.date,
           baseline: Optional[Matrix] = None, baseline_label: Optional[str] = None) -> Verdict:
    """Apply `policy` to `matrix`; pure: the same inputs always give the same verdict.

    With a `baseline` (an earlier run) each check and cell is also compared with it (new
    failures, fixed, still failing, new and removed checks, flaky across runs) and every
    measurement in both runs gets its change with an interval; `baseline_label` names it.
    """
    with gcpause.paused():
        return _decide(matrix, policy, today, baseline, baseline_label)


def _decide(matrix: Matrix, policy: Policy, today: dt.date,
            baseline: Optional[Matrix], baseline_label: Optional[str]) -> Verdict:
    required, basis, findings = required_cells(matrix, policy)
    ctx = Context(matrix, policy, today, required, baseline)
    findings += _evidence_findings(ctx)
    measurements, claims = budget_findings(ctx)
    findings += claims + _policy_notes(ctx)
    waivers = waiver_statuses(ctx)  # last: every other step has recorded the waivers it used
    findings += waiver_findings(waivers)
    findings = in_order(findings)
    return Verdict(
        state=_state(findings), findings=findings, scope=scope_of(matrix, required, basis),
        waivers=waivers, measurements=measurements, policy_label=policy.label,
        policy_default=policy.is_default, profile=policy.profile, run_id=matrix.run_id,
        mixed=matrix.mixed, as_of=today,
        baseline=None if baseline is None else (baseline_label or baseline.run_id),
        severities={check: ctx.severity(row) for check, row in matrix.rows.items()},
        target=target_of(matrix, policy), causes=fold(findings, matrix, required),
    )


def _evidence_findings(ctx: Context) -> List[Finding]:
    """What the inputs, the cells and each check say, and how they compare with the baseline."""
    findings = input_findings(ctx.matrix) + cell_findings(ctx)
    for row in ctx.matrix.rows.values():
        findings += row_findings(ctx, row)
    return findings + missing_results(ctx) + required_check_findings(ctx) + baseline_findings(ctx)


def _state(findings: Sequence[Finding]) -> State:
    effects = {finding.effect for finding in findings}
    if Effect.NO_GO in effects:
        return State.NO_GO
    if Effect.INCOMPLETE in effects:
        return State.INCOMPLETE
    if Effect.WAIVED in effects:
        return State.GO_WITH_WAIVERS
    return State.GO


def _policy_notes(ctx: Context) -> List[Finding]:
    notes = []
    if ctx.policy.is_default:
        notes.append(Finding(Effect.INFO, "default-policy",
                             "default policy: no [tool.readiness] found; each check counts with its declared severity "
                             "(major when it declares none)"))
    if ctx.policy.only_new_failures_block and ctx.baseline is None:
        notes.append(Finding(Effect.INFO, "baseline",
                             "only_new_failures_block is set but no baseline was given: every failure blocks"))
    return notes
