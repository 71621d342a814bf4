"""Reading a landlord's export folder into the contract tables.

An export is a folder with one file per contract table (``tenancies``, ``incomes``,
``apl``, ``ledger`` and, optionally, ``support``), each a CSV or Parquet file. CSV files
may be UTF-8 or Latin-1 (or Windows-1252 when the mapping says so), separated by
commas or semicolons, with French number and date formats (see :mod:`risk.formats`).
A YAML mapping (:mod:`risk.mapping`) translates file names, headers and local codes.

:func:`read_portfolio` reads and checks everything and returns a typed
:class:`~risk.portfolio.Portfolio`, or raises :class:`ContractViolation` carrying the
report of every problem; :func:`risk.validation.validate_directory` returns that report
without raising.
"""

from __future__ import annotations

import codecs
import csv
import io
import os
import re
from pathlib import Path

import pandas as pd

from risk.contract import TABLES, Table
from risk.mapping import DELIMITERS, Mapping, MappingError, TableMapping, load_mapping
from risk.portfolio import Portfolio
from risk.problems import (
    EXPORT,
    MAPPING,
    ContractViolation,
    ValidationReport,
    concat_problems,
    file_problem,
    sort_problems,
)
from risk.sensitive import sensitive_category
from risk.validation import (
    DUPLICATE_COLUMN,
    DUPLICATE_TABLE,
    EMPTY_FILE,
    INVALID_MAPPING,
    MISSING_DIRECTORY,
    MISSING_TABLE,
    SENSITIVE_COLUMN,
    UNDECODABLE_BYTES,
    UNREADABLE_FILE,
    check_tables,
)

__all__ = [
    "ContractViolation",
    "UnreadableFileError",
    "decode_text",
    "read_and_check",
    "read_portfolio",
    "read_table_file",
]

#: File suffixes read as CSV and as Parquet when the mapping names no file.
CSV_SUFFIXES = (".csv", ".txt", ".tsv")
PARQUET_SUFFIXES = (".parquet", ".pq")

MappingLike = Mapping | str | os.PathLike[str] | None

# Bytes 0x80-0x9F are C1 control characters in Latin-1, never text: a file holding
# them is Windows-1252 or binary, and decoding it as Latin-1 would silently garble it.
_C1_CONTROLS = re.compile(rb"[\x80-\x9f]")


class UnreadableFileError(Exception):
    """A file cannot be turned into a table; carries the report's rule and details."""

    def __init__(self, rule: str, value: str | None = None, detail: str = "") -> None:
        super().__init__(f"{rule}: {detail}" if detail else rule)
        self.rule = rule
        self.value = value
        self.detail = detail


def read_portfolio(path: str | os.PathLike[str], mapping: MappingLike = None) -> Portfolio:
    """Read an export folder into a typed, validated portfolio.

    Parameters
    ----------
    path
        The export folder, one file per table.
    mapping
        A :class:`~risk.mapping.Mapping`, the path of a YAML mapping file, or ``None``.

    Returns
    -------
    Portfolio
        Tables with the dtypes documented in :mod:`risk.portfolio`; export columns
        outside the contract are kept after the contract columns.

    Raises
    ------
    ContractViolation
        If validation found any problem; its ``report`` lists them all.
    """
    report, typed = read_and_check(path, mapping)
    if not report.ok:
        raise ContractViolation(report)
    return Portfolio.from_frames(**{name: typed.get(name) for name in TABLES})  # type: ignore[arg-type]


def decode_text(data: bytes, declared: str | None = None) -> tuple[str, str]:
    """Decode a CSV file's bytes, refusing what is not text.

    UTF-8 (with or without BOM) is tried first. Otherwise the declared encoding is
    used; with none declared, Latin-1 is accepted only if the file holds no byte in
    0x80-0x9F, which are control characters in Latin-1 and never text.

    Parameters
    ----------
    data
        The file's bytes.
    declared
        Codec declared by the mapping (``latin-1``, ``cp1252``, ``utf-8``) or ``None``.

    Returns
    -------
    text : str
        The decoded text.
    encoding : str
        The codec used.

    Raises
    ------
    UnreadableFileError
        With rule :data:`~risk.validation.UNDECODABLE_BYTES`, the byte as value and its
        offset (and line) in the detail.
    """
    nul = data.find(b"\x00")
    if nul >= 0:
        raise _undecodable(data, nul, "a NUL byte: UTF-16 or binary data, not a text export")
    bom = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
    try:
        return data[bom:].decode("utf-8"), "utf-8"
    except UnicodeDecodeError as exc:
        bad = exc.start + bom
    if declared is not None and declared != "utf-8":
        try:
            return data.decode(declared), declared
        except UnicodeDecodeError as exc:
            raise _undecodable(data, exc.start, f"not valid {declared}") from None
    if declared is not None:
        raise _undecodable(data, bad, "not valid UTF-8, the declared encoding")
    control = _C1_CONTROLS.search(data)
    if control is None:
        return data.decode("latin-1"), "latin-1"
    raise _undecodable(
        data,
        bad,
        f"not valid UTF-8, and byte 0x{data[control.start()]:02X} at offset {control.start()} "
        "is a control character in Latin-1; if the export is Windows-1252, declare "
        "'encoding: cp1252' in the mapping",
    )


