"""Column mapping: how one landlord's export names its files, columns and codes.

Exports rarely use the contract's names: the tenancy file is ``baux.csv``, the entry
date is ``Date d'entrée`` and the guarantee is ``LOCA-PASS``. Rather than asking a
team to edit its files (and redo it every month), a YAML mapping says, table by table,
which file to read and how its headers and local codes translate to the contract. The
left-hand side is always what the export contains, the right-hand side the contract::

    encoding: latin-1          # optional: utf-8, latin-1 or cp1252
    delimiter: ";"             # optional: detected from the header line otherwise
    decimal: ","               # optional: decimal separator of amounts ("," or ".")
    tables:
      tenancies:
        file: baux.csv
        columns:
          N° bail: tenancy_id
          Date d'entrée: start_date
        codes:
          guarantee:
            LOCA-PASS: action_logement
            AUCUNE: none

Export columns mapped to a name outside the contract are kept as extra columns.
Values with no entry under ``codes`` pass through unchanged, so an export that already
uses contract codes needs none. See ``docs/data-contract.md`` and
``examples/mapping-fr.yaml``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping as MappingABC
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from risk.contract import TABLES, Table
from risk.formats import BOOL_WORDS, DECIMAL_SEPARATORS

#: Spellings accepted for ``encoding``, with the codec used for each.
ENCODINGS = {
    "utf-8": "utf-8",
    "utf8": "utf-8",
    "latin-1": "latin-1",
    "latin1": "latin-1",
    "iso-8859-1": "latin-1",
    "cp1252": "cp1252",
    "windows-1252": "cp1252",
}
#: Field delimiters accepted in CSV files (and detected when none is declared).
DELIMITERS = (";", ",", "\t", "|")

_TOP_KEYS = {"encoding", "delimiter", "decimal", "tables"}
_TABLE_KEYS = {"file", "columns", "codes"}


class MappingError(ValueError):
    """The mapping file itself is wrong (unknown table, code or key); says where."""


@dataclass(frozen=True)
class TableMapping:
    """How one export file maps to one contract table.

    Parameters
    ----------
    file
        File name inside the export folder; ``None`` means ``<table>.csv`` or
        ``<table>.parquet``.
    columns
        Export header -> contract column (or the name under which to keep an extra).
    codes
        Contract column -> {local code -> contract code}.
    """

    file: str | None = None
    columns: dict[str, str] = field(default_factory=dict)
    codes: dict[str, dict[str, str]] = field(default_factory=dict)

    def export_header(self, column: str) -> str | None:
        """Return the export header mapped to ``column``, if the mapping names one."""
        for header, target in self.columns.items():
            if target == column:
                return header
        return None

    def rename(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Return ``frame`` with its export headers renamed to contract names."""
        return frame.rename(columns=self.columns) if self.columns else frame

    def recode(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Return ``frame`` with local codes replaced by contract codes.

        Values without an entry are left as they are, so that validation can report
        them with the value the export really holds.
        """
        present = {c: m for c, m in self.codes.items() if c in frame.columns}
        if not present:
            return frame
        out = frame.copy()
        for column, codes in present.items():
            values = out[column]
            if not (pd.api.types.is_string_dtype(values) or values.dtype == object):
                values = values.astype("str")
            # Series.replace keeps unmapped values, unlike Series.map.
            out[column] = values.replace(codes)
        return out


@dataclass(frozen=True)
class Mapping:
    """A whole export mapping: reading options and one :class:`TableMapping` per table.

    Parameters
    ----------
    encoding
        Codec of the CSV files when they are not UTF-8 (see :data:`ENCODINGS`).
    delimiter
        CSV field delimiter; detected from each header line when ``None``.
    decimal
        Decimal separator of amounts (``","`` or ``"."``); when ``None``, an amount such
        as ``1.234`` that reads both ways is refused as ambiguous.
    tables
        Table name -> its mapping; tables not listed use contract names.
    source
        Where the mapping was read from, for messages.
    """

    encoding: str | None = None
    delimiter: str | None = None
    decimal: str | None = None
    tables: dict[str, TableMapping] = field(default_factory=dict)
    source: str = "<mapping>"

    def table(self, name: str) -> TableMapping:
        """Return the mapping of table ``name`` (an identity mapping if not listed)."""
        return self.tables.get(name, TableMapping())


def load_mapping(path: str | os.PathLike[str]) -> Mapping:
    """Read and check a YAML mapping file.

    Parameters
    ----------
    path
        The YAML file (UTF-8).

    Returns
    -------
    Mapping
        The parsed mapping.

    Raises
    ------
    MappingError
        If the file cannot be read or names an unknown table, column kind or code.
    """
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise MappingError(f"{path}: cannot read the mapping: {exc}") from exc
    return parse_mapping(data if data is not None else {}, source=str(path))


def parse_mapping(data: Any, source: str = "<mapping>") -> Mapping:
    """Build a :class:`Mapping` from already-parsed YAML (a dict).

    Parameters
    ----------
    data
        The mapping as loaded by ``yaml.safe_load``.
    source
        Name used in error messages.

    Returns
    -------
    Mapping
        The checked mapping.

    Raises
    ------
    MappingError
        On any unknown key, table, code column or contract code.
    """
    top = _as_dict(data, source)
    _refuse_unknown_keys(top, _TOP_KEYS, source)
    encoding = top.get("encoding")
    if encoding is not None:
        if str(encoding).lower() not in ENCODINGS:
            raise MappingError(
                f"{source}: encoding {encoding!r} is not one of {sorted(set(ENCODINGS))}"
            )
        encoding = ENCODINGS[str(encoding).lower()]
    delimiter = top.get("delimiter")
    if delimiter is not None and delimiter not in DELIMITERS:
        raise MappingError(f"{source}: delimiter {delimiter!r} is not one of {DELIMITERS}")
    decimal = top.get("decimal")
    if decimal is not None and decimal not in DECIMAL_SEPARATORS:
        raise MappingError(f"{source}: decimal {decimal!r} is not one of {DECIMAL_SEPARATORS}")
    tables: dict[str, TableMapping] = {}
    for name, spec in _as_dict(top.get("tables") or {}, f"{source}: tables").items():
        if name not in TABLES:
            raise MappingError(f"{source}: unknown table {name!r}; tables are {list(TABLES)}")
        tables[name] = _table_mapping(TABLES[name], spec, f"{source}: tables.{name}")
    return Mapping(
        encoding=encoding, delimiter=delimiter, decimal=decimal, tables=tables, source=source
    )


def _table_mapping(table: Table, spec: Any, where: str) -> TableMapping:
    spec = _as_dict(spec or {}, where)
    _refuse_unknown_keys(spec, _TABLE_KEYS, where)
    file = spec.get("file")
    if file is not None and not isinstance(file, str):
        raise MappingError(f"{where}.file must be a file name")
    columns = _string_pairs(spec.get("columns") or {}, f"{where}.columns")
    targets = list(columns.values())
    doubled = sorted({t for t in targets if targets.count(t) > 1})
    if doubled:
        raise MappingError(f"{where}.columns maps several export columns to {doubled}")
    codes: dict[str, dict[str, str]] = {}
    for column, local in _as_dict(spec.get("codes") or {}, f"{where}.codes").items():
        codes[column] = _code_mapping(table, column, local, f"{where}.codes.{column}")
    return TableMapping(file=file, columns=columns, codes=codes)


def _code_mapping(table: Table, column: str, local: Any, where: str) -> dict[str, str]:
    if column not in table.column_names:
        raise MappingError(f"{where}: {column!r} is not a column of table {table.name!r}")
    spec = table.column(column)
    if spec.kind not in ("code", "bool"):
        raise MappingError(f"{where}: {column!r} holds {spec.kind} values, not codes")
    # YAML reads unquoted yes/no/true/false as booleans; for a bool column they are fine.
    local = {
        k: (str(v).lower() if isinstance(v, bool) and spec.kind == "bool" else v)
        for k, v in _as_dict(local, where).items()
    }
    pairs = _string_pairs(local, where)
    allowed = set(spec.codes) if spec.kind == "code" else set(BOOL_WORDS)
    for code, target in pairs.items():
        if (target.lower() if spec.kind == "bool" else target) not in allowed:
            raise MappingError(
                f"{where}: {code!r} maps to {target!r}, which is not one of {sorted(allowed)}"
            )
    return pairs


def _string_pairs(data: Any, where: str) -> dict[str, str]:
    pairs = _as_dict(data, where)
    for key, value in pairs.items():
        # YAML turns 01 into 1 and yes into True: refuse rather than silently miss a code.
        if not isinstance(key, str) or not isinstance(value, str):
            raise MappingError(
                f"{where}: {key!r}: {value!r} must be text; quote values YAML reads as "
                "numbers or booleans (e.g. '01', 'yes')"
            )
    return {k.strip(): v.strip() for k, v in pairs.items()}


def _as_dict(data: Any, where: str) -> dict[Any, Any]:
    if not isinstance(data, MappingABC):
        raise MappingError(f"{where}: expected a mapping of keys to values, got {data!r}")
    return dict(data)


def _refuse_unknown_keys(data: dict[Any, Any], allowed: set[str], where: str) -> None:
    unknown = sorted(str(k) for k in set(data) - allowed)
    if unknown:
        raise MappingError(f"{where}: unknown keys {unknown}; allowed are {sorted(allowed)}")
