"""Reasons for every score: why a household ranks where it does, in words a caseworker acts on.

The contributions are LightGBM's own SHAP values (``booster.predict(X,
pred_contrib=True)``, the TreeSHAP algorithm, equal to ``shap.TreeExplainer``): on the
log-odds scale, one per feature plus the base value, summing exactly (to rounding) to
the raw score. They become at most four reasons, each pushing the risk *up* (positive
contribution), largest first.

Correlated features give one reason: the contributions of a catalogue ``reason_group``
(e.g. the shortfall months over 3, 6 and 12 months) are summed, and the reason is worded
with the group's largest-contributing feature, its value filled into the catalogue's
``reason_fr``/``reason_en``. A reason's ``code`` is its ``reason_group`` in upper case
(``SHORTFALL``, ``APL_CHANGE``...): it names the concept, not the feature, so it stays
stable when a feature of the group is added, renamed or reworded; ``feature`` says
which one worded it.

Values are written in French (decimal comma, ``2,3``; a space before ``%``; thousands
separated by a plain space) and English (``2.3``, ``1,234``). Money is rounded to the
euro, ratios become percentages, balances in months of residual rent keep one decimal.
An unknown value, or a flag not holding the value its reason describes, is worded from
the feature's label (``Taux d'effort : donnée absente``).

Each explanation may carry one "what would lower the risk" line from
:mod:`risk.counterfactual`. Everything is computed column-wise over the rows, so a
portfolio of hundreds of thousands of households is explained in seconds.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields
from typing import Any

import numpy as np
import pandas as pd

from risk.bundle import ModelBundle
from risk.catalogue import LEVERS, Counterfactual, Feature, get_feature
from risk.counterfactual import best_changes, candidate_changes
from risk.matrix import feature_matrix

#: Most reasons a household is given.
MAX_REASONS = 4
#: Error raised for a ``max_reasons`` outside 1..MAX_REASONS.
BAD_MAX_REASONS = "max_reasons must be between 1 and {most}, got {value!r}"
#: Error raised when the feature frame lacks the row identifiers.
NO_IDS = "the feature frame lacks {columns}, needed to say whose explanation it is"

# fmt: off
_MONTHS_FR = (
    "janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre",
    "octobre", "novembre", "décembre",
)
_MONTHS_EN = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
)
# fmt: on
_MONEY_UNITS = ("EUR", "EUR/month", "EUR/month per consumption unit")


@dataclass(frozen=True)
class Reason:
    """One reason pushing a household's risk up.

    Attributes
    ----------
    code
        Stable code: the ``reason_group`` in upper case.
    feature
        The group's largest-contributing feature, which words the reason.
    value
        That feature's value (number, category code, or None when unknown).
    value_fr, value_en
        The value in words (empty for a flag).
    text_fr, text_en
        The reason as a caseworker reads it.
    contribution
        Sum of the group's SHAP contributions, log-odds (> 0).
    lever, lever_fr, lever_en
        The suggested lever (key into :data:`risk.catalogue.LEVERS`) and its labels.
    actionable
        Whether a caseworker can change the wording feature.
    """

    code: str
    feature: str
    value: float | str | None
    value_fr: str
    value_en: str
    text_fr: str
    text_en: str
    contribution: float
    lever: str | None
    lever_fr: str | None
    lever_en: str | None
    actionable: bool


_REASON_FIELDS = tuple(field.name for field in fields(Reason))


@dataclass(frozen=True)
class WhatIf:
    """The change that would lower the household's risk most, re-scored by the model.

    Attributes
    ----------
    feature
        The actionable feature whose declared change this is.
    value
        Value of the change's shown feature after the change.
    probability_before, probability_after
        Calibrated probability as it is, and after the change.
    text_fr, text_en
        The line a caseworker reads.
    """

    feature: str
    value: float | None
    probability_before: float
    probability_after: float
    text_fr: str
    text_en: str


@dataclass(frozen=True)
class Explanation:
    """Why one household got its score.

    Attributes
    ----------
    tenancy_id, as_of
        The household and date scored.
    probability, raw_score
        Calibrated probability and log-odds (``bundle.raw_score``).
    base_value
        The model's expected log-odds; ``base_value`` plus every feature's contribution
        is ``raw_score``.
    reasons
        At most ``max_reasons`` reasons, largest contribution first.
    counterfactual
        The "what would lower the risk" line, or None.
    """

    tenancy_id: str
    as_of: pd.Timestamp
    probability: float
    raw_score: float
    base_value: float
    reasons: tuple[Reason, ...]
    counterfactual: WhatIf | None

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-able form (the API's): dates as ISO text, NaN as None."""
        out = asdict(self)
        out["as_of"] = pd.Timestamp(self.as_of).date().isoformat()
        return _jsonable(out)


