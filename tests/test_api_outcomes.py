"""Contact outcomes and work-list hold-outs, on a SQLite file and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pandas as pd
import pytest
import sqlalchemy as sa

from risk_api.database import create_schema, make_engine
from risk_api.outcomes import (
    OUTCOMES,
    ContactOutcome,
    HoldoutRow,
    OutcomeStore,
)


@pytest.fixture
def store(database_url: str) -> Iterator[OutcomeStore]:
    engine = make_engine(database_url)
    create_schema(engine)
    yield OutcomeStore(engine)
    engine.dispose()


def test_outcomes_read_back_as_a_frame_with_datetime_dates(store: OutcomeStore) -> None:
    written = store.record_outcomes([
        ContactOutcome("T1", date(2025, 3, 3), "reached", key_id="aaaaaaaaaaaa"),
        ContactOutcome("T2", date(2025, 3, 4), "payment_plan_agreed", model_version="3"),
    ])
    assert written == 2
    frame = store.outcomes_frame()
    assert frame["tenancy_id"].tolist() == ["T1", "T2"]
    assert frame["outcome"].tolist() == ["reached", "payment_plan_agreed"]
    assert frame["contact_date"].tolist() == [
        pd.Timestamp("2025-03-03"), pd.Timestamp("2025-03-04"),
    ]
    assert pd.api.types.is_datetime64_any_dtype(frame["contact_date"])
    assert str(frame["recorded_at"].dt.tz) == "UTC"
    assert frame["key_id"].fillna("-").tolist() == ["aaaaaaaaaaaa", "-"]
    assert frame["model_version"].fillna("-").tolist() == ["-", "3"]


def test_every_outcome_of_the_list_is_accepted(store: OutcomeStore) -> None:
    store.record_outcomes(ContactOutcome("T1", date(2025, 1, 2), o) for o in OUTCOMES)
    assert store.outcomes_frame()["outcome"].tolist() == list(OUTCOMES)


def test_an_unknown_outcome_is_refused_and_nothing_is_stored(store: OutcomeStore) -> None:
    rows = [
        ContactOutcome("T1", date(2025, 3, 3), "reached"),
        ContactOutcome("T2", date(2025, 3, 3), "evicted"),
    ]
    with pytest.raises(ValueError, match="unknown outcome 'evicted'"):
        store.record_outcomes(rows)
    assert store.outcomes_frame().empty


def test_holdouts_read_back_for_comparing_contacted_and_held_out(store: OutcomeStore) -> None:
    store.record_holdout([
        HoldoutRow(date(2025, 3, 1), "T1", True, "arrears-risk", "3", 0.42, 1, "aaaaaaaaaaaa"),
        HoldoutRow(date(2025, 3, 1), "T2", False, "arrears-risk", "3", 0.31, 2, "aaaaaaaaaaaa"),
    ])
    frame = store.holdout_frame()
    assert frame["tenancy_id"].tolist() == ["T1", "T2"]
    assert frame["held_out"].tolist() == [True, False]
    assert frame["cycle"].tolist() == [pd.Timestamp("2025-03-01")] * 2
    assert frame["probability"].tolist() == [0.42, 0.31]
    assert frame["rank"].tolist() == [1, 2]
    assert frame["held_out"].dtype == bool


def test_empty_tables_give_empty_frames_with_their_columns(store: OutcomeStore) -> None:
    assert store.record_outcomes([]) == 0
    assert store.record_holdout([]) == 0
    assert "contact_date" in store.outcomes_frame().columns
    assert store.holdout_frame().empty


def test_outcome_tables_hold_no_names_or_incomes() -> None:
    from risk_api.database import contact_outcomes, holdouts

    columns = {c.name for t in (contact_outcomes, holdouts) for c in t.columns}
    assert not columns & {"name", "income", "comment", "notes"}
    assert isinstance(contact_outcomes.c.tenancy_id.type, sa.String)
