"""Budgets on measurements: each measurement of each check in each cell, judged against the policy's
absolute limit (a statistic of its samples) and relative limit (from the cell's own pairs against a
baseline ref where it took them, judge/paired.py, else its change against a saved baseline, with an
interval); measurements with no budget are listed, with their change where one is known."""

from __future__ import annotations

import fnmatch
import statistics
from dataclasses import replace
from itertools import chain, compress
from math import isfinite
from operator import attrgetter, itemgetter, not_
from typing import Any, Dict, Iterable, List, NamedTuple, Optional, Sequence, Set, Tuple

from readiness.judge.context import Context
from readiness.judge.findings import NEW, Effect, Finding
from readiness.judge.matrix import Row
from readiness.judge.paired import PairedChange, paired_change
from readiness.judge.settings import Budget
from readiness.judge.statistics import MAX_SAMPLES_ESTIMATE, MeasuredChange, measured_change
from readiness.model.document import EnvDocument
from readiness.model.ids import cell_sort_key
from readiness.model.jsontext import dumps as json_dumps
from readiness.model.jsontext import number as json_number
from readiness.model.jsontext import string
from readiness.model.jsontext import value_text as json_value
from readiness.model.statistics import percentile


class MeasurementResult(NamedTuple):
    """One measurement of one check in one cell, judged against a budget where one applies.

    A named tuple, not a frozen dataclass: a verdict makes one per measurement (tens of thousands),
    and a frozen dataclass sets each field through object.__setattr__, four times the cost."""

    check: str
    cell: str
    name: str
    unit: str
    samples: int
    median: float
    status: str  # "within", "over", "no-budget", "inconclusive"
    limit: Optional[float] = None
    change: Optional[MeasuredChange] = None
    statistic: str = "median"  # what `limit` applies to
    value: Optional[float] = None  # that statistic of the samples
    lane: str = "native"  # "wine": taken under emulation, labelled wherever it is shown
    paired: Optional[PairedChange] = None  # the cell's own pairs against a baseline ref, judged

    @property
    def where(self) -> str:
        """The cell, labelled when its lane is emulated."""
        return self.cell if self.lane == "native" else f"{self.cell} ({emulated(self.lane)})"

    def to_dict(self) -> Dict[str, Any]:
        data: Dict[str, Any] = {"check": self.check, "cell": self.cell, "name": self.name, "unit": self.unit,
                "samples": self.samples, "median": self.median, "status": self.status,
                "limit": self.limit, "change": None if self.change is None else self.change.to_dict()}
        if self.statistic != "median":
            data.update(statistic=self.statistic, value=self.value)
        if self.lane != "native":
            data["lane"] = self.lane
        if self.paired is not None:
            data["paired"] = self.paired.to_dict()
        return data

    def to_json(self) -> str:
        """`to_dict()` as JSON text (model/jsontext.py): a verdict lists every measurement."""
        median, limit, change = self.median, self.limit, self.change
        if type(median) is not float or not isfinite(median) or (limit is not None and type(limit) is not float):
            return json_dumps(self.to_dict())  # as json writes it, or refuses it
        try:  # every text a string, as it is typed
            written = (f'{{"check":{string(self.check)},"cell":{string(self.cell)},"name":{string(self.name)},'
                       f'"unit":{string(self.unit)},"samples":{json_number(self.samples)},'
                       f'"median":{float.__repr__(median)},"status":{string(self.status)},'
                       f'"limit":{"null" if limit is None else json_number(limit)},'
                       f'"change":{"null" if change is None else json_dumps(change.to_dict())}')
        except TypeError:
            return json_dumps(self.to_dict())
        if self.statistic != "median":
            written += f',"statistic":{json_value(self.statistic)},"value":{json_value(self.value)}'
        if self.lane != "native":
            written += ',"lane":' + json_value(self.lane)
        if self.paired is not None:
            written += ',"paired":' + json_dumps(self.paired.to_dict())
        return written + "}"


def measurements_json(results: Sequence[MeasurementResult]) -> List[str]:
    """`to_json()` of each result: one judged by its median in a native lane with no change known, as
    most are, written here, each budget's limit once (a verdict lists every measurement)."""
    limits: Dict[int, str] = {}  # by identity: a budget's limit is one float
    texts = []
    for result in results:
        check, cell, name, unit, samples, median, status, limit, change, statistic, _, lane, paired = result
        limit_text = limits.get(id(limit))
        if limit_text is None:
            limit_text = limits[id(limit)] = "null" if limit is None else json_number(limit) if type(limit) is float \
                else ""
        if (change is not None or paired is not None or statistic != "median" or lane != "native" or not limit_text
                or type(median) is not float or type(samples) is not int or not isfinite(median)):
            texts.append(result.to_json())
            continue
        try:  # every text a string, as it is typed
            texts.append(f'{{"check":{string(check)},"cell":{string(cell)},"name":{string(name)},'
                         f'"unit":{string(unit)},"samples":{int.__repr__(samples)},"median":{float.__repr__(median)},'
                         f'"status":{string(status)},"limit":{limit_text},"change":null}}')
        except TypeError:
            texts.append(result.to_json())
    return texts