def contributions(
    bundle: ModelBundle, features: pd.DataFrame, *, threads: int | None = None
) -> pd.DataFrame:
    """SHAP contributions of every feature, log-odds, plus the base value.

    Returns
    -------
    pandas.DataFrame
        One column per bundle feature and a last column ``base_value``, indexed like
        ``features``; each row sums to the raw score.
    """
    values = _shap(bundle, features, threads)
    return pd.DataFrame(values, columns=[*bundle.feature_names, "base_value"], index=features.index)


def explain(
    bundle: ModelBundle,
    features: pd.DataFrame,
    *,
    max_reasons: int = MAX_REASONS,
    counterfactual: bool = True,
    threads: int | None = None,
) -> list[Explanation]:
    """Explain every row of a feature frame.

    Parameters
    ----------
    bundle
        The model that scores the rows.
    features
        Frame from :func:`risk.build_features` (``tenancy_id``, ``as_of`` and the
        bundle's features).
    max_reasons
        At most this many reasons per household (1 to :data:`MAX_REASONS`).
    counterfactual
        Also look for the change that would lower the risk most.
    threads
        LightGBM threads; the result does not depend on it.

    Returns
    -------
    list of Explanation
        One per row, in the frame's order.

    Raises
    ------
    ValueError
        :data:`BAD_MAX_REASONS`, :data:`NO_IDS`, or the feature matrix's errors.
    """
    table = _explain_columns(bundle, features, max_reasons, counterfactual, threads)
    out = []
    for i in range(len(features)):
        reasons = tuple(
            Reason(**{name: _scalar(table[name][i, s]) for name in _REASON_FIELDS})
            for s in range(max_reasons)
            if table["code"][i, s] is not None
        )
        what_if = None
        if not math.isnan(table["cf_after"][i]):
            what_if = WhatIf(
                feature=table["cf_feature"][i],
                value=_scalar(table["cf_value"][i]),
                probability_before=float(table["probability"][i]),
                probability_after=float(table["cf_after"][i]),
                text_fr=table["cf_fr"][i],
                text_en=table["cf_en"][i],
            )
        out.append(
            Explanation(
                tenancy_id=str(table["tenancy_id"][i]),
                as_of=pd.Timestamp(table["as_of"][i]),
                probability=float(table["probability"][i]),
                raw_score=float(table["raw_score"][i]),
                base_value=float(table["base_value"][i]),
                reasons=reasons,
                counterfactual=what_if,
            )
        )
    return out


