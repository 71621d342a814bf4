"""The model registry: where each training run is recorded and which model is in service.

Every training run is an MLflow run (parameters, metrics, the evaluation tables, the
figures, the configuration and the model bundle), and each run's bundle becomes a new
version of the registered model :data:`MODEL_NAME`. Two aliases say what each version
is for: :data:`CHALLENGER` is the latest trained model, :data:`CHAMPION` the one the
API serves. Training sets the challenger only; moving the champion is a separate,
deliberate step (:meth:`Registry.promote`) taken after the promotion gates
(:mod:`risk.promotion`) and a person's decision. MLflow's deprecated stages are never
used.

The store is MLflow 3 on a SQLite database, ``sqlite:///<root>/mlflow.db``, with the
artifacts under ``<root>/mlartifacts``; MLflow's plain file store is not supported by
MLflow 3. MLflow is imported only when a registry method runs, so ``import risk`` stays
fast. Problems raise :class:`RegistryError` whose ``code`` is one of the constants
below or of :mod:`risk.tracking`.

What a run records (artifact folders, tags, metric names, the checks made before
recording) is :mod:`risk.tracking`; its names are importable from here too.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import re
import shutil
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from risk.metrics import pooled_metrics
from risk.promotion import EVALUATION_COLUMNS, GROUP_COLUMNS
from risk.tracking import BAD_METRIC as BAD_METRIC
from risk.tracking import BAD_TABLE as BAD_TABLE
from risk.tracking import (
    BUNDLE_PATH,
    CONFIG_PATH,
    EVALUATION_FILE,
    EVALUATION_PATH,
    FIGURES_PATH,
    GROUPS_FILE,
    MANIFEST_FILE,
    MISSING_FILE,
    NOT_A_FOLDER,
    TAG_MANIFEST_SHA256,
    LoggedTraining,
    RegistryError,
    _bundle_folder,
    _check_table,
    _flat_params,
    _log_batch,
    _log_tables,
    _metric_keys,
    _version_tags,
    current_code_version,
)
from risk.tracking import NO_MANIFEST as NO_MANIFEST
from risk.tracking import PARAMS_NOT_FLAT as PARAMS_NOT_FLAT
from risk.tracking import PREDICTIONS_FILE as PREDICTIONS_FILE
from risk.tracking import TAG_BUNDLE_MODEL as TAG_BUNDLE_MODEL
from risk.tracking import TAG_CATALOGUE_VERSION as TAG_CATALOGUE_VERSION
from risk.tracking import TAG_CODE_VERSION as TAG_CODE_VERSION
from risk.tracking import TAG_DATA_FINGERPRINT as TAG_DATA_FINGERPRINT
from risk.tracking import TAG_LABEL as TAG_LABEL
from risk.tracking import TAG_TRAIN_UNTIL as TAG_TRAIN_UNTIL
from risk.tracking import metric_key as metric_key

if TYPE_CHECKING:
    from mlflow import MlflowClient
    from mlflow.entities.model_registry import ModelVersion

MODEL_NAME = "arrears-risk"
CHAMPION = "champion"
CHALLENGER = "challenger"
DEFAULT_ROOT = Path("mlruns")
DEFAULT_EXPERIMENT = "arrears-risk"

#: Tags set on a version when it becomes champion, so that a promotion can be undone.
TAG_PREVIOUS_CHAMPION = "risk.previous_champion"
TAG_PROMOTED_AT = "risk.promoted_at"
NO_PREVIOUS = "none"

# Error codes of RegistryError raised by looking a model up; those of the checks of what a
# run records are in risk.tracking.
NO_SUCH_MODEL = "registry_no_such_model"
NO_SUCH_ALIAS = "registry_no_such_alias"
NO_SUCH_VERSION = "registry_no_such_version"
MANIFEST_MISMATCH = "registry_manifest_mismatch"
BAD_MODEL_URI = "registry_bad_model_uri"
BAD_ALIAS = "registry_bad_alias"
NO_EVALUATION = "registry_no_evaluation"

#: A registry URI: ``models:/<name>@<alias>`` or ``models:/<name>/<version>``.
MODEL_URI = re.compile(r"^models:/(?P<name>[^/@]+)(?:@(?P<alias>[^/@]+)|/(?P<version>\d+))$")


@dataclass(frozen=True)
class ModelDescription:
    """One registered model version, as the API's model route and the audit report show it."""

    name: str
    version: int
    #: The alias asked for; ``None`` when the version was asked by number.
    alias: str | None
    #: Every alias currently on the version.
    aliases: tuple[str, ...]
    #: The training run that produced it.
    run_id: str
    #: When the version was registered (UTC).
    created: dt.datetime
    #: Data fingerprint, code and catalogue versions, train_until, promotion.
    tags: dict[str, str] = field(default_factory=dict)
    #: Where the version's bundle is stored.
    source: str = ""

    def to_dict(self) -> dict[str, Any]:
        """Return the fields ready for JSON (the creation time in ISO 8601)."""
        return {**asdict(self), "aliases": list(self.aliases), "created": self.created.isoformat()}


