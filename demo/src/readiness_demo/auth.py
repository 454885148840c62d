"""Expiring bearer tokens signed with HMAC-SHA256 (standard library only)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from typing import Optional


class TokenError(ValueError):
    """A token was rejected; the message says why (malformed, bad signature, expired)."""


@dataclass(frozen=True)
class Claims:
    """What a verified token asserts."""

    subject: str
    expires_at: int


class TokenSigner:
    """Issues and verifies tokens of the form `payload.signature`, both base64url."""

    def __init__(self, secret: str, ttl_s: int = 3600) -> None:
        if not secret:
            raise ValueError("a token signer needs a non-empty secret")
        self._key = secret.encode("utf-8")
        self.ttl_s = ttl_s

    def issue(self, subject: str, now: Optional[float] = None) -> str:
        """A token for `subject` that expires `ttl_s` seconds after `now`."""
        issued = time.time() if now is None else now
        payload = json.dumps({"sub": subject, "exp": int(issued) + self.ttl_s}, sort_keys=True)
        body = _encode(payload.encode("utf-8"))
        return f"{body}.{self._sign(body)}"

    def verify(self, token: str, now: Optional[float] = None) -> Claims:
        """The claims of a valid token; TokenError for anything else."""
        body, _, signature = token.partition(".")
        if not body or not signature:
            raise TokenError("malformed token: expected payload.signature")
        if not hmac.compare_digest(signature, self._sign(body)):
            raise TokenError("bad token signature")
        claims = _decode_claims(body)
        if claims.expires_at <= (time.time() if now is None else now):
            raise TokenError("token expired")
        return claims

    def _sign(self, body: str) -> str:
        return _encode(hmac.new(self._key, body.encode("ascii"), hashlib.sha256).digest())


def _encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _decode_claims(body: str) -> Claims:
    try:
        raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        data = json.loads(raw.decode("utf-8"))
        return Claims(subject=str(data["sub"]), expires_at=int(data["exp"]))
    except (ValueError, KeyError, TypeError) as exc:
        raise TokenError(f"malformed token payload: {exc}") from None
