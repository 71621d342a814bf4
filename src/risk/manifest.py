"""The bundle's manifest: what it records and how it is checked.

``manifest.json`` sits next to ``model.txt`` (and ``reference.json``, the training
population's reference profile, when the bundle carries one) in a bundle folder (see
:mod:`risk.bundle`).
It records, as plain JSON, everything needed to score and to audit the model besides the
booster itself, and the SHA-256 of every other file of the folder. This module holds the
manifest's format (its fields and their JSON types, the file names, the risk bands as an
ordered list), how it is written (:func:`manifest_bytes`: sorted keys, so the same
manifest always gives the same bytes) and every check a loaded bundle goes through before
anything is scored with it:

- :func:`read_manifest`: the file is JSON, of this format version, with every field of
  the right type, plain file names and sensible bands;
- :func:`read_files`: every listed file is present and matches its hash, and the folder
  holds nothing else;
- :func:`check_features`: the model uses the manifest's features, in order;
- :func:`read_reference`: a reference profile, when listed, is one :mod:`risk.monitoring`
  reads and covers every feature of the model;
- :func:`check_catalogue`: the installed feature catalogue knows those features with the
  same version, categories and monotone directions.

Each refusal is a :class:`BundleError` whose ``code`` is one of the message constants
below; :mod:`risk.bundle` re-exports them with its own.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from risk.catalogue import CATALOGUE_VERSION, catalogue_fingerprint, get_feature
from risk.matrix import monotone_vector
from risk.monitoring import ReferenceProfile

#: Version of the folder layout and manifest schema this module writes and reads.
FORMAT_VERSION = 1
MODEL_FILE = "model.txt"
MANIFEST_FILE = "manifest.json"
#: The training population's reference profile (:mod:`risk.monitoring`); optional, since
#: bundles written before profiles travelled with the model have none.
REFERENCE_FILE = "reference.json"
#: Band of the probabilities below every threshold.
LOW_BAND = "low"

# Error constants: the ``code`` of a BundleError, formatted into its message.
#: The folder is missing, or has no manifest, or the manifest is not JSON.
NOT_A_BUNDLE = "{path} is not a model bundle: {reason}"
#: The manifest lacks a field or holds a value of the wrong kind.
BAD_MANIFEST = "the bundle manifest is invalid: {reason}"
#: The manifest was written by another version of this module.
UNSUPPORTED_FORMAT = (
    "bundle format version {version!r} is not supported (this code reads {supported})"
)
#: A listed file's content changed after the bundle was written.
TAMPERED = "file {name} does not match its sha256 in the manifest"
#: A listed file is absent.
MISSING_FILE = "file {name} is listed in the manifest but absent from the bundle"
#: The folder holds a file the manifest does not list.
STRAY_FILE = "the bundle holds file(s) its manifest does not list: {names}"
#: The model's features are not the manifest's (names or order).
FEATURE_MISMATCH = "the model's features differ from the manifest's: {detail}"
#: The bundle was trained with another feature catalogue than the installed one.
CATALOGUE_MISMATCH = "the bundle does not match the installed feature catalogue: {detail}"
#: Band thresholds or shares that make no sense.
BAD_BANDS = "invalid risk bands: {reason}"
#: The reference profile is not one :mod:`risk.monitoring` reads, or misses a feature.
BAD_REFERENCE = f"the bundle's reference profile ({REFERENCE_FILE}) is invalid: {{reason}}"

#: Fields every manifest holds, with their JSON types.
_FIELDS: dict[str, type] = {
    **dict.fromkeys(("format_version", "horizon_months", "best_iteration"), int),
    **dict.fromkeys(("features", "monotone_constraints", "bands"), list),
    **dict.fromkeys(("categorical_features", "calibration", "metrics", "config", "files"), dict),
    **dict.fromkeys(
        (
            "model_name", "created_at", "catalogue_version", "catalogue_fingerprint", "label",
            "train_until", "data_fingerprint", "code_version",
        ),
        str,
    ),
}  # fmt: skip


class BundleError(ValueError):
    """A bundle that cannot be written, read or trusted.

    Parameters
    ----------
    code
        One of the error constants of :mod:`risk.bundle` (a message template, several of
        them defined here), for tests and callers to tell errors apart.
    message
        The formatted message.
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def bundle_error(code: str, **fields: Any) -> BundleError:
    """Return the :class:`BundleError` of ``code``, its message formatted with ``fields``."""
    return BundleError(code, code.format(**fields))


# --- writing ------------------------------------------------------------------------------


def manifest_bytes(manifest: Mapping[str, Any]) -> bytes:
    """Serialise a manifest as written: sorted keys, two-space indent, UTF-8, final newline."""
    return json_bytes(manifest)


