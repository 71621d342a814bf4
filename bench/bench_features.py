"""Benchmark of the feature builder on a landlord-sized portfolio (not a test).

Builds a portfolio of 500,000 tenancies over 60 months, writes it to Parquet, then
measures in fresh subprocesses, on the same files:

- ``sum``: one ``GROUP BY tenancy_id SUM(amount)`` over the ledger, fetched to pandas:
  the floor any ledger feature pays (one scan, one aggregation);
- ``features-parquet``: :func:`risk.features.build_features` at one as-of date, the
  tables read lazily from the Parquet directory;
- ``features-frames``: the same from a :class:`~risk.portfolio.Portfolio` of pandas
  frames loaded from that Parquet (peak memory includes the frames);
- ``pandas``: ``build_features_pandas(portfolio, as_of)`` from ``bench/pandas_features.py``,
  a plain pandas implementation of the same features, on the same Portfolio of frames
  as ``features-frames`` (loaded the same way, outside the timed call; peak memory
  includes the frames).

Beside each mode's ratio to ``sum``, every scenario reports two comparisons taken from
the same run (ratios of the medians, of the best runs and of the CPU times):
``duckdb_to_groupby`` (``features-parquet`` / ``sum``, both reading the Parquet files)
and ``pandas_to_duckdb`` (``pandas`` / ``features-frames``, both starting from the
same frames in memory). A mode whose child fails is recorded as failed (exit status
and the end of its stderr), the other modes still run, and the script exits with
status 1 after writing its results.

Wall time is measured inside the child around the call (``--repeat`` runs; the median
and the best run are reported: on a shared machine the best is the closest to an idle
one), and so is the CPU time of the call (summed over threads, less sensitive to other
load); peak RSS is the child's own (``os.wait4``). Generation runs in its own child
too, so that no measured process inherits a large parent at fork. Targets on 2 cores:
<= 15 s, <= 3 GB peak and <= 4x the ``sum`` pass.

Scenarios are ``generator:order``:

- generator ``simulation`` uses :func:`risk.simulation.simulate` (about 24 M ledger rows
  for 500,000 tenancies); ``numpy`` uses the vectorised generator below, written while
  the simulator did not exist yet (about 29 M rows; rent on the 1st, payments a few days
  later, some partial or missed, APL for part of the households, a few follow-ups);
- order ``tenancy`` keeps the ledger sorted by tenancy then date, as the simulator and
  many per-account exports write it; ``date`` re-sorts it by event date, as an
  append-only journal would be. The order changes the baseline more than the builder.

Usage: ``python bench/bench_features.py [--tenancies N] [--scenarios simulation:tenancy]
[--modes sum,features-parquet,features-frames,pandas] [--repeat R] [--data DIR]
[--out FILE]``. Results go to ``bench/results/features.json`` (or ``--out``).
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
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

TARGET_SECONDS = 15.0
TARGET_PEAK_GB = 3.0
TARGET_RATIO = 4.0
RESULTS = Path(__file__).parent / "results" / "features.json"
EPOCH = np.datetime64("2020-01", "M")
TABLES = ("tenancies", "incomes", "apl", "ledger", "support")
DEFAULT_SCENARIOS = "simulation:tenancy,numpy:tenancy,simulation:date"
DEFAULT_MODES = "sum,features-parquet,features-frames,pandas"
#: Comparisons reported per scenario: name -> (measured mode, reference mode). Each pair
#: starts from the same input: Parquet files for the first, frames in memory for the second.
COMPARISONS = {"duckdb_to_groupby": ("features-parquet", "sum"),
               "pandas_to_duckdb": ("pandas", "features-frames")}


def _ids(n: int) -> pa.Array:
    return pa.array([f"T{i:07d}" for i in range(n)], type=pa.string())


def _dates(months: np.ndarray, days: np.ndarray) -> pa.Array:
    """Dates from month offsets since EPOCH and 1-based days, as timestamp[ns]."""
    d = (EPOCH + months.astype("timedelta64[M]")).astype("datetime64[D]")
    return pa.array((d + (days - 1).astype("timedelta64[D]")).astype("datetime64[ns]"))


def _codes(values: tuple[str, ...], idx: np.ndarray) -> pa.Array:
    return pa.array(values, type=pa.string()).take(pa.array(idx.astype(np.int32)))


def _write_numpy_portfolio(directory: Path, n: int, months: int, seed: int = 7) -> None:
    """Write a synthetic portfolio of ``n`` tenancies over ``months`` months as Parquet."""
    rng = np.random.default_rng(seed)
    ids = _ids(n)
    start = rng.integers(-24, months, n)
    end = start + rng.geometric(1 / 60, n)
    rent = np.round(rng.normal(480, 120, n).clip(250, 1100), 2)
    apl_amount = np.where(rng.random(n) < 0.4, np.round(rent * rng.uniform(0.2, 0.8, n), 2), 0.0)
    start_day = rng.integers(1, 29, n)
    end_date = np.where(end < months, _dates(end, np.ones(n, int)).to_numpy(False),
                        np.datetime64("NaT", "ns"))
    pq.write_table(pa.table({
        "tenancy_id": ids,
        "residence_id": _codes(tuple(f"R{i:04d}" for i in range(2000)), rng.integers(0, 2000, n)),
        "residence_type": _codes(("residence_sociale", "fjt", "pension_de_famille",
                                  "residence_accueil", "logement_familial"), rng.integers(0, 5, n)),
        "start_date": _dates(start, start_day),
        "end_date": pa.array(end_date, type=pa.timestamp("ns")),
        "monthly_rent": rent,
        "guarantee": _codes(("visale", "action_logement", "fsl", "none", "other"),
                            rng.choice(5, n, p=[0.3, 0.15, 0.05, 0.45, 0.05])),
        "tenant_birth_year": rng.integers(1945, 2005, n),
        "household_type": _codes(("single", "couple", "single_parent", "couple_with_children",
                                  "other"), rng.choice(5, n, p=[0.5, 0.1, 0.2, 0.15, 0.05])),
        "children": rng.poisson(0.6, n),
    }), directory / "tenancies.parquet")

    # Tenancy-months inside the export window: a rent charge, most often a payment
    # (some partial or missed, for a fragile fifth of households), APL for some.
    a, b = np.maximum(start, 0), np.minimum(end, months)
    length = np.maximum(b - a, 0)
    owner = np.repeat(np.arange(n), length)
    month = a[owner] + np.arange(len(owner)) - np.repeat(np.cumsum(length) - length, length)
    tm = len(owner)
    fragile = rng.random(n) < 0.2
    miss = rng.random(tm) < np.where(fragile[owner], 0.25, 0.02)
    partial = ~miss & (rng.random(tm) < np.where(fragile[owner], 0.3, 0.03))
    debit = rng.random(n) < 0.45
    pay_day = np.where(debit[owner], 5, rng.integers(1, 29, tm))
    due = rent[owner] - apl_amount[owner]
    paid = np.round(np.where(partial, due * rng.uniform(0.2, 0.9, tm), due), 2)
    has_apl, pays = apl_amount[owner] > 0, ~miss
    method = np.where(debit[owner], 0, rng.integers(1, 5, tm))
    parts = {
        "owner": [owner, owner[pays], owner[has_apl]],
        "month": [month, month[pays], month[has_apl]],
        "day": [np.ones(tm, int), pay_day[pays], np.full(has_apl.sum(), 6)],
        "kind": [np.zeros(tm, int), np.ones(pays.sum(), int), np.full(has_apl.sum(), 2)],
        "amount": [rent[owner], paid[pays], apl_amount[owner][has_apl]],
        "method": [np.full(tm, 5), method[pays], np.full(has_apl.sum(), 5)],
    }
    cat = {k: np.concatenate(v) for k, v in parts.items()}
    event = (EPOCH + cat["month"].astype("timedelta64[M]")).astype("datetime64[D]")
    event = event + (cat["day"] - 1).astype("timedelta64[D]")
    order = np.lexsort((event, cat["owner"]))  # by tenancy then date, as the simulator
    lag = np.where(rng.random(len(order)) < 0.9, 0, rng.integers(1, 10, len(order)))
    methods = pa.array(["direct_debit", "transfer", "cheque", "cash", "card", None])
    pq.write_table(pa.table({
        "tenancy_id": ids.take(pa.array(cat["owner"][order].astype(np.int32))),
        "event_date": pa.array(event[order].astype("datetime64[ns]")),
        "posted_date": pa.array(
            (event[order] + lag.astype("timedelta64[D]")).astype("datetime64[ns]")
        ),
        "kind": _codes(("rent_charge", "tenant_payment", "apl_payment"), cat["kind"][order]),
        "amount": cat["amount"][order],
        "payment_method": methods.take(pa.array(cat["method"][order].astype(np.int32))),
    }), directory / "ledger.parquet", row_group_size=1_000_000)
    del cat, parts

    k = rng.integers(1, 5, n)  # incomes: an entry row and up to three changes
    who = np.repeat(np.arange(n), k)
    nth = np.arange(len(who)) - np.repeat(np.cumsum(k) - k, k)
    eff = _dates(start[who] + nth * rng.integers(3, 18, len(who)),
                 np.where(nth == 0, start_day[who], 1))
    pq.write_table(pa.table({
        "tenancy_id": ids.take(pa.array(who.astype(np.int32))),
        "effective_date": eff,
        "posted_date": pc.add(eff, pa.scalar(np.timedelta64(3, "D").astype("timedelta64[ns]"))),
        "monthly_income": np.round(rng.lognormal(7.0, 0.45, len(who)), 2),
        "employment_status": _codes(("permanent", "fixed_term", "temporary_agency", "unemployed",
                                     "retired", "student", "inactive"),
                                    rng.choice(7, len(who),
                                               p=[0.3, 0.15, 0.1, 0.2, 0.1, 0.05, 0.1])),
        "income_source": _codes(("salary", "unemployment_benefit", "minimum_income",
                                 "disability_benefit", "pension", "other"),
                                rng.integers(0, 6, len(who))),
    }), directory / "incomes.parquet")

    entitled = np.flatnonzero(apl_amount > 0)  # APL: entry row, quarterly recalculations
    q = rng.integers(1, 8, len(entitled))
    who = np.repeat(entitled, q)
    nth = np.arange(len(who)) - np.repeat(np.cumsum(q) - q, q)
    amount = np.round(apl_amount[who] * np.where(nth == 0, 1, rng.uniform(0.6, 1.1, len(who))), 2)
    amount = np.where((nth > 0) & (rng.random(len(who)) < 0.1), 0.0, amount)
    eff = _dates(start[who] + 3 * nth, np.where(nth == 0, start_day[who], 1))
    pq.write_table(pa.table({
        "tenancy_id": ids.take(pa.array(who.astype(np.int32))),
        "effective_date": eff,
        "posted_date": pc.add(eff, pa.scalar(np.timedelta64(10, "D").astype("timedelta64[ns]"))),
        "monthly_amount": amount,
        "paid_to_landlord": rng.random(len(who)) < 0.8,
    }), directory / "apl.parquet")

    s = rng.integers(0, n, n // 10 * 3)  # follow-up events
    s_start = _dates(rng.integers(0, months, len(s)), rng.integers(1, 29, len(s)))
    pq.write_table(pa.table({
        "tenancy_id": ids.take(pa.array(s.astype(np.int32))),
        "kind": _codes(("social_support", "payment_plan", "solidarity_fund_aid",
                        "social_watch_referral", "contact_attempt", "contact_made"),
                       rng.integers(0, 6, len(s))),
        "start_date": s_start,
        "end_date": pa.nulls(len(s), pa.timestamp("ns")),
        "posted_date": s_start,
    }), directory / "support.parquet")


def generate(directory: Path, generator: str, order: str, n: int, months: int) -> None:
    """Write the scenario's portfolio as Parquet into ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    if generator == "simulation":
        from risk.simulation import simulate

        end = str(EPOCH + np.timedelta64(months - 1, "M"))
        simulate(n_tenancies=n, start=str(EPOCH), end=end, seed=11).portfolio.write(directory)
    else:
        _write_numpy_portfolio(directory, n, months)
    if order == "date":
        import duckdb

        ledger = directory / "ledger.parquet"
        by_date = directory / "ledger_by_date.parquet"
        con = duckdb.connect()
        con.execute("SET enable_progress_bar = false")
        con.execute(f"COPY (SELECT * FROM read_parquet('{ledger}') ORDER BY event_date, "
                    f"tenancy_id) TO '{by_date}' (ROW_GROUP_SIZE 1000000)")
        by_date.replace(ledger)


