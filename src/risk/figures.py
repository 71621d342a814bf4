"""Training figures as PNG files: ROC, reliability and capture curves.

Each function reads the predictions frame of the out-of-time months (the one
:func:`risk.metrics.evaluate` reads, plus a ``model`` column: one row per model,
tenancy and test month with ``as_of``, ``label`` 0/1, ``probability``, all NaN for a
ranking-only model, and ``rank_score``, higher meaning contact first) and writes one PNG
file. Several models share a figure, one curve each, in the order they first appear.

Labels are in English or, with ``lang="fr"``, in French: auditors read French first.

The figures are drawn on matplotlib's Agg canvas without pyplot, so nothing needs a
display and no global figure state is shared between calls. They are deterministic: the
PNG carries no software version or date, so the same predictions give the same bytes
with the same matplotlib and fonts.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter
from sklearn.metrics import roc_auc_score, roc_curve

from risk.metrics import Capacity, CapacityLike, parse_capacity

#: Columns every figure reads.
FIGURE_COLUMNS = ("model", "as_of", "label", "probability", "rank_score")
LANGUAGES = ("en", "fr")

#: Error raised when the predictions frame lacks a column.
MISSING_COLUMNS = "the predictions frame lacks the column(s) {columns}"
#: Error raised for a frame without rows.
NO_ROWS = "the predictions frame has no rows"
#: Error raised for a language other than :data:`LANGUAGES`.
UNKNOWN_LANGUAGE = "figure language must be 'en' or 'fr', got {lang!r}"
#: Error raised for a label that is not 0 or 1.
BAD_LABEL = "label must be 0 or 1 on every row (drop the rows without a label first)"
#: Error raised for a bin count below 1.
BAD_BINS = "n_bins must be a whole number >= 1, got {n_bins!r}"

FIGSIZE = (6.4, 4.8)
DPI = 100
#: Points of the capture curve along the share of households contacted.
CAPTURE_POINTS = 201
#: PNG metadata: matplotlib writes its version under "Software" unless told not to.
PNG_METADATA: dict[str, Any] = {"Software": None}

_TEXT = {
    "en": {
        "roc_title": "ROC curve, test months pooled",
        "roc_x": "False positive rate",
        "roc_y": "True positive rate (share of arrears detected)",
        "chance": "chance",
        "auc": "AUC",
        "rel_title": "Reliability: predicted vs observed ({n_bins} equal-size bins)",
        "rel_x": "Predicted probability",
        "rel_y": "Observed share falling into arrears",
        "perfect": "perfect calibration",
        "no_probability": "no model gives calibrated probabilities",
        "cap_title": "Arrears reached by contacting the top-ranked households each month",
        "cap_x": "Share of households contacted each month",
        "cap_y": "Share of households falling into arrears reached",
        "random": "random order",
        "capacity": "capacity {label}",
    },
    "fr": {
        "roc_title": "Courbe ROC, mois de test regroupés",
        "roc_x": "Taux de faux positifs",
        "roc_y": "Taux de vrais positifs (part des impayés détectés)",
        "chance": "hasard",
        "auc": "AUC",
        "rel_title": (
            "Fiabilité : probabilité prédite et taux observé ({n_bins} classes d'effectif égal)"
        ),
        "rel_x": "Probabilité prédite",
        "rel_y": "Part observée des ménages tombés en impayé",
        "perfect": "calibration parfaite",
        "no_probability": "aucun modèle ne donne de probabilités calibrées",
        "cap_title": "Impayés atteints en contactant chaque mois les ménages les mieux classés",
        "cap_x": "Part des ménages contactés chaque mois",
        "cap_y": "Part des ménages tombés en impayé atteints",
        "random": "ordre aléatoire",
        "capacity": "capacité {label}",
    },
}


def roc_figure(predictions: pd.DataFrame, path: str | Path, *, lang: str = "en") -> Path:
    """Write the ROC curve of each model's ``rank_score``, months pooled, with its AUC.

    Parameters
    ----------
    predictions
        Frame with :data:`FIGURE_COLUMNS`.
    path
        PNG file to write (its folder is created).
    lang
        ``en`` or ``fr``.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    text = _text(lang)
    frame = _checked(predictions)
    figure, axes = _figure()
    axes.plot([0, 1], [0, 1], linestyle="--", color="grey", linewidth=1, label=text["chance"])
    for color, (model, rows) in zip(_colors(), _by_model(frame), strict=False):
        y = rows["label"].to_numpy(dtype=np.int64)
        score = rows["rank_score"].to_numpy(dtype=np.float64)
        if np.unique(y).size < 2:
            continue  # a ROC curve needs both classes
        fpr, tpr, _ = roc_curve(y, score)
        auc = roc_auc_score(y, score)
        axes.plot(fpr, tpr, color=color, label=f"{model} ({text['auc']} {_number(auc, lang)})")
    axes.set(xlim=(0, 1), ylim=(0, 1.01), xlabel=text["roc_x"], ylabel=text["roc_y"])
    axes.set_title(text["roc_title"])
    axes.legend(loc="lower right", fontsize="small")
    return _save(figure, path)


