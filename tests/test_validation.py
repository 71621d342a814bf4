"""Validation of an export folder: every bad input is reported with its message."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from contract_exports import MINIMAL, export
from risk.contract import (
    APL,
    INCOMES,
    LEDGER,
    MAX_AMOUNT_EUR,
    MAX_MONTHLY_APL_EUR,
    MAX_MONTHLY_INCOME_EUR,
    MAX_MONTHLY_RENT_EUR,
    SUPPORT,
    TABLES,
    TENANCIES,
    Table,
)
from risk.formats import AMBIGUOUS_DOT
from risk.ingestion import read_and_check
from risk.validation import (
    ABSURD_AMOUNT,
    ABSURD_BIRTH_YEAR,
    ABSURD_CHILDREN,
    DATES_OUT_OF_ORDER,
    DUPLICATE_COLUMN,
    DUPLICATE_KEY,
    DUPLICATE_TABLE,
    EMPTY_FILE,
    MISSING_COLUMN,
    MISSING_DIRECTORY,
    MISSING_TABLE,
    MISSING_VALUE,
    NEGATIVE_AMOUNT,
    SENSITIVE_COLUMN,
    UNDECODABLE_BYTES,
    UNKNOWN_CODE,
    UNKNOWN_TENANCY,
    UNPARSEABLE_DATE,
    UNREADABLE_FILE,
    WRONG_TYPE,
    ZERO_AMOUNT,
    Problem,
    ValidationReport,
    check_tables,
    validate_directory,
)


def csv(table: Table, *rows: str, columns: tuple[str, ...] | None = None) -> str:
    """A CSV text with the table's contract header (or ``columns``) and the given rows."""
    return "\n".join([",".join(columns or table.column_names), *rows]) + "\n"


def tenancies(*rows: str, columns: tuple[str, ...] | None = None, extra: str = "") -> str:
    """The tenancies CSV with ``rows`` then tenancy T2 (``extra`` appended to its row)."""
    return csv(TENANCIES, *rows, OTHER_TENANCY + extra, columns=columns)


def only(report: ValidationReport, rule: str) -> Problem:
    """The single problem of ``rule``, checking no other rule fired."""
    assert list(report.counts) == [rule], report.render()
    (problem,) = report.problems(rule)
    return problem


TENANCY = "T1,R1,fjt,2023-01-01,,450.50,visale,1995,single,0"
# The minimal export's other tables also refer to T2.
OTHER_TENANCY = "T2,R1,residence_sociale,2023-02-01,2023-12-31,520.00,none,1980,single_parent,2"
LEDGER_ROW = "T1,2023-02-01,2023-02-01,rent_charge,450.50,"


def test_minimal_export_is_valid() -> None:
    report = validate_directory(MINIMAL)
    assert report.ok, report.render()
    assert report.total == 0
    assert report.render()[-1].startswith("No problem found")


def test_missing_folder_is_reported(tmp_path: Path) -> None:
    report = validate_directory(tmp_path / "nowhere")
    only(report, MISSING_DIRECTORY)


def test_missing_required_table_is_reported(tmp_path: Path) -> None:
    folder = export(tmp_path)
    (folder / "apl.csv").unlink()
    problem = only(validate_directory(folder), MISSING_TABLE)
    assert problem.table == APL.name
    assert "apl.csv" in problem.detail


def test_missing_optional_support_table_is_fine(tmp_path: Path) -> None:
    folder = export(tmp_path)
    (folder / "support.csv").unlink()
    assert validate_directory(folder).ok


def test_two_files_for_one_table_are_reported(tmp_path: Path) -> None:
    folder = export(tmp_path)
    pd.read_csv(folder / "apl.csv").to_parquet(folder / "apl.parquet")
    problem = only(validate_directory(folder), DUPLICATE_TABLE)
    assert problem.value == "apl.csv, apl.parquet"


@pytest.mark.parametrize("content", ["", "\n\n", "   \r\n"])
def test_empty_file_is_reported(tmp_path: Path, content: str) -> None:
    problem = only(validate_directory(export(tmp_path, ledger=content)), EMPTY_FILE)
    assert problem.table == LEDGER.name


