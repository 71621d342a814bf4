"""Problems found in an export, and the report that lists them all at once.

The message texts themselves are constants of :mod:`risk.validation`; this module
only holds, orders and shows problems. A report keeps them in a frame, because a
broken export of a million ledger rows can have a million problems, and shows them
capped and grouped by table and rule.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from risk.contract import TABLES

#: Fields of a problem, in the order of :meth:`ValidationReport.to_records`.
PROBLEM_FIELDS = ("table", "row", "column", "value", "rule", "detail")
#: Pseudo-table names for problems that belong to no contract table.
EXPORT = "export"
MAPPING = "mapping"
_TABLE_ORDER = {name: i for i, name in enumerate((EXPORT, MAPPING, *TABLES))}
_VALUE_WIDTH = 60


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an export.

    Parameters
    ----------
    table
        Contract table (or ``export`` / ``mapping`` for folder-level problems).
    row
        1-based data row: row 1 is the first line after the header; ``None`` when the
        problem concerns a whole file or column.
    column
        Contract column (or export header) concerned, if any.
    value
        The value as the export holds it, if any.
    rule
        One of the message constants of :mod:`risk.validation`.
    detail
        What was expected, or where to look.
    """

    table: str
    row: int | None
    column: str | None
    value: str | None
    rule: str
    detail: str = ""

    def render(self, with_table: bool = True, with_rule: bool = True) -> str:
        """Return the problem as one line of text.

        Parameters
        ----------
        with_table
            Start with the table name.
        with_rule
            Include the rule's message (a grouped listing already shows it).
        """
        where = [self.table] if with_table else []
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column:
            where.append(f"column {self.column}")
        if self.value is not None:
            shown = self.value if len(self.value) <= _VALUE_WIDTH else self.value[:57] + "..."
            where.append(f"value {shown!r}")
        text = ", ".join(where)
        if with_rule:
            text = f"{text}: {self.rule}" if text else self.rule
        if self.detail:
            text = f"{text} ({self.detail})" if text else self.detail
        return text


def problems_frame(rows: list[dict[str, Any]] | None = None) -> pd.DataFrame:
    """Return problems as a frame with :data:`PROBLEM_FIELDS` columns (empty by default)."""
    frame = pd.DataFrame(rows or [], columns=list(PROBLEM_FIELDS))
    return frame.astype({"row": "Int64"}) if len(frame) else _EMPTY_PROBLEMS.copy()


_EMPTY_PROBLEMS = pd.DataFrame(
    {f: pd.Series(dtype="Int64" if f == "row" else "object") for f in PROBLEM_FIELDS}
)


@dataclass(frozen=True, eq=False)
class ValidationReport:
    """Everything wrong with one export, all at once.

    Problems are held in a frame (there can be a million of them) and shown capped.

    Parameters
    ----------
    frame
        One row per problem, columns :data:`PROBLEM_FIELDS`.
    directory
        The export folder checked.
    sources
        Table -> description of the file read for it.
    headers
        Table -> {contract column -> export header} when the mapping renamed it.
    """

    frame: pd.DataFrame = field(default_factory=problems_frame)
    directory: str = ""
    sources: dict[str, str] = field(default_factory=dict)
    headers: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """Whether the export follows the contract (no problem at all)."""
        return self.frame.empty

    @property
    def total(self) -> int:
        """Number of problems."""
        return len(self.frame)

    @property
    def counts(self) -> dict[str, int]:
        """Number of problems per rule (message), in report order."""
        return {str(k): int(v) for k, v in self.frame.groupby("rule", sort=False).size().items()}

    def problems(
        self, rule: str | None = None, table: str | None = None, limit: int | None = None
    ) -> list[Problem]:
        """Return problems, optionally only those of one rule and/or table.

        Parameters
        ----------
        rule
            A message constant to select.
        table
            A table name to select.
        limit
            Return at most this many.
        """
        frame = self.frame
        if rule is not None:
            frame = frame[frame["rule"] == rule]
        if table is not None:
            frame = frame[frame["table"] == table]
        if limit is not None:
            frame = frame.head(limit)
        return [Problem(**record) for record in _records(frame)]

    def to_records(self, limit: int | None = None) -> list[dict[str, Any]]:
        """Return problems as plain dicts (JSON-ready), keys :data:`PROBLEM_FIELDS`."""
        return _records(self.frame if limit is None else self.frame.head(limit))

    def render(self, limit: int = 50) -> list[str]:
        """Return the report as lines of text for a terminal.

        Problems are grouped by table and rule, each group with its total count. About
        ``limit`` problems are listed, shared between groups; every group shows at
        least one, so more are listed when there are more groups than ``limit``.

        Parameters
        ----------
        limit
            Maximum number of individual problems listed.
        """
        lines = [f"Export folder: {self.directory}"] if self.directory else []
        lines += [f"  {table}: {source}" for table, source in self.sources.items()]
        if self.ok:
            return [*lines, "No problem found: the export follows the data contract."]
        groups = list(self.frame.groupby(["table", "rule"], sort=False))
        lines.append(f"{self.total} problem(s) found ({len(groups)} kind(s)):")
        per_group = max(1, limit // len(groups))
        for (table, rule), group in groups:
            lines.append(f"{table}: {rule}: {len(group)} problem(s)")
            shown = group.head(per_group)
            for problem in (Problem(**r) for r in _records(shown)):
                line = self._with_header(problem).render(with_table=False, with_rule=False)
                if line:
                    lines.append(f"    {line}")
            if len(group) > len(shown):
                lines.append(f"    ... and {len(group) - len(shown)} more")
        return lines

    def _with_header(self, problem: Problem) -> Problem:
        header = self.headers.get(problem.table, {}).get(problem.column or "")
        if header is None or header == problem.column:
            return problem
        return Problem(
            problem.table,
            problem.row,
            f"{problem.column} (export: {header!r})",
            problem.value,
            problem.rule,
            problem.detail,
        )


class ContractViolation(ValueError):  # noqa: N818 - the name callers already use
    """The export does not follow the data contract; ``report`` says everything wrong.

    Parameters
    ----------
    report
        The full validation report.
    """

    def __init__(self, report: ValidationReport) -> None:
        self.report = report
        super().__init__("\n".join(report.render(limit=20)))


def sort_problems(frame: pd.DataFrame) -> pd.DataFrame:
    """Order problems by table (contract order), keeping the order of checks within it."""
    order = frame["table"].map(_TABLE_ORDER).fillna(len(_TABLE_ORDER))
    return frame.iloc[order.argsort(kind="stable")].reset_index(drop=True)


def file_problem(
    table: str, rule: str, column: str | None = None, value: str | None = None, detail: str = ""
) -> pd.DataFrame:
    """Return a one-problem frame for a problem that concerns a whole file or column."""
    row = {"table": table, "row": None, "column": column, "value": value, "rule": rule}
    return problems_frame([{**row, "detail": detail}])


def concat_problems(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Concatenate problem frames, skipping empty ones (an empty frame if all are)."""
    found = [f for f in frames if len(f)]
    return pd.concat(found, ignore_index=True) if found else problems_frame()


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = [
        {str(k): v for k, v in r.items()}
        for r in frame[list(PROBLEM_FIELDS)].astype("object").to_dict("records")
    ]
    for record in records:
        for key, value in record.items():
            if value is pd.NA or (isinstance(value, float) and value != value):
                record[key] = None
        record["row"] = None if record["row"] is None else int(record["row"])
        record["detail"] = record["detail"] or ""
    return records
