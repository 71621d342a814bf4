"""Model swaps: verified beside the old model, atomic, refused when the new one is bad.

The two bundle folders of ``api_bundle_dirs`` hold the same trees with different band
thresholds, so an answer's bands tell which model made it.
"""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from api_setup import AS_OF, RunningApi, start_api
from risk.bundle import ModelBundle


@pytest.fixture
def running(api_bundle_dirs, tmp_path: Path) -> Iterator[RunningApi]:
    yield from start_api(tmp_path, api_bundle_dirs[0])


def _reload(running: RunningApi, folder: Path | str):
    return running.client.post(
        "/v1/admin/reload", json={"model": str(folder)}, headers=running.headers("admin")
    )


def _version(running: RunningApi) -> str:
    return running.client.get("/readyz").json()["model"]["version"]


def test_a_reload_swaps_to_the_new_model_and_says_which(running, api_bundle_dirs):
    before = _version(running)
    response = _reload(running, api_bundle_dirs[1])
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["previous"]["version"] == before
    assert body["current"]["version"] == _version(running) != before


def test_a_reload_without_a_body_loads_the_configured_model(running, api_bundle_dirs):
    first = _version(running)
    _reload(running, api_bundle_dirs[1])
    response = running.client.post("/v1/admin/reload", headers=running.headers("admin"))
    assert response.status_code == 200, response.text
    assert _version(running) == first


def test_a_missing_model_is_refused_and_the_old_one_keeps_serving(running, tmp_path):
    before = _version(running)
    response = _reload(running, tmp_path / "nothing-here")
    assert response.status_code == 409
    assert response.json()["message"].startswith("model:")
    assert _version(running) == before


def test_a_tampered_bundle_is_refused_and_the_old_one_keeps_serving(
    running, api_bundle_dirs, tmp_path
):
    tampered = Path(shutil.copytree(api_bundle_dirs[1], tmp_path / "tampered"))
    model = tampered / "model.txt"
    model.write_text(model.read_text().replace("tree", "Tree", 1))
    before = _version(running)
    response = _reload(running, tampered)
    assert response.status_code == 409, response.text
    assert _version(running) == before


def test_requests_running_during_reloads_never_fail_nor_mix_versions(
    running, api_bundle_dirs, facts, present_ids
):
    tenancies = facts(present_ids[:30])
    bundles = [ModelBundle.load(folder) for folder in api_bundle_dirs]
    # What each version answers, from one request to each before the storm.
    expected: dict[str, dict[str, str]] = {}
    for folder in [*api_bundle_dirs, api_bundle_dirs[0]]:
        assert _reload(running, folder).status_code == 200
        body = running.client.post(
            "/v1/scores",
            json={"as_of": AS_OF, "tenancies": tenancies},
            headers=running.headers("scorer"),
        ).json()
        expected[body["model"]["version"]] = {s["tenancy_id"]: s["band"] for s in body["scores"]}
    assert len(expected) == 2
    assert expected[next(iter(expected))] != expected[list(expected)[1]], "bands must differ"
    assert bundles[0].bands != bundles[1].bands

    failures: list[str] = []
    seen_versions: set[str] = set()
    stop = threading.Event()

    def hammer() -> None:
        while not stop.is_set():
            response = running.client.post(
                "/v1/scores",
                json={"as_of": AS_OF, "tenancies": tenancies},
                headers=running.headers("scorer"),
            )
            if response.status_code != 200:
                failures.append(f"{response.status_code}: {response.text[:200]}")
                continue
            body = response.json()
            version = body["model"]["version"]
            seen_versions.add(version)
            bands = {s["tenancy_id"]: s["band"] for s in body["scores"]}
            if bands != expected[version]:
                failures.append(f"an answer of version {version} mixes another's bands")

    workers = [threading.Thread(target=hammer) for _ in range(3)]
    for worker in workers:
        worker.start()
    try:
        # At least 12 swaps, spaced so that answers of both versions come back between them.
        deadline = time.monotonic() + 60
        swaps = 0
        while swaps < 12 or (len(seen_versions) < 2 and time.monotonic() < deadline):
            assert _reload(running, api_bundle_dirs[swaps % 2]).status_code == 200
            swaps += 1
            time.sleep(0.1)
    finally:
        stop.set()
        for worker in workers:
            worker.join()
    assert failures == []
    assert seen_versions == set(expected)
