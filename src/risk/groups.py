"""Performance by group of households, for auditors and for the promotion gate.

The score decides whom a team contacts first, so an auditor asks whether some households
are reached less often than others at the same risk. :func:`group_metrics` answers with
the same selection a team would make: each month's top-k over the **whole** month (a team
does not pick within groups), then reads, per group of each attribute in
:data:`GROUP_ATTRIBUTES`:

- ``selection_rate``: selected / rows;
- ``recall``: selected positives / positives (households who fell into arrears and were
  reached beforehand);
- ``precision``: selected positives / selected;
- ``false_positive_rate``: selected negatives / negatives (households contacted without
  need);
- ``calibration_gap``: mean probability minus observed rate (NaN for a ranking-only model).

Months are pooled. Intervals come from the tenancy-clustered bootstrap of
:mod:`risk.bootstrap`: a replicate reweights tenancies, each month's top-k is re-drawn on the
reweighted month, and every group's counts follow. The whole population appears as the
group ``all`` of attribute ``all``; :func:`largest_gaps` ranks groups by their shortfall
against it, for the report to flag in words.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np
import pandas as pd

from risk.bootstrap import (
    RankedPredictions,
    cumulative_weights,
    percentile_interval,
    rank_predictions,
    tenancy_weights,
    top_k_cut,
    weight_chunks,
)
from risk.catalogue import AGE_BANDS, INCOME_BANDS
from risk.contract import GUARANTEES, HOUSEHOLD_TYPES, RESIDENCE_TYPES
from risk.metrics import DEFAULT_MODEL, Capacity, CapacityLike, parse_capacity

MISSING_FEATURES = (
    "{count} prediction row(s) have no feature row with the same tenancy_id and as_of"
)
DUPLICATE_FEATURES = "the feature frame has repeated (tenancy_id, as_of) pairs"
MISSING_ATTRIBUTE = "the feature frame lacks the column(s) {columns} needed for group {name!r}"
UNKNOWN_METRIC = "unknown group metric {metric!r}; known metrics: {known}"

UNKNOWN = "unknown"
ALL = "all"
GROUP_METRICS = (
    "selection_rate",
    "recall",
    "precision",
    "false_positive_rate",
    "calibration_gap",
)
TABLE_COLUMNS = (
    "model", "attribute", "group", "metric", "value", "low", "high", "rows", "positives"
)  # fmt: skip
#: +1 where a lower value than the population's is a shortfall, -1 where a higher one is;
#: the calibration gap falls short by its distance from 0.
SHORTFALL_DIRECTION: Mapping[str, int] = MappingProxyType(
    {"selection_rate": 1, "recall": 1, "precision": 1, "false_positive_rate": -1}
)
_UNDER_30_BANDS = frozenset(AGE_BANDS[:2])  # under_25, 25_to_29


@dataclass(frozen=True)
class GroupAttribute:
    """An attribute that splits households into groups, and how to read it.

    Parameters
    ----------
    name
        English code, written in the ``attribute`` column.
    label
        Display label by language (``fr``, ``en``).
    groups
        Display labels of each group code by language, in display order.
    read
        Function from the feature frame to one group code per row (``unknown`` when the
        feature is missing).
    """

    name: str
    label: Mapping[str, str]
    groups: Mapping[str, Mapping[str, str]]
    read: Callable[[pd.DataFrame], pd.Series]


def _need(features: pd.DataFrame, name: str, *columns: str) -> None:
    missing = [c for c in columns if c not in features.columns]
    if missing:
        raise ValueError(MISSING_ATTRIBUTE.format(columns=", ".join(missing), name=name))


def _coded(values: pd.Series, codes: Mapping[float, str]) -> pd.Series:
    """Map flag values to codes, ``unknown`` for anything else (NaN included)."""
    return pd.Series(values.map(codes), index=values.index, dtype=object).fillna(UNKNOWN)


def _read_age(features: pd.DataFrame) -> pd.Series:
    # The flag is the catalogue's own VISALE cut; the band gives the same split when the
    # flag is not in the frame.
    if "aged_30_or_over" in features.columns:
        return _coded(features["aged_30_or_over"], {1.0: "30_and_over", 0.0: "under_30"})
    if "age_band" not in features.columns:
        _need(features, "age", "aged_30_or_over")  # neither column: name the flag
    band = features["age_band"].astype(object)
    age = np.where(band.isin(_UNDER_30_BANDS), "under_30", "30_and_over")
    return pd.Series(np.where(band.isna(), UNKNOWN, age), index=features.index)


def _read_apl(features: pd.DataFrame) -> pd.Series:
    _need(features, "apl_status", "apl_entitled")
    return _coded(features["apl_entitled"], {1.0: "entitled", 0.0: "not_entitled"})


def _categorical(column: str) -> Callable[[pd.DataFrame], pd.Series]:
    def read(features: pd.DataFrame) -> pd.Series:
        _need(features, column, column)
        return features[column].astype(object).where(features[column].notna(), UNKNOWN)

    return read


def _labels(fr: str, en: str) -> Mapping[str, str]:
    return MappingProxyType({"fr": fr, "en": en})


_UNKNOWN_LABEL = _labels("Non renseigné", "Unknown")
_ATTRIBUTES = (
    GroupAttribute(
        name="age",
        label=_labels("Âge du locataire principal", "Age of the main tenant"),
        groups={
            "under_30": _labels("Moins de 30 ans", "Under 30"),
            "30_and_over": _labels("30 ans et plus", "30 and over"),
        },
        read=_read_age,
    ),
    GroupAttribute(
        name="household_type",
        label=_labels("Composition du ménage", "Household composition"),
        groups={
            "single": _labels("Personne seule", "Single person"),
            "couple": _labels("Couple sans enfant", "Couple without children"),
            "single_parent": _labels("Famille monoparentale", "Single parent"),
            "couple_with_children": _labels("Couple avec enfant(s)", "Couple with children"),
            "other": _labels("Autre ménage", "Other household"),
        },
        read=_categorical("household_type"),
    ),
    GroupAttribute(
        name="guarantee_type",
        label=_labels("Garantie à l'entrée", "Guarantee at entry"),
        groups={
            "visale": _labels("VISALE", "VISALE"),
            "action_logement": _labels(
                "Loca-Pass / Action Logement", "Loca-Pass / Action Logement"
            ),
            "fsl": _labels("Garantie du FSL", "FSL guarantee"),
            "none": _labels("Sans garantie", "No guarantee"),
            "other": _labels("Autre garantie", "Other guarantee"),
        },
        read=_categorical("guarantee_type"),
    ),
    GroupAttribute(
        name="apl_status",
        label=_labels("Droit à l'APL", "APL entitlement"),
        groups={
            "entitled": _labels("Droit à l'APL en cours", "Entitled to APL"),
            "not_entitled": _labels("Sans droit à l'APL", "Not entitled to APL"),
        },
        read=_read_apl,
    ),
    GroupAttribute(
        name="income_band",
        label=_labels("Revenus mensuels du ménage", "Monthly household income"),
        groups={
            "below_636": _labels("Moins de 636 €", "Below 636 EUR"),
            "636_to_1000": _labels("De 636 à 1 000 €", "636 to 1,000 EUR"),
            "1000_to_1500": _labels("De 1 000 à 1 500 €", "1,000 to 1,500 EUR"),
            "1500_and_above": _labels("1 500 € et plus", "1,500 EUR and above"),
        },
        read=_categorical("income_band"),
    ),
    GroupAttribute(
        name="residence_type",
        label=_labels("Type de résidence", "Residence type"),
        groups={
            "residence_sociale": _labels("Résidence sociale", "Social residence"),
            "fjt": _labels("Foyer de jeunes travailleurs", "Young workers' hostel (FJT)"),
            "pension_de_famille": _labels("Pension de famille", "Family boarding house"),
            "residence_accueil": _labels("Résidence accueil", "Supported residence"),
            "logement_familial": _labels("Logement familial", "Family housing"),
        },
        read=_categorical("residence_type"),
    ),
)
#: Every audited attribute by name; each also has the group ``unknown`` when missing.
GROUP_ATTRIBUTES: Mapping[str, GroupAttribute] = MappingProxyType({a.name: a for a in _ATTRIBUTES})
#: Display labels of the whole population and of missing values.
ALL_LABEL = _labels("Ensemble des ménages", "All households")
UNKNOWN_LABEL = _UNKNOWN_LABEL
# The catalogue's codes must all have a display label.
assert set(GUARANTEES) == set(GROUP_ATTRIBUTES["guarantee_type"].groups)
assert set(HOUSEHOLD_TYPES) == set(GROUP_ATTRIBUTES["household_type"].groups)
assert set(RESIDENCE_TYPES) == set(GROUP_ATTRIBUTES["residence_type"].groups)
assert set(INCOME_BANDS) == set(GROUP_ATTRIBUTES["income_band"].groups)


def _group_codes(
    ranked: RankedPredictions, predictions: pd.DataFrame, features: pd.DataFrame
) -> list[tuple[str, list[str], np.ndarray]]:
    """Return, per attribute (``all`` first), its groups and each ranked row's group."""
    keys = ["tenancy_id", "as_of"]
    _need(features, "the join", *keys)
    right = features.assign(
        tenancy_id=features["tenancy_id"].astype(str), as_of=pd.to_datetime(features["as_of"])
    )
    if right.duplicated(keys).any():
        raise ValueError(DUPLICATE_FEATURES)
    left = predictions[keys].iloc[ranked.source_rows]
    left = left.assign(
        tenancy_id=left["tenancy_id"].astype(str), as_of=pd.to_datetime(left["as_of"])
    )
    joined = left.merge(right, on=keys, how="left", indicator=True)
    absent = int((joined["_merge"] != "both").sum())
    if absent:
        raise ValueError(MISSING_FEATURES.format(count=absent))
    out = [(ALL, [ALL], np.zeros(len(joined), dtype=np.intp))]
    for attribute in GROUP_ATTRIBUTES.values():
        values = attribute.read(joined).astype(str).to_numpy()
        # Known groups in display order, then unknown, then any code the catalogue lacks.
        present = set(values)
        groups = [g for g in attribute.groups if g in present]
        groups += sorted(present - set(groups) - {UNKNOWN}) + [UNKNOWN] * (UNKNOWN in present)
        codes = pd.Categorical(values, categories=groups).codes.astype(np.intp)
        out.append((attribute.name, groups, codes))
    return out


