"""The HTML report opened in real headless Chromium: no console error, a first screen.

Chromium is Debian's ``chromium`` package, installed when missing. The small simulated
export and the trained, promoted registry are the session's (``tests/report_setup.py``),
shared with ``tests/test_report.py``. Both reports are rendered without their PDF. The
screenshots are written beside the reports in the temporary folder, and copied to
``$REPORTS_DIR`` only when it is set.

The detector itself is tested first, on a scratch page that makes a deliberate error.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from matplotlib.image import imread

from report_setup import chromium_or_skip, invoke
from risk.report.browser import ConsoleMessage, render

# Raised inside MLflow's SQLAlchemy store, not by this package.
pytestmark = pytest.mark.filterwarnings("ignore:The ``noload`` loader strategy:DeprecationWarning")

WIDTH, HEIGHT = 1280, 900
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def chromium() -> None:
    chromium_or_skip()


@pytest.fixture(scope="module")
def reports(
    chromium: None, registry: object, export_dir: Path, config_file: Path, workdir: Path
) -> dict[str, Path]:
    """The French and English reports of the champion, without their PDF."""
    paths = {}
    for lang in ("fr", "en"):
        out = workdir / "reports" / f"champion-{lang}.html"
        result = invoke(
            "report", "--data", export_dir, "--lang", lang, "--config", config_file,
            "--out", out, "--no-pdf",
        )  # fmt: skip
        assert result.exit_code == 0, result.output
        paths[lang] = out
    return paths


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE, f"{path} is not a PNG"
    assert data[12:16] == b"IHDR"
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def colour_counts(path: Path) -> np.ndarray:
    """How many pixels each distinct RGB colour of the PNG covers, most common first."""
    rgb = np.round(imread(path)[..., :3] * 255).astype(np.uint32)
    packed = (rgb[..., 0] << 16) | (rgb[..., 1] << 8) | rgb[..., 2]  # one integer per colour
    _, counts = np.unique(packed, return_counts=True)
    return np.sort(counts)[::-1]


def errors_text(messages: list[ConsoleMessage]) -> str:
    return "\n".join(f"[{m.level}/{m.origin}] {m.text}" for m in messages)


# --- the detector ------------------------------------------------------------------------


def test_the_detector_sees_console_errors_exceptions_and_failed_loads(
    chromium: None, tmp_path: Path
) -> None:
    page = tmp_path / "broken.html"
    page.write_text(
        "<!doctype html><html><body><h1>Scratch</h1>"
        '<img src="missing.png" alt="">'
        "<script>console.log('just-a-log'); console.warn('just-a-warning');"
        "console.error('deliberate-x'); not_defined_anywhere();</script></body></html>",
        encoding="utf-8",
    )
    rendering = render(page, tmp_path / "broken.png", width=WIDTH, height=HEIGHT)
    levels = {m.text: m.level for m in rendering.messages}
    assert levels["just-a-log"] == "log" and levels["just-a-warning"] == "warning"
    errors = errors_text(rendering.errors)
    assert len(rendering.errors) == 3, errors
    assert "deliberate-x" in errors
    assert "not_defined_anywhere is not defined" in errors
    assert "net::ERR_FILE_NOT_FOUND" in errors
    assert png_size(tmp_path / "broken.png") == (WIDTH, HEIGHT)


def test_the_detector_finds_nothing_on_a_clean_page(chromium: None, tmp_path: Path) -> None:
    page = tmp_path / "clean.html"
    page.write_text("<!doctype html><html><body><p>Propre.</p></body></html>", encoding="utf-8")
    assert render(page).messages == []


# --- the report --------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_the_report_renders_without_console_errors_and_its_first_screen_is_captured(
    lang: str, reports: dict[str, Path]
) -> None:
    html = reports[lang]
    png = html.with_name(f"{html.stem}-first-screen.png")
    rendering = render(html, png, width=WIDTH, height=HEIGHT)
    assert rendering.errors == [], errors_text(rendering.errors)
    # The page has no script and loads nothing: not even a warning is expected.
    assert rendering.messages == [], errors_text(rendering.messages)
    assert rendering.screenshot == png.resolve()
    assert png_size(png) == (WIDTH, HEIGHT)
    counts = colour_counts(png)
    assert len(counts) >= 16, f"only {len(counts)} colours: the screen looks blank"
    assert counts[0] < 0.99 * WIDTH * HEIGHT, "one colour covers the whole screen"
    if os.environ.get("REPORTS_DIR"):
        folder = Path(os.environ["REPORTS_DIR"])
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copy(png, folder / png.name)
