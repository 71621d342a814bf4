"""The floor of the API benchmark: a bare FastAPI endpoint calling LightGBM on a prepared row.

``bench/bench_api.py`` serves this app with uvicorn (one worker, same server options as
``risk serve``) beside the real service and measures both with the same client, so that
the service's overhead (validation of raw facts, feature build, reasons, audit) is
reported as a ratio to what HTTP plus one ``booster.predict`` costs on the same machine.

``POST /predict`` takes a small JSON body (``{"tenancy_id": "..."}``), validates it and
returns ``{"probability": p}`` from ``booster.predict(row, num_threads=1)`` on a 1 x
n_features float64 row prepared at start. ``GET /readyz`` answers 200 once loaded.

Environment:

- ``BENCH_BARE_MODEL``: the bundle's ``model.txt`` (required);
- ``BENCH_BARE_ROW``: a ``.npy`` file holding the prepared row (1 x n_features float64);
  a row of NaN (every feature missing) when unset.

Run: ``BENCH_BARE_MODEL=BUNDLE/model.txt python -m uvicorn bare_app:app --app-dir bench``.
"""

from __future__ import annotations

import os

import lightgbm as lgb
import numpy as np
from fastapi import FastAPI
from pydantic import BaseModel, ConfigDict, Field

BOOSTER = lgb.Booster(model_file=os.environ["BENCH_BARE_MODEL"])
_ROW_FILE = os.environ.get("BENCH_BARE_ROW")
ROW = (
    np.load(_ROW_FILE).astype(np.float64).reshape(1, -1)
    if _ROW_FILE
    else np.full((1, BOOSTER.num_feature()), np.nan)
)
if ROW.shape[1] != BOOSTER.num_feature():
    raise SystemExit(f"row has {ROW.shape[1]} columns, the model {BOOSTER.num_feature()}")
# First call outside any request (LightGBM sets up its predictor lazily).
BOOSTER.predict(ROW, num_threads=1)

app = FastAPI(title="bare LightGBM endpoint", docs_url=None, redoc_url=None, openapi_url=None)


class Query(BaseModel):
    """A small request body, validated as a real endpoint would."""

    model_config = ConfigDict(extra="forbid")

    tenancy_id: str = Field(min_length=1, max_length=64)


@app.post("/predict")
async def predict(query: Query) -> dict[str, float]:
    """Probability of the prepared row (the body is only validated)."""
    return {"probability": float(BOOSTER.predict(ROW, num_threads=1)[0])}


@app.get("/readyz")
async def readyz() -> dict[str, str]:
    """200 once the model is loaded (it is, at import)."""
    return {"status": "ready"}
