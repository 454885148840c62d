"""`readiness verdict`: README's verdict table and "Policy", each reason naming its checks and cells."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import List, Optional

import jsonschema
import pytest
from envdocs import check, env, write, write_plan
from hypothesis import given
from hypothesis import strategies as st

from readiness import cli
from readiness.judge import merge, policy, verdict
from readiness.judge.verdict import Effect, State
from readiness.model import schema
from readiness.model.document import Outcome

LINUX = "linux-x86_64-cpython3.12"
WINDOWS = "windows-x86_64-cpython3.12"
TODAY = dt.date(2026, 11, 30)


@pytest.fixture(autouse=True)
def in_tmp_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run in tmp_path, so the repository's own pyproject.toml policy never applies."""
    monkeypatch.chdir(tmp_path)


def judge(tmp_path: Path, *docs, rules: Optional[policy.Policy] = None, **kwargs) -> verdict.Verdict:
    write(tmp_path / "envs", *docs)
    matrix = merge.merge_paths([str(tmp_path / "envs")])
    return verdict.decide(matrix, rules or policy.default_policy(), today=TODAY, **kwargs)


def rules_from(tmp_path: Path, text: str) -> policy.Policy:
    path = tmp_path / "policy.toml"
    path.write_text(text, encoding="utf-8")
    return policy.load_policy(str(path))


def messages(result: verdict.Verdict, effect: Effect) -> List[str]:
    return [f.message for f in result.by_effect(effect)]