def child(mode: str, directory: str, as_of: str, repeat: int) -> None:
    """Run one measured operation ``repeat`` times and print its timings as JSON."""
    import duckdb

    from risk.features import build_features
    from risk.portfolio import Portfolio

    timings: list[float] = []
    cpu: list[float] = []
    rows = 0

    def timed(run: Callable[[], int]) -> int:
        c0, t0 = time.process_time(), time.perf_counter()
        n = run()
        timings.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
        return n

    if mode == "sum":
        con = duckdb.connect()
        sql = (f"SELECT tenancy_id, SUM(amount) AS total FROM "
               f"read_parquet('{Path(directory) / 'ledger.parquet'}') GROUP BY tenancy_id")
        for _ in range(repeat):
            rows = timed(lambda: len(con.execute(sql).df()))
    else:
        import pandas as pd

        source: Portfolio | str = directory
        if mode in ("features-frames", "pandas"):
            # Loaded before the timed calls; the peak RSS includes the frames.
            source = Portfolio.from_frames(
                **{t: pd.read_parquet(Path(directory) / f"{t}.parquet") for t in TABLES}
            )
        build: Callable[[Portfolio | str, object], object] = build_features
        when: object = as_of
        if mode == "pandas":
            # Run as a script, this file's folder (bench/) is first on sys.path.
            from pandas_features import build_features_pandas

            build, when = build_features_pandas, pd.Timestamp(as_of)
        for _ in range(repeat):
            rows = timed(lambda: len(build(source, when)))  # type: ignore[arg-type]
    print(json.dumps({"timings": timings, "cpu": cpu, "rows": rows}))


