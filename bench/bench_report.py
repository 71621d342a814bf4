"""The benchmarks' report: ``latest.md`` and the README's block, from ``latest.json``.

Pure rendering of what ``bench/bench_figures.py`` merged: the machine section, the
headline and growth tables and the parts' table as Markdown, the commands to rerun each
part, and the README's block, which :func:`rewrite_readme` puts between the two markers
leaving the rest of the README untouched. Nothing here reads a part's JSON or runs
anything, so a saved run renders the same wherever and whenever it is rendered.
"""

from __future__ import annotations

from typing import Any

from bench_figures import MONTHS, PARTS

START_MARK, END_MARK = "<!-- bench:start -->", "<!-- bench:end -->"


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
