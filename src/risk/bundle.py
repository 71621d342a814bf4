"""The model bundle: a trained model as a folder anyone can read, check and score with.

A bundle folder holds ``model.txt``, the booster in LightGBM's own text format, and
``manifest.json``: everything else needed to score and to audit as plain JSON (features
and their order, categories, monotone constraints, catalogue version and fingerprint,
label and horizon, training cut-off, calibration map, risk bands, headline metrics, data
fingerprint, configuration, code version) and the SHA-256 of every other file. A bundle
written by training also holds ``reference.json``: the training population's reference
profile (:class:`risk.monitoring.ReferenceProfile`), so that ``risk monitor`` compares a
new month with the population the model learnt on without the training data at hand.
Older bundles have none and still load; :attr:`ModelBundle.reference` is then ``None``.

Nothing is ever unpickled: a pickle runs code when it is loaded, and a bundle travels
between teams and through the registry. :meth:`ModelBundle.load` refuses a folder whose
files do not match their hashes, which holds a file the manifest does not list, whose
model does not use the manifest's features, or which was trained with another
catalogue than the one installed; each refusal is a :class:`BundleError` whose ``code``
is one of this module's message constants. What the manifest records and how it is
checked is :mod:`risk.manifest`'s; its constants are importable from here too.

Writing is byte-reproducible: the same model and arguments give byte-identical files
(JSON with sorted keys and Python's shortest round-trip float format; ``created_at`` is
an argument, never the clock), so a bundle's hash identifies it.
"""

from __future__ import annotations

import copy
import datetime as dt
import itertools
import math
import os
import shutil
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import lightgbm as lgb
import numpy as np
import pandas as pd

from risk.calibration import Calibrator
from risk.catalogue import CATALOGUE_VERSION, catalogue_fingerprint
from risk.estimator import ArrearsModel
from risk.manifest import (
    BAD_BANDS,
    BAD_MANIFEST,
    BAD_REFERENCE,
    CATALOGUE_MISMATCH,
    FEATURE_MISMATCH,
    FORMAT_VERSION,
    LOW_BAND,
    MANIFEST_FILE,
    MISSING_FILE,
    MODEL_FILE,
    NOT_A_BUNDLE,
    REFERENCE_FILE,
    STRAY_FILE,
    TAMPERED,
    UNSUPPORTED_FORMAT,
    BundleError,
    band_list,
    bundle_error,
    categorical_features,
    check_catalogue,
    check_features,
    json_bytes,
    jsonable,
    manifest_bytes,
    read_files,
    read_manifest,
    read_reference,
    reference_profile,
    sha256,
)
from risk.matrix import feature_matrix, monotone_vector
from risk.monitoring import ReferenceProfile
from risk.timeline import DateLike

__all__ = [
    "BAD_BANDS",
    "BAD_MANIFEST",
    "BAD_MODEL",
    "BAD_PROBABILITY",
    "BAD_REFERENCE",
    "CATALOGUE_MISMATCH",
    "FEATURE_MISMATCH",
    "FORMAT_VERSION",
    "LOW_BAND",
    "MANIFEST_FILE",
    "MISSING_FILE",
    "MODEL_FILE",
    "MODEL_NAME",
    "NOT_A_BUNDLE",
    "NOT_EMPTY",
    "NOT_OVERWRITABLE",
    "REFERENCE_FILE",
    "STRAY_FILE",
    "TAMPERED",
    "UNSUPPORTED_FORMAT",
    "BundleError",
    "ModelBundle",
    "band_thresholds",
    "manifest_bytes",
]

MODEL_NAME = "arrears-risk"

T = TypeVar("T")

