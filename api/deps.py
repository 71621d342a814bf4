"""What the routes depend on: the service's parts, the caller's key and the served model.

Routes declare them as typed parameters (``ModelDep``, ``ScorerDep`` ...) and FastAPI
fills them in; a route never reaches for a global. They are coroutines although none
waits on anything: FastAPI would run a plain function in a worker thread, and five
thread hops cost more than a whole small request's scoring.

Who may call what (:data:`ROUTE_ROLES`): a ``scorer`` key scores, builds work lists and
reports outcomes; an ``auditor`` key reads the model's description and the audit log;
an ``admin`` key reloads the model and reads its description. A request without a valid
key gets 401, a valid key of another role 403.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request, Security, status
from fastapi.security import APIKeyHeader

from risk_api.audit import AuditLog
from risk_api.keys import KeyInfo, KeyStore
from risk_api.model_store import NO_MODEL, ModelStore, ServedModel
from risk_api.outcomes import OutcomeStore
from risk_api.settings import Settings

#: Header carrying the API key.
KEY_HEADER = "X-API-Key"
#: 401 message: no key, or a key the store does not know (or revoked).
NOT_AUTHENTICATED = f"a valid API key is required in the {KEY_HEADER} header"
#: 403 message.
WRONG_ROLE = "this key's role ({role}) may not call this route; it needs: {allowed}"

SCORER, AUDITOR, ADMIN = "scorer", "auditor", "admin"


@dataclass
class Services:
    """The long-lived parts of one running service."""

    settings: Settings
    models: ModelStore
    keys: KeyStore
    audit: AuditLog
    outcomes: OutcomeStore
    holdout_key: bytes


async def get_services(request: Request) -> Services:
    """Return the services attached to the application at start-up."""
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]

_key_header = APIKeyHeader(name=KEY_HEADER, auto_error=False, description="API key.")


#: Where :class:`risk_api.app.KeyGate` leaves the authenticated key in the request state.
AUTHENTICATED = "api_key"


async def _authenticated(
    request: Request, presented: Annotated[str | None, Security(_key_header)]
) -> KeyInfo:
    # The gate authenticated the key before the body was read; the header parameter is
    # declared so that the schema shows the scheme.
    info: KeyInfo | None = getattr(request.state, AUTHENTICATED, None)
    if info is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            detail=NOT_AUTHENTICATED,
            headers={"WWW-Authenticate": KEY_HEADER},
        )
    return info


def require(*roles: str) -> Callable[[KeyInfo], Awaitable[KeyInfo]]:
    """Return a dependency admitting keys of the given roles only."""

    async def check(key: Annotated[KeyInfo, Depends(_authenticated)]) -> KeyInfo:
        if key.role not in roles:
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                detail=WRONG_ROLE.format(role=key.role, allowed=", ".join(roles)),
            )
        return key

    return check


ScorerDep = Annotated[KeyInfo, Depends(require(SCORER))]
AuditorDep = Annotated[KeyInfo, Depends(require(AUDITOR))]
ModelReaderDep = Annotated[KeyInfo, Depends(require(AUDITOR, ADMIN))]
AdminDep = Annotated[KeyInfo, Depends(require(ADMIN))]


async def served_model(services: ServicesDep) -> ServedModel:
    """Return the model in service, read once for the whole request (503 when none)."""
    model = services.models.current
    if model is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, detail=NO_MODEL)
    return model


ModelDep = Annotated[ServedModel, Depends(served_model)]


_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


async def request_id(request: Request) -> str:
    """Return the caller's ``X-Request-ID`` (kept in the audit log), or a new one.

    Only a plain token is kept: the header is the caller's free text, and the audit log
    holds none (a tool could put a name there).
    """
    given = request.headers.get("x-request-id", "")
    return given if _REQUEST_ID.fullmatch(given) else uuid.uuid4().hex


RequestIdDep = Annotated[str, Depends(request_id)]

#: Roles allowed on each route, for the documentation and the tests' auth matrix.
ROUTE_ROLES: dict[tuple[str, str], tuple[str, ...]] = {
    ("POST", "/v1/scores"): (SCORER,),
    ("POST", "/v1/worklist"): (SCORER,),
    ("POST", "/v1/outcomes"): (SCORER,),
    ("GET", "/v1/model"): (AUDITOR, ADMIN),
    ("GET", "/v1/audit"): (AUDITOR,),
    ("POST", "/v1/admin/reload"): (ADMIN,),
}
