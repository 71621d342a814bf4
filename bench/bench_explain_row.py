"""Benchmark of scoring and explaining one tenancy, and a batch, with one thread (not a test).

The API (issue #6) scores one tenancy with its reasons from raw facts; this measures the
part after the feature build: from the one-row feature frame to the probability, band,
eligibility, at most four reasons and the "what would lower the risk" line. It also
times a batch of 50,000 rows through the same functions, to show the batch path does
not get slower.

Cases (all with ``threads=1``):

- ``row_api``: one row, :func:`risk.scoring.score_and_explain` when it exists, else
  ``score_features(reasons=False)`` followed by :func:`risk.explanation.explain` (what
  the API had to call before it existed);
- ``row_score_reasons``: one row, ``score_features(..., reasons=True)``;
- ``row_score``: one row, ``score_features(...)`` without reasons;
- ``row_pred_contrib``: one row, the matrix and ``booster.predict(pred_contrib=True)``
  alone: the SHAP floor of ``row_api``;
- ``batch_score_reasons``: 50,000 rows, ``score_features(..., reasons=True)``;
- ``batch_explain``: 50,000 rows, :func:`risk.explanation.explain`;
- ``batch_pred_contrib``: 50,000 rows, ``booster.predict(matrix, pred_contrib=True)``
  alone, the floor of the reasons.

The bundle and features are the demo portfolio's (``risk demo`` output in
``out/demo/data``, bundle trained on it); the batch repeats the demo rows with fresh
tenancy ids. Prints JSON (p50/p99 in milliseconds for one row, median seconds for the
batch) and, with ``--save NAME``, writes it to ``bench/results/explain_row.json`` under
that key (e.g. ``before`` and ``after``).

Usage: ``python bench/bench_explain_row.py [--bundle DIR] [--save after]``.
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

from risk import explanation, scoring
from risk.bundle import ModelBundle
from risk.features import build_features
from risk.matrix import feature_matrix

RESULTS = Path(__file__).parent / "results" / "explain_row.json"
DEFAULT_BUNDLE = "/tmp/bundle/arrears-risk-champion-2025-01-01"
DATA = "out/demo/data"
AS_OF = "2024-06-01"
BATCH_ROWS = 50_000


def _row_api(bundle: ModelBundle) -> Callable[[pd.DataFrame], object]:
    combined = getattr(scoring, "score_and_explain", None)
    if combined is not None:
        return lambda frame: combined(frame, bundle, threads=1)

    def separate(frame: pd.DataFrame) -> object:
        scores = scoring.score_features(frame, bundle, threads=1)
        return scores, explanation.explain(bundle, frame, threads=1)

    return separate


def _timings(call: Callable[[], object], repeat: int, warmup: int) -> list[float]:
    for _ in range(warmup):
        call()
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        out.append(time.perf_counter() - start)
    return out


def _row_stats(seconds: list[float]) -> dict[str, float]:
    ms = np.asarray(seconds) * 1000.0
    return {
        "p50_ms": round(float(np.percentile(ms, 50)), 4),
        "p99_ms": round(float(np.percentile(ms, 99)), 4),
        "min_ms": round(float(ms.min()), 4),
    }


def _batch(features: pd.DataFrame, rows: int) -> pd.DataFrame:
    copies = -(-rows // len(features))
    parts = []
    for k in range(copies):
        part = features.copy()
        part["tenancy_id"] = part["tenancy_id"].astype(str) + f"-{k}"
        parts.append(part)
    return pd.concat(parts, ignore_index=True).iloc[:rows]


def run(bundle_dir: str, repeat: int, batch_repeat: int) -> dict[str, Any]:
    """Time every case and return the results (see the module docstring)."""
    bundle = ModelBundle.load(bundle_dir)
    features = build_features(DATA, AS_OF, threads=1)
    # A row with reasons and a counterfactual line: the API's heaviest ordinary case.
    lines = explanation.reasons_frame(bundle, features, threads=1)["counterfactual_en"]
    position = int(np.flatnonzero(lines.to_numpy(dtype=object) != "")[0])
    one = features.iloc[[position]]
    api = _row_api(bundle)
    result: dict[str, Any] = {
        "bundle": bundle_dir,
        "row_api": _row_stats(_timings(lambda: api(one), repeat, 50)),
        "row_score_reasons": _row_stats(
            _timings(
                lambda: scoring.score_features(one, bundle, threads=1, reasons=True), repeat, 50
            )
        ),
        "row_score": _row_stats(
            _timings(lambda: scoring.score_features(one, bundle, threads=1), repeat, 50)
        ),
        "row_pred_contrib": _row_stats(
            _timings(
                lambda: bundle.booster.predict(
                    feature_matrix(one, bundle.feature_names), pred_contrib=True, num_threads=1
                ),
                repeat,
                50,
            )
        ),
    }
    batch = _batch(features, BATCH_ROWS)
    matrix = feature_matrix(batch, bundle.feature_names)
    cases: dict[str, Callable[[], object]] = {
        "batch_score_reasons": lambda: scoring.score_features(
            batch, bundle, threads=1, reasons=True
        ),
        "batch_explain": lambda: explanation.explain(bundle, batch, threads=1),
        "batch_pred_contrib": lambda: bundle.booster.predict(
            matrix, pred_contrib=True, num_threads=1
        ),
    }
    for name, call in cases.items():
        seconds = _timings(call, batch_repeat, 0)
        result[name] = {
            "rows": BATCH_ROWS,
            "median_s": round(statistics.median(seconds), 3),
            "best_s": round(min(seconds), 3),
        }
    return result


def main() -> None:
    """Parse the arguments, run, print JSON and optionally save it."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bundle", default=DEFAULT_BUNDLE)
    parser.add_argument("--repeat", type=int, default=500, help="one-row runs per case")
    parser.add_argument("--batch-repeat", type=int, default=1, help="runs per batch case")
    parser.add_argument("--save", help="key under which to store the result in RESULTS")
    args = parser.parse_args()
    result = run(args.bundle, args.repeat, args.batch_repeat)
    print(json.dumps(result, indent=2))
    if args.save:
        saved = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
        saved[args.save] = result
        RESULTS.write_text(json.dumps(saved, indent=2, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
