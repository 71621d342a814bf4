"""What a written simulation keeps so that it can be replayed: its configuration.

The simulator is a function of its configuration and seed, so a written export carries
``truth/simulation.json``: the whole :class:`~risk.simulation.config.SimulationConfig`
(every parameter, not only those changed), a digest of the drawn population and the
row counts. :func:`read_manifest` rebuilds the configuration; the oracle
(:func:`risk.simulation.rollout.oracle`) replays the run from it and checks the digest,
which catches a simulator whose code changed since the export was written.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from risk.simulation.config import SimulationConfig
from risk.simulation.state import State

#: File of a written simulation holding its configuration, beside the truth table.
MANIFEST = "simulation.json"
#: Version of the manifest layout.
MANIFEST_FORMAT = 1
#: Static attributes drawn with the population, hashed to recognise a run.
_DIGEST_FIELDS = ("rtype", "residence", "start_day", "birth_year", "propensity", "reachability")


def to_jsonable(value: Any) -> Any:
    """Convert a configuration (nested frozen dataclasses, tuples, mappings) to JSON types."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return [to_jsonable(v) for v in value]
    return value


def from_jsonable(tp: Any, value: Any) -> Any:
    """Rebuild a value of annotation ``tp`` from its JSON form (inverse of :func:`to_jsonable`)."""
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        hints = typing.get_type_hints(tp)
        known = {f.name for f in dataclasses.fields(tp)}
        unknown = set(value) - known
        if unknown:
            raise ValueError(f"{tp.__name__}: unknown fields {sorted(unknown)}")
        return tp(**{k: from_jsonable(hints[k], v) for k, v in value.items()})
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(from_jsonable(args[0], v) for v in value)
        return tuple(from_jsonable(a, v) for a, v in zip(args, value, strict=True))
    if origin in (Mapping, dict):
        return types.MappingProxyType({k: from_jsonable(args[1], v) for k, v in value.items()})
    return value


def population_digest(state: State) -> str:
    """Hash of the attributes drawn with the population (identical for a replayed run)."""
    h = hashlib.sha256()
    for name in _DIGEST_FIELDS:
        h.update(np.ascontiguousarray(getattr(state, name)).tobytes())
    return h.hexdigest()[:32]


def manifest(config: SimulationConfig, state: State, rows: Mapping[str, int]) -> dict[str, Any]:
    """Return the manifest of a run: format, configuration, population digest, row counts."""
    return {
        "format": MANIFEST_FORMAT,
        "config": to_jsonable(config),
        "population_digest": population_digest(state),
        "rows": dict(rows),
    }


def write_manifest(path: Path, content: Mapping[str, Any]) -> None:
    """Write a manifest as indented JSON (stable bytes for a given run)."""
    path.write_text(json.dumps(content, indent=2, sort_keys=False) + "\n", encoding="utf-8")


def read_manifest(directory: str | Path) -> tuple[SimulationConfig, dict[str, Any]]:
    """Read ``truth/simulation.json`` of a written simulation.

    Parameters
    ----------
    directory
        Folder written by :meth:`risk.simulation.Simulation.write`.

    Returns
    -------
    config, manifest
        The configuration the simulation was drawn with, and the whole manifest.
    """
    from risk.simulation import TRUTH_DIR

    path = Path(directory) / TRUTH_DIR / MANIFEST
    if not path.exists():
        raise FileNotFoundError(
            f"{path} not found: {directory} was not written by Simulation.write "
            "(or by a version that did not record its configuration)"
        )
    content = json.loads(path.read_text(encoding="utf-8"))
    if content.get("format") != MANIFEST_FORMAT:
        raise ValueError(f"{path}: unknown manifest format {content.get('format')!r}")
    return from_jsonable(SimulationConfig, content["config"]), content
