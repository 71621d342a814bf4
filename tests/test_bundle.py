"""The model bundle: written byte for byte the same, read back only when it can be trusted.

The model is the session's tiny ArrearsModel (``fitted_model`` in conftest.py); its
reference profile is fitted on two months of the same portfolio, which is all a bundle
test needs of it.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import risk
from risk import bundle as bd
from risk import manifest as mf
from risk.catalogue import CATALOGUE_VERSION, catalogue_fingerprint
from risk.contract import RESIDENCE_TYPES
from risk.monitoring import ReferenceProfile

CREATED_AT = "2021-01-15T09:00:00+00:00"
BANDS = {"high": 0.2, "elevated": 0.08}


def make_bundle(model, **overrides) -> bd.ModelBundle:
    arguments = {
        "bands": BANDS,
        "label": "first_arrears",
        "horizon_months": 3,
        "train_until": "2020-02-01",
        "metrics": {"roc_auc": np.float64(0.81), "capture@5%": 0.3, "ece": float("nan")},
        "data_fingerprint": "abc123",
        "config": {"max_rounds": 30, "months": ("2019-07", "2020-06")},
        "code_version": "0.1.0+test",
        "created_at": CREATED_AT,
        **overrides,
    }
    return bd.ModelBundle.from_model(model, **arguments)


@pytest.fixture(scope="module")
def scoring_features(model_simulation) -> pd.DataFrame:
    return risk.build_features(model_simulation.portfolio, ["2020-08-01", "2020-09-01"])


@pytest.fixture(scope="module")
def reference(fitted_model, scoring_features: pd.DataFrame) -> ReferenceProfile:
    probabilities = fitted_model.predict_proba(scoring_features)
    return ReferenceProfile.fit(scoring_features, probabilities, fitted_model.feature_names_)


@pytest.fixture
def written(fitted_model, tmp_path: Path) -> Path:
    return make_bundle(fitted_model).write(tmp_path / "bundle")


@pytest.fixture
def profiled(fitted_model, reference: ReferenceProfile, tmp_path: Path) -> Path:
    return make_bundle(fitted_model, reference=reference).write(tmp_path / "profiled")


def rewrite_manifest(folder: Path, change) -> None:
    manifest = json.loads((folder / bd.MANIFEST_FILE).read_text(encoding="utf-8"))
    change(manifest)
    (folder / bd.MANIFEST_FILE).write_bytes(bd.manifest_bytes(manifest))


def refused(folder: Path, code: str, **kwargs) -> bd.BundleError:
    with pytest.raises(bd.BundleError) as caught:
        bd.ModelBundle.load(folder, **kwargs)
    assert caught.value.code == code
    return caught.value


# --- writing -------------------------------------------------------------------------------


def test_a_bundle_is_a_model_text_and_a_manifest(written: Path) -> None:
    assert sorted(p.name for p in written.iterdir()) == [bd.MANIFEST_FILE, bd.MODEL_FILE]
    assert (written / bd.MODEL_FILE).read_text().startswith("tree\n")


def test_the_manifest_records_what_scoring_and_auditing_need(fitted_model, written: Path) -> None:
    manifest = json.loads((written / bd.MANIFEST_FILE).read_text(encoding="utf-8"))
    assert manifest["format_version"] == bd.FORMAT_VERSION
    assert manifest["model_name"] == "arrears-risk"
    assert manifest["created_at"] == CREATED_AT
    assert manifest["features"] == fitted_model.feature_names_
    assert manifest["categorical_features"]["residence_type"] == list(RESIDENCE_TYPES)
    assert len(manifest["monotone_constraints"]) == len(fitted_model.feature_names_)
    assert manifest["catalogue_version"] == CATALOGUE_VERSION
    assert manifest["catalogue_fingerprint"] == catalogue_fingerprint()
    assert (manifest["label"], manifest["horizon_months"]) == ("first_arrears", 3)
    assert manifest["train_until"] == "2020-02-01"
    assert manifest["calibration"]["method"] == fitted_model.calibrator_.method_
    assert manifest["bands"] == [
        {"name": "high", "threshold": 0.2}, {"name": "elevated", "threshold": 0.08}
    ]
    assert manifest["metrics"] == {"roc_auc": 0.81, "capture@5%": 0.3, "ece": None}
    assert manifest["config"]["months"] == ["2019-07", "2020-06"]
    model_bytes = (written / bd.MODEL_FILE).read_bytes()
    assert manifest["files"] == {bd.MODEL_FILE: mf.sha256(model_bytes)}


def test_writing_the_same_model_twice_gives_identical_bytes(fitted_model, tmp_path: Path) -> None:
    first = make_bundle(fitted_model).write(tmp_path / "one")
    second = make_bundle(fitted_model).write(tmp_path / "two")
    again = bd.ModelBundle.load(first).write(tmp_path / "three")
    for name in (bd.MODEL_FILE, bd.MANIFEST_FILE):
        assert (first / name).read_bytes() == (second / name).read_bytes()
        assert (first / name).read_bytes() == (again / name).read_bytes()


def test_writing_into_a_non_empty_folder_is_refused(fitted_model, tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("keep me")
    with pytest.raises(bd.BundleError) as caught:
        make_bundle(fitted_model).write(tmp_path)
    assert caught.value.code == bd.NOT_EMPTY


def test_overwrite_replaces_a_bundle_but_never_a_folder_that_is_not_one(
    fitted_model, written: Path, tmp_path: Path
) -> None:
    (written / "stray.txt").write_text("left over")
    make_bundle(fitted_model, code_version="0.2.0").write(written, overwrite=True)
    assert bd.ModelBundle.load(written).manifest["code_version"] == "0.2.0"
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("keep me")
    with pytest.raises(bd.BundleError) as caught:
        make_bundle(fitted_model).write(other, overwrite=True)
    assert caught.value.code == bd.NOT_OVERWRITABLE
    assert (other / "notes.txt").read_text() == "keep me"


# --- reading -------------------------------------------------------------------------------


def test_a_loaded_bundle_scores_exactly_like_the_model(
    fitted_model, written: Path, scoring_features: pd.DataFrame
) -> None:
    loaded = bd.ModelBundle.load(written)
    np.testing.assert_array_equal(
        loaded.predict_proba(scoring_features), fitted_model.predict_proba(scoring_features)
    )
    np.testing.assert_array_equal(
        loaded.raw_score(scoring_features, threads=1), fitted_model.raw_score(scoring_features)
    )


def test_one_changed_byte_of_the_model_is_refused(written: Path) -> None:
    path = written / bd.MODEL_FILE
    data = bytearray(path.read_bytes())
    position = data.index(b"leaf_value=") + len(b"leaf_value=")
    data[position] = ord("9") if data[position] != ord("9") else ord("8")
    path.write_bytes(bytes(data))
    error = refused(written, bd.TAMPERED)
    assert str(error) == bd.TAMPERED.format(name=bd.MODEL_FILE)


def test_a_changed_feature_list_in_the_manifest_is_refused(written: Path) -> None:
    rewrite_manifest(written, lambda m: m["features"].reverse())
    refused(written, bd.FEATURE_MISMATCH)


def test_a_stray_file_in_the_folder_is_refused(written: Path) -> None:
    (written / "model_v2.txt").write_text("tree\n")
    refused(written, bd.STRAY_FILE)


def test_a_missing_listed_file_is_refused(written: Path) -> None:
    (written / bd.MODEL_FILE).unlink()
    refused(written, bd.MISSING_FILE)


def test_a_bundle_from_another_catalogue_version_is_refused(written: Path) -> None:
    rewrite_manifest(written, lambda m: m.update(catalogue_version="0.9.0"))
    refused(written, bd.CATALOGUE_MISMATCH)


def test_changed_categories_are_refused_even_under_the_same_catalogue_version(
    written: Path,
) -> None:
    rewrite_manifest(written, lambda m: m["categorical_features"]["residence_type"].reverse())
    refused(written, bd.CATALOGUE_MISMATCH)


def test_another_catalogue_fingerprint_is_refused_only_when_strict(written: Path) -> None:
    rewrite_manifest(written, lambda m: m.update(catalogue_fingerprint="0" * 64))
    assert bd.ModelBundle.load(written).describe()["catalogue_fingerprint_matches"] is False
    refused(written, bd.CATALOGUE_MISMATCH, strict_catalogue=True)


def test_a_folder_without_a_manifest_is_not_a_bundle(tmp_path: Path) -> None:
    refused(tmp_path, bd.NOT_A_BUNDLE)
    refused(tmp_path / "absent", bd.NOT_A_BUNDLE)
    (tmp_path / bd.MANIFEST_FILE).write_text("{not json")
    refused(tmp_path, bd.NOT_A_BUNDLE)


def test_a_manifest_of_another_format_version_is_refused(written: Path) -> None:
    rewrite_manifest(written, lambda m: m.update(format_version=99))
    refused(written, bd.UNSUPPORTED_FORMAT)


def test_a_manifest_missing_a_field_is_refused(written: Path) -> None:
    rewrite_manifest(written, lambda m: m.pop("calibration"))
    refused(written, bd.BAD_MANIFEST)


def test_a_listed_file_outside_the_folder_is_refused(written: Path) -> None:
    rewrite_manifest(written, lambda m: m["files"].update({"../secret": "0" * 64}))
    refused(written, bd.BAD_MANIFEST)


# --- the reference profile ------------------------------------------------------------------


def test_a_reference_profile_travels_as_a_hashed_json_file_and_reads_back_the_same(
    profiled: Path, reference: ReferenceProfile
) -> None:
    assert sorted(p.name for p in profiled.iterdir()) == [
        bd.MANIFEST_FILE, bd.MODEL_FILE, bd.REFERENCE_FILE
    ]  # fmt: skip
    manifest = json.loads((profiled / bd.MANIFEST_FILE).read_text(encoding="utf-8"))
    stored = (profiled / bd.REFERENCE_FILE).read_bytes()
    assert manifest["files"][bd.REFERENCE_FILE] == mf.sha256(stored)
    loaded = bd.ModelBundle.load(profiled).reference
    assert loaded is not None
    assert loaded.to_dict() == reference.to_dict()


def test_writing_a_profiled_bundle_twice_gives_identical_bytes(
    fitted_model, reference: ReferenceProfile, tmp_path: Path
) -> None:
    first = make_bundle(fitted_model, reference=reference).write(tmp_path / "one")
    from_dict = make_bundle(fitted_model, reference=reference.to_dict()).write(tmp_path / "two")
    again = bd.ModelBundle.load(first).write(tmp_path / "three")
    for name in (bd.MODEL_FILE, bd.MANIFEST_FILE, bd.REFERENCE_FILE):
        assert (first / name).read_bytes() == (from_dict / name).read_bytes()
        assert (first / name).read_bytes() == (again / name).read_bytes()


def test_a_bundle_without_a_reference_profile_still_loads(written: Path) -> None:
    assert not (written / bd.REFERENCE_FILE).exists()
    assert bd.ModelBundle.load(written).reference is None


def test_one_changed_byte_of_the_reference_profile_is_refused(profiled: Path) -> None:
    path = profiled / bd.REFERENCE_FILE
    path.write_bytes(path.read_bytes().replace(b'"rows": ', b'"rows": 1', 1))
    error = refused(profiled, bd.TAMPERED)
    assert str(error) == bd.TAMPERED.format(name=bd.REFERENCE_FILE)


def test_an_unlisted_reference_profile_is_a_stray_file(written: Path, profiled: Path) -> None:
    (written / bd.REFERENCE_FILE).write_bytes((profiled / bd.REFERENCE_FILE).read_bytes())
    refused(written, bd.STRAY_FILE)


def test_a_reference_profile_that_misses_a_model_feature_is_refused(
    fitted_model, scoring_features: pd.DataFrame
) -> None:
    names = fitted_model.feature_names_[1:]
    partial = ReferenceProfile.fit(scoring_features, None, names)
    with pytest.raises(bd.BundleError) as caught:
        make_bundle(fitted_model, reference=partial)
    assert caught.value.code == bd.BAD_REFERENCE
    assert fitted_model.feature_names_[0] in str(caught.value)


def test_a_listed_reference_that_is_not_a_profile_is_refused(profiled: Path) -> None:
    content = b'{"format": "something else"}\n'
    (profiled / bd.REFERENCE_FILE).write_bytes(content)
    rewrite_manifest(profiled, lambda m: m["files"].update({bd.REFERENCE_FILE: mf.sha256(content)}))
    refused(profiled, bd.BAD_REFERENCE)


# --- bands and description ----------------------------------------------------------------


def test_a_probability_falls_in_the_highest_band_whose_threshold_it_reaches(
    fitted_model,
) -> None:
    bundle = make_bundle(fitted_model)
    bands = bundle.band([0.5, 0.2, 0.19, 0.08, 0.01, 0.0])
    assert bands.tolist() == ["high", "high", "elevated", "elevated", "low", "low"]


def test_a_nan_probability_has_no_band(fitted_model) -> None:
    with pytest.raises(bd.BundleError) as caught:
        make_bundle(fitted_model).band([np.nan])
    assert caught.value.code == bd.BAD_PROBABILITY


def test_band_thresholds_put_the_top_shares_in_each_band() -> None:
    probabilities = np.linspace(0.0, 0.99, 100)
    thresholds = bd.band_thresholds(probabilities, {"high": 0.05, "elevated": 0.15})
    assert list(thresholds) == ["high", "elevated"]
    assert (probabilities >= thresholds["high"]).sum() == 5
    assert (probabilities >= thresholds["elevated"]).sum() == 15


@pytest.mark.parametrize(
    "shares",
    [{}, {"high": 0.0}, {"high": 1.5}, {"high": 0.2, "elevated": 0.1}, {"low": 0.1}],
)
def test_band_shares_that_make_no_sense_are_refused(shares) -> None:
    with pytest.raises(bd.BundleError) as caught:
        bd.band_thresholds(np.linspace(0, 1, 50), shares)
    assert caught.value.code == bd.BAD_BANDS


def test_thresholds_that_grow_downwards_are_refused(fitted_model) -> None:
    with pytest.raises(bd.BundleError) as caught:
        make_bundle(fitted_model, bands={"high": 0.1, "elevated": 0.2})
    assert caught.value.code == bd.BAD_BANDS


def test_describe_shows_the_model_without_the_calibration_points(written: Path) -> None:
    described = bd.ModelBundle.load(written).describe()
    assert described["bands"] == BANDS
    assert set(described["calibration"]) == {"method"}
    assert described["catalogue_fingerprint_matches"] is True
    assert len(described["model_sha256"]) == 64
    assert "files" not in described
    json.dumps(described)  # the API serves it as JSON
