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
    against ``booster.predict(pred_contrib=True)`` alone, interleaved. With ``--quick``,
    ``--bundle-tenancies 2000``: the bundle scored is trained (once) on 2,000 simulated
    tenancies instead of 20,000.
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

The reading of the parts' JSON into the two tables is ``bench/bench_figures.py``, the
rendering of ``latest.md`` and the README block ``bench/bench_report.py``; this script
plans and runs the parts and writes what those two make of them.

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

from bench_figures import MONTHS, PARTS, TRAINING_ROWS, merge, rerender
from bench_report import readme_block, render_markdown, rewrite_readme

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
README = ROOT / "README.md"
SIZED = ("simulation", "features", "scoring")
DEFAULT_SIZES = (50_000, 200_000, 500_000)
QUICK_SIZES = (1_000, 3_000)
#: A --quick training fit: enough simulated tenancies for the rows it keeps.
QUICK_TRAINING = {"rows": 20_000, "fit_tenancies": 2_000}
#: The tenancies of the bundle a --quick scoring run trains (bench_scoring's default,
#: 20,000, takes many minutes to train the first time; scored, the bundle is a smoke test).
QUICK_BUNDLE_TENANCIES = 2_000
FEATURE_MODES = "sum,features-parquet,features-frames,pandas"
PACKAGES = ("risk", "numpy", "pandas", "pyarrow", "duckdb", "lightgbm", "scikit-learn",
            "fastapi", "uvicorn", "pydantic", "sqlglot")


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
            # bench_scoring keeps one bundle per --bundle-tenancies in --work: a quick
            # run's small bundle is never scored by a full run.
            bundle = (["--bundle-tenancies", str(QUICK_BUNDLE_TENANCIES)] if args.quick
                      else [])
            for n in args.sizes:
                add(part, n, "bench_scoring.py", "--tenancies", str(n), *bundle, "--repeat",
                    repeat, "--work", str(args.work / "scoring"))
        elif part == "training":
            rows = QUICK_TRAINING["rows"] if args.quick else TRAINING_ROWS
            extra = ["--fit-tenancies", str(QUICK_TRAINING["fit_tenancies"])] if args.quick else []
            # bench_training makes its rows again when --data holds another count's: one
            # folder per row count keeps a quick run from discarding a full run's rows.
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
