"""Printing the HTML report to PDF with headless Chromium.

The HTML page is self-contained, so Chromium needs no network: it is started with the
background services (updates, sync, networking) off and a throw-away profile, prints
the ``file://`` page and exits. Problems raise :class:`PdfError` whose ``code`` is one of
the constants below.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

#: Executables tried in order when none is given.
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
#: Seconds Chromium may take to print.
TIMEOUT_SECONDS = 120

NO_CHROMIUM = "pdf_no_chromium"
PRINT_FAILED = "pdf_print_failed"


class PdfError(RuntimeError):
    """The PDF could not be printed; ``code`` is :data:`NO_CHROMIUM` or :data:`PRINT_FAILED`."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code


def find_chromium() -> str | None:
    """Path of a Chromium executable on this machine, or None."""
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


def print_pdf(html_path: str | Path, pdf_path: str | Path, *, chromium: str | None = None) -> Path:
    """Print an HTML file to PDF with headless Chromium.

    Parameters
    ----------
    html_path
        The self-contained HTML report.
    pdf_path
        PDF to write (its folder is created).
    chromium
        Executable; found on the ``PATH`` when None.

    Returns
    -------
    pathlib.Path
        ``pdf_path``.

    Raises
    ------
    PdfError
        :data:`NO_CHROMIUM` or :data:`PRINT_FAILED`.
    """
    executable = chromium or find_chromium()
    if executable is None:
        raise PdfError(NO_CHROMIUM, f"no Chromium found (tried {', '.join(CHROMIUM_NAMES)})")
    source = Path(html_path).resolve()
    target = Path(pdf_path).resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="risk-chromium-") as profile:
        command = [
            executable, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            f"--user-data-dir={profile}", "--no-pdf-header-footer",
            f"--print-to-pdf={target}", source.as_uri(),
        ]  # fmt: skip
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT_SECONDS)
        except (OSError, subprocess.TimeoutExpired) as error:
            raise PdfError(PRINT_FAILED, str(error)) from None
    if done.returncode != 0 or not target.is_file() or target.stat().st_size == 0:
        raise PdfError(PRINT_FAILED, f"chromium exited {done.returncode}: {done.stderr[-500:]}")
    return target
