"""bench/run_all.py, bench_figures.py, bench_report.py: the merge, the report, a smoke run.

The parts below are hand-made in the shapes the benchmarks write (only the keys the
report reads), so that every figure in the rendered tables can be traced to one here.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _load(name: str, file: str) -> Any:
    """A module of bench/ (not a package) by its path, registered under ``name``.

    Registered before it runs: dataclasses look their module up by name, and run_all and
    bench_report import the modules below theirs by their plain names, as the scripts do
    with bench/ first on sys.path.
    """
    spec = importlib.util.spec_from_file_location(name, ROOT / "bench" / file)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


figures = _load("bench_figures", "bench_figures.py")
report = _load("bench_report", "bench_report.py")
run_all = _load("bench_run_all", "run_all.py")

SIZES = [1_000, 4_000]


def simulation_part(n: int, seconds: float) -> dict[str, Any]:
    return {"tenancies": n, "targets": {"seconds": 180.0, "peak_gb": 8.0},
            "runs": {"residences": {"simulate_s": seconds, "best_s": seconds * 0.9,
                                    "write_s": 0.5, "peak_rss_gb": 0.25,
                                    "rows": {"ledger": 48 * n}, "meets_targets": True}}}


def _mode(mode: str, median: float, peak: float, rows: int) -> dict[str, Any]:
    return {"mode": mode, "median_s": median, "best_s": median * 0.8, "cpu_s": median,
            "peak_rss_gb": peak, "rows": rows}


def features_part(n: int, scale: float) -> dict[str, Any]:
    results = [_mode("sum", 0.1 * scale, 0.2, n),
               _mode("features-parquet", 0.5 * scale, 0.4, n // 3),
               _mode("features-frames", 0.6 * scale, 0.9, n // 3),
               _mode("pandas", 1.8 * scale, 1.1, n // 3)]
    return {"tenancies": n, "targets": {"seconds": 15.0, "peak_gb": 3.0, "ratio_to_sum": 4.0},
            "runs": [{"scenario": "simulation:tenancy", "sizes": {"ledger": 48 * n},
                      "results": results,
                      "ratios": {"duckdb_to_groupby": {"median": 5.0, "best": 5.0, "cpu": 5.0},
                                 "pandas_to_duckdb": {"median": 3.0, "best": 3.0, "cpu": 3.0}}}],
            "failed": []}


def scoring_part(n: int, seconds: float) -> dict[str, Any]:
    stats = {"median_s": seconds, "best_s": seconds * 0.9, "runs_s": [seconds], "cpu_s": seconds,
             "peak_rss_gb": 0.8}
    floor = {**stats, "median_s": seconds / 1.5, "best_s": seconds / 1.6, "peak_rss_gb": 0.5}
    return {"tenancies": n, "rows": n // 3, "as_of": "2025-01-01", "score_with_reasons": stats,
            "pred_contrib": floor, "ratio": {"median": 1.5, "runs": [1.5]},
            "targets": {"seconds": 60.0, "tenancies": 500_000, "ratio": 2.0},
            "met": {"seconds": None, "ratio": True}}


def training_part() -> dict[str, Any]:
    return {"fit": {
        "data": {"rows": 20_000, "features": 41},
        "model": {"median_s": 130.0, "best_s": 125.0, "median_peak_rss_gb": 1.4},
        "bare": {"median_s": 100.0, "best_s": 99.0, "median_peak_rss_gb": 0.7},
        "median_ratio": 1.3, "targets": {"seconds": 120.0, "ratio": 1.5},
        "pass": {"seconds": False, "ratio": True}}}


def api_part() -> dict[str, Any]:
    return {
        "mode": "quick", "setup": {"ledger_months": 24, "plan": {"reload_every": 2.0}},
        "latency": {"service": {"p50_ms": 6.5, "p99_ms": 11.0},
                    "bare": {"p50_ms": 0.5, "p99_ms": 0.9}},
        "ratio": {"p50": 13.0, "p99": 12.2},
        "load": {"service": {"client": "wrk -t2 -c8", "seconds": 10.0, "requests_per_s": 240.0,
                             "errors": 0},
                 "bare": {"client": "wrk -t2 -c8", "seconds": 5.0, "requests_per_s": 3200.0,
                          "errors": 0}},
        "batch": {"repeats": 2, "tenancies": 1000, "body_mb": 8.7, "median_s": 1.2,
                  "min_s": 1.1},
        "reload": {"load": {"seconds": 10.0, "errors": 0}, "reloads": 5, "reloads_ok": 5},
        "peak_rss_mb": {"service": 467.0, "bare": 234.0},
        "figures": [
            {"name": "single p50 (ms)", "value": 6.5, "target": "<= 5", "met": False},
            {"name": "single p99 (ms)", "value": 11.0, "target": "<= 15", "met": True},
            {"name": "p50 / bare p50", "value": 13.0, "target": "<= 3", "met": False},
            {"name": "requests/s (wrk -t2 -c8, 10 s)", "value": 240.0, "target": ">= 300",
             "met": False},
            {"name": "errors under load", "value": 0, "target": "0", "met": True},
            {"name": "batch of 1,000, median (s)", "value": 1.2, "target": "<= 1", "met": False},
            {"name": "reloads under load ok", "value": "5/5", "target": "all", "met": True},
            {"name": "failed requests during reloads", "value": 0, "target": "0", "met": True},
        ]}


def job(part: str, size: int | None, result: dict | None, status: str = "ok",
        error: str | None = None) -> dict[str, Any]:
    name = part if size is None else f"{part}-{size}"
    return {"part": part, "size": size, "status": status, "exit_code": 0 if status == "ok" else 1,
            "seconds": 1.0, "error": error, "result": result, "log": f"logs/{name}.log",
            "command": f".venv/bin/python bench/bench_{part}.py --out {name}.json",
            "out": f"{name}.json"}


def every_part() -> list[dict[str, Any]]:
    return [job("simulation", 1_000, simulation_part(1_000, 2.0)),
            job("simulation", 4_000, simulation_part(4_000, 7.0)),
            job("features", 1_000, features_part(1_000, 1.0)),
            job("features", 4_000, features_part(4_000, 3.0)),
            job("scoring", 1_000, scoring_part(1_000, 0.4)),
            job("scoring", 4_000, scoring_part(4_000, 1.2)),
            job("training", None, training_part()),
            job("api", None, api_part())]


MACHINE = {"cpu_model": "Test CPU 9000", "cores": 2, "affinity": 2,
           "memory": {"total_gib": 23.5, "available_gib": 20.1}, "os": "Debian 12",
           "kernel": "6.1.0", "platform": "Linux", "python": "CPython 3.11.7",
           "packages": {"lightgbm": "4.7.0", "duckdb": "2.0.0"}, "git_commit": "abc123def456",
           "git_dirty": True, "git_changes": {"modified": 2, "untracked": 1},
           "load_average_start": [0.1, 0.2, 0.3], "load_average_end": [1.0, 0.5, 0.4],
           "date_start": "2026-11-22T12:00:00+00:00", "date_end": "2026-11-22T12:30:00+00:00"}


def settings(only: list[str] | None = None) -> dict[str, Any]:
    return {"sizes": SIZES, "repeat": 3, "only": only or list(run_all.PARTS), "quick": False,
            "work": "/tmp/w", "training_rows": 1_000_000,
            "command": "./run bench --sizes 1000,4000"}


def latest(jobs: list[dict[str, Any]] | None = None, only: list[str] | None = None) -> dict:
    return figures.merge(jobs if jobs is not None else every_part(), MACHINE, settings(only), 42.0)


def row(merged: dict[str, Any], stage: str) -> dict[str, Any]:
    return next(r for r in merged["headline"] if r["stage"].startswith(stage))


def test_latest_markdown_names_the_machine_and_every_stage() -> None:
    text = report.render_markdown(latest())
    for fact in ("Test CPU 9000", "2 cores", "23.5 GiB", "Debian 12", "kernel 6.1.0",
                 "CPython 3.11.7", "lightgbm 4.7.0", "[0.1, 0.2, 0.3] at start",
                 "[1.0, 0.5, 0.4] at end", "2026-11-22T12:00:00", "abc123def456",
                 "dirty (2 modified, 1 untracked files)"):
        assert fact in text, fact
    for stage in ("simulation (residences profile)", "feature build, DuckDB, from Parquet",
                  "feature build, plain pandas", "GROUP BY floor", "batch scoring with reasons",
                  "training fit", "API single request, p50", "API throughput", "API batch of 1,000",
                  "API reload under load"):
        assert f"| {stage}" in text, stage
    header = "| stage | size | median | best | peak memory | comparator | ratio | target | met? |"
    assert header in text


def test_the_headline_takes_the_largest_size_and_each_ratio_from_its_own_run() -> None:
    merged = latest()
    simulation = row(merged, "simulation")
    assert simulation["median"] == 7.0 and simulation["best"] == pytest.approx(6.3)
    duckdb = row(merged, "feature build, DuckDB, from Parquet")
    assert duckdb["median"] == pytest.approx(1.5)
    assert duckdb["comparator_value"] == pytest.approx(0.3) and duckdb["ratio"] == 5.0
    # 1.5 s and 0.4 GB are within 15 s and 3 GB, but 5x the floor is over 4x.
    assert duckdb["met"] is False
    pandas = row(merged, "feature build, plain pandas")
    assert pandas["comparator_value"] == pytest.approx(1.8) and pandas["ratio"] == 3.0
    assert pandas["met"] is None
    scoring = row(merged, "batch scoring with reasons")
    assert scoring["median"] == 1.2 and scoring["ratio"] == 1.5
    assert scoring["met"] is True  # the ratio holds; the time is judged at 500,000 only
    training = row(merged, "training fit")
    assert training["median"] == 130.0 and training["comparator_value"] == 100.0
    assert training["ratio"] == 1.3
    assert training["met"] is False
    api = row(merged, "API single request, p50")
    assert (api["median"], api["comparator_value"], api["ratio"]) == (6.5, 0.5, 13.0)
    assert api["met"] is False
    assert row(merged, "API reload under load")["met"] is True


def test_met_flags_render_as_yes_no_or_dash() -> None:
    text = report.render_markdown(latest())
    line = next(t for t in text.splitlines() if t.startswith("| training fit"))
    assert line.endswith("| **no** |") and "<= 120 s, <= 1.5x" in line and "1.30x" in line
    line = next(t for t in text.splitlines() if t.startswith("| API reload under load"))
    assert line.endswith("| yes |")
    line = next(t for t in text.splitlines() if t.startswith("| feature build, plain pandas"))
    assert line.endswith("| — |") and "3.00x" in line


def test_a_failed_part_is_shown_as_failed_not_dropped() -> None:
    jobs = every_part()
    jobs[-2] = job("training", None, None, status="failed", error="exit status 1: MemoryError")
    features = features_part(4_000, 3.0)
    features["runs"][0]["results"][3] = {"mode": "pandas", "failed": True, "status": 1,
                                         "error": "ImportError: pandas_features"}
    jobs[3] = job("features", 4_000, features, status="failed", error="exit status 1: failed")
    merged = latest(jobs)
    assert merged["failed"] == ["features-4000", "training"]
    text = report.render_markdown(merged)
    line = next(t for t in text.splitlines() if t.startswith("| training fit"))
    assert "| failed (see below) |" in line and line.endswith("| **FAILED** |")
    line = next(t for t in text.splitlines() if t.startswith("| feature build, plain pandas"))
    assert "| failed (see below) |" in line and line.endswith("| **FAILED** |")
    # The modes that did run in the failed process keep their figures.
    assert row(merged, "feature build, DuckDB, from Parquet")["median"] == pytest.approx(1.5)
    # Each cause is written under the table, the part's and the mode's.
    assert "- training: failed: exit status 1: MemoryError" in text
    assert "- features at 4,000: failed: exit status 1: failed" in text
    assert "- feature build, plain pandas, from the same frames at " in text
    assert "failed: exit status 1: ImportError: pandas_features" in text
    pandas_growth = next(g for g in merged["growth"] if g["stage"] == "feature build, plain pandas")
    assert pandas_growth["cells"][1] == "failed"


def test_a_missing_scoring_benchmark_is_not_available_only_in_a_quick_run(tmp_path: Path) -> None:
    def missing() -> Any:
        return run_all.Job("scoring", 1_000, [sys.executable, str(tmp_path / "absent.py")],
                           tmp_path / "scoring.json", tmp_path / "scoring.log",
                           tmp_path / "absent.py")

    quick, full = missing(), missing()
    run_all.run_job(quick, quick=True)
    run_all.run_job(full, quick=False)
    assert quick.status == "not available" and quick.result is None
    assert full.status == "failed" and "does not exist" in (full.error or "")
    merged = latest([quick.record()], only=["scoring"])
    assert merged["failed"] == []
    assert "not available" in report.render_markdown(merged)


def test_a_process_that_fails_is_failed_and_stale_results_are_not_read(tmp_path: Path) -> None:
    script = tmp_path / "bench_fake.py"
    script.write_text(textwrap.dedent("""\
        import json, sys
        out = sys.argv[sys.argv.index("--out") + 1]
        if "--write" in sys.argv:
            open(out, "w").write(json.dumps({"written": True}))
        print("boom", file=sys.stderr)
        sys.exit(3)
        """))
    out = tmp_path / "part.json"
    out.write_text(json.dumps({"from": "an earlier run"}))
    silent = run_all.Job("api", None, [sys.executable, str(script), "--out", str(out)], out,
                         tmp_path / "logs" / "api.log", script)
    run_all.run_job(silent, quick=False)
    assert (silent.status, silent.exit_code, silent.result) == ("failed", 3, None)
    assert "exit status 3" in (silent.error or "") and "boom" in (silent.error or "")
    wrote = run_all.Job("api", None, [sys.executable, str(script), "--write", "--out", str(out)],
                        out, tmp_path / "logs" / "api.log", script)
    run_all.run_job(wrote, quick=False)
    assert wrote.status == "failed" and wrote.result == {"written": True}


def test_the_growth_table_has_one_column_per_size_and_how_each_stage_grows() -> None:
    merged = latest()
    table = report.growth_table(merged["growth"], SIZES)
    lines = table.splitlines()
    assert lines[0] == "| stage | 1,000 tenancies | 4,000 tenancies | 4x tenancies |"
    simulation = next(t for t in lines if t.startswith("| simulation"))
    assert simulation == ("| simulation, residences profile | 2.00 s (0.25 GB) | "
                          "7.00 s (0.25 GB) | 3.5x |")
    duckdb = next(t for t in lines if t.startswith("| feature build, DuckDB from Parquet"))
    assert "0.50 s" in duckdb and "1.50 s" in duckdb and duckdb.endswith("| 3.0x |")
    ratio = next(t for t in lines if t.startswith("| DuckDB / GROUP BY"))
    assert ratio == "| DuckDB / GROUP BY | 5.00x | 5.00x | — |"
    for stage in ("feature build, plain pandas", "GROUP BY floor", "batch scoring with reasons",
                  "LightGBM pred_contrib alone", "scoring / pred_contrib"):
        assert f"| {stage} |" in table, stage
    # Training and the API have one size each: they stay in the headline only.
    assert "training" not in table and "API" not in table


def test_parts_left_out_by_only_are_named_and_absent_from_the_tables() -> None:
    jobs = [j for j in every_part() if j["part"] in ("simulation", "features")]
    merged = latest(jobs, only=["simulation", "features"])
    text = report.render_markdown(merged)
    assert "Not run this time (`--only`): scoring, training, api." in text
    assert "| batch scoring" not in text and "| training" not in text
    assert merged["failed"] == []


def test_readme_markers_are_rewritten_and_the_text_outside_them_is_untouched() -> None:
    before = "# Title\n\nIntro.\n\n## Benchmarks\n\nRun it.\n\n"
    after = "\n\nMore text after.\n"
    old = f"{before}{report.START_MARK}\nold table\n{report.END_MARK}{after}"
    block = report.readme_block(latest())
    new = report.rewrite_readme(old, block)
    assert new.startswith(before + report.START_MARK + "\n")
    assert new.endswith(report.END_MARK + after)
    assert "old table" not in new and "| batch scoring with reasons |" in new
    assert "Test CPU 9000" in new and "abc123def456"[:12] in new
    assert report.rewrite_readme(new, block) == new  # idempotent


def test_a_readme_without_markers_is_refused() -> None:
    with pytest.raises(ValueError, match="bench:start"):
        report.rewrite_readme("# no markers here\n", "block")


def test_the_repository_readme_has_the_bench_markers() -> None:
    text = (ROOT / "README.md").read_text()
    assert text.index(report.START_MARK) < text.index(report.END_MARK)


def test_the_plan_runs_sized_parts_at_every_size_and_training_at_a_million_rows(
    tmp_path: Path,
) -> None:
    args = run_all.parse_args(["--sizes", "50000,200000", "--work", str(tmp_path)])
    jobs = run_all.plan_jobs(args, tmp_path / "parts")
    assert [j.name for j in jobs] == [
        "simulation-50000", "simulation-200000", "features-50000", "features-200000",
        "scoring-50000", "scoring-200000", "training", "api"]
    commands = {j.name: j.command for j in jobs}
    assert commands["training"][commands["training"].index("--rows") + 1] == "1000000"
    assert "--quick" not in commands["api"]
    assert all(c[c.index("--repeat") + 1] == "3" for n, c in commands.items() if n != "api")
    assert all(c[c.index("--out") + 1].endswith(f"{n}.json") for n, c in commands.items())
    assert "pandas" in commands["features-50000"][commands["features-50000"].index("--modes") + 1]
    # A full run scores bench_scoring's own bundle (20,000 tenancies), not --quick's.
    assert "--bundle-tenancies" not in commands["scoring-50000"]


def test_quick_means_tiny_sizes_one_repeat_and_never_the_readme(tmp_path: Path) -> None:
    args = run_all.parse_args(["--quick", "--work", str(tmp_path)])
    assert args.sizes == list(run_all.QUICK_SIZES) and args.repeat == 1
    jobs = run_all.plan_jobs(args, tmp_path)
    assert "--quick" in jobs[-1].command
    # A smoke run: the scoring bundle is trained on a few tenancies, not on 20,000.
    scoring = [j.command for j in jobs if j.part == "scoring"]
    assert len(scoring) == len(run_all.QUICK_SIZES)
    assert all(c[c.index("--bundle-tenancies") + 1] == "2000" for c in scoring)
    with pytest.raises(SystemExit):
        run_all.parse_args(["--quick", "--readme"])
    with pytest.raises(SystemExit):
        run_all.parse_args(["--only", "simulation,gpu"])


@pytest.mark.slow
def test_a_quick_run_of_the_simulator_and_the_feature_build_writes_latest(tmp_path: Path) -> None:
    results, work = tmp_path / "results", tmp_path / "work"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "run_all.py"), "--quick", "--sizes", "500,1000",
         "--only", "simulation,features", "--results", str(results), "--work", str(work)],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    merged = json.loads((results / "latest-quick.json").read_text())
    assert [j["status"] for j in merged["jobs"]] == ["ok"] * 4
    assert merged["machine"]["cores"] and merged["machine"]["git_commit"]
    text = (results / "latest-quick.md").read_text()
    assert "| simulation (residences profile) |" in text
    assert "| feature build, plain pandas, from the same frames |" in text
    assert "| 500 tenancies | 1,000 tenancies | 2x tenancies |" in text
    assert not (results / "latest.md").exists()  # a smoke run leaves the real report alone


def test_a_part_whose_results_have_another_shape_is_failed_with_the_reason() -> None:
    jobs = every_part()
    jobs[5] = job("scoring", 4_000, {"tenancies": 4_000, "seconds": 1.0})
    merged = latest(jobs)
    assert merged["failed"] == ["scoring-4000"]
    assert row(merged, "batch scoring with reasons")["status"] == "failed"
    text = report.render_markdown(merged)
    assert "- scoring at 4,000: failed: results not understood (KeyError" in text
    scoring = next(g for g in merged["growth"] if g["stage"] == "batch scoring with reasons")
    assert scoring["cells"][0]["value"] == 0.4 and scoring["cells"][1] == "failed"


def test_a_busy_machine_is_pointed_out_and_an_idle_one_is_not() -> None:
    assert "machine was busy" not in report.render_markdown(latest())
    busy = latest()
    busy["machine"] = {**MACHINE, "load_average_end": [3.5, 2.0, 1.0]}
    assert "(1-minute load average up to 3.5 on 2 cores)" in report.render_markdown(busy)


def test_render_only_rewrites_the_report_from_the_saved_json(tmp_path: Path) -> None:
    saved = latest()
    saved["jobs"][0]["unreadable"] = True  # as if an earlier renderer could not read it
    saved["jobs"][0]["status"] = "failed"
    (tmp_path / "latest.json").write_text(json.dumps(saved))
    assert run_all.main(["--render-only", "--results", str(tmp_path)]) == 0
    text = (tmp_path / "latest.md").read_text()
    assert "Test CPU 9000" in text and "| 2.00 s (0.25 GB) | 7.00 s (0.25 GB) |" in text
    assert json.loads((tmp_path / "latest.json").read_text())["failed"] == []
