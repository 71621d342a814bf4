"""The YAML mapping from an export's own names and codes to the contract."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from contract_exports import MINIMAL, export
from risk.contract import TABLES, TENANCIES
from risk.ingestion import read_portfolio
from risk.mapping import Mapping, MappingError, TableMapping, load_mapping, parse_mapping
from risk.validation import INVALID_MAPPING, MISSING_COLUMN, UNKNOWN_CODE, validate_directory

EXAMPLE_MAPPING = Path(__file__).parents[1] / "examples" / "mapping-fr.yaml"


def french_tenancies(tmp_path: Path, mapping: str) -> tuple[Path, Path]:
    """The minimal export with tenancies renamed to baux.csv under French headers."""
    folder = export(tmp_path)
    (folder / "tenancies.csv").unlink()
    (folder / "baux.csv").write_text(
        "N° bail;Résidence;Type;Entrée;Sortie;Loyer;Garantie;Naissance;Ménage;Enfants;Agence\n"
        "T1;R1;FJT;02/01/2023;;412,50;VISALE;1995;ISOLÉ;0;Nord\n"
        "T2;R1;RS;01/02/2023;;520,00;SANS;1980;ISOLÉ;2;Sud\n",
        encoding="utf-8",
    )
    path = tmp_path / "mapping.yaml"
    path.write_text(mapping, encoding="utf-8")
    return folder, path


FRENCH_TENANCIES = """
tables:
  tenancies:
    file: baux.csv
    columns:
      N° bail: tenancy_id
      Résidence: residence_id
      Type: residence_type
      Entrée: start_date
      Sortie: end_date
      Loyer: monthly_rent
      Garantie: guarantee
      Naissance: tenant_birth_year
      Ménage: household_type
      Enfants: children
      Agence: agency
    codes:
      residence_type: {FJT: fjt, RS: residence_sociale}
      guarantee: {VISALE: visale, SANS: none}
      household_type: {ISOLÉ: single}