def measure(mode: str, directory: Path, as_of: str, repeat: int) -> dict[str, object]:
    """Run ``mode`` in a fresh subprocess; return its timings and peak RSS.

    A child that fails gives ``{"mode", "failed": True, "status", "error"}`` (the end of
    its stderr, which is also echoed) instead of raising, so that the other modes of
    the run are still measured and the failure is written down with them.
    """
    cmd = [sys.executable, __file__, "--child", mode, "--data", str(directory),
           "--as-of", as_of, "--repeat", str(repeat)]
    t0 = time.perf_counter()
    with tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err, text=True)
        out = proc.stdout.read() if proc.stdout else ""
        _, status, usage = os.wait4(proc.pid, 0)
        err.seek(0)
        stderr = err.read()
    if status != 0 or not out.strip():
        tail = "\n".join(stderr.strip().splitlines()[-5:])
        print(f"{mode} failed with status {os.waitstatus_to_exitcode(status)}:\n{tail}",
              file=sys.stderr)
        return {"mode": mode, "failed": True, "status": os.waitstatus_to_exitcode(status),
                "error": tail, "process_wall_s": time.perf_counter() - t0}
    sys.stderr.write(stderr)
    result = json.loads(out.strip().splitlines()[-1])
    return {"mode": mode, "median_s": statistics.median(result["timings"]),
            "best_s": min(result["timings"]),
            "cpu_s": statistics.median(result["cpu"]), "cpu_runs_s": result["cpu"],
            "timings_s": result["timings"], "rows": result["rows"],
            "peak_rss_gb": usage.ru_maxrss * 1024 / 1e9,
            "process_wall_s": time.perf_counter() - t0}


