"""Benchmark of the scoring API against issue #6's targets (not a test).

Starts ``risk serve`` (one uvicorn worker, loopback, a SQLite database with a scorer and
an admin key) and, beside it, ``bench/bare_app.py``: a bare FastAPI endpoint calling
LightGBM on a prepared numpy row of the same model, served the same way. Both are measured
with the same clients in the same run:

1. single-request latency: sequential requests on one keep-alive connection
   (``http.client``), after a warm-up; blocks of the service and of the bare endpoint
   alternate so that a busy machine weighs on both alike. Each service request is one
   tenancy with 24 months of ledger, scored with its reasons from raw facts.
   Targets: p50 <= 5 ms, p99 <= 15 ms, p50 <= 3x the bare endpoint's.
2. throughput: ``wrk -t2 -c8`` for 60 s on ``POST /v1/scores`` (and on the bare
   endpoint, for comparison). Target: >= 300 requests/s and zero errors (non-2xx,
   socket errors). Without ``wrk`` a Python client with 8 threads stands in (slower).
3. batch: 1,000 tenancies (24 months of ledger each) in one request, 5 times.
   Target: median <= 1 s.
4. reload under load: ``POST /v1/admin/reload`` every 5 s during a 60 s ``wrk`` run,
   alternating two bundle folders (the model, and the model less its last tree, so that
   the version really changes). Target: every reload 200, zero failed requests.

Also recorded: the server's peak resident memory (VmHWM), the in-process cost of the
library call the route makes (``risk.serving.score_request``, one tenancy), the machine.

What it needs, made in ``--work`` (default ``$TMPDIR/risk-bench-api``) when not given and
reused by later runs: a simulated portfolio (the demo's: 5,000 tenancies, 2019-01 to
2024-12, seed 0) and a bundle trained on it with the default model settings (a short
backtest: only the final model matters here). ``--data`` and ``--bundle`` reuse existing
ones, e.g. ``out/demo/data`` and a bundle exported by ``risk export``.

Usage::

    .venv/bin/python bench/bench_api.py            # full run, ~5 minutes once prepared
    .venv/bin/python bench/bench_api.py --quick    # smoke run, ~1 minute once prepared
    .venv/bin/python bench/bench_api.py --data out/demo/data --bundle DIR

Prints a table and writes ``bench/results/api.json`` (``api-quick.json`` with
``--quick``; ``--out`` to choose). Exit status 0 even when a target is missed; 1 when a
server failed to start.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import http.client
import importlib.metadata
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from risk_api.settings import Settings

BENCH = Path(__file__).resolve().parent
RESULTS = BENCH / "results"
HOST = "127.0.0.1"
#: The demo's simulated period and size.
SIM_START, SIM_END, SIM_TENANCIES, SIM_SEED = "2019-01", "2024-12", 5_000, 0
LEDGER_MONTHS = 24
BATCH_TENANCIES = 1_000
#: The service's default limit on request bodies.
DEFAULT_BODY_LIMIT = int(Settings.model_fields["max_body_bytes"].default)
#: Distinct one-tenancy bodies cycled through by the clients.
SINGLE_BODIES = 64

TARGETS = {
    "p50_ms": 5.0,
    "p99_ms": 15.0,
    "ratio_p50": 3.0,
    "requests_per_s": 300.0,
    "batch_s": 1.0,
}


@dataclass(frozen=True)
class Plan:
    """How much of each measurement a mode runs."""

    warmup: int
    requests: int
    blocks: int
    load_seconds: int
    bare_load_seconds: int
    batch_repeats: int
    reload_seconds: int
    reload_every: float
    library_repeats: int
    #: Time caps (seconds), so that a slow service cannot stretch the run: the warm-up
    #: and the timed requests per endpoint, the in-process measure, the batch repeats.
    warmup_budget: float
    latency_budget: float
    library_budget: float
    batch_budget: float


FULL = Plan(200, 2_000, 4, 60, 30, 5, 60, 5.0, 300, 10.0, 45.0, 10.0, 45.0)
QUICK = Plan(50, 400, 2, 10, 5, 2, 10, 2.0, 50, 3.0, 8.0, 3.0, 10.0)


# ---------------------------------------------------------------- preparation


_CLOCK = time.monotonic()


def _say(line: str) -> None:
    print(f"[{time.monotonic() - _CLOCK:6.1f} s] {line}", flush=True)


def prepare_data(work: Path) -> Path:
    """Simulate the demo's portfolio into ``work/data`` unless it is there already."""
    data = work / "data"
    if (data / "tenancies.parquet").exists():
        return data
    from risk.simulation import simulate

    _say(f"simulating {SIM_TENANCIES:,} tenancies {SIM_START}..{SIM_END} into {data}…")
    simulate(n_tenancies=SIM_TENANCIES, start=SIM_START, end=SIM_END, seed=SIM_SEED).write(data)
    return data