def emulated(lane: str) -> str:
    """How a measurement of an emulated lane is labelled."""
    return f"emulated: {lane.capitalize()} lane"


def document_lane(doc: Optional[EnvDocument]) -> str:
    lane = None if doc is None else doc.fingerprint.get("lane")
    return lane if isinstance(lane, str) and lane else "native"


def budget_findings(ctx: Context) -> Tuple[List[MeasurementResult], List[Finding]]:
    """Every measurement, judged by the first budget that covers it, and the claims each budget makes."""
    results: List[MeasurementResult] = []
    findings: List[Finding] = []
    judged: Set[Tuple[str, str, str]] = set()
    for budget in ctx.policy.budgets:
        found = _judge_budget(ctx, budget)
        keys = list(map(_KEY, found))
        results += compress(found, map(not_, map(judged.__contains__, keys))) if judged else found
        judged.update(keys)
        findings += _budget_claims(ctx, budget, found)
    unbudgeted = _unbudgeted(ctx, judged)
    results += unbudgeted
    findings += [_measured_finding(r) for r in unbudgeted if r.change is not None]
    findings += [_paired_measured(r) for r in unbudgeted if r.paired is not None]
    results.sort(key=_ORDER)
    return results, findings


_KEY = itemgetter(0, 1, 2)  # check, cell, name: one measurement
_ORDER = itemgetter(0, 2, 1)  # check, name, cell


def lanes_of(ctx: Context) -> Dict[str, str]:
    """Each cell's lane in this run."""
    return {cell: document_lane(doc) for cell, doc in ctx.matrix.documents.items()}


def _rows(ctx: Context, check: str) -> Iterable[Row]:
    """The rows of the checks matching `check` ("*" matches every id)."""
    rows = ctx.matrix.rows.values()
    return rows if check == "*" else [row for row in rows if fnmatch.fnmatchcase(row.id, check)]


def statistic_of(samples: Sequence[float], statistic: str) -> float:
    """The named statistic of the samples: the median, or the nearest-rank p95."""
    return percentile(samples, 95.0) if statistic == "p95" else statistics.median(samples)


def median(samples: Sequence[float]) -> float:
    """`statistics.median`, its arithmetic to the bit, without its call overhead (one per measurement)."""
    ordered = sorted(samples)
    n = len(ordered)
    if not n:
        return statistics.median(ordered)  # its error
    half = n // 2
    return ordered[half] if n % 2 else (ordered[half - 1] + ordered[half]) / 2


def _judge_budget(ctx: Context, budget: Budget) -> List[MeasurementResult]:
    """Each measurement the budget covers, judged: one loop over them all, with no call for each but
    the statistics (a run can measure tens of thousands of times)."""
    found: List[MeasurementResult] = []
    name, statistic, limit, pct = budget.measurement, budget.statistic, budget.max, budget.max_increase_pct
    lanes, baseline, append = lanes_of(ctx), ctx.baseline, found.append
    for row in _rows(ctx, budget.check):
        check = row.id
        for cell, record in row.results.items():
            measurements = record.measurements
            if name not in measurements:
                continue
            m = measurements[name]
            samples = m.samples
            middle = median(samples)
            value = percentile(samples, 95.0) if statistic == "p95" else middle
            status = "no-budget" if limit is None else ("over" if value > limit else "within")
            change = None if baseline is None else _change(ctx, check, cell, name, pct, budget.min_effect)
            lane = lanes[cell]
            paired = None if m.paired is None else paired_change(m.paired, pct, emulated=lane != "native")
            append(NEW(MeasurementResult, (check, cell, name, m.unit, len(samples), middle, status, limit, change,
                                            statistic, value, lane, paired)))
    return found