def run_scenario(scenario: str, root: Path, args: argparse.Namespace, as_of: str) -> dict:
    """Generate (unless present) and measure one ``generator:order`` scenario."""
    generator, order = scenario.split(":")
    directory = root / f"{generator}_{order}_{args.tenancies}_{args.months}"
    if not (directory / "ledger.parquet").exists():
        t0 = time.perf_counter()
        subprocess.run([sys.executable, __file__, "--child", "generate", "--data", str(directory),
                        "--generator", generator, "--order", order,
                        "--tenancies", str(args.tenancies), "--months", str(args.months)],
                       check=True)
        print(f"{scenario}: generated in {time.perf_counter() - t0:.0f} s")
    sizes = {t: pq.ParquetFile(directory / f"{t}.parquet").metadata.num_rows for t in TABLES}
    results = [measure(m, directory, as_of, args.repeat) for m in args.modes.split(",")]
    by_mode = {r["mode"]: r for r in results if not r.get("failed")}
    for r in results:
        if not r.get("failed"):
            for stat in ("median", "best", "cpu"):
                r[f"{stat}_ratio_to_sum"] = ratios(r, by_mode.get("sum"))[stat]
    return {"scenario": scenario, "sizes": sizes, "results": results,
            "ratios": {name: ratios(by_mode.get(a), by_mode.get(b))
                       for name, (a, b) in COMPARISONS.items()}}


