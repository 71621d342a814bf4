"""Benchmark of validation on a large ledger (not a test).

Writes the minimal contract export of ``tests/fixtures/contract/minimal`` with its
ledger replaced by N rows (French dates and decimal commas, ``;`` delimiter), then
times :func:`risk.validation.validate_directory` and prints wall time and peak memory
(``ru_maxrss`` of this process, which includes building the file). Target: one
million rows in well under a minute.

Usage: ``python bench/bench_validation.py [--rows N]``.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from risk.validation import validate_directory

MINIMAL = Path(__file__).parents[1] / "tests" / "fixtures" / "contract" / "minimal"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    n = args.rows
    rng = np.random.default_rng(0)
    events = pd.Timestamp("2023-01-01") + pd.to_timedelta(rng.integers(0, 365, n), unit="D")
    ledger = pd.DataFrame(
        {
            "tenancy_id": rng.choice(["T1", "T2"], n),
            "event_date": events.strftime("%d/%m/%Y"),
            "posted_date": events.strftime("%Y-%m-%d"),
            "kind": "rent_charge",
            "amount": [f"{a:.2f}".replace(".", ",") for a in rng.uniform(1, 900, n)],
            "payment_method": "",
        }
    )
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "export"
        shutil.copytree(MINIMAL, folder)
        ledger.to_csv(folder / "ledger.csv", index=False, sep=";")
        del ledger
        start = time.perf_counter()
        report = validate_directory(folder)
        seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    scale = 1 if sys.platform == "darwin" else 1024
    print(f"rows: {n:,}")
    print(f"ok: {report.ok} ({report.total} problem(s))")
    print(f"validation time: {seconds:.1f} s")
    print(f"peak memory (process): {peak * scale / 1e9:.2f} GB")


if __name__ == "__main__":
    main()
