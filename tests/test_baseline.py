"""Baselines: `readiness baseline save | list | show`, and `verdict --baseline` judging against one."""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path
from typing import Dict, List, Optional

import jsonschema
import pytest
from envdocs import check, env, write
from hypothesis import given, settings
from hypothesis import strategies as st

from readiness import cli
from readiness.judge import baseline, merge, policy, statistics, verdict
from readiness.judge.verdict import Effect, State
from readiness.model import schema
from readiness.model.document import CheckRecord, EnvDocument, Target
from readiness.model.errors import PolicyError, SchemaVersionError, UsageError

LINUX = "linux-x86_64-cpython3.12"
TODAY = dt.date(2026, 11, 30)
SOURCES = "9f2c4e1a7b3d5f60"


@pytest.fixture(autouse=True)
def in_tmp_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run in tmp_path: baselines land in tmp_path/.readiness and no repository policy applies."""
    monkeypatch.chdir(tmp_path)


def doc(checks: List[CheckRecord], *, run_id: str = "run-1", source: Optional[str] = SOURCES,
        cpu: str = "Test CPU", collected: Optional[List[str]] = None) -> EnvDocument:
    document = env(LINUX, checks, run_id=run_id, collected=collected)
    document.target = Target(name="demo", version="0.1.0", source_hash=source)
    document.fingerprint["machine"] = {"cpu": cpu, "cores": 2, "platform": "linux-x86_64"}
    return document


def save(tmp_path: Path, *docs: EnvDocument, name: str = "main") -> Path:
    write(tmp_path / "base-envs", *docs)
    assert cli.main(["baseline", "save", str(tmp_path / "base-envs"), "--name", name]) == 0
    return tmp_path / ".readiness" / "baselines" / f"{name}.json"


def run_verdict(tmp_path: Path, *docs: EnvDocument, rules: str = "", spec: str = "main",
                capsys: Optional[pytest.CaptureFixture[str]] = None) -> int:
    write(tmp_path / "envs", *docs)
    (tmp_path / "policy.toml").write_text(rules, encoding="utf-8")
    if capsys is not None:
        capsys.readouterr()
    return cli.main(["verdict", str(tmp_path / "envs"), "--config", str(tmp_path / "policy.toml"),
                     "--baseline", spec, "--json", str(tmp_path / "verdict.json")])


def findings(tmp_path: Path, kind: str) -> List[Dict[str, object]]:
    data = json.loads((tmp_path / "verdict.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(schema.shipped("verdict", 1)).validate(data)
    return [f for f in data["findings"] if f["kind"] == kind]


def decide_against(base: EnvDocument, now: EnvDocument, rules: str) -> verdict.Verdict:
    parsed = policy.parse_policy(_toml(rules), "policy.toml")
    return verdict.decide(merge.Matrix(now.run_id, {LINUX: now}), parsed, today=TODAY,
                          baseline=merge.Matrix(base.run_id, {LINUX: base}))


def _toml(text: str) -> Dict[str, object]:
    import sys

    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib
    return tomllib.loads(text)


# --- save, list, show ------------------------------------------------------------------------


def test_save_list_and_show_a_baseline(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    stored = save(tmp_path, doc([check("db", "failed"), check("perf", measurements={"startup_s": [1.0, 1.2, 1.1]})],
                                run_id="nightly-41"))
    saved = "saved baseline main (run nightly-41, 1 cell(s)) to .readiness/baselines/main.json"
    assert saved in capsys.readouterr().out
    data = json.loads(stored.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(schema.shipped("baseline", 1)).validate(data)
    assert data["kind"] == "readiness/baseline" and data["schema"] == 1 and data["source_run_id"] == "nightly-41"
    assert data["machines"] == {LINUX: {"cpu": "Test CPU", "cores": 2, "platform": "linux-x86_64"}}

    assert cli.main(["baseline", "list"]) == 0
    [line] = capsys.readouterr().out.splitlines()
    assert line.startswith("main  created ") and line.endswith("run nightly-41  1 cell(s), 2 check(s)")

    assert cli.main(["baseline", "show", "main"]) == 0
    out = capsys.readouterr().out
    assert "source run: nightly-41" in out and f"target sources {SOURCES}" in out and "cpu Test CPU" in out
    assert "  db  failed" in out
    assert f"  perf  startup_s  {LINUX}: median 1.1 s of 3 sample(s)" in out


def test_list_with_no_baselines_says_how_to_save_one(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["baseline", "list"]) == 0
    assert "no baselines saved in .readiness/baselines" in capsys.readouterr().out


def test_show_of_an_unknown_baseline_and_a_bad_name_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    save(tmp_path, doc([check("a")]))
    capsys.readouterr()
    assert cli.main(["baseline", "show", "nope"]) == 2
    assert "no saved baseline of that name in .readiness/baselines (saved: main)" in capsys.readouterr().err
    assert cli.main(["baseline", "save", str(tmp_path / "base-envs"), "--name", "../escape"]) == 2
    assert "baseline name '../escape': use letters, digits" in capsys.readouterr().err
    assert cli.main(["baseline", "save", str(tmp_path / "nothing-here"), "--name", "x"]) == 2
    assert not (tmp_path / ".readiness" / "baselines" / "x.json").exists()


def test_a_baseline_of_an_unknown_schema_version_is_refused_precisely(tmp_path: Path,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    stored = save(tmp_path, doc([check("a")]))
    for version, fix in ((2, "upgrade readiness"), (0, "older readiness")):
        data = json.loads(stored.read_text(encoding="utf-8"))
        data["schema"] = version
        future = tmp_path / f"v{version}.json"
        future.write_text(json.dumps(data), encoding="utf-8")
        with pytest.raises(SchemaVersionError, match=rf"v{version}\.json: readiness/baseline schema {version} "
                                                     rf"is not readable here \(readable: \(1,\)\).*{fix}"):
            baseline.load(future)
    capsys.readouterr()
    write(tmp_path / "envs", doc([check("a")]))
    assert cli.main(["verdict", str(tmp_path / "envs"), "--baseline", str(tmp_path / "v2.json")]) == 2
    assert "v2.json: readiness/baseline schema 2 is not readable here" in capsys.readouterr().err


def test_a_broken_embedded_run_names_the_field(tmp_path: Path) -> None:
    stored = save(tmp_path, doc([check("a")]))
    data = json.loads(stored.read_text(encoding="utf-8"))
    del data["matrix"]["cells"][0]["document"]["checks"][0]["outcome"]
    stored.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(Exception, match=r"main\.json \$\.matrix\.cells\[0\]\.document: field \$\.checks\[0\]"):
        baseline.load(stored)


def test_verdict_takes_a_name_a_baseline_file_a_matrix_or_env_documents(tmp_path: Path,
                                                                        capsys: pytest.CaptureFixture[str]) -> None:
    stored = save(tmp_path, doc([check("a"), check("b")], run_id="old"))
    (tmp_path / "old.matrix.json").write_text(merge.dumps(merge.merge_paths([str(tmp_path / "base-envs")])),
                                              encoding="utf-8")
    now = doc([check("a"), check("b", "failed")])
    for spec, label in (("main", "main (run old)"), (str(stored), "main (run old)"),
                        (str(tmp_path / "old.matrix.json"), "old.matrix.json (run old)"),
                        (str(tmp_path / "base-envs"), "base-envs (run old)")):
        assert run_verdict(tmp_path, now, spec=spec) == 1
        data = json.loads((tmp_path / "verdict.json").read_text(encoding="utf-8"))
        assert data["baseline"] == label
        [new] = findings(tmp_path, "new-failure")
        assert new["message"] == f"b: new failure against the baseline (it did not fail there), in {LINUX}"


def test_an_unknown_baseline_name_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_verdict(tmp_path, doc([check("a")]), spec="release-1", capsys=capsys) == 2
    assert "--baseline release-1: no such file, and no saved baseline of that name" in capsys.readouterr().err


# --- per check and cell ------------------------------------------------------------------------


def test_the_seed_case_a_database_failing_twice_is_still_no_go_without_a_waiver(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    database = "integration.database"
    save(tmp_path, doc([check(database, "failed", severity="critical"), check("api")], run_id="old"))
    rules = "only_new_failures_block = true\n"
    now = doc([check(database, "failed", severity="critical", message="ImportError: no driver"), check("api")])
    assert run_verdict(tmp_path, now, rules=rules, capsys=capsys) == 1
    out = capsys.readouterr().out
    assert (f"{database} (general, critical) failed in {LINUX} - failing in the baseline too; a critical check "
            "still blocks then, even when only new failures block: waive it or fix it") in out
    assert "VERDICT: NO-GO  (" in out and out.rstrip().endswith("policy.toml; exit code 1)")

    waiver = (f'[[waivers]]\ncheck = "{database}"\nreason = "driver ticket 7"\nowner = "ana"\n'
              "expires = 2099-01-01\n")
    assert run_verdict(tmp_path, now, rules=rules + waiver, capsys=capsys) == 0
    assert "VERDICT: GO WITH WAIVERS" in capsys.readouterr().out


def test_only_a_major_check_failing_in_the_baseline_too_does_not_block(tmp_path: Path) -> None:
    save(tmp_path, doc([check("lint", "failed"), check("api")], run_id="old"))
    assert run_verdict(tmp_path, doc([check("lint", "failed"), check("api")]),
                       rules="only_new_failures_block = true\n") == 0
    [still] = findings(tmp_path, "still-failing")
    assert still["message"] == f"lint: still failing, as in the baseline, in {LINUX}"


def test_a_removed_critical_check_blocks_and_a_removed_major_one_is_reported(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    save(tmp_path, doc([check("auth", severity="critical"), check("docs"), check("api")], run_id="old"))
    assert run_verdict(tmp_path, doc([check("api")]), capsys=capsys) == 1
    removed = {f["checks"][0]: f for f in findings(tmp_path, "removed-check")}
    assert removed["auth"]["effect"] == "no-go"
    assert removed["auth"]["message"] == (f"auth (critical) was collected in the baseline but is gone now in {LINUX}"
                                          " - a critical check may not vanish: restore it, or waive it with a reason")
    assert removed["docs"]["effect"] == "warning"


def test_new_and_fixed_checks_are_reported(tmp_path: Path) -> None:
    save(tmp_path, doc([check("cache", "failed")], run_id="old", source="aaaa"))
    assert run_verdict(tmp_path, doc([check("cache"), check("ws")], source="bbbb")) == 0
    assert [f["message"] for f in findings(tmp_path, "fixed")] == [
        f"cache: fixed: it failed in the baseline and passes now, in {LINUX}"]
    assert [f["checks"] for f in findings(tmp_path, "new-check")] == [["ws"]]
    assert findings(tmp_path, "flaky-across-runs") == []  # the target's sources changed


def test_an_outcome_that_changes_with_nothing_changed_is_flaky_across_runs(tmp_path: Path) -> None:
    save(tmp_path, doc([check("redis"), check("api")], run_id="nightly-41"))
    assert run_verdict(tmp_path, doc([check("redis", "failed"), check("api")], run_id="nightly-42")) == 1
    [flaky] = findings(tmp_path, "flaky-across-runs")
    assert flaky["effect"] == "warning"
    assert flaky["message"] == (f"redis is flaky across runs in {LINUX}: passed in baseline run nightly-41, "
                                f"failed in run nightly-42, with the same target sources (hash {SOURCES[:12]}) "
                                "and the same check declaration")


def test_flaky_across_runs_blocks_when_the_policy_says_flaky_blocks(tmp_path: Path) -> None:
    base, now = doc([check("redis", "failed")], run_id="old"), doc([check("redis")])
    assert decide_against(base, now, "").state == State.GO
    blocked = decide_against(base, now, "flaky = {blocks = true}\n")
    assert blocked.state == State.NO_GO and blocked.reasons[0].kind == "flaky-across-runs"


def test_a_changed_check_declaration_is_not_flaky(tmp_path: Path) -> None:
    before = check("redis")
    before.title = "Redis round trip (old title)"
    result = decide_against(doc([before], run_id="old"), doc([check("redis", "failed")]), "")
    assert not [f for f in result.findings if f.kind == "flaky-across-runs"]


# --- measurements ------------------------------------------------------------------------------

BASE = [1.00, 1.01, 0.99, 1.02, 0.98, 1.00, 1.01, 0.99, 1.00, 1.02, 0.98, 1.01, 0.99, 1.00, 1.00]
# About 3.5 % spread: a +3.5 % change of these cannot be told from the +5 % budget at 15 samples.
NOISY = [1.004, 1.05, 0.963, 1.04, 0.99, 0.99, 1.076, 1.006, 0.998, 1.029, 1.045, 0.999, 1.024, 0.961, 0.985]


def perf(samples: List[float]) -> CheckRecord:
    return check("perf/startup", measurements={"startup_s": samples})


def relative(base: List[float], now: List[float], *, cpu: str = "Test CPU",
             extra: str = "") -> verdict.Verdict:
    rules = f"[budgets.startup_s]\nmax_increase_pct = 5\n{extra}"
    return decide_against(doc([perf(base)], run_id="old"), doc([perf(now)], cpu=cpu), rules)


def test_a_relative_budget_passes_only_when_the_whole_interval_is_within_it() -> None:
    result = relative(BASE, [s * 1.01 for s in BASE])
    [claim] = [f for f in result.findings if f.kind == "budget"]
    assert claim.effect == Effect.INFO and claim.message.endswith("the whole interval is within +5 %")
    assert "Hodges-Lehmann change +1.0 %" in claim.message and "15 baseline + 15 new samples" in claim.message
    assert result.measurements[0].change is not None and result.measurements[0].change.status == "pass"


def test_a_relative_budget_fails_when_the_whole_interval_is_beyond_it() -> None:
    result = relative(BASE, [s * 1.12 for s in BASE])
    assert result.state == State.NO_GO
    [reason] = result.reasons
    assert reason.message.startswith(f"perf/startup: startup_s in {LINUX} against the baseline, budget +5 %: "
                                     "median 1 -> 1.12 (+12.0 %; Hodges-Lehmann change +12.0 %, 95 % interval +")
    assert reason.message.endswith("the whole interval is above +5 %: exceeds the budget")


def test_a_straddling_interval_is_inconclusive_with_the_samples_that_would_settle_it() -> None:
    result = relative(NOISY, [s * 1.035 for s in NOISY])
    assert result.state == State.GO
    [claim] = result.by_effect(Effect.INCONCLUSIVE)
    assert "the 95 % interval straddles +5 %; about " in claim.message
    change = result.measurements[0].change
    assert change is not None and change.status == "inconclusive"
    assert change.samples_needed is not None and change.samples_needed > 15
    assert f"about {change.samples_needed} samples per run would settle it" in claim.message
    required = relative(NOISY, [s * 1.035 for s in NOISY], extra="required = true\n")
    assert required.state == State.INCOMPLETE


def test_more_samples_settle_what_fewer_left_inconclusive() -> None:
    base = NOISY * 6
    change = statistics.measured_change(base, [s * 1.035 for s in base], 5.0)
    assert change.status == "pass"


def test_a_different_machine_makes_the_relative_claim_inconclusive_saying_why() -> None:
    result = relative(BASE, [s * 1.5 for s in BASE], cpu="Other CPU")
    assert result.state == State.GO
    [claim] = result.by_effect(Effect.INCONCLUSIVE)
    assert claim.message == (f"perf/startup: startup_s in {LINUX} against the baseline, budget +5 %: the baseline "
                             "was measured on another machine (fingerprint differs: cpu 'Test CPU' in the "
                             "baseline, 'Other CPU' now)")


def test_every_measurement_in_both_runs_gets_its_change_without_a_budget() -> None:
    result = decide_against(doc([perf(BASE)], run_id="old"), doc([perf([s * 1.2 for s in BASE])]), "")
    [note] = [f for f in result.findings if f.kind == "measured-change"]
    assert note.effect == Effect.INFO and "Hodges-Lehmann change +20.0 %" in note.message
    change = result.measurements[0].change
    assert change is not None and change.status == "measured" and change.ci_low_pct is not None


def test_an_absolute_budget_names_its_statistic() -> None:
    samples = [1.0] * 18 + [9.0, 9.5]
    rules = policy.parse_policy(_toml("[budgets.startup_s]\nmax = 5\nstatistic = \"p95\"\n"), "policy.toml")
    result = verdict.decide(merge.Matrix("run-1", {LINUX: doc([perf(samples)])}), rules, today=TODAY)
    assert [f.message for f in result.reasons] == [
        f"perf/startup: startup_s p95 9 s of 20 sample(s) in {LINUX} exceeds the budget of 5 s"]
    median = policy.parse_policy(_toml("[budgets.startup_s]\nmax = 5\n"), "policy.toml")
    assert verdict.decide(merge.Matrix("run-1", {LINUX: doc([perf(samples)])}), median, today=TODAY).state == State.GO


def test_a_misspelt_statistic_is_a_policy_error() -> None:
    with pytest.raises(PolicyError, match=r"budgets\.startup_s\.statistic: 'p59' is not a statistic a budget "
                                          r"can limit; did you mean 'p95'\?"):
        policy.parse_policy(_toml("[budgets.startup_s]\nmax = 5\nstatistic = \"p59\"\n"), "policy.toml")


def test_names_that_would_leave_the_baselines_folder_are_refused() -> None:
    for name in ("../x", "a/b", ".hidden", ""):
        with pytest.raises(UsageError, match="baseline name"):
            baseline.path_of(name)


POSITIVE = st.floats(min_value=0.01, max_value=100.0, allow_nan=False)


@settings(max_examples=60, deadline=None)
@given(st.lists(POSITIVE, min_size=5, max_size=20, unique=True), st.floats(min_value=-0.3, max_value=0.5))
def test_the_interval_holds_the_true_shift_of_clean_data(samples: List[float], shift: float) -> None:
    scaled = [s * (1 + shift) for s in reversed(samples)]
    result = statistics.ratio_interval(samples, scaled)
    assert result is not None
    estimate, low, high = result
    assert low is not None and high is not None
    assert estimate == pytest.approx(shift * 100, abs=1e-6)
    assert low - 1e-6 <= shift * 100 <= high + 1e-6


SAMPLES = st.lists(st.floats(min_value=0.0, max_value=1e6, allow_nan=False), min_size=1, max_size=25)


@settings(max_examples=150, deadline=None)
@given(SAMPLES, SAMPLES, st.one_of(st.none(), st.floats(min_value=0, max_value=100)),
       st.floats(min_value=0, max_value=10), st.booleans())
def test_any_samples_give_a_judgement_and_no_exception(base: List[float], now: List[float],
                                                       limit: Optional[float], min_effect: float,
                                                       same: bool) -> None:
    change = statistics.measured_change(base, now, limit, min_effect, same_machine=same)
    assert change.status in ("pass", "fail", "inconclusive", "measured")
    assert change.exceeds == (change.status == "fail")
    for value in (change.ci_low_pct, change.ci_high_pct, change.estimate_pct):
        assert value is None or math.isfinite(value)
    json.dumps(change.to_dict(), allow_nan=False)
    assert change.describe()


def test_validate_judges_its_run_against_a_saved_baseline(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from readiness.run.folder import RunFolder
    from readiness.run.options import ValidateOptions
    from readiness.run.validate import judge

    save(tmp_path, doc([check("a"), check("b")], run_id="old"))
    run_dir = tmp_path / "reports" / "runs" / "run-1"
    write(run_dir / "envs", doc([check("a"), check("b", "failed")]))
    code = judge(RunFolder(tmp_path / "reports", "run-1"), tmp_path, ValidateOptions(baseline="main"))
    assert code == 1
    data = json.loads((run_dir / "verdict.json").read_text(encoding="utf-8"))
    assert data["baseline"] == "main (run old)"
    assert [f["checks"] for f in data["findings"] if f["kind"] == "new-failure"] == [["b"]]
