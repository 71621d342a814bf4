"""Reading the catalogue: names, entries, monotone constraints, a frame, a fingerprint."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict

import pandas as pd

from risk.catalogue.features import FEATURES
from risk.catalogue.levers import LEVERS
from risk.catalogue.schema import CATALOGUE_VERSION, Feature

_BY_NAME = {f.name: f for f in FEATURES}


def feature_names() -> list[str]:
    """Return the feature names in catalogue order (the feature frame's column order)."""
    return [f.name for f in FEATURES]


def get_feature(name: str) -> Feature:
    """Return the catalogue entry called ``name``.

    Raises
    ------
    KeyError
        If no feature has that name.
    """
    return _BY_NAME[name]


def monotone_constraints(names: list[str] | None = None) -> list[int]:
    """Return LightGBM monotone constraints (the expected directions).

    Parameters
    ----------
    names
        Feature names in the order of the training matrix; catalogue order by default.
    """
    return [int(_BY_NAME[n].direction) for n in (names or feature_names())]


def catalogue_frame() -> pd.DataFrame:
    """Return the catalogue as a DataFrame, one row per feature, with lever labels."""
    rows = []
    for f in FEATURES:
        row = asdict(f)
        row["categories"] = list(f.categories)
        lever = LEVERS.get(f.lever) if f.lever else None
        row["lever_fr"] = lever.label_fr if lever else None
        row["lever_en"] = lever.label_en if lever else None
        rows.append(row)
    return pd.DataFrame(rows)


def catalogue_fingerprint() -> str:
    """Return a SHA-256 of the catalogue's content (features, levers, version).

    Any change to a name, definition, direction, reason or lever changes it, so a model
    can record the catalogue it was trained with and refuse to run with another.
    """
    payload = {
        "version": CATALOGUE_VERSION,
        "features": [asdict(f) for f in FEATURES],
        "levers": [asdict(lever) for lever in LEVERS.values()],
    }
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
