"""Opening the HTML report in headless Chromium: its console messages and a screenshot.

Chromium's ``--enable-logging=stderr`` prints console messages without their level, so
this module speaks the DevTools protocol over ``--remote-debugging-pipe`` instead (the
browser reads JSON commands on file descriptor 3 and writes replies and events on 4,
each ended by a NUL byte): no Python browser library is needed. Chromium is started with
the same flags as :func:`risk.report.pdf.print_pdf`, loads the ``file://`` page in a
viewport of the given size, gathers what the page wrote on its console, the uncaught
exceptions and the browser's own log entries (failed loads, security, violations), and
can save a PNG of the first screen. Problems raise :class:`~risk.report.pdf.PdfError`.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import os
import select
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from risk.report.pdf import CHROMIUM_NAMES, NO_CHROMIUM, PdfError, find_chromium

#: Seconds Chromium may take to start, load the page and answer.
TIMEOUT_SECONDS = 60
#: Error code of a page that could not be opened or captured.
RENDER_FAILED = "render_failed"
#: Console levels counted as errors.
ERROR_LEVELS = frozenset({"error", "assert"})


@dataclass(frozen=True)
class ConsoleMessage:
    """One message: ``level`` (log, info, warning, error...), ``text`` and its ``origin``."""

    level: str
    text: str
    origin: str  # "console", "exception" or the browser log's source (network, security...)

    @property
    def is_error(self) -> bool:
        """Whether the message is an error (console.error or assert, exception, log error)."""
        return self.level in ERROR_LEVELS


@dataclass
class Rendering:
    """What opening a page gave: its console ``messages`` and the ``screenshot`` written."""

    messages: list[ConsoleMessage] = field(default_factory=list)
    screenshot: Path | None = None

    @property
    def errors(self) -> list[ConsoleMessage]:
        """The messages that are errors."""
        return [m for m in self.messages if m.is_error]


def _message(method: str, params: dict[str, Any]) -> ConsoleMessage | None:
    if method == "Runtime.consoleAPICalled":
        text = " ".join(str(a.get("value", a.get("description", ""))) for a in params["args"])
        return ConsoleMessage(params["type"], text, "console")
    if method == "Runtime.exceptionThrown":
        details = params["exceptionDetails"]
        text = details.get("exception", {}).get("description") or details.get("text", "")
        return ConsoleMessage("error", text, "exception")
    if method == "Log.entryAdded":
        entry = params["entry"]
        return ConsoleMessage(entry["level"], entry["text"], entry.get("source", "other"))
    return None


class _Pipe:
    """The DevTools protocol over a pair of pipes: commands out, replies and events in."""

    def __init__(self, write_fd: int, read_fd: int, deadline: float) -> None:
        self.write_fd, self.read_fd, self.deadline = write_fd, read_fd, deadline
        self.buffer, self.next_id = b"", 0
        self.events: list[dict[str, Any]] = []

    def _receive(self) -> dict[str, Any]:
        while b"\0" not in self.buffer:
            left = self.deadline - time.monotonic()
            if left <= 0 or not select.select([self.read_fd], [], [], left)[0]:
                raise PdfError(RENDER_FAILED, "chromium did not answer in time")
            chunk = os.read(self.read_fd, 1 << 20)
            if not chunk:
                raise PdfError(RENDER_FAILED, "chromium closed the DevTools pipe")
            self.buffer += chunk
        raw, self.buffer = self.buffer.split(b"\0", 1)
        return dict(json.loads(raw))

    def send(self, method: str, session: str | None = None, **params: Any) -> dict[str, Any]:
        """Send a command and return its result; events read meanwhile are kept."""
        self.next_id += 1
        command: dict[str, Any] = {"id": self.next_id, "method": method, "params": params}
        if session:
            command["sessionId"] = session
        try:
            os.write(self.write_fd, json.dumps(command).encode() + b"\0")
        except OSError as error:  # the browser has gone
            raise PdfError(RENDER_FAILED, f"{method}: {error}") from None
        while True:
            reply = self._receive()
            if reply.get("id") != self.next_id:
                self.events.append(reply)
            elif "error" in reply:
                raise PdfError(RENDER_FAILED, f"{method}: {reply['error']}")
            else:
                return dict(reply.get("result", {}))

    def wait_for(self, method: str) -> None:
        """Read events until ``method`` arrives."""
        while not any(e.get("method") == method for e in self.events):
            self.events.append(self._receive())


def render(
    html_path: str | Path,
    png_path: str | Path | None = None,
    *,
    width: int = 1280,
    height: int = 900,
    chromium: str | None = None,
) -> Rendering:
    """Open an HTML file in headless Chromium; gather its console and save its first screen.

    Parameters
    ----------
    html_path
        The page to open.
    png_path
        PNG of the first ``width`` x ``height`` screen to write (its folder is created),
        or None for no screenshot.
    width, height
        Viewport in CSS pixels (one device pixel each).
    chromium
        Executable; found on the ``PATH`` when None.

    Returns
    -------
    Rendering
        The console messages in their order, and the screenshot's path.

    Raises
    ------
    PdfError
        :data:`~risk.report.pdf.NO_CHROMIUM` or :data:`RENDER_FAILED`.
    """
    executable = chromium or find_chromium()
    if executable is None:
        raise PdfError(NO_CHROMIUM, f"no Chromium found (tried {', '.join(CHROMIUM_NAMES)})")
    url = Path(html_path).resolve().as_uri()
    target = None if png_path is None else Path(png_path).resolve()
    # Descriptors above 9 so that placing them on 3 and 4 in the child cannot clash.
    to_browser, from_browser = os.pipe(), os.pipe()
    child_in, parent_out = (fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10) for fd in to_browser)
    parent_in, child_out = (fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10) for fd in from_browser)
    for fd in (*to_browser, *from_browser):
        os.close(fd)

    def place_pipes() -> None:  # in the child, before exec: dup2 clears close-on-exec
        os.dup2(child_in, 3)
        os.dup2(child_out, 4)

    with tempfile.TemporaryDirectory(prefix="risk-chromium-") as profile:
        command = [
            executable, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            f"--user-data-dir={profile}", "--remote-debugging-pipe", "--hide-scrollbars",
            f"--window-size={width},{height}", "about:blank",
        ]  # fmt: skip
        try:
            process = subprocess.Popen(
                command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL, close_fds=False, preexec_fn=place_pipes,
            )  # fmt: skip
        except OSError as error:
            os.close(parent_out)
            os.close(parent_in)
            raise PdfError(RENDER_FAILED, str(error)) from None
        finally:
            os.close(child_in)
            os.close(child_out)
        try:
            pipe = _Pipe(parent_out, parent_in, time.monotonic() + TIMEOUT_SECONDS)
            return _visit(pipe, url, target, width, height)
        finally:
            os.close(parent_out)
            os.close(parent_in)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _visit(pipe: _Pipe, url: str, png: Path | None, width: int, height: int) -> Rendering:
    """Open ``url`` in a new tab of the browser at the end of ``pipe``, then close it."""
    target = pipe.send("Target.createTarget", url="about:blank")["targetId"]
    session = pipe.send("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
    for domain in ("Page", "Runtime", "Log"):
        pipe.send(f"{domain}.enable", session)
    pipe.send(
        "Emulation.setDeviceMetricsOverride", session,
        width=width, height=height, deviceScaleFactor=1, mobile=False,
    )  # fmt: skip
    pipe.events.clear()  # what about:blank said is not the page's
    pipe.send("Page.navigate", session, url=url)
    pipe.wait_for("Page.loadEventFired")
    pipe.send("Runtime.evaluate", session, expression="document.fonts.ready", awaitPromise=True)
    rendering = Rendering()
    if png is not None:
        shot = pipe.send("Page.captureScreenshot", session, format="png")
        png.parent.mkdir(parents=True, exist_ok=True)
        png.write_bytes(base64.b64decode(shot["data"]))
        rendering.screenshot = png
    for event in pipe.events:
        if event.get("sessionId") == session:
            found = _message(event.get("method", ""), event.get("params", {}))
            if found is not None:
                rendering.messages.append(found)
    with contextlib.suppress(PdfError):  # the browser may close the pipe before replying
        pipe.send("Browser.close")
    return rendering


def console_messages(html_path: str | Path, **options: Any) -> list[ConsoleMessage]:
    """Return the console messages of a page opened in headless Chromium (see :func:`render`)."""
    return render(html_path, None, **options).messages


def screenshot(html_path: str | Path, png_path: str | Path, **options: Any) -> Path:
    """Write a PNG of a page's first screen in headless Chromium (see :func:`render`)."""
    render(html_path, png_path, **options)
    return Path(png_path).resolve()
