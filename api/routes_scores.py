"""Routes for caseworkers' tools: scores, the work list and contact outcomes.

Each route translates HTTP into one library call (:func:`risk.serving.score_request`,
:func:`risk.holdout.worklist_with_holdout`) and records what it did: every scored
household goes to the audit log (pseudonym, probability, reason codes), every work-list
draw to the hold-out table.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Response, status
from fastapi.concurrency import run_in_threadpool

from risk.explanation import Explanation
from risk.features.small import query_ready
from risk.serving import ScoredRows, score_request, worklist_request
from risk_api.audit import AuditEntry
from risk_api.bodies import body_schema, json_body
from risk_api.database import utc_now
from risk_api.deps import ScorerDep, ScoringCall, ScoringDep, ServicesDep
from risk_api.facts import tenancy_tables
from risk_api.model_store import ServedModel
from risk_api.outcomes import ContactOutcome, HoldoutRow
from risk_api.schemas import (
    EXAMPLE_SCORE_RESPONSE,
    EXAMPLE_WORKLIST_RESPONSE,
    OutcomesRequest,
    OutcomesResponse,
    ProblemDetail,
    ScoreRequest,
    ScoreResponse,
    WorklistRequest,
    WorklistResponse,
    example_response,
)
from risk_api.settings import Settings

router = APIRouter(prefix="/v1", tags=["scoring"])

#: Requests with more tenancies than this run in a worker thread, so that a large batch
#: does not hold up the small ones (and the health checks) on the event loop. Smaller
#: ones run inline: the thread hop would cost more than their work.
INLINE_TENANCIES = 16
#: ... and at most this many rows in all (a tenancy with ten years of ledger is a batch).
INLINE_ROWS = 2_000

_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ProblemDetail, "description": "No valid API key."},
    403: {"model": ProblemDetail, "description": "The key's role may not call this route."},
    413: {"model": ProblemDetail, "description": "Body larger than the service accepts."},
    422: {"model": ProblemDetail, "description": "Invalid body; `message` names the field."},
    503: {"model": ProblemDetail, "description": "No model loaded yet."},
}

T = TypeVar("T")

ScoreBody = Annotated[ScoreRequest, Depends(json_body(ScoreRequest))]
WorklistBody = Annotated[WorklistRequest, Depends(json_body(WorklistRequest))]
OutcomesBody = Annotated[OutcomesRequest, Depends(json_body(OutcomesRequest))]


def _inline(body: ScoreRequest, size: int) -> bool:
    """Whether the request is small enough to run on the event loop.

    A date whose feature query is not translated yet is not: translating takes a few
    tenths of a second, done in a worker thread.
    """
    if size > INLINE_TENANCIES or not query_ready(body.as_of):
        return False
    rows = sum(len(t.incomes) + len(t.apl) + len(t.ledger) + len(t.support) for t in body.tenancies)
    return rows <= INLINE_ROWS


async def _call(inline: bool, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    if inline:
        return function(*args, **kwargs)
    return await run_in_threadpool(function, *args, **kwargs)


def _threads(size: int, settings: Settings) -> int | None:
    # A small request runs on the event loop's core; a batch may use every core.
    return settings.threads if size <= INLINE_TENANCIES else settings.batch_threads


def _score(body: ScoreRequest, model: ServedModel, threads: int | None) -> ScoredRows:
    return score_request(tenancy_tables(body.tenancies), body.as_of, model.bundle, threads=threads)


def _item(explanation: Explanation, band: Any, rank: Any, eligible: Any) -> dict[str, Any]:
    """One household's JSON-ready answer."""
    described = explanation.to_dict()
    return {
        "tenancy_id": explanation.tenancy_id,
        "probability": described["probability"],
        "band": str(band),
        "rank": int(rank),
        "eligible": bool(eligible),
        "reasons": described["reasons"],
        "counterfactual": described["counterfactual"],
    }


def _items(scored: ScoredRows) -> dict[str, dict[str, Any]]:
    """One JSON-ready item per tenancy id."""
    scores = scored.scores
    bands, ranks, eligible = (scores[c].to_numpy() for c in ("band", "rank", "eligible"))
    return {
        e.tenancy_id: _item(e, bands[i], ranks[i], eligible[i])
        for i, e in enumerate(scored.explanations)
    }