def _change(ctx: Context, check: str, cell: str, name: str, max_increase_pct: Optional[float],
            min_effect: float = 0.0) -> Optional[MeasuredChange]:
    """The measurement's change against the baseline, where both runs have samples of it."""
    if ctx.baseline is None:
        return None
    base_row = ctx.baseline.rows.get(check)
    base = None if base_row is None else base_row.results.get(cell)
    if base is None or name not in base.measurements:
        return None
    before, after = ctx.baseline.documents.get(cell), ctx.matrix.documents.get(cell)
    lanes = (document_lane(before), document_lane(after))
    why = _machine_difference(before, after)
    if lanes[0] != lanes[1]:  # emulated and native timings measure different things
        why = (f"the baseline was measured in the {lanes[0]} lane and this run in the {lanes[1]} lane: "
               "a measurement of an emulated lane is never compared with a native one")
    change = measured_change(base.measurements[name].samples,
                             ctx.matrix.rows[check].results[cell].measurements[name].samples,
                             max_increase_pct, min_effect, same_machine=not why, why=why)
    return replace(change, note=why) if lanes[0] != lanes[1] else change


def _machine(doc: Optional[EnvDocument]) -> Any:
    return None if doc is None else doc.fingerprint.get("machine")


def _machine_difference(base: Optional[EnvDocument], now: Optional[EnvDocument]) -> str:
    """Why two cells' machines differ, in words; "" when their fingerprints match."""
    before, after = _machine(base), _machine(now)
    if before == after and before is not None:
        return ""
    if not isinstance(before, dict) or not isinstance(after, dict):
        return "the machine fingerprint is missing in the baseline or in this run"
    keys = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
    return "; ".join(f"{k} {before.get(k)!r} in the baseline, {after.get(k)!r} now" for k in keys)


def _budget_claims(ctx: Context, budget: Budget, found: List[MeasurementResult]) -> List[Finding]:
    findings = []
    name = budget.measurement
    required = [r for r in found if r.cell in ctx.required]
    if not required:
        effect = Effect.INCOMPLETE if budget.required else Effect.INCONCLUSIVE
        return [Finding(effect, "budget", f"budget on {name}: no samples of {name} in any required cell")]
    if budget.max is not None:
        findings += _absolute_claims(ctx, budget, required)
    if budget.max_increase_pct is not None:
        findings += _relative_claims(ctx, budget, required)
    else:
        findings += [_paired_measured(r) for r in required if r.paired is not None]
    return findings


def _paired_measured(r: MeasurementResult) -> Finding:
    """Pairs with no relative budget to judge: their change, reported only."""
    assert r.paired is not None
    return Finding(Effect.INFO, "measured-change", f"{r.check} in {r.where}: {r.paired.text(r.name)}",
                   (r.check,), (r.cell,))


def _absolute_claims(ctx: Context, budget: Budget, results: List[MeasurementResult]) -> List[Finding]:
    findings: List[Finding] = []
    verbs = {True: f"is within the budget of {budget.max:g}", False: f"exceeds the budget of {budget.max:g}"}
    append = findings.append
    for check, cell, name, unit, samples, median, status, _, _, statistic, value, lane, _ in results:
        within = status == "within"
        where = cell if lane == "native" else f"{cell} ({emulated(lane)})"
        text = (f"{check}: {name} {statistic} {median if value is None else value:g} {unit} of {samples} sample(s) "
                f"in {where} {verbs[within]} {unit}")
        append(NEW(Finding, (Effect.INFO if within else Effect.NO_GO, "budget", text, (check,), (cell,), "", "")))
    return findings


def _relative_claims(ctx: Context, budget: Budget, results: List[MeasurementResult]) -> List[Finding]:
    """Each cell's pairs decide where it took them, in preference to a saved baseline; the rest is
    judged against the saved baseline, or INCONCLUSIVE without one."""
    paired = [_paired_claim(budget, r) for r in results if r.paired is not None]
    paired += [_drift_finding(r) for r in results if r.paired is not None and r.change is not None]
    unpaired = [r for r in results if r.paired is None]
    return paired + (_saved_baseline_claims(ctx, budget, unpaired) if unpaired else [])


def _paired_claim(budget: Budget, r: MeasurementResult) -> Finding:
    assert r.paired is not None
    text = f"{r.check} in {r.where}: {r.paired.text(r.name)}"
    if r.paired.status == "fail":
        return Finding(Effect.NO_GO, "budget", text, (r.check,), (r.cell,))
    if r.paired.status == "pass":
        return Finding(Effect.INFO, "budget", text, (r.check,), (r.cell,))
    # Pairs mean the run was asked to decide this budget (--baseline-ref): undecided is not a pass.
    return Finding(Effect.INCOMPLETE, "inconclusive", text, (r.check,), (r.cell,))