def json_bytes(content: Mapping[str, Any]) -> bytes:
    """Serialise a bundle's JSON file: sorted keys, two-space indent, UTF-8, final newline.

    Python writes floats in their shortest round-trip form, so the same content always
    gives the same bytes and a file's hash identifies it.
    """
    text = json.dumps(content, sort_keys=True, indent=2, ensure_ascii=False, allow_nan=False)
    return (text + "\n").encode("utf-8")


def sha256(data: bytes) -> str:
    """Hex SHA-256 of ``data``, as the manifest lists each file."""
    return hashlib.sha256(data).hexdigest()


def categorical_features(names: Sequence[str]) -> dict[str, list[str]]:
    """Return the categorical features among ``names``, with their catalogue categories."""
    return {
        name: list(get_feature(name).categories)
        for name in names
        if get_feature(name).dtype == "categorical"
    }


def band_list(bands: Mapping[str, float]) -> list[dict[str, Any]]:
    """Check risk bands (name to threshold, highest first) and return them as stored.

    Raises
    ------
    BundleError
        :data:`BAD_BANDS`.
    """
    # A list, not a mapping: sorted keys would lose the order from highest band down.
    if not bands:
        raise bundle_error(BAD_BANDS, reason="at least one band is needed")
    out: list[dict[str, Any]] = []
    for name, threshold in bands.items():
        value = float(threshold)
        if not isinstance(name, str) or not name or name == LOW_BAND:
            reason = f"band name {name!r} (names are text, not {LOW_BAND!r})"
            raise bundle_error(BAD_BANDS, reason=reason)
        if not (0.0 <= value <= 1.0):
            reason = f"threshold of {name!r} is not a probability: {value}"
            raise bundle_error(BAD_BANDS, reason=reason)
        if out and value > out[-1]["threshold"]:
            reason = "thresholds must not grow from the highest band down"
            raise bundle_error(BAD_BANDS, reason=reason)
        out.append({"name": name, "threshold": value})
    return out


def jsonable(value: Any) -> Any:
    """Return ``value`` as plain JSON, or raise :data:`BAD_MANIFEST`.

    Numpy scalars, tuples and dates become plain JSON; NaN and infinities become null,
    since strict JSON has no spelling for them.
    """
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, bool | int | str) or value is None:
        return value
    if isinstance(value, dt.date | pd.Timestamp):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    reason = f"{type(value).__name__} value {value!r} is not JSON-able"
    raise bundle_error(BAD_MANIFEST, reason=reason)


# --- checking -----------------------------------------------------------------------------


def read_manifest(folder: Path) -> dict[str, Any]:
    """Read ``manifest.json`` of a bundle folder and check its format.

    Raises
    ------
    BundleError
        :data:`NOT_A_BUNDLE`, :data:`UNSUPPORTED_FORMAT` or :data:`BAD_MANIFEST`.
    """
    if not folder.is_dir():
        raise bundle_error(NOT_A_BUNDLE, path=folder, reason="no such folder")
    path = folder / MANIFEST_FILE
    if not path.is_file():
        raise bundle_error(NOT_A_BUNDLE, path=folder, reason=f"no {MANIFEST_FILE}")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, ValueError) as error:
        raise bundle_error(
            NOT_A_BUNDLE, path=folder, reason=f"{MANIFEST_FILE} is not JSON: {error}"
        ) from None
    if not isinstance(manifest, dict):
        raise bundle_error(BAD_MANIFEST, reason="not a JSON object")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise bundle_error(
            UNSUPPORTED_FORMAT, version=manifest.get("format_version"), supported=FORMAT_VERSION
        )
    for key, kind in _FIELDS.items():
        if key not in manifest:
            raise bundle_error(BAD_MANIFEST, reason=f"missing field {key!r}")
        if not isinstance(manifest[key], kind) or isinstance(manifest[key], bool) != (kind is bool):
            raise bundle_error(BAD_MANIFEST, reason=f"field {key!r} has the wrong type")
    files = manifest["files"]
    if MODEL_FILE not in files:
        raise bundle_error(BAD_MANIFEST, reason=f"{MODEL_FILE} is not listed in 'files'")
    for name, digest in files.items():
        # Plain names only: a listed "../x" would make the loader read outside the folder.
        if name in {"", ".", "..", MANIFEST_FILE} or "/" in name or "\\" in name:
            raise bundle_error(BAD_MANIFEST, reason=f"file name {name!r} in 'files'")
        if not isinstance(digest, str):
            raise bundle_error(BAD_MANIFEST, reason=f"sha256 of {name!r} is not text")
    if not all(isinstance(n, str) for n in manifest["features"]):
        raise bundle_error(BAD_MANIFEST, reason="feature names are not all text")
    bands = manifest["bands"]
    if not all(isinstance(b, dict) and {"name", "threshold"} <= set(b) for b in bands):
        raise bundle_error(BAD_MANIFEST, reason="each band needs a name and a threshold")
    try:
        band_list({b["name"]: b["threshold"] for b in bands})
    except (BundleError, TypeError, ValueError) as error:
        raise bundle_error(BAD_MANIFEST, reason=str(error)) from None
    return manifest


