"""A random hold-out inside the work list, to measure what contact changes.

A score says who is likely to fall behind, not whether a call helps. To learn that, a
landlord can leave a small random share of the households it would have contacted
without preventive contact for one cycle, record who they were, and later compare their
outcomes with those contacted at the same risk (see ``docs/api.md``). The draw is made
household by household down the ranking: each eligible household is held out with
probability ``share``, and the list goes on until ``k`` households are to be contacted,
so the team's capacity is used in full and the held-out households come from the same
ranks as the contacted ones.

The hold-out is off by default (``share = 0``). It is a decision of the landlord, with
its ethics and data-protection officers: the held-out households still receive every
statutory step of the arrears procedure; only the extra, preventive call is withheld.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable

import numpy as np
import pandas as pd

from risk.metrics import Capacity, CapacityLike, parse_capacity

#: Error raised when the share is not in [0, 1).
BAD_SHARE = "the hold-out share must be at least 0 and below 1, got {share}"


def keyed_draws(key: bytes, cycle: object, tenancy_ids: Iterable[str]) -> np.ndarray:
    """Return one uniform draw in [0, 1) per tenancy, fixed for a secret key and a cycle.

    A work list asked twice in one cycle (a retry, a second tool) then holds out the
    same households, and nobody can predict the draw without the key.

    Parameters
    ----------
    key
        The service's secret.
    cycle
        The cycle (its as-of date); its text form enters the draw.
    tenancy_ids
        The households, in the order wanted.

    Returns
    -------
    numpy.ndarray of float64
    """
    prefix = f"holdout|{cycle}|".encode()
    return np.array(
        [
            int.from_bytes(hmac.digest(key, prefix + str(t).encode(), "sha256")[:8], "big")
            / 2.0**64
            for t in tenancy_ids
        ],
        dtype=np.float64,
    )


def worklist_with_holdout(
    scores: pd.DataFrame,
    capacity_k: CapacityLike,
    share: float,
    rng: np.random.Generator | None = None,
    *,
    draws: np.ndarray | None = None,
) -> pd.DataFrame:
    """Return the work list of ``k`` households to contact, with the held-out ones beside.

    Parameters
    ----------
    scores
        Scores of one as-of date (:func:`risk.scoring.score_features`): ``rank`` and
        ``eligible`` at least.
    capacity_k
        Households the team can contact: a number or a share of the eligible ones
        (``"5%"``), as in :func:`risk.scoring.worklist`.
    share
        Probability that each household reached down the ranking is held out.
    rng
        Random generator; a fresh one from the operating system's entropy by default.
    draws
        Uniform draws in [0, 1), one per row of ``scores`` (e.g. :func:`keyed_draws`);
        used instead of ``rng`` when given.

    Returns
    -------
    pandas.DataFrame
        Eligible rows in rank order with a bool column ``held_out``: exactly ``k``
        rows with ``held_out = False`` (fewer when fewer are eligible) and the held-out
        rows drawn among them.

    Raises
    ------
    ValueError
        :data:`BAD_SHARE`.
    """
    if not 0.0 <= share < 1.0:
        raise ValueError(BAD_SHARE.format(share=share))
    capacity = capacity_k if isinstance(capacity_k, Capacity) else parse_capacity(capacity_k)
    is_eligible = scores["eligible"].to_numpy(dtype=bool)
    order = np.argsort(scores["rank"].to_numpy()[is_eligible], kind="stable")
    eligible = scores[is_eligible].iloc[order].reset_index(drop=True)
    k = capacity.k(len(eligible)) if len(eligible) else 0
    if draws is not None:
        uniform = np.asarray(draws, dtype=np.float64)[is_eligible][order]
    else:
        uniform = (rng if rng is not None else np.random.default_rng()).random(len(eligible))
    held = uniform < share if share > 0 else np.zeros(len(eligible), bool)
    contacted_so_far = np.cumsum(~held)
    # Stop at the household that makes the k-th contact; held-out ones after it are out.
    last = int(np.searchsorted(contacted_so_far, k)) if k else -1
    out = eligible.iloc[: last + 1].copy()
    out["held_out"] = held[: last + 1]
    return out.reset_index(drop=True)
