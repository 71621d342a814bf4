"""What happened after contact, and who was held out of a work list, for the data team.

Two tables feed the next training and the measure of what contact changes:

``contact_outcomes``
    One row per reported outcome (``POST /v1/outcomes``): the tenancy, the contact date
    and one of :data:`OUTCOMES`.
``holdouts``
    One row per eligible high-risk household of a work list, with ``held_out`` True for
    those drawn at random and marked "not contacted this cycle". Comparing the arrears
    of held-out and contacted households later measures the effect of contact.

Both keep the landlord's ``tenancy_id`` in clear: the data team joins them with the
export. Nothing else about the household is stored (no name, free text or income).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

import pandas as pd
import sqlalchemy as sa

from risk_api.database import contact_outcomes, db_time, holdouts, utc_now

#: Every outcome a caseworker can report.
OUTCOMES = ("contacted", "reached", "payment_plan_agreed", "benefit_file_opened", "no_answer")

#: Error raised for an outcome not in :data:`OUTCOMES`.
UNKNOWN_OUTCOME = (
    "unknown outcome {outcome!r}; expected one of: contacted, reached, payment_plan_agreed, "
    "benefit_file_opened, no_answer"
)

OUTCOME_COLUMNS = [
    "id", "tenancy_id", "contact_date", "outcome", "key_id", "recorded_at", "model_version",
]
HOLDOUT_COLUMNS = [
    "id", "cycle", "tenancy_id", "model_name", "model_version", "probability", "rank",
    "held_out", "key_id", "recorded_at",
]


@dataclass(frozen=True)
class ContactOutcome:
    """One outcome reported for one tenancy."""

    tenancy_id: str
    contact_date: date
    outcome: str
    key_id: str | None = None
    model_version: str | None = None


@dataclass(frozen=True)
class HoldoutRow:
    """One eligible high-risk household of a work list, held out or not."""

    cycle: date
    tenancy_id: str
    held_out: bool
    model_name: str | None = None
    model_version: str | None = None
    probability: float | None = None
    rank: int | None = None
    key_id: str | None = None


class OutcomeStore:
    """Contact outcomes and work-list hold-outs in the service's database.

    Parameters
    ----------
    engine
        Engine of a database whose schema exists (:func:`risk_api.database.create_schema`).
    """

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine

    def record_outcomes(self, rows: Iterable[ContactOutcome]) -> int:
        """Store outcomes in one transaction and return how many.

        Raises
        ------
        ValueError
            :data:`UNKNOWN_OUTCOME`, before anything is stored.
        """
        rows = list(rows)
        for row in rows:
            if row.outcome not in OUTCOMES:
                raise ValueError(UNKNOWN_OUTCOME.format(outcome=row.outcome))
        if not rows:
            return 0
        now = db_time(self.engine, utc_now())
        values = [
            {
                "tenancy_id": str(row.tenancy_id),
                "contact_date": row.contact_date,
                "outcome": row.outcome,
                "key_id": row.key_id,
                "recorded_at": now,
                "model_version": row.model_version,
            }
            for row in rows
        ]
        with self.engine.begin() as conn:
            conn.execute(contact_outcomes.insert(), values)
        return len(values)

    def record_holdout(self, rows: Iterable[HoldoutRow]) -> int:
        """Store the eligible households of a work list in one transaction; return how many."""
        now = db_time(self.engine, utc_now())
        values = [
            {
                "cycle": row.cycle,
                "tenancy_id": str(row.tenancy_id),
                "model_name": row.model_name,
                "model_version": row.model_version,
                "probability": None if row.probability is None else float(row.probability),
                "rank": None if row.rank is None else int(row.rank),
                "held_out": bool(row.held_out),
                "key_id": row.key_id,
                "recorded_at": now,
            }
            for row in rows
        ]
        if values:
            with self.engine.begin() as conn:
                conn.execute(holdouts.insert(), values)
        return len(values)

    def outcomes_frame(self) -> pd.DataFrame:
        """Return every outcome, oldest first; dates as datetime64, ``recorded_at`` UTC."""
        frame = self._frame(contact_outcomes, OUTCOME_COLUMNS)
        frame["contact_date"] = pd.to_datetime(frame["contact_date"])
        frame["recorded_at"] = pd.to_datetime(frame["recorded_at"], utc=True)
        return frame

    def holdout_frame(self) -> pd.DataFrame:
        """Return every work-list household recorded, oldest first; ``cycle`` as datetime64."""
        frame = self._frame(holdouts, HOLDOUT_COLUMNS)
        frame["cycle"] = pd.to_datetime(frame["cycle"])
        frame["recorded_at"] = pd.to_datetime(frame["recorded_at"], utc=True)
        frame["held_out"] = frame["held_out"].astype(bool)
        frame["probability"] = frame["probability"].astype(float)
        frame["rank"] = frame["rank"].astype("Int64")
        return frame

    def _frame(self, table: sa.Table, columns: list[str]) -> pd.DataFrame:
        with self.engine.connect() as conn:
            result = conn.execute(sa.select(*(table.c[c] for c in columns)).order_by(table.c.id))
            frame = pd.DataFrame(result.all(), columns=columns)
        frame["id"] = frame["id"].astype("int64")
        return frame
