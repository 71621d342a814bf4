"""What a training run records: its artifact layout, its tags, its parameters and metrics.

:meth:`risk.registry.Registry.log_training` records each training run in MLflow; this
module says what goes in: where the bundle, the evaluation tables, the figures and the
configuration are stored in the run (:data:`BUNDLE_PATH` and the other ``*_PATH`` and
``*_FILE`` constants), the tags put on the run and on its model version (data
fingerprint, :func:`current_code_version`, catalogue version, and what the bundle's
manifest says), and the checks of the tables, parameters and metrics made before
anything is recorded. Those checks raise :class:`RegistryError`, with one of the codes
below; :mod:`risk.registry` adds the codes of looking a model up.

Metric names. MLflow refuses ``@`` and ``%`` in metric names in some stores, so
:func:`metric_key` spells them out: ``capture@5%`` is logged as ``capture_at_5pct``,
``capture@150`` as ``capture_at_150``. The evaluation tables keep the original names.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    from mlflow import MlflowClient

#: Artifact folders of a training run.
BUNDLE_PATH = "bundle"
EVALUATION_PATH = "evaluation"
FIGURES_PATH = "figures"
CONFIG_PATH = "config"
EVALUATION_FILE = "evaluation.parquet"
#: The out-of-time predictions of every model, when logged.
PREDICTIONS_FILE = "predictions.parquet"
GROUPS_FILE = "groups.parquet"
MANIFEST_FILE = "manifest.json"

#: Tags of a run and of its model version.
TAG_DATA_FINGERPRINT = "risk.data_fingerprint"
TAG_CODE_VERSION = "risk.code_version"
TAG_CATALOGUE_VERSION = "risk.catalogue_version"
TAG_TRAIN_UNTIL = "risk.train_until"
TAG_BUNDLE_MODEL = "risk.bundle_model_name"
#: What the model predicts: label name and horizon, e.g. ``first_arrears/3``.
TAG_LABEL = "risk.label"
#: sha256 of the bundle's manifest.json: the manifest hashes every other file, so this
#: one tag pins the whole bundle a version was registered with.
TAG_MANIFEST_SHA256 = "risk.manifest_sha256"

# Error codes of RegistryError raised by the checks of what a run records; the codes of
# looking a model up are in risk.registry.
NOT_A_FOLDER = "registry_not_a_folder"
NO_MANIFEST = "registry_bundle_without_manifest"
MISSING_FILE = "registry_missing_file"
PARAMS_NOT_FLAT = "registry_params_not_flat"
BAD_METRIC = "registry_bad_metric"
BAD_TABLE = "registry_bad_table"

# What MLflow accepts in a metric name in every store; anything else becomes "_".
_METRIC_UNSAFE = re.compile(r"[^A-Za-z0-9_\-. :/]")


class RegistryError(ValueError):
    """A registry request that cannot be served; ``code`` is a constant of :mod:`risk.registry`."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code


@dataclass(frozen=True)
class LoggedTraining:
    """What :meth:`risk.registry.Registry.log_training` recorded: the run and the new version."""

    run_id: str
    version: int
    model_uri: str


def metric_key(name: str) -> str:
    """Spell out an evaluation metric's name for MLflow: ``capture@5%`` -> ``capture_at_5pct``."""
    return _METRIC_UNSAFE.sub("_", name.replace("@", "_at_").replace("%", "pct"))


def current_code_version() -> str:
    """Identify the code: its git commit (``+dirty`` if edited), else the package version."""
    here = Path(__file__).resolve().parent
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True, timeout=5
        )
        if commit.returncode == 0 and commit.stdout.strip():
            dirty = subprocess.run(
                ["git", "diff", "--quiet", "HEAD", "--", "."], cwd=here, timeout=5
            ).returncode
            return commit.stdout.strip() + ("+dirty" if dirty == 1 else "")
    except (OSError, subprocess.SubprocessError):
        pass  # no git on this machine: an installed package is identified by its version
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("risk")
    except PackageNotFoundError:
        return "unknown"