def prepare_bundle(work: Path, data: Path) -> Path:
    """Train a model on ``data`` with the default settings into ``work/bundle`` (once).

    The backtest is cut to one fold and the bootstrap switched off: they do not change
    the final model, which is all the service needs.
    """
    bundle = work / "bundle"
    if (bundle / "manifest.json").exists():
        return bundle
    from risk.config import load_config
    from risk.ingestion import read_portfolio
    from risk.training import train

    config = load_config(None)
    config.backtest.test_months = 1
    config.backtest.refit_every_months = 1
    config.evaluation.bootstrap = 0
    _say(f"training a model on {data} (a few minutes, once)…")
    result = train(read_portfolio(data), config, log=lambda line: _say(f"   {line}"))
    result.bundle.write(bundle, overwrite=True)
    return bundle


def variant_bundle(bundle: Path, folder: Path) -> Path:
    """Write ``bundle`` less its last tree into ``folder``: a valid, different version."""
    from risk.bundle import ModelBundle

    source = ModelBundle.load(bundle)
    manifest = source.manifest
    manifest.pop("files", None)
    trees = source.booster.current_iteration()
    if trees < 2:
        shutil.copytree(bundle, folder, dirs_exist_ok=True)
        return folder
    manifest["best_iteration"] = min(int(manifest.get("best_iteration", trees)), trees - 1)
    text = source.booster.model_to_string(num_iteration=trees - 1)
    ModelBundle(text, manifest, source.reference).write(folder, overwrite=True)
    return folder


@dataclass
class Bodies:
    """Request bodies, JSON-encoded once."""

    as_of: str
    singles: list[bytes]
    single_ids: list[str]
    batch: bytes
    ledger_rows: float
    bare_row: np.ndarray


def _month_start(value: Any) -> dt.date:
    return dt.date(value.year, value.month, 1)


def _add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def make_bodies(data: Path, bundle: Path, as_of: str | None) -> Bodies:
    """Pick tenancies with 24 months of ledger at ``as_of`` and encode their facts."""
    import pandas as pd

    from risk.bundle import ModelBundle
    from risk.features import build_features
    from risk.ingestion import read_portfolio
    from risk.matrix import feature_matrix
    from risk_api.facts import TenancyFacts, facts_from_portfolio, tenancy_tables

    portfolio = read_portfolio(data)
    tables = dict(portfolio.tables())
    ledger = tables["ledger"]
    day = (
        dt.date.fromisoformat(as_of)
        if as_of
        else _add_months(_month_start(ledger["event_date"].max()), 1)
    )
    since = _add_months(day, -LEDGER_MONTHS)
    tenancies = tables["tenancies"]
    active = tenancies[
        (tenancies["start_date"] <= pd.Timestamp(since))
        & (tenancies["end_date"].isna() | (tenancies["end_date"] >= pd.Timestamp(day)))
    ]
    ids = sorted(active["tenancy_id"])
    if not ids:
        raise SystemExit(f"no tenancy of {data} is active from {since} to {day}")
    batch_ids = ids[:BATCH_TENANCIES]
    facts = facts_from_portfolio(portfolio, batch_ids, ledger_since=since)
    while len(facts) < BATCH_TENANCIES:  # a small portfolio: repeat under new ids
        copy = dict(facts[len(facts) % len(batch_ids)])
        copy["tenancy_id"] = f"{copy['tenancy_id']}-{len(facts)}"
        facts.append(copy)
    rows = [len(f["ledger"]) for f in facts]
    singles = [
        json.dumps({"as_of": day.isoformat(), "tenancies": [f]}).encode()
        for f in facts[:SINGLE_BODIES]
    ]
    batch = json.dumps({"as_of": day.isoformat(), "tenancies": facts}).encode()
    # The bare endpoint's prepared row: the library's features of the first tenancy.
    model = ModelBundle.load(bundle)
    one = tenancy_tables([TenancyFacts.model_validate(facts[0])])
    features = build_features(one.portfolio(), day.isoformat(), threads=1)
    row = np.asarray(feature_matrix(features, model.feature_names), dtype=np.float64)
    return Bodies(
        as_of=day.isoformat(),
        singles=singles,
        single_ids=[f["tenancy_id"] for f in facts[:SINGLE_BODIES]],
        batch=batch,
        ledger_rows=float(statistics.mean(rows)),
        bare_row=row.reshape(1, -1),
    )


