"""Training figures: PNG files for one model or several, in English or French.

Images are not compared pixel by pixel (fonts differ between machines); the tests check
that a PNG is written, that the same predictions give the same bytes, and the numbers
behind the curves.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from risk import figures

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MODELS = ("lightgbm", "scorecard", "todays_practice", "oracle")


def predictions(models: tuple[str, ...] = MODELS, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frames = []
    months = pd.date_range("2024-01-01", periods=3, freq="MS")
    for i, model in enumerate(models):
        for month in months:
            n = 200
            risk = rng.beta(1, 12, n)
            label = (rng.random(n) < risk).astype(int)
            # A ranking-only model has no probability.
            probability = np.full(n, np.nan) if model == "todays_practice" else risk
            frames.append(
                pd.DataFrame(
                    {
                        "model": model,
                        "tenancy_id": [f"T{j:04d}" for j in range(n)],
                        "as_of": month,
                        "label": label,
                        "probability": probability,
                        "rank_score": risk + rng.normal(0, 0.02 * (i + 1), n),
                    }
                )
            )
    return pd.concat(frames, ignore_index=True)


def is_png(path: Path) -> bool:
    return path.is_file() and path.read_bytes()[:8] == PNG_SIGNATURE


DRAWERS = {
    "roc": lambda p, path, **kw: figures.roc_figure(p, path, **kw),
    "reliability": lambda p, path, **kw: figures.reliability_figure(p, path, n_bins=10, **kw),
    "capture": lambda p, path, **kw: figures.capture_figure(p, path, ["5%", 50], **kw),
}


@pytest.mark.parametrize("models", [("lightgbm",), MODELS], ids=["one model", "four models"])
@pytest.mark.parametrize("kind", list(DRAWERS))
def test_each_figure_is_written_as_a_png_for_one_model_or_four(
    kind: str, models: tuple[str, ...], tmp_path: Path
) -> None:
    path = DRAWERS[kind](predictions(models), tmp_path / "figures" / f"{kind}.png")
    assert path == tmp_path / "figures" / f"{kind}.png"
    assert is_png(path)


@pytest.mark.parametrize("kind", list(DRAWERS))
def test_figures_have_french_labels_for_auditors(kind: str, tmp_path: Path) -> None:
    assert is_png(DRAWERS[kind](predictions(), tmp_path / f"{kind}.png", lang="fr"))


@pytest.mark.parametrize("kind", list(DRAWERS))
def test_the_same_predictions_give_the_same_bytes(kind: str, tmp_path: Path) -> None:
    first = DRAWERS[kind](predictions(), tmp_path / "a.png").read_bytes()
    second = DRAWERS[kind](predictions(), tmp_path / "b.png").read_bytes()
    assert first == second
    assert b"Software" not in first and b"matplotlib" not in first


def test_a_reliability_figure_of_ranking_only_models_is_still_written(tmp_path: Path) -> None:
    path = figures.reliability_figure(predictions(("todays_practice",)), tmp_path / "r.png")
    assert is_png(path)


def test_an_unknown_language_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="figure language must be 'en' or 'fr'"):
        figures.roc_figure(predictions(), tmp_path / "x.png", lang="de")


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (predictions().drop(columns="rank_score"), "lacks the column"),
        (predictions().iloc[:0], "has no rows"),
        (predictions().assign(label=2), "label must be 0 or 1"),
    ],
)
def test_a_bad_predictions_frame_is_refused(frame, message: str, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=message):
        figures.capture_figure(frame, tmp_path / "x.png")


def test_a_bin_count_below_one_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="n_bins must be a whole number"):
        figures.reliability_figure(predictions(), tmp_path / "x.png", n_bins=0)


# --- the numbers behind the curves -----------------------------------------------------


def test_equal_frequency_bins_hold_equal_numbers_of_rows() -> None:
    probability = np.arange(10) / 10
    label = np.array([0, 0, 0, 0, 0, 1, 0, 1, 1, 1])
    predicted, observed = figures.equal_frequency_bins(probability, label, 5)
    np.testing.assert_allclose(predicted, [0.05, 0.25, 0.45, 0.65, 0.85])
    np.testing.assert_allclose(observed, [0.0, 0.0, 0.5, 0.5, 1.0])


def test_the_capture_curve_selects_the_top_rows_of_each_month() -> None:
    rows = pd.DataFrame(
        {
            "as_of": pd.to_datetime(["2024-01-01"] * 4 + ["2024-02-01"] * 4),
            "tenancy_id": list("ABCD") * 2,
            "label": [1, 0, 0, 1, 0, 1, 0, 0],
            "rank_score": [0.9, 0.8, 0.1, 0.2, 0.9, 0.8, 0.5, 0.1],
        }
    )
    curve = figures.capture_curve(rows, np.array([0.0, 0.25, 0.5, 1.0]))
    # Top 1 of each month: A (positive) and A (negative) -> 1 of 3 positives.
    # Top 2 of each month: A, B and A, B -> 2 of 3.
    np.testing.assert_allclose(curve, [0.0, 1 / 3, 2 / 3, 1.0])


def test_equal_scores_are_broken_by_tenancy_id_not_row_order() -> None:
    rows = pd.DataFrame(
        {
            "as_of": pd.to_datetime(["2024-01-01"] * 2),
            "tenancy_id": ["B", "A"],
            "label": [0, 1],
            "rank_score": [0.5, 0.5],
        }
    )
    np.testing.assert_allclose(figures.capture_curve(rows, np.array([0.5])), [1.0])
