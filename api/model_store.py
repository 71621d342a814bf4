"""The model the service scores with, and its atomic replacement.

The store holds one :class:`ServedModel`: a verified :class:`~risk.bundle.ModelBundle`
with the name, version and alias it was loaded under. A request reads
:attr:`ModelStore.current` once, at its start, and uses that object to the end, so a
reload never mixes two versions inside one answer. :meth:`ModelStore.load` resolves and
verifies the new bundle beside the one in service (checksums, features, catalogue) and
only then replaces the reference, in one assignment: a request in flight keeps the old
model, the next one gets the new, and a bundle that fails its checks never serves.
"""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from risk.bundle import ModelBundle
from risk.manifest import MANIFEST_FILE, sha256
from risk.registry import MODEL_URI, Registry

#: Error raised when no model is loaded (the service is not ready).
NO_MODEL = "no model is loaded: the service is not ready (see GET /readyz)"


@dataclass(frozen=True)
class ServedModel:
    """A verified bundle and how it was asked for.

    Attributes
    ----------
    bundle
        The model.
    name
        Registered model name (``arrears-risk``), or the manifest's for a folder.
    version
        Registry version number as text, or ``sha256:<first 12 hex>`` of the manifest for
        a bundle folder outside the registry.
    alias
        The alias it was loaded by (``champion``), None otherwise.
    uri
        What was asked for: a ``models:/`` URI or a folder.
    loaded_at
        When it was loaded and verified (UTC).
    """

    bundle: ModelBundle
    name: str
    version: str
    alias: str | None
    uri: str
    loaded_at: dt.datetime

    def identity(self) -> dict[str, Any]:
        """Name, version and alias, as every scoring answer carries them."""
        return {"name": self.name, "version": self.version, "alias": self.alias}


class ModelStore:
    """Load, verify and swap the served model.

    Parameters
    ----------
    tracking_root
        Folder of the MLflow registry used for ``models:/`` URIs.
    tracking_uri
        Another MLflow tracking URI, if any.
    """

    def __init__(self, tracking_root: str | Path, tracking_uri: str | None = None) -> None:
        self.tracking_root = Path(tracking_root)
        self.tracking_uri = tracking_uri
        self._current: ServedModel | None = None
        # Two reloads at once would both verify and the slower would win; one at a time.
        self._reload_lock = threading.Lock()

    @property
    def current(self) -> ServedModel | None:
        """The model in service, or None before the first successful load."""
        return self._current

    def load(self, uri: str) -> ServedModel:
        """Resolve, verify and put into service the model at ``uri``.

        Parameters
        ----------
        uri
            ``models:/<name>@<alias>``, ``models:/<name>/<version>`` or a bundle folder.

        Returns
        -------
        ServedModel
            The model now in service.

        Raises
        ------
        risk.registry.RegistryError
            The URI names no model, alias or version.
        risk.bundle.BundleError
            The bundle fails its checks; the model in service is unchanged.
        """
        with self._reload_lock:
            served = self._resolve(uri)
            self._current = served
            return served

    def _resolve(self, uri: str) -> ServedModel:
        # A folder needs no registry; Registry.resolve returns it as is.
        folder = Registry(self.tracking_root, tracking_uri=self.tracking_uri).resolve(uri)
        bundle = ModelBundle.load(folder)
        described = bundle.describe()
        match = MODEL_URI.match(uri)
        if match is not None:
            # The registry caches each version under <root>/bundles/<name>/<version>.
            name, version, alias = match["name"], folder.name, match["alias"]
        else:
            # The manifest holds every file's hash, the bands and the calibration: two
            # bundles of the same trees with other thresholds are two versions.
            name = str(described.get("model_name", "arrears-risk"))
            version = "sha256:" + sha256((folder / MANIFEST_FILE).read_bytes())[:12]
            alias = None
        return ServedModel(
            bundle=bundle,
            name=name,
            version=version,
            alias=alias,
            uri=uri,
            loaded_at=dt.datetime.now(dt.UTC),
        )