def test_required_table_with_a_header_only_is_reported_as_empty(tmp_path: Path) -> None:
    problem = only(validate_directory(export(tmp_path, incomes=csv(INCOMES))), EMPTY_FILE)
    assert problem.table == INCOMES.name


def test_optional_table_with_a_header_only_is_fine(tmp_path: Path) -> None:
    assert validate_directory(export(tmp_path, support=csv(SUPPORT))).ok


def test_undecodable_bytes_are_reported_with_their_offset(tmp_path: Path) -> None:
    # 0x92 is a Windows-1252 apostrophe: not UTF-8, and a control character in Latin-1.
    bad = csv(LEDGER, LEDGER_ROW).encode("utf-8") + b"T1,2023-02-01,,rent_charge,1\x92,\n"
    problem = only(validate_directory(export(tmp_path, ledger=bad)), UNDECODABLE_BYTES)
    offset = bad.index(b"\x92")
    assert problem.value == "0x92"
    assert f"offset {offset}" in problem.detail
    assert "line 3" in problem.detail


def test_nul_byte_is_reported_as_undecodable(tmp_path: Path) -> None:
    utf16 = csv(LEDGER, LEDGER_ROW).encode("utf-16")
    problem = only(validate_directory(export(tmp_path, ledger=utf16)), UNDECODABLE_BYTES)
    assert problem.value == "0x00"


def test_line_with_too_many_fields_is_reported_as_unreadable(tmp_path: Path) -> None:
    text = csv(LEDGER, LEDGER_ROW, LEDGER_ROW + ",extra,fields")
    problem = only(validate_directory(export(tmp_path, ledger=text)), UNREADABLE_FILE)
    assert problem.value == "ledger.csv"


def test_corrupt_parquet_file_is_reported_as_unreadable(tmp_path: Path) -> None:
    folder = export(tmp_path)
    (folder / "apl.csv").unlink()
    (folder / "apl.parquet").write_bytes(b"PAR1 not really parquet")
    only(validate_directory(folder), UNREADABLE_FILE)


def test_missing_column_is_reported(tmp_path: Path) -> None:
    columns = tuple(c for c in TENANCIES.column_names if c != "guarantee")
    text = csv(
        TENANCIES,
        "T1,R1,fjt,2023-01-01,,450.50,1995,single,0",
        "T2,R1,fjt,2023-01-01,,450.50,1995,single,0",
        columns=columns,
    )
    problem = only(validate_directory(export(tmp_path, tenancies=text)), MISSING_COLUMN)
    assert (problem.table, problem.column) == (TENANCIES.name, "guarantee")


def test_missing_optional_column_is_fine(tmp_path: Path) -> None:
    columns = tuple(c for c in LEDGER.column_names if c != "payment_method")
    text = csv(LEDGER, "T1,2023-02-01,2023-02-01,rent_charge,450.50", columns=columns)
    assert validate_directory(export(tmp_path, ledger=text)).ok


def test_repeated_header_is_reported(tmp_path: Path) -> None:
    columns = (*TENANCIES.column_names, "children")
    text = tenancies(TENANCY + ",0", columns=columns, extra=",2")
    problem = only(validate_directory(export(tmp_path, tenancies=text)), DUPLICATE_COLUMN)
    assert problem.column == "children"


def test_empty_value_in_a_required_column_is_reported(tmp_path: Path) -> None:
    text = csv(LEDGER, "T1,2023-02-01,2023-02-01,rent_charge,,")
    problem = only(validate_directory(export(tmp_path, ledger=text)), MISSING_VALUE)
    assert (problem.row, problem.column, problem.value) == (1, "amount", None)


def test_empty_value_in_a_nullable_column_is_fine(tmp_path: Path) -> None:
    # The minimal export already has empty end_date, posted_date and payment_method.
    assert validate_directory(MINIMAL).ok


