"""Redis-backed cache and session store; every key lives under one prefix, so users never clash."""

from __future__ import annotations

import json
from typing import Any, Dict, Iterator, Optional, cast

import redis

JsonObject = Dict[str, Any]


class RedisStore:
    """A cache and a session store sharing one Redis connection and one key prefix."""

    def __init__(self, client: redis.Redis, prefix: str) -> None:
        if not prefix:
            raise ValueError("a key prefix is required: it keeps this store's keys apart")
        self.client = client
        self.prefix = prefix

    @classmethod
    def from_url(cls, url: str, prefix: str, timeout_s: float = 5.0) -> RedisStore:
        """A store on the server at `url` (redis://host:port/db); connects on first use."""
        client = redis.Redis.from_url(
            url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s
        )
        return cls(client, prefix)

    def ping(self) -> bool:
        """True when the server answers."""
        return bool(self.client.ping())

    def cache_set(self, key: str, value: str, ttl_s: Optional[int] = None) -> None:
        """Store a text value, expiring after `ttl_s` seconds when given."""
        self.client.set(self._key("cache", key), value.encode("utf-8"), ex=ttl_s)

    def cache_get(self, key: str) -> Optional[str]:
        """The cached text, or None when absent or expired."""
        raw = cast(Optional[bytes], self.client.get(self._key("cache", key)))
        return None if raw is None else raw.decode("utf-8")

    def save_session(self, session_id: str, data: JsonObject, ttl_s: int = 3600) -> None:
        """Keep a session's data as JSON for `ttl_s` seconds."""
        payload = json.dumps(data, sort_keys=True).encode("utf-8")
        self.client.set(self._key("session", session_id), payload, ex=ttl_s)

    def load_session(self, session_id: str) -> Optional[JsonObject]:
        """A session's data, or None when unknown or expired."""
        raw = cast(Optional[bytes], self.client.get(self._key("session", session_id)))
        return None if raw is None else cast(JsonObject, json.loads(raw.decode("utf-8")))

    def delete_session(self, session_id: str) -> None:
        """Forget a session."""
        self.client.delete(self._key("session", session_id))

    def own_keys(self) -> Iterator[bytes]:
        """Every key under this store's prefix (SCAN, so a large server is not blocked)."""
        pattern = _escape_glob(self.prefix) + "*"
        return cast(Iterator[bytes], self.client.scan_iter(match=pattern, count=500))

    def clear(self) -> int:
        """Delete this store's own keys and no others; returns how many went."""
        keys = list(self.own_keys())
        return cast(int, self.client.delete(*keys)) if keys else 0

    def close(self) -> None:
        """Release the connection pool."""
        self.client.close()

    def _key(self, kind: str, name: str) -> str:
        return f"{self.prefix}{kind}:{name}"


def _escape_glob(text: str) -> str:
    """Make a prefix literal inside a Redis MATCH pattern."""
    return "".join("\\" + ch if ch in "*?[]\\" else ch for ch in text)
