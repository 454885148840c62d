"""The verdict on a relative budget from a cell's own pairs against a baseline ref: the outcome text
names its figures (within, over, inconclusive with the pairs needed, a baseline that failed to
build), pairs win over a saved baseline, and every report shows the text."""

from __future__ import annotations

import datetime as dt
import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import List, Optional, Sequence

import jsonschema
import pytest
from envdocs import check, env, write, write_plan
from test_render import assert_gold

from readiness import cli
from readiness.cell.paired import ratio_interval
from readiness.judge import merge, policy, verdict
from readiness.judge.paired import paired_change
from readiness.judge.verdict import Effect, State
from readiness.model import schema
from readiness.model.document import EnvDocument, Pair, Paired

LINUX = "linux-x86_64-cpython3.12"
OLD = "linux-x86_64-cpython3.9"
WINE = "windows-x86_64-wine-cpython3.11"
SHA = "1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d"
TODAY = dt.date(2026, 11, 30)
RULES = {"budgets": {"startup_s": {"max": 15.0, "max_increase_pct": 5.0}}}
# 18 ratios: median +2.1 %; the 5th and 14th smallest, the sign test's 95 % interval, -0.8 % and +4.6 %
WITHIN = [0.97, 0.975, 0.98, 0.99, 0.992, 1.0, 1.01, 1.015, 1.02, 1.022, 1.03, 1.035, 1.04, 1.046, 1.05, 1.06,
          1.07, 1.08]
OVER = [1.21, 1.19, 1.22, 1.2, 1.18, 1.23]
STRADDLE = [1.0, 1.02, 1.04, 1.06, 1.08, 1.1, 1.01, 1.03, 1.05, 1.07]


def paired(ratios: Sequence[float], ref: str = "HEAD", error: Optional[str] = None) -> Paired:
    pairs = [Pair(1.5 * r, 1.5, f"2026-11-30T10:00:{2 * i:02d}.000Z", f"2026-11-30T10:00:{2 * i + 1:02d}.000Z",
                  "current" if i % 2 == 0 else "baseline") for i, r in enumerate(ratios)]
    return Paired(ref, SHA, pairs, ratio_interval(pairs) if pairs else None, "settled", error)


def cell_doc(cell: str, ratios: Sequence[float], error: Optional[str] = None, run_id: str = "run-1") -> EnvDocument:
    record = check("performance.startup", category="performance",
                   measurements={"startup_s": [1.5 * r for r in ratios] or [1.5] * 5})
    record.measurements["startup_s"].paired = paired(ratios, error=error)
    return env(cell, [record], run_id=run_id)


def decide(*docs: EnvDocument, rules: Optional[dict] = None, baseline: Optional[merge.Matrix] = None
           ) -> verdict.Verdict:
    matrix = merge.Matrix("run-1", {doc.cell_id: doc for doc in docs})
    return verdict.decide(matrix, policy.parse_policy(rules or RULES, "policy.toml"), today=TODAY, baseline=baseline)


def texts(result: verdict.Verdict, effect: Effect) -> List[str]:
    return [f.message for f in result.by_effect(effect) if "pairs" in f.message or "against HEAD" in f.message]


def test_pairs_within_the_budget_name_their_figures() -> None:
    result = decide(cell_doc(LINUX, WITHIN))
    assert result.state == State.GO
    assert texts(result, Effect.INFO) == [
        f"performance.startup in {LINUX}: startup_s +2.1 % (95 % interval -0.8 % to +4.6 %) against HEAD 1a2b3c4, "
        "18 pairs: within +5 %"]
    [m] = result.measurements
    assert m.paired is not None and m.to_dict()["paired"]["status"] == "pass"


def test_pairs_entirely_over_the_budget_are_no_go() -> None:
    result = decide(cell_doc(LINUX, OVER))
    assert result.state == State.NO_GO
    assert texts(result, Effect.NO_GO) == [
        f"performance.startup in {LINUX}: startup_s +20.5 % (95 % interval +18.0 % to +23.0 %) against HEAD 1a2b3c4, "
        "6 pairs: over +5 % (the whole interval is above it)"]


def test_pairs_straddling_the_budget_are_inconclusive_with_the_pairs_needed() -> None:
    result = decide(cell_doc(LINUX, STRADDLE))
    # Pairs mean the run was asked to decide the budget (--baseline-ref): undecided is INCOMPLETE, never GO.
    assert result.state == State.INCOMPLETE
    [text] = texts(result, Effect.INCOMPLETE)
    assert text.startswith(f"performance.startup in {LINUX}: startup_s +4.5 % (95 % interval +1.0 % to +8.0 %) "
                           "against HEAD 1a2b3c4, 10 pairs: the interval straddles +5 %; about ")
    assert text.endswith(" pairs would settle it")
    needed = int(text.split("about ")[1].split()[0])
    assert needed == paired_change(paired(STRADDLE), 5.0).pairs_needed and needed > 10


def test_a_relative_budget_without_pairs_or_saved_baseline_stays_a_finding_that_blocks_nothing() -> None:
    doc = cell_doc(LINUX, STRADDLE)
    doc.checks[0].measurements["startup_s"].paired = None
    result = decide(doc)
    assert result.state == State.GO and any("no baseline was given" in f.message
                                            for f in result.by_effect(Effect.INCONCLUSIVE))


def test_a_baseline_that_failed_to_build_in_a_cell_is_inconclusive_naming_the_error() -> None:
    result = decide(cell_doc(LINUX, WITHIN), cell_doc(OLD, [], error="uv pip install failed:\n  No solution found"))
    assert result.state == State.INCOMPLETE
    assert texts(result, Effect.INCOMPLETE) == [
        f"performance.startup in {OLD}: startup_s against HEAD 1a2b3c4 cannot be judged: the target at HEAD was not "
        "built in this cell: uv pip install failed: No solution found"]
    assert len(texts(result, Effect.INFO)) == 1  # the other cell is judged from its pairs