def read_table_file(path: Path, mapping: Mapping | None = None) -> tuple[pd.DataFrame, str]:
    """Read one export file as it is: its own headers, text stripped, empty as missing.

    Parameters
    ----------
    path
        A CSV or Parquet file (by suffix: ``.parquet``/``.pq`` are Parquet).
    mapping
        Gives the declared encoding and delimiter, if any.

    Returns
    -------
    frame : pandas.DataFrame
        CSV columns as ``str``; Parquet columns with their stored types.
    source : str
        A description of what was read, for the report.

    Raises
    ------
    UnreadableFileError
        If the file is empty, not text, or not parseable.
    """
    mapping = mapping or Mapping()
    if path.suffix.lower() in PARQUET_SUFFIXES:
        try:
            frame = pd.read_parquet(path)
        except Exception as exc:  # pyarrow raises many types for a corrupt file
            raise UnreadableFileError(UNREADABLE_FILE, path.name, str(exc)) from None
        frame.columns = [str(c).strip() for c in frame.columns]
        return _clean_text(frame), f"{path.name} (Parquet, {len(frame)} rows)"
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UnreadableFileError(UNREADABLE_FILE, path.name, str(exc)) from None
    text, encoding = decode_text(data, mapping.encoding)
    if not text.strip():
        raise UnreadableFileError(EMPTY_FILE, path.name, "no header and no data")
    # Only the first line: splitting a 50 MB export into lines would cost seconds.
    header_line = text.lstrip("\r\n").partition("\n")[0].rstrip("\r")
    delimiter = mapping.delimiter or _sniff_delimiter(header_line)
    try:
        frame = pd.read_csv(
            io.StringIO(text),
            sep=delimiter,
            dtype=str,
            keep_default_na=False,
            na_filter=False,
            index_col=False,
        )
    except (pd.errors.ParserError, ValueError) as exc:
        raise UnreadableFileError(UNREADABLE_FILE, path.name, str(exc).strip()) from None
    # pandas renames repeated headers (a, a.1): take them from the file to see repeats.
    headers = [h.strip() for h in next(csv.reader([header_line], delimiter=delimiter))]
    if len(headers) == frame.shape[1]:
        frame.columns = headers
    frame = _clean_text(frame)
    unnamed = [i for i, h in enumerate(frame.columns) if h == ""]
    # Spreadsheets often end each line with a delimiter: an empty, unnamed column.
    empty = {i for i in unnamed if frame.iloc[:, i].isna().all()}
    frame.columns = [h or f"unnamed_{i + 1}" for i, h in enumerate(frame.columns)]
    frame = frame.iloc[:, [i for i in range(frame.shape[1]) if i not in empty]]
    source = f"{path.name} (CSV, {encoding}, delimiter {delimiter!r}, {len(frame)} rows)"
    return frame, source


