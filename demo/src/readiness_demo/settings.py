"""Service configuration: read from the environment per environment name, validated at the edge."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Optional

ENVIRONMENTS = ("development", "testing", "production")
SAME_SITE_VALUES = ("lax", "strict", "none")
MIN_PRODUCTION_SECRET_LENGTH = 32
DEFAULT_DATABASE_MODULE = "readiness_demo.database"

# Well-known secrets that are acceptable only where nothing real is protected.
_LOCAL_SECRETS = {
    "development": "development-secret-key-not-for-production-use",
    "testing": "testing-secret-key-not-for-production-use-0123456789",
}


class SettingsError(ValueError):
    """The environment does not describe a valid configuration; the message names the variable."""


@dataclass(frozen=True)
class Settings:
    """Everything the service reads from its environment."""

    environment: str = "development"
    secret_key: str = _LOCAL_SECRETS["development"]
    session_same_site: str = "lax"
    session_https_only: bool = False
    database_url: str = ""
    database_module: str = DEFAULT_DATABASE_MODULE
    redis_url: Optional[str] = None
    redis_key_prefix: str = "readiness-demo:"
    token_ttl_s: int = 3600

    def __post_init__(self) -> None:
        validate(self)


def validate(settings: Settings) -> None:
    """Raise SettingsError for the first setting that cannot work in its environment."""
    if settings.environment not in ENVIRONMENTS:
        raise SettingsError(
            f"READINESS_DEMO_ENV={settings.environment!r} is not one of {', '.join(ENVIRONMENTS)}"
        )
    if settings.session_same_site not in SAME_SITE_VALUES:
        raise SettingsError(
            f"SESSION_SAME_SITE={settings.session_same_site!r} is not one of "
            f"{', '.join(SAME_SITE_VALUES)}"
        )
    if settings.session_same_site == "none" and not settings.session_https_only:
        raise SettingsError("SESSION_SAME_SITE=none needs SESSION_HTTPS_ONLY=true")
    if settings.token_ttl_s <= 0:
        raise SettingsError(f"TOKEN_TTL_S must be positive, got {settings.token_ttl_s}")
    if settings.environment == "production":
        _validate_production(settings)


def _validate_production(settings: Settings) -> None:
    if len(settings.secret_key) < MIN_PRODUCTION_SECRET_LENGTH:
        raise SettingsError(
            f"SECRET_KEY is too short for production: {len(settings.secret_key)} characters, "
            f"at least {MIN_PRODUCTION_SECRET_LENGTH} needed"
        )
    if settings.secret_key in _LOCAL_SECRETS.values():
        raise SettingsError("SECRET_KEY in production must not be a development or testing default")
    if not settings.session_https_only:
        raise SettingsError("SESSION_HTTPS_ONLY must be true in production")


def load_settings(environ: Optional[Mapping[str, str]] = None) -> Settings:
    """Build Settings from environment variables (os.environ unless a mapping is given)."""
    env = os.environ if environ is None else environ
    name = env.get("READINESS_DEMO_ENV", "development").strip().lower()
    secret = env.get("SECRET_KEY") or _LOCAL_SECRETS.get(name, "")
    return Settings(
        environment=name,
        secret_key=secret,
        session_same_site=env.get("SESSION_SAME_SITE", "lax").strip().lower(),
        session_https_only=_flag(env, "SESSION_HTTPS_ONLY", default=name == "production"),
        database_url=env.get("DATABASE_URL") or default_database_url(name),
        database_module=env.get("READINESS_DEMO_DATABASE_MODULE", DEFAULT_DATABASE_MODULE),
        redis_url=env.get("REDIS_URL") or None,
        redis_key_prefix=env.get("REDIS_KEY_PREFIX", "readiness-demo:"),
        token_ttl_s=_integer(env, "TOKEN_TTL_S", default=3600),
    )


def default_database_url(environment: str) -> str:
    """A SQLite file in the working folder, one per environment name."""
    path = Path.cwd() / f"readiness-demo-{environment}.sqlite3"
    return f"sqlite:///{path.as_posix()}"


def _flag(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise SettingsError(f"{name}={raw!r} is not a boolean (use true or false)")


def _integer(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not an integer") from None
