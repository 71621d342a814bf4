"""Request models of a tenancy's raw facts, generated from the data contract.

A caseworker's tool sends each tenancy as one object: the ``tenancies`` columns of the
contract, and the tenancy's ``incomes``, ``apl``, ``ledger`` and ``support`` rows in
lists under those names, each row in the contract's column names (its ``tenancy_id`` is
the enclosing tenancy's and is not repeated). The models are built from
:mod:`risk.contract`, so a column added there is accepted here with its type, codes and
caps, and an error names the field: ``tenancies[0].ledger[3].amount``.

Checks are those of the contract (:mod:`risk.validation` applies the same rules to a
file export): types, codes, non-negative and capped amounts, birth years, date order
within a row, unique keys of incomes and APL rows. Unknown fields are refused rather
than ignored: a misspelt ``montly_rent`` must not silently become a missing rent. The
child rows are typed dicts rather than models (see :func:`_row_type`).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, ClassVar, Literal, NotRequired

from pydantic import BaseModel, ConfigDict, Field, create_model, model_validator
from typing_extensions import TypedDict

from risk.contract import (
    MAX_BIRTH_YEAR,
    MAX_CHILDREN,
    MIN_BIRTH_YEAR,
    TABLES,
    TENANCIES,
    Column,
    Table,
)
from risk.portfolio import ColumnTables, date_column

#: The child tables sent inside each tenancy, in contract order.
CHILD_TABLES = tuple(name for name in TABLES if name != TENANCIES.name)
#: Longest identifier accepted (a landlord's key, not free text).
MAX_ID_LENGTH = 64
#: Earliest and latest dates accepted anywhere in a request (pandas' range is 1677-2262).
FIRST_DATE = dt.date(1900, 1, 1)
LAST_DATE = dt.date(2199, 12, 31)
#: An identifier: printable text, no control character (a NUL cannot be stored by
#: PostgreSQL, a line break would forge a log line).
ID_PATTERN = r"^[^\x00-\x1f\x7f]+$"
#: Most rows of one child table for one tenancy (ten years of a busy ledger).
MAX_ROWS_PER_TABLE = 2_000


class ContractRow(BaseModel):
    """A row of a contract table: unknown fields refused, dates in order."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    _date_order: ClassVar[tuple[tuple[str, str], ...]] = ()

    @model_validator(mode="after")
    def _dates_in_order(self) -> ContractRow:
        for earlier, later in self._date_order:
            first, second = getattr(self, earlier), getattr(self, later)
            if first is not None and second is not None and second < first:
                # The message names both fields, as the export validation does.
                raise ValueError(f"{later} ({second}) is before {earlier} ({first})")
        return self


def _annotation(column: Column) -> Any:
    kind = column.kind
    if kind == "id":
        base: Any = Annotated[
            str, Field(min_length=1, max_length=MAX_ID_LENGTH, pattern=ID_PATTERN)
        ]
    elif kind == "date":
        base = Annotated[dt.date, Field(ge=FIRST_DATE, le=LAST_DATE)]
    elif kind == "money":
        lower = (
            Field(gt=0.0, allow_inf_nan=False)
            if column.positive
            else Field(ge=0.0, allow_inf_nan=False)
        )
        base = Annotated[float, lower, Field(le=column.max_value)]
    elif kind == "count":
        base = Annotated[int, Field(ge=0, le=MAX_CHILDREN)]
    elif kind == "year":
        base = Annotated[int, Field(ge=MIN_BIRTH_YEAR, le=MAX_BIRTH_YEAR)]
    elif kind == "code":
        base = Literal[column.codes]
    else:
        base = bool
    return base | None if column.nullable or not column.required else base


def _field(column: Column) -> tuple[Any, Any]:
    annotation = _annotation(column)
    default = None if column.nullable or not column.required else ...
    return annotation, Field(default, description=column.description)


def _row_model(table: Table) -> type[ContractRow]:
    fields = {c.name: _field(c) for c in table.columns}
    model = create_model(  # type: ignore[call-overload]
        f"{table.name.capitalize()}Row",
        __base__=ContractRow,
        __doc__=table.description,
        **fields,
    )
    model._date_order = table.date_order
    return model


def _row_type(table: Table) -> Any:
    """Return a child table's row type, a TypedDict: validated in Rust, no object per row.

    A request of 1,000 tenancies holds about 100,000 rows; as models with a Python
    validator each they took 0.4 s to validate, as typed dicts 0.06 s. Their date order
    is checked once per tenancy (:class:`_ChildChecks`).
    """
    fields: dict[str, Any] = {}
    for column in table.columns:
        if column.name == "tenancy_id":
            continue
        annotation = _annotation(column)
        optional = column.nullable or not column.required
        fields[column.name] = NotRequired[annotation] if optional else annotation
    # Built from the contract at import, so the functional form (mypy wants a literal).
    make: Any = TypedDict
    row: Any = make(f"{table.name.capitalize()}Row", fields)
    row.__doc__ = table.description
    row.__pydantic_config__ = ConfigDict(extra="forbid")
    return row


#: One row type per child table, keyed by table name.
ROW_TYPES: dict[str, Any] = {name: _row_type(TABLES[name]) for name in CHILD_TABLES}
_TenancyColumns = _row_model(TENANCIES)