# Error constants: the ``code`` of a BundleError, formatted into its message (more, about
# the manifest, come from :mod:`risk.manifest`).
#: The model text cannot be read by LightGBM.
BAD_MODEL = "LightGBM cannot read {name}: {reason}"
#: Writing into a folder that already holds something.
NOT_EMPTY = "{path} is not empty; pass overwrite=True to replace a bundle there"
#: Overwriting a non-empty folder that is not a bundle (it might be anything).
NOT_OVERWRITABLE = "{path} is not empty and holds no bundle manifest; refusing to replace it"
#: Probabilities that are not numbers in [0, 1].
BAD_PROBABILITY = "probabilities must lie in [0, 1], without NaN"


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
    reference : ReferenceProfile or None
        The training population's reference profile, ``None`` for an older bundle.
    """

    def __init__(
        self,
        model_text: str,
        manifest: dict[str, Any],
        reference: ReferenceProfile | None = None,
    ) -> None:
        self._model_text = model_text
        self._manifest = manifest
        self._reference = reference
        self.booster = _read_booster(model_text)
        self.calibrator = _read_calibrator(manifest)
        self.feature_names: list[str] = list(manifest["features"])
        self.bands: dict[str, float] = {b["name"]: float(b["threshold"]) for b in manifest["bands"]}
        self._derived: dict[str, Any] = {}

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
        reference: ReferenceProfile | Mapping[str, Any] | None = None,
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
        reference
            The training population's reference profile
            (:meth:`risk.monitoring.ReferenceProfile.fit`, or its ``to_dict`` form),
            written as ``reference.json``; it must cover every feature of the model.
            ``None`` writes a bundle without one, as older versions did.

        Returns
        -------
        ModelBundle

        Raises
        ------
        BundleError
            :data:`BAD_REFERENCE` for a profile that is invalid or misses a feature.
        """
        names = list(model.feature_names_)
        manifest: dict[str, Any] = {
            "format_version": FORMAT_VERSION,
            "model_name": MODEL_NAME,
            "created_at": _timestamp_text(created_at),
            "features": names,
            "categorical_features": categorical_features(names),
            "monotone_constraints": monotone_vector(names),
            "catalogue_version": CATALOGUE_VERSION,
            "catalogue_fingerprint": catalogue_fingerprint(),
            "label": str(label),
            "horizon_months": int(horizon_months),
            "train_until": pd.Timestamp(train_until).date().isoformat(),
            "best_iteration": int(model.best_iteration_),
            "calibration": jsonable(model.calibrator_.to_dict()),
            "bands": band_list(bands),
            "metrics": jsonable(dict(metrics)),
            "data_fingerprint": str(data_fingerprint),
            "config": jsonable(dict(config)),
            "code_version": str(code_version),
        }
        profile = None if reference is None else reference_profile(reference, names)
        return cls(model.booster_.model_to_string(), manifest, profile)

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
            raise bundle_error(NOT_EMPTY, path=target)
        if occupied and not (target / MANIFEST_FILE).is_file():
            raise bundle_error(NOT_OVERWRITABLE, path=target)
        contents = {MODEL_FILE: self._model_text.encode("utf-8")}
        if self._reference is not None:
            contents[REFERENCE_FILE] = json_bytes(self._reference.to_dict())
        files = {name: sha256(content) for name, content in contents.items()}
        manifest = {**self._manifest, "files": files}
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
        try:
            for name, content in contents.items():
                (staging / name).write_bytes(content)
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
        the same version, categories and monotone directions; the reference profile, when
        the bundle has one, is a profile covering those features. A bundle without
        ``reference.json`` (written before profiles travelled with the model) loads, with
        :attr:`reference` ``None``.

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
        manifest = read_manifest(folder)
        contents = read_files(folder, manifest)
        try:
            model_text = contents[MODEL_FILE].decode("utf-8")
        except UnicodeDecodeError as error:
            raise bundle_error(BAD_MODEL, name=MODEL_FILE, reason=str(error)) from None
        reference = None
        if REFERENCE_FILE in contents:
            reference = read_reference(contents[REFERENCE_FILE], manifest["features"])
        bundle = cls(model_text, manifest, reference)
        check_features(list(bundle.booster.feature_name()), manifest)
        check_catalogue(manifest, strict=strict_catalogue)
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
        return self.raw_score_matrix(feature_matrix(features, self.feature_names), threads=threads)

    def raw_score_matrix(self, matrix: np.ndarray, *, threads: int | None = None) -> np.ndarray:
        """Return the booster's log-odds for each row of an already built design matrix.

        Parameters
        ----------
        matrix
            Output of :func:`risk.matrix.feature_matrix` with :attr:`feature_names`.
        threads
            LightGBM prediction threads; the result does not depend on it.
        """
        extra: dict[str, Any] = {} if threads is None else {"num_threads": int(threads)}
        return np.asarray(self.booster.predict(matrix, raw_score=True, **extra), dtype=np.float64)

    def derived(self, key: str, build: Callable[[], T]) -> T:
        """Return what ``build()`` gives, computed once per bundle and kept under ``key``.

        For lookup tables that depend only on the bundle (e.g. the explanations' reason
        groups), so that scoring one row does not work them out again.

        Parameters
        ----------
        key
            Name of the table; each caller uses its own (e.g. ``"explanation.groups"``).
        build
            Computes the table; called only the first time ``key`` is asked for.

        Returns
        -------
        object
            The table, shared by every later call: treat it as read-only.
        """
        if key not in self._derived:
            self._derived[key] = build()
        return self._derived[key]

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
    def reference(self) -> ReferenceProfile | None:
        """The training population's reference profile, or ``None`` for an older bundle."""
        return self._reference

    @property
    def label(self) -> str:
        """The label the model predicts (the manifest's ``label``), without copying it."""
        return str(self._manifest["label"])

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
        described["model_sha256"] = sha256(self._model_text.encode("utf-8"))
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
        raise bundle_error(BAD_BANDS, reason="the probabilities are empty or hold NaN")
    values = [float(v) for v in shares.values()]
    if not shares or any(not (0.0 < v <= 1.0) for v in values):
        raise bundle_error(BAD_BANDS, reason="each share must lie in (0, 1]")
    if any(b < a for a, b in itertools.pairwise(values)):
        raise bundle_error(
            BAD_BANDS, reason="shares are cumulative: they must grow from band to band"
        )
    ordered = np.sort(p)[::-1]
    out: dict[str, float] = {}
    for name, share in shares.items():
        k = max(math.floor(share * p.size + 0.5), 1)
        out[str(name)] = float(ordered[min(k, p.size) - 1])
    band_list(out)  # same checks as a bundle's bands
    return out


# --- helpers ------------------------------------------------------------------------------


def _timestamp_text(value: str | dt.datetime) -> str:
    # Stored as given when it is text, so the caller controls the exact bytes.
    if isinstance(value, str):
        return value
    return value.isoformat()


def _read_booster(model_text: str) -> lgb.Booster:
    try:
        return lgb.Booster(model_str=model_text)
    except lgb.basic.LightGBMError as error:
        raise bundle_error(BAD_MODEL, name=MODEL_FILE, reason=str(error)) from None


def _read_calibrator(manifest: Mapping[str, Any]) -> Calibrator:
    try:
        return Calibrator.from_dict(manifest["calibration"])
    except ValueError as error:
        raise bundle_error(BAD_MANIFEST, reason=str(error)) from None