def test_all_passing_is_go_with_exit_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(tmp_path, env(LINUX, [check("a")]), env(WINDOWS, [check("a")]))
    assert cli.main(["verdict", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert out.rstrip().endswith("VERDICT: GO  (default policy; exit code 0)")
    assert "the required cells are simply the cells present" in out
    assert "platforms: linux, windows; Pythons: cpython3.12" in out
    assert "checks run / collected: 1 / 1" in out


def test_three_of_four_passing_is_no_go_when_the_fourth_is_critical(tmp_path: Path) -> None:
    checks = [check("ws"), check("redis"), check("auth"),
              check("db", "failed", severity="critical", message="ImportError: no db")]
    result = judge(tmp_path, env(LINUX, checks), rules=rules_from(tmp_path, ""))
    assert result.state == State.NO_GO and result.exit_code == 1
    [reason] = result.reasons
    assert reason.checks == ("db",) and reason.cells == (LINUX,)
    assert reason.message == f"db (general, critical) failed in {LINUX}: ImportError: no db"


def test_minor_failures_are_reported_but_never_block(tmp_path: Path) -> None:
    result = judge(tmp_path, env(LINUX, [check("lint", "failed", severity="minor")]), rules=rules_from(tmp_path, ""))
    assert result.state == State.GO
    assert messages(result, Effect.WARNING) == [f"lint (general, minor) failed in {LINUX}"]


def test_the_default_policy_keeps_each_checks_declared_severity(tmp_path: Path) -> None:
    minor = judge(tmp_path, env(LINUX, [check("lint", "failed", severity="minor")]))
    assert minor.state == State.GO and minor.policy_label == "default policy"
    assert messages(minor, Effect.WARNING) == [f"lint (general, minor) failed in {LINUX}"]
    critical = judge(tmp_path, env(LINUX, [check("db", "failed", severity="critical"), check("plain", "failed")]))
    assert critical.state == State.NO_GO
    assert messages(critical, Effect.NO_GO) == [f"db (general, critical) failed in {LINUX}",
                                               f"plain (general, major) failed in {LINUX}"]
    assert ("default policy: no [tool.readiness] found; each check counts with its declared severity "
            "(major when it declares none)") in messages(critical, Effect.INFO)


def test_xfailed_blocking_check_counts_as_failed_unless_waived(tmp_path: Path) -> None:
    doc = env(LINUX, [check("a", "xfailed", message="known bug")])
    assert judge(tmp_path, doc).state == State.NO_GO
    waived = rules_from(tmp_path, "[[waivers]]\ncheck='a'\nreason='bug 12'\nowner='ana'\nexpires=2027-01-31\n")
    result = judge(tmp_path, doc, rules=waived)
    assert result.state == State.GO_WITH_WAIVERS and result.exit_code == 0
    assert result.waivers[0].status == "used" and result.waivers[0].covered == (("a", LINUX),)


@pytest.mark.parametrize("outcome", ["skipped", "deselected"])
def test_blocking_check_not_run_in_a_required_cell_is_incomplete(tmp_path: Path, outcome: str) -> None:
    result = judge(tmp_path, env(LINUX, [check("a"), check("b", outcome)]))
    assert result.state == State.INCOMPLETE and result.exit_code == 3
    assert result.reasons[0].message.startswith(f"b (general, major) did not run in {LINUX}")


@pytest.mark.parametrize("accept_own_skips", [False, True])
def test_a_check_that_never_ran_is_missing_evidence_never_no_go(tmp_path: Path, accept_own_skips: bool) -> None:
    rules = policy.parse_policy({"accept_own_skips": accept_own_skips}, "pyproject.toml")
    doc = env(LINUX, [check("a"), check("later", "not_run", severity="critical", message="interrupted")],
              state="interrupted", reason="interrupted (Ctrl-C or SIGINT); 1 check(s) did not run")
    result = judge(tmp_path, doc, rules=rules)
    assert result.state == State.INCOMPLETE and result.exit_code == 3
    assert [(f.effect, f.message) for f in result.findings if f.kind == "not_run"] == [
        (Effect.INCOMPLETE, f"later (general, critical) was collected but not run in {LINUX}: interrupted")]
    assert result.scope.checks_run == 1  # a check that did not run is no evidence


def test_the_projects_own_skips_are_accepted_only_when_the_policy_says_so(tmp_path: Path) -> None:
    linux = env(LINUX, [check("a"), check("skip", "skipped"), check("xfail", "xfailed"),
                        check("slow", "deselected"), check("param[/]")],
                collected=["a", "skip", "xfail", "slow", "param[/]"])
    windows = env(WINDOWS, [check("a"), check("skip", "skipped"), check("xfail", "xfailed"),
                            check("slow", "deselected"), check("param[\\]")],
                  collected=["a", "skip", "xfail", "slow", "param[\\]"])
    assert judge(tmp_path / "strict", linux, windows).state == State.NO_GO  # an xfail counts as failed
    accepting = policy.parse_policy({"accept_own_skips": True}, "pyproject.toml")
    result = judge(tmp_path / "accepting", linux, windows, rules=accepting)
    assert result.state == State.GO and result.exit_code == 0
    accepted = "\n".join(messages(result, Effect.INFO))
    assert "skipped, deselected or xfailed by the project itself (accepted: accept_own_skips)" in accepted
    assert "not collected there; accepted: accept_own_skips" in accepted
    # a check a cell collected but has no result for, or one that did not run because the run stopped,
    # is still missing evidence
    broken = env(WINDOWS, [check("a")], collected=["a", "lost"])
    assert judge(tmp_path / "lost", env(LINUX, [check("a"), check("lost")]), broken,
                 rules=accepting).state == State.INCOMPLETE


def test_not_applicable_is_not_missing_evidence(tmp_path: Path) -> None:
    assert judge(tmp_path, env(LINUX, [check("a"), check("win", "not_applicable")])).state == State.GO


@pytest.mark.parametrize("state", ["crashed", "timed_out", "interrupted", "not_run"])
def test_a_required_cell_that_did_not_complete_is_incomplete(tmp_path: Path, state: str) -> None:
    result = judge(tmp_path, env(LINUX, [check("a")]), env(WINDOWS, [], state=state, reason="worker died"))
    assert result.state == State.INCOMPLETE
    assert f"cell {WINDOWS} {state.replace('_', ' ')}: worker died" in messages(result, Effect.INCOMPLETE)


def test_planned_cells_are_required_and_a_missing_one_is_incomplete(tmp_path: Path) -> None:
    write(tmp_path / "run" / "envs", env(LINUX, [check("a")]))
    write_plan(tmp_path / "run" / "plan.json", [LINUX, WINDOWS])
    matrix = merge.merge_paths([str(tmp_path / "run")])
    result = verdict.decide(matrix, policy.default_policy(), today=TODAY)
    assert result.state == State.INCOMPLETE
    assert messages(result, Effect.INCOMPLETE) == [f"required cell {WINDOWS} has no env document"]
    assert result.scope.cells_planned == (LINUX, WINDOWS) and result.scope.cells_missing == (WINDOWS,)


def test_required_cells_take_globs(tmp_path: Path) -> None:
    rules = rules_from(tmp_path, 'required_cells = ["linux-*", "macos-*"]\n')
    result = judge(tmp_path, env(LINUX, [check("a")]), env(WINDOWS, [check("a", "failed")]), rules=rules)
    assert result.state == State.INCOMPLETE
    assert "no cell matches the required cell pattern 'macos-*'" in messages(result, Effect.INCOMPLETE)
    assert f"a (general, major) failed in {WINDOWS} - not a required cell" in messages(result, Effect.WARNING)


def test_a_divergence_is_its_own_finding_and_blocks_when_the_check_blocks(tmp_path: Path) -> None:
    result = judge(tmp_path, env(LINUX, [check("a")]), env(WINDOWS, [check("a", "error", message="boom")]))
    divergence = [f for f in result.findings if f.kind == "divergence"]
    assert [f.message for f in divergence] == [
        f"divergence: a fails only in windows (cpython3.12): passes in {LINUX}; "
        "the failing cells differ in: OS windows (passing: linux)"]
    assert divergence[0].effect == Effect.NO_GO and divergence[0].cells == (LINUX, WINDOWS)
    # Reports say the check once: its failure, with where it passes and why.
    [cause] = result.causes_by(Effect.NO_GO)
    assert cause.text == f"a (general, major) errored in {WINDOWS}: boom"
    assert cause.why == f"passes in {LINUX}; the failing cells differ in: OS windows (passing: linux)"


def test_a_divergence_names_the_one_package_that_sets_the_failing_cells_apart(tmp_path: Path) -> None:
    cells = {"linux-x86_64-cpython3.11": True, "linux-x86_64-cpython3.12": False,
             "windows-x86_64-cpython3.11": False, "windows-x86_64-cpython3.12": True}  # cell: fails
    docs = []
    for cell, fails in cells.items():
        installed = {"pytest": "9.0.3", "anyio": "4.1" if fails else "4.6"}
        if cell.endswith("3.11"):
            installed["tomli"] = "2.0"  # differs between cells, but not between failing and passing ones
        docs.append(env(cell, [check("db", "failed" if fails else "passed", message="boom" if fails else None),
                               check("other", "failed" if fails else "passed", message="boom" if fails else None)],
                        installed=installed))
    result = judge(tmp_path, *docs)
    [cause] = result.causes_by(Effect.NO_GO)
    assert cause.text == ("2 checks fail only in linux-x86_64-cpython3.11, windows-x86_64-cpython3.12: boom: "
                          "db, other")
    assert cause.why == ("passes in linux-x86_64-cpython3.12, windows-x86_64-cpython3.11; "
                         "the failing cells differ in: anyio 4.1 (passing: 4.6)")
    assert [f.message.split("; ", 1)[1] for f in result.findings if f.kind == "divergence"] == [
        "the failing cells differ in: anyio 4.1 (passing: 4.6)"] * 2


def test_cells_are_judged_and_named_in_version_order(tmp_path: Path) -> None:
    cells = [f"linux-x86_64-cpython3.{minor}" for minor in (13, 10, 9, 12, 11)]
    result = judge(tmp_path, *[env(cell, [check("a", "failed")]) for cell in cells])
    ordered = tuple(f"linux-x86_64-cpython3.{minor}" for minor in (9, 10, 11, 12, 13))
    assert result.scope.cells_required == ordered and result.scope.cells_present == ordered
    assert result.reasons[0].cells == ordered
    assert result.reasons[0].message == "a (general, major) failed in all 5 required cells"


def test_a_check_missing_from_one_cell_is_incomplete(tmp_path: Path) -> None:
    result = judge(tmp_path, env(LINUX, [check("a"), check("b")]), env(WINDOWS, [check("a")]))
    assert result.state == State.INCOMPLETE
    assert result.reasons[0].checks == ("b",) and result.reasons[0].cells == (WINDOWS,)


def test_required_checks_must_run(tmp_path: Path) -> None:
    rules = rules_from(tmp_path, 'required_checks = ["health", "db"]\n')
    result = judge(tmp_path, env(LINUX, [check("health")]), rules=rules)
    assert messages(result, Effect.INCOMPLETE) == ["required check db is in no document"]


def test_waivers_expired_stale_and_expiring_are_reported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1795996800")  # today is 2026-11-30 for the policy
    write(tmp_path / "envs", env(LINUX, [check("a", "failed"), check("b", "failed")]))
    (tmp_path / "policy.toml").write_text(
        "[[waivers]]\ncheck='a'\nreason='r'\nowner='ana'\nexpires=2026-12-05\n"
        "[[waivers]]\ncheck='b'\nreason='r'\nowner='bo'\nexpires=2026-11-01\n"
        "[[waivers]]\ncheck='zzz'\nreason='r'\nowner='cy'\nexpires=2027-06-01\n", encoding="utf-8")
    code = cli.main(["verdict", str(tmp_path / "envs"), "--config", str(tmp_path / "policy.toml")])
    out = capsys.readouterr().out
    assert code == 1  # b's waiver expired, so b blocks
    assert "waiver for b expired on 2026-11-01 and does not apply (owner bo)" in out
    assert "waiver for zzz matches nothing in this run: remove it (owner cy)" in out
    assert "waiver for a expires in 5 day(s), on 2026-12-05 (owner ana)" in out
    assert "  - a: used, expires 2026-12-05 (5 day(s) left) - EXPIRES SOON; owner ana; reason: r" in out


def test_flaky_warns_unless_the_policy_says_it_blocks(tmp_path: Path) -> None:
    doc = env(LINUX, [check("a", "flaky")])
    assert judge(tmp_path, doc).state == State.GO
    assert judge(tmp_path, doc, rules=rules_from(tmp_path, "flaky = {blocks = true}\n")).state == State.NO_GO


def test_absolute_budget_over_is_no_go_and_relative_without_baseline_is_inconclusive(tmp_path: Path) -> None:
    rules = rules_from(tmp_path, "[budgets.startup_s]\nmax = 10\nmax_increase_pct = 5\n")
    result = judge(tmp_path, env(LINUX, [check("perf", measurements={"startup_s": [11.0, 11.2, 11.1]})]), rules=rules)
    assert messages(result, Effect.NO_GO) == [
        f"perf: startup_s median 11.1 s of 3 sample(s) in {LINUX} exceeds the budget of 10 s"]
    [inconclusive] = result.by_effect(Effect.INCONCLUSIVE)
    assert "no baseline was given" in inconclusive.message and inconclusive.cells == (LINUX,)


def test_a_required_relative_budget_without_baseline_is_incomplete(tmp_path: Path) -> None:
    rules = rules_from(tmp_path, "[budgets.startup_s]\nmax_increase_pct = 5\nrequired = true\n")
    result = judge(tmp_path, env(LINUX, [check("perf", measurements={"startup_s": [1.0]})]), rules=rules)
    assert result.state == State.INCOMPLETE


def test_relative_budget_against_a_baseline_uses_a_stated_test(tmp_path: Path) -> None:
    rules = rules_from(tmp_path, "[budgets.t]\nmax_increase_pct = 5\n")
    write(tmp_path / "base", env(LINUX, [check("p", measurements={"t": [1.0, 1.01, 0.99, 1.0, 1.02]})], run_id="old"))
    base = merge.merge_paths([str(tmp_path / "base")])
    slow = judge(tmp_path, env(LINUX, [check("p", measurements={"t": [1.5, 1.52, 1.49, 1.51, 1.5]})]),
                 rules=rules, baseline=base)
    assert slow.state == State.NO_GO
    assert "Mann-Whitney p =" in slow.reasons[0].message and "95 % interval" in slow.reasons[0].message


def test_only_new_failures_block_with_a_baseline(tmp_path: Path) -> None:
    rules = rules_from(tmp_path, "only_new_failures_block = true\n")
    write(tmp_path / "base", env(LINUX, [check("old", "failed"), check("new")], run_id="old"))
    base = merge.merge_paths([str(tmp_path / "base")])
    result = judge(tmp_path, env(LINUX, [check("old", "failed"), check("new", "failed")]), rules=rules, baseline=base)
    assert [f.checks for f in result.reasons if f.kind == "failed"] == [("new",)]


def test_verdict_json_is_valid_against_its_shipped_schema(tmp_path: Path) -> None:
    write(tmp_path, env(LINUX, [check("a", "failed")]))
    assert cli.main(["verdict", str(tmp_path), "--json", str(tmp_path / "v.json")]) == 1
    data = json.loads((tmp_path / "v.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(schema.shipped("verdict", 1)).validate(data)
    assert data["state"] == "NO-GO" and data["exit_code"] == 1 and data["reasons"][0]["cells"] == [LINUX]
    assert "confidence" not in json.dumps(data).lower()


OUTCOMES = st.sampled_from(list(Outcome))


@given(st.lists(OUTCOMES, min_size=1, max_size=6))
def test_the_worst_outcome_decides_whatever_the_cell_order(outcomes: List[Outcome]) -> None:
    cells = [f"linux-x86_64-cpython3.{i}" for i in range(len(outcomes))]
    docs = {c: env(c, [check("a", o.value)]) for c, o in zip(cells, outcomes)}
    forward = merge.Matrix("run-1", docs)
    backward = merge.Matrix("run-1", dict(reversed(list(docs.items()))))
    expected = min(outcomes, key=lambda o: o.rank)
    assert forward.rows["a"].worst == backward.rows["a"].worst == expected
    first = verdict.decide(forward, policy.default_policy(), today=TODAY)
    second = verdict.decide(backward, policy.default_policy(), today=TODAY)
    assert verdict.dumps(first) == verdict.dumps(second)
    blocking = {Outcome.ERROR, Outcome.FAILED, Outcome.XFAILED}
    missing = {Outcome.NOT_RUN, Outcome.SKIPPED, Outcome.DESELECTED}
    want = State.NO_GO if blocking & set(outcomes) else State.INCOMPLETE if missing & set(outcomes) else State.GO
    assert first.state == want


def test_a_cell_that_collected_no_checks_is_incomplete_never_go(tmp_path: Path) -> None:
    result = judge(tmp_path, env(LINUX, [check("a")]), env(WINDOWS, []))
    assert result.state is State.INCOMPLETE
    assert f"cell {WINDOWS} collected no checks: nothing was judged there" in messages(result, Effect.INCOMPLETE)
