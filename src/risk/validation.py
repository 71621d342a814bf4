"""Checking an export against the data contract.

Checks run on whole columns: two pandera schemas per table are built from the
contract specifications (:mod:`risk.contract`) and run with ``lazy=True`` so that every
failure is collected, not only the first. The first schema looks at the values as read
(is a value present, does it parse as its kind), the second at the parsed values
(ranges, codes, keys, date order). Rows for an unknown tenancy are found with a merge.
Reading the files is :mod:`risk.ingestion`'s job; :func:`validate_directory` runs both.

Every message is a constant of this module so that tests, documentation and callers
can match it exactly; a problem's ``rule`` is one of them.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import pandas as pd

from risk.contract import (
    MAX_BIRTH_YEAR,
    MAX_CHILDREN,
    MIN_BIRTH_YEAR,
    TABLES,
    TENANCIES,
    Table,
)
from risk.formats import AMBIGUOUS_DOT, EXPECTED, ambiguous_amounts, parse_values, typed_column
from risk.pandera_loader import SchemaErrors
from risk.pandera_loader import pandera as pa
from risk.problems import (
    ContractViolation,
    Problem,
    ValidationReport,
    concat_problems,
    file_problem,
    problems_frame,
    sort_problems,
)

if TYPE_CHECKING:
    from risk.mapping import Mapping

__all__ = [
    "ABSURD_AMOUNT",
    "ABSURD_BIRTH_YEAR",
    "ABSURD_CHILDREN",
    "DATES_OUT_OF_ORDER",
    "DUPLICATE_COLUMN",
    "DUPLICATE_KEY",
    "DUPLICATE_TABLE",
    "EMPTY_FILE",
    "INVALID_MAPPING",
    "MISSING_COLUMN",
    "MISSING_DIRECTORY",
    "MISSING_TABLE",
    "MISSING_VALUE",
    "NEGATIVE_AMOUNT",
    "SENSITIVE_COLUMN",
    "UNDECODABLE_BYTES",
    "UNKNOWN_CODE",
    "UNKNOWN_TENANCY",
    "UNPARSEABLE_DATE",
    "UNREADABLE_FILE",
    "WRONG_TYPE",
    "ZERO_AMOUNT",
    "ContractViolation",
    "Problem",
    "ValidationReport",
    "check_tables",
    "validate_directory",
]

# --- Messages. A problem's ``rule`` is one of these texts. --------------------------
MISSING_DIRECTORY = "export folder not found"
INVALID_MAPPING = "mapping file is invalid"
MISSING_TABLE = "required table is missing"
DUPLICATE_TABLE = "several files found for one table"
EMPTY_FILE = "file has no data rows"
UNDECODABLE_BYTES = "file has bytes that are not text in UTF-8 or the declared encoding"
UNREADABLE_FILE = "file cannot be read as CSV or Parquet"
SENSITIVE_COLUMN = (
    "column refused: its name points to special-category personal data (GDPR art. 9), "
    "which must not be used to score tenants; remove it from the export"
)
DUPLICATE_COLUMN = "column appears more than once"
MISSING_COLUMN = "required column is missing"
MISSING_VALUE = "value is missing"
WRONG_TYPE = "value does not have the column's type"
UNPARSEABLE_DATE = "date cannot be read (expected YYYY-MM-DD or DD/MM/YYYY)"
NEGATIVE_AMOUNT = "amount is negative"
#: Only for columns that must be above zero (``monthly_rent``, ledger ``amount``): a
#: zero rent makes the residual rent zero and any debt "arrears"; a zero transaction
#: carries nothing. A negative value is reported as ``NEGATIVE_AMOUNT`` instead.
ZERO_AMOUNT = "amount is zero, but this column must be above zero"
#: Each money column has its own cap (``risk.contract.MAX_*_EUR``), given in the detail.
ABSURD_AMOUNT = "amount is above the column's plausibility cap, which is absurd for one row"
ABSURD_BIRTH_YEAR = f"birth year is outside {MIN_BIRTH_YEAR}-{MAX_BIRTH_YEAR}"
ABSURD_CHILDREN = f"number of children is negative or above {MAX_CHILDREN}"
UNKNOWN_CODE = "code is not one of the contract's codes (map local codes in the mapping)"
DUPLICATE_KEY = "key is not unique: another row has the same key"
#: Template: format with the contract's ``later`` and ``earlier`` column names.
DATES_OUT_OF_ORDER = "{later} is before {earlier}"
UNKNOWN_TENANCY = "row for a tenancy that is not in the tenancies table"

#: Every message, for documentation and tests that must cover them all.
MESSAGES = (
    MISSING_DIRECTORY,
    INVALID_MAPPING,
    MISSING_TABLE,
    DUPLICATE_TABLE,
    EMPTY_FILE,
    UNDECODABLE_BYTES,
    UNREADABLE_FILE,
    SENSITIVE_COLUMN,
    DUPLICATE_COLUMN,
    MISSING_COLUMN,
    MISSING_VALUE,
    WRONG_TYPE,
    UNPARSEABLE_DATE,
    NEGATIVE_AMOUNT,
    ZERO_AMOUNT,
    ABSURD_AMOUNT,
    ABSURD_BIRTH_YEAR,
    ABSURD_CHILDREN,
    UNKNOWN_CODE,
    DUPLICATE_KEY,
    DATES_OUT_OF_ORDER,
    UNKNOWN_TENANCY,
)
# pandera names its built-in checks itself; give them this module's messages.
_PANDERA_RULES = {"not_nullable": MISSING_VALUE}


def validate_directory(
    path: str | os.PathLike[str], mapping: Mapping | str | os.PathLike[str] | None = None
) -> ValidationReport:
    """Check an export folder against the data contract, reporting every problem.

    Parameters
    ----------
    path
        The export folder, one file per table (see ``docs/data-contract.md``).
    mapping
        A :class:`~risk.mapping.Mapping`, the path of a YAML mapping file, or ``None``
        when the export already uses contract names.

    Returns
    -------
    ValidationReport
        All problems found; ``report.ok`` is true when there is none. A bad mapping file
        or a missing folder is reported, not raised. Nothing is written anywhere.
    """
    # Imported here because reading files builds on this module's checks and messages.
    from risk.ingestion import read_and_check

    report, _ = read_and_check(path, mapping)
    return report


def check_tables(
    frames: dict[str, pd.DataFrame], decimal: str | None = None
) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    """Check tables already read and mapped to contract names, and parse them.

    Parameters
    ----------
    frames
        Table name -> frame as read: contract column names, text stripped, empty
        values as missing. Tables absent from the dict are skipped (whoever read the
        folder reports them).
    decimal
        The export's decimal separator (``","`` or ``"."``) when declared; then the
        other one is read as a thousands separator. ``None``: amounts are read as
        :func:`risk.formats.parse_numbers` describes, ambiguous ones refused.

    Returns
    -------
    problems : pandas.DataFrame
        One row per problem, columns :data:`PROBLEM_FIELDS`.
    typed : dict of pandas.DataFrame
        Each table with portfolio dtypes (trustworthy only when there is no problem).
    """
    found: list[pd.DataFrame] = []
    typed: dict[str, pd.DataFrame] = {}
    for name, raw in frames.items():
        table = TABLES[name]
        problems, typed[name] = _check_table(table, raw, decimal)
        found.append(problems)
    found.append(_check_references(frames, typed))
    return sort_problems(concat_problems(found)), typed


def _check_table(
    table: Table, raw: pd.DataFrame, decimal: str | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    present = [c.name for c in table.columns if c.name in raw.columns]
    found = [
        file_problem(table.name, MISSING_COLUMN, column=c.name, detail=c.description)
        for c in table.columns
        if c.required and c.name not in raw.columns
    ]
    if raw.empty and not table.optional:
        found.append(file_problem(table.name, EMPTY_FILE, detail="a header but no data"))
    typed = pd.DataFrame(
        {c: parse_values(table.column(c).kind, raw[c], decimal) for c in present},
        index=raw.index,
    )
    found.append(_run(_text_schema(table, present, typed), raw, table, raw))
    found.append(_run(_value_schema(table, present), typed, table, raw))
    return concat_problems(found), _portfolio_frame(table, raw, typed)


def _text_schema(table: Table, present: list[str], parsed: pd.DataFrame) -> pa.DataFrameSchema:
    """Build the schema of values as read: are they present, do they parse.

    ``parsed`` holds the columns already parsed (missing where parsing failed); the
    checks look them up rather than parse a million values a second time.
    """
    columns = {}
    for name in present:
        column = table.column(name)
        checks = []
        if column.kind in EXPECTED:
            checks.append(
                pa.Check(
                    lambda s, values=parsed[name]: values.reindex(s.index).notna(),
                    error=UNPARSEABLE_DATE if column.kind == "date" else WRONG_TYPE,
                )
            )
        columns[name] = pa.Column(nullable=column.nullable, checks=checks)
    return pa.DataFrameSchema(columns, name=table.name)


def _value_schema(table: Table, present: list[str]) -> pa.DataFrameSchema:
    """Build the schema of parsed values: ranges, codes, keys and date order."""
    columns = {}
    for name in present:
        column = table.column(name)
        checks = []
        if column.kind == "money":
            checks.append(pa.Check.ge(0, error=NEGATIVE_AMOUNT))
            if column.positive:
                checks.append(pa.Check.ne(0, error=ZERO_AMOUNT))
            if column.max_value is not None:
                checks.append(pa.Check.le(column.max_value, error=ABSURD_AMOUNT))
        elif column.kind == "year":
            checks.append(
                pa.Check.in_range(MIN_BIRTH_YEAR, MAX_BIRTH_YEAR, error=ABSURD_BIRTH_YEAR)
            )
        elif column.kind == "count":
            checks.append(pa.Check.in_range(0, MAX_CHILDREN, error=ABSURD_CHILDREN))
        elif column.kind == "code":
            checks.append(pa.Check.isin(column.codes, error=UNKNOWN_CODE))
        # Missing and unparseable values were reported by the text schema.
        columns[name] = pa.Column(nullable=True, checks=checks)
    frame_checks = []
    key = list(table.key)
    if key and set(key) <= set(present):
        frame_checks.append(
            pa.Check(
                lambda df: ~(df.duplicated(key, keep="first") & df[key].notna().all(axis=1)),
                error=DUPLICATE_KEY,
                ignore_na=False,
            )
        )
    for earlier, later in table.date_order:
        if earlier in present and later in present:
            frame_checks.append(
                pa.Check(
                    lambda df, a=earlier, b=later: ~(df[b] < df[a]),
                    error=DATES_OUT_OF_ORDER.format(later=later, earlier=earlier),
                    ignore_na=False,
                )
            )
    return pa.DataFrameSchema(columns, checks=frame_checks, name=table.name)


def _run(
    schema: pa.DataFrameSchema, frame: pd.DataFrame, table: Table, raw: pd.DataFrame
) -> pd.DataFrame:
    """Validate ``frame`` and turn pandera's failure cases into problems."""
    try:
        schema.validate(frame[list(schema.columns)], lazy=True)
    except SchemaErrors as exc:
        return _failures_to_problems(exc.failure_cases, table, raw, frame)
    return problems_frame()