"""


def test_example_mapping_loads_and_names_every_required_table() -> None:
    mapping = load_mapping(EXAMPLE_MAPPING)
    assert mapping.encoding == "latin-1"
    assert mapping.delimiter == ";"
    assert set(mapping.tables) == set(TABLES)


def test_file_names_headers_and_local_codes_are_mapped(tmp_path: Path) -> None:
    folder, mapping = french_tenancies(tmp_path, FRENCH_TENANCIES)
    tenancies = read_portfolio(folder, mapping).tenancies
    assert list(tenancies.columns) == [*TENANCIES.column_names, "agency"]
    assert tenancies["residence_type"].tolist() == ["fjt", "residence_sociale"]
    assert tenancies["guarantee"].tolist() == ["visale", "none"]
    assert tenancies["agency"].tolist() == ["Nord", "Sud"]


def test_unmapped_local_code_is_reported_with_the_value_the_export_holds(tmp_path: Path) -> None:
    folder, mapping = french_tenancies(tmp_path, FRENCH_TENANCIES.replace(", SANS: none", ""))
    report = validate_directory(folder, mapping)
    assert report.counts == {UNKNOWN_CODE: 1}
    (problem,) = report.problems()
    assert (problem.row, problem.column, problem.value) == (2, "guarantee", "SANS")


def test_mapped_header_absent_from_the_export_is_a_missing_column(tmp_path: Path) -> None:
    folder, mapping = french_tenancies(
        tmp_path, FRENCH_TENANCIES.replace("Loyer: monthly_rent", "Loyer CC: monthly_rent")
    )
    report = validate_directory(folder, mapping)
    assert report.counts == {MISSING_COLUMN: 1}
    assert "column monthly_rent (export: 'Loyer CC')" in "\n".join(report.render())


def test_invalid_mapping_file_is_reported_not_raised(tmp_path: Path) -> None:
    path = tmp_path / "mapping.yaml"
    path.write_text("tables:\n  baux: {}\n", encoding="utf-8")
    report = validate_directory(MINIMAL, path)
    assert report.counts == {INVALID_MAPPING: 1}
    assert "unknown table 'baux'" in report.problems()[0].detail


def test_missing_mapping_file_is_reported(tmp_path: Path) -> None:
    report = validate_directory(MINIMAL, tmp_path / "absent.yaml")
    assert report.counts == {INVALID_MAPPING: 1}


def test_unreadable_yaml_is_an_invalid_mapping(tmp_path: Path) -> None:
    path = tmp_path / "mapping.yaml"
    path.write_text("tables: [unclosed\n", encoding="utf-8")
    with pytest.raises(MappingError, match="cannot read the mapping"):
        load_mapping(path)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"tabels": {}}, "unknown keys"),
        ({"encoding": "ebcdic"}, "encoding 'ebcdic'"),
        ({"delimiter": ":"}, "delimiter ':'"),
        ({"decimal": ";"}, "decimal ';'"),
        ({"tables": {"ledger": {"colonnes": {}}}}, "unknown keys"),
        ({"tables": {"ledger": {"codes": {"amount": {"X": "y"}}}}}, "holds money values"),
        ({"tables": {"ledger": {"codes": {"nature": {"X": "y"}}}}}, "not a column"),
        ({"tables": {"ledger": {"codes": {"kind": {"LOYER": "rent"}}}}}, "'rent'"),
        ({"tables": {"ledger": {"codes": {"kind": {1: "rent_charge"}}}}}, "must be text"),
        ({"tables": {"ledger": {"columns": {"A": "amount", "B": "amount"}}}}, "several"),
        ({"tables": {"ledger": {"file": 3}}}, "file name"),
        (["not", "a", "mapping"], "expected a mapping"),
    ],
)
def test_mapping_mistakes_are_refused_with_where_and_why(data: object, message: str) -> None:
    with pytest.raises(MappingError, match=message):
        parse_mapping(data, source="m.yaml")


def test_yaml_booleans_are_accepted_as_bool_targets() -> None:
    mapping = parse_mapping({"tables": {"apl": {"codes": {"paid_to_landlord": {"TP": True}}}}})
    assert mapping.table("apl").codes == {"paid_to_landlord": {"TP": "true"}}


def test_yaml_boolean_as_a_local_code_is_refused() -> None:
    with pytest.raises(MappingError, match="quote"):
        parse_mapping({"tables": {"apl": {"codes": {"paid_to_landlord": {True: "oui"}}}}})


def test_encoding_spellings_are_normalised() -> None:
    assert parse_mapping({"encoding": "ISO-8859-1"}).encoding == "latin-1"
    assert parse_mapping({"encoding": "Windows-1252"}).encoding == "cp1252"


def test_tables_the_mapping_does_not_list_keep_contract_names() -> None:
    assert Mapping().table("ledger") == TableMapping()


def test_recode_keeps_values_without_an_entry() -> None:
    plan = TableMapping(codes={"kind": {"QUITT": "rent_charge"}})
    frame = pd.DataFrame({"kind": pd.Series(["QUITT", "tenant_payment", None], dtype="str")})
    assert plan.recode(frame)["kind"].tolist()[:2] == ["rent_charge", "tenant_payment"]


def test_mapping_object_can_be_passed_instead_of_a_file(tmp_path: Path) -> None:
    folder, path = french_tenancies(tmp_path, FRENCH_TENANCIES)
    assert validate_directory(folder, load_mapping(path)).ok


def test_a_declared_decimal_point_makes_an_ambiguous_amount_readable(tmp_path: Path) -> None:
    folder = export(tmp_path)
    tenancies = folder / "tenancies.csv"
    lines = tenancies.read_text().splitlines()
    rent = lines[0].split(",").index("monthly_rent")
    cells = lines[1].split(",")
    cells[rent] = '"1.234"'  # quoted: the comma is this file's field delimiter
    lines[1] = ",".join(cells)
    tenancies.write_text("\n".join(lines) + "\n")
    assert not validate_directory(folder).ok  # ambiguous without a declaration
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text('decimal: "."\n')  # this export writes 450.50: a decimal point
    portfolio = read_portfolio(folder, mapping=mapping)
    assert portfolio.tenancies["monthly_rent"].iloc[0] == 1.234
