"""The report's own figures, drawn in the report's language and returned as PNG bytes.

The training run's figures (ROC, reliability, capture) come from :mod:`risk.figures`;
these are the ones only the report draws: capture by test month, global importance,
dependence plots and feature stability. Like :mod:`risk.figures` they use matplotlib's
Agg canvas without pyplot, so nothing needs a display and no global state is shared.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from risk.figures import PNG_METADATA

DPI = 100
#: PSI thresholds drawn on the stability figure (watch, act).
PSI_LINES = (0.1, 0.25)


def _figure(width: float = 6.4, height: float = 3.6) -> tuple[Figure, Axes]:
    figure = Figure(figsize=(width, height), dpi=DPI)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    axes.grid(True, linewidth=0.5, alpha=0.5)
    return figure, axes


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.tight_layout()
    figure.savefig(buffer, format="png", dpi=DPI, metadata=PNG_METADATA)
    return buffer.getvalue()


def monthly_capture(
    months: Sequence[str],
    series: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]],
    ylabel: str,
) -> bytes:
    """Capture by test month, one line per model with its interval as error bars.

    Parameters
    ----------
    months
        Test months, in order (x axis).
    series
        Display name to ``(value, low, high)`` arrays, one value per month.
    ylabel
        Axis label in the report's language.
    """
    figure, axes = _figure()
    x = np.arange(len(months))
    width = 0.8 / max(len(series), 1)
    for i, (name, (value, low, high)) in enumerate(series.items()):
        offset = x - 0.4 + width * (i + 0.5)
        error = np.vstack([np.clip(value - low, 0, None), np.clip(high - value, 0, None)])
        axes.errorbar(offset, value, yerr=np.nan_to_num(error), fmt="o", capsize=3, label=name)
    axes.set_xticks(x, [m[:7] for m in months])
    axes.set_ylim(0, 1)
    axes.set_ylabel(ylabel)
    axes.legend(fontsize="x-small", loc="upper right")
    return _png(figure)


def importance_bars(names: Sequence[str], values: Sequence[float], xlabel: str) -> bytes:
    """Horizontal bars of mean |SHAP|, the most important feature on top."""
    figure, axes = _figure(6.4, 0.28 * len(names) + 1.0)
    y = np.arange(len(names))[::-1]
    axes.barh(y, values, color="C0")
    axes.set_yticks(y, list(names), fontsize="small")
    axes.set_xlabel(xlabel)
    return _png(figure)


def dependence(values: np.ndarray, contributions: np.ndarray, feature: str, ylabel: str) -> bytes:
    """Scatter of a feature's value against its SHAP contribution (missing values left out)."""
    figure, axes = _figure(4.8, 3.2)
    known = ~np.isnan(values)
    axes.scatter(values[known], contributions[known], s=6, alpha=0.4, color="C1")
    axes.axhline(0, color="grey", linewidth=0.8)
    axes.set_xlabel(feature)
    axes.set_ylabel(ylabel)
    return _png(figure)


def psi_bars(names: Sequence[str], psi: Sequence[float], xlabel: str) -> bytes:
    """Horizontal bars of PSI by feature, with the watch and act thresholds."""
    figure, axes = _figure(6.4, 0.22 * len(names) + 1.0)
    y = np.arange(len(names))[::-1]
    psi_values = np.nan_to_num(np.asarray(psi, dtype=np.float64))
    colors = [
        "C3" if v >= PSI_LINES[1] else "C1" if v >= PSI_LINES[0] else "C2" for v in psi_values
    ]
    axes.barh(y, psi_values, color=colors)
    for line in PSI_LINES:
        axes.axvline(line, color="black", linestyle=":", linewidth=1)
    axes.set_yticks(y, list(names), fontsize="x-small")
    axes.set_xlabel(xlabel)
    axes.set_xlim(0, max(0.3, float(psi_values.max(initial=0)) * 1.1))
    return _png(figure)
