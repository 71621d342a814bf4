"""The FastAPI application: its parts, its limits and its error answers.

:func:`create_app` wires the service together: the database (key store, audit log,
outcomes), the model store with the configured model, the routes, a body-size limit
and error handlers that turn every bad request into a 4xx naming the field. ``risk
serve`` runs it under uvicorn with one worker.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import SQLAlchemyError
from starlette.exceptions import HTTPException as StarletteHTTPException

from risk.serving import warm_up
from risk_api.audit import AuditLog, read_or_create_key
from risk_api.bodies import add_body_schemas
from risk_api.database import create_schema, make_engine
from risk_api.deps import AUTHENTICATED, KEY_HEADER, NOT_AUTHENTICATED, Services
from risk_api.keys import KeyStore
from risk_api.model_store import ModelStore
from risk_api.outcomes import OutcomeStore
from risk_api.routes_admin import router as admin_router
from risk_api.routes_scores import router as scores_router
from risk_api.settings import Settings

logger = logging.getLogger("risk_api")

#: 413 message.
BODY_TOO_LARGE = "request body is larger than {limit} bytes"
#: 503 message when the service's database refuses a write or a read.
DATABASE_UNAVAILABLE = "the service's database is unavailable; nothing was stored, try again"
#: 500 message: never expected; the error is logged with its request id.
INTERNAL_ERROR = "internal error; it has been logged"

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

DESCRIPTION = """
Scores of the risk that a household falls behind on its rent soon, with the reasons and
the lever a caseworker can pull, for the tools caseworkers already use.

**The score supports a person's decision and never decides anything by itself.** It
chooses whom to contact first for preventive support; it is never used to allocate,
refuse or evict.

Send an API key in the `X-API-Key` header (`risk keys create NAME --role scorer`).
Roles: `scorer` (scores, work list, outcomes), `auditor` (model, audit log), `admin`
(model, reload). Every scored household is written to the audit log under a pseudonym.
"""


class BodyLimit:
    """Refuse request bodies over ``limit`` bytes with 413, before they are parsed.

    The declared ``Content-Length`` is checked first; a chunked body is counted as it
    arrives and cut off at the limit.
    """

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on, or answer 413 when its body is too large."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            await self._refuse(send)
            return
        received = 0
        started = False

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise _TooLargeError
            return message

        async def tracked(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, tracked)
        except _TooLargeError:
            if not started:
                await self._refuse(send)

    async def _refuse(self, send: Send) -> None:
        body = JSONResponse(
            {"message": BODY_TOO_LARGE.format(limit=self.limit), "detail": None},
            status_code=413,
        ).body
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


class KeyGate:
    """Answer 401 to a ``/v1/`` request without a valid key before its body is read.

    FastAPI reads and parses a body before it resolves the route's dependencies, so
    without this gate an anonymous caller could make the service parse megabytes, or
    learn from a 422 how a body is checked. The key found is left in the request state
    for the routes, which check its role (:mod:`risk_api.deps`).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on, or answer 401 when it has no valid key."""
        if scope["type"] == "http" and str(scope.get("path", "")).startswith("/v1/"):
            presented = dict(scope.get("headers") or []).get(KEY_HEADER.lower().encode())
            services = scope["app"].state.services
            info = services.keys.authenticate(presented.decode("latin-1")) if presented else None
            if info is None:
                response = JSONResponse(
                    {"message": NOT_AUTHENTICATED, "detail": None},
                    status_code=401,
                    headers={"WWW-Authenticate": KEY_HEADER},
                )
                await response(scope, receive, send)
                return
            scope.setdefault("state", {})[AUTHENTICATED] = info
        await self.app(scope, receive, send)


class _TooLargeError(Exception):
    pass


def _field(location: tuple[Any, ...] | list[Any]) -> str:
    """``("body", "tenancies", 0, "ledger", 3, "amount")`` -> ``tenancies[0].ledger[3].amount``."""
    parts = list(location)
    if parts and parts[0] in ("body", "query", "header", "path"):
        parts = parts[1:] or parts
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "body"


async def _validation_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    detail = []
    messages = []
    for item in error.errors():
        message = str(item.get("msg", "invalid value")).removeprefix("Value error, ")
        location = item.get("loc", ())
        if item.get("type") == "json_invalid":
            # Not JSON: the location is a character position, not a field.
            field, message = "body", f"{message} at character {location[-1]}"
            messages.append(f"body: {message}")
        else:
            field = _field(location)
            # A request-level check already names its field ("tenancies[1].tenancy_id: ...").
            messages.append(message if field == "body" else f"{field}: {message}")
        detail.append({"field": field, "message": message, "type": item.get("type")})
    return JSONResponse({"message": "; ".join(messages[:20]), "detail": detail}, status_code=422)


async def _http_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, StarletteHTTPException)
    return JSONResponse(
        {"message": str(error.detail), "detail": None},
        status_code=error.status_code,
        headers=getattr(error, "headers", None),
    )


async def _database_error(request: Request, error: Exception) -> JSONResponse:
    # The engines hide statement parameters, so the logged error names no tenancy.
    logger.error("database error on %s %s: %s", request.method, request.url.path, error)
    return JSONResponse({"message": DATABASE_UNAVAILABLE, "detail": None}, status_code=503)


async def _unexpected(request: Request, error: Exception) -> JSONResponse:
    logger.exception("unexpected error on %s %s", request.method, request.url.path)
    return JSONResponse({"message": INTERNAL_ERROR, "detail": None}, status_code=500)


def build_services(settings: Settings) -> Services:
    """Open the database and the stores, and load the configured model if it can be."""
    engine = make_engine(settings.database_url)
    create_schema(engine)
    # One server secret for the audit pseudonyms and the hold-out draw (keyed apart).
    pseudonym_key = read_or_create_key(settings.pseudonym_key_file)
    models = ModelStore(settings.tracking_root, settings.tracking_uri)
    try:
        models.load(settings.model)
    except Exception as error:  # the service starts, not ready, and says why
        logger.error("model %s not loaded: %s", settings.model, error)
    return Services(
        settings=settings,
        models=models,
        keys=KeyStore(engine, cache_seconds=settings.key_cache_seconds),
        audit=AuditLog(engine, pseudonym_key),
        outcomes=OutcomeStore(engine),
        holdout_key=pseudonym_key,
    )


def _declare_bodies(app: FastAPI) -> None:
    """Put the models of the bodies the routes read themselves in the OpenAPI schema."""
    default = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = add_body_schemas(default())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def create_app(settings: Settings | None = None, *, services: Services | None = None) -> FastAPI:
    """Build the application.

    Parameters
    ----------
    settings
        The service's settings; read from the environment when None.
    services
        Ready-made services (tests); built from ``settings`` at start-up when None.

    Returns
    -------
    fastapi.FastAPI
    """
    settings = settings or (services.settings if services is not None else Settings())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        own = services is None
        app.state.services = services if services is not None else build_services(settings)
        # Today's feature query, translated and prepared on the thread that runs the
        # small requests, before the first one arrives.
        warm_up(dt.date.today())
        try:
            yield
        finally:
            if own:
                app.state.services.audit.close()

    app = FastAPI(
        title="risk: early warning of rent arrears",
        version="1",
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    if services is not None:
        # Usable without the lifespan too (a TestClient not used as a context manager).
        app.state.services = services
    app.include_router(scores_router)
    app.include_router(admin_router)
    _declare_bodies(app)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(SQLAlchemyError, _database_error)
    app.add_exception_handler(Exception, _unexpected)
    # Added last, so run first: the declared size, then the key, then the body.
    app.add_middleware(KeyGate)
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)
    return app
