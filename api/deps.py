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


def _authenticated(request: Request) -> KeyInfo:
    # The gate authenticated the key before the body was read (risk_api.app.KeyGate).
    info: KeyInfo | None = getattr(request.state, AUTHENTICATED, None)
    if info is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            detail=NOT_AUTHENTICATED,
            headers={"WWW-Authenticate": KEY_HEADER},
        )
    return info


def _admitted(key: KeyInfo, roles: tuple[str, ...]) -> KeyInfo:
    if key.role not in roles:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            detail=WRONG_ROLE.format(role=key.role, allowed=", ".join(roles)),
        )
    return key


def require(*roles: str) -> Callable[..., Awaitable[KeyInfo]]:
    """Return a dependency admitting keys of the given roles only."""

    async def check(
        request: Request, presented: Annotated[str | None, Security(_key_header)]
    ) -> KeyInfo:
        # ``presented`` is declared so that the schema shows the key scheme.
        return _admitted(_authenticated(request), roles)

    return check


ScorerDep = Annotated[KeyInfo, Depends(require(SCORER))]
AuditorDep = Annotated[KeyInfo, Depends(require(AUDITOR))]
ModelReaderDep = Annotated[KeyInfo, Depends(require(AUDITOR, ADMIN))]
AdminDep = Annotated[KeyInfo, Depends(require(ADMIN))]


def _current_model(services: Services) -> ServedModel:
    model = services.models.current
    if model is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, detail=NO_MODEL)
    return model


async def served_model(services: ServicesDep) -> ServedModel:
    """Return the model in service, read once for the whole request (503 when none)."""
    return _current_model(services)


ModelDep = Annotated[ServedModel, Depends(served_model)]


_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


def _request_id(request: Request) -> str:
    """Return the caller's ``X-Request-ID`` (kept in the audit log), or a new one.

    Only a plain token is kept: the header is the caller's free text, and the audit log
    holds none (a tool could put a name there).
    """
    given = request.headers.get("x-request-id", "")
    return given if _REQUEST_ID.fullmatch(given) else uuid.uuid4().hex


@dataclass(frozen=True)
class ScoringCall:
    """What a scoring route needs, resolved at once: one dependency instead of five.

    Each dependency FastAPI solves costs a few tens of microseconds, a sizeable share
    of a one-tenancy request. The checks are those of :data:`ScorerDep`,
    :data:`ModelDep` and the request id, in that order (a wrong role gets 403
    even when no model is loaded).
    """

    services: Services
    key: KeyInfo
    model: ServedModel
    request_id: str


async def scoring_call(
    request: Request, presented: Annotated[str | None, Security(_key_header)]
) -> ScoringCall:
    """Admit a ``scorer`` key, read the model once and name the request."""
    key = _admitted(_authenticated(request), (SCORER,))
    services: Services = request.app.state.services
    return ScoringCall(services, key, _current_model(services), _request_id(request))


ScoringDep = Annotated[ScoringCall, Depends(scoring_call)]

#: Roles allowed on each route, for the documentation and the tests' auth matrix.
ROUTE_ROLES: dict[tuple[str, str], tuple[str, ...]] = {
    ("POST", "/v1/scores"): (SCORER,),
    ("POST", "/v1/worklist"): (SCORER,),
    ("POST", "/v1/outcomes"): (SCORER,),
    ("GET", "/v1/model"): (AUDITOR, ADMIN),
    ("GET", "/v1/audit"): (AUDITOR,),
    ("POST", "/v1/admin/reload"): (ADMIN,),
}
