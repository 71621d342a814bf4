"""Reading the benchmarks' JSON into the report's figures: ``latest.json``.

``bench/run_all.py`` runs the parts; this module reads what each wrote, in the shape that
benchmark writes it, into two tables of plain rows (rendered by ``bench/bench_report.py``):

- the headline, one row per stage at the largest size (training and the API once), with
  the comparator of the same run, the ratio, the target and whether it was met;
- the growth, one row per stage and one cell per size (a figure, or why there is none).

:func:`merge` tries every part's reader once first (``READERS``): a part whose JSON has
another shape than the one read here is marked failed with the reason, so that one
changed benchmark cannot lose the whole report. :func:`rerender` merges a saved
``latest.json`` again, for a change of the reading or the rendering without a new run.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

PARTS = ("simulation", "features", "scoring", "training", "api")
TRAINING_ROWS = 1_000_000
MONTHS = 60
#: Issue #7's targets for batch scoring, used when the part's JSON does not give them.
SCORING_TARGETS = {"seconds": 60.0, "tenancies": 500_000, "ratio": 2.0}


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


def rerender(path: Path) -> dict[str, Any]:
    """A saved run merged again, e.g. after a change of the reading or the rendering."""
    saved = json.loads(path.read_text())
    for job in saved["jobs"]:
        if job.pop("unreadable", False):  # read again from the part's own JSON
            job["status"] = "ok" if job["exit_code"] == 0 else "failed"
    return merge(saved["jobs"], saved["machine"], saved["settings"], saved["seconds"])
