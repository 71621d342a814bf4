"""Scoring a request's raw facts: the same answers on either feature engine, and the work
list explains exactly its households, as a full scoring would."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from api_setup import AS_OF
from model_bundles import make_bundle
from risk import serving
from risk.features import build_features
from risk.features.small import portfolio_rows
from risk.portfolio import ColumnTables
from risk.scoring import score_features


@pytest.fixture(scope="module")
def bundle(fitted_model):
    return make_bundle(fitted_model)


@pytest.fixture(scope="module")
def request_rows(model_simulation, present_ids):
    # Sixty present tenancies with every row they have, as the API would pass them.
    wanted = set(present_ids[:60])
    rows = portfolio_rows(model_simulation.portfolio)
    return {name: [r for r in table if r[0] in wanted] for name, table in rows.items()}


@pytest.mark.parametrize("facts", ["rows", "columns"])
@pytest.mark.parametrize("small_request", [10_000, 0], ids=["sqlite", "duckdb"])
def test_a_request_is_scored_as_the_portfolio_is_on_either_engine(
    monkeypatch, request_rows, bundle, model_simulation, small_request, facts
):
    monkeypatch.setattr(serving, "SMALL_REQUEST", small_request)
    given = request_rows if facts == "rows" else ColumnTables.from_rows(request_rows)
    scored = serving.score_request(given, AS_OF, bundle, threads=1)
    whole = build_features(model_simulation.portfolio, AS_OF, threads=1)
    expected = score_features(whole, bundle, threads=1).set_index("tenancy_id")
    got = scored.scores.set_index("tenancy_id")
    assert len(got) == 60
    np.testing.assert_allclose(
        got["probability"], expected.loc[got.index, "probability"], rtol=0, atol=1e-12
    )
    assert [e.tenancy_id for e in scored.explanations] == got.index.tolist()


def test_the_work_list_explains_its_households_as_a_full_scoring_does(request_rows, bundle):
    full = serving.score_request(request_rows, AS_OF, bundle, threads=1)
    by_id = {e.tenancy_id: e for e in full.explanations}
    result = serving.worklist_request(
        request_rows, AS_OF, bundle, 7, 0.3, holdout_key=b"k" * 32, threads=1
    )
    listed, explanations = result.listed, result.explanations
    assert result.scores["eligible"].sum() == full.scores["eligible"].sum()
    assert (~listed["held_out"]).sum() == 7
    assert [e.tenancy_id for e in explanations] == listed["tenancy_id"].tolist()
    for explanation in explanations:
        assert explanation == by_id[explanation.tenancy_id]
    ranks = full.scores.set_index("tenancy_id")["rank"]
    pd.testing.assert_series_equal(
        listed.set_index("tenancy_id")["rank"], ranks.loc[listed["tenancy_id"]], check_names=False
    )


def test_with_a_key_the_same_households_are_held_out_each_time_in_a_cycle(request_rows, bundle):
    def held(key: bytes, as_of: str) -> list[str]:
        result = serving.worklist_request(
            request_rows, as_of, bundle, 20, 0.4, holdout_key=key, threads=1
        )
        return result.listed.loc[result.listed["held_out"], "tenancy_id"].tolist()

    first = held(b"k" * 32, AS_OF)
    assert first, "with a share of 0.4 some household is held out"
    assert held(b"k" * 32, AS_OF) == first
    assert held(b"other key" * 4, AS_OF) != first