def test_fewer_than_six_pairs_give_no_interval() -> None:
    [text] = texts(decide(cell_doc(LINUX, [1.0, 1.01, 1.02])), Effect.INCOMPLETE)
    assert text.endswith("3 pairs: fewer than 6 pairs give no 95 % interval; 6 pairs would give one")


def test_a_wine_cell_compares_emulated_with_emulated_and_says_so() -> None:
    result = decide(cell_doc(WINE, OVER))
    assert result.state == State.NO_GO
    [text] = texts(result, Effect.NO_GO)
    assert text.startswith(f"performance.startup in {WINE} (emulated: Wine lane): startup_s +20.5 %")
    assert "against HEAD 1a2b3c4, 6 pairs, both sides emulated: over +5 %" in text


def test_pairs_decide_in_preference_to_a_saved_baseline_which_still_shows_drift() -> None:
    before = env(LINUX, [check("performance.startup", category="performance", measurements={"startup_s": [1.0] * 15})],
                 run_id="old")
    result = decide(cell_doc(LINUX, WITHIN), baseline=merge.Matrix("old", {LINUX: before}))
    assert result.state == State.GO  # the saved baseline alone would say +50 %: NO-GO
    assert texts(result, Effect.INFO)[0].endswith("18 pairs: within +5 %")
    [drift] = [f.message for f in result.findings if f.kind == "measured-change"]
    assert drift.startswith(f"performance.startup: startup_s in {LINUX} against the saved baseline (drift across "
                            "runs, not judged): median 1 -> 1.5")


def test_without_pairs_the_saved_baseline_still_judges() -> None:
    now = env(LINUX, [check("performance.startup", measurements={"startup_s": [1.5] * 15})])
    before = env(LINUX, [check("performance.startup", measurements={"startup_s": [1.0] * 15})], run_id="old")
    result = decide(now, baseline=merge.Matrix("old", {LINUX: before}))
    assert result.state == State.NO_GO
    assert "against the baseline, budget +5 %" in result.by_effect(Effect.NO_GO)[0].message


def test_a_measurement_with_pairs_and_no_relative_budget_reports_its_change() -> None:
    result = decide(cell_doc(LINUX, WITHIN), rules={"budgets": {"startup_s": {"max": 15.0}}})
    [text] = [f.message for f in result.findings if f.kind == "measured-change"]
    assert text.endswith("18 pairs: no relative budget applies")


# --- every report shows the text ---------------------------------------------------------------

POLICY = "[tool.readiness.budgets.startup_s]\nmax = 15\nmax_increase_pct = 5\n"
WITHIN_TEXT = "startup_s +2.1 % (95 % interval -0.8 % to +4.6 %) against HEAD 1a2b3c4, 18 pairs: within +5 %"
OVER_TEXT = "6 pairs: over +5 % (the whole interval is above it)"


@pytest.fixture
def scenario(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A run with pairs: one cell within the budget, one over it, a Wine cell, and one whose baseline failed."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1764500000")
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    (tmp_path / "pyproject.toml").write_text(POLICY, encoding="utf-8")
    run = Path("runs") / "run-1"
    write(run / "envs", cell_doc(LINUX, WITHIN), cell_doc(OLD, OVER), cell_doc(WINE, WITHIN),
          cell_doc("linux-x86_64-cpython3.13", [], error="uv pip install failed: No solution found"))
    write_plan(run / "plan.json", [OLD, LINUX, "linux-x86_64-cpython3.13", WINE])
    return run


def test_every_format_shows_the_outcome_text(scenario: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["report", str(scenario)]) == 1
    terminal = capsys.readouterr().out
    assert WITHIN_TEXT in terminal and OVER_TEXT in terminal
    assert cli.main(["report", str(scenario), "--format", "md", "--format", "html", "--format", "junit",
                     "--format", "ctrf", "--format", "json", "-o", "out"]) == 1
    for name in ("report.md", "report.html"):
        text = Path("out", name).read_text(encoding="utf-8").replace("\\_", "_").replace("\\+", "+")
        assert WITHIN_TEXT in text and OVER_TEXT in text, name
    junit = ET.parse("out/junit.xml").getroot()
    shown = [p.get("value") for p in junit.iter("property") if p.get("name") == "paired"]
    assert WITHIN_TEXT in shown and any(OVER_TEXT in (value or "") for value in shown)
    ctrf = json.loads(Path(f"out/ctrf/{LINUX}.json").read_text(encoding="utf-8"))
    assert ctrf["results"]["tests"][0]["extra"]["paired"] == [WITHIN_TEXT]
    data = json.loads(Path("out/verdict.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(schema.shipped("verdict", 1)).validate(data)
    assert any(WITHIN_TEXT in f["message"] for f in data["findings"])
    assert {m["paired"]["status"] for m in data["measurements"]} == {"pass", "fail", "inconclusive"}


def test_the_paired_scenario_matches_its_gold_files(scenario: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["report", str(scenario)]) == 1
    assert_gold("paired-report.txt", capsys.readouterr().out)
    assert cli.main(["report", str(scenario), "--format", "md", "--format", "junit", "-o", "out"]) == 1
    assert_gold("paired-report.md", Path("out/report.md").read_text(encoding="utf-8"))
    assert_gold("paired-junit.xml", Path("out/junit.xml").read_text(encoding="utf-8"))
