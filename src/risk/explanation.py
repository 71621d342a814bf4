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

Values are worded by :mod:`risk.wording` (French and English), once per distinct value
or, for amounts and shares, once per value as rounded in words (euro, percent).

Each explanation may carry one "what would lower the risk" line from
:mod:`risk.counterfactual`. Everything is computed column-wise over the rows, so a
portfolio of hundreds of thousands of households is explained in seconds, and one row
in a fraction of a millisecond: the model's numbers (:class:`Scored`: the matrix, raw
score, probability and SHAP values) are computed once and shared by the score, the
reasons and the re-scoring of the changes, and what depends only on the bundle (reason
groups, wording features, levers) is worked out once per bundle.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
import pandas as pd

from risk.bundle import ModelBundle
from risk.catalogue import get_feature
from risk.counterfactual import best_changes, candidate_changes
from risk.matrix import column_values, feature_matrix, numpy_column, text_column
from risk.wording import (
    ReasonTable,
    counterfactual_lines,
    counterfactual_text,
    format_value,
    reason_text,
    word_reasons,
)

__all__ = [
    "BAD_MAX_REASONS",
    "MAX_REASONS",
    "NO_IDS",
    "Explanation",
    "Reason",
    "Scored",
    "WhatIf",
    "contributions",
    "counterfactual_text",
    "explain",
    "format_value",
    "global_importance",
    "reason_text",
    "reasons_frame",
    "score_rows",
]

#: Most reasons a household is given.
MAX_REASONS = 4
#: Error raised for a ``max_reasons`` outside 1..MAX_REASONS.
BAD_MAX_REASONS = "max_reasons must be between 1 and {most}, got {value!r}"
#: Error raised when the feature frame lacks the row identifiers.
NO_IDS = "the feature frame lacks {columns}, needed to say whose explanation it is"


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
        # Field by field rather than dataclasses.asdict, which deep-copies: a batch of
        # 1,000 households spent 80 ms there.
        what_if = self.counterfactual
        return {
            "tenancy_id": self.tenancy_id,
            "as_of": pd.Timestamp(self.as_of).date().isoformat(),
            "probability": _scalar(self.probability),
            "raw_score": _scalar(self.raw_score),
            "base_value": _scalar(self.base_value),
            "reasons": [{f: _scalar(getattr(r, f)) for f in _REASON_FIELDS} for r in self.reasons],
            "counterfactual": None
            if what_if is None
            else {f.name: _scalar(getattr(what_if, f.name)) for f in fields(WhatIf)},
        }


@dataclass(frozen=True)
class Scored:
    """The model's numbers for the rows of a feature frame, computed once and shared.

    Attributes
    ----------
    matrix
        The design matrix (:func:`risk.matrix.feature_matrix`).
    raw_score, probability
        Log-odds (``bundle.raw_score``) and calibrated probability of each row.
    shap
        SHAP contributions, one column per feature and the base value last, or None
        when not asked for.
    """

    matrix: np.ndarray
    raw_score: np.ndarray
    probability: np.ndarray
    shap: np.ndarray | None


def score_rows(
    bundle: ModelBundle,
    features: pd.DataFrame,
    *,
    threads: int | None = None,
    shap: bool = True,
) -> Scored:
    """Compute the model's numbers for every row once: matrix, scores, SHAP values.

    Parameters
    ----------
    bundle
        The model.
    features
        Frame with the bundle's features (:func:`risk.build_features`).
    threads
        LightGBM threads; the result does not depend on it.
    shap
        Also compute the SHAP contributions (what :func:`explain` needs).

    Returns
    -------
    Scored
        Pass it to :func:`explain` or :func:`reasons_frame` (``scored=``) so they do not
        compute it again.

    Raises
    ------
    ValueError
        The feature matrix's errors.
    """
    matrix = feature_matrix(features, bundle.feature_names)
    raw = bundle.raw_score_matrix(matrix, threads=threads)
    probability = bundle.probability(raw) if len(matrix) else np.empty(0)
    values = _shap_matrix(bundle, matrix, threads) if shap else None
    return Scored(matrix=matrix, raw_score=raw, probability=probability, shap=values)


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
    values = _shap_matrix(bundle, feature_matrix(features, bundle.feature_names), threads)
    return pd.DataFrame(values, columns=[*bundle.feature_names, "base_value"], index=features.index)


