"""Probability calibration: from the booster's raw log-odds to a probability one can trust.

A caseworker reads "0.30" as "three households in ten like this one fall behind"; the
booster's own output is trained for ranking under early stopping and need not mean
that. :class:`Calibrator` maps the raw score (log-odds, LightGBM's ``raw_score``) to a
probability, by isotonic regression or by a sigmoid (Platt scaling), chosen on the
validation slice. The fitted map is plain numbers (thresholds or two coefficients), so it
travels in the bundle's JSON manifest and nothing is unpickled when it is loaded.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression

Method = Literal["isotonic", "sigmoid"]
METHODS: tuple[Method, ...] = ("isotonic", "sigmoid")

#: Error raised for a method that is neither of :data:`METHODS` nor ``auto``.
UNKNOWN_METHOD = "calibration method must be 'auto', 'isotonic' or 'sigmoid', got {method!r}"
#: Error raised when the calibration slice has a single class.
ONE_CLASS = "the calibration slice holds a single class; it cannot calibrate probabilities"
#: Error raised when a stored map is not one this version wrote.
BAD_MAP = "not a calibration map: {reason}"

#: Probabilities are kept off 0 and 1: an isotonic step can reach them on a small slice,
#: and no household is certain either way.
PROBABILITY_FLOOR = 1e-6


class Calibrator:
    """Map raw log-odds to calibrated probabilities.

    Parameters
    ----------
    method
        ``isotonic``, ``sigmoid``, or ``auto``: fit both on two halves of the slice
        (split by ``groups``), score each on the other half by Brier score, keep the
        better, then refit it on the whole slice.
    seed
        Seed of the split into halves when ``groups`` is given.

    Attributes
    ----------
    method_ : str
        The method used.
    choice_ : dict
        Held-out Brier score of each method when ``method='auto'``, else empty.
    map_ : dict
        The fitted map (see :meth:`to_dict`).
    """

    def __init__(self, method: str = "auto", seed: int = 0) -> None:
        self.method = method
        self.seed = seed

    def fit(
        self, raw_score: np.ndarray, y: np.ndarray, groups: np.ndarray | None = None
    ) -> Calibrator:
        """Fit the map on a calibration slice.

        Parameters
        ----------
        raw_score
            The booster's raw log-odds on the slice.
        y
            Labels, 0 or 1.
        groups
            Cluster of each row (tenancy id): the two halves used to choose the method
            never share a household. Rows are split one by one when ``None``.

        Returns
        -------
        Calibrator
            self.
        """
        if self.method not in (*METHODS, "auto"):
            raise ValueError(UNKNOWN_METHOD.format(method=self.method))
        raw_score = np.asarray(raw_score, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
        if np.unique(y).size < 2:
            raise ValueError(ONE_CLASS)
        self.choice_: dict[str, float] = {}
        if self.method == "auto":
            self.choice_ = self._held_out_brier(raw_score, y, groups)
            method: Method = min(METHODS, key=lambda m: (self.choice_[m], METHODS.index(m)))
        else:
            method = self.method  # type: ignore[assignment]
        self.map_: dict[str, Any] = _fit_map(method, raw_score, y)
        # A sigmoid with a reversed slope falls back to isotonic: say what was fitted.
        self.method_: Method = self.map_["method"]
        return self

    def _held_out_brier(
        self, raw_score: np.ndarray, y: np.ndarray, groups: np.ndarray | None
    ) -> dict[str, float]:
        # Choosing on the rows a map was fitted on would always favour isotonic, which
        # can follow noise step by step; each method is judged on households it never saw.
        rng = np.random.default_rng(self.seed)
        if groups is None:
            half = rng.random(len(y)) < 0.5
        else:
            keys, inverse = np.unique(np.asarray(groups), return_inverse=True)
            half = (rng.random(len(keys)) < 0.5)[inverse]
        scores: dict[str, float] = {}
        for method in METHODS:
            squared = 0.0
            for fit_rows in (half, ~half):
                if np.unique(y[fit_rows]).size < 2 or not (~fit_rows).any():
                    squared = np.inf
                    break
                probability = _apply_map(
                    _fit_map(method, raw_score[fit_rows], y[fit_rows]), raw_score[~fit_rows]
                )
                squared += float(((probability - y[~fit_rows]) ** 2).sum())
            scores[method] = squared / len(y)
        return scores

    def transform(self, raw_score: np.ndarray) -> np.ndarray:
        """Calibrated probabilities of raw log-odds."""
        return _apply_map(self.map_, np.asarray(raw_score, dtype=np.float64))

    def to_dict(self) -> dict[str, Any]:
        """Return the fitted map as JSON-able numbers: ``{"method": ..., ...}``."""
        return {**self.map_, "choice": dict(self.choice_)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Calibrator:
        """Rebuild a fitted calibrator from :meth:`to_dict`'s output, checking its shape."""
        method = data.get("method")
        if method not in METHODS:
            raise ValueError(BAD_MAP.format(reason=f"unknown method {method!r}"))
        if method == "isotonic":
            x, p = data.get("x"), data.get("y")
            if not isinstance(x, list) or not isinstance(p, list) or len(x) != len(p) or not x:
                raise ValueError(BAD_MAP.format(reason="isotonic thresholds x and y"))
            xs, ps = np.asarray(x, dtype=float), np.asarray(p, dtype=float)
            if not (np.isfinite(xs).all() and np.isfinite(ps).all()):
                raise ValueError(BAD_MAP.format(reason="isotonic thresholds must be finite"))
            if np.any(np.diff(xs) < 0) or np.any(np.diff(ps) < 0):
                raise ValueError(BAD_MAP.format(reason="isotonic thresholds not sorted"))
            mapping: dict[str, Any] = {"method": method, "x": x, "y": p}
        else:
            if not all(isinstance(data.get(k), int | float) for k in ("a", "b")):
                raise ValueError(BAD_MAP.format(reason="sigmoid coefficients a and b"))
            if not (np.isfinite(data["a"]) and np.isfinite(data["b"]) and data["a"] > 0):
                raise ValueError(BAD_MAP.format(reason="sigmoid slope must be finite and > 0"))
            mapping = {"method": method, "a": float(data["a"]), "b": float(data["b"])}
        calibrator = cls(method=method)
        calibrator.method_ = method
        calibrator.map_ = mapping
        calibrator.choice_ = dict(data.get("choice", {}))
        return calibrator


