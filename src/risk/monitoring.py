"""Population stability: has the portfolio drifted away from the one the model learnt on.

A model scores households like those it was trained on. When the population moves (a
new residence joins, a benefit reform changes the APL, an export starts to leave a field
empty) its scores may stop meaning what they meant. :meth:`ReferenceProfile.fit` learns
how each feature and the score spread over a few bins of the training population, as
plain JSON that travels in a model bundle or an MLflow artifact (nothing is unpickled).
:func:`stability` compares a current population with it, one row per feature and for
``score``: the population stability index (PSI), a status in French and English, and the
bin that moved most ("households with a balance > 300 EUR: from 3 % to 9 %").

The profile, its bins and their labels are :mod:`risk.profile`; its names are importable
from here too.

Statuses: ``stable`` below :data:`PSI_WATCH`, ``watch`` up to :data:`PSI_ACT`, ``act``
from it on (the population moved enough to question the model: retrain, or find what
changed in the data).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd

from risk.profile import BAD_BINS as BAD_BINS
from risk.profile import BAD_PROFILE as BAD_PROFILE
from risk.profile import BAD_SCORES as BAD_SCORES
from risk.profile import EMPTY_POPULATION as EMPTY_POPULATION
from risk.profile import MISSING_COLUMNS as MISSING_COLUMNS
from risk.profile import PROFILE_FORMAT as PROFILE_FORMAT
from risk.profile import (
    PROFILE_LACKS,
    SCORE,
    FeatureProfile,
    ReferenceProfile,
    _check_frame,
    _check_scores,
)
from risk.profile import PROFILE_VERSION as PROFILE_VERSION
from risk.profile import UNKNOWN_FEATURES as UNKNOWN_FEATURES
from risk.profile import Kind as Kind

#: PSI from which a population is worth watching.
PSI_WATCH = 0.1
#: PSI from which a population has moved enough to question the model.
PSI_ACT = 0.25
#: Share given to an empty bin in :func:`psi` (one household in ten thousand).
PSI_FLOOR = 1e-4

Status = Literal["stable", "watch", "act"]
#: Each status with its French and English labels, French first.
STATUSES: dict[str, tuple[str, str]] = {
    "stable": ("stable", "stable"),
    "watch": ("à surveiller", "watch"),
    "act": ("à traiter", "act"),
}

#: Columns of :func:`stability`'s table, in order.
STABILITY_COLUMNS: tuple[str, ...] = (
    "feature",
    "psi",
    "status",
    "status_fr",
    "status_en",
    "reference_rows",
)
STABILITY_COLUMNS += ("current_rows", "shift_bin", "shift_bin_fr", "shift_bin_en")
STABILITY_COLUMNS += ("reference_share", "current_share")

#: Error raised for shares :func:`psi` cannot compare.
BAD_SHARES = "cannot compare these shares: {reason}"


def status_of(value: float) -> Status:
    """Return the status of a PSI value: ``stable``, ``watch`` or ``act``.

    ``stable`` below :data:`PSI_WATCH`, ``watch`` from it up to :data:`PSI_ACT`
    excluded, ``act`` from :data:`PSI_ACT` on.
    """
    if value >= PSI_ACT:
        return "act"
    if value >= PSI_WATCH:
        return "watch"
    return "stable"


def psi(
    reference_shares: Sequence[float] | np.ndarray,
    current_shares: Sequence[float] | np.ndarray,
    *,
    floor: float = PSI_FLOOR,
) -> float:
    """Return the population stability index of two distributions over the same bins.

    ``sum((a - e) * ln(a / e))`` over bins, ``e`` the reference share and ``a`` the
    current one; each term is non-negative, so it is 0 only when no share changed.

    Parameters
    ----------
    reference_shares, current_shares
        Share of the population in each bin, in the same bin order.
    floor
        Shares below it are raised to it first. An empty bin would make ``ln(a / e)``
        infinite, and an empty reference bin is exactly what a new category or a field
        that starts to go missing looks like: the floor keeps such a bin's term finite
        and large (5 % of households in a bin the reference never filled adds about
        0.31, enough for ``act`` on its own), while a bin empty on both sides adds 0.

    Raises
    ------
    ValueError
        :data:`BAD_SHARES` for shapes that differ, negative or non-finite shares, or a
        floor that is not positive.
    """
    expected = np.asarray(reference_shares, dtype=np.float64)
    actual = np.asarray(current_shares, dtype=np.float64)
    if expected.ndim != 1 or expected.shape != actual.shape:
        reason = f"shapes {expected.shape} and {actual.shape} differ or are not 1-d"
        raise ValueError(BAD_SHARES.format(reason=reason))
    for shares in (expected, actual):
        if not np.isfinite(shares).all() or (shares < 0).any():
            raise ValueError(BAD_SHARES.format(reason="shares must be finite and non-negative"))
    if not floor > 0:
        raise ValueError(BAD_SHARES.format(reason=f"floor must be positive, got {floor!r}"))
    expected = np.maximum(expected, floor)
    actual = np.maximum(actual, floor)
    return float(np.sum((actual - expected) * np.log(actual / expected)))


def stability(
    profile: ReferenceProfile,
    features: pd.DataFrame,
    scores: np.ndarray | None = None,
    *,
    names: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Compare a current population with the reference profile, feature by feature.

    Parameters
    ----------
    profile
        The reference profile (usually read from the model bundle).
    features
        Feature frame of the current population.
    scores
        Calibrated probabilities of those rows. The ``score`` row is given when both
        these and the profile's score entry exist; it is left out when ``scores`` is
        ``None``, so features can be watched before any scoring.
    names
        Features to compare, in order; all the profile's features when ``None``. The
        profile must hold each (a model's features all need a reference).

    Returns
    -------
    pandas.DataFrame
        One row per feature, then ``score``, with :data:`STABILITY_COLUMNS`: the PSI,
        its status (key, French and English labels), the row counts, and the bin whose
        share changed most in absolute terms (key, French and English labels, reference
        and current shares).

    Raises
    ------
    ValueError
        :data:`PROFILE_LACKS`, :data:`MISSING_COLUMNS`, :data:`EMPTY_POPULATION` or
        :data:`BAD_SCORES`.
    """
    names = list(profile.names if names is None else names)
    wanted = names + ([SCORE] if scores is not None else [])
    lacking = [name for name in wanted if name not in profile]
    if lacking:
        raise ValueError(PROFILE_LACKS.format(names=", ".join(lacking)))
    _check_frame(features, names, "current")
    columns: dict[str, pd.Series] = {name: features[name] for name in names}
    if scores is not None:
        columns[SCORE] = pd.Series(_check_scores(scores, len(features)))
    rows = [
        _compare(profile, profile[name], values, len(features)) for name, values in columns.items()
    ]
    return pd.DataFrame(rows, columns=list(STABILITY_COLUMNS))


# --- comparing ------------------------------------------------------------------------------


def _compare(
    profile: ReferenceProfile, entry: FeatureProfile, values: pd.Series, n_rows: int
) -> dict[str, Any]:
    reference = np.asarray(entry.shares, dtype=np.float64)
    current = entry.shares_of(values)
    value = psi(reference, current)
    status = status_of(value)
    change = np.abs(current - reference)
    # The largest absolute change reads best in a report ("from 3 % to 9 %"); ties go to
    # the first bin so the table never depends on floating-point noise in the order.
    top = int(np.argmax(change))
    label_fr, label_en = entry.bin_labels()[top]
    return {
        "feature": entry.name,
        "psi": value,
        "status": status,
        "status_fr": STATUSES[status][0],
        "status_en": STATUSES[status][1],
        "reference_rows": profile.rows,
        "current_rows": n_rows,
        "shift_bin": entry.bin_keys()[top],
        "shift_bin_fr": label_fr,
        "shift_bin_en": label_en,
        "reference_share": float(reference[top]),
        "current_share": float(current[top]),
    }