@pytest.mark.parametrize(
    ("column", "row", "value"),
    [
        ("monthly_rent", "T1,R1,fjt,2023-01-01,,4OO,visale,1995,single,0", "4OO"),
        ("monthly_rent", 'T1,R1,fjt,2023-01-01,,"1.234,50",visale,1995,single,0', "1.234,50"),
        ("tenant_birth_year", "T1,R1,fjt,2023-01-01,,450,visale,nineteen,single,0", "nineteen"),
        ("children", "T1,R1,fjt,2023-01-01,,450,visale,1995,single,1.5", "1.5"),
    ],
)
def test_value_of_the_wrong_type_is_reported(
    tmp_path: Path, column: str, row: str, value: str
) -> None:
    text = tenancies(row)
    problem = only(validate_directory(export(tmp_path, tenancies=text)), WRONG_TYPE)
    assert (problem.row, problem.column, problem.value) == (1, column, value)
    assert problem.detail.startswith("expected")


def test_bool_that_is_not_a_known_word_is_reported(tmp_path: Path) -> None:
    text = csv(APL, "T1,2023-01-01,2023-01-20,180,peut-être")
    problem = only(validate_directory(export(tmp_path, apl=text)), WRONG_TYPE)
    assert (problem.column, problem.value) == ("paid_to_landlord", "peut-être")


@pytest.mark.parametrize("date", ["2023-02-30", "31/13/2023", "2023-02-01 10:00", "20230201"])
def test_unparseable_date_is_reported(tmp_path: Path, date: str) -> None:
    text = csv(LEDGER, f"T1,{date},,rent_charge,450.50,")
    problem = only(validate_directory(export(tmp_path, ledger=text)), UNPARSEABLE_DATE)
    assert (problem.column, problem.value) == ("event_date", date)


def test_negative_amount_is_reported(tmp_path: Path) -> None:
    text = csv(LEDGER, "T1,2023-02-01,2023-02-01,tenant_payment,-120,transfer")
    problem = only(validate_directory(export(tmp_path, ledger=text)), NEGATIVE_AMOUNT)
    assert (problem.row, problem.column, problem.value) == (1, "amount", "-120")


def test_absurd_amount_is_reported(tmp_path: Path) -> None:
    amount = f"{MAX_AMOUNT_EUR * 10:.0f}"
    text = csv(INCOMES, f"T1,2023-01-01,2023-01-03,{amount},fixed_term,salary")
    problem = only(validate_directory(export(tmp_path, incomes=text)), ABSURD_AMOUNT)
    assert (problem.column, problem.value) == ("monthly_income", amount)
    assert problem.detail == "the cap for monthly_income is 30,000 EUR"


@pytest.mark.parametrize(
    ("table", "column", "cap", "row"),
    [
        (
            "tenancies",
            "monthly_rent",
            MAX_MONTHLY_RENT_EUR,
            "T1,R1,fjt,2023-01-01,,{},visale,1995,single,0",
        ),
        (
            "incomes",
            "monthly_income",
            MAX_MONTHLY_INCOME_EUR,
            "T1,2023-01-01,2023-01-03,{},fixed_term,salary",
        ),
        ("apl", "monthly_amount", MAX_MONTHLY_APL_EUR, "T1,2023-01-01,2023-01-20,{},true"),
        ("ledger", "amount", MAX_AMOUNT_EUR, "T1,2023-02-01,2023-02-01,rent_charge,{},"),
    ],
)
def test_each_money_column_has_its_own_plausibility_cap(
    tmp_path: Path, table: str, column: str, cap: float, row: str
) -> None:
    at_cap = row.format(f"{cap:.2f}")
    # A tenancy of its own for the second row; other tables' rows differ by posted_date.
    above = row.format(f"{cap + 0.01:.2f}").replace("T1,R1", "T3,R1").replace("-20,", "-21,")
    above = above.replace("-01-03,", "-01-04,").replace("2023-02-01,rent", "2023-02-02,rent")
    text = tenancies(at_cap, above) if table == "tenancies" else csv(TABLES[table], at_cap, above)
    problem = only(validate_directory(export(tmp_path, **{table: text})), ABSURD_AMOUNT)
    assert (problem.table, problem.row, problem.column) == (table, 2, column)
    assert problem.detail == f"the cap for {column} is {cap:,.0f} EUR"


