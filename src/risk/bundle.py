"""The model bundle: a trained model as a folder anyone can read, check and score with.

A bundle folder holds ``model.txt``, the booster in LightGBM's own text format, and
``manifest.json``: everything else needed to score and to audit as plain JSON (features
and their order, categories, monotone constraints, catalogue version and fingerprint,
label and horizon, training cut-off, calibration map, risk bands, headline metrics, data
fingerprint, configuration, code version) and the SHA-256 of every other file.

Nothing is ever unpickled: a pickle runs code when it is loaded, and a bundle travels
between teams and through the registry. :meth:`ModelBundle.load` refuses a folder whose
files do not match their hashes, which holds a file the manifest does not list, whose
model does not use the manifest's features, or which was trained with another
catalogue than the one installed; each refusal is a :class:`BundleError` whose ``code``
is one of this module's message constants.

Writing is byte-reproducible: the same model and arguments give byte-identical files
(JSON with sorted keys and Python's shortest round-trip float format; ``created_at`` is
an argument, never the clock), so a bundle's hash identifies it.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import itertools
import json
import math
import os
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd

from risk.calibration import Calibrator
from risk.catalogue import CATALOGUE_VERSION, catalogue_fingerprint, get_feature
from risk.estimator import ArrearsModel
from risk.matrix import feature_matrix, monotone_vector
from risk.timeline import DateLike

#: Version of the folder layout and manifest schema this module writes and reads.
FORMAT_VERSION = 1
MODEL_NAME = "arrears-risk"
MODEL_FILE = "model.txt"
MANIFEST_FILE = "manifest.json"
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
#: The model text cannot be read by LightGBM.
BAD_MODEL = "LightGBM cannot read {name}: {reason}"
#: Writing into a folder that already holds something.
NOT_EMPTY = "{path} is not empty; pass overwrite=True to replace a bundle there"
#: Overwriting a non-empty folder that is not a bundle (it might be anything).
NOT_OVERWRITABLE = "{path} is not empty and holds no bundle manifest; refusing to replace it"
#: Band thresholds or shares that make no sense.
BAD_BANDS = "invalid risk bands: {reason}"
#: Probabilities that are not numbers in [0, 1].
BAD_PROBABILITY = "probabilities must lie in [0, 1], without NaN"


class BundleError(ValueError):
    """A bundle that cannot be written, read or trusted.

    Parameters
    ----------
    code
        One of this module's error constants (a message template), for tests and callers
        to tell errors apart.
    message
        The formatted message.
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def _fail(code: str, **fields: Any) -> BundleError:
    return BundleError(code, code.format(**fields))