def _failures_to_problems(
    failures: pd.DataFrame, table: Table, raw: pd.DataFrame, checked: pd.DataFrame
) -> pd.DataFrame:
    failures = failures.rename(columns={"check": "rule"})
    failures["rule"] = failures["rule"].replace(_PANDERA_RULES)
    rows = failures["index"].notna()
    # A check that crashed has no row: surface it rather than lose it.
    broken = [
        file_problem(table.name, str(r.rule), column=str(r.column), detail=str(r.failure_case))
        for r in failures[~rows].itertuples()
    ]
    failures = failures[rows].astype({"index": "int64"})
    frame_level = failures["schema_context"] == "DataFrameSchema"
    per_column = failures[~frame_level]
    # A frame-level check lists every cell of a failing row: keep one line per row.
    per_row = failures[frame_level].drop_duplicates(["rule", "index"])
    found = [
        *broken,
        _cell_problems(table, per_column["rule"], per_column["column"], per_column["index"], raw),
    ]
    for rule, group in per_row.groupby("rule", sort=False):
        found.append(_row_problems(table, str(rule), group["index"], raw, checked))
    return concat_problems(found)


def _cell_problems(
    table: Table, rules: pd.Series, columns: pd.Series, index: pd.Series, raw: pd.DataFrame
) -> pd.DataFrame:
    rules, columns, index = (s.reset_index(drop=True) for s in (rules, columns, index))
    values = pd.Series(pd.NA, index=index.index, dtype="object")
    details = pd.Series("", index=index.index, dtype="object")
    for column in columns.unique():
        at = columns == column
        values[at] = _shown(raw[column], index[at]).to_numpy()
        spec = table.column(str(column))
        kind = spec.kind
        wrong = at & (rules == WRONG_TYPE)
        details[wrong] = f"expected {EXPECTED.get(kind, kind)}"
        if kind == "money" and wrong.any():
            # Say why "1.234" is refused although it looks like a number.
            shown = pd.Series(values[wrong].to_numpy(), index=values[wrong].index)
            details[wrong & ambiguous_amounts(shown).reindex(index.index, fill_value=False)] = (
                AMBIGUOUS_DOT
            )
        if spec.max_value is not None:
            details[at & (rules == ABSURD_AMOUNT)] = (
                f"the cap for {spec.name} is {spec.max_value:,.0f} EUR"
            )
    return pd.DataFrame(
        {
            "table": table.name,
            "row": (index + 1).astype("Int64"),
            "column": columns.astype("object"),
            "value": values,
            "rule": rules.astype("object"),
            "detail": details,
        }
    )


