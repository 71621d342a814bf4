"""Every benchmark in one command, with one report (not a test).

``./run bench`` (or ``python bench/run_all.py``) runs the benchmarks under ``bench/`` one
after the other, each as its own subprocess with ``--out`` into a parts folder, checks
every exit code, then merges their JSON into ``bench/results/latest.json`` and renders
``bench/results/latest.md``:

- the machine: CPU model, cores and CPU affinity, memory, OS and kernel, Python, the
  versions of the packages that matter, the load average at start and at end, the date,
  the git commit and whether the working tree was dirty;
- one headline table, at the largest size: stage, size, median, best, peak memory,
  comparator, ratio, target, met?;
- a growth table over the tenancy counts (``--sizes``, default 50k, 200k, 500k): the
  simulator, the feature build as of one date (DuckDB, plain pandas and the single-pass
  ``GROUP BY`` floor, all on the same data in the same run), batch scoring with reasons
  and LightGBM ``pred_contrib`` alone, with the ratios of each run; training is
  measured at 1,000,000 rows only and the API once;
- the exact command of every part, to rerun one alone.

What runs, per size N of ``--sizes`` then once:

``simulation``
    ``bench_simulation.py --tenancies N --profile residences --repeat R`` (60 months).
``features``
    ``bench_features.py --tenancies N --scenarios simulation:tenancy --modes
    sum,features-parquet,features-frames,pandas --repeat R``: DuckDB from Parquet and
    from frames, ``bench/pandas_features.py`` on the same frames, the ``GROUP BY`` floor.
``scoring``
    ``bench_scoring.py --tenancies N --repeat R``: ``score_features(..., reasons=True)``
    against ``booster.predict(pred_contrib=True)`` alone, interleaved.
``training``
    ``bench_training.py --only fit --rows 1000000 --repeat R``: the model's fit against a
    bare ``lightgbm.train`` on the same matrix, interleaved.
``api``
    ``bench_api.py`` (``--quick`` with ``--quick``): latency, throughput, batch and
    reloads of ``risk serve`` against a bare FastAPI + LightGBM endpoint.

Every figure is the median over the part's repeated runs (``--repeat``; the best run is
shown beside it), and every ratio compares two measurements of the same run. Each
benchmark measures its calls inside fresh child processes, so peak memory (``os.wait4``
``ru_maxrss``, the API server's VmHWM) is that of the measured operation. A part whose
process exits non-zero is reported as failed, with what it wrote and the end of its log;
a script that does not exist is "not available" in a ``--quick`` run and failed
otherwise. The run exits with status 1 when any part failed, after writing its report.

Data is generated once into ``--work`` (default ``$TMPDIR/risk-bench``), one folder per
benchmark and size, and reused by later runs; the parts' JSON and logs go to
``bench/results/latest/`` (``latest-quick`` and ``latest-quick.{md,json}`` with
``--quick``, so that a smoke run never replaces the real report). ``--readme`` rewrites
the README's block between ``<!-- bench:start -->`` and ``<!-- bench:end -->`` from the
report's tables (refused with ``--quick``). ``--render-only`` runs nothing and renders
``latest.md`` (and, with ``--readme``, the README block) again from ``latest.json``.

Usage: ``python bench/run_all.py [--sizes 50000,200000,500000] [--repeat 3]
[--only simulation,features,scoring,training,api] [--work DIR] [--results DIR]
[--readme] [--quick] [--render-only]``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.metadata
import json
import os
import platform
import shlex
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
README = ROOT / "README.md"
PARTS = ("simulation", "features", "scoring", "training", "api")
SIZED = ("simulation", "features", "scoring")
DEFAULT_SIZES = (50_000, 200_000, 500_000)
QUICK_SIZES = (1_000, 3_000)
TRAINING_ROWS = 1_000_000
#: A --quick training fit: enough simulated tenancies for the rows it keeps.
QUICK_TRAINING = {"rows": 20_000, "fit_tenancies": 2_000}
MONTHS = 60
FEATURE_MODES = "sum,features-parquet,features-frames,pandas"
START_MARK, END_MARK = "<!-- bench:start -->", "<!-- bench:end -->"
PACKAGES = ("risk", "numpy", "pandas", "pyarrow", "duckdb", "lightgbm", "scikit-learn",
            "fastapi", "uvicorn", "pydantic", "sqlglot")
#: Issue #7's targets for batch scoring, used when the part's JSON does not give them.
SCORING_TARGETS = {"seconds": 60.0, "tenancies": 500_000, "ratio": 2.0}


# --- the parts to run ---------------------------------------------------------------------


@dataclass
class Job:
    """One benchmark process: which part, at which size, how it is run, where it writes."""

    part: str
    size: int | None
    command: list[str]
    out: Path
    log: Path
    script: Path
    #: What the process's outcome was: ok, failed or not available.
    status: str = "not run"
    exit_code: int | None = None
    seconds: float | None = None
    load_before: list[float] | None = None
    error: str | None = None
    result: dict[str, Any] | None = field(default=None, repr=False)

    @property
    def name(self) -> str:
        return self.part if self.size is None else f"{self.part}-{self.size}"

    def record(self) -> dict[str, Any]:
        """The job as it goes into latest.json."""
        return {"part": self.part, "size": self.size, "status": self.status,
                "exit_code": self.exit_code, "seconds": self.seconds,
                "load_before": self.load_before, "error": self.error,
                "command": shell_command(self.command), "out": display_path(self.out),
                "log": display_path(self.log), "result": self.result}


def plan_jobs(args: argparse.Namespace, parts_dir: Path) -> list[Job]:
    """The processes to run, in order: every size of each sized part, then the others."""
    python = sys.executable
    repeat = str(args.repeat)
    jobs: list[Job] = []

    def add(part: str, size: int | None, script: str, *options: str) -> None:
        job_name = part if size is None else f"{part}-{size}"
        out = parts_dir / f"{job_name}.json"
        path = BENCH / script
        jobs.append(Job(part, size, [python, str(path), *options, "--out", str(out)], out,
                        parts_dir / "logs" / f"{job_name}.log", path))

    for part in [p for p in PARTS if p in args.only]:
        if part == "simulation":
            for n in args.sizes:
                add(part, n, "bench_simulation.py", "--tenancies", str(n),
                    "--profile", "residences", "--repeat", repeat)
        elif part == "features":
            for n in args.sizes:
                add(part, n, "bench_features.py", "--tenancies", str(n), "--months",
                    str(MONTHS), "--scenarios", "simulation:tenancy", "--modes",
                    FEATURE_MODES, "--repeat", repeat, "--data", str(args.work / "features"))
        elif part == "scoring":
            for n in args.sizes:
                add(part, n, "bench_scoring.py", "--tenancies", str(n), "--repeat", repeat,
                    "--work", str(args.work / "scoring"))
        elif part == "training":
            rows = QUICK_TRAINING["rows"] if args.quick else TRAINING_ROWS
            extra = ["--fit-tenancies", str(QUICK_TRAINING["fit_tenancies"])] if args.quick else []
            # bench_training reuses prepared rows found in --data whatever their count:
            # one folder per row count keeps a quick run from feeding a full one.
            add(part, None, "bench_training.py", "--only", "fit", "--rows", str(rows),
                *extra, "--repeat", repeat, "--data", str(args.work / f"training-{rows}"))
        elif part == "api":
            add(part, None, "bench_api.py", *(["--quick"] if args.quick else []),
                "--work", str(args.work / "api"))
    return jobs


def run_job(job: Job, quick: bool) -> None:
    """Run one benchmark process, its output into its log; read what it wrote.

    The part's file is removed first, so that a process that fails before writing
    cannot leave the previous run's figures to be read as this run's. A process that
    fails after writing (bench_features does when one mode fails) keeps its figures,
    shown beside the failure.
    """
    job.out.unlink(missing_ok=True)
    job.log.parent.mkdir(parents=True, exist_ok=True)
    if not job.script.exists():
        job.status = "not available" if quick else "failed"
        job.error = f"{display_path(job.script)} does not exist"
        return
    # Other work on a shared machine slows every figure: the load says how much there was.
    job.load_before = [round(x, 2) for x in os.getloadavg()]
    t0 = time.perf_counter()
    with job.log.open("w") as log:
        log.write(f"$ {shell_command(job.command)}\n")
        log.flush()
        proc = subprocess.run(job.command, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT,
                              check=False)
    job.seconds = round(time.perf_counter() - t0, 1)
    job.exit_code = proc.returncode
    if job.out.exists():
        try:
            job.result = json.loads(job.out.read_text())
        except json.JSONDecodeError as error:
            job.error = f"unreadable results: {error}"
    if proc.returncode != 0:
        job.status = "failed"
        tail = job.log.read_text().strip().splitlines()[-3:]
        job.error = f"exit status {proc.returncode}: " + " / ".join(t.strip() for t in tail)
    elif job.result is None:
        job.status = "failed"
        job.error = job.error or f"exit status 0 but no {display_path(job.out)}"
    else:
        job.status = "ok"


# --- the machine --------------------------------------------------------------------------


def _git(*args: str) -> str | None:
    try:
        proc = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True,
                              check=True)
    except (OSError, subprocess.CalledProcessError):
        return None
    return proc.stdout.strip()


def _meminfo() -> dict[str, float]:
    try:
        lines = Path("/proc/meminfo").read_text().splitlines()
    except OSError:
        return {}
    values = {line.split(":")[0]: int(line.split()[1]) for line in lines if line.endswith("kB")}
    return {key: round(values[name] / 2**20, 1)
            for key, name in (("total_gib", "MemTotal"), ("available_gib", "MemAvailable"))
            if name in values}


def _os_name() -> str:
    try:
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                return line.split("=", 1)[1].strip('"')
    except OSError:
        pass
    return platform.system()


def _version(package: str) -> str | None:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


def machine() -> dict[str, Any]:
    """What the figures depend on, read at the start of the run."""
    try:
        cpu = next(line.split(":", 1)[1].strip()
                   for line in Path("/proc/cpuinfo").read_text().splitlines()
                   if line.startswith("model name"))
    except (OSError, StopIteration):
        cpu = platform.processor() or platform.machine()
    status = _git("status", "--porcelain")
    changes = status.splitlines() if status else []
    return {
        "cpu_model": cpu,
        "cores": os.cpu_count(),
        "affinity": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "memory": _meminfo(),
        "os": _os_name(),
        "kernel": platform.release(),
        "platform": platform.platform(),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "packages": {p: _version(p) for p in PACKAGES},
        "git_commit": _git("rev-parse", "HEAD"),
        "git_dirty": None if status is None else bool(changes),
        "git_changes": {"modified": sum(not c.startswith("??") for c in changes),
                        "untracked": sum(c.startswith("??") for c in changes)},
        "load_average_start": [round(x, 2) for x in os.getloadavg()],
    }


# --- reading the parts --------------------------------------------------------------------


def _ok(job: dict[str, Any]) -> dict[str, Any] | None:
    """The part's figures when it wrote some (a failed part may have written a few)."""
    return None if job.get("unreadable") else job.get("result")