class ModelBundle:
    """A trained, calibrated arrears model with everything needed to score and audit it.

    Build one with :meth:`from_model` after training or :meth:`load` from a folder; do
    not call the constructor directly. The object is read-only by convention: its
    manifest is copied on the way in and out.

    Attributes
    ----------
    manifest : dict
        The manifest as written (without ``files`` until the bundle is written or loaded).
    booster : lightgbm.Booster
    calibrator : Calibrator
    feature_names : list of str
    bands : dict of str to float
        Band name to probability threshold, highest first.
    """

    def __init__(self, model_text: str, manifest: dict[str, Any]) -> None:
        self._model_text = model_text
        self._manifest = manifest
        self.booster = _read_booster(model_text)
        self.calibrator = _read_calibrator(manifest)
        self.feature_names: list[str] = list(manifest["features"])
        self.bands: dict[str, float] = {b["name"]: float(b["threshold"]) for b in manifest["bands"]}

    @classmethod
    def from_model(
        cls,
        model: ArrearsModel,
        *,
        bands: Mapping[str, float],
        label: str,
        horizon_months: int,
        train_until: DateLike,
        metrics: Mapping[str, float],
        data_fingerprint: str,
        config: Mapping[str, Any],
        code_version: str,
        created_at: str | dt.datetime,
    ) -> ModelBundle:
        """Bundle a fitted :class:`~risk.estimator.ArrearsModel`.

        Parameters
        ----------
        model
            Fitted model (``booster_``, ``calibrator_``, ``feature_names_``).
        bands
            Band name to probability threshold, highest band first (see
            :func:`band_thresholds`); a probability below every threshold is ``low``.
        label, horizon_months
            The label the model predicts and its horizon.
        train_until
            Last as-of date whose label the training saw (labels known before it).
        metrics
            Headline out-of-time metrics; non-finite values are stored as ``null``.
        data_fingerprint
            Hash of the training data, as the registry records it.
        config
            The training configuration (JSON-able mapping).
        code_version
            Version of the code that trained (package version, git commit).
        created_at
            When the bundle was made; an argument so that writing is reproducible.

        Returns
        -------
        ModelBundle
        """
        names = list(model.feature_names_)
        manifest: dict[str, Any] = {
            "format_version": FORMAT_VERSION,
            "model_name": MODEL_NAME,
            "created_at": _timestamp_text(created_at),
            "features": names,
            "categorical_features": _categorical_features(names),
            "monotone_constraints": monotone_vector(names),
            "catalogue_version": CATALOGUE_VERSION,
            "catalogue_fingerprint": catalogue_fingerprint(),
            "label": str(label),
            "horizon_months": int(horizon_months),
            "train_until": pd.Timestamp(train_until).date().isoformat(),
            "best_iteration": int(model.best_iteration_),
            "calibration": _jsonable(model.calibrator_.to_dict()),
            "bands": _band_list(bands),
            "metrics": _jsonable(dict(metrics)),
            "data_fingerprint": str(data_fingerprint),
            "config": _jsonable(dict(config)),
            "code_version": str(code_version),
        }
        return cls(model.booster_.model_to_string(), manifest)

    def write(self, directory: str | Path, *, overwrite: bool = False) -> Path:
        """Write the bundle into ``directory`` (created if needed).

        The files are written into a temporary sibling folder that is then renamed, so a
        reader never sees half a bundle.

        Parameters
        ----------
        directory
            Target folder; it must be absent or empty.
        overwrite
            Replace a previous bundle in ``directory``. A non-empty folder without a
            manifest is never replaced: it might hold anything.

        Returns
        -------
        pathlib.Path
            The bundle folder.

        Raises
        ------
        BundleError
            :data:`NOT_EMPTY` or :data:`NOT_OVERWRITABLE`.
        """
        target = Path(directory)
        occupied = target.exists() and (not target.is_dir() or any(target.iterdir()))
        if occupied and not overwrite:
            raise _fail(NOT_EMPTY, path=target)
        if occupied and not (target / MANIFEST_FILE).is_file():
            raise _fail(NOT_OVERWRITABLE, path=target)
        model_bytes = self._model_text.encode("utf-8")
        manifest = {**self._manifest, "files": {MODEL_FILE: _sha256(model_bytes)}}
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
        try:
            (staging / MODEL_FILE).write_bytes(model_bytes)
            (staging / MANIFEST_FILE).write_bytes(manifest_bytes(manifest))
            os.chmod(staging, 0o755)  # mkdtemp makes it private to its creator
            if target.exists():
                old = Path(tempfile.mkdtemp(prefix=f".{target.name}-old-", dir=target.parent))
                target.replace(old / "bundle")
                staging.replace(target)
                shutil.rmtree(old)
            else:
                staging.replace(target)
        finally:
            if staging.exists():
                shutil.rmtree(staging)
        self._manifest = manifest
        return target

    @classmethod
    def load(cls, directory: str | Path, *, strict_catalogue: bool = False) -> ModelBundle:
        """Read a bundle folder and check it before anything is scored with it.

        Checks, in order: the manifest is valid; every listed file is present and matches
        its SHA-256; no other file is in the folder; LightGBM reads the model; its
        features are the manifest's, in order; the installed catalogue knows them, with
        the same version, categories and monotone directions.

        Parameters
        ----------
        directory
            The bundle folder.
        strict_catalogue
            Also refuse a bundle whose catalogue fingerprint differs from the installed
            one. By default a different fingerprint with the same version, categories and
            directions is accepted: it means a reason's wording or a lever's label changed,
            which does not change a score (``describe()['catalogue_fingerprint_matches']``
            says so).

        Returns
        -------
        ModelBundle

        Raises
        ------
        BundleError
            With the code of the first failed check.
        """
        folder = Path(directory)
        manifest = _read_manifest(folder)
        files: dict[str, str] = manifest["files"]
        contents: dict[str, bytes] = {}
        for name, digest in sorted(files.items()):
            path = folder / name
            if not path.is_file():
                raise _fail(MISSING_FILE, name=name)
            contents[name] = path.read_bytes()
            if _sha256(contents[name]) != digest:
                raise _fail(TAMPERED, name=name)
        stray = sorted(p.name for p in folder.iterdir() if p.name not in {*files, MANIFEST_FILE})
        if stray:
            raise _fail(STRAY_FILE, names=", ".join(stray))
        try:
            model_text = contents[MODEL_FILE].decode("utf-8")
        except UnicodeDecodeError as error:
            raise _fail(BAD_MODEL, name=MODEL_FILE, reason=str(error)) from None
        bundle = cls(model_text, manifest)
        model_names = list(bundle.booster.feature_name())
        if model_names != bundle.feature_names:
            detail = _list_difference(model_names, bundle.feature_names)
            raise _fail(FEATURE_MISMATCH, detail=detail)
        _check_catalogue(manifest, strict=strict_catalogue)
        return bundle

    def raw_score(self, features: pd.DataFrame, *, threads: int | None = None) -> np.ndarray:
        """Return the booster's log-odds for each row of a feature frame (before calibration).

        Parameters
        ----------
        features
            Frame with the bundle's features, as built by :func:`risk.build_features`.
        threads
            LightGBM prediction threads; the result does not depend on it.
        """
        matrix = feature_matrix(features, self.feature_names)
        extra: dict[str, Any] = {} if threads is None else {"num_threads": int(threads)}
        return np.asarray(self.booster.predict(matrix, raw_score=True, **extra), dtype=np.float64)

    def predict_proba(self, features: pd.DataFrame, *, threads: int | None = None) -> np.ndarray:
        """Calibrated probability of the label within its horizon, for each row."""
        return self.probability(self.raw_score(features, threads=threads))

    def probability(self, raw_score: np.ndarray) -> np.ndarray:
        """Calibrated probabilities of raw log-odds (for callers that already have them)."""
        return np.asarray(self.calibrator.transform(np.asarray(raw_score, dtype=np.float64)))

    def band(self, probability: np.ndarray | Sequence[float] | float) -> np.ndarray:
        """Return the band of each probability: the first band whose threshold it reaches.

        Returns
        -------
        numpy.ndarray of str
            A band name of :attr:`bands` or ``"low"``.
        """
        p = np.atleast_1d(np.asarray(probability, dtype=np.float64))
        if np.isnan(p).any() or (p < 0).any() or (p > 1).any():
            raise BundleError(BAD_PROBABILITY, BAD_PROBABILITY)
        out = np.full(p.shape, LOW_BAND, dtype=object)
        # From the lowest band up, so that the highest band a probability reaches wins.
        for name, threshold in reversed(list(self.bands.items())):
            out[p >= threshold] = name
        return out

    @property
    def manifest(self) -> dict[str, Any]:
        """A copy of the manifest."""
        return copy.deepcopy(self._manifest)

    def describe(self) -> dict[str, Any]:
        """Describe the model for the API's model route and the audit report.

        Returns
        -------
        dict
            The manifest's fields, with the calibration reduced to its method (the map's
            points are for scoring, not for reading), plus ``model_sha256`` and
            ``catalogue_fingerprint_matches``.
        """
        described = self.manifest
        described["calibration"] = {"method": described["calibration"]["method"]}
        described["bands"] = dict(self.bands)
        described["model_sha256"] = _sha256(self._model_text.encode("utf-8"))
        described["catalogue_fingerprint_matches"] = (
            described["catalogue_fingerprint"] == catalogue_fingerprint()
        )
        described.pop("files", None)
        return described