def make_keys(url: str) -> tuple[str, str]:
    """Create the schema and a scorer and an admin key; return their secrets."""
    from risk_api.database import create_schema, make_engine
    from risk_api.keys import KeyStore

    engine = make_engine(url)
    create_schema(engine)
    store = KeyStore(engine)
    scorer, admin = store.create("bench", "scorer").secret, store.create("bench", "admin").secret
    engine.dispose()
    return scorer, admin


# ---------------------------------------------------------------- servers


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    """A server subprocess on loopback."""

    name: str
    command: list[str]
    env: dict[str, str]
    cwd: Path
    port: int
    process: subprocess.Popen[bytes] | None = None
    log: Path | None = None

    def start(self, timeout: float = 120.0) -> None:
        self.log = self.cwd / f"{self.name}.log"
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                self.command, env=self.env, cwd=self.cwd, stdout=out, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            with contextlib.suppress(OSError, http.client.HTTPException):
                conn = http.client.HTTPConnection(HOST, self.port, timeout=2)
                conn.request("GET", "/readyz")
                status = conn.getresponse().status
                conn.close()
                if status == 200:
                    return
            time.sleep(0.2)
        tail = self.log.read_text(errors="replace")[-3000:]
        self.stop()
        raise RuntimeError(f"{self.name} did not become ready on port {self.port}:\n{tail}")

    def peak_rss_mb(self) -> float | None:
        """Peak resident set (VmHWM) of the server process, in MiB."""
        if self.process is None:
            return None
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
        with contextlib.suppress(Exception):
            import psutil

            return psutil.Process(self.process.pid).memory_info().rss / 2**20
        return None

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)


@contextlib.contextmanager
def running(servers: Sequence[Server]) -> Iterator[None]:
    try:
        for server in servers:
            server.start()
        yield
    finally:
        for server in servers:
            server.stop()


# ---------------------------------------------------------------- clients


@dataclass
class Target:
    """One endpoint and what to send it."""

    name: str
    port: int
    path: str
    bodies: list[bytes]
    headers: dict[str, str] = field(default_factory=dict)

    def all_headers(self) -> dict[str, str]:
        return {"Content-Type": "application/json", **self.headers}


def _percentiles(ns: list[int]) -> dict[str, Any]:
    if not ns:  # every request failed: no latency to report
        return {"n": 0, **dict.fromkeys(("p50_ms", "p90_ms", "p99_ms", "mean_ms", "max_ms"))}
    ms = np.asarray(ns, dtype=np.float64) / 1e6
    return {
        "n": len(ns),
        "p50_ms": round(float(np.percentile(ms, 50)), 3),
        "p90_ms": round(float(np.percentile(ms, 90)), 3),
        "p99_ms": round(float(np.percentile(ms, 99)), 3),
        "mean_ms": round(float(ms.mean()), 3),
        "max_ms": round(float(ms.max()), 3),
    }


class Sequential:
    """Sequential requests on one keep-alive connection, each timed."""

    def __init__(self, target: Target) -> None:
        self.target = target
        self.conn = http.client.HTTPConnection(HOST, target.port, timeout=30)
        self.headers = target.all_headers()
        self.count = 0
        self.errors: dict[str, int] = {}
        self.ns: list[int] = []
        self.cut = False

    def run(self, n: int, *, keep: bool, budget: float = float("inf")) -> None:
        """Send ``n`` requests, or fewer when ``budget`` seconds have passed."""
        bodies, path, conn, headers = self.target.bodies, self.target.path, self.conn, self.headers
        deadline = time.monotonic() + budget
        for _ in range(n):
            if time.monotonic() > deadline:
                self.cut = True
                break
            body = bodies[self.count % len(bodies)]
            self.count += 1
            start = time.perf_counter_ns()
            try:
                conn.request("POST", path, body, headers)
                response = conn.getresponse()
                response.read()
                status = response.status
            except (OSError, http.client.HTTPException) as error:
                status = type(error).__name__
                conn.close()
            elapsed = time.perf_counter_ns() - start
            if status != 200:
                self.errors[str(status)] = self.errors.get(str(status), 0) + 1
            elif keep:
                self.ns.append(elapsed)

    def refresh(self) -> None:
        """A new connection and one untimed request: the server closes idle keep-alive
        connections (uvicorn after 5 s) while the other endpoint's block runs."""
        self.conn.close()
        self.run(1, keep=False)

    def result(self) -> dict[str, Any]:
        self.conn.close()
        return {**_percentiles(self.ns), "errors": self.errors, "cut_by_time_budget": self.cut}


