"""Fuzzing the OpenAPI schema: generated requests never get a 5xx.

schemathesis generates requests for every operation from the service's own schema, valid
and invalid ones (both generation modes), and sends them with a key of the role the
route admits. Each answer must be below 500. The last test checks that at least
:data:`AT_LEAST` requests were sent, so that a broken generator cannot pass silently.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode

from api_setup import RunningApi, start_api
from risk_api.deps import ROUTE_ROLES

#: Requests the fuzzing must send in all.
AT_LEAST = 1_000
#: Examples per operation and generation mode. The 5 operations that take input get
#: valid and invalid data (10 x 110 = 1,100 requests); the 3 without input have only a
#: handful of distinct requests, which hypothesis does not repeat.
EXAMPLES = 110

_sent: list[int] = []


@pytest.fixture(scope="module")
def fuzzed_api(api_bundle_dirs, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApi]:
    yield from start_api(tmp_path_factory.mktemp("fuzz"), api_bundle_dirs[0])


def _key(running: RunningApi, method: str, path: str) -> dict[str, str]:
    roles = ROUTE_ROLES.get((method.upper(), path))
    return running.headers(roles[0]) if roles else {}


def _operations(running: RunningApi) -> list[Any]:
    schema = schemathesis.openapi.from_asgi("/openapi.json", running.client.app)
    return [result.ok() for result in schema.get_all_operations()]


def _has_input(operation: Any) -> bool:
    definition = operation.definition.raw
    return bool(definition.get("parameters") or definition.get("requestBody"))


@pytest.mark.slow
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_no_generated_request_gets_a_server_error(fuzzed_api: RunningApi, mode) -> None:
    operations = _operations(fuzzed_api)
    assert len(operations) == 8
    for operation in operations:
        if mode is GenerationMode.NEGATIVE and not _has_input(operation):
            continue  # nothing to get wrong in a request without parameters or body

        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        @given(case=operation.as_strategy(generation_mode=mode))
        def call(case) -> None:
            headers = {**(case.headers or {}), **_key(fuzzed_api, case.method, case.path)}
            response = case.call(headers=headers)
            _sent.append(response.status_code)
            assert response.status_code < 500, (case.method, case.path, response.text[:500])

        call()


def test_the_fuzzing_sent_enough_requests() -> None:
    if not _sent:
        pytest.skip("the fuzzing test did not run in this session (deselected)")
    assert len(_sent) >= AT_LEAST, len(_sent)
    assert any(200 <= code < 300 for code in _sent), "some generated request should succeed"
