"""A small model bundle around the session's fitted model, for the scoring tests."""

from __future__ import annotations

from typing import Any

from risk.bundle import ModelBundle


def make_bundle(model: Any, label: str = "first_arrears") -> ModelBundle:
    """Wrap a fitted ArrearsModel with fixed, test-only manifest values."""
    return ModelBundle.from_model(
        model,
        bands={"high": 0.2, "elevated": 0.08},
        label=label,
        horizon_months=3,
        train_until="2020-02-01",
        metrics={},
        data_fingerprint="abc123",
        config={},
        code_version="test",
        created_at="2021-01-15T09:00:00+00:00",
    )
