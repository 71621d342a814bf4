"""Who may call what: the whole matrix of routes and keys."""

from __future__ import annotations

import pytest

from api_setup import AS_OF
from risk_api.deps import ADMIN, AUDITOR, NOT_AUTHENTICATED, ROUTE_ROLES, SCORER, WRONG_ROLE

BODIES = {
    "/v1/scores": {"as_of": AS_OF, "tenancies": []},
    "/v1/worklist": {"as_of": AS_OF, "capacity": 1, "tenancies": []},
    "/v1/outcomes": {"outcomes": []},
    "/v1/admin/reload": {"model": "/no/such/bundle"},
}
CALLERS = (None, "rk_000000000000_" + "x" * 43, SCORER, AUDITOR, ADMIN)


def _call(api, method: str, path: str, caller: str | None):
    if caller in (SCORER, AUDITOR, ADMIN):
        headers = api.headers(caller)
    elif caller is None:
        headers = {}
    else:
        headers = {"X-API-Key": caller}
    if method == "GET":
        return api.client.get(path, headers=headers)
    return api.client.post(path, json=BODIES.get(path, {}), headers=headers)


@pytest.mark.parametrize("caller", CALLERS, ids=["no-key", "unknown-key", *CALLERS[2:]])
@pytest.mark.parametrize(("method", "path"), sorted(ROUTE_ROLES))
def test_each_route_admits_exactly_its_roles(api, method, path, caller):
    response = _call(api, method, path, caller)
    allowed = ROUTE_ROLES[(method, path)]
    if caller not in (SCORER, AUDITOR, ADMIN):
        assert response.status_code == 401, response.text
    elif caller not in allowed:
        assert response.status_code == 403, response.text
        assert response.json()["message"] == WRONG_ROLE.format(
            role=caller, allowed=", ".join(allowed)
        )
    else:
        assert response.status_code not in (401, 403), response.text


def test_every_versioned_route_is_in_the_role_table(api):
    paths = api.client.app.openapi()["paths"]
    routes = {
        (method.upper(), path)
        for path, operations in paths.items()
        if path.startswith("/v1/")
        for method in operations
    }
    assert routes == set(ROUTE_ROLES)


def test_health_checks_and_the_schema_need_no_key(api):
    for path in ("/healthz", "/readyz", "/openapi.json"):
        assert api.client.get(path).status_code == 200


def test_a_revoked_key_is_refused(api):
    created = api.services.keys.create("short-lived", SCORER)
    headers = {"X-API-Key": created.secret}
    assert api.client.get("/v1/model", headers=headers).status_code == 403  # known, wrong role
    api.services.keys.revoke(created.info.key_id)
    assert api.client.get("/v1/model", headers=headers).status_code == 401


def test_a_key_with_a_right_id_and_a_wrong_secret_is_refused(api):
    key = api.keys[AUDITOR]
    forged = key[:-4] + ("AAAA" if not key.endswith("AAAA") else "BBBB")
    assert api.client.get("/v1/model", headers={"X-API-Key": forged}).status_code == 401


def test_a_request_without_a_valid_key_is_refused_before_its_body_is_read(api):
    for headers in ({}, {"X-API-Key": "rk_000000000000_" + "x" * 43}):
        response = api.client.post(
            "/v1/scores",
            content=b"{not json at all",
            headers={**headers, "content-type": "application/json"},
        )
        assert response.status_code == 401, response.text  # not a 422 about the body
        assert response.json()["message"] == NOT_AUTHENTICATED