def test_a_zero_monthly_rent_is_refused(tmp_path: Path) -> None:
    text = tenancies("T1,R1,fjt,2023-01-01,,0,visale,1995,single,0")
    problem = only(validate_directory(export(tmp_path, tenancies=text)), ZERO_AMOUNT)
    assert (problem.row, problem.column, problem.value) == (1, "monthly_rent", "0")
    assert ZERO_AMOUNT == "amount is zero, but this column must be above zero"


def test_a_zero_ledger_amount_is_refused(tmp_path: Path) -> None:
    text = csv(LEDGER, LEDGER_ROW, 'T1,2023-02-05,2023-02-05,tenant_payment,"0,00",transfer')
    problem = only(validate_directory(export(tmp_path, ledger=text)), ZERO_AMOUNT)
    assert (problem.row, problem.column, problem.value) == (2, "amount", "0,00")


def test_a_zero_apl_or_income_is_fine(tmp_path: Path) -> None:
    folder = export(
        tmp_path,
        apl=csv(APL, "T1,2023-01-01,2023-01-20,0,false"),
        incomes=csv(INCOMES, "T1,2023-01-01,2023-01-03,0,unemployed,other"),
    )
    assert validate_directory(folder).ok


def test_a_thousands_dot_amount_is_refused_as_ambiguous(tmp_path: Path) -> None:
    text = tenancies("T1,R1,fjt,2023-01-01,,1.234,visale,1995,single,0")
    problem = only(validate_directory(export(tmp_path, tenancies=text)), WRONG_TYPE)
    assert (problem.row, problem.column, problem.value) == (1, "monthly_rent", "1.234")
    assert problem.detail == AMBIGUOUS_DOT
    assert "thousands" in problem.detail and "decimal separator" in problem.detail


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        ("1234.5", 1234.5),
        ('"1 234,56"', 1234.56),
        ('"1234,56"', 1234.56),
        ("12.50", 12.5),
        ("0.125", 0.125),
        ("1234.567", 1234.567),
    ],
)
def test_unambiguous_amounts_still_parse(tmp_path: Path, amount: str, expected: float) -> None:
    text = csv(LEDGER, f"T1,2023-02-01,2023-02-01,tenant_payment,{amount},transfer")
    folder = export(tmp_path, ledger=text)
    report, typed = read_and_check(folder)
    assert report.ok, report.render()
    assert typed["ledger"]["amount"].tolist() == [pytest.approx(expected)]


@pytest.mark.parametrize(("decimal", "expected"), [(",", 1234.0), (".", 1.234)])
def test_a_declared_decimal_separator_resolves_the_thousands_dot(
    decimal: str, expected: float
) -> None:
    values = TENANCY.split(",")
    raw = pd.DataFrame({c: [v] for c, v in zip(TENANCIES.column_names, values, strict=True)})
    raw["end_date"] = None
    raw["monthly_rent"] = "1.234"
    problems, typed = check_tables({"tenancies": raw}, decimal=decimal)
    assert problems.empty
    assert typed["tenancies"]["monthly_rent"].tolist() == [pytest.approx(expected)]


@pytest.mark.parametrize("year", ["1850", "2030"])
def test_absurd_birth_year_is_reported(tmp_path: Path, year: str) -> None:
    text = tenancies(f"T1,R1,fjt,2023-01-01,,450,visale,{year},single,0")
    problem = only(validate_directory(export(tmp_path, tenancies=text)), ABSURD_BIRTH_YEAR)
    assert problem.value == year


@pytest.mark.parametrize("children", ["25", "-1"])
def test_absurd_number_of_children_is_reported(tmp_path: Path, children: str) -> None:
    text = tenancies(f"T1,R1,fjt,2023-01-01,,450,visale,1995,single,{children}")
    problem = only(validate_directory(export(tmp_path, tenancies=text)), ABSURD_CHILDREN)
    assert problem.value == children


def test_duplicate_tenancy_id_is_reported_with_the_first_row(tmp_path: Path) -> None:
    text = csv(TENANCIES, TENANCY, OTHER_TENANCY, TENANCY)
    problem = only(validate_directory(export(tmp_path, tenancies=text)), DUPLICATE_KEY)
    assert (problem.row, problem.column, problem.value) == (3, "tenancy_id", "T1")
    assert problem.detail == "same key as row 1"