def _linear_design(ranked: RankedPredictions, codes: np.ndarray, n: int) -> np.ndarray:
    """Per-tenancy rows, positives and probability sums of each group, ``(T, 3 n)``.

    These counts are linear in the tenancy weights, so one matrix product gives them for a
    whole block of replicates.
    """
    o = ranked.by_month
    probability = np.zeros(len(o.label)) if ranked.probability is None else ranked.probability
    columns = np.concatenate([codes.ravel(), n + codes.ravel(), 2 * n + codes.ravel()])
    tenancy = np.tile(o.tenancy, 3 * len(codes)).astype(np.int64)
    values = np.concatenate(
        [np.ones(codes.size), np.tile(o.label, len(codes)), np.tile(probability, len(codes))]
    )
    design = np.bincount(tenancy * 3 * n + columns, values, minlength=ranked.n_tenancies * 3 * n)
    return design.reshape(ranked.n_tenancies, 3 * n)


def _group_sums(
    ranked: RankedPredictions,
    chunk: np.ndarray,
    capacity: Capacity,
    codes: np.ndarray,
    design: np.ndarray,
) -> dict[str, np.ndarray]:
    """Weighted rows, positives, probability, selected and captured per group, ``(b, n)``.

    ``codes`` holds one row per attribute: each ranked row's column among the ``n`` groups
    of all attributes side by side.
    """
    o = ranked.by_month
    b, n = len(chunk), design.shape[1] // 3
    cw, _ = cumulative_weights(o, chunk)
    _, boundary, partial = top_k_cut(o, cw, capacity)
    del cw
    # Selected rows of each (replicate, month): from the month's first row to the
    # boundary row, of which only ``partial`` copies are selected.
    starts = np.broadcast_to(o.bounds[:-1], boundary.shape).ravel()
    lengths = (boundary.ravel() - starts + 1) * (partial.ravel() > 0)
    replicate = np.repeat(np.arange(boundary.size) // boundary.shape[1], lengths)
    ends = np.cumsum(lengths)
    row = np.arange(ends[-1]) - np.repeat(ends - lengths - starts, lengths)
    weight = chunk[replicate, o.tenancy[row]].astype(np.float64)
    weight[ends[lengths > 0] - 1] = partial.ravel()[lengths > 0]
    flat = (replicate * n + codes[:, row]).ravel()
    label = np.tile(o.label[row], len(codes))
    weight = np.tile(weight, len(codes))
    linear = chunk.astype(np.float64) @ design
    return {
        "selected": np.bincount(flat, weight, minlength=b * n).reshape(b, n),
        "captured": np.bincount(flat, weight * label, minlength=b * n).reshape(b, n),
        "rows": linear[:, :n],
        "positives": linear[:, n : 2 * n],
        "probability": linear[:, 2 * n :],
    }


def _rates(sums: Mapping[str, np.ndarray], has_probability: bool) -> dict[str, np.ndarray]:
    rows, positives = sums["rows"], sums["positives"]
    selected, captured = sums["selected"], sums["captured"]
    with np.errstate(divide="ignore", invalid="ignore"):
        rates = {
            "selection_rate": selected / rows,
            "recall": captured / positives,
            "precision": captured / selected,
            "false_positive_rate": (selected - captured) / (rows - positives),
            "calibration_gap": (sums["probability"] - positives) / rows,
        }
    if not has_probability:
        rates["calibration_gap"] = np.full(rows.shape, np.nan)
    # 0/0 gives NaN already; x/0 gives inf, which means "undefined" here too.
    return {k: np.where(np.isfinite(v), v, np.nan) for k, v in rates.items()}


def group_metrics(
    predictions: pd.DataFrame,
    features: pd.DataFrame,
    capacity: CapacityLike,
    *,
    n_boot: int = 200,
    seed: int = 0,
    model: str | None = None,
) -> pd.DataFrame:
    """Measure the month-by-month top-k selection for each group of households.

    Parameters
    ----------
    predictions
        Predictions frame as read by :func:`risk.metrics.evaluate`.
    features
        Feature frame with ``tenancy_id``, ``as_of`` and the catalogue columns each
        attribute of :data:`GROUP_ATTRIBUTES` reads; joined to the predictions on both keys.
        Every prediction row needs a feature row.
    capacity
        Households contacted per month (see :func:`risk.metrics.parse_capacity`).
    n_boot, seed
        Tenancy-clustered bootstrap replicates and their seed (see :mod:`risk.bootstrap`).
    model
        Name written in the ``model`` column.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`TABLE_COLUMNS`, one row per attribute, group and metric of
        :data:`GROUP_METRICS`, months pooled; attribute ``all`` is the whole population.
        ``rows`` and ``positives`` count the group's rows over all months.
    """
    cap = capacity if isinstance(capacity, Capacity) else parse_capacity(capacity)
    ranked = rank_predictions(predictions)
    attributes = _group_codes(ranked, predictions, features)
    offsets = np.cumsum([0] + [len(groups) for _, groups, _ in attributes])
    codes = np.stack([c + off for (_, _, c), off in zip(attributes, offsets[:-1], strict=True)])
    design = _linear_design(ranked, codes, int(offsets[-1]))
    has_probability = ranked.probability is not None
    ones = np.ones((1, ranked.n_tenancies), dtype=np.uint8)
    point_sums = _group_sums(ranked, ones, cap, codes, design)
    point = _rates(point_sums, has_probability)
    weights = tenancy_weights(ranked.n_tenancies, n_boot, seed)
    blocks = [
        _rates(_group_sums(ranked, chunk, cap, codes, design), has_probability)
        for chunk in weight_chunks(weights, len(ranked.source_rows))
    ]
    n_groups = int(offsets[-1])
    frames = []
    for metric in GROUP_METRICS:
        replicates = (
            np.concatenate([b[metric] for b in blocks]) if blocks else np.empty((0, n_groups))
        )
        low, high = percentile_interval(replicates)
        frames.append((metric, point[metric][0], low, high))
    attribute_of = np.repeat([a for a, _, _ in attributes], np.diff(offsets))
    group_of = np.concatenate([groups for _, groups, _ in attributes])
    return pd.DataFrame(
        {
            "model": model if model is not None else DEFAULT_MODEL,
            "attribute": np.tile(attribute_of, len(GROUP_METRICS)),
            "group": np.tile(group_of, len(GROUP_METRICS)),
            "metric": np.repeat(GROUP_METRICS, n_groups),
            "value": np.concatenate([f[1] for f in frames]),
            "low": np.concatenate([f[2] for f in frames]),
            "high": np.concatenate([f[3] for f in frames]),
            "rows": np.tile(point_sums["rows"][0], len(GROUP_METRICS)).astype(np.int64),
            "positives": np.tile(point_sums["positives"][0], len(GROUP_METRICS)).astype(np.int64),
        },
        columns=list(TABLE_COLUMNS),
    )


def largest_gaps(
    group_table: pd.DataFrame, metric: str = "recall", top: int = 3, *, min_positives: int = 10
) -> pd.DataFrame:
    """Return the groups falling furthest short of the whole population on ``metric``.

    The shortfall is the population's value minus the group's for ``selection_rate``,
    ``recall`` and ``precision`` (reached less), the group's minus the population's for
    ``false_positive_rate`` (contacted without need more often), and the excess of the
    group's distance from 0 over the population's for ``calibration_gap``. Groups with
    fewer than ``min_positives`` positives are left out: their rates swing on a household
    or two, and their bootstrap interval can collapse to a point.

    Returns
    -------
    pandas.DataFrame
        Per model, the ``top`` groups with a positive shortfall, largest first: the group
        table's columns plus ``population`` (the population's value), ``shortfall`` and
        ``clear`` (True when the group's 95 % interval lies wholly on the short side of the
        population's value, so that the gap is not just noise).
    """
    if metric not in GROUP_METRICS:
        raise ValueError(UNKNOWN_METRIC.format(metric=metric, known=", ".join(GROUP_METRICS)))
    table = group_table[group_table["metric"] == metric]
    population = table[table["attribute"] == ALL].set_index("model")["value"]
    groups = table[(table["attribute"] != ALL) & (table["positives"] >= min_positives)].copy()
    groups["population"] = groups["model"].map(population).astype(np.float64)
    if metric == "calibration_gap":
        groups["shortfall"] = groups["value"].abs() - groups["population"].abs()
        bound = groups["population"].abs()
        groups["clear"] = (groups["low"] > bound) | (groups["high"] < -bound)
    elif SHORTFALL_DIRECTION[metric] > 0:
        groups["shortfall"] = groups["population"] - groups["value"]
        groups["clear"] = groups["high"] < groups["population"]
    else:
        groups["shortfall"] = groups["value"] - groups["population"]
        groups["clear"] = groups["low"] > groups["population"]
    groups = groups[groups["shortfall"] > 0]
    groups = groups.sort_values(["model", "shortfall"], ascending=[True, False], kind="stable")
    return groups.groupby("model", sort=False).head(top).reset_index(drop=True)