def latency(targets: Sequence[Target], plan: Plan) -> dict[str, dict[str, Any]]:
    """Warm up each target, then alternate blocks of sequential timed requests."""
    clients = {t.name: Sequential(t) for t in targets}
    for client in clients.values():
        client.run(plan.warmup, keep=False, budget=plan.warmup_budget)
        client.cut = False
    block = plan.requests // plan.blocks
    for _ in range(plan.blocks):
        for client in clients.values():
            client.refresh()
            client.run(block, keep=True, budget=plan.latency_budget / plan.blocks)
    return {name: client.result() for name, client in clients.items()}


def _lua_string(text: str) -> str:
    level = 1
    while f"]{'=' * level}]" in text:
        level += 1
    return f"[{'=' * level}[{text}]{'=' * level}]"


def wrk_script(target: Target, folder: Path) -> Path:
    """A wrk Lua script cycling the target's bodies and printing a JSON summary."""
    headers = ", ".join(
        f"[ {_lua_string(k)} ] = {_lua_string(v)}" for k, v in target.all_headers().items()
    )
    bodies = ",\n".join(_lua_string(b.decode()) for b in target.bodies)
    script = f"""
local bodies = {{
{bodies}
}}
local headers = {{ {headers} }}
local path = {_lua_string(target.path)}
local i = 0
local requests = {{}}
function init(args)
  i = math.random(#bodies) - 1
  for k = 1, #bodies do
    requests[k] = wrk.format("POST", path, headers, bodies[k])
  end
end
function request()
  i = i % #bodies + 1
  return requests[i]
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {{"requests": %d, "duration_us": %d, "bytes": %d, "connect": %d, "read": %d, '
    .. '"write": %d, "status": %d, "timeout": %d, "p50_us": %d, "p90_us": %d, '
    .. '"p99_us": %d, "max_us": %d, "mean_us": %.1f}}\\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write,
    e.status, e.timeout, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, latency.mean))
end
"""
    path = folder / f"{target.name}.lua"
    path.write_text(script)
    return path