def test_duplicate_composite_key_is_found_across_date_formats(tmp_path: Path) -> None:
    text = csv(
        INCOMES,
        "T1,2023-01-01,2023-01-03,1200,fixed_term,salary",
        "T1,01/01/2023,03/01/2023,1300,fixed_term,salary",
    )
    problem = only(validate_directory(export(tmp_path, incomes=text)), DUPLICATE_KEY)
    assert problem.row == 2
    assert problem.column == "tenancy_id, effective_date, posted_date"
    assert problem.value == "T1, 01/01/2023, 03/01/2023"
    assert problem.detail == "same key as row 1"


@pytest.mark.parametrize(
    ("table", "rows"),
    [
        (
            INCOMES,
            (
                "T1,2023-01-01,2023-01-03,1200,fixed_term,salary",
                "T1,2023-01-01,2023-03-15,1150,fixed_term,salary",  # recalculated later
            ),
        ),
        (APL, ("T1,2023-01-01,2023-01-20,180,true", "T1,2023-01-01,2023-04-02,150,true")),
    ],
)
def test_a_later_correction_for_the_same_effective_date_is_not_a_duplicate(
    tmp_path: Path, table: Table, rows: tuple[str, str]
) -> None:
    report = validate_directory(export(tmp_path, **{table.name: csv(table, *rows)}))
    assert report.ok, report.render()


def test_tenancy_ending_before_it_starts_is_reported(tmp_path: Path) -> None:
    text = tenancies("T1,R1,fjt,2023-01-01,2022-12-31,450,visale,1995,single,0")
    rule = DATES_OUT_OF_ORDER.format(later="end_date", earlier="start_date")
    problem = only(validate_directory(export(tmp_path, tenancies=text)), rule)
    assert (problem.row, problem.column, problem.value) == (1, "end_date", "2022-12-31")
    assert problem.detail == "start_date is 2023-01-01"


def test_support_ending_before_it_starts_is_reported(tmp_path: Path) -> None:
    text = csv(SUPPORT, "T2,payment_plan,2023-04-01,2023-03-01,2023-04-01")
    rule = DATES_OUT_OF_ORDER.format(later="end_date", earlier="start_date")
    assert only(validate_directory(export(tmp_path, support=text)), rule).table == SUPPORT.name


def test_ledger_row_posted_before_its_event_is_reported(tmp_path: Path) -> None:
    text = csv(LEDGER, "T1,2023-02-10,2023-02-01,tenant_payment,100,cash")
    rule = DATES_OUT_OF_ORDER.format(later="posted_date", earlier="event_date")
    problem = only(validate_directory(export(tmp_path, ledger=text)), rule)
    assert (problem.column, problem.value) == ("posted_date", "2023-02-01")


def test_income_posted_before_it_takes_effect_is_fine(tmp_path: Path) -> None:
    # A change notified in advance: the contract orders only the ledger's dates.
    text = csv(INCOMES, "T1,2023-03-01,2023-02-15,1200,fixed_term,salary")
    assert validate_directory(export(tmp_path, incomes=text)).ok


def test_ledger_row_for_unknown_tenancy_is_reported(tmp_path: Path) -> None:
    text = csv(LEDGER, LEDGER_ROW, "T9,2023-02-01,2023-02-01,rent_charge,450.50,")
    problem = only(validate_directory(export(tmp_path, ledger=text)), UNKNOWN_TENANCY)
    assert (problem.table, problem.row, problem.column, problem.value) == (
        LEDGER.name,
        2,
        "tenancy_id",
        "T9",
    )


def test_rows_for_unknown_tenancies_are_reported_in_every_table(tmp_path: Path) -> None:
    folder = export(
        tmp_path,
        incomes=csv(INCOMES, "T8,2023-01-01,2023-01-03,1200,fixed_term,salary"),
        apl=csv(APL, "T8,2023-01-01,2023-01-20,180,true"),
        support=csv(SUPPORT, "T8,contact_made,2023-04-01,,2023-04-01"),
    )
    report = validate_directory(folder)
    assert report.counts == {UNKNOWN_TENANCY: 3}
    tables = [p.table for p in report.problems()]
    assert tables == [INCOMES.name, APL.name, SUPPORT.name]


