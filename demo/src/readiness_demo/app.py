"""The ASGI application: routes, session middleware, WebSocket, and the OpenAPI document."""

from __future__ import annotations

from typing import Any, Dict, List, Literal, Optional, cast

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.schemas import SchemaGenerator

from readiness_demo import __version__
from readiness_demo.auth import TokenError, TokenSigner
from readiness_demo.database import Database, open_database
from readiness_demo.loop_policy import configure_event_loop_policy
from readiness_demo.settings import Settings, load_settings
from readiness_demo.store import RedisStore
from readiness_demo.websocket import ConnectionManager, websocket_endpoint

SESSION_COOKIE = "readiness_demo_session"

schemas = SchemaGenerator(
    {"openapi": "3.0.3", "info": {"title": "readiness-demo", "version": __version__}}
)


def create_app(settings: Optional[Settings] = None) -> Starlette:
    """Build the service from settings (read from the environment when not given)."""
    settings = load_settings() if settings is None else settings
    loop_policy = configure_event_loop_policy()
    app = Starlette(routes=_routes(), middleware=[_session_middleware(settings)])
    app.state.settings = settings
    app.state.loop_policy = loop_policy
    app.state.connections = ConnectionManager()
    app.state.tokens = TokenSigner(settings.secret_key, settings.token_ttl_s)
    app.state.database = None
    app.state.store = _store(settings)
    return app


def _session_middleware(settings: Settings) -> Middleware:
    return Middleware(
        SessionMiddleware,
        secret_key=settings.secret_key,
        session_cookie=SESSION_COOKIE,
        same_site=cast(Literal["lax", "strict", "none"], settings.session_same_site),
        https_only=settings.session_https_only,
    )


def _store(settings: Settings) -> Optional[RedisStore]:
    if settings.redis_url is None:
        return None
    return RedisStore.from_url(settings.redis_url, settings.redis_key_prefix)


def _routes() -> List[BaseRoute]:
    return [
        Route("/health", health, methods=["GET"]),
        Route("/session", read_session, methods=["GET"]),
        Route("/session", write_session, methods=["POST"]),
        Route("/auth/token", issue_token, methods=["POST"]),
        Route("/me", me, methods=["GET"]),
        Route("/notes", add_note, methods=["POST"]),
        Route("/notes/{note_id:int}", get_note, methods=["GET"]),
        Route("/openapi.json", openapi, methods=["GET"], include_in_schema=False),
        WebSocketRoute("/ws", websocket_endpoint),
    ]


async def health(request: Request) -> Response:
    """
    responses:
      "200":
        description: The service is up.
        content:
          application/json:
            schema:
              type: object
              required: [status, environment]
              properties:
                status: {type: string}
                environment: {type: string}
    """
    settings: Settings = request.app.state.settings
    return JSONResponse({"status": "ok", "environment": settings.environment})


async def read_session(request: Request) -> Response:
    """
    responses:
      "200":
        description: The user remembered by the signed session cookie, if any.
        content:
          application/json:
            schema:
              type: object
              properties:
                user: {type: string, nullable: true}
    """
    return JSONResponse({"user": request.session.get("user")})


async def write_session(request: Request) -> Response:
    """
    requestBody:
      required: true
      content:
        application/json:
          schema:
            type: object
            required: [user]
            properties:
              user: {type: string}
    responses:
      "200":
        description: The user is stored in the signed session cookie.
        content:
          application/json:
            schema:
              type: object
              properties:
                user: {type: string}
      "422":
        description: The body has no user.
    """
    body = await _json_body(request)
    user = body.get("user")
    if not isinstance(user, str) or not user:
        return JSONResponse({"error": "user must be a non-empty string"}, status_code=422)
    request.session["user"] = user
    return JSONResponse({"user": user})


async def issue_token(request: Request) -> Response:
    """
    requestBody:
      required: true
      content:
        application/json:
          schema:
            type: object
            required: [subject]
            properties:
              subject: {type: string}
    responses:
      "200":
        description: A signed, expiring bearer token.
        content:
          application/json:
            schema:
              type: object
              required: [token, token_type]
              properties:
                token: {type: string}
                token_type: {type: string}
      "422":
        description: The body has no subject.
    """
    body = await _json_body(request)
    subject = body.get("subject")
    if not isinstance(subject, str) or not subject:
        return JSONResponse({"error": "subject must be a non-empty string"}, status_code=422)
    signer: TokenSigner = request.app.state.tokens
    return JSONResponse({"token": signer.issue(subject), "token_type": "bearer"})


async def me(request: Request) -> Response:
    """
    parameters:
      - name: Authorization
        in: header
        required: true
        schema: {type: string}
    responses:
      "200":
        description: The subject of a valid bearer token.
        content:
          application/json:
            schema:
              type: object
              required: [subject]
              properties:
                subject: {type: string}
      "401":
        description: Missing, malformed, forged or expired token.
    """
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        return JSONResponse({"error": "bearer token required"}, status_code=401)
    signer: TokenSigner = request.app.state.tokens
    try:
        claims = signer.verify(token)
    except TokenError as exc:
        return JSONResponse({"error": str(exc)}, status_code=401)
    return JSONResponse({"subject": claims.subject})


async def add_note(request: Request) -> Response:
    """
    requestBody:
      required: true
      content:
        application/json:
          schema:
            type: object
            required: [author, body]
            properties:
              author: {type: string}
              body: {type: string}
    responses:
      "201":
        description: The note is stored.
        content:
          application/json:
            schema:
              type: object
              required: [id]
              properties:
                id: {type: integer}
    """
    body = await _json_body(request)
    author, text = body.get("author"), body.get("body")
    if not isinstance(author, str) or not isinstance(text, str):
        return JSONResponse({"error": "author and body must be strings"}, status_code=422)
    note_id = _database(request).add_note(author, text)
    return JSONResponse({"id": note_id}, status_code=201)


async def get_note(request: Request) -> Response:
    """
    parameters:
      - name: note_id
        in: path
        required: true
        schema: {type: integer}
    responses:
      "200":
        description: The note.
        content:
          application/json:
            schema:
              type: object
              required: [id, author, body]
              properties:
                id: {type: integer}
                author: {type: string}
                body: {type: string}
      "404":
        description: No note has this id.
    """
    note = _database(request).get_note(request.path_params["note_id"])
    if note is None:
        return JSONResponse({"error": "no such note"}, status_code=404)
    return JSONResponse({"id": note.id, "author": note.author, "body": note.body})


async def openapi(request: Request) -> Response:
    """The OpenAPI document of every route above, built from their docstrings."""
    return JSONResponse(openapi_document(request.app))


def openapi_document(app: Starlette) -> Dict[str, Any]:
    """The service's OpenAPI document as a dict."""
    return schemas.get_schema(routes=app.routes)


async def _json_body(request: Request) -> Dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _database(request: Request) -> Database:
    """The app's database, opened and its schema created on first use."""
    if request.app.state.database is None:
        settings: Settings = request.app.state.settings
        database = open_database(settings.database_url, settings.database_module)
        database.create_schema()
        request.app.state.database = database
    database_: Database = request.app.state.database
    return database_