def _find(jobs: list[dict[str, Any]], part: str, size: int | None = None) -> dict | None:
    return next((j for j in jobs if j["part"] == part and (size is None or j["size"] == size)),
                None)


def _all_met(*flags: bool | None) -> bool | None:
    """True if every judged flag holds, False if one fails, None if none was judged."""
    judged = [f for f in flags if f is not None]
    return all(judged) if judged else None


def _le(value: float | None, limit: float | None) -> bool | None:
    return None if value is None or limit is None else value <= limit


def _row(stage: str, size: str, **cells: Any) -> dict[str, Any]:
    row = {"stage": stage, "size": size, "median": None, "best": None, "unit": "s",
           "peak_gb": None, "comparator": None, "comparator_value": None, "ratio": None,
           "target": None, "met": None, "status": "ok", "note": None}
    row.update(cells)
    return row


def _failed_row(stage: str, size: str, job: dict[str, Any]) -> dict[str, Any]:
    return _row(stage, size, status=job["status"], note=job.get("error"))


def simulation_figures(result: dict[str, Any]) -> dict[str, Any] | None:
    run = result.get("runs", {}).get("residences")
    if not run:
        return None
    return {"median": run["simulate_s"], "best": run.get("best_s", run["simulate_s"]),
            "peak_gb": run["peak_rss_gb"], "write_s": run.get("write_s"),
            "ledger_rows": run.get("rows", {}).get("ledger"),
            "met": run.get("meets_targets"), "targets": result.get("targets", {})}