def band_thresholds(
    probabilities: np.ndarray | Sequence[float], shares: Mapping[str, float]
) -> dict[str, float]:
    """Probability thresholds that put a given share of rows in each band.

    Parameters
    ----------
    probabilities
        Calibrated probabilities of a reference population (e.g. the validation months).
    shares
        Band name to the cumulative share of rows at or above its threshold, highest band
        first and growing: ``{"high": 0.05, "elevated": 0.15}`` puts the top 5 % in
        ``high`` and the next 10 % in ``elevated``.

    Returns
    -------
    dict of str to float
        Band name to threshold, in the order of ``shares``. The threshold is the
        probability of the ``k``-th highest row, ``k = round(share * n)`` (at least 1), so
        rows tied with it join the band and a band can hold slightly more than its share.
    """
    p = np.asarray(probabilities, dtype=np.float64)
    if p.size == 0 or np.isnan(p).any():
        raise _fail(BAD_BANDS, reason="the probabilities are empty or hold NaN")
    values = [float(v) for v in shares.values()]
    if not shares or any(not (0.0 < v <= 1.0) for v in values):
        raise _fail(BAD_BANDS, reason="each share must lie in (0, 1]")
    if any(b < a for a, b in itertools.pairwise(values)):
        raise _fail(BAD_BANDS, reason="shares are cumulative: they must grow from band to band")
    ordered = np.sort(p)[::-1]
    out: dict[str, float] = {}
    for name, share in shares.items():
        k = max(math.floor(share * p.size + 0.5), 1)
        out[str(name)] = float(ordered[min(k, p.size) - 1])
    _band_list(out)  # same checks as a bundle's bands
    return out


