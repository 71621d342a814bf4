"""Routes for auditors and administrators, and the health checks.

``GET /v1/model`` describes the model in service and the feature catalogue it reads;
``GET /v1/audit`` reads the audit log; ``POST /v1/admin/reload`` swaps the model;
``/healthz`` says the process answers, ``/readyz`` that it can score.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from risk.bundle import BundleError
from risk.catalogue import FEATURES, LEVERS
from risk.registry import RegistryError
from risk_api.deps import AdminDep, AuditorDep, ModelDep, ModelReaderDep, ServicesDep
from risk_api.facts import FIRST_DATE, LAST_DATE, MAX_ID_LENGTH
from risk_api.schemas import EXAMPLE_SCORE, ProblemDetail, example_response

router = APIRouter()

#: Most audit rows in one page.
MAX_AUDIT_PAGE = 1_000


def catalogue_entries() -> list[dict[str, Any]]:
    """Return the feature catalogue as the model route shows it (texts FR/EN, levers)."""
    entries = []
    for feature in FEATURES:
        lever = LEVERS.get(feature.lever) if feature.lever else None
        entries.append(
            {
                "name": feature.name,
                "family": str(feature.family),
                "description": feature.description,
                "unit": feature.unit,
                "direction": int(feature.direction),
                "label_fr": feature.label_fr,
                "label_en": feature.label_en,
                "reason_fr": feature.reason_fr,
                "reason_en": feature.reason_en,
                "reason_code": feature.reason_group.upper(),
                "categories": list(feature.categories),
                "actionable": feature.actionable,
                "lever": feature.lever,
                "lever_fr": lever.label_fr if lever else None,
                "lever_en": lever.label_en if lever else None,
            }
        )
    return entries


class ModelDescription(BaseModel):
    """The model in service: identity, training, headline metrics and catalogue."""

    name: str
    version: str
    alias: str | None
    uri: str
    loaded_at: dt.datetime
    trained_at: str | None = Field(description="When the bundle was made.")
    train_until: str | None = Field(description="Knowledge cut-off of the training data.")
    label: str
    horizon_months: int
    bands: dict[str, float]
    metrics: dict[str, Any] = Field(description="Pooled out-of-time metrics of the backtest.")
    model_sha256: str
    catalogue_version: str
    catalogue_fingerprint: str
    features: list[str]
    catalogue: list[dict[str, Any]]
    notice_fr: str
    notice_en: str


NOTICE_FR = (
    "Le score aide la décision d'une personne et ne décide jamais seul. Il sert à "
    "choisir qui contacter en premier pour un accompagnement préventif, jamais à "
    "attribuer, refuser ou expulser."
)
NOTICE_EN = (
    "The score supports a person's decision and never decides anything by itself. It "
    "chooses whom to contact first for preventive support, never allocation, refusal "
    "or eviction."
)

EXAMPLE_MODEL_DESCRIPTION = {
    "name": "arrears-risk",
    "version": "4",
    "alias": "champion",
    "uri": "models:/arrears-risk@champion",
    "loaded_at": "2024-06-01T06:00:02Z",
    "trained_at": "2024-05-28T21:14:05+00:00",
    "train_until": "2024-05-01",
    "label": "first_arrears",
    "horizon_months": 3,
    "bands": {"high": 0.18, "elevated": 0.05},
    "metrics": {"roc_auc": 0.90, "capture@5%": 0.42, "brier": 0.032, "ece": 0.003},
    "model_sha256": "5a524a07d6c16fa9b18878aa761f12d2d9b771ff52b7e17a1f9d430ef5da4327",
    "catalogue_version": "1.0.0",
    "catalogue_fingerprint": "c878faa675888103dcc698cc7560023ce6a6906fe135aa1e05d50f754efccb73",
    "features": ["balance_eur", "effort_rate"],
    "catalogue": [
        {
            "name": "balance_eur",
            "family": "ledger",
            "description": "Amount owed at as-of, EUR (positive = the tenant owes).",
            "unit": "EUR",
            "direction": 1,
            "label_fr": "Solde impayé",
            "label_en": "Unpaid balance",
            "reason_fr": "Solde impayé de {value} €",
            "reason_en": "Unpaid balance of {value} EUR",
            "reason_code": "BALANCE",
            "categories": [],
            "actionable": True,
            "lever": "payment_plan",
            "lever_fr": "Proposer un plan d'apurement",
            "lever_en": "Offer a payment plan",
        }
    ],
    "notice_fr": NOTICE_FR,
    "notice_en": NOTICE_EN,
}
EXAMPLE_AUDIT_PAGE = {
    "rows": [
        {
            "id": 1812,
            "time": "2024-06-01T08:12:44.120931+00:00",
            "request_id": "9f1c2e0a4b7d4c6e8a1b2c3d4e5f6a7b",
            "key_id": "5358a5a25dfb",
            "route": "/v1/scores",
            "model_name": "arrears-risk",
            "model_version": "4",
            "model_alias": "champion",
            "as_of": "2024-06-01",
            "tenancy_pseudonym": "0118d9037f23e1de1775",
            "probability": EXAMPLE_SCORE["probability"],
            "band": "high",
            "rank": 1,
            "reason_codes": ["BALANCE", "AFFORDABILITY"],
            "held_out": None,
        }
    ],
    "limit": 100,
    "offset": 0,
}


@router.get(
    "/v1/model",
    response_model=ModelDescription,
    tags=["audit"],
    responses={
        200: example_response(EXAMPLE_MODEL_DESCRIPTION),
        401: {"model": ProblemDetail},
        403: {"model": ProblemDetail},
    },
    summary="Describe the model in service",
)
async def model_description(key: ModelReaderDep, model: ModelDep) -> dict[str, Any]:
    """Name, version, alias, training date, headline metrics and the feature catalogue."""
    described = model.bundle.describe()
    return {
        **model.identity(),
        "uri": model.uri,
        "loaded_at": model.loaded_at,
        "trained_at": described.get("created_at"),
        "train_until": described.get("train_until"),
        "label": described["label"],
        "horizon_months": described["horizon_months"],
        "bands": described["bands"],
        "metrics": described.get("metrics", {}),
        "model_sha256": described["model_sha256"],
        "catalogue_version": described["catalogue_version"],
        "catalogue_fingerprint": described["catalogue_fingerprint"],
        "features": list(model.bundle.feature_names),
        "catalogue": catalogue_entries(),
        "notice_fr": NOTICE_FR,
        "notice_en": NOTICE_EN,
    }


class AuditPage(BaseModel):
    """Audit rows, newest first."""

    rows: list[dict[str, Any]]
    limit: int
    offset: int


Text = Annotated[str | None, Query(min_length=1, max_length=MAX_ID_LENGTH)]


@router.get(
    "/v1/audit",
    response_model=AuditPage,
    tags=["audit"],
    responses={
        200: example_response(EXAMPLE_AUDIT_PAGE),
        401: {"model": ProblemDetail},
        403: {"model": ProblemDetail},
    },
    summary="Read the audit log",
)
async def audit_log(
    services: ServicesDep,
    key: AuditorDep,
    key_id: Text = None,
    model_version: Text = None,
    tenancy_id: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=MAX_ID_LENGTH,
            description="A landlord's tenancy id: the service turns it into its pseudonym.",
        ),
    ] = None,
    pseudonym: Text = None,
    route: Text = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_AUDIT_PAGE)] = 100,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> dict[str, Any]:
    """Read the audit log: one row per scored household, newest first.

    A row holds the time, key id, route, model version, tenancy pseudonym, probability,
    band, rank and reason codes. No names, free text or incomes are kept.
    """
    for name, value in (("since", since), ("until", until)):
        if value is not None and not FIRST_DATE <= value.date() <= LAST_DATE:
            raise HTTPException(
                status.HTTP_422_UNPROCESSABLE_CONTENT,
                detail=f"{name}: must be between {FIRST_DATE} and {LAST_DATE}",
            )

    def read() -> list[dict[str, Any]]:
        # What this service scored up to now is in the answer (the writer runs behind).
        services.audit.flush(timeout=2.0)
        return services.audit.query(
            key_id=key_id,
            model_version=model_version,
            tenancy_id=tenancy_id,
            pseudonym=pseudonym,
            route=route,
            since=since,
            until=until,
            limit=limit,
            offset=offset,
        )

    rows = await run_in_threadpool(read)
    return {"rows": rows, "limit": limit, "offset": offset}


class ReloadRequest(BaseModel):
    """Which model to load; the service's configured one when omitted."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"model": "models:/arrears-risk@champion"}]},
    )

    model: str | None = Field(
        default=None,
        min_length=1,
        max_length=1_000,
        description="Registry URI (models:/arrears-risk@champion) or a bundle folder.",
    )