def reliability_figure(
    predictions: pd.DataFrame, path: str | Path, n_bins: int = 10, *, lang: str = "en"
) -> Path:
    """Write the reliability diagram: mean predicted probability vs observed rate per bin.

    Bins hold equal numbers of rows (pooled months), so each point rests on as many
    households; a model whose ``probability`` is all NaN (ranking only) is left out.

    Parameters
    ----------
    predictions
        Frame with :data:`FIGURE_COLUMNS`.
    path
        PNG file to write.
    n_bins
        Bins per model (fewer when a model has fewer rows).
    lang
        ``en`` or ``fr``.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    if isinstance(n_bins, bool) or not isinstance(n_bins, int | np.integer) or n_bins < 1:
        raise ValueError(BAD_BINS.format(n_bins=n_bins))
    text = _text(lang)
    frame = _checked(predictions)
    figure, axes = _figure()
    axes.plot([0, 1], [0, 1], linestyle="--", color="grey", linewidth=1, label=text["perfect"])
    drawn, top = 0, 0.05
    for color, (model, rows) in zip(_colors(), _by_model(frame), strict=False):
        probability = rows["probability"].to_numpy(dtype=np.float64)
        known = ~np.isnan(probability)
        if not known.any():
            continue
        predicted, observed = equal_frequency_bins(
            probability[known], rows["label"].to_numpy(dtype=np.float64)[known], n_bins
        )
        axes.plot(predicted, observed, marker="o", color=color, label=str(model))
        drawn += 1
        top = max(top, float(predicted.max()), float(observed.max()))
    if not drawn:
        axes.text(0.5, 0.5, text["no_probability"], ha="center", va="center")
        top = 1.0
    # Arrears are rare: zoom on the probabilities the bins reach, not on the whole [0, 1].
    limit = min(1.0, top * 1.1)
    decimal = FuncFormatter(lambda value, _: _number(value, lang, digits=2))
    axes.xaxis.set_major_formatter(decimal)
    axes.yaxis.set_major_formatter(decimal)
    axes.set(xlim=(0, limit), ylim=(0, limit), xlabel=text["rel_x"], ylabel=text["rel_y"])
    axes.set_title(text["rel_title"].format(n_bins=n_bins), fontsize="medium")
    axes.legend(loc="upper left", fontsize="small")
    return _save(figure, path)


def capture_figure(
    predictions: pd.DataFrame,
    path: str | Path,
    capacities: Iterable[CapacityLike] = (),
    *,
    lang: str = "en",
) -> Path:
    """Write the capture curve: share of positives reached vs share of households contacted.

    For a share ``s``, each month's top ``round(s * n_month)`` rows by ``rank_score``
    are selected (a team contacts households every month; ties broken by ``tenancy_id``
    when the frame has it, as in :mod:`risk.metrics`) and the captured positives of all
    months are added up. A vertical line marks each capacity: a share such as ``"5%"``,
    or a number of households per month, placed at the share of rows it selects.

    Parameters
    ----------
    predictions
        Frame with :data:`FIGURE_COLUMNS` (and ideally ``tenancy_id``).
    path
        PNG file to write.
    capacities
        Capacities to mark (see :func:`risk.metrics.parse_capacity`).
    lang
        ``en`` or ``fr``.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    text = _text(lang)
    frame = _checked(predictions)
    parsed = [c if isinstance(c, Capacity) else parse_capacity(c) for c in capacities]
    figure, axes = _figure()
    shares = np.linspace(0.0, 1.0, CAPTURE_POINTS)
    axes.plot([0, 1], [0, 1], linestyle="--", color="grey", linewidth=1, label=text["random"])
    groups = list(_by_model(frame))
    for color, (model, rows) in zip(_colors(), groups, strict=False):
        axes.plot(shares, capture_curve(rows, shares), color=color, label=str(model))
    month_sizes = groups[0][1].groupby("as_of", sort=True).size().to_numpy(dtype=np.float64)
    for capacity in parsed:
        x = float(capacity.k_many(month_sizes).sum() / month_sizes.sum())
        label = capacity.label.replace("%", "\u202f%") if lang == "fr" else capacity.label
        axes.axvline(x, color="black", linestyle=":", linewidth=1)
        axes.annotate(
            text["capacity"].format(label=label), xy=(x, 0.02), xytext=(3, 0),
            textcoords="offset points", rotation=90, fontsize="x-small", va="bottom",
        )
    percent = FuncFormatter(lambda value, _: _percent(value, lang))
    axes.xaxis.set_major_formatter(percent)
    axes.yaxis.set_major_formatter(percent)
    axes.set(xlim=(0, 1), ylim=(0, 1.01), xlabel=text["cap_x"], ylabel=text["cap_y"])
    axes.set_title(text["cap_title"], fontsize="medium")
    axes.legend(loc="lower right", fontsize="small")
    return _save(figure, path)