@dataclass
class Load:
    """A load run in the background: wrk, or Python threads when wrk is missing."""

    target: Target
    seconds: int
    connections: int
    threads: int
    folder: Path
    use_wrk: bool = True
    _process: subprocess.Popen[str] | None = None
    _thread: threading.Thread | None = None
    _result: dict[str, Any] | None = None

    def start(self) -> Load:
        wrk = shutil.which("wrk") if self.use_wrk else None
        if wrk:
            command = [
                wrk,
                f"-t{self.threads}",
                f"-c{self.connections}",
                f"-d{self.seconds}s",
                "--timeout",
                "5s",
                "-s",
                str(wrk_script(self.target, self.folder)),
                f"http://{HOST}:{self.target.port}{self.target.path}",
            ]
            self._process = subprocess.Popen(
                command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
            )
        else:
            self._thread = threading.Thread(target=self._python_load, daemon=True)
            self._thread.start()
        return self

    def wait(self) -> dict[str, Any]:
        if self._process is not None:
            out, _ = self._process.communicate(timeout=self.seconds + 60)
            line = next((x for x in out.splitlines() if x.startswith("WRKJSON ")), None)
            if line is None:
                raise RuntimeError(f"wrk printed no summary:\n{out}")
            raw = json.loads(line.removeprefix("WRKJSON "))
            seconds = raw["duration_us"] / 1e6
            socket_errors = raw["connect"] + raw["read"] + raw["write"] + raw["timeout"]
            return {
                "client": f"wrk -t{self.threads} -c{self.connections}",
                "seconds": round(seconds, 2),
                "requests": raw["requests"],
                "requests_per_s": round(raw["requests"] / seconds, 1),
                "non_2xx": raw["status"],
                "socket_errors": {k: raw[k] for k in ("connect", "read", "write", "timeout")},
                "errors": raw["status"] + socket_errors,
                "p50_ms": raw["p50_us"] / 1e3,
                "p90_ms": raw["p90_us"] / 1e3,
                "p99_ms": raw["p99_us"] / 1e3,
                "max_ms": raw["max_us"] / 1e3,
            }
        assert self._thread is not None
        self._thread.join()
        assert self._result is not None
        return self._result

    def _python_load(self) -> None:
        deadline = time.monotonic() + self.seconds
        counts = {"ok": 0, "errors": 0}
        ns: list[int] = []
        lock = threading.Lock()

        def worker(offset: int) -> None:
            conn = http.client.HTTPConnection(HOST, self.target.port, timeout=30)
            headers, bodies, k = self.target.all_headers(), self.target.bodies, offset
            while time.monotonic() < deadline:
                start = time.perf_counter_ns()
                try:
                    conn.request("POST", self.target.path, bodies[k % len(bodies)], headers)
                    response = conn.getresponse()
                    response.read()
                    ok = response.status == 200
                except (OSError, http.client.HTTPException):
                    ok = False
                    conn.close()
                elapsed = time.perf_counter_ns() - start
                k += 1
                with lock:
                    counts["ok" if ok else "errors"] += 1
                    ns.append(elapsed)
            conn.close()

        begin = time.monotonic()
        workers = [threading.Thread(target=worker, args=(i,)) for i in range(self.connections)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        seconds = time.monotonic() - begin
        total = counts["ok"] + counts["errors"]
        self._result = {
            "client": f"python threads x{self.connections}",
            "seconds": round(seconds, 2),
            "requests": total,
            "requests_per_s": round(total / seconds, 1),
            "non_2xx": counts["errors"],
            "socket_errors": {},
            "errors": counts["errors"],
            **{k: v for k, v in _percentiles(ns).items() if k != "n"},
        }


def batch(target: Target, repeats: int, budget: float) -> dict[str, Any]:
    """POST the batch body ``repeats`` times (after one warm-up); wall times in seconds.

    Stops early, after at least one timed request, once ``budget`` seconds have passed.
    """
    deadline = time.monotonic() + budget
    conn = http.client.HTTPConnection(HOST, target.port, timeout=120)
    headers = target.all_headers()
    seconds: list[float] = []
    errors: dict[str, int] = {}
    scored = 0
    for k in range(repeats + 1):
        if seconds and time.monotonic() > deadline:
            break
        start = time.perf_counter()
        try:
            conn.request("POST", target.path, target.bodies[0], headers)
            response = conn.getresponse()
            payload = response.read()
            status: int | str = response.status
        except (OSError, http.client.HTTPException) as error:
            # A refused body (413) closes the connection while it is being sent.
            status = type(error).__name__
            conn.close()
        elapsed = time.perf_counter() - start
        if status != 200:
            errors[str(status)] = errors.get(str(status), 0) + 1
            continue
        scored = len(json.loads(payload)["scores"])
        if k > 0:
            seconds.append(elapsed)
    conn.close()
    return {
        "repeats": len(seconds),
        "tenancies": scored,
        "body_mb": round(len(target.bodies[0]) / 2**20, 2),
        "median_s": round(statistics.median(seconds), 3) if seconds else None,
        "min_s": round(min(seconds), 3) if seconds else None,
        "max_s": round(max(seconds), 3) if seconds else None,
        "errors": errors,
    }


def reload_under_load(
    load: Load, port: int, admin_key: str, folders: Sequence[Path], every: float
) -> dict[str, Any]:
    """Reload the model every ``every`` seconds while ``load`` runs; check all of it."""
    load.start()
    begin = time.monotonic()
    reloads: list[dict[str, Any]] = []
    k = 0
    while time.monotonic() - begin + every < load.seconds:
        time.sleep(max(0.0, begin + every * (k + 1) - time.monotonic()))
        folder = folders[(k + 1) % len(folders)]
        k += 1
        conn = http.client.HTTPConnection(HOST, port, timeout=60)
        start = time.perf_counter()
        try:
            conn.request(
                "POST",
                "/v1/admin/reload",
                json.dumps({"model": str(folder)}).encode(),
                {"Content-Type": "application/json", "X-API-Key": admin_key},
            )
            response = conn.getresponse()
            payload = response.read()
            status: int | str = response.status
            version = json.loads(payload)["current"]["version"] if response.status == 200 else None
        except (OSError, http.client.HTTPException, ValueError) as error:
            status, version = type(error).__name__, None
        finally:
            conn.close()
        reloads.append(
            {
                "status": status,
                "seconds": round(time.perf_counter() - start, 3),
                "version": version,
            }
        )
    result = load.wait()
    final = None
    with contextlib.suppress(OSError, http.client.HTTPException, ValueError, KeyError):
        conn = http.client.HTTPConnection(HOST, port, timeout=30)
        conn.request("GET", "/readyz")
        final = json.loads(conn.getresponse().read())["model"]["version"]
        conn.close()
    last = next((r["version"] for r in reversed(reloads) if r["status"] == 200), None)
    return {
        "load": result,
        "serving_after": final,
        "serving_after_is_last_reloaded": last is not None and final == last,
        "reloads": len(reloads),
        "reloads_ok": sum(r["status"] == 200 for r in reloads),
        "versions": sorted({str(r["version"]) for r in reloads}),
        "reload_seconds_max": max((r["seconds"] for r in reloads), default=None),
        "reload_statuses": [r["status"] for r in reloads],
    }


def library_cost(bundle: Path, body: bytes, repeats: int, budget: float) -> dict[str, Any]:
    """In-process cost of the route's work: validate the facts, then ``score_request``."""
    from risk.bundle import ModelBundle
    from risk.serving import score_request
    from risk_api.facts import tenancy_tables
    from risk_api.schemas import ScoreRequest

    model = ModelBundle.load(bundle)

    def once() -> None:
        request = ScoreRequest.model_validate_json(body)
        score_request(tenancy_tables(request.tenancies), request.as_of, model, threads=1)

    deadline = time.monotonic() + budget / 4
    for _ in range(max(5, repeats // 10)):
        once()
        if time.monotonic() > deadline:
            break
    ns: list[int] = []
    deadline = time.monotonic() + budget
    while len(ns) < repeats and (len(ns) < 3 or time.monotonic() < deadline):
        start = time.perf_counter_ns()
        once()
        ns.append(time.perf_counter_ns() - start)
    return _percentiles(ns)


# ---------------------------------------------------------------- report


def machine() -> dict[str, Any]:
    model_name = None
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model_name = line.split(":", 1)[1].strip()
                break
    versions = {}
    for package in (
        "fastapi",
        "starlette",
        "uvicorn",
        "pydantic",
        "lightgbm",
        "numpy",
        "pandas",
        "duckdb",
        "sqlalchemy",
        "httptools",
        "uvloop",
    ):
        try:
            versions[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            versions[package] = None
    wrk = shutil.which("wrk")
    wrk_version = None
    if wrk:
        out = subprocess.run([wrk, "-v"], capture_output=True, text=True, check=False)
        wrk_version = (out.stdout + out.stderr).split("[")[0].strip() or None
    return {
        "cpu_count": os.cpu_count(),
        "affinity": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "cpu_model": model_name,
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "platform": platform.platform(),
        "python": platform.python_version(),
        "packages": versions,
        "wrk": wrk_version,
    }


def figure(name: str, value: float | None, target: str, met: bool | None) -> dict[str, Any]:
    return {"name": name, "value": value, "target": target, "met": met}


def figures(results: dict[str, Any]) -> list[dict[str, Any]]:
    service, ratio = results["latency"]["service"], results["ratio"]
    load, reload, batch_ = results["load"]["service"], results["reload"], results["batch"]
    ok_single = not service["errors"]
    return [
        figure(
            "single p50 (ms)",
            service["p50_ms"],
            "<= 5",
            ok_single and _le(service["p50_ms"], TARGETS["p50_ms"]),
        ),
        figure(
            "single p99 (ms)",
            service["p99_ms"],
            "<= 15",
            ok_single and _le(service["p99_ms"], TARGETS["p99_ms"]),
        ),
        figure("p50 / bare p50", ratio["p50"], "<= 3", _le(ratio["p50"], TARGETS["ratio_p50"])),
        figure("p99 / bare p99", ratio["p99"], "(info)", None),
        figure(
            f"requests/s ({load['client']}, {load['seconds']:.0f} s)",
            load["requests_per_s"],
            ">= 300",
            load["requests_per_s"] >= TARGETS["requests_per_s"],
        ),
        figure("errors under load", load["errors"], "0", load["errors"] == 0),
        figure(
            f"batch of {BATCH_TENANCIES:,}, median (s)",
            batch_["median_s"],
            "<= 1",
            not batch_["errors"]
            and batch_["tenancies"] == BATCH_TENANCIES
            and _le(batch_["median_s"], TARGETS["batch_s"]),
        ),
        figure(
            "reloads under load ok",
            f"{reload['reloads_ok']}/{reload['reloads']}",
            "all",
            reload["reloads"] > 0 and reload["reloads_ok"] == reload["reloads"],
        ),
        figure(
            "failed requests during reloads",
            reload["load"]["errors"],
            "0",
            reload["load"]["errors"] == 0,
        ),
    ]


def print_report(results: dict[str, Any]) -> None:
    m = results["machine"]
    print()
    print(
        f"API benchmark ({results['mode']}), {m['cpu_count']} CPUs ({m['cpu_model']}), "
        f"load average at start {m['load_average_at_start']}"
    )
    print(f"{'figure':<44} {'value':>12} {'target':>8}  met")
    for f in results["figures"]:
        value = f["value"]
        text = f"{value:.3f}" if isinstance(value, float) else str(value)
        met = "-" if f["met"] is None else ("yes" if f["met"] else "NO")
        print(f"{f['name']:<44} {text:>12} {f['target']:>8}  {met}")
    print()
    print(f"{'sequential latency (ms)':<28} {'p50':>8} {'p90':>8} {'p99':>8} {'max':>8} {'n':>6}")
    for name, r in results["latency"].items():
        print(
            f"{name:<28} {_f(r['p50_ms'])} {_f(r['p90_ms'])} {_f(r['p99_ms'])} "
            f"{_f(r['max_ms'])} {r['n']:>6}"
            + (" (cut by time budget)" if r["cut_by_time_budget"] else "")
        )
    lib = results["library_in_process"]
    print(
        f"{'library in process':<28} {_f(lib['p50_ms'])} {_f(lib['p90_ms'])} "
        f"{_f(lib['p99_ms'])} {_f(lib['max_ms'])} {lib['n']:>6}"
    )
    print()
    print(f"{'load':<28} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>8}")
    for name, r in {**results["load"], "service + reloads": results["reload"]["load"]}.items():
        print(
            f"{name:<28} {r['requests_per_s']:>8.1f} {_f(r['p50_ms'])} {_f(r['p99_ms'])} "
            f"{r['errors']:>8}"
        )
    print()
    rss = results["peak_rss_mb"]
    print(f"peak RSS: service {rss['service']} MiB, bare {rss['bare']} MiB")


# ---------------------------------------------------------------- main


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke run of about a minute")
    parser.add_argument("--data", type=Path, help="portfolio folder (default: simulate one)")
    parser.add_argument("--bundle", type=Path, help="bundle folder (default: train one)")
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "risk-bench-api")
    parser.add_argument("--as-of", help="scoring date (default: the month after the data)")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--wrk-threads", type=int, default=2)
    parser.add_argument(
        "--client",
        choices=("wrk", "python"),
        default="wrk",
        help="load client (python: 8 threads of http.client, also used when wrk is missing)",
    )
    parser.add_argument("--out", type=Path, help="results file (default bench/results/api.json)")
    parser.add_argument(
        "--default-body-limit",
        action="store_true",
        help="keep the service's default body limit even if the batch body is larger",
    )
    parser.add_argument("--keep", action="store_true", help="keep the run folder (logs, db)")
    args = parser.parse_args(argv)
    plan = QUICK if args.quick else FULL
    out = args.out or RESULTS / ("api-quick.json" if args.quick else "api.json")

    args.work.mkdir(parents=True, exist_ok=True)
    data = args.data or prepare_data(args.work)
    bundle = args.bundle or prepare_bundle(args.work, data)
    run = Path(tempfile.mkdtemp(prefix="run-", dir=args.work))
    started = time.monotonic()
    try:
        variant = variant_bundle(bundle, run / "bundle-variant")
        _say(f"building request bodies from {data}…")
        bodies = make_bodies(data, bundle, args.as_of)
        np.save(run / "bare_row.npy", bodies.bare_row)
        database = f"sqlite:///{run / 'api.db'}"
        scorer, admin = make_keys(database)

        env = {
            **os.environ,
            "RISK_API_PSEUDONYM_KEY_FILE": str(run / "pseudonym.key"),
            "RISK_API_TRACKING_ROOT": str(run / "mlruns"),
            "PYTHONUNBUFFERED": "1",
        }
        body_limit = _body_limit(len(bodies.batch), args.default_body_limit)
        if body_limit is not None:
            env["RISK_API_MAX_BODY_BYTES"] = str(body_limit)
        service = Server(
            "service",
            [
                sys.executable,
                "-m",
                "risk",
                "serve",
                "--host",
                HOST,
                "--port",
                "0",
                "--model",
                str(bundle),
                "--database",
                database,
            ],
            env,
            run,
            0,
        )
        service.port = free_port()
        service.command[service.command.index("--port") + 1] = str(service.port)
        bare_port = free_port()
        bare = Server(
            "bare",
            [
                sys.executable,
                "-m",
                "uvicorn",
                "bare_app:app",
                "--app-dir",
                str(BENCH),
                "--host",
                HOST,
                "--port",
                str(bare_port),
                "--workers",
                "1",
                "--log-level",
                "warning",
                "--no-access-log",
            ],
            {
                **env,
                "BENCH_BARE_MODEL": str(bundle / "model.txt"),
                "BENCH_BARE_ROW": str(run / "bare_row.npy"),
            },
            run,
            bare_port,
        )
        scores = Target(
            "service", service.port, "/v1/scores", bodies.singles, {"X-API-Key": scorer}
        )
        bare_target = Target(
            "bare",
            bare_port,
            "/predict",
            [json.dumps({"tenancy_id": t}).encode() for t in bodies.single_ids],
        )
        batch_target = Target(
            "batch", service.port, "/v1/scores", [bodies.batch], {"X-API-Key": scorer}
        )

        results: dict[str, Any] = {
            "benchmark": "api (issue #6)",
            "mode": "quick" if args.quick else "full",
            "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "machine": machine(),
            "setup": {
                "bundle": str(bundle),
                "data": str(data),
                "as_of": bodies.as_of,
                "ledger_months": LEDGER_MONTHS,
                "mean_ledger_rows_per_tenancy": round(bodies.ledger_rows, 1),
                "single_bodies": len(bodies.singles),
                "single_body_bytes": round(statistics.mean(len(b) for b in bodies.singles)),
                "server": "risk serve: uvicorn, 1 worker, loopback, SQLite audit log",
                "bare": "bench/bare_app.py: FastAPI + booster.predict(row, num_threads=1)",
                "plan": plan.__dict__,
                "batch_body_bytes": len(bodies.batch),
                "max_body_bytes": body_limit or DEFAULT_BODY_LIMIT,
                "max_body_bytes_note": (
                    f"raised from the default {DEFAULT_BODY_LIMIT} (RISK_API_MAX_BODY_BYTES): "
                    "the batch body is larger"
                    if body_limit is not None
                    else "service default"
                ),
            },
        }

        def load(target: Target, seconds: int) -> Load:
            return Load(
                target, seconds, args.connections, args.wrk_threads, run, args.client == "wrk"
            )

        _say("measuring the library in process…")
        results["library_in_process"] = library_cost(
            bundle, bodies.singles[0], plan.library_repeats, plan.library_budget
        )
        _say("starting the service and the bare endpoint…")
        with running([service, bare]):
            check = Sequential(scores)
            check.conn.request("POST", scores.path, scores.bodies[0], scores.all_headers())
            response = check.conn.getresponse()
            sample = json.loads(response.read())
            check.conn.close()
            if response.status != 200:
                raise RuntimeError(f"the service answered {response.status}: {sample}")
            first = sample["scores"][0]
            results["setup"]["sample_answer"] = {
                "model": sample["model"],
                "probability": first["probability"],
                "band": first["band"],
                "reasons": len(first["reasons"]),
            }
            _say(f"sequential latency: {plan.requests} requests each, after {plan.warmup} warm-up…")
            results["latency"] = latency([scores, bare_target], plan)
            svc, floor = results["latency"]["service"], results["latency"]["bare"]
            results["ratio"] = {
                "p50": _ratio(svc["p50_ms"], floor["p50_ms"]),
                "p99": _ratio(svc["p99_ms"], floor["p99_ms"]),
            }
            _say(
                f"load: {plan.load_seconds} s on the service, {plan.bare_load_seconds} s "
                "on the bare endpoint…"
            )
            results["load"] = {
                "service": load(scores, plan.load_seconds).start().wait(),
                "bare": load(bare_target, plan.bare_load_seconds).start().wait(),
            }
            _say(f"batch of {BATCH_TENANCIES:,} tenancies x {plan.batch_repeats}…")
            results["batch"] = batch(batch_target, plan.batch_repeats, plan.batch_budget)
            _say(f"reload every {plan.reload_every:g} s during {plan.reload_seconds} s of load…")
            results["reload"] = reload_under_load(
                load(scores, plan.reload_seconds),
                service.port,
                admin,
                [bundle, variant],
                plan.reload_every,
            )
            results["peak_rss_mb"] = {
                "service": _round(service.peak_rss_mb()),
                "bare": _round(bare.peak_rss_mb()),
            }
        results["figures"] = figures(results)
        results["all_met"] = all(f["met"] for f in results["figures"] if f["met"] is not None)
        results["seconds"] = round(time.monotonic() - started, 1)
        print_report(results)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(results, indent=2) + "\n")
        _say(f"\nwritten to {out} in {results['seconds']:.0f} s")
        return 0
    except RuntimeError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    finally:
        if args.keep:
            _say(f"run folder kept: {run}")
        else:
            shutil.rmtree(run, ignore_errors=True)


def _body_limit(batch_bytes: int, keep_default: bool) -> int | None:
    """A body limit that admits the batch body, or None when the default does."""
    if keep_default or batch_bytes <= DEFAULT_BODY_LIMIT:
        return None
    return -(-batch_bytes * 5 // 4 // 2**20) * 2**20


def _le(value: float | None, limit: float) -> bool:
    return value is not None and value <= limit


def _ratio(a: float | None, b: float | None) -> float | None:
    return None if a is None or not b else round(a / b, 2)


def _f(value: float | None) -> str:
    return f"{'-':>8}" if value is None else f"{value:>8.3f}"


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


if __name__ == "__main__":
    sys.exit(main())
