"""The reference profile: how each feature and the score spread over the training population.

:meth:`ReferenceProfile.fit` learns, for each feature of a model and for its score, the
share of the reference (training) population in each of a few bins; the profile is plain
JSON (:meth:`ReferenceProfile.to_dict`, :meth:`ReferenceProfile.from_dict`, which checks
its shape) that travels in a model bundle or an MLflow artifact (nothing is unpickled).
Each bin has a stable key and a French and an English label for a report.
:func:`risk.monitoring.stability` compares a current population with a profile.

Bins. Numeric features and the score are cut at the reference's quantiles (repeated cuts
merged, outer bins open to -inf and +inf), right-closed ``(a, b]`` so that counts fall on
the side a reader expects. Categorical features get one bin per category and bool ones
one for 0 and one for 1, plus an ``(other)`` bin for any value the profile does not know:
a value the training population never held is counted, never dropped. Every feature has
a ``(missing)`` bin, since an export that starts to leave a field empty is drift too.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from risk.catalogue import get_feature

#: Name of the score's entry in a profile and in :func:`stability`'s table.
SCORE = "score"
#: Identifies a profile in its JSON form; bump the version when the layout changes.
PROFILE_FORMAT = "risk.monitoring.reference_profile"
PROFILE_VERSION = 1

#: Error raised for a number of bins that is not an integer of at least 2.
BAD_BINS = "bins must be an integer of at least 2, got {bins!r}"
#: Error raised for names the catalogue does not know, or that repeat or use ``score``.
UNKNOWN_FEATURES = "cannot profile these names: {names}"
#: Error raised when a feature frame lacks a column to profile or compare.
MISSING_COLUMNS = "the feature frame lacks columns: {names}"
#: Error raised for a population without rows.
EMPTY_POPULATION = "the {which} population has no rows; its shares are undefined"
#: Error raised for scores that are not probabilities, one per row.
BAD_SCORES = "scores must be probabilities in [0, 1], one per row of the feature frame: {reason}"
#: Error raised when a profile has no entry for a name asked of it.
PROFILE_LACKS = "the reference profile has no entry for: {names}"
#: Error raised for a stored profile that is not one this version wrote.
BAD_PROFILE = "not a reference profile: {reason}"

Kind = Literal["numeric", "bool", "categorical"]
_KINDS: tuple[Kind, ...] = ("numeric", "bool", "categorical")
_MISSING = "(missing)"
_OTHER = "(other)"
_BOOL_KEYS = ("0", "1")
_BOOL_LABELS = {"0": ("non", "no"), "1": ("oui", "yes")}
_MISSING_LABELS = ("valeur manquante", "missing value")
_OTHER_LABELS = ("autre valeur, absente du profil", "other value, not in the profile")
# Shares are counts over rows, so they sum to 1 up to rounding; a stored profile whose
# shares sum to anything else was edited or truncated.
_SHARE_TOLERANCE = 1e-6


@dataclass(frozen=True)
class FeatureProfile:
    """How one feature (or the score) was spread over its bins in the reference.

    Parameters
    ----------
    name
        Feature name, or :data:`SCORE`.
    kind
        ``numeric``, ``bool`` or ``categorical``.
    shares
        Reference share of each bin, in the order of :meth:`bin_keys`.
    cuts
        Numeric only: the inner bin edges, increasing; bins are ``(-inf, cuts[0]]``,
        ``(cuts[0], cuts[1]]``, ..., ``(cuts[-1], +inf)``.
    categories
        Categorical and bool only: the values with a bin of their own (``"0"`` and
        ``"1"`` for a bool).
    """

    name: str
    kind: Kind
    shares: tuple[float, ...]
    cuts: tuple[float, ...] = ()
    categories: tuple[str, ...] = ()

    def bin_keys(self) -> list[str]:
        """Stable key of each bin: an interval, a category, ``other`` or ``missing``."""
        if self.kind == "numeric":
            edges = ["-inf", *(repr(c) for c in self.cuts), "+inf"]
            intervals = [f"({lo}, {hi}]" for lo, hi in itertools.pairwise(edges)]
            intervals[-1] = intervals[-1][:-1] + ")"
            return [*intervals, _MISSING]
        return [*self.categories, _OTHER, _MISSING]

    def bin_labels(self) -> list[tuple[str, str]]:
        """French and English label of each bin, for a report (``> 300 et ≤ 450``)."""
        if self.kind == "numeric":
            return [*_interval_labels(self.cuts), _MISSING_LABELS]
        labels = [
            _BOOL_LABELS.get(c, (c, c)) if self.kind == "bool" else (c, c) for c in self.categories
        ]
        return [*labels, _OTHER_LABELS, _MISSING_LABELS]

    def shares_of(self, values: pd.Series | np.ndarray) -> np.ndarray:
        """Share of ``values`` in each bin, in the order of :meth:`bin_keys`."""
        counts = self._counts(values)
        return counts / max(int(counts.sum()), 1)

    def _counts(self, values: pd.Series | np.ndarray) -> np.ndarray:
        series = pd.Series(values) if not isinstance(values, pd.Series) else values
        if self.kind == "categorical":
            return _category_counts(series.astype("object"), self.categories)
        x = series.to_numpy(dtype=np.float64, na_value=np.nan)
        missing = np.isnan(x)
        if self.kind == "bool":
            # 1.0 and 0.0 are read as "1" and "0"; any other number lands in (other).
            codes = np.where(x == 1, "1", np.where(x == 0, "0", "?")).astype(object)
            codes[missing] = None
            return _category_counts(pd.Series(codes), self.categories)
        # side="left" puts a value equal to a cut in the bin the cut closes: (a, b].
        index = np.searchsorted(np.asarray(self.cuts, dtype=np.float64), x[~missing])
        counts = np.bincount(index, minlength=len(self.cuts) + 1).astype(np.float64)
        return np.append(counts, float(missing.sum()))

    def to_dict(self) -> dict[str, Any]:
        """Return the entry as plain JSON: name, kind, shares, cuts and categories."""
        fields = ("shares", "cuts", "categories")
        return {"name": self.name, "kind": self.kind, **{k: list(getattr(self, k)) for k in fields}}


class ReferenceProfile:
    """The spread of each feature and of the score over the reference (training) population.

    Build one with :meth:`fit` or :meth:`from_dict`.

    Parameters
    ----------
    entries
        One :class:`FeatureProfile` per feature, then the score's when profiled.
    rows
        Number of rows of the reference population.
    bins
        Number of quantile bins asked for numeric features (fewer when cuts repeat).

    Attributes
    ----------
    rows : int
    bins : int
    names : list of str
        Profiled features in order, without :data:`SCORE`.
    has_score : bool
    """

    def __init__(self, entries: Sequence[FeatureProfile], rows: int, bins: int) -> None:
        self._entries = {entry.name: entry for entry in entries}
        self.rows = int(rows)
        self.bins = int(bins)
        self.names = [entry.name for entry in entries if entry.name != SCORE]
        self.has_score = SCORE in self._entries

    def __getitem__(self, name: str) -> FeatureProfile:
        """Return the entry of ``name`` (a feature or :data:`SCORE`)."""
        if name not in self._entries:
            raise KeyError(PROFILE_LACKS.format(names=name))
        return self._entries[name]

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    @classmethod
    def fit(
        cls,
        features: pd.DataFrame,
        scores: np.ndarray | None,
        names: Sequence[str],
        *,
        bins: int = 10,
    ) -> ReferenceProfile:
        """Learn the profile of a reference population.

        Parameters
        ----------
        features
            Feature frame of the reference (training) population, as built by
            :func:`risk.features.build_features`.
        scores
            Calibrated probabilities of those rows, profiled as :data:`SCORE`; ``None``
            to profile the features only.
        names
            Features to profile, in order: catalogue names (the model's features).
        bins
            Number of quantile bins of numeric features and of the score.

        Returns
        -------
        ReferenceProfile

        Raises
        ------
        ValueError
            :data:`BAD_BINS`, :data:`UNKNOWN_FEATURES`, :data:`MISSING_COLUMNS`,
            :data:`EMPTY_POPULATION` or :data:`BAD_SCORES`.
        """
        if isinstance(bins, bool) or not isinstance(bins, int | np.integer) or bins < 2:
            raise ValueError(BAD_BINS.format(bins=bins))
        kinds = _catalogue_kinds(names)
        _check_frame(features, names, "reference")
        entries = [_fit_entry(name, kind, features[name], bins) for name, kind in kinds.items()]
        if scores is not None:
            score = _check_scores(scores, len(features))
            entries.append(_fit_entry(SCORE, "numeric", pd.Series(score), bins))
        return cls(entries, rows=len(features), bins=int(bins))

    def to_dict(self) -> dict[str, Any]:
        """Return the profile as plain JSON (``json.dumps`` needs no help).

        ``{"format", "version", "rows", "bins", "features": [entry, ...]}``, each entry as
        :meth:`FeatureProfile.to_dict`; the score's entry, when present, is last.
        """
        return {
            "format": PROFILE_FORMAT,
            "version": PROFILE_VERSION,
            "rows": self.rows,
            "bins": self.bins,
            "features": [entry.to_dict() for entry in self._entries.values()],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ReferenceProfile:
        """Rebuild a profile from :meth:`to_dict`'s output, checking its shape.

        Raises
        ------
        ValueError
            :data:`BAD_PROFILE`, naming what is wrong.
        """
        _require(isinstance(data, Mapping), f"expected a mapping, got {type(data).__name__}")
        found = (data.get("format"), data.get("version"))
        _require(found == (PROFILE_FORMAT, PROFILE_VERSION), f"format and version {found!r}")
        rows: Any = data.get("rows")
        bins: Any = data.get("bins")
        raw_entries: Any = data.get("features")
        _require(_is_int(rows) and rows >= 1, f"rows must be a positive integer, got {rows!r}")
        _require(_is_int(bins) and bins >= 2, f"bins must be an integer >= 2, got {bins!r}")
        _require(isinstance(raw_entries, list) and raw_entries, "features: a non-empty list")
        entries = [_entry_from_dict(raw) for raw in raw_entries]
        _require(len({e.name for e in entries}) == len(entries), "a name appears twice")
        return cls(entries, rows=rows, bins=bins)


# --- fitting --------------------------------------------------------------------------------


def _catalogue_kinds(names: Sequence[str]) -> dict[str, Kind]:
    kinds: dict[str, Kind] = {}
    refused: list[str] = []
    for name in names:
        if name == SCORE or name in kinds:
            refused.append(f"{name!r} (reserved or repeated)")
            continue
        try:
            kinds[name] = get_feature(name).dtype
        except KeyError:
            refused.append(f"{name!r} (not in the catalogue)")
    if refused:
        raise ValueError(UNKNOWN_FEATURES.format(names=", ".join(refused)))
    return kinds


def _check_frame(features: pd.DataFrame, names: Sequence[str], which: str) -> None:
    missing = [name for name in names if name not in features.columns]
    if missing:
        raise ValueError(MISSING_COLUMNS.format(names=", ".join(missing)))
    if len(features) == 0:
        raise ValueError(EMPTY_POPULATION.format(which=which))


def _check_scores(scores: np.ndarray, n_rows: int) -> np.ndarray:
    try:
        values = np.asarray(scores, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise ValueError(BAD_SCORES.format(reason=str(error))) from None
    if values.ndim != 1 or len(values) != n_rows:
        reason = f"shape {values.shape} for {n_rows} rows"
        raise ValueError(BAD_SCORES.format(reason=reason))
    # NaN is let through to the missing bin, where a scoring fault shows as drift.
    present = values[~np.isnan(values)]
    if ((present < 0) | (present > 1)).any():
        reason = "values outside [0, 1] (raw log-odds rather than probabilities?)"
        raise ValueError(BAD_SCORES.format(reason=reason))
    return values


def _fit_entry(name: str, kind: Kind, values: pd.Series, bins: int) -> FeatureProfile:
    cuts: tuple[float, ...] = ()
    categories: tuple[str, ...] = ()
    if kind == "numeric":
        x = values.to_numpy(dtype=np.float64, na_value=np.nan)
        cuts = _quantile_cuts(x[np.isfinite(x)], bins)
    elif kind == "categorical":
        categories = get_feature(name).categories
    else:
        categories = _BOOL_KEYS
    shell = FeatureProfile(name, kind, (0.0,) * _n_bins(kind, cuts, categories), cuts, categories)
    shares = tuple(float(s) for s in shell.shares_of(values))
    return FeatureProfile(name, kind, shares, cuts, categories)


def _quantile_cuts(x: np.ndarray, bins: int) -> tuple[float, ...]:
    if x.size == 0:
        return ()
    inner = np.quantile(x, np.arange(1, bins) / bins)
    # Heaped values (0 children, no arrears) give repeated quantiles: one bin each.
    return tuple(float(c) for c in np.unique(inner))


def _n_bins(kind: Kind, cuts: Sequence[float], categories: Sequence[str]) -> int:
    # Numeric: the intervals (one more than the cuts) and (missing); otherwise the
    # categories, (other) and (missing).
    return len(cuts) + 2 if kind == "numeric" else len(categories) + 2


def _category_counts(values: pd.Series, categories: Sequence[str]) -> np.ndarray:
    missing = float(values.isna().sum())
    known = [float((values == category).sum()) for category in categories]
    return np.array([*known, len(values) - missing - sum(known), missing], dtype=np.float64)


# --- labels -------------------------------------------------------------------------------


def _interval_labels(cuts: Sequence[float]) -> list[tuple[str, str]]:
    if not cuts:
        return [("toute valeur", "any value")]
    texts = _edge_texts(cuts)
    fr = [text.replace(".", ",") for text in texts]
    labels = [(f"≤ {fr[0]}", f"≤ {texts[0]}")]
    for i in range(1, len(cuts)):
        labels.append((f"> {fr[i - 1]} et ≤ {fr[i]}", f"> {texts[i - 1]} and ≤ {texts[i]}"))
    labels.append((f"> {fr[-1]}", f"> {texts[-1]}"))
    return labels


def _edge_texts(cuts: Sequence[float]) -> list[str]:
    # Three significant digits read well, but never fewer than the integer part and never
    # so few that two edges print alike; the exact cuts stay in the bin keys.
    for digits in range(3, 18):
        texts = [_number_text(c, digits) for c in cuts]
        if len(set(texts)) == len(texts):
            return texts
    return [repr(c) for c in cuts]


def _number_text(value: float, digits: int) -> str:
    magnitude = math.floor(math.log10(abs(value))) if value != 0 else 0
    decimals = max(0, digits - 1 - magnitude)
    text = f"{value:.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


# --- reading ------------------------------------------------------------------------------


def _require(condition: Any, reason: str) -> None:
    if not condition:
        raise ValueError(BAD_PROFILE.format(reason=reason))


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _entry_from_dict(raw: Any) -> FeatureProfile:
    _require(isinstance(raw, Mapping), f"a feature entry is a {type(raw).__name__}")
    name, kind = raw.get("name"), raw.get("kind")
    _require(isinstance(name, str) and name, f"entry name {name!r}")
    _require(kind in _KINDS, f"{name}: kind {kind!r} is none of {_KINDS}")
    cuts, categories, shares = (raw.get(k) for k in ("cuts", "categories", "shares"))
    for field, values, number in (
        ("cuts", cuts, True),
        ("categories", categories, False),
        ("shares", shares, True),
    ):
        ok = isinstance(values, list) and all(
            _is_number(v) if number else isinstance(v, str) for v in values
        )
        _require(ok, f"{name}: {field} must be a list of {'numbers' if number else 'strings'}")
    _require(
        (np.diff(cuts) > 0).all() and (kind == "numeric" or not cuts),
        f"{name}: cuts must increase strictly, and only a numeric feature has any",
    )
    distinct = len(set(categories)) == len(categories) and not {_OTHER, _MISSING} & set(categories)
    expected = {"numeric": [], "bool": list(_BOOL_KEYS)}.get(kind, categories)
    _require(
        distinct and categories == expected and (kind != "categorical" or categories),
        f"{name}: categories {categories!r} do not fit a {kind} feature",
    )
    bins = _n_bins(kind, cuts, categories)
    _require(len(shares) == bins, f"{name}: {len(shares)} shares for {bins} bins")
    _require(
        min(shares) >= 0 and abs(sum(shares) - 1.0) <= _SHARE_TOLERANCE,
        f"{name}: shares must be non-negative and sum to 1",
    )
    return FeatureProfile(
        name, kind, tuple(map(float, shares)), tuple(map(float, cuts)), tuple(categories)
    )


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