def _bundle_folder(bundle: str | Path) -> Path:
    folder = Path(bundle)
    if not folder.is_dir():
        raise RegistryError(NOT_A_FOLDER, f"no bundle folder at {folder}")
    if not (folder / MANIFEST_FILE).is_file():
        raise RegistryError(NO_MANIFEST, f"bundle folder {folder} has no {MANIFEST_FILE}")
    return folder


def _manifest_tags(bundle: Path) -> dict[str, str]:
    # Copied for people browsing the registry only; verifying the bundle is the loader's job.
    try:
        raw = (bundle / MANIFEST_FILE).read_bytes()
        manifest = json.loads(raw.decode("utf-8"))
        tags = {
            TAG_TRAIN_UNTIL: manifest["train_until"],
            TAG_BUNDLE_MODEL: manifest["model_name"],
            TAG_LABEL: f"{manifest['label']}/{manifest['horizon_months']}",
            TAG_MANIFEST_SHA256: hashlib.sha256(raw).hexdigest(),
        }
    except (OSError, ValueError, TypeError, KeyError):
        return {}
    return {key: str(value) for key, value in tags.items() if value is not None}


def _version_tags(
    bundle: Path, data_fingerprint: str, code_version: str, catalogue_version: str
) -> dict[str, str]:
    return {
        TAG_DATA_FINGERPRINT: data_fingerprint,
        TAG_CODE_VERSION: code_version,
        TAG_CATALOGUE_VERSION: catalogue_version,
        **_manifest_tags(bundle),
    }


def _check_table(frame: pd.DataFrame, columns: tuple[str, ...], what: str) -> None:
    if not isinstance(frame, pd.DataFrame):
        raise RegistryError(BAD_TABLE, f"the {what} table is not a DataFrame")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise RegistryError(BAD_TABLE, f"the {what} table lacks column(s): {', '.join(missing)}")


def _flat_params(params: Mapping[str, Any]) -> dict[str, str]:
    if nested := [str(k) for k, v in params.items() if isinstance(v, Mapping)]:
        raise RegistryError(PARAMS_NOT_FLAT, f"parameter(s) {', '.join(nested)} hold a mapping")
    return {str(k): str(v) for k, v in params.items()}


def _metric_keys(metrics: Mapping[str, float]) -> dict[str, float]:
    out: dict[str, float] = {}
    for name, value in metrics.items():
        key = metric_key(str(name))
        if key in out:
            raise RegistryError(BAD_METRIC, f"two metrics are logged as {key!r}")
        try:
            out[key] = float(value)
        except (TypeError, ValueError):
            raise RegistryError(BAD_METRIC, f"metric {name!r} is not a number: {value!r}") from None
    return out


def _log_tables(
    client: MlflowClient,
    run_id: str,
    evaluation: pd.DataFrame,
    groups: pd.DataFrame,
    predictions: pd.DataFrame | None,
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        evaluation.to_parquet(folder / EVALUATION_FILE, index=False)
        groups.to_parquet(folder / GROUPS_FILE, index=False)
        evaluation.to_csv(folder / "evaluation.csv", index=False)
        groups.to_csv(folder / "groups.csv", index=False)
        if predictions is not None:
            # Pseudonymous ids and scores only: lets the report redraw the figures
            # in the reader's language and recompute any metric.
            predictions.to_parquet(folder / PREDICTIONS_FILE, index=False)
        client.log_artifacts(run_id, str(folder), EVALUATION_PATH)


def _log_batch(
    client: MlflowClient, run_id: str, params: dict[str, str], metrics: dict[str, float]
) -> None:
    from mlflow.entities import Metric, Param

    now = int(dt.datetime.now(dt.UTC).timestamp() * 1000)
    param_list = [Param(k, v) for k, v in params.items()]
    metric_list = [Metric(k, v, now, 0) for k, v in metrics.items()]
    # MLflow refuses batches of more than 100 parameters.
    for start in range(0, max(len(param_list), len(metric_list), 1), 100):
        end = start + 100
        client.log_batch(run_id, params=param_list[start:end], metrics=metric_list[start:end])
