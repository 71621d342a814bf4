"""What would lower the risk: one fact changed, the household re-scored.

A caseworker reads "Si l'APL revenait à 210 € par mois, la probabilité passerait de
0,41 à 0,22". The change is never written by hand: each actionable feature declares in
the catalogue (:attr:`risk.catalogue.Feature.counterfactual`) the change its lever would
bring, and this module applies it to the household's features and re-scores them with
the same bundle. Among the changes attached to a household's reasons, the one that
lowers the probability most is kept; none is shown when no change lowers it.

The rules (:data:`risk.catalogue.COUNTERFACTUAL_CHANGES`) keep the features one change
implies consistent, recomputed from the catalogue's definitions
(``docs/features.md``):

``set``
    The feature takes the declared value. Rows where it is unknown (NaN) or already at
    that value are left alone: e.g. a household without any payment has no payment to
    move to direct debit. Nothing else is recomputed: the features set this way
    (direct-debit share, payment plan under way, unanswered contacts) define no other.
``clear_balance``
    ``balance_eur`` becomes 0 and ``balance_months`` (balance / residual rent) 0 where
    it is defined. ``balance_change_3m`` is left alone: it counts the debits of the
    last three complete months, which a payment made now does not rewrite.
``restore_apl``
    Where the APL fell over the last quarter (``apl_change_3m < 0``), the APL is
    restored by the amount lost: ``apl_amount`` grows by it, ``apl_change_3m`` becomes
    0, ``apl_entitled`` 1, ``apl_months_since_lost`` unknown (APL in force), and
    ``apl_rent_share``, ``effort_rate`` and ``remaining_income_per_cu`` are recomputed
    from their definitions (the consumption units from ``household_type`` and
    ``children``). The residual rent deducts only APL paid to the landlord: when the
    APL was in force and paid to the landlord, ``residual_rent`` is recomputed
    (:func:`risk.arrears.residual_rent`) and with it ``balance_months`` and
    ``balance_change_3m`` (both divided by it). When the APL had fallen to 0, who would
    receive it is not known: ``apl_paid_to_landlord`` stays unknown and the residual
    rent is left unchanged (the cautious reading). An APL lost more than three months
    ago has no known amount to restore, so no line is given for it.
``apl_to_landlord``
    Where the APL in force is paid to the tenant, it is paid to the landlord instead
    (tiers payant): ``apl_paid_to_landlord`` becomes 1 and the residual rent,
    ``balance_months`` and ``balance_change_3m`` are recomputed as above.

The rent itself (``monthly_rent``, ``residual_rent``, ``effort_rate``,
``remaining_income_per_cu``) declares no change: a transfer or a rent reduction has no
amount the data can state. History features (shortfall months, payment delay) declare
none either: no lever rewrites the past months.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from risk.arrears import CENT_TOLERANCE, residual_rent
from risk.bundle import ModelBundle
from risk.catalogue import COUNTERFACTUAL_CHANGES, Counterfactual, get_feature
from risk.features.income import (
    CHILD_UNITS,
    EFFORT_RATE_CAP,
    FIRST_ADULT_UNITS,
    OTHER_ADULT_UNITS,
    TWO_ADULT_HOUSEHOLDS,
)
from risk.matrix import column_positions, column_values, feature_matrix

#: Error raised when a feature declares no counterfactual change.
NO_CHANGE = "feature {name!r} declares no counterfactual change in the catalogue"
#: Error raised when the catalogue names a rule this module does not know.
UNKNOWN_CHANGE = "unknown counterfactual change {change!r}; known: {known}"
#: Error raised when a change needs a column the feature frame lacks.
MISSING_COLUMN = "the {change!r} change needs the column(s) {columns}"


def counterfactual_frame(features: pd.DataFrame, feature: str) -> pd.DataFrame:
    """Apply the change ``feature`` declares to every row it alters.

    Parameters
    ----------
    features
        Feature frame (:func:`risk.build_features`).
    feature
        An actionable feature whose catalogue entry declares a ``counterfactual``.

    Returns
    -------
    pandas.DataFrame
        The rows of ``features`` the change alters, in order and with their index, with
        the change applied; rows it does not alter are left out.

    Raises
    ------
    ValueError
        :data:`NO_CHANGE`, :data:`UNKNOWN_CHANGE` or :data:`MISSING_COLUMN`.
    """
    declared = get_feature(feature).counterfactual
    if declared is None:
        raise ValueError(NO_CHANGE.format(name=feature))
    return apply_change(features, declared, feature)


def apply_change(features: pd.DataFrame, change: Counterfactual, feature: str) -> pd.DataFrame:
    """Apply a declared change (see :func:`counterfactual_frame`), returning altered rows."""
    return _applied(features, change, feature)[1]


def _applied(
    features: pd.DataFrame, change: Counterfactual, feature: str
) -> tuple[np.ndarray, pd.DataFrame]:
    rule = _rule(change)
    columns = {name: _column(features, name) for name in features.columns if name in _NUMERIC}
    new, altered = rule(columns, change, feature)
    out = features.iloc[np.flatnonzero(altered)].copy()
    for name, values in new.items():
        out[name] = values[altered]
    return altered, out


def _rule(change: Counterfactual) -> Rule:
    rule = _RULES.get(change.change)
    if rule is None:
        known = ", ".join(COUNTERFACTUAL_CHANGES)
        raise ValueError(UNKNOWN_CHANGE.format(change=change.change, known=known))
    return rule


def best_changes(
    bundle: ModelBundle,
    features: pd.DataFrame,
    probability: np.ndarray,
    candidates: Mapping[Counterfactual, tuple[str, np.ndarray]],
    *,
    threads: int | None = None,
    matrix: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """Re-score the candidate changes and keep, per row, the one lowering risk most.

    Parameters
    ----------
    bundle
        The model that gave ``probability``.
    features
        Feature frame, row for row with ``probability``.
    probability
        Calibrated probability of each row as it is.
    candidates
        Declared change to ``(feature, rows)``: a feature declaring it (whose rule
        applies it) and a boolean mask of the rows whose reasons point to it. Each
        change alters only those rows; every altered row of every change is re-scored
        in one batch.
    threads
        LightGBM threads.
    matrix
        The design matrix of ``features`` (:func:`risk.matrix.feature_matrix` with the
        bundle's features), when the caller already has it.

    Returns
    -------
    dict of str to numpy.ndarray
        ``change`` (the :class:`~risk.catalogue.Counterfactual`, or None), ``feature``,
        ``shown_value`` (value of the change's ``shown`` feature after it) and
        ``probability`` (after the change; NaN when no change lowers the probability).
    """
    n = len(features)
    best = np.full(n, np.nan)
    change_of = np.full(n, None, dtype=object)
    feature_of = np.full(n, None, dtype=object)
    shown = np.full(n, np.nan, dtype=object)
    changed = _changed_rows(bundle, features, candidates, matrix)
    if not changed:
        return {
            "change": change_of,
            "feature": feature_of,
            "shown_value": shown,
            "probability": best,
        }
    stacked = np.concatenate([rows for _, _, _, rows, _ in changed])
    scores = bundle.probability(bundle.raw_score_matrix(stacked, threads=threads))
    start = 0
    for change, feature, where, rows, shown_after in changed:
        after = scores[start : start + len(rows)]
        start += len(rows)
        # Strictly lower than as it is and than any earlier change (catalogue order breaks ties).
        better = (after < probability[where]) & ~(best[where] <= after)
        where, after = where[better], after[better]
        best[where] = after
        change_of[where] = change
        feature_of[where] = feature
        shown[where] = shown_after[better]
    return {"change": change_of, "feature": feature_of, "shown_value": shown, "probability": best}


def _changed_rows(
    bundle: ModelBundle,
    features: pd.DataFrame,
    candidates: Mapping[Counterfactual, tuple[str, np.ndarray]],
    matrix: np.ndarray | None,
) -> list[tuple[Counterfactual, str, np.ndarray, np.ndarray, np.ndarray]]:
    """Apply each candidate change to its rows, as design-matrix rows ready to score.

    Returns, per change altering at least one row, in ``candidates`` order: the change,
    its feature, the positions of the altered rows, their design-matrix rows after the
    change, and the value of the change's ``shown`` feature after it.
    """
    out: list[tuple[Counterfactual, str, np.ndarray, np.ndarray, np.ndarray]] = []
    columns: Columns | None = None
    names = bundle.feature_names
    for change, (feature, rows) in candidates.items():
        positions = np.flatnonzero(rows)
        if positions.size == 0:
            continue
        rule = _rule(change)
        if matrix is None:
            matrix = feature_matrix(features, names)
        if columns is None:
            columns = _columns(features, matrix, names)
        new, altered = rule({k: v[positions] for k, v in columns.items()}, change, feature)
        if not altered.any():
            continue
        where = positions[altered]
        changed = matrix[where]
        for name, values in new.items():
            j = _position(names, name)
            if j is not None:
                changed[:, j] = values[altered]
        after = new[change.shown] if change.shown in new else columns[change.shown][positions]
        out.append((change, feature, where, changed, after[altered]))
    return out


def _columns(features: pd.DataFrame, matrix: np.ndarray, names: Sequence[str]) -> Columns:
    """Read the columns the rules need, as :func:`_column` gives them, from the matrix if there."""
    positions = column_positions(features.columns)
    labels = features.columns if positions is None else positions
    wanted = [name for name in labels if name in _NUMERIC]
    stored = column_values(features, wanted)
    out: Columns = {}
    for name, values in zip(wanted, stored, strict=True):
        j = _position(names, name)
        if name == "household_type" and j is not None:
            # Read as text (the rules compare it with names); unknown is NaN, as astype gives.
            categories = np.array([*get_feature(name).categories, np.nan], dtype=object)
            codes = matrix[:, j]
            out[name] = categories[np.where(np.isnan(codes), -1, codes).astype(np.intp)]
        elif name == "household_type":
            out[name] = np.asarray(values, dtype=object)
        elif j is not None and get_feature(name).dtype != "categorical":
            out[name] = matrix[:, j].copy()  # the matrix holds exactly to_numpy(float64)
        else:
            out[name] = _column(features, name)
    return out


def _position(names: Sequence[str], name: str) -> int | None:
    return _name_positions(tuple(names)).get(name)


@functools.lru_cache(maxsize=64)
def _name_positions(names: tuple[str, ...]) -> dict[str, int]:
    # The first position of each name, as list.index gives it.
    out: dict[str, int] = {}
    for j, name in enumerate(names):
        out.setdefault(name, j)
    return out


def candidate_changes(
    names: Sequence[str], reason_groups: np.ndarray
) -> dict[Counterfactual, tuple[str, np.ndarray]]:
    """Collect the declared changes attached to each household's reasons.

    Parameters
    ----------
    names
        The model's features (those a change may come from).
    reason_groups
        Array ``(rows, reasons)`` of each household's reason groups (None for no reason).

    Returns
    -------
    dict
        Declared change to ``(feature, rows)``: the first actionable feature declaring it
        and a boolean mask of the households one of whose reasons' groups holds such a
        feature. Features sharing one declared change give it once.
    """
    candidates: dict[Counterfactual, tuple[str, np.ndarray]] = {}
    for name, group, declared in _actionable(tuple(names)):
        rows = (reason_groups == group).any(axis=1)
        if not rows.any():
            continue
        first, before = candidates.get(declared, (name, np.zeros(len(rows), bool)))
        candidates[declared] = (first, before | rows)
    return candidates


@functools.lru_cache(maxsize=64)
def _actionable(names: tuple[str, ...]) -> tuple[tuple[str, str, Counterfactual], ...]:
    """List the features of ``names`` declaring a change: name, reason group, change."""
    out = []
    for name in names:
        feature = get_feature(name)
        if feature.actionable and feature.counterfactual is not None:
            out.append((name, feature.reason_group, feature.counterfactual))
    return tuple(out)


# --- the rules --------------------------------------------------------------------------

Columns = dict[str, np.ndarray]
Rule = Callable[[Columns, Counterfactual, str], tuple[Columns, np.ndarray]]

# Columns the rules read or write (all numeric); household_type is read separately.
_NUMERIC = {
    "apl_amount",
    "apl_change_3m",
    "apl_entitled",
    "apl_months_since_lost",
    "apl_rent_share",
    "apl_paid_to_landlord",
    "monthly_rent",
    "residual_rent",
    "income_monthly",
    "effort_rate",
    "remaining_income_per_cu",
    "children",
    "balance_eur",
    "balance_months",
    "balance_change_3m",
    "household_type",
    "direct_debit_share_6m",
    "payment_plan_active",
    "failed_contacts_6m",
}


def _column(features: pd.DataFrame, name: str) -> np.ndarray:
    if name == "household_type":
        return features[name].astype(object).to_numpy()
    return features[name].to_numpy(dtype=np.float64, na_value=np.nan).copy()


def _need(columns: Columns, change: str, names: tuple[str, ...]) -> None:
    missing = [name for name in names if name not in columns]
    if missing:
        raise ValueError(MISSING_COLUMN.format(change=change, columns=", ".join(missing)))


def _set(columns: Columns, change: Counterfactual, feature: str) -> tuple[Columns, np.ndarray]:
    _need(columns, change.change, (feature,))
    values = columns[feature]
    altered = ~np.isnan(values) & (values != change.value)
    target = float("nan") if change.value is None else float(change.value)
    return {feature: np.full(values.shape, target)}, altered


def _clear_balance(
    columns: Columns, change: Counterfactual, feature: str
) -> tuple[Columns, np.ndarray]:
    _need(columns, change.change, ("balance_eur", "balance_months"))
    balance = columns["balance_eur"]
    altered = balance > CENT_TOLERANCE
    months = np.where(np.isnan(columns["balance_months"]), np.nan, 0.0)
    return {"balance_eur": np.zeros(balance.shape), "balance_months": months}, altered


def _restore_apl(
    columns: Columns, change: Counterfactual, feature: str
) -> tuple[Columns, np.ndarray]:
    _need(
        columns,
        change.change,
        (
            "apl_amount",
            "apl_change_3m",
            "apl_paid_to_landlord",
            "monthly_rent",
            "income_monthly",
            "household_type",
            "children",
        ),
    )
    apl, lost = columns["apl_amount"], columns["apl_change_3m"]
    altered = lost < 0  # NaN compares False: no quarter to look back on
    restored = apl - np.where(altered, lost, 0.0)
    rent, income = columns["monthly_rent"], columns["income_monthly"]
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(rent != 0, restored / rent, np.nan)
        net = np.maximum(rent - restored, 0.0)
        ratio = np.minimum(net / income, EFFORT_RATE_CAP)
    effort = np.where(income <= 0, np.where(net > 0, EFFORT_RATE_CAP, 0.0), ratio)
    effort[np.isnan(income)] = np.nan
    units = (
        FIRST_ADULT_UNITS
        + np.where(np.isin(columns["household_type"], TWO_ADULT_HOUSEHOLDS), OTHER_ADULT_UNITS, 0)
        + CHILD_UNITS * columns["children"]
    )
    new = {
        "apl_amount": restored,
        "apl_change_3m": np.zeros(apl.shape),
        "apl_entitled": np.ones(apl.shape),
        "apl_months_since_lost": np.full(apl.shape, np.nan),
        "apl_rent_share": share,
        "effort_rate": effort,
        "remaining_income_per_cu": (income - (rent - restored)) / units,
    }
    # Only APL paid to the landlord lowers the residual rent; unknown payee: unchanged.
    new.update(_rescaled_residual(columns, restored, columns["apl_paid_to_landlord"] == 1))
    return {name: values for name, values in new.items() if name in columns}, altered


def _apl_to_landlord(
    columns: Columns, change: Counterfactual, feature: str
) -> tuple[Columns, np.ndarray]:
    _need(columns, change.change, ("apl_paid_to_landlord", "apl_amount", "monthly_rent"))
    paid = columns["apl_paid_to_landlord"]
    altered = paid == 0
    new = {"apl_paid_to_landlord": np.where(altered, 1.0, paid)}
    new.update(_rescaled_residual(columns, columns["apl_amount"], altered))
    return new, altered


def _rescaled_residual(columns: Columns, apl: np.ndarray, to_landlord: np.ndarray) -> Columns:
    """Residual rent with ``apl`` deducted where ``to_landlord``, and the ratios over it."""
    if "residual_rent" not in columns:
        return {}
    old = columns["residual_rent"]
    new = np.where(to_landlord, residual_rent(columns["monthly_rent"], apl, True), old)
    out = {"residual_rent": new}
    with np.errstate(divide="ignore", invalid="ignore"):
        if "balance_months" in columns and "balance_eur" in columns:
            months = np.where(new != 0, columns["balance_eur"] / new, np.nan)
            out["balance_months"] = np.where(to_landlord, months, columns["balance_months"])
        if "balance_change_3m" in columns:
            trend = columns["balance_change_3m"] * old / new
            out["balance_change_3m"] = np.where(to_landlord, trend, columns["balance_change_3m"])
    return out


_RULES: dict[str, Rule] = {
    "set": _set,
    "clear_balance": _clear_balance,
    "restore_apl": _restore_apl,
    "apl_to_landlord": _apl_to_landlord,
}