def feature_figures(result: dict[str, Any]) -> dict[str, Any] | None:
    """Per mode figures (or ``{"failed": ...}``) and the two ratios of the run."""
    runs = result.get("runs") or []
    if not runs:
        return None
    run = runs[0]
    modes = {}
    for r in run["results"]:
        if r.get("failed"):
            modes[r["mode"]] = {"failed": f"exit status {r.get('status')}: {r.get('error', '')}"}
        else:
            modes[r["mode"]] = {"median": r["median_s"], "best": r["best_s"],
                                "peak_gb": r["peak_rss_gb"], "rows": r["rows"]}
    ratios = run.get("ratios", {})
    return {"modes": modes, "ledger_rows": run.get("sizes", {}).get("ledger"),
            "duckdb_to_groupby": (ratios.get("duckdb_to_groupby") or {}).get("median"),
            "pandas_to_duckdb": (ratios.get("pandas_to_duckdb") or {}).get("median"),
            "targets": result.get("targets", {})}


def scoring_figures(result: dict[str, Any]) -> dict[str, Any]:
    score, floor = result["score_with_reasons"], result["pred_contrib"]
    targets = {**SCORING_TARGETS, **(result.get("targets") or {})}
    met = result.get("met")
    if isinstance(met, dict):
        seconds_met, ratio_met = met.get("seconds"), met.get("ratio")
    else:  # a single flag, or none: judge from the figures
        at_size = result.get("tenancies", 0) >= targets["tenancies"]
        seconds_met = _le(score["median_s"], targets["seconds"]) if at_size else None
        ratio_met = _le(result["ratio"]["median"], targets["ratio"])
    return {"median": score["median_s"], "best": score["best_s"],
            "peak_gb": score["peak_rss_gb"], "floor_median": floor["median_s"],
            "floor_best": floor["best_s"], "floor_peak_gb": floor["peak_rss_gb"],
            "ratio": result["ratio"]["median"], "rows": result.get("rows"),
            "tenancies": result.get("tenancies"), "as_of": result.get("as_of"),
            "seconds_met": seconds_met, "ratio_met": ratio_met, "targets": targets}


def _api_figure(result: dict[str, Any], prefix: str) -> dict[str, Any] | None:
    return next((f for f in result.get("figures", []) if f["name"].startswith(prefix)), None)


def _api_met(result: dict[str, Any], *prefixes: str) -> bool | None:
    return _all_met(*((_api_figure(result, p) or {}).get("met") for p in prefixes))


def _api_target(result: dict[str, Any], *prefixes: str) -> str:
    parts = []
    for p in prefixes:
        figure = _api_figure(result, p)
        if figure and figure.get("met") is not None:
            parts.append(f"{figure['name']} {figure['target']}")
    return "; ".join(parts) or "(info)"


