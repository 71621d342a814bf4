"""Request and response bodies of the service, with the examples shown in its OpenAPI."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from risk.metrics import parse_capacity
from risk_api.facts import FIRST_DATE, ID_PATTERN, LAST_DATE, MAX_ID_LENGTH, TenancyFacts
from risk_api.outcomes import OUTCOMES
from risk_api.settings import MAX_TENANCIES

AsOf = Annotated[
    dt.date,
    Field(
        ge=FIRST_DATE,
        le=LAST_DATE,
        description="Scoring date: only facts posted strictly before it are used.",
    ),
]

EXAMPLE_TENANCY: dict[str, Any] = {
    "tenancy_id": "T0004211",
    "residence_id": "R017",
    "residence_type": "residence_sociale",
    "start_date": "2022-09-15",
    "end_date": None,
    "monthly_rent": 452.0,
    "guarantee": "visale",
    "tenant_birth_year": 1991,
    "household_type": "single_parent",
    "children": 1,
    "incomes": [
        {
            "effective_date": "2022-09-01",
            "posted_date": "2022-09-10",
            "monthly_income": 1380.0,
            "employment_status": "fixed_term",
            "income_source": "salary",
        }
    ],
    "apl": [
        {
            "effective_date": "2022-10-01",
            "posted_date": "2022-10-20",
            "monthly_amount": 231.0,
            "paid_to_landlord": True,
        }
    ],
    "ledger": [
        {
            "event_date": "2024-04-01",
            "posted_date": "2024-04-01",
            "kind": "rent_charge",
            "amount": 452.0,
            "payment_method": None,
        },
        {
            "event_date": "2024-04-05",
            "posted_date": "2024-04-06",
            "kind": "apl_payment",
            "amount": 231.0,
            "payment_method": None,
        },
        {
            "event_date": "2024-04-12",
            "posted_date": "2024-04-13",
            "kind": "tenant_payment",
            "amount": 150.0,
            "payment_method": "transfer",
        },
    ],
    "support": [],
}


def _check_tenancies(tenancies: list[Any], as_of: dt.date) -> None:
    seen: set[str] = set()
    for i, tenancy in enumerate(tenancies):
        if tenancy.tenancy_id in seen:
            raise ValueError(f"tenancies[{i}].tenancy_id: {tenancy.tenancy_id!r} appears twice")
        seen.add(tenancy.tenancy_id)
        # The presence rule of risk.timeline: started strictly before as-of, not ended
        # before it. A tenancy outside it has no score to give.
        if not tenancy.start_date < as_of:
            raise ValueError(
                f"tenancies[{i}].start_date: {tenancy.start_date} is not before as_of {as_of}"
            )
        if tenancy.end_date is not None and tenancy.end_date < as_of:
            raise ValueError(f"tenancies[{i}].end_date: {tenancy.end_date} is before as_of {as_of}")


class ScoreRequest(BaseModel):
    """Tenancies to score at one as-of date."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"as_of": "2024-06-01", "tenancies": [EXAMPLE_TENANCY]}]},
    )

    as_of: AsOf
    tenancies: list[TenancyFacts] = Field(
        min_length=1, max_length=MAX_TENANCIES, description="The tenancies, with their facts."
    )

    @model_validator(mode="after")
    def _tenancies_scorable(self) -> ScoreRequest:
        _check_tenancies(self.tenancies, self.as_of)
        return self


class WorklistRequest(ScoreRequest):
    """A portfolio and the number of households the team can contact this cycle."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"as_of": "2024-06-01", "capacity": 25, "tenancies": [EXAMPLE_TENANCY]}]
        },
    )

    capacity: int | Annotated[str, Field(pattern=r"^\d+(\.\d+)?%$")] = Field(
        description="Households to contact: a number (25) or a share of the eligible ones ('5%')."
    )

    @model_validator(mode="after")
    def _capacity_readable(self) -> WorklistRequest:
        # The library's reading of a capacity, so that the route never meets one it
        # refuses ("0%", "250%").
        try:
            parse_capacity(self.capacity)
        except ValueError as error:
            raise ValueError(f"capacity: {error}") from None
        return self


class Outcome(BaseModel):
    """What happened after a contact attempt."""

    model_config = ConfigDict(extra="forbid")

    tenancy_id: str = Field(min_length=1, max_length=MAX_ID_LENGTH, pattern=ID_PATTERN)
    contact_date: dt.date = Field(ge=FIRST_DATE, le=LAST_DATE)
    outcome: Literal[OUTCOMES] = Field(  # type: ignore[valid-type]
        description="contacted, reached, payment_plan_agreed, benefit_file_opened or no_answer."
    )


class OutcomesRequest(BaseModel):
    """Outcomes of contacts, for the next training and to measure the effect of contact."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "outcomes": [
                        {
                            "tenancy_id": "T0004211",
                            "contact_date": "2024-06-04",
                            "outcome": "benefit_file_opened",
                        }
                    ]
                }
            ]
        },
    )

    outcomes: list[Outcome] = Field(min_length=1, max_length=MAX_TENANCIES)


