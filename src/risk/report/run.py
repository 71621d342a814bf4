"""What the report reads from the registry: one model version and its training run.

:func:`load_run` gathers, for a registry URI or a bundle folder, the verified bundle, the
version's description (name, version, aliases, tags), the evaluation and group tables,
the figures and the configuration logged with the run. Nothing is computed here: the
sections read a :class:`RunRecord` and never talk to MLflow themselves.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from risk.bundle import ModelBundle
from risk.registry import (
    CONFIG_PATH,
    EVALUATION_PATH,
    FIGURES_PATH,
    ModelDescription,
    Registry,
    RegistryError,
)

#: Code of the RegistryError raised for a bare bundle folder.
NEEDS_REGISTERED_MODEL = "report_needs_registered_model"
#: Message of that error: the report needs the run's tables, not only the bundle.
NO_RUN = (
    "{model} is a bundle folder, not a registered version: the report reads the evaluation "
    "and group tables of its training run; pass models:/arrears-risk@<alias> or /<version>"
)
#: Optional artifact of a run: the out-of-time predictions, to redraw figures in French.
PREDICTIONS_FILE = "predictions.parquet"
#: Figures a training run logs, in the order the report shows them.
RUN_FIGURES = ("roc.png", "reliability.png", "capture.png")


@dataclass
class RunRecord:
    """One registered model version and what its training run recorded.

    Attributes
    ----------
    model_uri
        The URI the report was asked for.
    description
        Registry description of the version (aliases, run id, tags, creation time).
    bundle
        The verified model bundle.
    evaluation, groups
        The run's evaluation and group tables.
    figures
        PNG bytes of the run's figures by file name.
    config
        The training configuration as logged with the run (the manifest's copy when the
        run has no configuration file).
    predictions
        The run's out-of-time predictions when it logged them, else None.
    """

    model_uri: str
    description: ModelDescription
    bundle: ModelBundle
    evaluation: pd.DataFrame
    groups: pd.DataFrame
    figures: dict[str, bytes] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)
    predictions: pd.DataFrame | None = None

    @property
    def manifest(self) -> dict[str, Any]:
        """The bundle's manifest (a copy)."""
        return self.bundle.manifest


def _alias_or_version(model: str) -> str:
    # models:/arrears-risk@champion -> "champion"; models:/arrears-risk/3 -> "3".
    if "@" in model:
        return model.rsplit("@", 1)[-1]
    return model.rstrip("/").rsplit("/", 1)[-1]


def load_run(registry: Registry, model: str) -> RunRecord:
    """Read a registered version, its bundle and its training run's artifacts.

    Parameters
    ----------
    registry
        The registry holding the model.
    model
        ``models:/arrears-risk@<alias>`` or ``models:/arrears-risk/<version>``.

    Returns
    -------
    RunRecord

    Raises
    ------
    RegistryError
        When the version, alias or run's tables cannot be found;
        :data:`NEEDS_REGISTERED_MODEL` for a bundle folder.
    BundleError
        When the bundle fails its checks.
    """
    if not str(model).startswith("models:"):
        raise RegistryError(NEEDS_REGISTERED_MODEL, NO_RUN.format(model=model))
    wanted = _alias_or_version(str(model))
    description = registry.describe(wanted)
    bundle = ModelBundle.load(registry.resolve(model))
    evaluation, groups = registry.evaluation(wanted)
    record = RunRecord(str(model), description, bundle, evaluation, groups)
    record.config = dict(bundle.manifest.get("config") or {})
    if description.run_id:
        _read_artifacts(registry, description.run_id, record)
    return record


def _read_artifacts(registry: Registry, run_id: str, record: RunRecord) -> None:
    """Fill the figures, configuration and (optional) predictions of the run."""
    client = registry.client
    with tempfile.TemporaryDirectory(prefix="risk-report-") as tmp:
        folders = {}
        for path in (FIGURES_PATH, CONFIG_PATH, EVALUATION_PATH):
            try:
                folders[path] = Path(client.download_artifacts(run_id, path, tmp))
            except Exception:
                continue  # a run without figures or configuration still gets its report
        figures = folders.get(FIGURES_PATH)
        if figures is not None:
            record.figures = {
                name: (figures / name).read_bytes()
                for name in RUN_FIGURES
                if (figures / name).is_file()
            }
        config = folders.get(CONFIG_PATH)
        for file in sorted(config.glob("*.y*ml")) if config is not None else ():
            loaded = yaml.safe_load(file.read_text(encoding="utf-8"))
            if isinstance(loaded, dict):
                record.config = loaded
                break
        # A run may log its predictions beside the tables (risk train does not yet):
        # with them the figures are redrawn in the report's language.
        evaluation = folders.get(EVALUATION_PATH)
        if evaluation is not None and (evaluation / PREDICTIONS_FILE).is_file():
            record.predictions = pd.read_parquet(evaluation / PREDICTIONS_FILE)
