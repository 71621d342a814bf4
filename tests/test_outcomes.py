"""Reading and checking the outcomes table a team supplies."""

from __future__ import annotations

from pathlib import Path

import pytest

from risk import outcomes as oc
from risk.outcomes import read_outcomes


@pytest.mark.parametrize(
    ("csv", "code"),
    [
        ("tenancy_id,label\nt1,1\n", oc.OUTCOMES_MISSING_COLUMN),
        ("tenancy_id,as_of,label\nt1,2024-01-01,2\n", oc.OUTCOMES_LABEL_NOT_BINARY),
        ("tenancy_id,as_of,label\nt1,2024-01-01,\n", oc.OUTCOMES_LABEL_NOT_BINARY),
        ("tenancy_id,as_of,label\nt1,2024-01-01,yes\n", oc.OUTCOMES_LABEL_NOT_BINARY),
        ("tenancy_id,as_of,label\nt1,01/13/2024,1\n", oc.OUTCOMES_UNPARSEABLE_DATE),
        ("tenancy_id,as_of,label\nt1,,1\n", oc.OUTCOMES_UNPARSEABLE_DATE),
        ("tenancy_id,as_of,label\nt1,2024-01-01,1\nt1,2024-01-01,0\n", oc.OUTCOMES_DUPLICATE_KEY),
        ("tenancy_id,as_of,label\n,2024-01-01,1\n", oc.OUTCOMES_EMPTY_ID),
    ],
)
def test_a_bad_outcomes_table_is_refused_with_its_named_error(tmp_path: Path, csv: str, code: str):
    path = tmp_path / "outcomes.csv"
    path.write_text(csv)
    with pytest.raises(oc.OutcomesError) as err:
        read_outcomes(path)
    assert err.value.code == code


def test_an_outcomes_file_of_another_format_is_refused(tmp_path: Path):
    path = tmp_path / "outcomes.xlsx"
    path.write_bytes(b"")
    with pytest.raises(oc.OutcomesError) as err:
        read_outcomes(path)
    assert err.value.code == oc.OUTCOMES_UNKNOWN_FORMAT


def test_offending_rows_are_counted_from_one_like_validation(tmp_path: Path):
    path = tmp_path / "outcomes.csv"
    path.write_text("tenancy_id,as_of,label\nt1,2024-01-01,1\nt2,2024-01-01,1\nt3,2024-01-01,7\n")
    with pytest.raises(oc.OutcomesError) as err:
        read_outcomes(path)
    assert "data row(s) 3 (counted from 1): '7'" in str(err.value)


def test_duplicate_rows_name_both_rows_from_one(tmp_path: Path):
    path = tmp_path / "outcomes.csv"
    path.write_text("tenancy_id,as_of,label\nt1,2024-01-01,1\nt1,2024-01-01,0\n")
    with pytest.raises(oc.OutcomesError) as err:
        read_outcomes(path)
    assert "data row(s) 1, 2 (counted from 1)" in str(err.value)