class ModelIdentity(BaseModel):
    """Which model answered."""

    name: str
    version: str
    alias: str | None


class ReasonOut(BaseModel):
    """One reason raising the household's risk, with the lever a caseworker can pull."""

    code: str = Field(description="Stable reason code (the catalogue's reason group).")
    feature: str
    value: float | str | None
    value_fr: str
    value_en: str
    text_fr: str
    text_en: str
    contribution: float = Field(description="Contribution to the score, log-odds (> 0).")
    lever: str | None
    lever_fr: str | None
    lever_en: str | None
    actionable: bool


class CounterfactualOut(BaseModel):
    """The declared change that would lower the risk most, re-scored by the model."""

    feature: str
    value: float | None
    probability_before: float
    probability_after: float
    text_fr: str
    text_en: str


class ScoreOut(BaseModel):
    """One household's score. It supports a caseworker's decision and decides nothing."""

    tenancy_id: str
    probability: float = Field(description="Calibrated probability of the model's label.")
    band: str
    rank: int = Field(description="Rank within this request; 1 = contact first.")
    eligible: bool = Field(
        description="False for a household already in arrears: a recovery case, not "
        "prevention; ranked after every eligible household."
    )
    reasons: list[ReasonOut]
    counterfactual: CounterfactualOut | None


class ScoreResponse(BaseModel):
    """Scores in request order."""

    model: ModelIdentity
    as_of: dt.date
    scores: list[ScoreOut]


class WorklistItem(ScoreOut):
    """A household of the work list."""

    held_out: bool = Field(description="True: not contacted this cycle (random hold-out).")


class WorklistResponse(BaseModel):
    """The households to contact first, in rank order, and the held-out ones."""

    model: ModelIdentity
    as_of: dt.date
    capacity: int = Field(description="Households to contact (k).")
    eligible: int = Field(description="Eligible households in the request.")
    holdout_share: float
    contact: list[WorklistItem]
    held_out: list[WorklistItem]


class OutcomesResponse(BaseModel):
    """How many outcomes were stored."""

    recorded: int


class ProblemDetail(BaseModel):
    """An error: ``message`` names the field at fault."""

    message: str
    detail: list[dict[str, Any]] | None = None


# --- OpenAPI examples of the answers ------------------------------------------------------

EXAMPLE_MODEL = {"name": "arrears-risk", "version": "4", "alias": "champion"}
# A real answer of the demo's model (rounded): the household ranked first on 2024-06-01.
EXAMPLE_SCORE: dict[str, Any] = {
    "tenancy_id": "T0004211",
    "probability": 0.9004,
    "band": "high",
    "rank": 1,
    "eligible": True,
    "reasons": [
        {
            "code": "BALANCE",
            "feature": "balance_eur",
            "value": 484.05,
            "value_fr": "484",
            "value_en": "484",
            "text_fr": "Solde impayé de 484 €",
            "text_en": "Unpaid balance of 484 EUR",
            "contribution": 2.997,
            "lever": "payment_plan",
            "lever_fr": "Proposer un plan d'apurement",
            "lever_en": "Offer a payment plan",
            "actionable": True,
        },
        {
            "code": "AFFORDABILITY",
            "feature": "effort_rate",
            "value": 0.4482,
            "value_fr": "45 %",
            "value_en": "45%",
            "text_fr": "Taux d'effort de 45 %",
            "text_en": "Housing cost ratio of 45%",
            "contribution": 0.584,
            "lever": "transfer_cheaper_home",
            "lever_fr": "Proposer une mutation vers un logement moins cher",
            "lever_en": "Offer a transfer to a cheaper home",
            "actionable": True,
        },
    ],
    "counterfactual": {
        "feature": "balance_eur",
        "value": 0.0,
        "probability_before": 0.9004,
        "probability_after": 0.1566,
        "text_fr": "Si le solde impayé était ramené à 0 € (plan d'apurement, FSL), la "
        "probabilité passerait de 0,90 à 0,16",
        "text_en": "If the unpaid balance were brought down to 0 EUR (payment plan, FSL), "
        "the probability would fall from 0.90 to 0.16",
    },
}
EXAMPLE_SCORE_RESPONSE = {"model": EXAMPLE_MODEL, "as_of": "2024-06-01", "scores": [EXAMPLE_SCORE]}
EXAMPLE_WORKLIST_RESPONSE = {
    "model": EXAMPLE_MODEL,
    "as_of": "2024-06-01",
    "capacity": 1,
    "eligible": 1,
    "holdout_share": 0.0,
    "contact": [{**EXAMPLE_SCORE, "held_out": False}],
    "held_out": [],
}


def example_response(example: Any, description: str = "Success.") -> dict[str, Any]:
    """Return an OpenAPI response entry showing ``example``."""
    return {"description": description, "content": {"application/json": {"example": example}}}
