"""Benchmark of the two feature engines on request-sized inputs (not a test).

The scoring API builds features for one tenancy (or a batch) per request. This script
simulates a portfolio with :func:`risk.simulation.simulate`, takes the tenancies present
at the as-of date with the longest history, keeps their rows of the last 24 months (the
ledger window an API caller sends), and times:

- ``sqlite-rows``: :func:`risk.features.small.feature_rows` from row tuples in contract
  column order to the feature values (the API's path: no pandas);
- ``sqlite-frame``: the same, then the pandas frame of :func:`build_features`
  (:meth:`~risk.features.small.FeatureRows.to_frame`);
- ``duckdb``: :func:`risk.features.build_features` on a
  :class:`~risk.portfolio.Portfolio` of the same rows, one thread.

for one tenancy and for a batch of ``--batch`` tenancies. Every timing excludes the
first call per as-of date (query translation and preparation, done once per date and
per thread in service). The engines' frames are checked equal first. Wall-clock p50,
p99 and mean are reported with the CPU-time p50 (``process_time``: DuckDB's is summed
over its threads), which other load on a shared machine disturbs less.

Usage: ``python bench/bench_feature_engine.py [--repeat 200] [--batch 1000]``; prints JSON
(milliseconds) and writes it to ``bench/results/feature_engine.json``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from risk.contract import TABLES
from risk.features import build_features
from risk.features.small import build_features_small, feature_rows
from risk.portfolio import Portfolio
from risk.simulation import simulate

RESULTS = Path(__file__).parent / "results" / "feature_engine.json"
AS_OF = pd.Timestamp("2024-07-01")
LEDGER_MONTHS = 24


def _request_portfolio(portfolio: Portfolio, ids: list[str]) -> Portfolio:
    """Rows of ``ids`` an API caller would send: everything but the old ledger."""
    keep = set(ids)
    window_start = AS_OF - pd.DateOffset(months=LEDGER_MONTHS)
    frames = {}
    for name, frame in portfolio.tables():
        rows = frame[frame["tenancy_id"].isin(keep)]
        if name == "ledger":
            rows = rows[(rows["event_date"] >= window_start) & (rows["event_date"] < AS_OF)]
        frames[name] = rows.reset_index(drop=True)
    return Portfolio.from_frames(**frames)


def _tuples(portfolio: Portfolio) -> dict[str, list[tuple[Any, ...]]]:
    """Rows as an API would parse them from JSON: tuples, dates as ISO text."""
    out = {}
    for name, frame in portfolio.tables():
        columns = []
        for column in TABLES[name].columns:
            values = frame[column.name]
            if column.kind == "date":
                columns.append([None if pd.isna(v) else v.strftime("%Y-%m-%d") for v in values])
            else:
                columns.append([None if pd.isna(v) else v for v in values.tolist()])
        out[name] = list(zip(*columns, strict=True))
    return out


def _time(call: Callable[[], object], repeat: int) -> dict[str, float]:
    call()  # translation and preparation of the query, once per date and thread
    wall, cpu = [], []
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        call()
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    ms, cpu_ms = np.array(wall) * 1000, np.array(cpu) * 1000
    return {
        "p50_ms": round(float(np.percentile(ms, 50)), 4),
        "p99_ms": round(float(np.percentile(ms, 99)), 4),
        "mean_ms": round(float(statistics.fmean(ms)), 4),
        # CPU time of the process: less sensitive to other load on a shared machine.
        "cpu_p50_ms": round(float(np.percentile(cpu_ms, 50)), 4),
        "runs": repeat,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=200)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--tenancies", type=int, default=4000)
    args = parser.parse_args()

    sim = simulate(n_tenancies=args.tenancies, start="2019-01", end="2024-12", seed=3)
    t = sim.portfolio.tenancies
    present = t[(t["start_date"] < AS_OF) & (t["end_date"].isna() | (t["end_date"] >= AS_OF))]
    longest = present.sort_values(["start_date", "tenancy_id"])["tenancy_id"].tolist()
    if len(longest) < args.batch:
        raise SystemExit(f"only {len(longest)} tenancies present; raise --tenancies")
    cases = {"one": longest[:1], f"batch_{args.batch}": longest[: args.batch]}

    report: dict[str, Any] = {"as_of": str(AS_OF.date()), "ledger_months": LEDGER_MONTHS}
    for case, ids in cases.items():
        portfolio = _request_portfolio(sim.portfolio, ids)
        rows = _tuples(portfolio)
        duck = build_features(portfolio, AS_OF, threads=1)
        pd.testing.assert_frame_equal(duck, build_features_small(rows, AS_OF), atol=1e-9)
        repeat = args.repeat if case == "one" else max(5, args.repeat // 20)
        report[case] = {
            "tenancies": len(ids),
            "rows": {name: len(r) for name, r in rows.items()},
            "sqlite-rows": _time(lambda r=rows: feature_rows(r, AS_OF), repeat),
            "sqlite-frame": _time(lambda r=rows: feature_rows(r, AS_OF).to_frame(), repeat),
            "duckdb": _time(
                lambda p=portfolio: build_features(p, AS_OF, threads=1), max(5, repeat // 10)
            ),
        }
    text = json.dumps(report, indent=2)
    print(text)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(text + "\n")


if __name__ == "__main__":
    main()
