"""How values are written in exports, and how they become contract values.

French exports write ``1 234,56`` (thousands separated by a space, often a non-breaking
or narrow no-break one, and a decimal comma), dates as ``05/01/2024`` and booleans as
``oui``/``non``; Parquet files hold native types, sometimes Python ``date`` objects.
Every function here works on a whole column at once and returns missing values where
the text does not parse, so that validation can point at them.
"""

from __future__ import annotations

import pandas as pd

from risk.contract import ColumnKind
from risk.portfolio import PORTFOLIO_DTYPES

#: Text accepted in ``bool`` columns, after lower-casing, and what it means.
BOOL_WORDS = {
    "true": True,
    "false": False,
    "1": True,
    "0": False,
    "oui": True,
    "non": False,
    "yes": True,
    "no": False,
    "vrai": True,
    "faux": False,
}
#: Kinds whose text must parse, and what a value of that kind looks like (for messages).
EXPECTED: dict[str, str] = {
    "date": "a date YYYY-MM-DD or DD/MM/YYYY",
    "money": "an amount in EUR such as 1234.56 or 1 234,56",
    "count": "a whole number",
    "year": "a four-digit year",
    "bool": "one of " + "/".join(BOOL_WORDS),
}
# French dates are rewritten to ISO before one parse: parsing a million values against
# two formats in turn is several times slower than rewriting them.
_FRENCH_DATE = r"\d{2}/\d{2}/\d{4}"
_SHORT_FRENCH_DATE = r"^(\d{1,2})/(\d{1,2})/(\d{4})$"
# Spaces French software puts between thousands: plain, no-break (U+00A0), narrow
# no-break (U+202F), figure (U+2007) and thin (U+2009). Literal replacements are
# several times faster than one regex over a million values.
_THOUSANDS_SPACES = (" ", "\u00a0", "\u202f", "\u2007", "\u2009")
#: Separators a mapping may declare as the decimal one.
DECIMAL_SEPARATORS = (",", ".")
#: Why "1.234" is refused when no decimal separator is declared.
AMBIGUOUS_DOT = (
    "ambiguous: a single dot followed by three digits may be a French thousands "
    "separator (1.234 = 1234 EUR) or a decimal separator (1.234 EUR); write 1234 or 1234,00"
)
# A whole number written with a thousands dot: 1 to 3 digits (not starting with 0),
# one dot, exactly three digits. "0.125" and "1234.567" cannot be thousands groups.
_THOUSANDS_DOT = r"[+-]?[1-9]\d{0,2}\.\d{3}"
# Nanosecond timestamps cover 1677-2262; anything outside would overflow.
_FIRST_DATE = pd.Timestamp("1678-01-01")
_LAST_DATE = pd.Timestamp("2261-12-31")
# Dtypes able to hold a missing value, used when a column still has one.
_NULLABLE_DTYPES = {"int64": "Int64", "bool": "boolean"}


def parse_values(kind: ColumnKind, values: pd.Series, decimal: str | None = None) -> pd.Series:
    """Parse a column as read into values of a contract kind.

    Parameters
    ----------
    kind
        Contract kind of the column.
    values
        The column as read: text (stripped, missing when empty) or native Parquet values.
    decimal
        Declared decimal separator of amounts, if any (see :func:`parse_numbers`).

    Returns
    -------
    pandas.Series
        Same index; missing where the input is missing or does not parse. Dates are
        ``datetime64[ns]``, money, counts and years ``float64``, booleans ``object``
        holding ``True``/``False``, ids and codes ``str``.
    """
    if kind == "date":
        return parse_dates(values)
    if kind == "money":
        return parse_numbers(values, decimal)
    if kind in ("count", "year"):
        numbers = parse_numbers(values)
        return numbers.where(numbers == numbers.round())
    if kind == "bool":
        return parse_bools(values)
    return as_text(values)


def as_text(values: pd.Series) -> pd.Series:
    """Return values as stripped text (``str`` dtype), missing when empty.

    Whole floats (``12.0``, what Parquet makes of integer ids with gaps) lose their
    ``.0`` so that they read as the id the landlord knows.
    """
    if pd.api.types.is_bool_dtype(values):
        return values.astype("str").str.lower()
    if pd.api.types.is_float_dtype(values):
        numbers = values.astype("float64")
        if (numbers.dropna() == numbers.dropna().round()).all():
            return numbers.astype("Int64").astype("str")
    text = values.astype("str").str.strip()
    return text.where(text != "")