def _drift_finding(r: MeasurementResult) -> Finding:
    """Where the cell's pairs judged the budget, the saved baseline still shows drift across runs."""
    assert r.change is not None
    text = f"{r.check}: {r.name} in {r.where} against the saved baseline (drift across runs, not judged): "
    return Finding(Effect.INFO, "measured-change", text + (r.change.describe() if r.change.judged else r.change.note),
                   (r.check,), (r.cell,))


def _saved_baseline_claims(ctx: Context, budget: Budget, results: List[MeasurementResult]) -> List[Finding]:
    limit = f"+{budget.max_increase_pct:g} %"
    if ctx.baseline is None:
        effect = Effect.INCOMPLETE if budget.required else Effect.INCONCLUSIVE
        checks = tuple(sorted({r.check for r in results}))
        cells = tuple(sorted({r.cell for r in results}, key=cell_sort_key))
        text = (f"relative budget on {budget.measurement} ({limit} against a baseline) cannot be judged: "
                f"no baseline was given, so no performance change can be claimed")
        return [Finding(effect, "inconclusive", text, checks, cells)]
    return [_relative_claim(budget, r, limit) for r in results]


def _relative_claim(budget: Budget, r: MeasurementResult, limit: str) -> Finding:
    change = r.change
    where = f"{r.check}: {r.name} in {r.where} against the baseline, budget {limit}"
    if change is None or change.status == "inconclusive":
        why = "no baseline samples for this check and cell" if change is None else _inconclusive_text(change)
        effect = Effect.INCOMPLETE if budget.required else Effect.INCONCLUSIVE
        return Finding(effect, "inconclusive", f"{where}: {why}", (r.check,), (r.cell,))
    if change.status == "fail":
        verdict_text = f"the whole interval is above {limit}: exceeds the budget"
    else:
        verdict_text = f"the whole interval is within {limit}"
    effect = Effect.NO_GO if change.status == "fail" else Effect.INFO
    return Finding(effect, "budget", f"{where}: {change.describe()}; {verdict_text}", (r.check,), (r.cell,))


def _inconclusive_text(change: MeasuredChange) -> str:
    text = change.note if not change.judged else f"{change.describe()}; {change.note}"
    if change.samples_needed is None:
        return text + ("; the change sits on the budget itself: no sample count settles it" if change.judged else "")
    if change.samples_needed > MAX_SAMPLES_ESTIMATE:
        return text + f"; more than {MAX_SAMPLES_ESTIMATE} samples per run would be needed to settle it"
    return text + f"; about {change.samples_needed} samples per run would settle it"


def _measured_finding(r: MeasurementResult) -> Finding:
    """A measurement in both runs with no relative budget: its change, reported only."""
    change = r.change
    assert change is not None
    text = f"{r.check}: {r.name} in {r.where} against the baseline: "
    text += change.describe() if change.judged else change.note
    return Finding(Effect.INFO, "measured-change", text, (r.check,), (r.cell,))


def _unbudgeted(ctx: Context, judged: Set[Tuple[str, str, str]]) -> List[MeasurementResult]:
    """The measurements no budget judged (those are skipped before their median is taken)."""
    results: List[MeasurementResult] = []
    records = chain.from_iterable(map(dict.values, map(attrgetter("results"), ctx.matrix.rows.values())))
    if len(judged) == sum(map(len, map(attrgetter("measurements"), records))):
        return results  # every measurement judged (each is one check, cell and name)
    lanes = lanes_of(ctx)
    for row in ctx.matrix.rows.values():
        for cell, record in row.results.items():
            measurements = record.measurements
            for name, m in sorted(measurements.items()) if len(measurements) > 1 else measurements.items():
                if (row.id, cell, name) in judged:
                    continue
                lane = lanes[cell]
                change = None if ctx.baseline is None else _change(ctx, row.id, cell, name, None)
                paired = None if m.paired is None else paired_change(m.paired, None, emulated=lane != "native")
                results.append(MeasurementResult(row.id, cell, name, m.unit, len(m.samples), median(m.samples),
                                                 "no-budget", None, change, lane=lane, paired=paired))
    return results


def paired_outcomes(results: Iterable[MeasurementResult]) -> Dict[Tuple[str, str], List[str]]:
    """The outcome text of each measurement judged from its own pairs, by check and cell (for reports
    that show per-cell results: JUnit, CTRF)."""
    texts: Dict[Tuple[str, str], List[str]] = {}
    for r in results:
        if r.paired is not None:
            texts.setdefault((r.check, r.cell), []).append(r.paired.text(r.name))
    return texts