def read_and_check(
    path: str | os.PathLike[str], mapping: MappingLike = None
) -> tuple[ValidationReport, dict[str, pd.DataFrame]]:
    """Read every table of an export folder and check it against the contract.

    Parameters
    ----------
    path
        The export folder.
    mapping
        A mapping, the path of a YAML mapping file, or ``None``.

    Returns
    -------
    report : ValidationReport
        Every problem found, including a bad mapping or a missing folder.
    typed : dict of pandas.DataFrame
        Tables read, with portfolio dtypes; to be trusted only if ``report.ok``.
    """
    directory = Path(path)
    try:
        resolved = _resolve_mapping(mapping)
    except MappingError as exc:
        problems = file_problem(MAPPING, INVALID_MAPPING, detail=str(exc))
        return ValidationReport(problems, directory=str(directory)), {}
    if not directory.is_dir():
        problems = file_problem(EXPORT, MISSING_DIRECTORY, value=str(directory))
        return ValidationReport(problems, directory=str(directory)), {}
    files = sorted(p for p in directory.iterdir() if p.is_file())
    frames: dict[str, pd.DataFrame] = {}
    found: list[pd.DataFrame] = []
    sources: dict[str, str] = {}
    headers: dict[str, dict[str, str]] = {}
    for table in TABLES.values():
        plan = resolved.table(table.name)
        headers[table.name] = {target: header for header, target in plan.columns.items()}
        candidates = _table_files(directory, files, table, plan)
        if len(candidates) != 1:
            if candidates:
                names = ", ".join(p.name for p in candidates)
                found.append(file_problem(table.name, DUPLICATE_TABLE, value=names))
            elif not table.optional:
                found.append(
                    file_problem(table.name, MISSING_TABLE, detail=_looked_for(table, plan))
                )
            continue
        try:
            raw, sources[table.name] = read_table_file(candidates[0], resolved)
        except UnreadableFileError as exc:
            found.append(file_problem(table.name, exc.rule, value=exc.value, detail=exc.detail))
            continue
        frames[table.name], column_problems = _to_contract_names(table, raw, plan)
        found.append(column_problems)
    problems, typed = check_tables(frames, decimal=resolved.decimal)
    found.append(problems)
    report = ValidationReport(
        sort_problems(concat_problems(found)),
        directory=str(directory) + (f" (mapping: {resolved.source})" if mapping else ""),
        sources=sources,
        headers={t: h for t, h in headers.items() if h},
    )
    return report, typed


def _resolve_mapping(mapping: MappingLike) -> Mapping:
    if mapping is None:
        return Mapping()
    if isinstance(mapping, Mapping):
        return mapping
    return load_mapping(mapping)


def _table_files(
    directory: Path, files: list[Path], table: Table, plan: TableMapping
) -> list[Path]:
    if plan.file is not None:
        path = directory / plan.file
        return [path] if path.is_file() else []
    suffixes = CSV_SUFFIXES + PARQUET_SUFFIXES
    return [p for p in files if p.stem.lower() == table.name and p.suffix.lower() in suffixes]


def _looked_for(table: Table, plan: TableMapping) -> str:
    if plan.file is not None:
        return f"looked for {plan.file!r} (named in the mapping)"
    return f"looked for {table.name}.csv or {table.name}.parquet"


def _to_contract_names(
    table: Table, raw: pd.DataFrame, plan: TableMapping
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Refuse sensitive columns, rename headers and codes to the contract's."""
    problems = []
    keep = []
    for position, header in enumerate(raw.columns):
        target = plan.columns.get(header, header)
        category = sensitive_category(header) or sensitive_category(target)
        if category is None:
            keep.append(position)
        else:
            problems.append(
                file_problem(table.name, SENSITIVE_COLUMN, column=header, detail=category)
            )
    frame = plan.rename(raw.iloc[:, keep])
    repeated = frame.columns.duplicated()
    for name in dict.fromkeys(frame.columns[repeated]):
        problems.append(file_problem(table.name, DUPLICATE_COLUMN, column=str(name)))
    frame = plan.recode(frame.loc[:, ~repeated])
    return frame, concat_problems(problems)


def _sniff_delimiter(header_line: str) -> str:
    counts = {d: header_line.count(d) for d in DELIMITERS}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _clean_text(frame: pd.DataFrame) -> pd.DataFrame:
    """Strip text cells (incl. no-break spaces) and make empty ones missing."""
    out = {}
    for position in range(frame.shape[1]):
        column = frame.iloc[:, position]
        if pd.api.types.is_string_dtype(column) or column.dtype == object:
            stripped = column.str.strip() if pd.api.types.is_string_dtype(column) else column
            column = stripped.where(stripped != "")
        out[position] = column
    cleaned = pd.DataFrame(out, index=frame.index)
    cleaned.columns = frame.columns
    return cleaned


def _undecodable(data: bytes, offset: int, why: str) -> UnreadableFileError:
    line = data.count(b"\n", 0, offset) + 1
    return UnreadableFileError(
        UNDECODABLE_BYTES,
        value=f"0x{data[offset]:02X}",
        detail=f"at byte offset {offset} (line {line}): {why}",
    )