def _json(content: dict[str, Any], status_code: int = 200) -> Response:
    # The body is built here from plain values, and its shape is the response model's
    # (the route tests and the fuzzing check it): FastAPI's second validation of the
    # answer would only cost time.
    body = json.dumps(content, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    return Response(body.encode("utf-8"), status_code=status_code, media_type="application/json")


def _audit_entries(
    items: list[dict[str, Any]],
    *,
    route: str,
    call: ScoringCall,
    as_of: Any,
) -> list[AuditEntry]:
    now = utc_now()
    model = call.model
    return [
        AuditEntry(
            time=now,
            request_id=call.request_id,
            key_id=call.key.key_id,
            route=route,
            model_name=model.name,
            model_version=model.version,
            model_alias=model.alias,
            as_of=as_of,
            tenancy_id=item["tenancy_id"],
            probability=item["probability"],
            band=item["band"],
            rank=item["rank"],
            reason_codes=tuple(r["code"] for r in item["reasons"]),
            held_out=item.get("held_out"),
        )
        for item in items
    ]


@router.post(
    "/scores",
    response_model=ScoreResponse,
    responses={200: example_response(EXAMPLE_SCORE_RESPONSE), **_ERRORS},
    summary="Score tenancies from their raw facts, with reasons",
    openapi_extra=body_schema(ScoreRequest),
)
async def scores(call: ScoringDep, body: ScoreBody) -> Response:
    """Score each tenancy at ``as_of``, with its reasons.

    Each tenancy gets its probability, band, rank within the request, up to four
    reasons with their lever, and the change that would lower the risk most. The
    features are built from the facts sent, by the code the model was trained on;
    facts posted on or after ``as_of`` are ignored. Scores come back in request order.
    """
    size = len(body.tenancies)
    threads = _threads(size, call.services.settings)
    scored = await _call(_inline(body, size), _score, body, call.model, threads)
    by_id = _items(scored)
    items = [by_id[t.tenancy_id] for t in body.tenancies]
    call.services.audit.record(
        _audit_entries(items, route="/v1/scores", call=call, as_of=body.as_of)
    )
    return _json({"model": call.model.identity(), "as_of": body.as_of.isoformat(), "scores": items})


@router.post(
    "/worklist",
    response_model=WorklistResponse,
    responses={200: example_response(EXAMPLE_WORKLIST_RESPONSE), **_ERRORS},
    summary="The households to contact first this cycle",
    openapi_extra=body_schema(WorklistRequest),
)
async def worklist(call: ScoringDep, body: WorklistBody) -> Response:
    """Return the ``capacity`` eligible households to contact first, with their reasons.

    When the service's hold-out share (``RISK_API_HOLDOUT_SHARE``, off by default) is
    above 0, each household reached down the ranking is held out at random with that
    probability and listed under ``held_out``: "not contacted this cycle". The list
    still holds ``capacity`` households to contact. Every draw is recorded, so that the
    landlord can later compare the outcomes of contacted and held-out households.
    """
    services, model = call.services, call.model
    size = len(body.tenancies)
    share = services.settings.holdout_share
    result = await _call(
        _inline(body, size),
        worklist_request,
        tenancy_tables(body.tenancies),
        body.as_of,
        model.bundle,
        body.capacity,
        share,
        holdout_key=services.holdout_key,
        threads=_threads(size, services.settings),
    )
    contact: list[dict[str, Any]] = []
    held: list[dict[str, Any]] = []
    listed = result.listed
    columns = (listed[c].to_numpy() for c in ("band", "rank", "eligible", "held_out"))
    for explanation, band, rank, eligible_row, held_out in zip(
        result.explanations, *columns, strict=True
    ):
        item = {**_item(explanation, band, rank, eligible_row), "held_out": bool(held_out)}
        (held if held_out else contact).append(item)
    listed_items = contact + held
    if share > 0:
        rows = [
            HoldoutRow(
                cycle=body.as_of,
                tenancy_id=item["tenancy_id"],
                held_out=item["held_out"],
                model_name=model.name,
                model_version=model.version,
                probability=item["probability"],
                rank=item["rank"],
                key_id=call.key.key_id,
            )
            for item in listed_items
        ]
        # The draw is on record before the list is handed out: written, not queued.
        await run_in_threadpool(services.outcomes.record_holdout, rows)
    # Every household scored goes to the audit log; the listed ones with their reasons.
    by_id = {item["tenancy_id"]: item for item in listed_items}
    scores = result.scores
    others = [
        {
            "tenancy_id": tenancy_id,
            "probability": float(probability),
            "band": str(band),
            "rank": int(rank),
            "reasons": [],
        }
        for tenancy_id, probability, band, rank in zip(
            scores["tenancy_id"].to_numpy(),
            scores["probability"].to_numpy(),
            scores["band"].to_numpy(),
            scores["rank"].to_numpy(),
            strict=True,
        )
        if tenancy_id not in by_id
    ]
    services.audit.record(
        _audit_entries(listed_items + others, route="/v1/worklist", call=call, as_of=body.as_of)
    )
    eligible = int(scores["eligible"].sum())
    return _json(
        {
            "model": model.identity(),
            "as_of": body.as_of.isoformat(),
            "capacity": len(contact),
            "eligible": eligible,
            "holdout_share": share,
            "contact": contact,
            "held_out": held,
        }
    )


@router.post(
    "/outcomes",
    response_model=OutcomesResponse,
    status_code=status.HTTP_201_CREATED,
    responses={
        201: example_response({"recorded": 1}, "Stored."),
        **{k: v for k, v in _ERRORS.items() if k != 503},
    },
    summary="Record what happened after contact",
    openapi_extra=body_schema(OutcomesRequest),
)
async def outcomes(services: ServicesDep, key: ScorerDep, body: OutcomesBody) -> dict[str, int]:
    """Store contact outcomes, for the next training and to measure the effect of contact.

    An outcome is one of: contacted, reached, payment_plan_agreed, benefit_file_opened,
    no_answer.
    """
    model = services.models.current
    recorded = await run_in_threadpool(
        services.outcomes.record_outcomes,
        [
            ContactOutcome(
                tenancy_id=o.tenancy_id,
                contact_date=o.contact_date,
                outcome=o.outcome,
                key_id=key.key_id,
                model_version=model.version if model is not None else None,
            )
            for o in body.outcomes
        ],
    )
    return {"recorded": recorded}