def parse_numbers(values: pd.Series, decimal: str | None = None) -> pd.Series:
    """Parse amounts written ``1234.56``, ``1 234,56`` or ``1 234,56 €`` into floats.

    With no declared ``decimal`` separator, two kinds of value are refused (missing in
    the result) because the decimal separator cannot be told for sure: one holding
    both a comma and a dot (``1.234,56`` or ``1,234.56``), and one whose only separator
    is a single dot followed by exactly three digits (``1.234``: French thousands dot or
    decimal point?). With ``decimal=","`` dots are thousands separators and removed;
    with ``decimal="."`` commas are.
    """
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        return values.astype("float64")
    text = _strip_amount(as_text(values))
    if decimal == ",":
        text = text.str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
    elif decimal == ".":
        text = text.str.replace(",", "", regex=False)
    else:
        ambiguous = text.str.contains(",", regex=False) & text.str.contains(".", regex=False)
        ambiguous = _true(ambiguous) | _true(text.str.fullmatch(_THOUSANDS_DOT))
        text = text.mask(ambiguous).str.replace(",", ".", regex=False)
    return pd.to_numeric(text, errors="coerce").astype("float64")


def ambiguous_amounts(values: pd.Series) -> pd.Series:
    """Return where text amounts are refused as ``1.234`` (see :data:`AMBIGUOUS_DOT`)."""
    if pd.api.types.is_numeric_dtype(values):
        return pd.Series(False, index=values.index)
    return _true(_strip_amount(as_text(values)).str.fullmatch(_THOUSANDS_DOT))


def _strip_amount(text: pd.Series) -> pd.Series:
    """Remove thousands spaces and a trailing euro sign."""
    for space in _THOUSANDS_SPACES:
        text = text.str.replace(space, "", regex=False)
    return text.str.removesuffix("€")


def parse_dates(values: pd.Series) -> pd.Series:
    """Parse dates (ISO ``YYYY-MM-DD`` or French ``DD/MM/YYYY``) into ``datetime64[ns]``.

    Native datetimes and Python ``date`` objects (which pandas 3 may give when reading
    Parquet, and which refuse comparison with timestamps) are converted as they are.
    """
    if pd.api.types.is_datetime64_any_dtype(values):
        dates = pd.Series(values)
        if getattr(dates.dt, "tz", None) is not None:
            dates = dates.dt.tz_localize(None)
    elif pd.api.types.infer_dtype(values, skipna=True) in ("date", "datetime"):
        dates = pd.to_datetime(values, errors="coerce")
    else:
        dates = pd.to_datetime(_french_to_iso(as_text(values)), format="%Y-%m-%d", errors="coerce")
    dates = dates.where((dates >= _FIRST_DATE) & (dates <= _LAST_DATE))
    return dates.astype("datetime64[ns]")


def _french_to_iso(text: pd.Series) -> pd.Series:
    """Rewrite DD/MM/YYYY (and D/M/YYYY) as YYYY-MM-DD, leaving other text as it is."""
    french = _true(text.str.fullmatch(_FRENCH_DATE))
    if french.any():
        day_first = text[french]
        iso = day_first.str.slice(6, 10) + "-" + day_first.str.slice(3, 5) + "-"
        text = text.mask(french, iso + day_first.str.slice(0, 2))
    short = _true(text.str.fullmatch(_SHORT_FRENCH_DATE))
    if short.any():
        text = text.mask(
            short, text[short].str.replace(_SHORT_FRENCH_DATE, r"\3-\2-\1", regex=True)
        )
    return text


def _true(mask: pd.Series) -> pd.Series:
    """Return a boolean mask with missing values counted as false."""
    return mask.fillna(False).astype(bool)


def parse_bools(values: pd.Series) -> pd.Series:
    """Parse booleans written true/false, 1/0, oui/non, yes/no or vrai/faux (any case)."""
    if pd.api.types.is_bool_dtype(values):
        return values.astype("object")
    return as_text(values).str.lower().map(BOOL_WORDS).astype("object")


def typed_column(kind: ColumnKind, parsed: pd.Series | None, index: pd.Index) -> pd.Series:
    """Return a parsed column with the dtype a portfolio documents for ``kind``.

    Parameters
    ----------
    kind
        Contract kind.
    parsed
        Output of :func:`parse_values`, or ``None`` for an optional column the export
        lacks (then a column of missing values is returned).
    index
        Index of the table, used when ``parsed`` is ``None``.
    """
    dtype = PORTFOLIO_DTYPES[kind]
    if parsed is None:
        return pd.Series(None, index=index, dtype=_NULLABLE_DTYPES.get(dtype, dtype))
    if parsed.isna().any():
        dtype = _NULLABLE_DTYPES.get(dtype, dtype)
    return parsed.astype(dtype)  # type: ignore[call-overload]  # a str naming the dtype