def manifest_bytes(manifest: Mapping[str, Any]) -> bytes:
    """Serialise a manifest as written: sorted keys, two-space indent, UTF-8, final newline."""
    text = json.dumps(manifest, sort_keys=True, indent=2, ensure_ascii=False, allow_nan=False)
    return (text + "\n").encode("utf-8")


# --- helpers ------------------------------------------------------------------------------


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _timestamp_text(value: str | dt.datetime) -> str:
    # Stored as given when it is text, so the caller controls the exact bytes.
    if isinstance(value, str):
        return value
    return value.isoformat()


def _categorical_features(names: Sequence[str]) -> dict[str, list[str]]:
    return {
        name: list(get_feature(name).categories)
        for name in names
        if get_feature(name).dtype == "categorical"
    }


def _band_list(bands: Mapping[str, float]) -> list[dict[str, Any]]:
    # A list, not a mapping: sorted keys would lose the order from highest band down.
    if not bands:
        raise _fail(BAD_BANDS, reason="at least one band is needed")
    out: list[dict[str, Any]] = []
    for name, threshold in bands.items():
        value = float(threshold)
        if not isinstance(name, str) or not name or name == LOW_BAND:
            raise _fail(BAD_BANDS, reason=f"band name {name!r} (names are text, not {LOW_BAND!r})")
        if not (0.0 <= value <= 1.0):
            raise _fail(BAD_BANDS, reason=f"threshold of {name!r} is not a probability: {value}")
        if out and value > out[-1]["threshold"]:
            raise _fail(BAD_BANDS, reason="thresholds must not grow from the highest band down")
        out.append({"name": name, "threshold": value})
    return out


def _jsonable(value: Any) -> Any:
    # Numpy scalars, tuples and dates become plain JSON; NaN and infinities become null,
    # since strict JSON has no spelling for them.
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
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
    raise _fail(BAD_MANIFEST, reason=f"{type(value).__name__} value {value!r} is not JSON-able")