def _fit_map(method: Method, raw_score: np.ndarray, y: np.ndarray) -> dict[str, Any]:
    if method == "isotonic":
        iso = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0).fit(raw_score, y)
        return {
            "method": "isotonic",
            "x": [float(v) for v in iso.X_thresholds_],
            "y": [float(v) for v in iso.y_thresholds_],
        }
    # Platt scaling on the log-odds; a large C leaves the two coefficients unpenalised.
    logistic = LogisticRegression(C=1e6, max_iter=1000).fit(raw_score.reshape(-1, 1), y)
    if logistic.coef_[0, 0] <= 0:
        # A slice where risk falls as the score rises would reverse the ranking the
        # backtest measured; the isotonic map cannot (it never decreases).
        return _fit_map("isotonic", raw_score, y)
    return {
        "method": "sigmoid",
        "a": float(logistic.coef_[0, 0]),
        "b": float(logistic.intercept_[0]),
    }


def _apply_map(mapping: dict[str, Any], raw_score: np.ndarray) -> np.ndarray:
    if mapping["method"] == "isotonic":
        # np.interp is what IsotonicRegression.predict does with out_of_bounds="clip".
        probability = np.interp(raw_score, mapping["x"], mapping["y"])
    else:
        probability = 1.0 / (1.0 + np.exp(-(mapping["a"] * raw_score + mapping["b"])))
    return np.clip(probability, PROBABILITY_FLOOR, 1.0 - PROBABILITY_FLOOR)
