"""A running API for the route tests: the session's small model, a SQLite database, keys.

``api_bundle_dirs`` writes the session's fitted model as two bundle folders that differ
only in their bands (two versions to swap between). ``api`` is a started TestClient with
one key per role. ``facts`` turns tenancies of the model's simulated portfolio into
request objects.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from model_bundles import make_bundle
from risk.bundle import ModelBundle
from risk.labels import present_tenancies
from risk_api.app import create_app
from risk_api.deps import ADMIN, AUDITOR, SCORER, Services
from risk_api.facts import facts_from_portfolio
from risk_api.settings import Settings

#: Scoring date of the API tests: after the fitted model's training months.
AS_OF = "2020-09-01"


@dataclass
class RunningApi:
    """A started TestClient, its services and one key per role."""

    client: TestClient
    services: Services
    keys: dict[str, str]

    def headers(self, role: str) -> dict[str, str]:
        return {"X-API-Key": self.keys[role]}


@pytest.fixture(scope="session")
def api_bundle_dirs(fitted_model, tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    root = tmp_path_factory.mktemp("api-bundles")
    first = make_bundle(fitted_model).write(root / "first")
    # Same trees, other bands: a second version, told apart by its band thresholds.
    second_bundle = ModelBundle.from_model(
        fitted_model,
        bands={"high": 0.5, "elevated": 0.3},
        label="first_arrears",
        horizon_months=3,
        train_until="2020-02-01",
        metrics={},
        data_fingerprint="def456",
        config={},
        code_version="test",
        created_at="2021-02-15T09:00:00+00:00",
    )
    second = second_bundle.write(root / "second")
    return [first, second]


@pytest.fixture(scope="session")
def present_ids(model_simulation) -> list[str]:
    present = present_tenancies(model_simulation.portfolio.tenancies, AS_OF)
    return sorted(present["tenancy_id"])


@pytest.fixture(scope="session")
def facts(model_simulation):
    def make(tenancy_ids: list[str], ledger_since: Any = None) -> list[dict[str, Any]]:
        return facts_from_portfolio(
            model_simulation.portfolio, list(tenancy_ids), ledger_since=ledger_since
        )

    return make


def start_api(tmp: Path, model: Path | str, **overrides: Any) -> Iterator[RunningApi]:
    settings = Settings(
        model=str(model),
        tracking_root=tmp / "mlruns",
        database_url=f"sqlite:///{tmp / 'api.db'}",
        pseudonym_key_file=tmp / "pseudonym.key",
        key_cache_seconds=0.0,
        **overrides,
    )
    app = create_app(settings)
    with TestClient(app, raise_server_exceptions=False) as client:
        services: Services = app.state.services
        keys = {
            role: services.keys.create(f"test-{role}", role).secret
            for role in (SCORER, AUDITOR, ADMIN)
        }
        yield RunningApi(client=client, services=services, keys=keys)


@pytest.fixture(scope="module")
def api(api_bundle_dirs, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApi]:
    yield from start_api(tmp_path_factory.mktemp("api"), api_bundle_dirs[0])