def _read_booster(model_text: str) -> lgb.Booster:
    try:
        return lgb.Booster(model_str=model_text)
    except lgb.basic.LightGBMError as error:
        raise _fail(BAD_MODEL, name=MODEL_FILE, reason=str(error)) from None


def _read_calibrator(manifest: Mapping[str, Any]) -> Calibrator:
    try:
        return Calibrator.from_dict(manifest["calibration"])
    except ValueError as error:
        raise _fail(BAD_MANIFEST, reason=str(error)) from None


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
}


def _read_manifest(folder: Path) -> dict[str, Any]:
    if not folder.is_dir():
        raise _fail(NOT_A_BUNDLE, path=folder, reason="no such folder")
    path = folder / MANIFEST_FILE
    if not path.is_file():
        raise _fail(NOT_A_BUNDLE, path=folder, reason=f"no {MANIFEST_FILE}")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, ValueError) as error:
        raise _fail(
            NOT_A_BUNDLE, path=folder, reason=f"{MANIFEST_FILE} is not JSON: {error}"
        ) from None
    if not isinstance(manifest, dict):
        raise _fail(BAD_MANIFEST, reason="not a JSON object")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise _fail(
            UNSUPPORTED_FORMAT, version=manifest.get("format_version"), supported=FORMAT_VERSION
        )
    for key, kind in _FIELDS.items():
        if key not in manifest:
            raise _fail(BAD_MANIFEST, reason=f"missing field {key!r}")
        if not isinstance(manifest[key], kind) or isinstance(manifest[key], bool) != (kind is bool):
            raise _fail(BAD_MANIFEST, reason=f"field {key!r} has the wrong type")
    files = manifest["files"]
    if MODEL_FILE not in files:
        raise _fail(BAD_MANIFEST, reason=f"{MODEL_FILE} is not listed in 'files'")
    for name, digest in files.items():
        # Plain names only: a listed "../x" would make the loader read outside the folder.
        if name in {"", ".", "..", MANIFEST_FILE} or "/" in name or "\\" in name:
            raise _fail(BAD_MANIFEST, reason=f"file name {name!r} in 'files'")
        if not isinstance(digest, str):
            raise _fail(BAD_MANIFEST, reason=f"sha256 of {name!r} is not text")
    if not all(isinstance(n, str) for n in manifest["features"]):
        raise _fail(BAD_MANIFEST, reason="feature names are not all text")
    bands = manifest["bands"]
    if not all(isinstance(b, dict) and {"name", "threshold"} <= set(b) for b in bands):
        raise _fail(BAD_MANIFEST, reason="each band needs a name and a threshold")
    try:
        _band_list({b["name"]: b["threshold"] for b in bands})
    except (BundleError, TypeError, ValueError) as error:
        raise _fail(BAD_MANIFEST, reason=str(error)) from None
    return manifest


def _check_catalogue(manifest: Mapping[str, Any], *, strict: bool) -> None:
    if manifest["catalogue_version"] != CATALOGUE_VERSION:
        raise _fail(
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
        raise _fail(CATALOGUE_MISMATCH, detail=f"unknown feature(s) {', '.join(unknown)}")
    # Categories and directions change the numbers the model sees or its meaning.
    if manifest["categorical_features"] != _categorical_features(names):
        raise _fail(CATALOGUE_MISMATCH, detail="categorical features or their categories differ")
    if manifest["monotone_constraints"] != monotone_vector(names):
        raise _fail(CATALOGUE_MISMATCH, detail="monotone directions differ")
    if strict and manifest["catalogue_fingerprint"] != catalogue_fingerprint():
        raise _fail(CATALOGUE_MISMATCH, detail="catalogue fingerprint differs")


def _list_difference(model: list[str], manifest: list[str]) -> str:
    only_model = [n for n in model if n not in manifest]
    only_manifest = [n for n in manifest if n not in model]
    if not only_model and not only_manifest:
        return "same names in another order"
    return f"only in the model: {only_model}; only in the manifest: {only_manifest}"