def _row_problems(
    table: Table, rule: str, index: pd.Series, raw: pd.DataFrame, checked: pd.DataFrame
) -> pd.DataFrame:
    index = index.reset_index(drop=True)
    if rule == DUPLICATE_KEY:
        columns = list(table.key)
        # Group on parsed values: 2024-01-05 and 05/01/2024 are the same key.
        rows = checked.index.to_series()
        first = rows.groupby([checked[c] for c in columns], sort=False).transform("min")
        # Rows with a missing key fall out of the groups, which makes the column float.
        first_row = first.reindex(index).astype("int64").reset_index(drop=True) + 1
        detail = "same key as row " + first_row.astype(str)
    else:
        earlier, later = next(
            pair
            for pair in table.date_order
            if DATES_OUT_OF_ORDER.format(later=pair[1], earlier=pair[0]) == rule
        )
        columns = [later]
        detail = f"{earlier} is " + _shown(raw[earlier], index).fillna("empty")
    shown = _shown(raw[columns[0]], index)
    for column in columns[1:]:
        shown = shown + ", " + _shown(raw[column], index)
    return pd.DataFrame(
        {
            "table": table.name,
            "row": (index + 1).astype("Int64"),
            "column": ", ".join(columns),
            "value": shown,
            "rule": rule,
            "detail": pd.Series(detail, dtype="object"),
        }
    )


