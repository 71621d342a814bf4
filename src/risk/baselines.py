"""Baselines the model must beat, scored on the same rows as the model.

Two references sit beside the model in the evaluation and in the auditor report:

- :class:`TodaysPractice`: the list caseworkers draw up today, written down as a rule
  (highest unpaid balance first; among equal balances, LogemLoiret's target group of
  new tenants without a guarantee first). It ranks without learning anything; its
  probability is only the rule's own observed arrears rate per group, so that a Brier
  score and a calibration curve can be shown for it too.
- :class:`Scorecard`: a logistic regression on binned features, as credit teams build
  them, with a points table a reader can add up by hand.

Both follow scikit-learn's conventions (the constructor stores its keyword arguments,
``fit`` sets attributes ending in ``_`` and returns ``self``) and travel as plain JSON
numbers through ``to_dict`` / ``from_dict``: nothing is pickled.
"""

from __future__ import annotations

import inspect
import itertools
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression

from risk.arrears import CENT_TOLERANCE
from risk.catalogue import feature_names, get_feature

#: LogemLoiret's watch covers the first 6 months after entry (seeds/002, DOMAIN.md).
NEW_ENTRANT_MONTHS = 6.0
#: Cents owed above which today's list no longer tells households apart (10 million EUR).
MAX_OWED_CENTS = 1e9
#: Label of the bin of missing values, and of the scorecard's intercept row.
MISSING_BIN = "missing"
INTERCEPT = "(intercept)"
_GROUP_COLUMNS = ("bin_code", "balance_bin", "new_without_guarantee", "n", "arrears", "rate")
_GROUP_DTYPES: dict[str, Any] = dict(
    zip(_GROUP_COLUMNS, (np.int64, str, bool, np.int64, np.int64, np.float64), strict=True)
)

#: Error raised when labels are not all 0 or 1.
BAD_LABELS = "labels must be 0 or 1 (drop the rows whose label is empty): {reason}"
#: Error raised when the frame lacks columns a baseline reads.
MISSING_COLUMNS = "the feature frame lacks columns: {names}"
#: Error raised when a fitted attribute is needed before ``fit``.
NOT_FITTED = "{name} is not fitted yet: call fit first"
#: Error raised by ``from_dict`` on a dictionary another class wrote.
WRONG_KIND = "expected a dictionary written by {expected}, got kind {kind!r}"


def new_without_guarantee(features: pd.DataFrame) -> np.ndarray:
    """Flag LogemLoiret's target group: new tenants without a guarantee.

    A tenancy is flagged when it entered less than :data:`NEW_ENTRANT_MONTHS` months
    before as-of (``months_since_entry < 6``) and gave no guarantee at entry
    (``has_guarantee == 0``). An unknown value never flags.

    Parameters
    ----------
    features
        Feature frame with ``months_since_entry`` and ``has_guarantee``.

    Returns
    -------
    numpy.ndarray
        Boolean, one value per row.
    """
    _require(features, ["months_since_entry", "has_guarantee"])
    months = _floats(features["months_since_entry"])
    guarantee = _floats(features["has_guarantee"])
    # NaN compares False on both sides, so an unknown entry date or guarantee never flags.
    return (months < NEW_ENTRANT_MONTHS) & (guarantee == 0.0)


class _Baseline:
    """What both baselines share: scikit-learn's parameter access, checks on loading."""

    def get_params(self) -> dict[str, Any]:
        """Return the constructor's keyword arguments, as scikit-learn does."""
        names = inspect.signature(type(self).__init__).parameters
        return {name: getattr(self, name) for name in names if name != "self"}

    @classmethod
    def _check_kind(cls, data: dict[str, Any]) -> None:
        if data.get("kind") != cls.__name__:
            raise ValueError(WRONG_KIND.format(expected=cls.__name__, kind=data.get("kind")))