def test_unknown_code_is_reported(tmp_path: Path) -> None:
    text = csv(LEDGER, "T1,2023-02-01,2023-02-01,loyer,450.50,")
    problem = only(validate_directory(export(tmp_path, ledger=text)), UNKNOWN_CODE)
    assert (problem.column, problem.value) == ("kind", "loyer")


@pytest.mark.parametrize(
    ("name", "category"),
    [
        ("nationalite", "nationality"),
        ("Nationalité", "nationality"),
        ("pays_de_naissance", "nationality"),
        ("CountryOfBirth", "nationality"),
        ("origine_ethnique", "ethnic origin"),
        ("Santé", "health"),
        ("etat_de_sante", "health"),
        ("religion", "religion"),
        ("handicap", "disability"),
        ("aah_handicap", "disability"),
        ("AahHandicap", "disability"),
        ("orientation sexuelle", "sexual orientation"),
        ("opinion_politique", "political opinion"),
        ("appartenance_syndicale", "union membership"),
        ("criminal_record", "criminal record"),
        ("Casier judiciaire", "criminal record"),
    ],
)
def test_sensitive_column_is_refused_with_the_reason(
    tmp_path: Path, name: str, category: str
) -> None:
    text = tenancies(TENANCY + ",x", columns=(*TENANCIES.column_names, name), extra=",y")
    problem = only(validate_directory(export(tmp_path, tenancies=text)), SENSITIVE_COLUMN)
    assert (problem.column, problem.detail) == (name, category)
    assert "GDPR art. 9" in problem.rule


@pytest.mark.parametrize("name", ["ressources_suffisantes", "agence", "procedure_judiciaire"])
def test_innocent_extra_column_is_accepted(tmp_path: Path, name: str) -> None:
    text = tenancies(TENANCY + ",x", columns=(*TENANCIES.column_names, name), extra=",y")
    assert validate_directory(export(tmp_path, tenancies=text)).ok


def test_disability_benefit_is_a_legitimate_income_source_value(tmp_path: Path) -> None:
    text = csv(INCOMES, "T1,2023-01-01,2023-01-03,971.37,inactive,disability_benefit")
    assert validate_directory(export(tmp_path, incomes=text)).ok


def test_all_problems_of_a_file_with_several_faults_are_reported_at_once(tmp_path: Path) -> None:
    text = csv(
        TENANCIES,
        "T1,R1,fjt,2023-01-01,,-450,visale,1995,single,0",  # negative rent
        "T2,R1,castle,32/01/2023,,450,visale,1850,single,0",  # code, date, birth year
        "T1,R1,fjt,2023-03-01,2023-02-01,abc,fsl,1990,couple,30",  # key, order, type, count
        ",R1,fjt,2023-03-01,,450,fsl,1990,couple,0",  # missing id
    )
    folder = export(
        tmp_path,
        tenancies=text,
        ledger=csv(LEDGER, "T3,2023-02-01,2023-01-01,rent_charge,450.50,"),
    )
    report = validate_directory(folder)
    found = {(p.table, p.row, p.column, p.rule) for p in report.problems()}
    order = DATES_OUT_OF_ORDER.format(later="end_date", earlier="start_date")
    posted = DATES_OUT_OF_ORDER.format(later="posted_date", earlier="event_date")
    assert found == {
        ("tenancies", 1, "monthly_rent", NEGATIVE_AMOUNT),
        ("tenancies", 2, "residence_type", UNKNOWN_CODE),
        ("tenancies", 2, "start_date", UNPARSEABLE_DATE),
        ("tenancies", 2, "tenant_birth_year", ABSURD_BIRTH_YEAR),
        ("tenancies", 3, "tenancy_id", DUPLICATE_KEY),
        ("tenancies", 3, "end_date", order),
        ("tenancies", 3, "monthly_rent", WRONG_TYPE),
        ("tenancies", 3, "children", ABSURD_CHILDREN),
        ("tenancies", 4, "tenancy_id", MISSING_VALUE),
        ("ledger", 1, "posted_date", posted),
        ("ledger", 1, "tenancy_id", UNKNOWN_TENANCY),
    }
    assert report.total == len(found)


