"""The routes: scores, work list, outcomes, model, audit, health, and their errors.

The service runs the session's small model (``api_bundle_dirs``) on a SQLite database;
tenancies come from the model's simulated portfolio at ``AS_OF``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from api_setup import AS_OF, start_api
from risk.catalogue import FEATURES
from risk.explanation import MAX_REASONS
from risk.features import build_features
from risk.scoring import score_features
from risk_api.app import BODY_TOO_LARGE
from risk_api.deps import NOT_AUTHENTICATED
from risk_api.model_store import NO_MODEL


def _score(api, tenancies, as_of=AS_OF):
    return api.client.post(
        "/v1/scores", json={"as_of": as_of, "tenancies": tenancies}, headers=api.headers("scorer")
    )


def test_scores_come_back_in_request_order_with_the_model_identity(api, facts, present_ids):
    ids = present_ids[10:16][::-1]  # deliberately not sorted
    response = _score(api, facts(ids))
    assert response.status_code == 200, response.text
    body = response.json()
    assert [s["tenancy_id"] for s in body["scores"]] == ids
    assert body["as_of"] == AS_OF
    assert body["model"]["name"] == "arrears-risk"
    assert body["model"]["version"].startswith("sha256:")
    assert body["model"]["alias"] is None


def test_ranks_are_within_the_request_and_follow_the_probability(api, facts, present_ids):
    body = _score(api, facts(present_ids[:40])).json()
    ranks = sorted(s["rank"] for s in body["scores"])
    assert ranks == list(range(1, 41))
    eligible = sorted((s for s in body["scores"] if s["eligible"]), key=lambda s: s["rank"])
    probabilities = [s["probability"] for s in eligible]
    assert probabilities == sorted(probabilities, reverse=True)


def test_each_score_has_at_most_four_reasons_with_texts_in_french_and_english(
    api, facts, present_ids
):
    body = _score(api, facts(present_ids[:40])).json()
    codes = {f.reason_group.upper() for f in FEATURES}
    assert any(s["reasons"] for s in body["scores"])
    for score in body["scores"]:
        assert len(score["reasons"]) <= MAX_REASONS
        for reason in score["reasons"]:
            assert reason["code"] in codes
            assert reason["text_fr"] and reason["text_en"]
            assert reason["contribution"] > 0
            assert (reason["lever"] is None) == (reason["lever_fr"] is None)
    lines = [s["counterfactual"] for s in body["scores"] if s["counterfactual"]]
    assert lines, "some household should have a change that lowers its risk"
    assert all(c["probability_after"] < c["probability_before"] for c in lines)


def test_the_api_scores_a_tenancy_as_the_library_does_on_the_whole_portfolio(
    api, facts, present_ids, model_simulation, api_bundle_dirs
):
    from risk.bundle import ModelBundle

    ids = present_ids[:25]
    body = _score(api, facts(ids)).json()
    bundle = ModelBundle.load(api_bundle_dirs[0])
    features = build_features(model_simulation.portfolio, AS_OF, threads=1)
    library = score_features(features, bundle, threads=1).set_index("tenancy_id")
    for score in body["scores"]:
        assert score["probability"] == pytest.approx(
            library.loc[score["tenancy_id"], "probability"], abs=1e-12
        )
        assert score["band"] == library.loc[score["tenancy_id"], "band"]


def test_facts_posted_on_or_after_as_of_change_nothing(api, facts, present_ids):
    tenancy = facts(present_ids[3:4])[0]
    before = _score(api, [tenancy]).json()["scores"][0]
    late = {
        "event_date": "2020-08-20",  # the money moved before as-of ...
        "posted_date": AS_OF,  # ... but the landlord learnt it on the as-of day
        "kind": "tenant_payment",
        "amount": 5000.0,
        "payment_method": "transfer",
    }
    after = _score(api, [{**tenancy, "ledger": [*tenancy["ledger"], late]}]).json()["scores"][0]
    assert after == before


def test_a_work_list_holds_the_k_eligible_households_ranked_first(api, facts, present_ids):
    response = api.client.post(
        "/v1/worklist",
        json={"as_of": AS_OF, "capacity": 5, "tenancies": facts(present_ids[:60])},
        headers=api.headers("scorer"),
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["capacity"] == 5 and body["holdout_share"] == 0.0
    assert [item["rank"] for item in body["contact"]] == [1, 2, 3, 4, 5]
    assert all(item["eligible"] and not item["held_out"] for item in body["contact"])
    assert body["held_out"] == []


def test_a_work_list_capacity_may_be_a_share_of_the_eligible_households(api, facts, present_ids):
    body = api.client.post(
        "/v1/worklist",
        json={"as_of": AS_OF, "capacity": "10%", "tenancies": facts(present_ids[:60])},
        headers=api.headers("scorer"),
    ).json()
    assert body["capacity"] == round(0.10 * body["eligible"] + 1e-9) or body["capacity"] >= 1


def test_a_hold_out_is_drawn_recorded_and_keeps_the_team_capacity(
    api_bundle_dirs, facts, present_ids, tmp_path
):
    for running in start_api(tmp_path, api_bundle_dirs[0], holdout_share=0.5):
        body = running.client.post(
            "/v1/worklist",
            json={"as_of": AS_OF, "capacity": 20, "tenancies": facts(present_ids[:200])},
            headers=running.headers("scorer"),
        ).json()
        assert len(body["contact"]) == 20
        assert body["held_out"], "with a share of one half some household is held out"
        assert all(item["held_out"] for item in body["held_out"])
        ranks = sorted(item["rank"] for item in body["contact"] + body["held_out"])
        assert ranks == list(range(1, len(ranks) + 1)), "drawn down the ranking, no gap"
        recorded = running.services.outcomes.holdout_frame()
        assert len(recorded) == len(ranks)
        assert recorded["held_out"].sum() == len(body["held_out"])
        assert set(recorded["tenancy_id"]) == {
            item["tenancy_id"] for item in body["contact"] + body["held_out"]
        }


def test_outcomes_are_stored_for_the_next_training(api):
    response = api.client.post(
        "/v1/outcomes",
        json={
            "outcomes": [
                {"tenancy_id": "T1", "contact_date": "2020-09-03", "outcome": "reached"},
                {"tenancy_id": "T2", "contact_date": "2020-09-04", "outcome": "no_answer"},
            ]
        },
        headers=api.headers("scorer"),
    )
    assert response.status_code == 201, response.text
    assert response.json() == {"recorded": 2}
    stored = api.services.outcomes.outcomes_frame()
    assert {"T1", "T2"} <= set(stored["tenancy_id"])


def test_an_unknown_outcome_is_refused_naming_the_field(api):
    response = api.client.post(
        "/v1/outcomes",
        json={"outcomes": [{"tenancy_id": "T1", "contact_date": "2020-09-03", "outcome": "x"}]},
        headers=api.headers("scorer"),
    )
    assert response.status_code == 422
    assert response.json()["message"].startswith("outcomes[0].outcome")


def test_every_scored_household_is_in_the_audit_log_under_a_pseudonym(api, facts, present_ids):
    ids = present_ids[100:103]
    scored = _score(api, facts(ids)).json()["scores"]
    for score in scored:
        rows = api.client.get(
            "/v1/audit", params={"tenancy_id": score["tenancy_id"]}, headers=api.headers("auditor")
        ).json()["rows"]
        assert rows, score["tenancy_id"]
        row = rows[0]
        assert row["probability"] == pytest.approx(score["probability"])
        assert row["reason_codes"] == [r["code"] for r in score["reasons"]]
        assert row["route"] == "/v1/scores"
        assert score["tenancy_id"] not in str(row)
        assert row["tenancy_pseudonym"] == api.services.audit.pseudonym(score["tenancy_id"])


def test_the_model_route_describes_the_model_and_its_whole_catalogue(api):
    body = api.client.get("/v1/model", headers=api.headers("auditor")).json()
    assert body["name"] == "arrears-risk" and body["label"] == "first_arrears"
    assert body["train_until"] == "2020-02-01"
    assert {entry["name"] for entry in body["catalogue"]} == {f.name for f in FEATURES}
    assert all(entry["reason_fr"] and entry["reason_en"] for entry in body["catalogue"])
    assert "ne décide jamais seul" in body["notice_fr"]


def test_health_is_always_ok_and_ready_names_the_model(api):
    assert api.client.get("/healthz").json() == {"status": "ok"}
    ready = api.client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["status"] == "ready"


def test_without_a_loadable_model_the_service_is_alive_but_not_ready(tmp_path, facts, present_ids):
    for running in start_api(tmp_path, tmp_path / "no-such-bundle"):
        assert running.client.get("/healthz").status_code == 200
        assert running.client.get("/readyz").status_code == 503
        response = running.client.post(
            "/v1/scores",
            json={"as_of": AS_OF, "tenancies": facts(present_ids[:1])},
            headers=running.headers("scorer"),
        )
        assert response.status_code == 503
        assert response.json()["message"] == NO_MODEL


# --- bad input: a 4xx naming the field, never a 500 -------------------------------------


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda t: {**t, "monthly_rnet": 3}, "tenancies[0].monthly_rnet"),
        (lambda t: {**t, "monthly_rent": -1}, "tenancies[0].monthly_rent"),
        (lambda t: {**t, "guarantee": "aunt"}, "tenancies[0].guarantee"),
        (lambda t: {**t, "start_date": "2020-13-01"}, "tenancies[0].start_date"),
        (lambda t: {**t, "start_date": AS_OF}, "tenancies[0].start_date"),
        (lambda t: {**t, "tenant_birth_year": 1850}, "tenancies[0].tenant_birth_year"),
        (lambda t: {**t, "ledger": [{"kind": "rent_charge"}]}, "tenancies[0].ledger[0].event_date"),
        (
            lambda t: {**t, "ledger": [{**t["ledger"][0], "amount": 1e9}]},
            "tenancies[0].ledger[0].amount",
        ),
        (
            lambda t: {
                **t,
                "ledger": [
                    {**t["ledger"][0], "event_date": "2020-05-02", "posted_date": "2020-05-01"}
                ],
            },
            "tenancies[0]: ledger[0]: posted_date",
        ),
        (
            lambda t: {k: v for k, v in t.items() if k != "residence_id"},
            "tenancies[0].residence_id",
        ),
    ],
)
def test_a_malformed_tenancy_gets_a_422_naming_the_field(api, facts, present_ids, change, field):
    tenancy = change(facts(present_ids[:1])[0])
    response = _score(api, [tenancy])
    assert response.status_code == 422, response.text
    assert response.json()["message"].startswith(field)


def test_the_same_tenancy_twice_is_refused(api, facts, present_ids):
    tenancy = facts(present_ids[:1])[0]
    response = _score(api, [tenancy, tenancy])
    assert response.status_code == 422
    assert response.json()["message"].startswith("tenancies[1].tenancy_id")


def test_a_body_that_is_not_json_gets_a_422(api):
    response = api.client.post(
        "/v1/scores",
        content=b'{"as_of": "2020-09-01", "tenancies": [',
        headers={**api.headers("scorer"), "content-type": "application/json"},
    )
    assert response.status_code == 422


def test_an_empty_or_oversized_tenancy_list_is_refused(api, facts, present_ids):
    assert _score(api, []).status_code == 422
    many = [{"tenancy_id": f"T{i}"} for i in range(5_001)]
    response = _score(api, many)
    assert response.status_code == 422
    assert response.json()["message"].startswith("tenancies")


def test_a_body_over_the_limit_is_refused_with_413(api_bundle_dirs, tmp_path):
    for running in start_api(tmp_path, api_bundle_dirs[0], max_body_bytes=1_000):
        response = running.client.post(
            "/v1/scores",
            content=b"{" + b" " * 2_000 + b"}",
            headers={**running.headers("scorer"), "content-type": "application/json"},
        )
        assert response.status_code == 413
        assert response.json()["message"] == BODY_TOO_LARGE.format(limit=1_000)


def test_an_as_of_outside_the_supported_dates_is_refused(api, facts, present_ids):
    response = _score(api, facts(present_ids[:1]), as_of="1700-01-01")
    assert response.status_code == 422
    assert response.json()["message"].startswith("as_of")


def test_without_a_key_the_answer_is_401_and_says_which_header(api):
    response = api.client.post("/v1/scores", json={})
    assert response.status_code == 401
    assert response.json()["message"] == NOT_AUTHENTICATED


def test_work_list_probabilities_match_the_scores_route(api, facts, present_ids):
    tenancies = facts(present_ids[:30])
    scores = {s["tenancy_id"]: s["probability"] for s in _score(api, tenancies).json()["scores"]}
    body = api.client.post(
        "/v1/worklist",
        json={"as_of": AS_OF, "capacity": 3, "tenancies": tenancies},
        headers=api.headers("scorer"),
    ).json()
    for item in body["contact"]:
        assert item["probability"] == scores[item["tenancy_id"]]
    assert np.all(np.diff([i["probability"] for i in body["contact"]]) <= 0)


def test_the_ledger_sent_may_be_only_the_recent_months(api, facts, present_ids):
    recent = facts(present_ids[5:6], ledger_since=pd.Timestamp(AS_OF) - pd.DateOffset(months=24))
    assert _score(api, recent).status_code == 200


def test_a_tenancy_scored_through_the_api_and_through_risk_score_agrees(
    api, facts, present_ids, model_simulation, api_bundle_dirs, tmp_path
):
    from report_setup import invoke

    export = model_simulation.portfolio.write(tmp_path / "export")
    out = tmp_path / "scores.csv"
    result = invoke(
        "score", export, "--as-of", AS_OF, "--capacity", 5, "--out", out,
        "--model", api_bundle_dirs[0],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    cli = pd.read_csv(out, dtype={"tenancy_id": str}).set_index("tenancy_id")
    ids = present_ids[::37]
    body = _score(api, facts(ids)).json()
    for score in body["scores"]:
        row = cli.loc[score["tenancy_id"]]
        assert abs(score["probability"] - row["probability"]) <= 1e-9
        assert score["band"] == row["band"]
        codes = [r["code"] for r in score["reasons"]]
        assert codes == [row[f"reason_{k}_code"] for k in range(1, len(codes) + 1)]
        if len(codes) < 4:
            assert pd.isna(row[f"reason_{len(codes) + 1}_code"])


# --- found in review ------------------------------------------------------------------


@pytest.mark.parametrize("capacity", ["0%", "250%", 0, -3])
def test_a_capacity_the_library_cannot_read_is_a_422_naming_it(api, facts, present_ids, capacity):
    response = api.client.post(
        "/v1/worklist",
        json={"as_of": AS_OF, "capacity": capacity, "tenancies": facts(present_ids[:3])},
        headers=api.headers("scorer"),
    )
    assert response.status_code == 422, response.text
    assert "capacity" in response.json()["message"]


def test_an_identifier_with_a_control_character_is_refused(api, facts, present_ids):
    tenancy = {**facts(present_ids[:1])[0], "tenancy_id": "T\u0000z"}
    assert _score(api, [tenancy]).status_code == 422
    response = api.client.post(
        "/v1/outcomes",
        json={"outcomes": [{"tenancy_id": "a\nb", "contact_date": AS_OF, "outcome": "reached"}]},
        headers=api.headers("scorer"),
    )
    assert response.status_code == 422


def test_two_incomes_with_the_same_dates_are_refused_naming_the_row(api, facts, present_ids):
    tenancy = facts(present_ids[:1])[0]
    income = tenancy["incomes"][0]
    twice = {**tenancy, "incomes": [income, {**income, "monthly_income": 3000.0}]}
    response = _score(api, [twice])
    assert response.status_code == 422
    assert response.json()["message"].startswith("tenancies[0]: incomes[1]")


@pytest.mark.parametrize(
    "params", [{"since": "0001-01-01T00:00:00+01:00"}, {"until": "9999-12-31T23:59:59-01:00"}]
)
def test_audit_dates_out_of_range_are_a_422(api, params):
    response = api.client.get("/v1/audit", params=params, headers=api.headers("auditor"))
    assert response.status_code == 422
    assert response.json()["message"].startswith(next(iter(params)))


def test_only_a_plain_request_id_is_kept_in_the_audit_log(api, facts, present_ids):
    tenancy = facts(present_ids[7:8])
    for given, kept in (("job-42.a", True), ("Mme Dupont, 3e etage", False)):
        api.client.post(
            "/v1/scores",
            json={"as_of": AS_OF, "tenancies": tenancy},
            headers={**api.headers("scorer"), "X-Request-ID": given},
        )
        row = api.client.get(
            "/v1/audit",
            params={"tenancy_id": present_ids[7], "limit": 1},
            headers=api.headers("auditor"),
        ).json()["rows"][0]
        assert (row["request_id"] == given) is kept


def test_a_work_list_audits_every_household_it_scored(api, facts, present_ids):
    ids = present_ids[200:230]
    body = api.client.post(
        "/v1/worklist",
        json={"as_of": AS_OF, "capacity": 2, "tenancies": facts(ids)},
        headers={**api.headers("scorer"), "X-Request-ID": "worklist-audit-test"},
    ).json()
    listed = {item["tenancy_id"] for item in body["contact"]}
    rows = api.client.get(
        "/v1/audit",
        params={"route": "/v1/worklist", "limit": 1000},
        headers=api.headers("auditor"),
    ).json()["rows"]
    mine = [r for r in rows if r["request_id"] == "worklist-audit-test"]
    assert len(mine) == len(ids)
    explained = {r["tenancy_pseudonym"] for r in mine if r["reason_codes"]}
    assert explained <= {api.services.audit.pseudonym(t) for t in listed}


def test_the_hold_out_is_the_same_when_the_list_is_asked_twice(
    api_bundle_dirs, facts, present_ids, tmp_path
):
    for running in start_api(tmp_path, api_bundle_dirs[0], holdout_share=0.4):
        request = {"as_of": AS_OF, "capacity": 15, "tenancies": facts(present_ids[:120])}
        answers = [
            running.client.post(
                "/v1/worklist", json=request, headers=running.headers("scorer")
            ).json()
            for _ in range(2)
        ]
        held = [[i["tenancy_id"] for i in a["held_out"]] for a in answers]
        assert held[0] and held[0] == held[1]



def test_a_chunked_body_over_the_limit_is_cut_off_with_413(api_bundle_dirs, tmp_path):
    def chunks():
        for _ in range(10):
            yield b" " * 300

    for running in start_api(tmp_path, api_bundle_dirs[0], max_body_bytes=1_000):
        response = running.client.post(
            "/v1/scores",
            content=chunks(),
            headers={**running.headers("scorer"), "content-type": "application/json"},
        )
        assert response.status_code == 413
        assert response.json()["message"] == BODY_TOO_LARGE.format(limit=1_000)


def test_a_body_that_is_not_json_says_where_it_breaks(api):
    response = api.client.post(
        "/v1/scores",
        content=b'{"as_of": "2020-09-01", "tenancies": [',
        headers={**api.headers("scorer"), "content-type": "application/json"},
    )
    assert response.status_code == 422
    assert response.json()["message"].startswith("body: JSON decode error at character")
