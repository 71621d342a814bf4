"""The OpenAPI document: an example for every route, and every example is valid."""

from __future__ import annotations

import json

import pytest

from risk_api.routes_admin import EXAMPLE_AUDIT_PAGE, EXAMPLE_MODEL_DESCRIPTION, ModelDescription
from risk_api.schemas import (
    EXAMPLE_SCORE_RESPONSE,
    EXAMPLE_WORKLIST_RESPONSE,
    OutcomesRequest,
    ScoreRequest,
    ScoreResponse,
    WorklistRequest,
    WorklistResponse,
)


@pytest.fixture(scope="module")
def document(api) -> dict:
    return api.client.get("/openapi.json").json()


def test_every_route_shows_an_example_answer(document):
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            success = operation["responses"].get("200") or operation["responses"].get("201")
            assert success is not None, (method, path)
            assert "example" in json.dumps(success), (method, path)


def test_every_request_body_has_an_example(document):
    schemas = document["components"]["schemas"]
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            body = operation.get("requestBody")
            if body is None:
                continue
            schema = body["content"]["application/json"]["schema"]
            reference = schema.get("$ref") or next(
                s["$ref"] for s in schema.get("anyOf", []) if "$ref" in s
            )
            name = reference.rsplit("/", 1)[-1]
            assert schemas[name].get("examples"), (method, path, name)


@pytest.mark.parametrize(
    ("model", "example"),
    [
        (ScoreRequest, ScoreRequest.model_config["json_schema_extra"]["examples"][0]),
        (WorklistRequest, WorklistRequest.model_config["json_schema_extra"]["examples"][0]),
        (OutcomesRequest, OutcomesRequest.model_config["json_schema_extra"]["examples"][0]),
        (ScoreResponse, EXAMPLE_SCORE_RESPONSE),
        (WorklistResponse, EXAMPLE_WORKLIST_RESPONSE),
        (ModelDescription, EXAMPLE_MODEL_DESCRIPTION),
    ],
)
def test_each_example_is_valid_for_its_model(model, example):
    model.model_validate(example)


def test_the_example_request_is_scored(api):
    example = ScoreRequest.model_config["json_schema_extra"]["examples"][0]
    response = api.client.post("/v1/scores", json=example, headers=api.headers("scorer"))
    assert response.status_code == 200, response.text
    ScoreResponse.model_validate(response.json())


def test_the_audit_example_has_the_columns_the_log_returns(api):
    example = ScoreRequest.model_config["json_schema_extra"]["examples"][0]
    api.client.post("/v1/scores", json=example, headers=api.headers("scorer"))
    rows = api.client.get("/v1/audit", headers=api.headers("auditor")).json()["rows"]
    assert rows
    assert set(rows[0]) == set(EXAMPLE_AUDIT_PAGE["rows"][0])
