"""Outcomes supplied by the team: what really happened to a household after an as-of date.

A landlord may prefer its own definition of "fell behind" (its litigation stages, its
caseworkers' records) to the named labels of :mod:`risk.labels`. It supplies a table
``tenancy_id, as_of, label`` that this module reads and checks; a problem raises
:class:`OutcomesError` whose ``code`` is one of the ``OUTCOMES_*`` constants.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

OUTCOMES_MISSING_COLUMN = "outcomes_missing_column"
OUTCOMES_LABEL_NOT_BINARY = "outcomes_label_not_binary"
OUTCOMES_UNPARSEABLE_DATE = "outcomes_unparseable_date"
OUTCOMES_DUPLICATE_KEY = "outcomes_duplicate_key"
OUTCOMES_EMPTY_ID = "outcomes_empty_tenancy_id"
OUTCOMES_UNKNOWN_FORMAT = "outcomes_unknown_format"
OUTCOMES_COLUMNS = ("tenancy_id", "as_of", "label")


class OutcomesError(ValueError):
    """An outcomes table that cannot be used.

    Parameters
    ----------
    code
        One of the ``OUTCOMES_*`` constants of this module.
    message
        What is wrong, for a person, with a few offending rows.
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code


def validate_outcomes(frame: pd.DataFrame) -> pd.DataFrame:
    """Check an outcomes table and return it typed.

    Parameters
    ----------
    frame
        Columns ``tenancy_id``, ``as_of`` (a date) and ``label`` (0 or 1); other
        columns are dropped.

    Returns
    -------
    pandas.DataFrame
        ``tenancy_id`` (str), ``as_of`` (datetime64 at midnight), ``label`` (Int8).

    Raises
    ------
    OutcomesError
        With one of the ``OUTCOMES_*`` codes, naming the first offending rows (data
        rows counted from 1, the first line after the header being row 1).
    """
    missing = [c for c in OUTCOMES_COLUMNS if c not in frame.columns]
    if missing:
        raise OutcomesError(OUTCOMES_MISSING_COLUMN, f"missing column(s): {', '.join(missing)}")
    ids = frame["tenancy_id"].astype("str").str.strip()
    bad = frame["tenancy_id"].isna() | (ids == "")
    if bad.any():
        raise OutcomesError(OUTCOMES_EMPTY_ID, f"empty tenancy_id at {_offending(bad)}")
    as_of = frame["as_of"]
    if not pd.api.types.is_datetime64_any_dtype(as_of):
        as_of = pd.to_datetime(as_of.astype("object"), errors="coerce", format="ISO8601")
    bad = as_of.isna()
    if bad.any():
        message = f"as_of is not a date at {_offending(bad, frame['as_of'])}"
        raise OutcomesError(OUTCOMES_UNPARSEABLE_DATE, message)
    labels = pd.to_numeric(frame["label"].astype("object"), errors="coerce")
    bad = ~labels.isin([0, 1])
    if bad.any():
        message = f"label must be 0 or 1 at {_offending(bad, frame['label'])}"
        raise OutcomesError(OUTCOMES_LABEL_NOT_BINARY, message)
    out = pd.DataFrame(
        {
            "tenancy_id": ids.astype("str"),
            "as_of": as_of.dt.normalize().astype("datetime64[ns]"),
            "label": labels.astype("Int8"),
        }
    )
    dup = out.duplicated(["tenancy_id", "as_of"], keep=False)
    if dup.any():
        message = f"(tenancy_id, as_of) repeated at {_offending(dup)}"
        raise OutcomesError(OUTCOMES_DUPLICATE_KEY, message)
    return out.reset_index(drop=True)


def read_outcomes(path: str | Path) -> pd.DataFrame:
    """Read and validate an outcomes table from a CSV or Parquet file.

    Parameters
    ----------
    path
        ``.csv`` (UTF-8, comma, ISO dates) or ``.parquet`` file with columns
        ``tenancy_id``, ``as_of`` and ``label``.

    Returns
    -------
    pandas.DataFrame
        The table typed by :func:`validate_outcomes`.

    Raises
    ------
    OutcomesError
        ``OUTCOMES_UNKNOWN_FORMAT`` for another extension, else as
        :func:`validate_outcomes`.
    """
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix == ".csv":
        # Everything as text: ids such as "007" must not become numbers.
        frame = pd.read_csv(p, dtype=str, keep_default_na=False, na_values=[""])
    elif suffix in (".parquet", ".pq"):
        frame = pd.read_parquet(p)
    else:
        raise OutcomesError(OUTCOMES_UNKNOWN_FORMAT, f"expected .csv or .parquet, got {p.name}")
    return validate_outcomes(frame)


def _offending(mask: pd.Series, values: pd.Series | None = None, limit: int = 5) -> str:
    """Name the first offending rows and, if given, their values.

    Rows are data rows counted from 1 (row 1 is the first line after the header), as in
    validation reports.
    """
    rows = [i for i, flag in enumerate(mask.to_numpy(), start=1) if flag]
    text = "data row(s) " + ", ".join(map(str, rows[:limit])) + " (counted from 1)"
    text += f" and {len(rows) - limit} more" if len(rows) > limit else ""
    if values is not None:
        text += ": " + ", ".join(repr(v) for v in values[mask.to_numpy()].head(limit).tolist())
    return text