def reasons_frame(
    bundle: ModelBundle,
    features: pd.DataFrame,
    *,
    max_reasons: int = MAX_REASONS,
    counterfactual: bool = True,
    threads: int | None = None,
) -> pd.DataFrame:
    """Return the explanations as a wide frame, one row per household, for a CSV.

    Parameters are those of :func:`explain`.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``features``: ``tenancy_id``, ``as_of``, then for ``k`` in
        1..max_reasons ``reason_k_code``, ``reason_k_fr``, ``reason_k_en``,
        ``reason_k_value``, ``reason_k_contribution``, ``reason_k_lever`` (empty when
        the household has fewer reasons), then ``counterfactual_fr`` and
        ``counterfactual_en`` (empty when no change lowers the risk).
    """
    table = _explain_columns(bundle, features, max_reasons, counterfactual, threads)
    columns: dict[str, Any] = {"tenancy_id": table["tenancy_id"], "as_of": table["as_of"]}
    for s in range(max_reasons):
        k = s + 1
        columns[f"reason_{k}_code"] = table["code"][:, s]
        columns[f"reason_{k}_fr"] = table["text_fr"][:, s]
        columns[f"reason_{k}_en"] = table["text_en"][:, s]
        columns[f"reason_{k}_value"] = table["value"][:, s]
        columns[f"reason_{k}_contribution"] = table["contribution"][:, s].astype(np.float64)
        columns[f"reason_{k}_lever"] = table["lever"][:, s]
    columns["counterfactual_fr"] = table["cf_fr"]
    columns["counterfactual_en"] = table["cf_en"]
    return pd.DataFrame(columns, index=features.index)


def global_importance(
    bundle: ModelBundle, features: pd.DataFrame, *, threads: int | None = None
) -> pd.DataFrame:
    """Mean absolute SHAP contribution of each feature, for the auditors' report.

    Returns
    -------
    pandas.DataFrame
        One row per bundle feature, most important first: ``feature``, ``label_fr``,
        ``label_en``, ``reason_group``, ``mean_abs_contribution`` (log-odds) and
        ``mean_contribution``.
    """
    values = _shap(bundle, features, threads)[:, :-1]
    frame = pd.DataFrame(
        {
            "feature": bundle.feature_names,
            "label_fr": [get_feature(n).label_fr for n in bundle.feature_names],
            "label_en": [get_feature(n).label_en for n in bundle.feature_names],
            "reason_group": [get_feature(n).reason_group for n in bundle.feature_names],
            "mean_abs_contribution": np.abs(values).mean(axis=0) if len(values) else np.nan,
            "mean_contribution": values.mean(axis=0) if len(values) else np.nan,
        }
    )
    frame = frame.sort_values("mean_abs_contribution", ascending=False, kind="stable")
    return frame.reset_index(drop=True)


# --- wording ----------------------------------------------------------------------------