def ratios(measured: dict | None, base: dict | None) -> dict[str, object]:
    """``measured`` over ``base`` for the median, best and CPU times (None if one is absent).

    ``runs`` pairs the i-th timed call of one child with the i-th of the other, to show
    the spread; the median of those is not reported, the pairs being arbitrary (each
    child runs its repetitions back to back).
    """
    out: dict[str, object] = {
        stat: (measured[f"{stat}_s"] / base[f"{stat}_s"]
               if measured and base and base[f"{stat}_s"] else None)
        for stat in ("median", "best", "cpu")}
    if measured and base:
        out["runs"] = [a / b for a, b in zip(measured["timings_s"], base["timings_s"],
                                             strict=True) if b]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--tenancies", type=int, default=500_000)
    parser.add_argument("--months", type=int, default=60)
    parser.add_argument("--scenarios", default=DEFAULT_SCENARIOS)
    parser.add_argument("--data", type=Path, default=None, help="keep or reuse data here")
    parser.add_argument("--as-of", default=None, help="default: the day after the period")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--modes", default=DEFAULT_MODES)
    parser.add_argument("--out", type=Path, default=RESULTS, help="results file")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--generator", default="simulation", help=argparse.SUPPRESS)
    parser.add_argument("--order", default="tenancy", help=argparse.SUPPRESS)
    args = parser.parse_args()
    as_of = args.as_of or str((EPOCH + np.timedelta64(args.months, "M")).astype("datetime64[D]"))
    if args.child == "generate":
        generate(args.data, args.generator, args.order, args.tenancies, args.months)
        return
    if args.child:
        child(args.child, str(args.data), as_of, args.repeat)
        return

    tmp = None if args.data else tempfile.TemporaryDirectory(prefix="bench_features_")
    root = args.data or Path(tmp.name)  # type: ignore[union-attr]
    runs = [run_scenario(s, root, args, as_of) for s in args.scenarios.split(",")]
    print(f"\nas of {as_of}, {os.cpu_count()} cores; targets <= {TARGET_SECONDS:.0f} s, "
          f"<= {TARGET_PEAK_GB:.0f} GB, <= {TARGET_RATIO:.0f}x sum")
    print(f"{'scenario':<20}{'ledger rows':>12}{'mode':>18}{'median s':>9}{'x sum':>7}"
          f"{'best s':>8}{'x sum':>7}{'cpu s':>7}{'x sum':>7}{'peak GB':>9}{'rows':>9}")
    nan = float("nan")
    for run in runs:
        for r in run["results"]:
            if r.get("failed"):
                print(f"{run['scenario']:<20}{run['sizes']['ledger']:>12,}{r['mode']:>18}"
                      f"  FAILED (exit status {r['status']})")
                continue
            print(f"{run['scenario']:<20}{run['sizes']['ledger']:>12,}{r['mode']:>18}"
                  f"{r['median_s']:>9.2f}{r['median_ratio_to_sum'] or nan:>7.2f}"
                  f"{r['best_s']:>8.2f}{r['best_ratio_to_sum'] or nan:>7.2f}"
                  f"{r['cpu_s']:>7.2f}{r['cpu_ratio_to_sum'] or nan:>7.2f}"
                  f"{r['peak_rss_gb']:>9.2f}{r['rows']:>9,}")
        for name, ratio in run["ratios"].items():
            if ratio["median"] is not None:
                print(f"{run['scenario']:<20}{name:>30}: median {ratio['median']:.2f}x, "
                      f"best {ratio['best']:.2f}x, cpu {ratio['cpu']:.2f}x")
    failed = [f"{run['scenario']} {r['mode']}" for run in runs for r in run["results"]
              if r.get("failed")]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({
        "as_of": as_of, "cores": os.cpu_count(), "tenancies": args.tenancies,
        "months": args.months, "repeat": args.repeat,
        "targets": {"seconds": TARGET_SECONDS, "peak_gb": TARGET_PEAK_GB,
                    "ratio_to_sum": TARGET_RATIO},
        "runs": runs, "failed": failed,
    }, indent=2))
    print(f"written {args.out}")
    if tmp is not None:
        tmp.cleanup()
    if failed:
        sys.exit(f"failed: {', '.join(failed)}")


if __name__ == "__main__":
    main()
