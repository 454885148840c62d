"""Settings are read per environment and refused with a message naming the variable."""

from __future__ import annotations

from pathlib import Path

import pytest
from readiness_demo import Settings, SettingsError, load_settings

STRONG_SECRET = "p" * 48


def test_development_defaults_need_no_environment() -> None:
    settings = load_settings({})
    assert settings.environment == "development"
    assert settings.session_same_site == "lax"
    assert settings.session_https_only is False
    assert settings.database_url.startswith("sqlite:///")
    assert settings.redis_url is None


def test_production_reads_every_variable() -> None:
    settings = load_settings(
        {
            "READINESS_DEMO_ENV": "production",
            "SECRET_KEY": STRONG_SECRET,
            "SESSION_SAME_SITE": "Strict",
            "DATABASE_URL": "sqlite:///:memory:",
            "REDIS_URL": "redis://127.0.0.1:6390/2",
        }
    )
    assert settings.environment == "production"
    assert settings.session_same_site == "strict"
    assert settings.session_https_only is True
    assert settings.database_url == "sqlite:///:memory:"
    assert settings.redis_url == "redis://127.0.0.1:6390/2"


def test_production_refuses_a_short_secret() -> None:
    with pytest.raises(SettingsError, match="SECRET_KEY is too short for production: 5 characters"):
        load_settings({"READINESS_DEMO_ENV": "production", "SECRET_KEY": "short"})


def test_production_refuses_a_missing_secret() -> None:
    with pytest.raises(SettingsError, match="SECRET_KEY is too short"):
        load_settings({"READINESS_DEMO_ENV": "production"})


def test_production_refuses_plain_http_cookies() -> None:
    with pytest.raises(SettingsError, match="SESSION_HTTPS_ONLY must be true in production"):
        load_settings(
            {
                "READINESS_DEMO_ENV": "production",
                "SECRET_KEY": STRONG_SECRET,
                "SESSION_HTTPS_ONLY": "false",
            }
        )


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"READINESS_DEMO_ENV": "staging"}, "READINESS_DEMO_ENV='staging' is not one of"),
        ({"SESSION_SAME_SITE": "sometimes"}, "SESSION_SAME_SITE='sometimes' is not one of"),
        ({"SESSION_SAME_SITE": "none"}, "SESSION_SAME_SITE=none needs SESSION_HTTPS_ONLY=true"),
        ({"SESSION_HTTPS_ONLY": "maybe"}, "SESSION_HTTPS_ONLY='maybe' is not a boolean"),
        ({"TOKEN_TTL_S": "soon"}, "TOKEN_TTL_S='soon' is not an integer"),
        ({"TOKEN_TTL_S": "0"}, "TOKEN_TTL_S must be positive"),
    ],
)
def test_invalid_values_name_the_variable(environ: dict, message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        load_settings(environ)


def test_default_database_is_a_sqlite_file_per_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    settings = load_settings({"READINESS_DEMO_ENV": "testing"})
    assert (
        settings.database_url
        == f"sqlite:///{(tmp_path / 'readiness-demo-testing.sqlite3').as_posix()}"
    )


def test_settings_built_directly_are_validated_too() -> None:
    with pytest.raises(SettingsError, match="too short"):
        Settings(environment="production", secret_key="x", session_https_only=True)
