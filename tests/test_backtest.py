import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from risk.backtest import TOO_FEW_MONTHS, final_split, rolling_origin
from risk.dataset import label_complete_by
from risk.timeline import add_months


def monthly(first: str, n: int) -> list[pd.Timestamp]:
    return [add_months(pd.Timestamp(first), k) for k in range(n)]


def test_test_months_are_the_latest_dates_cut_into_refit_blocks() -> None:
    dates = monthly("2020-01-01", 24)
    folds = rolling_origin(
        dates, horizon_months=3, test_months=6, refit_every_months=3, validation_months=2
    )
    assert [f.origin for f in folds] == [pd.Timestamp("2021-07-01"), pd.Timestamp("2021-10-01")]
    assert [len(f.test_dates) for f in folds] == [3, 3]
    assert folds[-1].test_dates[-1] == dates[-1]


def test_a_fold_learns_only_from_dates_whose_horizon_is_over_at_its_origin() -> None:
    dates = monthly("2020-01-01", 24)
    fold = rolling_origin(
        dates, horizon_months=3, test_months=6, refit_every_months=3, validation_months=2
    )[0]
    # Origin 2021-07-01: the label of 2021-04-01 watches April, May and June month-ends,
    # over on 2021-07-01, so it is the latest learnable date; 2021-05-01 is not.
    assert fold.learn_dates[-1] == pd.Timestamp("2021-04-01")
    assert fold.valid_dates == (pd.Timestamp("2021-03-01"), pd.Timestamp("2021-04-01"))
    assert fold.train_dates[-1] == pd.Timestamp("2021-02-01")


def test_validation_months_come_after_every_training_month() -> None:
    folds = rolling_origin(
        monthly("2020-01-01", 30),
        horizon_months=2,
        test_months=9,
        refit_every_months=2,
        validation_months=3,
    )
    for fold in folds:
        assert max(fold.train_dates) < min(fold.valid_dates)


@given(
    n=st.integers(min_value=10, max_value=60),
    horizon=st.integers(min_value=1, max_value=6),
    test=st.integers(min_value=1, max_value=12),
    refit=st.integers(min_value=1, max_value=6),
    validation=st.integers(min_value=1, max_value=4),
)
def test_no_training_label_window_reaches_into_the_test_period(
    n: int, horizon: int, test: int, refit: int, validation: int
) -> None:
    dates = monthly("2019-01-01", n)
    if n < test + horizon + validation + 1:
        with pytest.raises(ValueError, match="the backtest needs at least"):
            rolling_origin(
                dates,
                horizon_months=horizon,
                test_months=test,
                refit_every_months=refit,
                validation_months=validation,
            )
        return
    folds = rolling_origin(
        dates,
        horizon_months=horizon,
        test_months=test,
        refit_every_months=refit,
        validation_months=validation,
    )
    tested = [d for f in folds for d in f.test_dates]
    assert tested == dates[n - test :]  # the test months are partitioned, in order
    for fold in folds:
        first_test = min(fold.test_dates)
        assert fold.origin == first_test
        assert len(fold.train_dates) >= 1
        for date in fold.learn_dates:
            # the horizon of a learnt label is over before the first test month starts
            assert add_months(date, horizon) <= first_test
            assert label_complete_by(date, horizon, fold.origin)
            assert date not in fold.test_dates


def test_too_short_a_window_is_refused_with_what_it_needs() -> None:
    with pytest.raises(ValueError) as error:
        rolling_origin(
            monthly("2020-01-01", 10),
            horizon_months=3,
            test_months=6,
            refit_every_months=3,
            validation_months=2,
        )
    assert str(error.value) == TOO_FEW_MONTHS.format(
        needed=12, test=6, horizon=3, validation=2, available=10
    )


def test_the_final_model_validates_on_the_latest_months() -> None:
    dates = monthly("2020-01-01", 12)
    train, valid = final_split(dates, 3)
    assert valid == tuple(dates[-3:])
    assert train == tuple(dates[:-3])