def _check_references(
    frames: dict[str, pd.DataFrame], typed: dict[str, pd.DataFrame]
) -> pd.DataFrame:
    """Rows of other tables must belong to a tenancy of the tenancies table."""
    key = list(TENANCIES.key)
    if TENANCIES.name not in typed or not set(key) <= set(typed[TENANCIES.name].columns):
        return problems_frame()
    known = typed[TENANCIES.name][key].dropna().drop_duplicates()
    found = []
    for name, frame in typed.items():
        if name == TENANCIES.name or not set(key) <= set(frame.columns):
            continue
        # A left merge with an indicator handles composite keys as well as single ones.
        matched = frame[key].merge(known, how="left", on=key, indicator=True)["_merge"]
        unknown = (matched.to_numpy() == "left_only") & frame[key].notna().all(axis=1).to_numpy()
        index = pd.Series(frame.index[unknown])
        if len(index):
            cells = _cell_problems(
                TABLES[name],
                pd.Series(UNKNOWN_TENANCY, index=index.index),
                pd.Series(key[0], index=index.index),
                index,
                frames[name],
            )
            found.append(cells)
    return concat_problems(found)


def _portfolio_frame(table: Table, raw: pd.DataFrame, typed: pd.DataFrame) -> pd.DataFrame:
    """Contract columns with portfolio dtypes (absent optional ones empty), then extras."""
    columns = {
        c.name: typed_column(c.kind, typed.get(c.name), raw.index)
        for c in table.columns
        if c.name in typed or not c.required
    }
    out = pd.DataFrame(columns, index=raw.index)
    extras = [c for c in raw.columns if c not in table.column_names]
    return pd.concat([out, raw[extras]], axis=1) if extras else out


def _shown(column: pd.Series, index: pd.Series) -> pd.Series:
    """Return the values of ``column`` at rows ``index`` as text, ``None`` when missing."""
    values = pd.Series(column.reindex(index).to_numpy(), dtype="object")
    return values.astype(str).where(values.notna(), None)