def _child_list(name: str) -> tuple[Any, Any]:
    table = TABLES[name]
    row: Any = ROW_TYPES[name]
    return (
        list[row],
        Field(
            default_factory=list,
            max_length=MAX_ROWS_PER_TABLE,
            description=f"This tenancy's rows of the contract table `{name}`: {table.description}",
        ),
    )


class _ChildChecks(BaseModel):
    """The checks of the tenancy's rows that span a row or several.

    A row's later date may not precede its earlier one (posted before the event, ended
    before started), and two rows of a table may not share the contract's key: two
    incomes with the same dates would leave the income in force to row order.
    """

    @model_validator(mode="after")
    def _rows_consistent(self) -> _ChildChecks:
        for name in CHILD_TABLES:
            table = TABLES[name]
            rows = getattr(self, name)
            for earlier, later in table.date_order:
                for i, row in enumerate(rows):
                    first, second = row.get(earlier), row.get(later)
                    if first is not None and second is not None and second < first:
                        raise ValueError(
                            f"{name}[{i}]: {later} ({second}) is before {earlier} ({first})"
                        )
            key = table.key[1:]  # the tenancy id is the enclosing one
            if not key:
                continue
            seen: set[tuple[Any, ...]] = set()
            for i, row in enumerate(rows):
                value = tuple(row.get(c) for c in key)
                if value in seen:
                    shown = ", ".join(f"{c} {v}" for c, v in zip(key, value, strict=True))
                    raise ValueError(f"{name}[{i}]: another row has the same {shown}")
                seen.add(value)
        return self


TenancyFacts: type[ContractRow] = create_model(  # type: ignore[call-overload]
    "TenancyFacts",
    __base__=(_TenancyColumns, _ChildChecks),
    __doc__="One tenancy with its incomes, APL history, recent ledger and follow-ups.",
    **{name: _child_list(name) for name in CHILD_TABLES},
)


def tenancy_tables(tenancies: list[Any]) -> ColumnTables:
    """Gather validated tenancies into the columns of each contract table.

    Parameters
    ----------
    tenancies
        :data:`TenancyFacts` objects.

    Returns
    -------
    risk.portfolio.ColumnTables
        For every contract table, its columns in the contract's column order (dates as
        ``datetime64[D]``, absent optional values as None), ready for
        :func:`risk.serving.score_request`.
    """
    facts = [t.__dict__ for t in tenancies]
    columns: dict[str, dict[str, Any]] = {TENANCIES.name: _columns(facts, TENANCIES.name)}
    for name in CHILD_TABLES:
        rows: list[dict[str, Any]] = []
        ids: list[str] = []
        for values in facts:
            children = values[name]
            rows += children
            ids += [values["tenancy_id"]] * len(children)
        columns[name] = {"tenancy_id": ids, **_columns(rows, name)}
    return ColumnTables(columns)


#: Columns of each table as the request carries them, each with whether it holds dates.
_COLUMNS = {
    name: tuple(
        (c.name, c.kind == "date")
        for c in table.columns
        if not (name != TENANCIES.name and c.name == "tenancy_id")
    )
    for name, table in TABLES.items()
}


def _columns(rows: list[dict[str, Any]], table: str) -> dict[str, Any]:
    # One pass per column: C-level list building, and dates converted in bulk.
    out: dict[str, Any] = {}
    for column, is_date in _COLUMNS[table]:
        values = [row.get(column) for row in rows]
        out[column] = date_column(values) if is_date else values
    return out


def facts_from_portfolio(
    portfolio: Any, tenancy_ids: list[str], *, ledger_since: Any = None
) -> list[dict[str, Any]]:
    """Write tenancies of a :class:`~risk.portfolio.Portfolio` as request objects.

    For a data team checking the service against its export, for the tests and the
    benchmarks: the same facts, as a caseworker's tool would send them.

    Parameters
    ----------
    portfolio
        The portfolio holding the tenancies.
    tenancy_ids
        Which tenancies, in the order wanted.
    ledger_since
        Keep only ledger rows with an event date on or after this date (a tool sends
        the recent ledger); every row when None.

    Returns
    -------
    list of dict
        JSON-ready objects of the :data:`TenancyFacts` shape (dates as ISO text).
    """
    import pandas as pd

    wanted = set(tenancy_ids)
    grouped: dict[str, dict[str, list[dict[str, Any]]]] = {t: {} for t in tenancy_ids}
    tenancy_rows: dict[str, dict[str, Any]] = {}
    for name, frame in portfolio.tables():
        part = frame[frame["tenancy_id"].isin(wanted)]
        if name == "ledger" and ledger_since is not None:
            part = part[part["event_date"] >= pd.Timestamp(ledger_since)]
        columns = TABLES[name].column_names
        records = part[list(columns)].astype(object).where(part[list(columns)].notna(), None)
        for record in records.to_dict("records"):
            row = {
                k: (v.date().isoformat() if isinstance(v, pd.Timestamp) else v)
                for k, v in record.items()
            }
            if name == TENANCIES.name:
                tenancy_rows[row["tenancy_id"]] = row
            else:
                grouped[row.pop("tenancy_id")].setdefault(name, []).append(row)
    return [
        {**tenancy_rows[t], **{name: grouped[t].get(name, []) for name in CHILD_TABLES}}
        for t in tenancy_ids
    ]
