"""Tokens verify while fresh and untouched, and are rejected otherwise."""

from __future__ import annotations

import pytest
from readiness_demo import TokenError, TokenSigner

NOW = 1_700_000_000.0


def test_an_issued_token_verifies_to_its_subject() -> None:
    signer = TokenSigner("a-secret-for-tokens", ttl_s=60)
    claims = signer.verify(signer.issue("ada", now=NOW), now=NOW + 1)
    assert claims.subject == "ada"
    assert claims.expires_at == int(NOW) + 60


def test_an_expired_token_is_rejected() -> None:
    signer = TokenSigner("a-secret-for-tokens", ttl_s=60)
    token = signer.issue("ada", now=NOW)
    with pytest.raises(TokenError, match="token expired"):
        signer.verify(token, now=NOW + 60)


def test_a_token_signed_with_another_secret_is_rejected() -> None:
    token = TokenSigner("secret-one").issue("ada")
    with pytest.raises(TokenError, match="bad token signature"):
        TokenSigner("secret-two").verify(token)


def test_a_tampered_payload_is_rejected() -> None:
    signer = TokenSigner("a-secret-for-tokens")
    body, _, signature = signer.issue("ada").partition(".")
    forged = TokenSigner("a-secret-for-tokens").issue("eve").partition(".")[0]
    assert forged != body
    with pytest.raises(TokenError, match="bad token signature"):
        signer.verify(f"{forged}.{signature}")


@pytest.mark.parametrize("token", ["", "no-dot", ".sig", "body."])
def test_malformed_tokens_are_rejected(token: str) -> None:
    with pytest.raises(TokenError, match="malformed token"):
        TokenSigner("a-secret-for-tokens").verify(token)


def test_a_signer_needs_a_secret() -> None:
    with pytest.raises(ValueError, match="non-empty secret"):
        TokenSigner("")
