import pandas as pd
import pytest

from feature_timelines import portfolio, tenancy
from risk.config import DataConfig
from risk.dataset import (
    EMPTY_LEDGER,
    data_fingerprint,
    label_complete_by,
    labelled_rows,
    rows_of,
    training_window,
)
from risk.portfolio import Portfolio


def ts(text: str) -> pd.Timestamp:
    return pd.Timestamp(text)


def test_a_label_is_complete_on_the_first_day_after_its_last_watched_month_end() -> None:
    # as of 2024-03-01 with 3 months: March, April and May month-ends -> over on June 1st
    assert not label_complete_by(ts("2024-03-01"), 3, ts("2024-05-31"))
    assert label_complete_by(ts("2024-03-01"), 3, ts("2024-06-01"))


def test_the_window_runs_monthly_to_the_last_date_complete_by_the_cut_off(
    small_simulation,
) -> None:
    config = DataConfig(train_until="2024-01-01", horizon_months=3)
    window = training_window(small_simulation.portfolio, config)
    assert window.cutoff == ts("2024-01-01")
    assert window.dates[-1] == ts("2023-10-01")  # Oct, Nov, Dec month-ends
    # history_months (6) after the first ledger month, 2019-01
    assert window.dates[0] == ts("2019-07-01")
    gaps = {(b - a).days for a, b in zip(window.dates, window.dates[1:], strict=False)}
    assert gaps <= {28, 29, 30, 31}


def test_the_cut_off_never_runs_past_the_end_of_the_data(small_simulation) -> None:
    window = training_window(small_simulation.portfolio, DataConfig(train_until="2031-01-01"))
    assert window.cutoff == ts("2025-01-01")  # the simulation ends in December 2024


def test_a_first_as_of_within_a_month_starts_at_the_next_month(small_simulation) -> None:
    config = DataConfig(first_as_of="2020-02-15")
    assert training_window(small_simulation.portfolio, config).dates[0] == ts("2020-03-01")


def test_an_empty_ledger_is_refused() -> None:
    empty = portfolio(tenancies=[tenancy("T1", start="2020-01-01")])
    with pytest.raises(ValueError, match=EMPTY_LEDGER):
        training_window(empty, DataConfig())


def test_rows_without_a_label_are_not_training_rows() -> None:
    features = pd.DataFrame(
        {
            "tenancy_id": ["A", "B", "C"],
            "as_of": [ts("2024-01-01")] * 3,
            "balance_eur": [0.0, 900.0, 10.0],
        }
    )
    labels = pd.DataFrame(
        {
            "tenancy_id": ["A", "B", "C"],
            "as_of": [ts("2024-01-01")] * 3,
            "label": pd.array([0, pd.NA, 1], dtype="Int8"),  # B: already in arrears
            "status": ["negative", "in_arrears_at_as_of", "positive"],
        }
    )
    rows = labelled_rows(features, labels)
    assert rows["tenancy_id"].tolist() == ["A", "C"]
    assert rows["label"].tolist() == [0, 1]
    assert rows_of(rows, [ts("2024-02-01")]).empty


def test_the_fingerprint_ignores_row_order_but_not_content(small_simulation) -> None:
    original = small_simulation.portfolio
    shuffled = Portfolio(**{
        name: table.sample(frac=1.0, random_state=0) for name, table in original.tables()
    })
    assert data_fingerprint(shuffled) == data_fingerprint(original)
    ledger = original.ledger.copy()
    ledger.loc[ledger.index[0], "amount"] += 0.01
    changed = Portfolio(**{**dict(original.tables()), "ledger": ledger})
    assert data_fingerprint(changed) != data_fingerprint(original)
