"""The bundle manifest's format, read without a model (bundles as a whole: test_bundle.py)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pytest

from risk import manifest as mf


def test_manifest_bytes_sort_keys_and_end_with_a_newline() -> None:
    first = mf.manifest_bytes({"b": 1, "a": [1.5, "é"]})
    assert first == mf.manifest_bytes({"a": [1.5, "é"], "b": 1})
    assert first.endswith(b"\n") and json.loads(first) == {"a": [1.5, "é"], "b": 1}


def test_jsonable_gives_plain_json_and_null_for_non_finite_numbers() -> None:
    value = {1: (np.int64(2), np.float64("nan")), "d": dt.date(2020, 1, 31), "p": Path("x")}
    assert mf.jsonable(value) == {"1": [2, None], "d": "2020-01-31", "p": "x"}
    with pytest.raises(mf.BundleError) as caught:
        mf.jsonable({"s": {1, 2}})
    assert caught.value.code == mf.BAD_MANIFEST


def test_bands_are_stored_highest_first_and_checked() -> None:
    assert mf.band_list({"high": 0.2, "elevated": 0.08}) == [
        {"name": "high", "threshold": 0.2},
        {"name": "elevated", "threshold": 0.08},
    ]
    for bands in ({}, {"low": 0.1}, {"high": 1.5}, {"high": 0.1, "elevated": 0.2}):
        with pytest.raises(mf.BundleError) as caught:
            mf.band_list(bands)
        assert caught.value.code == mf.BAD_BANDS


def test_a_feature_mismatch_says_what_differs() -> None:
    mf.check_features(["x", "y"], {"features": ["x", "y"]})
    with pytest.raises(mf.BundleError, match="same names in another order"):
        mf.check_features(["y", "x"], {"features": ["x", "y"]})
    with pytest.raises(mf.BundleError, match=r"only in the model: \['z'\]"):
        mf.check_features(["x", "z"], {"features": ["x"]})


def test_a_folder_without_a_json_manifest_is_not_a_bundle(tmp_path: Path) -> None:
    with pytest.raises(mf.BundleError, match="no such folder"):
        mf.read_manifest(tmp_path / "absent")
    (tmp_path / mf.MANIFEST_FILE).write_text("{not json", encoding="utf-8")
    with pytest.raises(mf.BundleError, match="is not JSON") as caught:
        mf.read_manifest(tmp_path)
    assert caught.value.code == mf.NOT_A_BUNDLE