def headline_rows(jobs: list[dict[str, Any]], sizes: list[int]) -> list[dict[str, Any]]:
    """The headline table: every stage at the largest size, training and API once."""
    rows: list[dict[str, Any]] = []
    n = max(sizes) if sizes else None
    size_label = f"{n:,} tenancies x {MONTHS} months" if n else ""

    job = _find(jobs, "simulation", n)
    if job:
        figures = _ok(job) and simulation_figures(job["result"])
        stage = "simulation (residences profile)"
        if figures and job["status"] == "ok":
            t = figures["targets"]
            ledger = (f", {figures['ledger_rows'] / 1e6:.1f} M ledger rows"
                      if figures["ledger_rows"] else "")
            rows.append(_row(stage, size_label + ledger, median=figures["median"],
                             best=figures["best"], peak_gb=figures["peak_gb"],
                             target=f"<= {t.get('seconds', 0):.0f} s, "
                                    f"<= {t.get('peak_gb', 0):.0f} GB",
                             met=figures["met"],
                             note=(f"+ {figures['write_s']:.1f} s to write Parquet"
                                   if figures.get("write_s") is not None else None)))
        else:
            rows.append(_failed_row(stage, size_label, job))

    job = _find(jobs, "features", n)
    if job:
        figures = _ok(job) and feature_figures(job["result"])
        if figures:
            rows.extend(_feature_rows(figures, size_label, job))
        else:
            rows.append(_failed_row("feature build as of one date", size_label, job))

    job = _find(jobs, "scoring", n)
    if job:
        stage = "batch scoring with reasons"
        if job["status"] == "ok" and _ok(job):
            f = scoring_figures(job["result"])
            t = f["targets"]
            rows.append(_row(
                stage, f"{f['tenancies']:,} tenancies, {f['rows']:,} households as of "
                       f"{f['as_of']}",
                median=f["median"], best=f["best"], peak_gb=f["peak_gb"],
                comparator="LightGBM pred_contrib alone", comparator_value=f["floor_median"],
                ratio=f["ratio"],
                target=f"<= {t['seconds']:.0f} s at {t['tenancies']:,} tenancies, "
                       f"<= {t['ratio']:g}x",
                met=_all_met(f["seconds_met"], f["ratio_met"]),
                note=(None if f["seconds_met"] is not None else
                      f"the time target is judged at {t['tenancies']:,} tenancies only")))
        else:
            rows.append(_failed_row(stage, size_label, job))

    job = _find(jobs, "training")
    if job:
        fit = (_ok(job) or {}).get("fit")
        if job["status"] == "ok" and fit:
            rows.append(_training_row(fit))
        else:
            rows.append(_failed_row(TRAINING_STAGE, f"{TRAINING_ROWS:,} rows", job))

    job = _find(jobs, "api")
    if job:
        r = _ok(job)
        if job["status"] == "ok" and r:
            rows.extend(_api_rows(r))
        else:
            rows.append(_failed_row("API", "risk serve beside a bare FastAPI + LightGBM "
                                    "endpoint", job))
    return rows


TRAINING_STAGE = "training fit (early stopping, calibration)"


def _training_row(fit: dict[str, Any]) -> dict[str, Any]:
    data, t, ok = fit["data"], fit["targets"], fit["pass"]
    return _row(
        TRAINING_STAGE, f"{data['rows']:,} rows x {data['features']} features",
        median=fit["model"]["median_s"], best=fit["model"]["best_s"],
        peak_gb=fit["model"]["median_peak_rss_gb"],
        comparator="bare lightgbm.train, same matrix and rounds",
        comparator_value=fit["bare"]["median_s"], ratio=fit["median_ratio"],
        target=f"<= {t['seconds']:.0f} s, <= {t['ratio']:g}x",
        met=_all_met(ok["seconds"], ok["ratio"]),
        note=f"bare fit peak {fit['bare']['median_peak_rss_gb']:.2f} GB")


#: How each part's JSON is read into the tables, tried once on every part by merge().
READERS: dict[str, Any] = {
    "simulation": lambda r: simulation_figures(r),
    "features": lambda r: _feature_rows(feature_figures(r) or {}, "", {"status": "ok"}),
    "scoring": lambda r: scoring_figures(r),
    "training": lambda r: _training_row(r["fit"]),
    "api": lambda r: _api_rows(r),
}


def _feature_rows(f: dict[str, Any], size: str, job: dict[str, Any]) -> list[dict[str, Any]]:
    modes, t = f["modes"], f["targets"]
    size = size + (f", {f['ledger_rows'] / 1e6:.1f} M ledger rows" if f["ledger_rows"] else "")
    floor = modes.get("sum", {})
    frames = modes.get("features-frames", {})
    spec = [
        ("features-parquet", "feature build, DuckDB, from Parquet",
         "GROUP BY floor", floor.get("median"), f["duckdb_to_groupby"],
         f"<= {t.get('seconds', 0):.0f} s, <= {t.get('peak_gb', 0):.0f} GB, "
         f"<= {t.get('ratio_to_sum', 0):g}x floor"),
        ("features-frames", "feature build, DuckDB, from frames in memory", None, None, None,
         "(info; peak includes the frames)"),
        ("pandas", "feature build, plain pandas, from the same frames",
         "DuckDB from frames", frames.get("median"), f["pandas_to_duckdb"],
         "(info; peak includes the frames)"),
        ("sum", "GROUP BY floor: one SUM(amount) per tenancy over the ledger", None, None, None,
         "(floor)"),
    ]
    rows = []
    for mode, stage, comparator, value, ratio, target in spec:
        m = modes.get(mode)
        if m is None:
            rows.append(_row(stage, size, status="failed" if job["status"] == "failed"
                             else "not run", note=job.get("error")))
        elif "failed" in m:
            rows.append(_row(stage, size, status="failed", note=m["failed"]))
        else:
            met = None
            if mode == "features-parquet":
                met = _all_met(_le(m["median"], t.get("seconds")),
                               _le(m["peak_gb"], t.get("peak_gb")),
                               _le(ratio, t.get("ratio_to_sum")))
            # The floor's rows are its groups (every tenancy of the ledger), the builder's
            # the households present at the as-of date.
            note = None if mode == "sum" else f"{m['rows']:,} households at the as-of date"
            rows.append(_row(stage, size, median=m["median"], best=m["best"],
                             peak_gb=m["peak_gb"], comparator=comparator,
                             comparator_value=value, ratio=ratio, target=target, met=met,
                             note=note))
    return rows


