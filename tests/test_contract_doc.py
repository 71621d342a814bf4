"""docs/data-contract.md names every table, column, code and check, so it cannot drift."""

from __future__ import annotations

from pathlib import Path

import pytest

from risk import validation
from risk.contract import TABLES
from risk.formats import BOOL_WORDS
from risk.sensitive import SENSITIVE_STEMS, SENSITIVE_WORDS

DOC = (Path(__file__).parents[1] / "docs" / "data-contract.md").read_text(encoding="utf-8")
COLUMNS = [(t.name, c.name) for t in TABLES.values() for c in t.columns]
CODES = sorted({code for t in TABLES.values() for c in t.columns for code in c.codes})
TEMPLATES = {validation.DATES_OUT_OF_ORDER}


@pytest.mark.parametrize("table", list(TABLES))
def test_every_table_has_a_section(table: str) -> None:
    assert f"### Table `{table}`" in DOC


@pytest.mark.parametrize(("table", "column"), COLUMNS)
def test_every_column_is_documented_in_its_table_section(table: str, column: str) -> None:
    section = DOC.split(f"### Table `{table}`", 1)[1].split("\n### ", 1)[0]
    assert f"| `{column}` |" in section


@pytest.mark.parametrize("code", CODES)
def test_every_code_is_documented(code: str) -> None:
    assert f"`{code}`" in DOC


def test_optional_tables_and_columns_are_marked() -> None:
    for table in TABLES.values():
        if table.optional:
            assert f"### Table `{table.name}` (optional table)" in DOC
        for column in table.columns:
            required = "yes" if column.required else "no"
            assert f"| `{column.name}` | " in DOC
            row = next(
                line
                for line in DOC.split(f"### Table `{table.name}`", 1)[1].splitlines()
                if line.startswith(f"| `{column.name}` |")
            )
            assert row.split("|")[3].strip() == required, row


@pytest.mark.parametrize("message", [m for m in validation.MESSAGES if m not in TEMPLATES])
def test_every_check_message_is_documented(message: str) -> None:
    assert message in DOC


@pytest.mark.parametrize(
    ("table", "pair"), [(t.name, p) for t in TABLES.values() for p in t.date_order]
)
def test_every_date_order_message_is_documented(table: str, pair: tuple[str, str]) -> None:
    earlier, later = pair
    assert validation.DATES_OUT_OF_ORDER.format(later=later, earlier=earlier) in DOC


def test_every_message_constant_is_named_in_the_doc() -> None:
    names = [n for n in validation.__all__ if n.isupper()]
    assert len(names) == len(validation.MESSAGES)
    for name in names:
        assert f"`{name}`" in DOC


@pytest.mark.parametrize(
    "category", sorted(set(SENSITIVE_STEMS.values()) | set(SENSITIVE_WORDS.values()))
)
def test_every_sensitive_category_is_documented(category: str) -> None:
    assert category in DOC


def test_bool_words_and_dialects_are_documented() -> None:
    for word in BOOL_WORDS:
        assert f"`{word}`" in DOC
    for text in ("UTF-8", "Latin-1", "cp1252", "DD/MM/YYYY", "YYYY-MM-DD", "U+202F", "`;`"):
        assert text in DOC