def read_files(folder: Path, manifest: Mapping[str, Any]) -> dict[str, bytes]:
    """Read the files the manifest lists, checking their hashes and that no other is there.

    Raises
    ------
    BundleError
        :data:`MISSING_FILE`, :data:`TAMPERED` or :data:`STRAY_FILE`.
    """
    files: dict[str, str] = manifest["files"]
    contents: dict[str, bytes] = {}
    for name, digest in sorted(files.items()):
        path = folder / name
        if not path.is_file():
            raise bundle_error(MISSING_FILE, name=name)
        contents[name] = path.read_bytes()
        if sha256(contents[name]) != digest:
            raise bundle_error(TAMPERED, name=name)
    stray = sorted(p.name for p in folder.iterdir() if p.name not in {*files, MANIFEST_FILE})
    if stray:
        raise bundle_error(STRAY_FILE, names=", ".join(stray))
    return contents


def check_features(model_names: list[str], manifest: Mapping[str, Any]) -> None:
    """Refuse a model whose features are not the manifest's, in order (:data:`FEATURE_MISMATCH`)."""
    names = list(manifest["features"])
    if model_names != names:
        raise bundle_error(FEATURE_MISMATCH, detail=_list_difference(model_names, names))


def check_catalogue(manifest: Mapping[str, Any], *, strict: bool) -> None:
    """Refuse a manifest the installed catalogue does not match (:data:`CATALOGUE_MISMATCH`).

    The version, the features, their categories and monotone directions must match; the
    fingerprint too when ``strict``.
    """
    if manifest["catalogue_version"] != CATALOGUE_VERSION:
        raise bundle_error(
            CATALOGUE_MISMATCH,
            detail=f"trained with version {manifest['catalogue_version']}, "
            f"installed {CATALOGUE_VERSION}",
        )
    names = manifest["features"]
    unknown = []
    for name in names:
        try:
            get_feature(name)
        except KeyError:
            unknown.append(name)
    if unknown:
        raise bundle_error(CATALOGUE_MISMATCH, detail=f"unknown feature(s) {', '.join(unknown)}")
    # Categories and directions change the numbers the model sees or its meaning.
    if manifest["categorical_features"] != categorical_features(names):
        detail = "categorical features or their categories differ"
        raise bundle_error(CATALOGUE_MISMATCH, detail=detail)
    if manifest["monotone_constraints"] != monotone_vector(names):
        raise bundle_error(CATALOGUE_MISMATCH, detail="monotone directions differ")
    if strict and manifest["catalogue_fingerprint"] != catalogue_fingerprint():
        raise bundle_error(CATALOGUE_MISMATCH, detail="catalogue fingerprint differs")


def reference_profile(
    reference: ReferenceProfile | Mapping[str, Any], names: Sequence[str]
) -> ReferenceProfile:
    """Check a reference profile for a bundle whose features are ``names``.

    Parameters
    ----------
    reference
        A :class:`~risk.monitoring.ReferenceProfile` or its :meth:`to_dict` form.
    names
        The model's features: the profile must hold each, since monitoring compares
        every feature the model reads.

    Returns
    -------
    ReferenceProfile
        The profile, rebuilt from its JSON form so that what is stored is what was checked.

    Raises
    ------
    BundleError
        :data:`BAD_REFERENCE`.
    """
    data = reference.to_dict() if isinstance(reference, ReferenceProfile) else reference
    try:
        profile = ReferenceProfile.from_dict(jsonable(data))
    except (BundleError, ValueError) as error:
        raise bundle_error(BAD_REFERENCE, reason=str(error)) from None
    lacking = [name for name in names if name not in profile]
    if lacking:
        reason = f"no entry for the model's feature(s) {', '.join(lacking)}"
        raise bundle_error(BAD_REFERENCE, reason=reason)
    return profile


def read_reference(content: bytes, names: Sequence[str]) -> ReferenceProfile:
    """Read ``reference.json``'s bytes (already checked against their hash).

    Raises
    ------
    BundleError
        :data:`BAD_REFERENCE` when it is not JSON, not a profile, or misses a feature.
    """
    try:
        data = json.loads(content.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as error:
        raise bundle_error(BAD_REFERENCE, reason=f"not JSON: {error}") from None
    return reference_profile(data, names)


def _list_difference(model: list[str], manifest: list[str]) -> str:
    only_model = [n for n in model if n not in manifest]
    only_manifest = [n for n in manifest if n not in model]
    if not only_model and not only_manifest:
        return "same names in another order"
    return f"only in the model: {only_model}; only in the manifest: {only_manifest}"