def _api_rows(r: dict[str, Any]) -> list[dict[str, Any]]:
    svc, bare = r["latency"]["service"], r["latency"]["bare"]
    load, rss = r["load"], r.get("peak_rss_mb", {})
    # bench_api reports MiB (VmHWM); the other parts GB (1e9 bytes), as this table does.
    peak = (rss.get("service") or 0) * 2**20 / 1e9 or None
    single = f"one tenancy, {r['setup']['ledger_months']} months of ledger ({r['mode']} run)"
    rows = [
        _row("API single request, p50 latency", single, median=svc["p50_ms"], unit="ms",
             peak_gb=peak, comparator="bare FastAPI + LightGBM p50",
             comparator_value=bare["p50_ms"], ratio=r["ratio"]["p50"],
             target=_api_target(r, "single p50", "p50 / bare"),
             met=_api_met(r, "single p50", "p50 / bare")),
        _row("API single request, p99 latency", single, median=svc["p99_ms"], unit="ms",
             peak_gb=peak, comparator="bare FastAPI + LightGBM p99",
             comparator_value=bare["p99_ms"], ratio=r["ratio"]["p99"],
             target=_api_target(r, "single p99"), met=_api_met(r, "single p99")),
    ]
    s, b = load["service"], load["bare"]
    rows.append(_row(
        "API throughput", f"{s['client']}, {s['seconds']:.0f} s", median=s["requests_per_s"],
        unit="req/s", peak_gb=peak, comparator="bare FastAPI + LightGBM",
        comparator_value=b["requests_per_s"],
        ratio=s["requests_per_s"] / b["requests_per_s"] if b["requests_per_s"] else None,
        target=_api_target(r, "requests/s", "errors under load"),
        met=_api_met(r, "requests/s", "errors under load"),
        note=f"{s['errors']} errors"))
    batch = r["batch"]
    requests = f"{batch['repeats']} request{'s' if batch['repeats'] != 1 else ''}"
    rows.append(_row(
        f"API batch of {batch['tenancies']:,} tenancies", f"{batch['body_mb']} MB body, {requests}",
        median=batch["median_s"], best=batch["min_s"], peak_gb=peak,
        target=_api_target(r, "batch of"), met=_api_met(r, "batch of")))
    reload = r["reload"]
    rows.append(_row(
        "API reload under load", f"every {r['setup']['plan']['reload_every']:g} s during "
        f"{reload['load']['seconds']:.0f} s", median=None, unit="",
        target=_api_target(r, "reloads under load", "failed requests during"),
        met=_api_met(r, "reloads under load", "failed requests during"),
        note=f"{reload['reloads_ok']}/{reload['reloads']} reloads ok, "
             f"{reload['load']['errors']} failed requests"))
    return rows


def growth_rows(jobs: list[dict[str, Any]], sizes: list[int]) -> list[dict[str, Any]]:
    """One row per stage, one cell per size: ``{"value", "peak_gb", "unit"}`` or a status."""

    def cells(part: str, pick: Any) -> list[dict[str, Any] | str | None]:
        out: list[dict[str, Any] | str | None] = []
        for n in sizes:
            job = _find(jobs, part, n)
            if job is None:
                out.append(None)
                continue
            value = pick(job["result"]) if _ok(job) else None
            if value is None:  # what the part could not give: why, if it did not end well
                value = "n/a" if job["status"] == "ok" else job["status"]
            out.append(value)
        return out

    def seconds(value: float | None, peak: float | None = None) -> dict[str, Any] | None:
        return None if value is None else {"value": value, "peak_gb": peak, "unit": "s"}

    def ratio(value: float | None) -> dict[str, Any] | None:
        return None if value is None else {"value": value, "unit": "x"}

    def sim(r: dict[str, Any]) -> Any:
        f = simulation_figures(r)
        return f and seconds(f["median"], f["peak_gb"])

    def feature(mode: str) -> Any:
        def pick(r: dict[str, Any]) -> Any:
            f = feature_figures(r)
            m = (f or {}).get("modes", {}).get(mode)
            if m is None:
                return None
            return "failed" if "failed" in m else seconds(m["median"], m["peak_gb"])
        return pick

    def feature_ratio(name: str) -> Any:
        return lambda r: ratio((feature_figures(r) or {}).get(name))

    def score(key: str, peak: str) -> Any:
        return lambda r: seconds(scoring_figures(r)[key], scoring_figures(r)[peak])

    def ledger(r: dict[str, Any]) -> Any:
        f = feature_figures(r)
        rows = (f or {}).get("ledger_rows")
        return None if rows is None else {"value": rows, "unit": "rows"}

    spec = [
        ("ledger rows (feature data)", "features", ledger),
        ("simulation, residences profile", "simulation", sim),
        ("feature build, DuckDB from Parquet", "features", feature("features-parquet")),
        ("feature build, DuckDB from frames", "features", feature("features-frames")),
        ("feature build, plain pandas", "features", feature("pandas")),
        ("GROUP BY floor", "features", feature("sum")),
        ("DuckDB / GROUP BY", "features", feature_ratio("duckdb_to_groupby")),
        ("pandas / DuckDB (frames)", "features", feature_ratio("pandas_to_duckdb")),
        ("batch scoring with reasons", "scoring", score("median", "peak_gb")),
        ("LightGBM pred_contrib alone", "scoring", score("floor_median", "floor_peak_gb")),
        ("scoring / pred_contrib", "scoring", lambda r: ratio(scoring_figures(r)["ratio"])),
    ]
    rows = []
    for stage, part, pick in spec:
        if not any(j["part"] == part for j in jobs):
            continue
        rows.append({"stage": stage, "cells": cells(part, pick)})
    return rows