def test_validation_writes_nothing(tmp_path: Path) -> None:
    folder = export(tmp_path, ledger=csv(LEDGER, "T1,2023-02-01,,rent_charge,-1,"))
    before = sorted((p.relative_to(tmp_path), p.stat().st_mtime_ns) for p in tmp_path.rglob("*"))
    validate_directory(folder)
    after = sorted((p.relative_to(tmp_path), p.stat().st_mtime_ns) for p in tmp_path.rglob("*"))
    assert after == before


def test_row_numbers_count_data_rows_from_one(tmp_path: Path) -> None:
    rows = [LEDGER_ROW] * 4 + ["T1,2023-02-01,2023-02-01,rent_charge,-1,"]
    problem = only(validate_directory(export(tmp_path, ledger=csv(LEDGER, *rows))), NEGATIVE_AMOUNT)
    assert problem.row == 5


def test_report_lists_at_most_the_limit_and_counts_every_rule(tmp_path: Path) -> None:
    rows = ["T1,2023-02-01,2023-02-01,rent_charge,-1,"] * 120 + ["T1,bad,,rent_charge,1,"]
    report = validate_directory(export(tmp_path, ledger=csv(LEDGER, *rows)))
    assert report.counts == {NEGATIVE_AMOUNT: 120, UNPARSEABLE_DATE: 1}
    lines = report.render(limit=50)
    assert f"ledger: {NEGATIVE_AMOUNT}: 120 problem(s)" in lines
    assert f"ledger: {UNPARSEABLE_DATE}: 1 problem(s)" in lines
    listed = [line for line in lines if line.startswith("    row ")]
    assert len(listed) == 26  # 25 for each rule, but only one date problem exists
    assert "    ... and 95 more" in lines


def test_report_records_are_plain_dicts(tmp_path: Path) -> None:
    report = validate_directory(export(tmp_path, ledger=csv(LEDGER, "T1,2023-02-01,,loyer,1,")))
    assert report.to_records() == [
        {
            "table": "ledger",
            "row": 1,
            "column": "kind",
            "value": "loyer",
            "rule": UNKNOWN_CODE,
            "detail": "",
        }
    ]


def test_report_shows_the_export_header_of_a_mapped_column(tmp_path: Path) -> None:
    folder = export(tmp_path, ledger=csv(LEDGER, "T1,2023-02-01,,rent_charge,-1,"))
    mapping = tmp_path / "mapping.yaml"
    (folder / "ledger.csv").write_text(
        (folder / "ledger.csv").read_text().replace("amount", "Montant", 1)
    )
    mapping.write_text("tables:\n  ledger:\n    columns:\n      Montant: amount\n")
    lines = validate_directory(folder, mapping).render()
    assert "    row 1, column amount (export: 'Montant'), value '-1'" in lines


@pytest.mark.slow
def test_a_million_ledger_rows_validate_without_false_problems(tmp_path: Path) -> None:
    # Correctness at size only; time and memory are measured by bench/bench_validation.py.
    n = 1_000_000
    rng = np.random.default_rng(0)
    events = pd.Timestamp("2023-01-01") + pd.to_timedelta(rng.integers(0, 365, n), unit="D")
    ledger = pd.DataFrame(
        {
            "tenancy_id": rng.choice(["T1", "T2"], n),
            "event_date": events.strftime("%d/%m/%Y"),
            "posted_date": events.strftime("%Y-%m-%d"),
            "kind": "rent_charge",
            "amount": [f"{a:.2f}".replace(".", ",") for a in rng.uniform(1, 900, n)],
            "payment_method": "",
        }
    )
    folder = export(tmp_path)
    ledger.to_csv(folder / "ledger.csv", index=False, sep=";")
    report = validate_directory(folder)
    assert report.ok, report.render()
