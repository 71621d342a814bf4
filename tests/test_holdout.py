"""The random hold-out of the work list: drawn down the ranking, capacity kept in full."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from risk.holdout import BAD_SHARE, keyed_draws, worklist_with_holdout


def _scores(n: int, ineligible: tuple[int, ...] = ()) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "tenancy_id": [f"T{i:03d}" for i in range(n)],
            "rank": np.arange(1, n + 1),
            "eligible": [i not in ineligible for i in range(n)],
        }
    )


def test_without_a_share_the_list_is_the_k_first_eligible_households() -> None:
    listed = worklist_with_holdout(_scores(10, ineligible=(1,)), 3, 0.0)
    assert listed["tenancy_id"].tolist() == ["T000", "T002", "T003"]
    assert not listed["held_out"].any()


def test_with_a_share_exactly_k_households_are_still_to_be_contacted() -> None:
    for seed in range(20):
        listed = worklist_with_holdout(_scores(500), 50, 0.2, np.random.default_rng(seed))
        assert (~listed["held_out"]).sum() == 50
        # The list ends on a contacted household: nobody is held out past the k-th contact.
        assert not listed["held_out"].iloc[-1]
        assert listed["rank"].tolist() == list(range(1, len(listed) + 1))


def test_the_held_out_share_is_close_to_the_declared_one() -> None:
    listed = worklist_with_holdout(_scores(20_000), 10_000, 0.05, np.random.default_rng(1))
    share = listed["held_out"].mean()
    assert share == pytest.approx(0.05, abs=0.01)


def test_the_draw_is_the_generators() -> None:
    first = worklist_with_holdout(_scores(300), 30, 0.3, np.random.default_rng(7))
    again = worklist_with_holdout(_scores(300), 30, 0.3, np.random.default_rng(7))
    pd.testing.assert_frame_equal(first, again)


def test_fewer_eligible_households_than_k_lists_them_all() -> None:
    listed = worklist_with_holdout(_scores(5, ineligible=(0, 1)), 10, 0.0)
    assert len(listed) == 3


@pytest.mark.parametrize("share", [-0.1, 1.0, 2.0])
def test_a_share_outside_zero_to_one_is_refused(share: float) -> None:
    with pytest.raises(ValueError, match=BAD_SHARE.split("{")[0]):
        worklist_with_holdout(_scores(5), 2, share)


def test_keyed_draws_are_fixed_for_a_key_and_a_cycle_and_look_uniform() -> None:
    ids = [f"T{i:05d}" for i in range(4_000)]
    first = keyed_draws(b"k" * 32, "2024-06-01", ids)
    np.testing.assert_array_equal(first, keyed_draws(b"k" * 32, "2024-06-01", ids))
    assert not np.array_equal(first, keyed_draws(b"k" * 32, "2024-07-01", ids))
    assert ((first >= 0) & (first < 1)).all()
    assert np.histogram(first, bins=4, range=(0, 1))[0].min() > 900  # ~1,000 a quarter


def test_given_draws_decide_who_is_held_out() -> None:
    scores = _scores(6)
    draws = np.array([0.9, 0.1, 0.9, 0.1, 0.9, 0.9])
    listed = worklist_with_holdout(scores, 3, 0.5, draws=draws)
    assert listed["held_out"].tolist() == [False, True, False, True, False]
