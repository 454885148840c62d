"""`[tool.readiness]` fuzzed: valid tables load, every bad one is a PolicyError naming its key path.

Tables are written as a user writes them (TOML text in a pyproject.toml, read by `load_policy` and by
`readiness verdict --config`) and also handed to `parse_policy` as parsed; both must say the same.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import io
import math
import re
import sys
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple, Union

import pytest
from envdocs import check, env, write
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from readiness import cli
from readiness.judge import policy
from readiness.judge.settings import SERVICES
from readiness.model.document import Severity
from readiness.model.errors import PolicyError

# print_blob: a failure prints the @reproduce_failure line that replays it exactly.
FUZZ = settings(max_examples=200, deadline=None, print_blob=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
KeyPath = Tuple[Union[str, int], ...]

# --- TOML text, written the way a user would (quoted keys, inline values, section headers) ------


def toml_string(text: str) -> str:
    escaped = {'"': '\\"', "\\": "\\\\"}
    out = (escaped.get(c) or (f"\\u{ord(c):04x}" if ord(c) < 0x20 or ord(c) == 0x7F else c) for c in text)
    return '"' + "".join(out) + '"'


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return "nan" if math.isnan(value) else {math.inf: "inf", -math.inf: "-inf"}.get(value, repr(value))
    if isinstance(value, str):
        return toml_string(value)
    if isinstance(value, (dt.date, dt.time)):  # datetime is a date
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    assert isinstance(value, dict)
    return "{" + ", ".join(f"{toml_string(k)} = {toml_value(v)}" for k, v in value.items()) + "}"


def pyproject(table: Dict[str, Any], sections: bool) -> str:
    """A pyproject.toml holding `table` as [tool.readiness]; with `sections`, sub-tables get headers."""
    head, tail = ['[project]\nname = "svc"\n\n[tool.readiness]'], []
    for key, value in table.items():
        name = f"tool.readiness.{toml_string(key)}"
        if sections and isinstance(value, dict):
            tail.append(f"\n[{name}]")
            tail += [f"{toml_string(k)} = {toml_value(v)}" for k, v in value.items()]
        elif sections and isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            for item in value:
                tail.append(f"\n[[{name}]]")
                tail += [f"{toml_string(k)} = {toml_value(v)}" for k, v in item.items()]
        else:
            head.append(f"{toml_string(key)} = {toml_value(value)}")
    return "\n".join(head + tail) + "\n"


# --- valid tables ----------------------------------------------------------------------------

SEVERITIES = [s.value for s in Severity]
texts = st.text(st.characters(codec="utf-8"), min_size=1, max_size=12).filter(str.strip)
names = st.one_of(st.sampled_from(["startup_s", "health", "ci"]),
                  st.from_regex(r"[a-z][a-z0-9_]{0,10}", fullmatch=True), texts)
text_lists = st.lists(texts, max_size=3)
numbers = st.one_of(st.integers(0, 10**9), st.floats(0, 1e12),
                    st.sampled_from([0, 5e-324, 2**63 - 1, 10**300, sys.float_info.max]))
dates = st.one_of(st.dates(), st.dates().map(dt.date.isoformat),
                  st.datetimes(timezones=st.sampled_from([None, dt.timezone.utc])))

budget_fields: Dict[str, st.SearchStrategy[Any]] = {
    "max": numbers, "max_increase_pct": numbers, "min_effect": numbers, "required": st.booleans(),
    "check": texts, "unit": texts, "statistic": st.sampled_from(["median", "p95"]),
}
budget = st.one_of(*(st.fixed_dictionaries({limit: numbers},
                                           optional={k: v for k, v in budget_fields.items() if k != limit})
                     for limit in ("max", "max_increase_pct")))
waiver = st.fixed_dictionaries({"check": texts, "reason": texts, "owner": texts, "expires": dates},
                               optional={"cells": text_lists})

SUB_TABLES: Dict[str, Dict[str, st.SearchStrategy[Any]]] = {
    "target": {"path": texts, "extras": text_lists, "dependency_groups": text_lists,
               "requirements": st.one_of(texts, text_lists), "constraints": texts, "name": texts,
               "editable": st.booleans()},
    "suite": {"path": texts, "pytest_args": text_lists},
    "wine": {"enabled": st.booleans(), "pythons": text_lists},
    "flaky": {"blocks": st.booleans(), "reruns": st.integers(0, 10)},
    "coverage": {"source": text_lists},
}
PROFILE_VALUES: Dict[str, st.SearchStrategy[Any]] = {
    "required_cells": text_lists, "required_checks": text_lists, "pythons": text_lists,
    "only_new_failures_block": st.booleans(), "accept_own_skips": st.booleans(),
    "cell_timeout": st.one_of(st.integers(1, 10**6), st.floats(1e-3, 1e9)),
    "severity": st.dictionaries(names, st.sampled_from(SEVERITIES), max_size=3),
    "budgets": st.dictionaries(names, budget, max_size=2),
    "waivers": st.lists(waiver, max_size=2),
    **{key: st.fixed_dictionaries({}, optional=fields) for key, fields in SUB_TABLES.items() if key != "coverage"},
    "coverage": st.fixed_dictionaries({"source": text_lists}),
    "services": st.lists(st.sampled_from(SERVICES), unique=True),
}
profile_tables = st.fixed_dictionaries({}, optional=PROFILE_VALUES)
valid_tables = st.fixed_dictionaries(
    {}, optional={**PROFILE_VALUES, "profiles": st.dictionaries(names, profile_tables, max_size=2)})

# Which keys each table allows, and what each leaf must be; the test's own statement of the format.
ALLOWED: Dict[str, Tuple[str, ...]] = {
    "top": (*PROFILE_VALUES, "profiles"), "profile": tuple(PROFILE_VALUES), "budget": tuple(budget_fields),
    "waiver": ("check", "reason", "owner", "expires", "cells"), **{k: tuple(v) for k, v in SUB_TABLES.items()},
}
NAME, APPEND = "<name>", "<append>"  # a key drawn at random; the next index of an array
SUB_KINDS = {"path": "text", "extras": "texts", "dependency_groups": "texts", "requirements": "text or texts",
             "constraints": "text", "name": "text",
             "editable": "bool", "pytest_args": "texts", "enabled": "bool", "pythons": "texts", "blocks": "bool",
             "reruns": "count", "source": "texts"}
# (the table that holds the leaf, the leaf's key, what the leaf must be)
LEAVES: List[Tuple[str, str, str]] = [
    ("top", "required_cells", "texts"), ("top", "required_checks", "texts"), ("top", "pythons", "texts"),
    ("top", "only_new_failures_block", "bool"), ("top", "cell_timeout", "timeout"), ("top", "severity", "table"),
    ("top", "services", "services"), ("top", "accept_own_skips", "bool"),
    ("top", "budgets", "table"), ("top", "waivers", "array of tables"), ("severity", NAME, "severity"),
    ("budgets", NAME, "table"), ("waivers", APPEND, "table"),
    *(("budget", key, kind) for key, kind in [
        ("max", "number"), ("max_increase_pct", "number"), ("min_effect", "number"), ("required", "bool"),
        ("check", "text"), ("unit", "text"), ("statistic", "statistic")]),
    *(("waiver", key, kind) for key, kind in [
        ("check", "text"), ("reason", "text"), ("owner", "text"), ("expires", "date"), ("cells", "texts")]),
    *(("top", table, "table") for table in SUB_TABLES),
    *((table, key, SUB_KINDS[key]) for table, fields in SUB_TABLES.items() for key in fields),
]
TOP_ONLY: List[Tuple[str, str, str]] = [("top", "profiles", "table"), ("profiles", NAME, "table")]


def accepts(kind: str, value: Any) -> bool:
    """Whether the format allows `value` where a `kind` is expected."""
    real = isinstance(value, (int, float)) and not isinstance(value, bool)
    rules: Dict[str, Callable[[], bool]] = {
        "text": lambda: isinstance(value, str) and bool(value.strip()),
        "texts": lambda: isinstance(value, list) and all(accepts("text", v) for v in value),
        "text or texts": lambda: accepts("text", value) or accepts("texts", value),
        "services": lambda: isinstance(value, list) and all(isinstance(v, str) and v in SERVICES for v in value),
        "bool": lambda: isinstance(value, bool),
        # As the loader: an integer is compared exactly (no float of it is made, so a huge one is
        # simply too large), a float must be finite; both between 0 and the largest float.
        "number": lambda: real and (isinstance(value, int) or math.isfinite(value))
        and 0 <= value <= sys.float_info.max,
        "timeout": lambda: accepts("number", value) and value > 0,
        "count": lambda: isinstance(value, int) and not isinstance(value, bool) and value >= 0,
        "date": lambda: isinstance(value, dt.date) or (isinstance(value, str) and _iso_date(value)),
        "severity": lambda: isinstance(value, str) and value in SEVERITIES,
        "statistic": lambda: isinstance(value, str) and value in ("median", "p95"),
        "table": lambda: isinstance(value, dict),
        "array of tables": lambda: isinstance(value, list),
    }
    return rules[kind]()


def _iso_date(text: str) -> bool:
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        return False
    return True


# --- bad values: every TOML type, and the edges of the right one ----------------------------

scalars = st.one_of(
    st.text(max_size=8), st.integers(-(2**63), 2**63 - 1), st.floats(), st.booleans(), st.dates(),
    st.datetimes(), st.times(), st.just(""), st.just("   "), st.just("\u3000\t"), st.text(min_size=2000, max_size=3000),
    st.sampled_from([-1, -1e-300, 2**63 - 1, 10**400, -(10**400), math.nan, math.inf, -math.inf, 1e308 * 10, -0.0]),
)
toml_values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(texts, inner, max_size=3),
    st.lists(st.dictionaries(texts, inner, max_size=2), min_size=1, max_size=2)), max_leaves=8)


def nested(depth: int, leaf: Any, as_table: bool) -> Any:
    for _ in range(depth):
        leaf = {"a": leaf} if as_table else [leaf]
    return leaf


deep_values = st.builds(nested, st.integers(1, 60), scalars, st.booleans())
EDGES = {  # values next to the right ones
    "text": st.sampled_from(["", " ", "\n\t", "\u3000"]),
    "number": st.sampled_from([-1, -0.5, math.nan, math.inf, -math.inf, 10**309, 2**1024]),
    "timeout": st.sampled_from([0, 0.0, -0.0, -3, math.inf, math.nan]),
    "count": st.sampled_from([-1, 1.5, 2.0]),
    "date": st.sampled_from(["soon", "2026-02-30", "2026-13-01", ""]) | st.times(),
    "severity": st.sampled_from(["blocker", "Major", "", "critcal"]),
    "statistic": st.sampled_from(["p99", "mean", "Median", ""]),
}


def wrong(kind: str) -> st.SearchStrategy[Tuple[Any, str]]:
    """A value `kind` does not accept, and the suffix its error path gets (an array element's index)."""
    arrays = ("texts", "text or texts", "services")  # a fault inside the array is named by its index
    whole = st.one_of(toml_values, deep_values, *([EDGES[kind]] if kind in EDGES else [])).filter(
        lambda v: not accepts(kind, v) and not (kind in arrays and isinstance(v, list))).map(lambda v: (v, ""))
    if kind not in arrays:
        return whole
    bad_item = wrong("text").map(lambda pair: pair[0])
    good = text_lists
    if kind == "services":
        bad_item = bad_item | st.sampled_from(["Redis", "postgres", "redis-server"])
        good = st.lists(st.sampled_from(SERVICES), max_size=1)
    element = st.tuples(good, bad_item, good).map(lambda t: ([*t[0], t[1], *t[2]], f"[{len(t[0])}]"))
    return st.one_of(whole, element)


# --- mutants: a valid table with one fault at a known key path -------------------------------


def segment(name: str) -> str:
    """A key as messages show it in a path: bare when TOML allows, else quoted with escapes."""
    return name if re.fullmatch(r"[A-Za-z0-9_-]+", name) else repr(name)


def path_text(path: KeyPath) -> str:
    return "[tool.readiness]" + "".join(f"[{p}]" if isinstance(p, int) else f".{segment(p)}" for p in path)


def holder(draw: Callable[..., Any], table: Dict[str, Any], kind: str) -> Tuple[Any, KeyPath]:
    """The table (or array) in `table` that holds a leaf of `kind`, made valid around it, and its path."""
    if kind == "top":
        return table, ()
    if kind in ("severity", "budgets", "profiles", "waivers"):
        empty: Any = [] if kind == "waivers" else {}
        table[kind] = table[kind] if isinstance(table.get(kind), type(empty)) else empty
        return table[kind], (kind,)
    if kind == "budget":
        budgets, path = holder(draw, table, "budgets")
        name = draw(names)
        budgets[name] = dict(draw(budget))
        return budgets[name], (*path, name)
    if kind == "waiver":
        waivers, path = holder(draw, table, "waivers")
        waivers.append(dict(draw(waiver)))
        return waivers[-1], (*path, len(waivers) - 1)
    table[kind] = dict(draw(PROFILE_VALUES[kind]))
    return table[kind], (kind,)


def put(draw: Callable[..., Any], parent: Any, key: str, value: Any) -> Union[str, int]:
    """Set `key` (or a drawn name, or the next index) of `parent` to `value`; return the key used."""
    if key == APPEND:
        parent.append(value)
        return len(parent) - 1
    key = draw(names) if key == NAME else key
    parent[key] = value
    return key


@st.composite
def bad_tables(draw: Callable[..., Any]) -> Tuple[Dict[str, Any], str, Optional[str]]:
    """A table with one fault, the key path its message must start with, and the profile to load (if any)."""
    table = dict(draw(valid_tables))
    target, profile = table, None
    scope: KeyPath = ()
    if draw(st.booleans()):  # the fault sits in a profile, which is checked whether chosen or not
        name = draw(names)
        table["profiles"] = {**table.get("profiles", {}), name: dict(draw(profile_tables))}
        target, scope = table["profiles"][name], ("profiles", name)
        profile = draw(st.sampled_from([None, name]))
    fault = draw(st.sampled_from(["wrong value", "unknown key", "missing key"]))
    if fault == "wrong value":
        kind, key, expected = draw(st.sampled_from(LEAVES + ([] if scope else TOP_ONLY)))
        parent, path = holder(draw, target, kind)
        value, suffix = draw(wrong(expected))
        used = put(draw, parent, key, value)
        return table, f"{path_text((*scope, *path, used))}{suffix}: ", profile
    if fault == "unknown key":
        kind = draw(st.sampled_from(["top", "budget", "waiver", *SUB_TABLES]))
        parent, path = holder(draw, target, kind)
        known = ALLOWED["profile" if scope and kind == "top" else kind]
        key = draw(st.one_of(st.sampled_from(known).flatmap(typos), texts).filter(lambda k: k not in known))
        parent[key] = draw(toml_values)
        return table, f"{path_text((*scope, *path))}: unknown key {key!r}", profile
    kind = draw(st.sampled_from(["waiver", "coverage", "budget"]))
    parent, path = holder(draw, target, kind)
    if kind == "budget":
        parent.pop("max", None)
        parent.pop("max_increase_pct", None)
        return table, f"{path_text((*scope, *path))}: give max", profile
    missing = "source" if kind == "coverage" else draw(st.sampled_from(["check", "reason", "owner", "expires"]))
    del parent[missing]
    return table, f"{path_text((*scope, *path, missing))}: is required", profile


def typos(word: str) -> st.SearchStrategy[str]:
    """One slip of the keyboard: a character dropped, doubled, swapped or replaced."""
    def slip(index: int, how: int, char: str) -> str:
        i = index % len(word)
        return [word[:i] + word[i + 1:], word[:i] + word[i] + word[i:], word[:i] + char + word[i + 1:],
                word[:i] + word[i + 1:i + 2] + word[i] + word[i + 2:]][how]
    return st.builds(slip, st.integers(0, 99), st.integers(0, 3), st.sampled_from("abcdefghijklmnopqrstuvwxyz_"))


# --- the tests -----------------------------------------------------------------------------


@pytest.fixture
def docs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A run's env documents for `readiness verdict`, in a folder of their own."""
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "envs"
    folder.mkdir()
    write(folder, env("linux-x86_64-cpython3.12", [check("health", measurements={"startup_s": [0.2, 0.3, 0.25]}),
                                                   check("db", "failed")]))
    return folder


def verdict(docs: Path, config: Path, *extra: str) -> Tuple[int, str]:
    """`readiness verdict DOCS --config CONFIG`: its exit code and what it wrote to stderr."""
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = cli.main(["verdict", str(docs), "--config", str(config), *extra])
    return code, err.getvalue()


def test_the_fuzzer_knows_every_policy_key() -> None:
    with pytest.raises(PolicyError, match=r"\(known: ") as raised:
        policy.parse_policy({"\x00": 1}, "pyproject.toml")
    known = re.search(r"\(known: (.*)\)$", str(raised.value))
    assert known and set(known.group(1).split(", ")) == set(ALLOWED["top"])


NUMERIC_LEAVES: Dict[str, Callable[[Any], Dict[str, Any]]] = {
    "number": lambda v: {"budgets": {"x": {"max": v}}}, "timeout": lambda v: {"cell_timeout": v},
    "count": lambda v: {"flaky": {"reruns": v}}}
BIGGEST = int(sys.float_info.max)  # the largest integer a float holds exactly


@FUZZ
@given(kind=st.sampled_from(sorted(NUMERIC_LEAVES)), value=st.one_of(
    scalars, st.integers(-(2**1100), 2**1100), st.integers(BIGGEST - 2**970, BIGGEST + 2**970)))
@example(kind="number", value=10**400)  # once an OverflowError in the oracle itself, not an answer
@example(kind="timeout", value=2**1024)
@example(kind="number", value=BIGGEST)
@example(kind="number", value=BIGGEST + 1)
def test_the_oracle_agrees_with_the_loader_on_numbers(kind: str, value: Any) -> None:
    """`accepts` decides the expected outcome of every mutant: it must answer, and answer as the loader does."""
    try:
        policy.parse_policy(NUMERIC_LEAVES[kind](value), "pyproject.toml")
    except PolicyError:
        loaded = False
    else:
        loaded = True
    assert accepts(kind, value) == loaded


@FUZZ
@given(table=valid_tables, sections=st.booleans(), data=st.data())
def test_valid_tables_load_from_the_file_and_as_a_table(docs: Path, table: Dict[str, Any], sections: bool,
                                                        data: st.DataObject) -> None:
    config = docs.parent / "pyproject.toml"
    config.write_text(pyproject(table, sections), encoding="utf-8")
    profile = data.draw(st.sampled_from([None, *table.get("profiles", {})]), label="profile")
    rules = policy.load_policy(str(config), profile)
    # The file also has a [project] table, which names the target in reports; the rest is the same.
    assert rules.project.name == "svc"
    assert dataclasses.replace(rules, project=policy.ProjectSettings()) == policy.parse_policy(
        table, config.as_posix(), profile)
    chosen = {**table, **(table["profiles"][profile] if profile is not None else {})}
    assert rules.profiles == tuple(sorted(table.get("profiles", {}))) and not rules.is_default
    assert rules.required_checks == tuple(chosen.get("required_checks", ()))
    assert [b.measurement for b in rules.budgets] == list(chosen.get("budgets", {}))
    assert [w.owner for w in rules.waivers] == [w["owner"] for w in chosen.get("waivers", [])]
    code, err = verdict(docs, config, *([f"--profile={profile}"] if profile is not None else []))
    assert code in (0, 1, 3) and "Traceback" not in err and "error" not in err


@FUZZ
@given(bad=bad_tables(), sections=st.booleans())
@example(bad=({"budgets": {"startup_s": {"max": 10**400}}}, "[tool.readiness].budgets.startup_s.max: ", None),
         sections=True)
@example(bad=({"cell_timeout": math.nan}, "[tool.readiness].cell_timeout: ", None), sections=False)
@example(bad=({"profiles": {"ci": {"pythons": [3.12]}}}, "[tool.readiness].profiles.ci.pythons[0]: ", "ci"),
         sections=True)
@example(bad=({"budgets": {"\x1b[2J": {}}}, r"[tool.readiness].budgets.'\x1b[2J': give max", None),
         sections=False)
@example(bad=({"waivers": [{"check": "a", "reason": "r", "expires": dt.date(2030, 1, 1)}]},
              "[tool.readiness].waivers[0].owner: is required", None), sections=True)
def test_every_bad_table_is_refused_with_its_key_path(docs: Path, bad: Tuple[Dict[str, Any], str, Optional[str]],
                                                      sections: bool) -> None:
    table, key_path, profile = bad
    config = docs.parent / "pyproject.toml"
    config.write_text(pyproject(table, sections), encoding="utf-8")
    with pytest.raises(PolicyError) as from_file:
        policy.load_policy(str(config), profile)
    with pytest.raises(PolicyError) as from_table:
        policy.parse_policy(table, config.as_posix(), profile)
    message = str(from_file.value)
    assert message == str(from_table.value)
    assert message.startswith(f"{config.as_posix()} {key_path}"), message
    assert "\x1b" not in message and len(message) < 600 + len(config.as_posix()) + len(key_path)
    code, err = verdict(docs, config, *([f"--profile={profile}"] if profile is not None else []))
    assert (code, err) == (2, f"readiness: error: {message}\n")


RAW_FAULTS = [
    (b"\xff\xfe[tool.readiness]\n", r": not UTF-8 text \(byte 0\)$"),
    (b'[tool.readiness]\npythons = ["3.12\xe9"]\n', r": not UTF-8 text \(byte 33\)$"),
    (b"tool = 1\n", r": tool must be a table, found an integer$"),
    (b"[tool]\nreadiness = 'strict'\n", r": tool.readiness must be a table, found a string$"),
    (b"[project]\n[tool]\nreadiness = []\n", r": tool.readiness must be a table, found an array$"),
    (b"[tool.readiness]\ncell_timeout = " + b"9" * 5000 + b"\n", r": not valid TOML: Exceeds the limit"),
    (b"[tool.readiness]\nseverity = " + b"{a = " * 2000 + b"1" + b"}" * 2000 + b"\n", r": not valid TOML: .*too deep"),
    (b"[tool.readiness]\npythons = " + b"[" * 2000 + b"]" * 2000 + b"\n", r": not valid TOML: .*too deep"),
    (b"[tool.readiness]\ncell_timeout." + b".".join([b"a"] * 5000) + b" = 1\n",
     r" \[tool.readiness\].cell_timeout: expected a number of at least 0, found a table$"),
    (b"[tool.readiness]\nbudgets.x.max = 1e999\n", r"\.budgets\.x\.max: expected a finite number .*, found inf$"),
    (b"[tool.readiness]\nwaivers = [{expires = 23:59:59}]\n", r"\.waivers\[0\]\.check: is required"),
    (b"[tool.readiness]\nseverity = {db = ['major']}\n", r"\.severity\.db: an array is not a severity \(known: "),
    (b"[tool.readiness]\ntarget.path = '" + b" " * 5000 + b"'\n",
     r"\.target\.path: expected a non-empty string, found '  +\.\.\.' \(5000 characters\)$"),
]


@FUZZ
@given(table=valid_tables | bad_tables().map(lambda bad: bad[0]), edits=st.lists(
    st.tuples(st.integers(0, 10**6), st.binary(max_size=3), st.integers(0, 3)), min_size=1, max_size=4))
@example(table={}, edits=[(0, b"", 0)])
@example(table={"budgets": {"startup_s": {"max": 10**400}}, "cell_timeout": 2**1024}, edits=[(0, b"", 0)])
def test_any_bytes_in_a_pyproject_load_or_say_why(docs: Path, table: Dict[str, Any],
                                                  edits: List[Tuple[int, bytes, int]]) -> None:
    """Valid and bad tables with random bytes cut out or put in: a Policy or a PolicyError, never a crash."""
    raw = bytearray(pyproject(table, sections=True).encode("utf-8"))
    for at, insert, cut in edits:
        at %= len(raw) + 1
        raw[at:at + cut] = insert
    check_bytes(docs, bytes(raw))


@pytest.mark.parametrize(("raw", "problem"), RAW_FAULTS)
def test_unreadable_pyprojects_are_refused_without_a_traceback(docs: Path, raw: bytes, problem: str) -> None:
    message = check_bytes(docs, raw)
    assert message is not None and re.search(problem, message), message


def check_bytes(docs: Path, raw: bytes) -> Optional[str]:
    """Load a pyproject.toml of these bytes; a PolicyError must name the file and the CLI must exit 2 with it."""
    config = docs.parent / "pyproject.toml"
    config.write_bytes(raw)
    try:
        policy.load_policy(str(config))
    except PolicyError as exc:
        message = str(exc)
        assert message.startswith(f"{config.as_posix()}"), message
        assert verdict(docs, config) == (2, f"readiness: error: {message}\n")
        return message
    return None
