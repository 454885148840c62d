"""readiness-demo: a small ASGI service (sessions, WebSocket, Redis, SQL, token auth)."""

__version__ = "0.1.0"

from readiness_demo.app import create_app, openapi_document
from readiness_demo.auth import Claims, TokenError, TokenSigner
from readiness_demo.database import Database, Note, load_database_module, open_database
from readiness_demo.loop_policy import configure_event_loop_policy
from readiness_demo.settings import Settings, SettingsError, load_settings
from readiness_demo.store import RedisStore
from readiness_demo.websocket import ConnectionManager

__all__ = [
    "Claims",
    "ConnectionManager",
    "Database",
    "Note",
    "RedisStore",
    "Settings",
    "SettingsError",
    "TokenError",
    "TokenSigner",
    "__version__",
    "configure_event_loop_policy",
    "create_app",
    "load_database_module",
    "load_settings",
    "open_database",
    "openapi_document",
]