def _mlflow() -> Any:
    # Telemetry off before the first import: it phones home otherwise.
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    # Progress bars of downloads end up in the API's and the CLI's logs.
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    import mlflow

    # Schema creation and migrations log at INFO on every new store: noise for a data
    # team reading the command's output, not information.
    logging.getLogger("mlflow.store.db.utils").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    return mlflow


class Registry:
    """Training runs and model versions in one MLflow tracking store.

    Parameters
    ----------
    root
        Folder of the default store: ``<root>/mlflow.db`` and ``<root>/mlartifacts``;
        downloaded bundles are cached in ``<root>/bundles``.
    tracking_uri
        Another MLflow tracking URI (a server, another database); the model registry
        lives in the same store.
    experiment
        Experiment of the training runs, created on first use.
    artifact_location
        Where a new experiment stores its artifacts; default ``<root>/mlartifacts``.
    """

    def __init__(
        self,
        root: str | Path = DEFAULT_ROOT,
        *,
        tracking_uri: str | None = None,
        experiment: str = DEFAULT_EXPERIMENT,
        artifact_location: str | None = None,
    ) -> None:
        self.root = Path(root).resolve()
        self.tracking_uri = tracking_uri or f"sqlite:///{self.root / 'mlflow.db'}"
        self.experiment = experiment
        self.artifact_location = artifact_location or (self.root / "mlartifacts").as_uri()
        self.cache_dir = self.root / "bundles"
        self._client: MlflowClient | None = None

    @property
    def client(self) -> MlflowClient:
        """The MLflow client, created (and the SQLite database with it) on first use."""
        if self._client is None:
            mlflow = _mlflow()
            if self.tracking_uri.startswith("sqlite:///"):
                self.root.mkdir(parents=True, exist_ok=True)
            self._client = mlflow.MlflowClient(
                tracking_uri=self.tracking_uri, registry_uri=self.tracking_uri
            )
        return self._client

    # --- recording a training run ----------------------------------------------------

    def log_training(
        self,
        bundle: str | Path,
        *,
        evaluation: pd.DataFrame,
        groups: pd.DataFrame,
        data_fingerprint: str,
        predictions: pd.DataFrame | None = None,
        params: Mapping[str, Any] | None = None,
        metrics: Mapping[str, float] | None = None,
        config: str | Path | None = None,
        figures: Iterable[str | Path] = (),
        tags: Mapping[str, str] | None = None,
        code_version: str | None = None,
        catalogue_version: str | None = None,
        run_name: str | None = None,
    ) -> LoggedTraining:
        """Record one training run and register its bundle as the new challenger.

        The champion is left where it is, even when there is none yet: promotion is a
        separate decision (:meth:`promote`).

        Parameters
        ----------
        bundle
            The model bundle folder (with ``manifest.json``), logged under ``bundle/``.
        evaluation, groups
            The evaluation and group tables, logged under ``evaluation/`` as Parquet (read
            back by :meth:`evaluation`) and CSV (for people).
        data_fingerprint
            Fingerprint of the training data, tagged on the run and the version.
        predictions
            Out-of-time predictions of every model (tenancy id, month, label, probability,
            rank score), logged beside the tables when given.
        params
            Flat parameters; values are logged as text.
        metrics
            Flat metrics, names as in the evaluation table (spelled out by
            :func:`metric_key`); default: the pooled ``lightgbm`` rows of ``evaluation``.
        config
            The training configuration YAML, logged under ``config/``.
        figures
            Image files, logged under ``figures/``.
        tags
            Further run tags (e.g. the owner named in the audit report).
        code_version, catalogue_version, run_name
            Defaults: :func:`current_code_version`, :data:`risk.catalogue.CATALOGUE_VERSION`
            and MLflow's generated name.

        Raises
        ------
        RegistryError
            ``NOT_A_FOLDER``, ``NO_MANIFEST``, ``MISSING_FILE``, ``PARAMS_NOT_FLAT``,
            ``BAD_METRIC`` or ``BAD_TABLE``, before anything is recorded.
        """
        bundle = _bundle_folder(bundle)
        _check_table(evaluation, EVALUATION_COLUMNS, "evaluation")
        _check_table(groups, GROUP_COLUMNS, "group")
        figure_paths = [Path(f) for f in figures]
        for path in [*figure_paths, *([Path(config)] if config is not None else [])]:
            if not path.is_file():
                raise RegistryError(MISSING_FILE, f"no such file: {path}")
        flat_params = _flat_params(params or {})
        pooled = pooled_metrics(evaluation, "lightgbm") if metrics is None else metrics
        flat_metrics = _metric_keys(pooled)
        if catalogue_version is None:
            from risk.catalogue import CATALOGUE_VERSION

            catalogue_version = CATALOGUE_VERSION
        version_tags = _version_tags(
            bundle, data_fingerprint, code_version or current_code_version(), catalogue_version
        )

        client = self.client
        run = client.create_run(
            self._experiment_id(), run_name=run_name, tags={**(tags or {}), **version_tags}
        )
        run_id = run.info.run_id
        try:
            _log_batch(client, run_id, flat_params, flat_metrics)
            _log_tables(client, run_id, evaluation, groups, predictions)
            for figure in figure_paths:
                client.log_artifact(run_id, str(figure), FIGURES_PATH)
            if config is not None:
                client.log_artifact(run_id, str(config), CONFIG_PATH)
            client.log_artifacts(run_id, str(bundle), BUNDLE_PATH)
            self._ensure_model()
            # The run-relative source survives moving the store to another folder.
            version = client.create_model_version(
                MODEL_NAME, f"runs:/{run_id}/{BUNDLE_PATH}", run_id=run_id, tags=version_tags
            )
            client.set_registered_model_alias(MODEL_NAME, CHALLENGER, version.version)
        except BaseException:
            client.set_terminated(run_id, status="FAILED")
            raise
        client.set_terminated(run_id)
        number = int(version.version)
        return LoggedTraining(run_id, number, f"models:/{MODEL_NAME}/{number}")

    # --- finding a model ---------------------------------------------------------------

    def resolve(self, uri_or_path: str | Path) -> Path:
        """Find a local bundle folder for a folder path or a registry URI.

        A folder is returned as is; ``models:/arrears-risk@champion`` (or any alias) and
        ``models:/arrears-risk/3`` are downloaded once into
        ``<root>/bundles/<name>/<version>`` and that folder is reused (versions never
        change). The caller verifies the bundle.

        Raises
        ------
        RegistryError
            ``NOT_A_FOLDER``, ``BAD_MODEL_URI``, ``NO_SUCH_MODEL``, ``NO_SUCH_ALIAS`` or
            ``NO_SUCH_VERSION``.
        """
        text = str(uri_or_path)
        if not text.startswith("models:"):
            folder = Path(text)
            if not folder.is_dir():
                raise RegistryError(NOT_A_FOLDER, f"no bundle folder at {folder}")
            return folder
        match = MODEL_URI.match(text)
        if match is None:
            raise RegistryError(
                BAD_MODEL_URI,
                f"{text!r} is neither models:/<name>@<alias> nor models:/<name>/<version>",
            )
        name = match["name"]
        version = self._version(name, match["alias"] or int(match["version"]))
        target = self.cache_dir / name / str(version.version)
        expected = (version.tags or {}).get(TAG_MANIFEST_SHA256)
        if (target / MANIFEST_FILE).is_file():
            if _manifest_matches(target, expected):
                return target
            # A cache left by another store (a reset database, another server with the
            # same root) must not stand in for this version: fetch it again.
            shutil.rmtree(target, ignore_errors=True)
        target.parent.mkdir(parents=True, exist_ok=True)
        # Download beside the target and rename: a reader never sees half a bundle, and
        # two processes resolving at once both end with the same complete folder.
        staging = Path(tempfile.mkdtemp(prefix=".download-", dir=target.parent))
        try:
            downloaded = _mlflow().artifacts.download_artifacts(
                artifact_uri=version.source, dst_path=str(staging), tracking_uri=self.tracking_uri
            )
            try:
                Path(downloaded).rename(target)
            except OSError:
                if not (target / MANIFEST_FILE).is_file():
                    raise
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        if not _manifest_matches(target, expected):
            raise RegistryError(
                MANIFEST_MISMATCH,
                f"the bundle of {name} version {version.version} does not match the manifest "
                "it was registered with (sha256 tag): the artifact store was altered",
            )
        return target

    def evaluation(
        self, version_or_alias: int | str = CHAMPION
    ) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Read the evaluation and group tables stored with a version's training run.

        ``version_or_alias`` is a version number (``3`` or ``"3"``) or an alias of
        :data:`MODEL_NAME`; returns ``(evaluation_table, group_table)``.

        Raises
        ------
        RegistryError
            ``NO_SUCH_MODEL``, ``NO_SUCH_ALIAS``, ``NO_SUCH_VERSION`` or ``NO_EVALUATION``
            (the version was not registered by :meth:`log_training`).
        """
        version = self._version(MODEL_NAME, _version_or_alias(version_or_alias))
        if not version.run_id:
            raise RegistryError(NO_EVALUATION, f"version {version.version} has no training run")
        with tempfile.TemporaryDirectory() as tmp:
            try:
                folder = Path(self.client.download_artifacts(version.run_id, EVALUATION_PATH, tmp))
                return (
                    pd.read_parquet(folder / EVALUATION_FILE),
                    pd.read_parquet(folder / GROUPS_FILE),
                )
            except (OSError, _mlflow().exceptions.MlflowException):
                raise RegistryError(
                    NO_EVALUATION,
                    f"the run of version {version.version} has no stored evaluation tables",
                ) from None

    def describe(self, version_or_alias: int | str = CHAMPION) -> ModelDescription:
        """Name, version, aliases, run, creation time and tags of one version.

        Raises
        ------
        RegistryError
            ``NO_SUCH_MODEL``, ``NO_SUCH_ALIAS`` or ``NO_SUCH_VERSION``.
        """
        wanted = _version_or_alias(version_or_alias)
        version = self._version(MODEL_NAME, wanted)
        return ModelDescription(
            name=version.name,
            version=int(version.version),
            alias=wanted if isinstance(wanted, str) else None,
            aliases=tuple(version.aliases or ()),
            run_id=version.run_id or "",
            created=dt.datetime.fromtimestamp(version.creation_timestamp / 1000, dt.UTC),
            tags=dict(version.tags or {}),
            source=version.source or "",
        )

    # --- moving aliases ----------------------------------------------------------------

    def set_alias(self, alias: str, version: int) -> None:
        """Point ``alias`` of :data:`MODEL_NAME` at ``version`` (moving it if set elsewhere).

        Raises
        ------
        RegistryError
            ``NO_SUCH_MODEL``, ``NO_SUCH_VERSION`` or ``BAD_ALIAS`` (a name MLflow
            reserves, such as ``latest`` or ``v3``).
        """
        self._version(MODEL_NAME, int(version))
        try:
            self.client.set_registered_model_alias(MODEL_NAME, alias, str(int(version)))
        except _mlflow().exceptions.MlflowException as error:
            raise RegistryError(BAD_ALIAS, f"alias {alias!r}: {error.message}") from None

    def promote(self, version: int) -> int | None:
        """Make ``version`` the champion, the model the API serves.

        The version is tagged with the previous champion's number
        (:data:`TAG_PREVIOUS_CHAMPION`) and the time of promotion: promoting that number
        again undoes the promotion. The challenger alias is left as it is.

        Returns
        -------
        int or None
            The previous champion's version, ``None`` if there was none.
        """
        previous = self._alias_version(CHAMPION)
        self.set_alias(CHAMPION, version)
        now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        number = str(int(version))
        self.client.set_model_version_tag(
            MODEL_NAME, number, TAG_PREVIOUS_CHAMPION, str(previous or NO_PREVIOUS)
        )
        self.client.set_model_version_tag(MODEL_NAME, number, TAG_PROMOTED_AT, now)
        return previous

    # --- internals ---------------------------------------------------------------------

    def _experiment_id(self) -> str:
        found = self.client.get_experiment_by_name(self.experiment)
        if found is not None:
            return str(found.experiment_id)
        # The artifact location is explicit: MLflow's default is relative to the process's
        # working directory, not to the database.
        created = self.client.create_experiment(
            self.experiment, artifact_location=self.artifact_location
        )
        return str(created)

    def _ensure_model(self) -> None:
        mlflow = _mlflow()
        try:
            self.client.create_registered_model(
                MODEL_NAME, description="Risk of rent arrears within the label's horizon."
            )
        except mlflow.exceptions.MlflowException as error:
            if error.error_code != "RESOURCE_ALREADY_EXISTS":
                raise

    def _version(self, name: str, wanted: int | str) -> ModelVersion:
        """Look a version up by number or alias, with a named error when missing."""
        mlflow = _mlflow()
        try:
            if isinstance(wanted, int):
                return self.client.get_model_version(name, str(wanted))
            return self.client.get_model_version_by_alias(name, wanted)
        except mlflow.exceptions.MlflowException:
            pass
        # MLflow reports a missing alias and a missing model alike: tell them apart.
        try:
            self.client.get_registered_model(name)
        except mlflow.exceptions.MlflowException:
            raise RegistryError(NO_SUCH_MODEL, f"no registered model named {name!r}") from None
        if isinstance(wanted, int):
            raise RegistryError(NO_SUCH_VERSION, f"{name!r} has no version {wanted}")
        raise RegistryError(NO_SUCH_ALIAS, f"{name!r} has no version with alias {wanted!r}")

    def _alias_version(self, alias: str) -> int | None:
        try:
            return int(self._version(MODEL_NAME, alias).version)
        except RegistryError as error:
            if error.code in (NO_SUCH_ALIAS, NO_SUCH_MODEL):
                return None
            raise


def _version_or_alias(value: int | str) -> int | str:
    if isinstance(value, int):
        return value
    return int(value) if value.isdigit() else value


def _manifest_matches(folder: Path, expected: str | None) -> bool:
    # Versions registered before the tag existed carry none: nothing to compare.
    if expected is None:
        return True
    try:
        return hashlib.sha256((folder / MANIFEST_FILE).read_bytes()).hexdigest() == expected
    except OSError:
        return False
