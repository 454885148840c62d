"""Secrets never reach what the plugin writes, nor what pytest prints, while ordinary facts stay."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import read_document

from readiness.cell.redact import MASK, Redactor, looks_secret

ENV_TOKEN = "tok-9f8e7d6c5b4a"
ENV_SECRET = 's3cr"et\\value-42'  # a quote and a backslash: its escaped forms differ
URL_PASSWORD = "url-pass-31337"
EVIDENCE_PASSWORD = "pw-evidence-777"
NESTED_PASSWORD = "nested-pw-888"
LOCAL_PASSWORD = "local-pw-999"
PLANTED = [ENV_TOKEN, ENV_SECRET, URL_PASSWORD, EVIDENCE_PASSWORD, NESTED_PASSWORD, LOCAL_PASSWORD]

SUITE = f"""
import os, sys

def test_evidence_keys_and_nested_values(evidence):
    evidence["secret_key_length"] = 69
    evidence["db_password"] = {EVIDENCE_PASSWORD!r}
    evidence["config"] = {{"redis": {{"password": {NESTED_PASSWORD!r}, "db": 3}}}}
    evidence["database_url"] = "postgres://admin:{URL_PASSWORD}@db:5432/app"
    evidence["seen_token"] = os.environ["DEMO_API_TOKEN"]

def test_assertion_text_and_showlocals():
    password = {LOCAL_PASSWORD!r}
    token = os.environ["DEMO_API_TOKEN"]
    assert token == password

def test_captured_output():
    print("connecting with", os.environ["DEMO_API_TOKEN"], os.environ["DEMO_SECRET"])
    print("dsn postgres://admin:{URL_PASSWORD}@db/app", file=sys.stderr)
    assert False, "see captured output"

def test_exception_arguments():
    raise RuntimeError(os.environ["DEMO_SECRET"], "postgres://admin:{URL_PASSWORD}@db/app")
"""


def _forms(secret: str) -> set[str]:
    return {secret, json.dumps(secret)[1:-1], repr(secret)[1:-1]}


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["serial", "xdist"])
def test_planted_secrets_reach_no_file_and_no_output(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, workers: list[str]
) -> None:
    monkeypatch.setenv("DEMO_API_TOKEN", ENV_TOKEN)
    monkeypatch.setenv("DEMO_SECRET", ENV_SECRET)
    monkeypatch.setenv("READINESS_PROGRESS", str(pytester.path / "out" / "progress.json"))
    pytester.makepyfile(test_suite=SUITE)
    result = pytester.runpytest("--showlocals", "-rA", "--readiness-out", "out", *workers)
    written = [p for p in (pytester.path / "out").rglob("*") if p.is_file()]
    assert len(written) == 2
    texts = {p.name: p.read_text(encoding="utf-8") for p in written}
    texts["terminal"] = result.stdout.str() + result.stderr.str()
    for name, text in texts.items():
        for secret in PLANTED:
            for form in _forms(secret):
                assert form not in text, f"{secret!r} leaked into {name} as {form!r}"
    doc = read_document(next(p for p in written if p.name != "progress.json"))
    evidence = {c["id"]: c for c in doc["checks"]}["test_suite.py::test_evidence_keys_and_nested_values"]["evidence"]
    assert evidence["secret_key_length"] == 69
    assert evidence["db_password"] == MASK
    assert evidence["config"] == {"redis": {"password": MASK, "db": 3}}
    assert evidence["database_url"] == f"postgres://admin:{MASK}@db:5432/app"
    assert MASK in texts["terminal"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("redis://:hunter22@localhost:6379/0", f"redis://:{MASK}@localhost:6379/0"),
        ("Authorization: Bearer abcdef123456", f"Authorization: {MASK}"),
        ("key ghp_abcdefghijklmnopqrstuvwxyz0123", f"key {MASK}"),
        ("aws AKIAABCDEFGHIJKLMNOP", f"aws {MASK}"),
        ("SECRET_KEY='s0mething-long'", f"SECRET_KEY='{MASK}'"),
        ("{'api_key': 'abcd1234'}", f"{{'api_key': '{MASK}'}}"),
        ("secret_key_length = 69", "secret_key_length = 69"),
        ("assert password == expected", "assert password == expected"),
        ("the author wrote a token_count of 5", "the author wrote a token_count of 5"),
        # Each shape in other cases and forms: the cheap test for a pattern's literal part before
        # running it must let every one through (case folding, and Unicode folding: U+017F is `s`).
        ("BEARER   abcdef123456 sent", f"{MASK} sent"),
        ("Password: hunter2222", f"Password: {MASK}"),
        ("\u017fecret_key = 'hunter22'", f"\u017fecret_key = '{MASK}'"),
        ("-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n-----END OPENSSH PRIVATE KEY-----", MASK),
        ("slack xoxb-1234567890-abc", f"slack {MASK}"),
        ("sk-abcdefghijklmnopqrstuvwx", MASK),
        ("jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.abc", f"jwt {MASK}"),
        ("PAT github_pat_ABCDEFGHIJKLMNOPQRSTUV_1", f"PAT {MASK}"),
        ("test_check[123]", "test_check[123]"),
    ],
)
def test_text_redaction(text: str, expected: str) -> None:
    assert Redactor().text(text) == expected


def test_environment_values_are_known_secrets_but_switches_and_paths_are_not() -> None:
    redactor = Redactor.from_environment(
        {"APP_TOKEN": "abc-123-xyz", "TOKENIZERS_PARALLELISM": "false",
         "GOOGLE_APPLICATION_CREDENTIALS": "/etc/creds.json", "PWD": "/work", "HOME": "/root"}
    )
    assert redactor.text("got abc-123-xyz, false, /etc/creds.json in /work") == (
        f"got {MASK}, false, /etc/creds.json in /work"
    )


@pytest.mark.parametrize(
    ("name", "secret"),
    [("password", True), ("DB_PASSWORD", True), ("api_key", True), ("secret_key_length", False),
     ("token_present", False), ("author", False), ("AUTH_HEADER", False), ("auth_token", True),
     ("GPG_PASSPHRASE", True)],
)
def test_which_names_look_secret(name: str, secret: bool) -> None:
    assert looks_secret(name) is secret


def test_evidence_values_under_secret_keys_are_masked_everywhere_after() -> None:
    redactor = Redactor()
    assert redactor.value({"password": "p4ssw0rd!", "sizes": [1, 2]}) == {"password": MASK, "sizes": [1, 2]}
    assert redactor.text("login with p4ssw0rd! failed") == f"login with {MASK} failed"


def test_redaction_leaves_a_file_path_of_the_suite_alone(tmp_path: Path) -> None:
    assert Redactor().text(f"{tmp_path}/test_x.py:3: AssertionError") == f"{tmp_path}/test_x.py:3: AssertionError"