class ReloadResponse(BaseModel):
    """The model before and after the swap."""

    previous: dict[str, Any] | None
    current: dict[str, Any]


@router.post(
    "/v1/admin/reload",
    response_model=ReloadResponse,
    tags=["admin"],
    responses={
        200: example_response(
            {
                "previous": {"name": "arrears-risk", "version": "3", "alias": "champion"},
                "current": {"name": "arrears-risk", "version": "4", "alias": "champion"},
            }
        ),
        401: {"model": ProblemDetail},
        403: {"model": ProblemDetail},
        409: {"model": ProblemDetail, "description": "The new model failed its checks."},
    },
    summary="Load, verify and swap the model atomically",
)
async def reload(
    services: ServicesDep, key: AdminDep, body: ReloadRequest | None = None
) -> dict[str, Any]:
    """Load the model beside the one in service, verify it, then swap in one step.

    The checks are the bundle's: checksums, features, catalogue. Requests in flight
    finish on the old model; a model that fails its checks is refused with 409 and the
    old one keeps serving.
    """
    uri = (body.model if body is not None else None) or services.settings.model
    previous = services.models.current
    try:
        current = await run_in_threadpool(services.models.load, uri)
    except (BundleError, RegistryError, OSError, ValueError) as error:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=f"model: {error}") from error
    return {
        "previous": previous.identity() if previous is not None else None,
        "current": current.identity(),
    }


@router.get(
    "/healthz",
    tags=["health"],
    summary="The process answers",
    responses={200: example_response({"status": "ok"})},
)
async def healthz() -> dict[str, str]:
    """Answer 200 while the process runs."""
    return {"status": "ok"}


@router.get(
    "/readyz",
    tags=["health"],
    summary="The service can score",
    responses={
        200: example_response(
            {
                "status": "ready",
                "model": {"name": "arrears-risk", "version": "4", "alias": "champion"},
            }
        ),
        503: example_response({"status": "not ready", "model": None}, "No verified model."),
    },
)
async def readyz(services: ServicesDep) -> JSONResponse:
    """200 with the model's identity once a verified model is loaded, else 503."""
    model = services.models.current
    if model is None:
        return JSONResponse({"status": "not ready", "model": None}, status_code=503)
    return JSONResponse({"status": "ready", "model": model.identity()})