# --- rendering ----------------------------------------------------------------------------


def _num(value: float | None, unit: str = "s") -> str:
    if value is None:
        return "—"
    if unit == "x":
        return f"{value:.2f}x"
    if unit == "rows":
        return f"{value / 1e6:.1f} M" if value >= 1e6 else f"{value:,.0f}"
    if unit == "req/s":
        return f"{value:,.0f} req/s"
    digits = 2 if abs(value) < 10 else 1 if abs(value) < 100 else 0
    return f"{value:.{digits}f} {unit}".strip()


def _gb(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f} GB"


def _met(row: dict[str, Any]) -> str:
    if row["status"] != "ok":
        return f"**{row['status'].upper()}**" if row["status"] == "failed" else row["status"]
    return {True: "yes", False: "**no**", None: "—"}[row["met"]]


def _cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def headline_table(rows: list[dict[str, Any]]) -> str:
    lines = ["| stage | size | median | best | peak memory | comparator | ratio | target "
             "| met? |", "| --- | --- | ---: | ---: | ---: | --- | ---: | --- | --- |"]
    for r in rows:
        if r["status"] != "ok":
            # The cause goes under the table (render_markdown): a traceback's last lines
            # would swamp the row.
            median = r["status"] + (" (see below)" if r["note"] else "")
            lines.append(f"| {_cell(r['stage'])} | {_cell(r['size'])} | {_cell(median)} | "
                         f"— | — | — | — | — | {_met(r)} |")
            continue
        comparator = "—"
        if r["comparator"]:
            comparator = f"{r['comparator']}: {_num(r['comparator_value'], r['unit'])}"
        median = _num(r["median"], r["unit"]) if r["median"] is not None else (r["note"] or "—")
        size = r["size"] + (f"; {r['note']}" if r["note"] and r["median"] is not None else "")
        lines.append(
            f"| {_cell(r['stage'])} | {_cell(size)} | {_cell(median)} | "
            f"{_num(r['best'], r['unit'])} | {_gb(r['peak_gb'])} | {_cell(comparator)} | "
            f"{_num(r['ratio'], 'x')} | {_cell(r['target'] or '—')} | {_met(r)} |")
    return "\n".join(lines)


def growth_table(rows: list[dict[str, Any]], sizes: list[int]) -> str:
    """Stages by size, and the last size's figure over the first's (how each grows)."""
    if not rows:
        return ""
    factor = f"{max(sizes) / min(sizes):g}x tenancies" if len(sizes) > 1 else "growth"
    lines = ["| stage | " + " | ".join(f"{n:,} tenancies" for n in sizes) + f" | {factor} |",
             "| --- |" + " ---: |" * (len(sizes) + 1)]
    for row in rows:
        cells, texts = row["cells"], []
        for c in cells:
            if c is None:
                texts.append("not run")
            elif isinstance(c, str):
                texts.append(f"**{c}**" if c == "failed" else c)
            else:
                text = _num(c["value"], c["unit"])
                if c.get("peak_gb") is not None:
                    text += f" ({_gb(c['peak_gb'])})"
                texts.append(text)
        first, last = cells[0], cells[-1]
        grows = "—"
        if (len(cells) > 1 and isinstance(first, dict) and isinstance(last, dict)
                and first["unit"] != "x" and first["value"]):
            grows = f"{last['value'] / first['value']:.1f}x"
        lines.append(f"| {_cell(row['stage'])} | " + " | ".join(texts) + f" | {grows} |")
    return "\n".join(lines)


def machine_lines(m: dict[str, Any]) -> list[str]:
    memory = m.get("memory", {})
    packages = ", ".join(f"{k} {v}" for k, v in m.get("packages", {}).items() if v)
    dirty = m.get("git_dirty")
    changes = m.get("git_changes", {})
    tree = ("unknown" if dirty is None else
            f"dirty ({changes.get('modified', 0)} modified, {changes.get('untracked', 0)} "
            "untracked files)" if dirty else "clean")
    load_end = m.get("load_average_end")
    return [
        f"- CPU: {m.get('cpu_model')}, {m.get('cores')} cores, {m.get('affinity')} in this "
        "process's affinity",
        f"- memory: {memory.get('total_gib', '?')} GiB ({memory.get('available_gib', '?')} "
        "GiB available at start)",
        f"- OS: {m.get('os')}, kernel {m.get('kernel')}",
        f"- Python: {m.get('python')}",
        f"- packages: {packages}",
        f"- load average (1, 5, 15 min): {m.get('load_average_start')} at start, "
        f"{load_end if load_end is not None else '?'} at end",
        f"- date: {m.get('date_start')} to {m.get('date_end', '?')} (UTC)",
        f"- git: {m.get('git_commit') or 'unknown commit'}, working tree {tree}",
    ]


def _settings_line(latest: dict[str, Any]) -> str:
    s = latest["settings"]
    sizes = ", ".join(f"{n:,}" for n in s["sizes"])
    return (f"{'Quick smoke run (not figures to quote): ' if s['quick'] else ''}"
            f"repeat {s['repeat']}, sizes {sizes} tenancies x {MONTHS} months, parts "
            f"{', '.join(s['only'])}; {latest['seconds']:.0f} s in all.")