def equal_frequency_bins(
    probability: np.ndarray, label: np.ndarray, n_bins: int
) -> tuple[np.ndarray, np.ndarray]:
    """Mean probability and observed rate in ``n_bins`` bins of (nearly) equal size.

    Rows are sorted by probability (stable, so ties keep their order) and cut into
    consecutive chunks whose sizes differ by at most one.

    Returns
    -------
    predicted, observed : numpy.ndarray
        One value per non-empty bin, in increasing probability.
    """
    order = np.argsort(probability, kind="stable")
    chunks = [c for c in np.array_split(order, min(n_bins, len(order))) if len(c)]
    predicted = np.array([probability[c].mean() for c in chunks])
    observed = np.array([label[c].mean() for c in chunks])
    return predicted, observed


def capture_curve(rows: pd.DataFrame, shares: np.ndarray) -> np.ndarray:
    """Pooled share of positives captured by each month's top ``share`` of rows.

    Parameters
    ----------
    rows
        One model's predictions (``as_of``, ``label``, ``rank_score``, optional
        ``tenancy_id``).
    shares
        Shares of each month's households contacted, in [0, 1].

    Returns
    -------
    numpy.ndarray
        Captured positives over all positives, one value per share (0 when there is no
        positive).
    """
    captured = np.zeros(len(shares), dtype=np.float64)
    total = 0.0
    for _, month in rows.groupby("as_of", sort=True):
        keys = ["rank_score"] + (["tenancy_id"] if "tenancy_id" in month.columns else [])
        ascending = [False] + ([True] if "tenancy_id" in month.columns else [])
        ordered = month.sort_values(keys, ascending=ascending, kind="stable")
        cumulative = np.concatenate(
            [[0.0], np.cumsum(ordered["label"].to_numpy(dtype=np.float64))]
        )
        n = len(ordered)
        # Rounded half up, as metrics.Capacity does for a share of a month.
        k = np.minimum(np.floor(shares * n + 0.5).astype(np.int64), n)
        captured += cumulative[k]
        total += cumulative[-1]
    return captured / total if total > 0 else captured


# --- helpers ------------------------------------------------------------------------------


def _text(lang: str) -> dict[str, str]:
    if lang not in LANGUAGES:
        raise ValueError(UNKNOWN_LANGUAGE.format(lang=lang))
    return _TEXT[lang]


def _checked(predictions: pd.DataFrame) -> pd.DataFrame:
    missing = [c for c in FIGURE_COLUMNS if c not in predictions.columns]
    if missing:
        raise ValueError(MISSING_COLUMNS.format(columns=", ".join(missing)))
    if predictions.empty:
        raise ValueError(NO_ROWS)
    label = pd.to_numeric(predictions["label"], errors="coerce")
    if not label.isin([0, 1]).all():
        raise ValueError(BAD_LABEL)
    return predictions


def _by_model(frame: pd.DataFrame) -> Iterable[tuple[str, pd.DataFrame]]:
    # Order of first appearance: the caller decides which model comes first.
    for model in pd.unique(frame["model"]):
        yield str(model), frame[frame["model"] == model]


def _colors() -> Sequence[str]:
    return [f"C{i}" for i in range(10)] * 10


def _figure() -> tuple[Figure, Axes]:
    figure = Figure(figsize=FIGSIZE, dpi=DPI)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    axes.grid(True, linewidth=0.5, alpha=0.5)
    return figure, axes


def _save(figure: Figure, path: str | Path) -> Path:
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    figure.tight_layout()
    figure.savefig(target, format="png", dpi=DPI, metadata=PNG_METADATA)
    return target


def _number(value: float, lang: str, digits: int = 3) -> str:
    # French writes a decimal comma.
    text = f"{value:.{digits}f}"
    return text.replace(".", ",") if lang == "fr" else text


def _percent(value: float, lang: str) -> str:
    text = f"{100 * value:.0f}"
    return f"{text}\u202f%" if lang == "fr" else f"{text}%"
