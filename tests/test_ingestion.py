"""Reading an export folder into a typed portfolio: dialects, encodings, formats, dtypes."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from contract_exports import MINIMAL, export
from risk.contract import APL, LEDGER, TABLES, TENANCIES, Table
from risk.ingestion import ContractViolation, UnreadableFileError, decode_text, read_portfolio
from risk.mapping import Mapping
from risk.portfolio import Portfolio, empty_table
from risk.validation import (
    NEGATIVE_AMOUNT,
    UNDECODABLE_BYTES,
    UNKNOWN_TENANCY,
    validate_directory,
)

EXAMPLES = Path(__file__).parents[1] / "examples"
DOCUMENTED_DTYPES = {
    "id": "str",
    "code": "str",
    "date": "datetime64[ns]",
    "money": "float64",
    "count": "int64",
    "year": "int64",
    "bool": "bool",
}




def lines(table: Table, *rows: str, sep: str = ",") -> str:
    """A CSV text with the table's contract header and the given rows."""
    return "\n".join([sep.join(table.column_names), *rows]) + "\n"


def assert_documented_dtypes(portfolio: Portfolio) -> None:
    for name, frame in portfolio.tables():
        for column in TABLES[name].columns:
            expected = DOCUMENTED_DTYPES[column.kind]
            assert frame[column.name].dtype == expected, (name, column.name)


def test_valid_export_reads_into_the_documented_dtypes() -> None:
    portfolio = read_portfolio(MINIMAL)
    assert_documented_dtypes(portfolio)
    assert portfolio.summary() == {
        "tenancies": 2,
        "incomes": 2,
        "apl": 2,
        "ledger": 4,
        "support": 1,
    }
    assert list(portfolio.tenancies.columns) == list(TENANCIES.column_names)


def test_empty_ledger_posted_date_is_filled_with_the_event_date() -> None:
    ledger = read_portfolio(MINIMAL).ledger
    row = ledger.iloc[1]
    assert row["posted_date"] == row["event_date"] == pd.Timestamp("2023-02-05")


def test_empty_nullable_values_become_missing() -> None:
    portfolio = read_portfolio(MINIMAL)
    assert portfolio.tenancies["end_date"].isna().iloc[0]
    assert portfolio.ledger["payment_method"].isna().iloc[0]


def test_missing_support_table_gives_an_empty_typed_frame(tmp_path: Path) -> None:
    folder = export(tmp_path)
    (folder / "support.csv").unlink()
    support = read_portfolio(folder).support
    pd.testing.assert_frame_equal(support, empty_table("support"))


def test_missing_optional_column_is_added_empty(tmp_path: Path) -> None:
    columns = [c for c in LEDGER.column_names if c != "payment_method"]
    text = ",".join(columns) + "\nT1,2023-02-01,2023-02-01,rent_charge,450.50\n"
    ledger = read_portfolio(export(tmp_path, ledger=text)).ledger
    assert list(ledger.columns) == list(LEDGER.column_names)
    assert ledger["payment_method"].dtype == "str"
    assert ledger["payment_method"].isna().all()


def test_export_columns_outside_the_contract_are_kept_after_the_contract_ones(
    tmp_path: Path,
) -> None:
    header = ",".join((*TENANCIES.column_names, "agence"))
    rows = [
        "T1,R1,fjt,2023-01-01,,450.50,visale,1995,single,0,Nord",
        "T2,R1,fjt,2023-02-01,,520,none,1980,single,2,Sud",
    ]
    tenancies = read_portfolio(export(tmp_path, tenancies="\n".join([header, *rows]))).tenancies
    assert list(tenancies.columns) == [*TENANCIES.column_names, "agence"]
    assert tenancies["agence"].tolist() == ["Nord", "Sud"]


def test_french_csv_dialect_is_read(tmp_path: Path) -> None:
    # Latin-1, semicolons, decimal commas, French dates, thousands with a no-break space.
    text = lines(
        TENANCIES,
        "T1;Résidence Lilas;fjt;02/01/2023;;1\u00a0012,40;visale;1995;single;0",
        "T2;R1;fjt;01/02/2023;31/12/2023;520;none;1980;single;2",
        sep=";",
    )
    portfolio = read_portfolio(export(tmp_path, tenancies=text.encode("latin-1")))
    row = portfolio.tenancies.iloc[0]
    assert row["residence_id"] == "Résidence Lilas"
    assert row["monthly_rent"] == pytest.approx(1012.40)
    assert row["start_date"] == pd.Timestamp("2023-01-02")


