"""Benchmark of the simulator at landlord size (not a test).

Simulates 500,000 tenancies over 60 months (2020-01 .. 2024-12) for each profile:
``residences`` (about 24 million ledger rows and 10 million truth rows) and ``hlm``
(lower turnover, so twice the tenancy-months: about 48 million ledger rows and 20
million truth rows). Each run happens in a fresh subprocess, which simulates and then
writes the export (Parquet, with the truth table). Inside the child, wall time is
measured around :func:`risk.simulation.simulate` and around :meth:`Simulation.write`;
the parent measures the child's whole wall time and its peak RSS (``os.wait4``, the
child's own ``ru_maxrss``). Targets on 2 cores, for every profile: the simulation
within 3 minutes and 8 GB.

``--repeat R`` runs each profile R times, each in its own fresh child (same seed, so
the same portfolio); ``simulate_s``, ``write_s``, ``peak_rss_gb`` and
``process_wall_s`` are then the medians over the runs, ``best_s`` the fastest
simulation, and every run is kept under ``repeats``. The targets are judged on the
medians.

Usage: ``python bench/bench_simulation.py [--tenancies N] [--start YYYY-MM]
[--end YYYY-MM] [--profile residences|hlm|both] [--repeat R] [--no-write] [--out FILE]``.
Results go to ``bench/results/simulation.json`` (or ``--out``).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

TARGET_SECONDS = 180.0
TARGET_PEAK_GB = 8.0
RESULTS = Path(__file__).parent / "results" / "simulation.json"


def child(args: argparse.Namespace) -> None:
    """Simulate (and write) once; print timings and sizes as one JSON line."""
    from risk.simulation import simulate

    t0 = time.perf_counter()
    simulation = simulate(
        n_tenancies=args.tenancies,
        start=args.start,
        end=args.end,
        seed=args.seed,
        profile=args.profile,
    )
    simulate_s = time.perf_counter() - t0
    write_s = None
    if args.write:
        with tempfile.TemporaryDirectory() as tmp:
            t1 = time.perf_counter()
            simulation.write(Path(tmp) / "export")
            write_s = time.perf_counter() - t1
    sizes = simulation.portfolio.summary()
    sizes["truth"] = len(simulation.truth)
    print(json.dumps({"simulate_s": simulate_s, "write_s": write_s, "rows": sizes}))


def measure(args: argparse.Namespace) -> dict[str, object]:
    """Run the child in a fresh process; return its timings and peak RSS."""
    cmd = [
        sys.executable,
        __file__,
        "--child",
        "--tenancies",
        str(args.tenancies),
        "--start",
        args.start,
        "--end",
        args.end,
        "--seed",
        str(args.seed),
        "--profile",
        args.profile,
    ]
    if not args.write:
        cmd.append("--no-write")
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    out = proc.stdout.read() if proc.stdout else ""
    if status != 0:
        raise SystemExit(f"child failed with status {status}")
    result = json.loads(out.strip().splitlines()[-1])
    # ru_maxrss is in kilobytes on Linux.
    result["peak_rss_gb"] = usage.ru_maxrss * 1024 / 1e9
    result["process_wall_s"] = wall
    return result


def summarise(repeats: list[dict[str, Any]]) -> dict[str, Any]:
    """Medians of the runs of one profile, the fastest simulation, and every run.

    The seed is fixed, so every run builds the same portfolio: the row counts of the
    first run stand for all of them.
    """

    def median(key: str) -> float | None:
        values = [float(r[key]) for r in repeats if r[key] is not None]
        return statistics.median(values) if values else None

    simulate = [float(r["simulate_s"]) for r in repeats]
    return {
        "simulate_s": median("simulate_s"),
        "best_s": min(simulate),
        "simulate_runs_s": simulate,
        "write_s": median("write_s"),
        "rows": repeats[0]["rows"],
        "peak_rss_gb": median("peak_rss_gb"),
        "max_peak_rss_gb": max(float(r["peak_rss_gb"]) for r in repeats),
        "process_wall_s": median("process_wall_s"),
        "repeats": repeats,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--tenancies", type=int, default=500_000)
    parser.add_argument("--start", default="2020-01")
    parser.add_argument("--end", default="2024-12")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--profile", default="both", choices=["residences", "hlm", "both"])
    parser.add_argument("--repeat", type=int, default=1, help="fresh runs per profile")
    parser.add_argument("--no-write", dest="write", action="store_false")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    profiles = ["residences", "hlm"] if args.profile == "both" else [args.profile]
    runs = {}
    for profile in profiles:
        repeats = [measure(argparse.Namespace(**{**vars(args), "profile": profile}))
                   for _ in range(args.repeat)]
        result = summarise(repeats)
        result["meets_targets"] = bool(
            result["simulate_s"] <= TARGET_SECONDS and result["peak_rss_gb"] <= TARGET_PEAK_GB
        )
        runs[profile] = result
        print(profile, json.dumps(result), flush=True)
    payload = {
        "tenancies": args.tenancies,
        "repeat": args.repeat,
        "period": f"{args.start}..{args.end}",
        "seed": args.seed,
        "cores": os.cpu_count(),
        "targets": {"seconds": TARGET_SECONDS, "peak_gb": TARGET_PEAK_GB},
        "runs": runs,
        "meets_targets": all(r["meets_targets"] for r in runs.values()),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(payload, indent=2) + "\n")
    print(json.dumps(payload, indent=2))


if __name__ == "__main__":
    main()