def format_value(feature: Feature, value: object, language: str) -> str:
    """Write a feature's value in French (``"fr"``) or English (``"en"``), without its unit.

    A categorical value is its display label, a flag gives ``""``, an unknown value
    ``""``; numbers follow the feature's unit (see the module docstring).
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if feature.dtype == "categorical":
        labels = {code: (fr, en) for code, fr, en in feature.category_labels}
        fr, en = labels.get(str(value), (str(value), str(value)))
        return fr if language == "fr" else en
    if feature.dtype == "bool":
        return ""
    number = float(value)  # type: ignore[arg-type]
    unit = feature.unit
    if unit in _MONEY_UNITS:
        return _number(math.floor(number + 0.5), 0, language)  # half up, as on a bill
    if unit == "ratio":
        percent = _number(math.floor(number * 100 + 0.5), 0, language)
        return f"{percent} %" if language == "fr" else f"{percent}%"
    if unit == "month number" and 1 <= number <= 12 and number.is_integer():
        return (_MONTHS_FR if language == "fr" else _MONTHS_EN)[int(number) - 1]
    if unit == "months of residual rent":
        return _number(number, 1, language)
    return _number(number, 0 if number.is_integer() else 1, language)


def reason_text(feature: Feature, value: object, language: str) -> str:
    """Word the reason ``feature`` gives for ``value``, in French or English."""
    template = feature.reason_fr if language == "fr" else feature.reason_en
    label = feature.label_fr if language == "fr" else feature.label_en
    sep = " : " if language == "fr" else ": "
    unknown = value is None or (isinstance(value, float) and math.isnan(value))
    if unknown:
        return f"{label}{sep}{'donnée absente' if language == 'fr' else 'not known'}"
    if feature.dtype == "bool":
        if float(value) == (1.0 if feature.reason_when is None else feature.reason_when):  # type: ignore[arg-type]
            return template
        yes = float(value) == 1.0  # type: ignore[arg-type]
        word = ("oui" if yes else "non") if language == "fr" else ("yes" if yes else "no")
        return f"{label}{sep}{word}"
    return template.format(value=format_value(feature, value, language))


def counterfactual_text(
    change: Counterfactual, value: object, before: float, after: float, language: str
) -> str:
    """Write the "what would lower the risk" line of a declared change, re-scored."""
    shown = format_value(get_feature(change.shown), value, language)
    digits = 2
    while digits < 4 and _number(before, digits, "en") == _number(after, digits, "en"):
        digits += 1  # never "from 0.41 to 0.41"
    p0, p1 = _number(before, digits, language), _number(after, digits, language)
    if language == "fr":
        condition = change.condition_fr.format(value=shown)
        return f"{condition}, la probabilité passerait de {p0} à {p1}"
    condition = change.condition_en.format(value=shown)
    return f"{condition}, the probability would fall from {p0} to {p1}"


def _number(number: float, decimals: int, language: str) -> str:
    text = f"{number:,.{decimals}f}"
    if text.startswith("-") and float(text.replace(",", "")) == 0:
        text = text[1:]  # no "-0"
    if language == "fr":
        return text.replace(",", " ").replace(".", ",")
    return text


# --- the column-wise core ---------------------------------------------------------------


def _shap(bundle: ModelBundle, features: pd.DataFrame, threads: int | None) -> np.ndarray:
    matrix = feature_matrix(features, bundle.feature_names)
    extra: dict[str, Any] = {} if threads is None else {"num_threads": int(threads)}
    if len(matrix) == 0:
        return np.empty((0, len(bundle.feature_names) + 1))
    values = bundle.booster.predict(matrix, pred_contrib=True, **extra)
    return np.asarray(values, dtype=np.float64)


def _explain_columns(
    bundle: ModelBundle,
    features: pd.DataFrame,
    max_reasons: int,
    counterfactual: bool,
    threads: int | None,
) -> dict[str, np.ndarray]:
    if not isinstance(max_reasons, int) or not 1 <= max_reasons <= MAX_REASONS:
        raise ValueError(BAD_MAX_REASONS.format(most=MAX_REASONS, value=max_reasons))
    missing = [c for c in ("tenancy_id", "as_of") if c not in features.columns]
    if missing:
        raise ValueError(NO_IDS.format(columns=", ".join(missing)))
    n, names = len(features), bundle.feature_names
    shap = _shap(bundle, features, threads)
    raw = bundle.raw_score(features, threads=threads)
    probability = bundle.probability(raw) if n else np.empty(0)
    table: dict[str, np.ndarray] = {
        "tenancy_id": features["tenancy_id"].astype(str).to_numpy(),
        "as_of": features["as_of"].to_numpy(),
        "probability": probability,
        "raw_score": raw,
        "base_value": shap[:, -1] if n else np.empty(0),
    }
    groups = list(dict.fromkeys(get_feature(name).reason_group for name in names))
    members = [
        np.array([j for j, name in enumerate(names) if get_feature(name).reason_group == g])
        for g in groups
    ]
    contrib = shap[:, :-1]
    group_sum = np.column_stack([contrib[:, cols].sum(axis=1) for cols in members])
    # The wording feature: the group's largest contributor, as a column of the matrix.
    lead = np.column_stack([cols[np.argmax(contrib[:, cols], axis=1)] for cols in members])
    # Largest first; ties keep catalogue order (a stable sort of the negated sums).
    order = np.argsort(-group_sum, axis=1, kind="stable")[:, :max_reasons]
    rows = np.arange(n)[:, None]
    chosen_sum = group_sum[rows, order]
    present = chosen_sum > 0
    chosen_feature = np.where(present, lead[rows, order], -1)
    table.update(_word(features, names, chosen_feature, chosen_sum, groups, order))
    cf = {
        "cf_after": np.full(n, np.nan),
        "cf_fr": np.full(n, "", dtype=object),
        "cf_en": np.full(n, "", dtype=object),
        "cf_feature": np.full(n, None, dtype=object),
        "cf_value": np.full(n, None, dtype=object),
    }
    if counterfactual and n:
        cf.update(_what_if(bundle, features, probability, groups, order, present, threads))
    table.update(cf)
    return table


def _word(
    features: pd.DataFrame,
    names: Sequence[str],
    chosen: np.ndarray,
    contribution: np.ndarray,
    groups: Sequence[str],
    order: np.ndarray,
) -> dict[str, np.ndarray]:
    shape = chosen.shape
    out = {field: np.full(shape, None, dtype=object) for field in _REASON_FIELDS}
    out["contribution"] = np.where(chosen >= 0, contribution, np.nan)
    present = chosen >= 0
    out["code"][present] = np.array([g.upper() for g in groups], dtype=object)[order][present]
    for j in np.unique(chosen[present]):
        feature = get_feature(names[j])
        where = chosen == j
        column = features[feature.name]
        if feature.dtype == "categorical":
            values = column.astype(object).to_numpy(copy=True)
            values[pd.isna(values)] = None
        else:
            values = column.to_numpy(dtype=np.float64, na_value=np.nan)
        picked = values[np.nonzero(where)[0]]
        lever = LEVERS.get(feature.lever) if feature.lever else None
        out["feature"][where] = feature.name
        out["value"][where] = picked
        out["lever"][where] = feature.lever
        out["lever_fr"][where] = lever.label_fr if lever else None
        out["lever_en"][where] = lever.label_en if lever else None
        out["actionable"][where] = feature.actionable
        # Words are computed once per distinct value: counts and flags repeat a lot.
        for field, function, language in (
            ("value_fr", format_value, "fr"),
            ("value_en", format_value, "en"),
            ("text_fr", reason_text, "fr"),
            ("text_en", reason_text, "en"),
        ):
            out[field][where] = _mapped(picked, function, feature, language)
    return out


def _mapped(values: np.ndarray, function: Any, feature: Feature, language: str) -> np.ndarray:
    keys = pd.Series(values, dtype=object)
    cache = {key: function(feature, key, language) for key in pd.unique(keys)}
    return keys.map(cache).to_numpy(dtype=object)


def _what_if(
    bundle: ModelBundle,
    features: pd.DataFrame,
    probability: np.ndarray,
    groups: Sequence[str],
    order: np.ndarray,
    present: np.ndarray,
    threads: int | None,
) -> dict[str, np.ndarray]:
    reason_groups = np.asarray(groups, dtype=object)[order]
    reason_groups[~present] = None
    names = [name for name in bundle.feature_names if name in features.columns]
    candidates = candidate_changes(names, reason_groups)
    best = best_changes(bundle, features, probability, candidates, threads=threads)
    n = len(features)
    fr, en = np.full(n, "", dtype=object), np.full(n, "", dtype=object)
    for i in np.flatnonzero(~np.isnan(best["probability"])):
        change, value = best["change"][i], best["shown_value"][i]
        fr[i] = counterfactual_text(change, value, probability[i], best["probability"][i], "fr")
        en[i] = counterfactual_text(change, value, probability[i], best["probability"][i], "en")
    return {
        "cf_after": best["probability"],
        "cf_fr": fr,
        "cf_en": en,
        "cf_feature": best["feature"],
        "cf_value": best["shown_value"],
    }


def _scalar(value: object) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    return _scalar(value)