@pytest.mark.parametrize(
    ("written", "amount"),
    [
        ("1234.56", 1234.56),
        ("1234,56", 1234.56),
        ("1 234,56", 1234.56),
        ("1\u00a0234,56", 1234.56),
        ("1\u202f234,56", 1234.56),
        ("12\u202f345", 12345.0),
        ("1 234,56 €", 1234.56),
        ("0,50", 0.5),  # a zero ledger amount is refused (ZERO_AMOUNT)
        ("12.50", 12.5),
    ],
)
def test_amounts_are_read_as_french_exports_write_them(
    tmp_path: Path, written: str, amount: float
) -> None:
    text = lines(LEDGER, f"T1;2023-02-01;;rent_charge;{written};", sep=";")
    ledger = read_portfolio(export(tmp_path, ledger=text)).ledger
    assert ledger.loc[0, "amount"] == pytest.approx(amount)


def test_iso_and_french_dates_may_be_mixed_in_one_column(tmp_path: Path) -> None:
    text = lines(
        LEDGER,
        "T1,2023-02-01,,rent_charge,1,",
        "T1,05/02/2023,,rent_charge,1,",
        "T1,7/2/2023,,rent_charge,1,",
    )
    ledger = read_portfolio(export(tmp_path, ledger=text)).ledger
    assert ledger["event_date"].tolist() == [
        pd.Timestamp("2023-02-01"),
        pd.Timestamp("2023-02-05"),
        pd.Timestamp("2023-02-07"),
    ]


@pytest.mark.parametrize(
    ("word", "value"),
    [
        ("true", True),
        ("False", False),
        ("1", True),
        ("0", False),
        ("oui", True),
        ("NON", False),
        ("yes", True),
        ("no", False),
        ("Vrai", True),
        ("faux", False),
    ],
)
def test_bool_columns_accept_english_and_french_words(
    tmp_path: Path, word: str, value: bool
) -> None:
    text = lines(APL, f"T1,2023-01-01,2023-01-20,180,{word}", "T2,2023-02-01,2023-02-15,0,0")
    apl = read_portfolio(export(tmp_path, apl=text)).apl
    assert apl["paid_to_landlord"].dtype == bool
    assert apl.loc[0, "paid_to_landlord"] == value


def test_utf8_with_bom_is_read(tmp_path: Path) -> None:
    text = lines(LEDGER, "T1,2023-02-01,,rent_charge,1,")
    ledger = read_portfolio(export(tmp_path, ledger=b"\xef\xbb\xbf" + text.encode())).ledger
    assert list(ledger.columns) == list(LEDGER.column_names)


def test_tab_separated_file_is_read(tmp_path: Path) -> None:
    text = lines(LEDGER, "T1\t2023-02-01\t\trent_charge\t1\t", sep="\t")
    assert len(read_portfolio(export(tmp_path, ledger=text)).ledger) == 1


def test_trailing_delimiter_of_spreadsheet_exports_is_ignored(tmp_path: Path) -> None:
    text = "\n".join([";".join(LEDGER.column_names) + ";", "T1;2023-02-01;;rent_charge;1;;"])
    ledger = read_portfolio(export(tmp_path, ledger=text)).ledger
    assert list(ledger.columns) == list(LEDGER.column_names)


def test_column_with_values_but_no_header_is_kept_under_a_made_up_name(tmp_path: Path) -> None:
    text = "\n".join([",".join(LEDGER.column_names) + ",", "T1,2023-02-01,,rent_charge,1,,x"])
    ledger = read_portfolio(export(tmp_path, ledger=text)).ledger
    assert ledger["unnamed_7"].tolist() == ["x"]


def test_latin1_file_is_read_without_declaration_when_it_has_no_control_bytes() -> None:
    assert decode_text("Orléans;1\u00a0012,40".encode("latin-1")) == (
        "Orléans;1\u00a0012,40",
        "latin-1",
    )