def explain(
    bundle: ModelBundle,
    features: pd.DataFrame,
    *,
    max_reasons: int = MAX_REASONS,
    counterfactual: bool = True,
    threads: int | None = None,
    scored: Scored | None = None,
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
    scored
        The rows' numbers from :func:`score_rows` with ``shap=True``, when the caller
        already has them (computed from this ``bundle`` and ``features``).

    Returns
    -------
    list of Explanation
        One per row, in the frame's order.

    Raises
    ------
    ValueError
        :data:`BAD_MAX_REASONS`, :data:`NO_IDS`, or the feature matrix's errors.
    """
    table = _explain_columns(bundle, features, max_reasons, counterfactual, threads, scored)
    columns = {name: table[name].tolist() for name in _REASON_FIELDS}
    cf_after = table["cf_after"].tolist()
    probability = table["probability"].tolist()
    raw = table["raw_score"].tolist()
    base = table["base_value"].tolist()
    out = []
    for i, codes in enumerate(columns["code"]):
        reasons = tuple(
            Reason(**{name: _scalar(columns[name][i][s]) for name in _REASON_FIELDS})
            for s, code in enumerate(codes)
            if code is not None
        )
        what_if = None
        if not math.isnan(cf_after[i]):
            what_if = WhatIf(
                feature=table["cf_feature"][i],
                value=_scalar(table["cf_value"][i]),
                probability_before=probability[i],
                probability_after=cf_after[i],
                text_fr=table["cf_fr"][i],
                text_en=table["cf_en"][i],
            )
        out.append(
            Explanation(
                tenancy_id=str(table["tenancy_id"][i]),
                as_of=pd.Timestamp(table["as_of"][i]),
                probability=probability[i],
                raw_score=raw[i],
                base_value=base[i],
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
    scored: Scored | None = None,
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
    table = _explain_columns(bundle, features, max_reasons, counterfactual, threads, scored)
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
    matrix = feature_matrix(features, bundle.feature_names)
    values = _shap_matrix(bundle, matrix, threads)[:, :-1]
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


def row_ids(features: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Return the ``tenancy_id`` (as text) and ``as_of`` columns as numpy arrays.

    Raises
    ------
    ValueError
        :data:`NO_IDS` when the frame lacks either.
    """
    ids, dates = column_values(features, ("tenancy_id", "as_of"))
    if ids is None or dates is None:
        missing = [c for c in ("tenancy_id", "as_of") if c not in features.columns]
        raise ValueError(NO_IDS.format(columns=", ".join(missing)))
    return text_column(features, "tenancy_id"), numpy_column(features, "as_of")


# --- what depends only on the bundle ----------------------------------------------------


def _groups(bundle: ModelBundle) -> ReasonTable:
    return bundle.derived("explanation.groups", lambda: ReasonTable(bundle.feature_names))


# --- the column-wise core ---------------------------------------------------------------


def _shap_matrix(bundle: ModelBundle, matrix: np.ndarray, threads: int | None) -> np.ndarray:
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
    scored: Scored | None = None,
) -> dict[str, np.ndarray]:
    if not isinstance(max_reasons, int) or not 1 <= max_reasons <= MAX_REASONS:
        raise ValueError(BAD_MAX_REASONS.format(most=MAX_REASONS, value=max_reasons))
    ids, dates = row_ids(features)
    if scored is None or scored.shap is None:
        scored = score_rows(bundle, features, threads=threads)
    shap = scored.shap
    assert shap is not None
    n, info = len(features), _groups(bundle)
    table: dict[str, np.ndarray] = {
        "tenancy_id": ids,
        "as_of": dates,
        "probability": scored.probability,
        "raw_score": scored.raw_score,
        "base_value": shap[:, -1] if n else np.empty(0),
    }
    contrib = shap[:, :-1]
    group_sum = np.empty((n, len(info.members)))
    lead = np.empty((n, len(info.members)), dtype=np.intp)
    for g, cols in enumerate(info.members):
        if len(cols) == 1:
            # What a one-column sum gives, bit for bit (a sum turns -0.0 into 0.0).
            group_sum[:, g] = contrib[:, cols[0]] + 0.0
            lead[:, g] = cols[0]
        else:
            part = contrib[:, cols]
            group_sum[:, g] = part.sum(axis=1)
            # The wording feature: the group's largest contributor, as a matrix column.
            lead[:, g] = cols[np.argmax(part, axis=1)]
    # Largest first; ties keep catalogue order (a stable sort of the negated sums).
    order = np.argsort(-group_sum, axis=1, kind="stable")[:, :max_reasons]
    rows = np.arange(n)[:, None]
    chosen_sum = group_sum[rows, order]
    present = chosen_sum > 0
    chosen_feature = np.where(present, lead[rows, order], -1)
    table.update(
        word_reasons(info, scored.matrix, chosen_feature, chosen_sum, order, _REASON_FIELDS)
    )
    cf = {
        "cf_after": np.full(n, np.nan),
        "cf_fr": np.full(n, "", dtype=object),
        "cf_en": np.full(n, "", dtype=object),
        "cf_feature": np.full(n, None, dtype=object),
        "cf_value": np.full(n, None, dtype=object),
    }
    if counterfactual and n and present.any():
        cf.update(_what_if(bundle, features, scored, info, order, present, threads))
    table.update(cf)
    return table


def _what_if(
    bundle: ModelBundle,
    features: pd.DataFrame,
    scored: Scored,
    info: ReasonTable,
    order: np.ndarray,
    present: np.ndarray,
    threads: int | None,
) -> dict[str, np.ndarray]:
    reason_groups = info.groups[order]
    reason_groups[~present] = None
    candidates = candidate_changes(bundle.feature_names, reason_groups)
    probability = scored.probability
    best = best_changes(
        bundle, features, probability, candidates, threads=threads, matrix=scored.matrix
    )
    n = len(features)
    fr, en = np.full(n, "", dtype=object), np.full(n, "", dtype=object)
    rows = np.flatnonzero(~np.isnan(best["probability"]))
    fr[rows], en[rows] = counterfactual_lines(
        best["change"][rows],
        best["shown_value"][rows],
        probability[rows],
        best["probability"][rows],
    )
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
