"""The Redis store's rules that hold without a server (the round trip is an integration check)."""

from __future__ import annotations

import pytest
from readiness_demo import RedisStore
from readiness_demo.store import _escape_glob


def test_a_store_without_prefix_is_refused() -> None:
    with pytest.raises(ValueError, match="key prefix is required"):
        RedisStore.from_url("redis://127.0.0.1:1/0", prefix="")


def test_keys_are_namespaced_under_the_prefix() -> None:
    store = RedisStore.from_url("redis://127.0.0.1:1/0", prefix="cell-a:")
    try:
        assert store._key("cache", "greeting") == "cell-a:cache:greeting"
        assert store._key("session", "s1") == "cell-a:session:s1"
    finally:
        store.close()


@pytest.mark.parametrize(
    ("prefix", "pattern"),
    [("plain:", "plain:"), ("a*b?", "a\\*b\\?"), ("[x]\\", "\\[x\\]\\\\")],
)
def test_prefix_glob_characters_are_escaped(prefix: str, pattern: str) -> None:
    assert _escape_glob(prefix) == pattern