def test_windows_1252_file_needs_a_declaration() -> None:
    data = "l’agence;12 €".encode("cp1252")
    with pytest.raises(UnreadableFileError) as undeclared:
        decode_text(data)
    assert undeclared.value.rule == UNDECODABLE_BYTES
    assert "cp1252" in undeclared.value.detail
    assert decode_text(data, declared="cp1252") == ("l’agence;12 €", "cp1252")


def test_declared_latin1_accepts_any_byte() -> None:
    assert decode_text(b"a\x92b", declared="latin-1") == ("a\x92b", "latin-1")


def test_undecodable_byte_offset_counts_the_bom() -> None:
    with pytest.raises(UnreadableFileError) as error:
        decode_text(b"\xef\xbb\xbfab\x81c")
    assert error.value.value == "0x81"
    assert error.value.detail.startswith("at byte offset 5 (line 1)")


def test_parquet_export_with_python_dates_is_read_as_datetime64(tmp_path: Path) -> None:
    folder = export(tmp_path)
    (folder / "ledger.csv").unlink()
    pd.DataFrame(
        {
            "tenancy_id": ["T1", "T2"],
            "event_date": [dt.date(2023, 2, 1), dt.date(2023, 3, 1)],
            "posted_date": [None, dt.date(2023, 3, 2)],
            "kind": ["rent_charge", "rent_charge"],
            "amount": [450.5, 520.0],
        }
    ).to_parquet(folder / "ledger.parquet")
    ledger = read_portfolio(folder).ledger
    assert ledger["event_date"].dtype == "datetime64[ns]"
    assert (ledger["posted_date"] >= ledger["event_date"]).all()
    assert ledger.loc[0, "posted_date"] == pd.Timestamp("2023-02-01")


def test_parquet_integer_ids_and_codes_are_read_as_text(tmp_path: Path) -> None:
    folder = export(tmp_path)
    for name in ("tenancies", "incomes", "apl", "ledger", "support"):
        (folder / f"{name}.csv").unlink()
    frames = read_portfolio(MINIMAL)
    renumber = {"T1": 101, "T2": 102}
    for name, frame in frames.tables():
        frame.assign(tenancy_id=frame["tenancy_id"].map(renumber)).to_parquet(
            folder / f"{name}.parquet"
        )
    assert read_portfolio(folder).tenancies["tenancy_id"].tolist() == ["101", "102"]


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_written_portfolio_reads_back_equal(tmp_path: Path, fmt: str) -> None:
    original = read_portfolio(MINIMAL)
    folder = original.write(tmp_path / fmt, fmt=fmt)  # type: ignore[arg-type]
    again = read_portfolio(folder)
    for (name, frame), (_, frame_again) in zip(original.tables(), again.tables(), strict=True):
        pd.testing.assert_frame_equal(frame, frame_again, obj=name)


def test_read_portfolio_raises_a_violation_carrying_the_full_report(tmp_path: Path) -> None:
    text = lines(LEDGER, "T1,2023-02-01,,rent_charge,-1,", "T9,2023-02-01,,rent_charge,1,")
    with pytest.raises(ContractViolation) as violation:
        read_portfolio(export(tmp_path, ledger=text))
    report = violation.value.report
    assert report.counts == {NEGATIVE_AMOUNT: 1, UNKNOWN_TENANCY: 1}
    assert NEGATIVE_AMOUNT in str(violation.value)


def test_french_example_export_validates_through_the_example_mapping() -> None:
    report = validate_directory(EXAMPLES / "export-fr", EXAMPLES / "mapping-fr.yaml")
    assert report.ok, report.render()


def test_french_example_export_reads_into_contract_names_and_codes() -> None:
    portfolio = read_portfolio(EXAMPLES / "export-fr", EXAMPLES / "mapping-fr.yaml")
    assert_documented_dtypes(portfolio)
    tenancies = portfolio.tenancies
    assert list(tenancies.columns) == [*TENANCIES.column_names, "agency"]
    assert set(tenancies["guarantee"]) <= set(TENANCIES.column("guarantee").codes)
    assert tenancies.loc[5, "monthly_rent"] == pytest.approx(1012.40)
    assert tenancies.loc[0, "agency"] == "Orléans Nord"
    assert portfolio.apl["paid_to_landlord"].tolist()[:3] == [True, True, False]
    assert len(portfolio.support) == 6


def test_french_example_export_without_its_mapping_is_refused() -> None:
    report = validate_directory(EXAMPLES / "export-fr", Mapping())
    assert not report.ok