def _busy_warning(m: dict[str, Any]) -> str | None:
    """A warning when other work kept the cores busy: every figure is slowed by it."""
    cores = m.get("affinity") or m.get("cores") or 1
    loads = [x for x in (m.get("load_average_start"), m.get("load_average_end")) if x]
    highest = max((x[0] for x in loads), default=0.0)
    if highest <= cores / 2:
        return None
    return (f"**The machine was busy** (1-minute load average up to {highest:g} on {cores} "
            "cores): other processes shared the cores, the times are slower than on an idle "
            "machine and the ratios less reliable.")


def _size(size: int | None) -> str:
    return "" if size is None else f"{size:,}"


def _job_label(job: dict[str, Any]) -> str:
    return job["part"] if job["size"] is None else f"{job['part']} at {job['size']:,}"


def render_markdown(latest: dict[str, Any]) -> str:
    """latest.md: the machine, the headline and growth tables, the commands."""
    sizes = latest["settings"]["sizes"]
    not_run = [p for p in PARTS if p not in latest["settings"]["only"]]
    problems = [j for j in latest["jobs"] if j["status"] != "ok"]
    out = ["# Benchmarks: latest run", "", _settings_line(latest), ""]
    busy = _busy_warning(latest["machine"])
    if busy:
        out += [busy, ""]
    out += ["## Machine", "",
           *machine_lines(latest["machine"]), "", "## Headline", "",
           f"The stages measured at several sizes are shown at the largest "
           f"({max(sizes):,} tenancies). Median and best over the repeated runs; every ratio "
           "compares two measurements of the same run; peak memory is the measured "
           "process's own peak RSS (the service's, for the API).", "",
           headline_table(latest["headline"])]
    if not_run:
        out += ["", f"Not run this time (`--only`): {', '.join(not_run)}."]
    if problems:
        out += ["", "Parts that did not complete (their logs are beside the parts' JSON):", ""]
        out += [f"- {_job_label(j)}: {j['status']}: {j['error']}" for j in problems]
    # A mode that failed inside a part that otherwise ran (the pandas features, say).
    out += [f"- {r['stage']} at {r['size']}: failed: {r['note']}" for r in latest["headline"]
            if r["status"] == "failed" and r["note"]
            and not any(r["note"] == j["error"] for j in problems)]
    growth = growth_table(latest["growth"], sizes)
    if growth:
        out += ["", "## Growth with the number of tenancies", "",
                "Median time (and peak memory) at each size, then the largest size's figure "
                "over the smallest's. Training is measured at "
                f"{latest['settings']['training_rows']:,} rows only, the API once (headline "
                "table).", "", growth]
    out += ["", "## Parts", "", "| part | size | status | wall time | load average before |",
            "| --- | ---: | --- | ---: | --- |"]
    out += [f"| {j['part']} | {_size(j['size'])} | {j['status']} | {_num(j['seconds'])} | "
            f"{j.get('load_before') or '—'} |" for j in latest["jobs"]]
    out += ["", "## Commands", "", "The whole run:", "", "```sh",
            latest["settings"]["command"], "```", "",
            "Each part alone (from the repository's root):", "", "```sh"]
    out += [j["command"] for j in latest["jobs"]]
    out += ["```", ""]
    return "\n".join(out)


def readme_block(latest: dict[str, Any]) -> str:
    """The README's generated block: where and when, then the two tables."""
    m, sizes = latest["machine"], latest["settings"]["sizes"]
    memory = m.get("memory", {}).get("total_gib", "?")
    commit = (m.get("git_commit") or "unknown")[:12]
    lines = [
        f"Latest run: {m.get('date_start', '?')[:10]}, {m.get('cpu_model')}, "
        f"{m.get('affinity') or m.get('cores')} cores, {memory} GiB, commit {commit}"
        f"{' (dirty tree)' if m.get('git_dirty') else ''}; {_settings_line(latest)} "
        "Full report: `bench/results/latest.md`.", "",
        headline_table(latest["headline"])]
    growth = growth_table(latest["growth"], sizes)
    if growth:
        lines += ["", "Growth with the number of tenancies (median time, peak memory):", "",
                  growth]
    return "\n".join(lines)


def rewrite_readme(text: str, block: str) -> str:
    """Replace what lies between the two markers with ``block``; the rest is untouched."""
    start, end = text.find(START_MARK), text.find(END_MARK)
    if start < 0 or end < 0 or end < start:
        raise ValueError(f"the README needs {START_MARK} then {END_MARK}")
    head = text[: start + len(START_MARK)]
    return f"{head}\n{block.strip()}\n{text[end:]}"


def merge(jobs: list[dict[str, Any]], machine_info: dict[str, Any],
          settings: dict[str, Any], seconds: float) -> dict[str, Any]:
    """latest.json: the machine, the settings, every part as run, the two tables."""
    sizes = settings["sizes"]
    for job in jobs:
        # A part whose JSON has another shape than the one read here (a benchmark changed
        # since) is failed with the reason, instead of the report being lost.
        if job.get("result") is not None:
            try:
                READERS[job["part"]](job["result"])
            except (KeyError, TypeError, ValueError, ZeroDivisionError, AttributeError) as e:
                job.update(status="failed", unreadable=True,
                           error=f"results not understood ({type(e).__name__}: {e})")
    return {"machine": machine_info, "settings": settings, "seconds": round(seconds, 1),
            "jobs": jobs, "headline": headline_rows(jobs, sizes),
            "growth": growth_rows(jobs, sizes),
            "failed": [j["part"] + ("" if j["size"] is None else f"-{j['size']}")
                       for j in jobs if j["status"] == "failed"]}


