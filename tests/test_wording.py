"""The column-wise wording gives, row for row, the words of the one-value functions.

:func:`risk.wording.word_reasons` words each class of values that round alike once
(amounts to the euro, shares to the percent) and :func:`risk.wording.counterfactual_lines`
writes many "what would lower the risk" lines at once; both must say exactly what
:func:`risk.wording.reason_text`, :func:`risk.wording.format_value` and
:func:`risk.wording.counterfactual_text` say for each row on its own.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from risk.catalogue import get_feature
from risk.explanation import MAX_REASONS, Reason
from risk.wording import (
    ReasonTable,
    counterfactual_lines,
    counterfactual_text,
    format_value,
    reason_text,
    word_reasons,
)

FIELDS = tuple(Reason.__dataclass_fields__)

# Values around the rounding edges of each unit: half-euros and half-percents (both
# ways, and as sums that land just off the half), cents apart, negatives, zero of both
# signs, thousands, unknown.
AMOUNTS = [
    0.0,
    -0.0,
    0.49,
    0.5,
    0.51,
    1.5,
    2.5,
    -0.5,
    -0.49,
    -1.5,
    12.345,
    12.35,
    0.1 + 0.2 + 0.2,
    999.5,
    1234.5,
    1234.49,
    10_000.0,
    -120.4,
    np.nan,
    12.5,
    12.5000001,
    12.4999999,
]
SHARES = [
    0.0,
    -0.0,
    0.005,
    0.0049999,
    0.015,
    0.125,
    0.135,
    0.145,
    0.285,
    0.29,
    0.575,
    1.005,
    0.45399,
    0.454,
    2.0,
    np.nan,
    0.1 + 0.2,
    0.565,
    0.115,
]


@pytest.mark.parametrize(
    ("name", "values"),
    [
        ("balance_eur", AMOUNTS),  # EUR
        ("income_monthly", AMOUNTS),  # EUR/month
        ("remaining_income_per_cu", AMOUNTS),  # EUR/month per consumption unit
        ("effort_rate", SHARES),  # ratio
        ("apl_rent_share", SHARES),  # ratio
        ("balance_months", AMOUNTS),  # months of residual rent: worded value by value
        ("apl_entitled", [0.0, 1.0, np.nan]),  # flag
        ("household_type", [0.0, 1.0, 2.0, np.nan]),  # categorical codes
    ],
)
def test_word_reasons_words_every_row_as_reason_text_does(name, values) -> None:
    table = ReasonTable(["monthly_rent", name])
    rows = len(values)
    matrix = np.column_stack([np.full(rows, 500.0), np.asarray(values, dtype=np.float64)])
    chosen = np.full((rows, MAX_REASONS), -1, dtype=np.intp)
    chosen[:, 0] = 1
    chosen[::2, 1] = 0  # a second reason on every other row, from another feature
    contribution = np.where(chosen >= 0, 0.5, np.nan)
    order = np.zeros_like(chosen)
    out = word_reasons(table, matrix, chosen, contribution, order, FIELDS)
    feature = get_feature(name)
    categories = table.categories[1]
    for i, number in enumerate(values):
        value = (
            number if categories is None else categories[-1 if np.isnan(number) else int(number)]
        )
        assert out["text_fr"][i, 0] == reason_text(feature, value, "fr")
        assert out["text_en"][i, 0] == reason_text(feature, value, "en")
        assert out["value_fr"][i, 0] == format_value(feature, value, "fr")
        assert out["value_en"][i, 0] == format_value(feature, value, "en")
        stored = out["value"][i, 0]
        assert stored is value or stored == value or (np.isnan(stored) and np.isnan(number))
        rent = get_feature("monthly_rent")
        assert out["text_en"][i, 1] == (reason_text(rent, 500.0, "en") if i % 2 == 0 else None)


def test_amounts_a_cent_apart_share_their_words_but_keep_their_values() -> None:
    table = ReasonTable(["balance_eur"])
    values = np.array([[120.01], [119.99], [120.49], [120.5]])
    chosen = np.zeros((4, 1), dtype=np.intp)
    out = word_reasons(table, values, chosen, np.ones((4, 1)), chosen, FIELDS)
    assert out["value_en"][:, 0].tolist() == ["120", "120", "120", "121"]
    assert out["value"][:, 0].tolist() == [120.01, 119.99, 120.49, 120.5]


def _changes() -> list:
    return [
        get_feature(name).counterfactual
        for name in ("apl_change_3m", "balance_eur", "failed_contacts_6m", "apl_paid_to_landlord")
    ]


def test_counterfactual_lines_are_the_one_row_lines() -> None:
    rng = np.random.default_rng(0)
    changes = _changes()
    n = 400
    which = rng.integers(0, len(changes), n)
    change = np.array([changes[k] for k in which], dtype=object)
    # Amounts that repeat (and round alike), unknown values, None; probabilities equal
    # to 2 or 3 decimals so that the digits grow, and a few exactly equal.
    values = np.array(
        [[210.0, 209.6, 1234.5, np.nan, None, 0.0, -0.0, 12.5][k] for k in rng.integers(0, 8, n)],
        dtype=object,
    )
    before = rng.uniform(0, 1, n)
    after = before - rng.choice([0.2, 0.004, 0.0004, 0.00004, 0.0], n)
    after = np.clip(after, 0, 1)
    fr, en = counterfactual_lines(change, values, before, after)
    for i in range(n):
        assert fr[i] == counterfactual_text(change[i], values[i], before[i], after[i], "fr")
        assert en[i] == counterfactual_text(change[i], values[i], before[i], after[i], "en")
    assert any(re.search(r"de \d,\d{3,4} à", line) for line in fr)  # the digits grew


def test_counterfactual_lines_of_no_row_are_empty() -> None:
    empty = np.empty(0, dtype=object)
    fr, en = counterfactual_lines(empty, empty, np.empty(0), np.empty(0))
    assert fr.shape == en.shape == (0,)