class TodaysPractice(_Baseline):
    """Today's practice, written down: the order in which caseworkers call households.

    The list, as a recovery officer works through it:

    1. **Who owes the most comes first**: current unpaid balance (``balance_eur``),
       highest first, compared to the cent. A balance in credit owes nothing, like a
       zero balance.
    2. **Among equal balances, new tenants without a guarantee come first**: entered
       less than 6 months ago (``months_since_entry < 6``) with ``has_guarantee == 0``
       (:func:`new_without_guarantee`). This is LogemLoiret's target group for early
       contact by a neutral third party: « Les nouveaux entrants sans garantie en
       situation de premier impayé (à partir de deux mensualités) dans les 6 mois après
       attribution » (seeds/002; DOMAIN.md: of the tenants who entered without a
       guarantee between January and June 2014, 19.5% were in arrears on 31 Aug 2014).
       The alert itself, two unpaid monthly rents, is already behind step 1: it is the
       balance, and households that far behind are in arrears, which the label leaves
       out of the rows to score.
    3. **Remaining ties**: larger balance in months of residual rent
       (``balance_months``) first, then ``tenancy_id`` in alphabetical order, so the
       list is the same every time.

    An unknown balance (or ``balance_months``) comes after every known one.

    The ranking needs no fitting. :meth:`fit` only records **the rule's own observed
    arrears rate** on the training rows, per group of the list (the owed balance cut
    into bins, crossed with the new-without-guarantee flag), shrunk towards the overall
    rate by ``smoothing`` pseudo-rows. It is not a model: it says how often the
    households the rule puts in each group fell into arrears, so that the rule gets a
    Brier score and a calibration curve beside the model's.

    Parameters
    ----------
    n_bins
        At most this many quantile bins of the positive owed balances (the households
        owing nothing form their own bin, as do unknown balances).
    smoothing
        Weight, in rows, of the overall arrears rate in each group's rate.

    Attributes
    ----------
    balance_edges_ : numpy.ndarray
        Upper bounds (EUR, inclusive) of the bins of positive owed balances.
    base_rate_ : float
        Arrears rate of all training rows.
    groups_ : pandas.DataFrame
        One row per group met in training, in the list's order: ``bin_code`` (-1
        unknown, 0 owes nothing, then the bins of positive balances), ``balance_bin``,
        ``new_without_guarantee``, ``n``, ``arrears``, ``rate`` (smoothed).
    """

    #: Columns the rule reads.
    COLUMNS = ("tenancy_id", "balance_eur", "balance_months", "months_since_entry", "has_guarantee")

    def __init__(self, *, n_bins: int = 5, smoothing: float = 10.0) -> None:
        self.n_bins = n_bins
        self.smoothing = smoothing

    def fit(self, features: pd.DataFrame, y: Any) -> TodaysPractice:
        """Record the rule's observed arrears rate per group on the training rows; return self.

        Parameters
        ----------
        features
            Feature frame (see :func:`risk.features.build_features`).
        y
            Labels, 0 or 1, one per row, in row order.
        """
        _require(features, self.COLUMNS)
        labels = _labels(y, len(features))
        owed = _owed(features)
        self.balance_edges_ = _quantile_edges(owed[owed > CENT_TOLERANCE], self.n_bins)
        self.base_rate_ = float(labels.mean()) if len(labels) else 0.0
        codes = self._bin_codes(owed)
        flag = new_without_guarantee(features)
        frame = pd.DataFrame({"bin_code": codes, "new_without_guarantee": flag, "y": labels})
        groups = frame.groupby(["bin_code", "new_without_guarantee"], as_index=False).agg(
            n=("y", "size"), arrears=("y", "sum")
        )
        groups["rate"] = (groups["arrears"] + self.smoothing * self.base_rate_) / (
            groups["n"] + self.smoothing
        )
        groups.insert(1, "balance_bin", groups["bin_code"].map(self._bin_labels()))
        # The list's order: unknown balances last, otherwise highest bin first, flag first.
        order = np.where(groups["bin_code"] < 0, np.inf, -groups["bin_code"].astype(float))
        groups = groups.assign(order=order).sort_values(
            ["order", "new_without_guarantee"], ascending=[True, False]
        )
        self.groups_ = groups[list(_GROUP_DTYPES)].astype(_GROUP_DTYPES).reset_index(drop=True)
        return self

    def predict_proba(self, features: pd.DataFrame) -> np.ndarray:
        """Return the rule's observed arrears rate of each row's group, float64, shape ``(n,)``.

        A group no training row fell in gets the overall training rate.
        """
        if not hasattr(self, "groups_"):
            raise ValueError(NOT_FITTED.format(name=type(self).__name__))
        _require(features, self.COLUMNS)
        codes = self._bin_codes(_owed(features))
        flag = new_without_guarantee(features).astype(np.int64)
        # Table indexed by (bin code + 1, flag); code -1 (unknown) lands in row 0.
        table = np.full((len(self.balance_edges_) + 3, 2), self.base_rate_, dtype=np.float64)
        rows, cols = self.groups_["bin_code"].to_numpy() + 1, self.groups_["new_without_guarantee"]
        table[rows, cols.to_numpy(dtype=np.int64)] = self.groups_["rate"].to_numpy()
        return table[codes + 1, flag]

    def rank_score(self, features: pd.DataFrame) -> np.ndarray:
        """Return each row's place in today's list as a score (higher: call first).

        The score encodes the rule's keys in one exact float: cents owed, then the
        new-without-guarantee flag, then months owed (to the thousandth), unknown values
        last. It depends on the row only, so scores of rows scored in different calls
        (the backtest's folds) still order correctly; rows with equal keys tie, and the
        list breaks those ties by ``tenancy_id`` ascending, as
        :func:`risk.bootstrap.rank_predictions` and :func:`list_order` do.
        """
        _require(features, self.COLUMNS)
        owed_cents = np.clip(np.round(_owed(features) * 100.0), 0.0, MAX_OWED_CENTS)
        months = np.clip(np.round(_floats(features["balance_months"]) * 1000.0), 0.0, 999_999.0)
        flag = new_without_guarantee(features).astype(np.float64)
        # Exact in float64: at most 1e9 * 2e6 + 2e6 < 2**53.
        score = owed_cents * 2e6 + flag * 1e6 + np.nan_to_num(months, nan=0.0)
        return np.where(np.isnan(owed_cents), -1.0, score)

    def list_order(self, features: pd.DataFrame) -> np.ndarray:
        """Return the row positions in today's list order (first to call first)."""
        score = self.rank_score(features)
        tenancy, _ = pd.factorize(features["tenancy_id"].astype(str), sort=True)
        return np.lexsort((tenancy, -score))

    def to_dict(self) -> dict[str, Any]:
        """Describe the rule and its observed rates as JSON-able values."""
        fitted = None
        if hasattr(self, "groups_"):
            fitted = {
                "balance_edges": [float(e) for e in self.balance_edges_],
                "base_rate": self.base_rate_,
                "groups": self.groups_.to_dict(orient="records"),
            }
        return {
            "kind": type(self).__name__,
            "rule": (
                "balance_eur (owed, to the cent) highest first; among equal balances "
                f"months_since_entry < {NEW_ENTRANT_MONTHS:g} and has_guarantee == 0 first; "
                "then balance_months highest first; then tenancy_id ascending"
            ),
            "params": self.get_params(),
            "fitted": fitted,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TodaysPractice:
        """Rebuild the rule and its observed rates from :meth:`to_dict`'s output."""
        cls._check_kind(data)
        practice = cls(**data["params"])
        fitted = data.get("fitted")
        if fitted is not None:
            practice.balance_edges_ = np.asarray(fitted["balance_edges"], dtype=np.float64)
            practice.base_rate_ = float(fitted["base_rate"])
            groups = pd.DataFrame(fitted["groups"], columns=list(_GROUP_DTYPES))
            practice.groups_ = groups.astype(_GROUP_DTYPES)
        return practice

    def _bin_codes(self, owed: np.ndarray) -> np.ndarray:
        # -1 unknown, 0 owes nothing, 1.. the bins of positive owed balances.
        codes = 1 + np.searchsorted(self.balance_edges_, owed, side="left")
        codes[owed <= CENT_TOLERANCE] = 0
        codes[np.isnan(owed)] = -1
        return codes.astype(np.int64)

    def _bin_labels(self) -> dict[int, str]:
        positive = _interval_labels(self.balance_edges_, lower=0.0)
        return {-1: "unknown", 0: "owes nothing", **{i + 1: s for i, s in enumerate(positive)}}


class Scorecard(_Baseline):
    """A logistic-regression scorecard on binned features, as credit teams build them.

    Each numeric or bool feature is cut into at most ``n_bins`` quantile bins learned
    on the training rows, right-closed (``<= a``, ``(a, b]``, ``> b``); each categorical
    feature gets one bin per category met in training. Missing values have their own
    bin. The bins are one-hot encoded and a logistic regression with an L2 penalty
    (``C``, scikit-learn's lbfgs solver) gives each bin a coefficient.

    Points (:meth:`points_table`) are coefficients scaled so that ``points_to_double``
    more points double the odds of arrears; a household's total, intercept included, is
    its log-odds in points. A value the training rows never showed (a category, or a
    missing value where none was missing) falls in no bin and scores 0 points.

    Parameters
    ----------
    features
        Catalogue features to use, in order; all catalogue features when ``None``.
    n_bins
        Maximum number of quantile bins of a numeric feature.
    C
        Inverse strength of the L2 penalty.
    max_iter
        Iterations allowed to the solver.
    random_state
        Seed handed to the solver, for reproducibility.
    points_to_double
        Points that double the odds of arrears.

    Attributes
    ----------
    features_ : list of str
        Features used.
    bins_ : list of dict
        Per feature: ``{"feature", "kind": "numeric", "edges"}`` or
        ``{"feature", "kind": "categorical", "categories"}``.
    coef_ : numpy.ndarray
        One coefficient per bin column (see :meth:`points_table` for the layout).
    intercept_ : float
        Intercept of the regression (log-odds).
    bin_counts_ : numpy.ndarray
        Training rows in each bin column.
    n_iter_ : int
        Iterations the solver ran.
    """

    def __init__(
        self,
        *,
        features: Sequence[str] | None = None,
        n_bins: int = 5,
        C: float = 1.0,  # noqa: N803 (scikit-learn's name)
        max_iter: int = 1000,
        random_state: int = 0,
        points_to_double: float = 20.0,
    ) -> None:
        self.features = features
        self.n_bins = n_bins
        self.C = C
        self.max_iter = max_iter
        self.random_state = random_state
        self.points_to_double = points_to_double

    def fit(self, features: pd.DataFrame, y: Any) -> Scorecard:
        """Learn the bins on the training rows, then the coefficients; return self.

        Parameters
        ----------
        features
            Feature frame (see :func:`risk.features.build_features`).
        y
            Labels, 0 or 1, one per row, in row order; both classes must appear.
        """
        names = feature_names() if self.features is None else list(self.features)
        for name in names:
            get_feature(name)  # raises KeyError on a name the catalogue does not know
        _require(features, names)
        labels = _labels(y, len(features))
        if np.unique(labels).size < 2:
            raise ValueError(BAD_LABELS.format(reason="both 0 and 1 must appear to fit"))
        self.features_ = names
        self.bins_ = [_learn_bins(name, features[name], self.n_bins) for name in names]
        design = _design(features, self.bins_)
        regression = LogisticRegression(
            C=self.C,
            l1_ratio=0.0,
            solver="lbfgs",
            max_iter=self.max_iter,
            random_state=self.random_state,
        ).fit(design, labels)
        self.coef_ = regression.coef_[0].astype(np.float64)
        self.intercept_ = float(regression.intercept_[0])
        self.n_iter_ = int(regression.n_iter_[0])
        self.bin_counts_ = design.sum(axis=0).astype(np.int64)
        return self

    def decision_function(self, features: pd.DataFrame) -> np.ndarray:
        """Return the log-odds of arrears of each row (intercept plus its bins' coefficients)."""
        if not hasattr(self, "coef_"):
            raise ValueError(NOT_FITTED.format(name=type(self).__name__))
        _require(features, self.features_)
        return self.intercept_ + _design(features, self.bins_) @ self.coef_

    def predict_proba(self, features: pd.DataFrame) -> np.ndarray:
        """Return the probability of arrears of each row, float64, shape ``(n,)``."""
        return 1.0 / (1.0 + np.exp(-self.decision_function(features)))

    def rank_score(self, features: pd.DataFrame) -> np.ndarray:
        """Return the log-odds as the contact order's score (higher: call first).

        Rows falling in the same bins of every feature tie; the score does not depend
        on the other rows passed.
        """
        return self.decision_function(features)

    def points_table(self) -> pd.DataFrame:
        """Return the scorecard: one row per bin, then the intercept.

        Columns ``feature``, ``bin``, ``coefficient`` (log-odds), ``points``
        (coefficient scaled so that ``points_to_double`` points double the odds) and
        ``n_train`` (training rows in the bin; ``NaN`` for the intercept).
        """
        if not hasattr(self, "coef_"):
            raise ValueError(NOT_FITTED.format(name=type(self).__name__))
        rows = [(spec["feature"], label) for spec in self.bins_ for label in _spec_labels(spec)]
        table = pd.DataFrame([*rows, (INTERCEPT, "")], columns=["feature", "bin"])
        table["coefficient"] = np.append(self.coef_, self.intercept_)
        table["n_train"] = np.append(self.bin_counts_.astype(np.float64), np.nan)
        table.insert(3, "points", table["coefficient"] * self.points_to_double / math.log(2.0))
        return table

    def to_dict(self) -> dict[str, Any]:
        """Describe the scorecard as JSON-able values that reproduce its predictions."""
        fitted = None
        if hasattr(self, "coef_"):
            fitted = {
                "features": list(self.features_),
                "bins": [dict(spec) for spec in self.bins_],  # plain floats and strings
                "coef": self.coef_.tolist(),
                "intercept": self.intercept_,
                "bin_counts": self.bin_counts_.tolist(),
                "n_iter": self.n_iter_,
            }
        params = self.get_params()
        if params["features"] is not None:
            params["features"] = list(params["features"])
        return {"kind": type(self).__name__, "params": params, "fitted": fitted}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Scorecard:
        """Rebuild a scorecard from :meth:`to_dict`'s output (no scikit-learn object)."""
        cls._check_kind(data)
        scorecard = cls(**data["params"])
        fitted = data.get("fitted")
        if fitted is not None:
            scorecard.features_ = list(fitted["features"])
            scorecard.bins_ = [dict(spec) for spec in fitted["bins"]]
            scorecard.coef_ = np.asarray(fitted["coef"], dtype=np.float64)
            scorecard.intercept_ = float(fitted["intercept"])
            scorecard.bin_counts_ = np.asarray(fitted["bin_counts"], dtype=np.int64)
            scorecard.n_iter_ = int(fitted["n_iter"])
            width = sum(len(_spec_labels(spec)) for spec in scorecard.bins_)
            if width != len(scorecard.coef_):
                raise ValueError(f"{len(scorecard.coef_)} coefficients for {width} bins")
        return scorecard


def _learn_bins(name: str, column: pd.Series, n_bins: int) -> dict[str, Any]:
    if get_feature(name).dtype != "categorical":
        return {
            "feature": name,
            "kind": "numeric",
            "edges": _quantile_edges(_floats(column), n_bins).tolist(),
        }
    present = column.dropna()
    if isinstance(column.dtype, pd.CategoricalDtype):
        # Display order of the frame's categories, keeping only those met in training.
        seen = set(present.astype(str))
        categories = [str(c) for c in column.cat.categories if str(c) in seen]
    else:
        categories = sorted(set(present.astype(str)))
    return {"feature": name, "kind": "categorical", "categories": categories}


def _spec_labels(spec: dict[str, Any]) -> list[str]:
    if spec["kind"] == "numeric":
        return [*_interval_labels(np.asarray(spec["edges"], dtype=np.float64)), MISSING_BIN]
    return [*spec["categories"], MISSING_BIN]


def _design(features: pd.DataFrame, specs: list[dict[str, Any]]) -> np.ndarray:
    # One-hot of every feature's bin; a value in no learned bin leaves its block at 0.
    blocks = []
    for spec in specs:
        column = features[spec["feature"]]
        if spec["kind"] == "numeric":
            edges = np.asarray(spec["edges"], dtype=np.float64)
            width = len(edges) + 1
            codes = np.searchsorted(edges, _floats(column), side="left")
        else:
            width = len(spec["categories"])
            # A category never met in training gets -1: no bin, 0 points.
            codes = pd.Index(spec["categories"], dtype=object).get_indexer(column.astype(object))
        codes = np.where(column.isna().to_numpy(), width, codes)  # the missing bin is the last
        block = np.zeros((len(features), width + 1), dtype=np.float64)
        rows = np.flatnonzero(codes >= 0)
        block[rows, codes[rows]] = 1.0
        blocks.append(block)
    if not blocks:
        return np.zeros((len(features), 0), dtype=np.float64)
    return np.hstack(blocks)


def _quantile_edges(values: np.ndarray, n_bins: int) -> np.ndarray:
    """Cut points of at most ``n_bins`` right-closed quantile bins, each holding data.

    Edges are observed values (``inverted_cdf``), so each bin ``(a, b]`` holds ``b``;
    an edge at or above the maximum would leave the top bin empty and is dropped.
    """
    values = values[~np.isnan(values)]
    if values.size == 0 or n_bins < 2:
        return np.empty(0, dtype=np.float64)
    levels = np.arange(1, n_bins) / n_bins
    edges = np.unique(np.quantile(values, levels, method="inverted_cdf"))
    return edges[edges < values.max()].astype(np.float64)


def _interval_labels(edges: np.ndarray, lower: float | None = None) -> list[str]:
    if len(edges) == 0:
        return ["all values" if lower is None else f"> {lower:g}"]
    bounds = [lower, *edges.tolist()]
    labels = [f"<= {edges[0]:g}" if lower is None else f"({lower:g}, {edges[0]:g}]"]
    labels += [f"({a:g}, {b:g}]" for a, b in itertools.pairwise(bounds[1:])]
    return [*labels, f"> {edges[-1]:g}"]


def _owed(features: pd.DataFrame) -> np.ndarray:
    # A balance in credit owes nothing: the list does not sort households by their credit.
    return np.clip(_floats(features["balance_eur"]), 0.0, None)


def _floats(column: pd.Series) -> np.ndarray:
    return column.to_numpy(dtype=np.float64, na_value=np.nan)


def _labels(y: Any, n: int) -> np.ndarray:
    series = pd.Series(y).reset_index(drop=True)
    if len(series) != n:
        raise ValueError(BAD_LABELS.format(reason=f"{len(series)} labels for {n} rows"))
    if series.isna().any():
        raise ValueError(BAD_LABELS.format(reason=f"{int(series.isna().sum())} empty labels"))
    labels = series.to_numpy(dtype=np.float64)
    if not np.isin(labels, (0.0, 1.0)).all():
        raise ValueError(BAD_LABELS.format(reason="values other than 0 and 1"))
    return labels


def _require(features: pd.DataFrame, names: Sequence[str]) -> None:
    missing = [name for name in names if name not in features.columns]
    if missing:
        raise ValueError(MISSING_COLUMNS.format(names=", ".join(missing)))