# --- command line -------------------------------------------------------------------------


def display_path(path: Path) -> str:
    """A path relative to the repository when inside it, so commands read anywhere."""
    try:
        return str(Path(path).resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def shell_command(command: list[str]) -> str:
    """The command as a shell line, the repository's paths (its .venv too) relative."""
    # Not resolved: the venv's python is a symlink to the system one, and the venv is
    # what the command needs.
    return shlex.join(os.path.relpath(w, ROOT) if w.startswith(f"{ROOT}{os.sep}") else w
                      for w in command)


def _sizes(text: str) -> list[int]:
    sizes = sorted({int(s.replace("_", "")) for s in text.split(",") if s.strip()})
    if not sizes or sizes[0] < 1:
        raise argparse.ArgumentTypeError("sizes are positive tenancy counts, e.g. 50000,200000")
    return sizes


def _parts(text: str) -> list[str]:
    parts = [p.strip() for p in text.split(",") if p.strip()]
    unknown = sorted(set(parts) - set(PARTS))
    if unknown or not parts:
        raise argparse.ArgumentTypeError(f"unknown parts {unknown}; choose from {PARTS}")
    return [p for p in PARTS if p in parts]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sizes", type=_sizes, default=None,
                        help="tenancy counts (default 50000,200000,500000; quick: 1000,3000)")
    parser.add_argument("--repeat", type=int, default=None,
                        help="runs per measurement (default 3; quick: 1)")
    parser.add_argument("--only", type=_parts, default=list(PARTS),
                        help=f"comma-separated parts among {','.join(PARTS)}")
    parser.add_argument("--work", type=Path,
                        default=Path(tempfile.gettempdir()) / "risk-bench",
                        help="data folder, kept and reused between runs")
    parser.add_argument("--results", type=Path, default=BENCH / "results",
                        help="where latest.md, latest.json and the parts go")
    parser.add_argument("--readme", action="store_true",
                        help="rewrite the README's block between the bench markers")
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: tiny sizes, one repeat, the API's quick mode")
    parser.add_argument("--render-only", action="store_true",
                        help="run nothing: rewrite latest.md (and with --readme the README) "
                             "from latest.json")
    args = parser.parse_args(argv)
    if args.readme and args.quick:
        parser.error("--readme takes a real run's figures, not --quick's")
    args.sizes = args.sizes or list(QUICK_SIZES if args.quick else DEFAULT_SIZES)
    args.repeat = args.repeat or (1 if args.quick else 3)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    args.work = args.work.resolve()
    return args


def _say(line: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {line}", flush=True)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    stem = "latest-quick" if args.quick else "latest"
    if args.render_only:
        return write_report(rerender(args.results / f"{stem}.json"), args, stem)
    parts_dir = args.results / stem
    args.work.mkdir(parents=True, exist_ok=True)
    parts_dir.mkdir(parents=True, exist_ok=True)
    info = machine()
    info["date_start"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    jobs = plan_jobs(args, parts_dir)
    t0 = time.perf_counter()
    for i, job in enumerate(jobs, 1):
        _say(f"{i}/{len(jobs)} {job.name}: {shell_command(job.command)}")
        run_job(job, args.quick)
        _say(f"{i}/{len(jobs)} {job.name}: {job.status}"
             + (f" in {job.seconds:.0f} s" if job.seconds is not None else "")
             + (f" ({job.error}; log {display_path(job.log)})" if job.error else ""))
    info["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    info["date_end"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    settings = {"sizes": args.sizes, "repeat": args.repeat, "only": args.only,
                "quick": args.quick, "work": str(args.work),
                "training_rows": QUICK_TRAINING["rows"] if args.quick else TRAINING_ROWS,
                "command": shell_command(["./run", "bench", *(argv if argv is not None
                                                             else sys.argv[1:])])}
    latest = merge([j.record() for j in jobs], info, settings, time.perf_counter() - t0)
    return write_report(latest, args, stem)


def rerender(path: Path) -> dict[str, Any]:
    """A saved run merged again, e.g. after a change of this script's rendering."""
    saved = json.loads(path.read_text())
    for job in saved["jobs"]:
        if job.pop("unreadable", False):  # read again from the part's own JSON
            job["status"] = "ok" if job["exit_code"] == 0 else "failed"
    return merge(saved["jobs"], saved["machine"], saved["settings"], saved["seconds"])


def write_report(latest: dict[str, Any], args: argparse.Namespace, stem: str) -> int:
    """Write latest.json and latest.md (and the README block); 1 if a part failed."""
    args.results.mkdir(parents=True, exist_ok=True)
    (args.results / f"{stem}.json").write_text(json.dumps(latest, indent=2) + "\n")
    markdown = render_markdown(latest)
    (args.results / f"{stem}.md").write_text(markdown)
    print("\n" + markdown)
    _say(f"written {display_path(args.results / f'{stem}.md')} and .json")
    if args.readme:
        README.write_text(rewrite_readme(README.read_text(), readme_block(latest)))
        _say(f"rewritten the block between the bench markers in {display_path(README)}")
    return 1 if latest["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
