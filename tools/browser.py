"""Headless Chromium with the network shut, driven over the DevTools protocol on a pipe (standard library only).

For `python -m tools.screenshot` and the tests that look at HTML pages as a reader's browser shows them. Chromium
is Debian's package (`apt-get install -y --no-install-recommends chromium`: /usr/bin/chromium; `.ci/run` installs
it; `SCORECARD_CHROMIUM` names another binary). Every page opens offline: every host name resolves to nothing
(`--host-resolver-rules`), so a page shows only what it finds on disk, and each request it made is recorded with
the script errors it raised.

    with Browser() as browser:
        page = browser.open(Path("reports/index.html"), width=1280)
        page.screenshot(Path("index.png"))          # the whole page, 1280 px wide
        page.evaluate("document.title"), page.requests, page.exceptions
"""

from __future__ import annotations

import base64
import json
import math
import os
import select
import shutil
import signal
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CHROMIUM = os.environ.get("SCORECARD_CHROMIUM", "/usr/bin/chromium")
# as root in a container: no sandbox; no background connections (the closed network refuses them, many at once)
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--mute-audio",
    "--host-resolver-rules=MAP * ~NOTFOUND",
    "--remote-debugging-pipe",
]
TIMEOUT_S = 60.0  # a safeguard against a hung browser, not a measure: a page here loads in well under a second


class BrowserError(RuntimeError):
    pass


@dataclass
class Page:
    browser: Browser
    session: str
    width: int
    height: int  # of the window
    requests: list[str] = field(default_factory=list)  # every URL the page asked for, in order
    exceptions: list[str] = field(default_factory=list)  # uncaught script errors

    def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page (a promise is awaited), as JSON gives it."""
        out = self.browser.call(
            "Runtime.evaluate",
            {"expression": expression, "awaitPromise": True, "returnByValue": True},
            self.session,
        )
        if "exceptionDetails" in out:
            raise BrowserError(f"{expression!r}: {_exception_text(out['exceptionDetails'])}")
        return out["result"].get("value")

    def dom(self) -> str:
        """The document as rendered (after its scripts ran), as `chromium --dump-dom` prints it."""
        return self.evaluate("document.documentElement.outerHTML")

    def screenshot(self, out: Path) -> Path:
        """The whole page as a PNG, `width` pixels wide and as tall as its content. The window is made as tall as
        the page first (as if the reader's screen were), so a fixed footer lands at the bottom, not mid-page."""
        height = 0
        for _ in range(5):  # a layout in vh units grows with the window: until the height holds
            content = self._content_height()
            if content == height:
                break
            height = content
            self._resize(height)
        shot = self.browser.call(
            "Page.captureScreenshot",
            {"format": "png", "clip": {"x": 0, "y": 0, "width": self.width, "height": height, "scale": 1}},
            self.session,
        )
        self._resize(self.height)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(base64.b64decode(shot["data"]))
        return out

    def _content_height(self) -> int:
        metrics = self.browser.call("Page.getLayoutMetrics", session=self.session)
        return max(1, math.ceil((metrics.get("cssContentSize") or metrics["contentSize"])["height"]))

    def _resize(self, height: int) -> None:
        self.browser.call(
            "Emulation.setDeviceMetricsOverride",
            {"width": self.width, "height": height, "deviceScaleFactor": 1, "mobile": False},
            self.session,
        )
        self.evaluate("new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")


class Browser:
    """One headless Chromium process with its own empty profile, ended on exit."""

    def __init__(self, chromium: str = CHROMIUM, timeout_s: float = TIMEOUT_S):
        if shutil.which(chromium) is None:
            raise BrowserError(f"{chromium} not found: apt-get install -y --no-install-recommends chromium")
        self.timeout_s = timeout_s
        self.profile = tempfile.mkdtemp(prefix="scorecard-chromium-")
        self._next_id = 0
        self._buffer = b""
        self._events: dict[str, list[dict]] = {}
        self._pages: dict[str, Page] = {}
        to_chrome = os.pipe()  # Chromium reads commands on its fd 3 and writes answers on its fd 4
        from_chrome = os.pipe()
        # copied above 4 first, so that moving one to 3 or 4 never overwrites the other
        high = [_dup_above(fd, 4) for fd in (to_chrome[0], from_chrome[1])]
        log = Path(self.profile) / "chromium.log"
        try:
            self.pid = os.posix_spawn(
                chromium,
                [chromium, *FLAGS, f"--user-data-dir={self.profile}", "about:blank"],
                os.environ,
                file_actions=[
                    (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
                    (os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0),
                    (os.POSIX_SPAWN_OPEN, 2, str(log), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644),
                    (os.POSIX_SPAWN_DUP2, high[0], 3),
                    (os.POSIX_SPAWN_DUP2, high[1], 4),
                ],
            )
        finally:
            for fd in (*high, to_chrome[0], from_chrome[1]):
                os.close(fd)
        self._write, self._read = to_chrome[1], from_chrome[0]

    # ----------------------------------------------------------------------------------------------

    def open(self, path: Path | str, width: int = 1280, height: int = 900) -> Page:
        """A new tab `width` CSS pixels wide (device scale 1) showing the local file `path`, once loaded with its
        fonts and two frames drawn."""
        url = Path(path).resolve().as_uri()
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        page = self._pages[session] = Page(self, session, width, height)
        for method in ("Page.enable", "Network.enable", "Runtime.enable"):
            self.call(method, session=session)
        page._resize(height)
        self._events[session] = []
        self.call("Page.navigate", {"url": url}, session)
        self._wait_event(session, "Page.loadEventFired")
        page.evaluate(
            "document.fonts.ready.then(() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r))))"
        )
        return page

    def call(self, method: str, params: dict | None = None, session: str | None = None) -> dict:
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        data = json.dumps(message).encode() + b"\0"
        while data:
            data = data[os.write(self._write, data) :]
        while True:
            reply = self._receive()
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise BrowserError(f"{method}: {reply['error'].get('message')}")
                return reply["result"]

    def _wait_event(self, session: str, method: str) -> dict:
        while True:
            for event in self._events[session]:
                if event["method"] == method:
                    return event["params"]
            self._receive()

    def _receive(self) -> dict:
        deadline = time.monotonic() + self.timeout_s
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._read], [], [], left)[0]:
                raise BrowserError(f"Chromium did not answer in {self.timeout_s:.0f} s ({self.profile}/chromium.log)")
            chunk = os.read(self._read, 1 << 20)
            if not chunk:
                raise BrowserError(f"Chromium exited ({self.profile}/chromium.log)")
            self._buffer += chunk
        raw, self._buffer = self._buffer.split(b"\0", 1)
        message = json.loads(raw)
        if "method" in message:
            self._note(message)
        return message

    def _note(self, event: dict) -> None:
        session = event.get("sessionId")
        page = self._pages.get(session)
        if page is None:
            return
        self._events.setdefault(session, []).append(event)
        params = event["params"]
        if event["method"] == "Network.requestWillBeSent":
            page.requests.append(params["request"]["url"])
        elif event["method"] == "Runtime.exceptionThrown":
            page.exceptions.append(_exception_text(params["exceptionDetails"]))

    # ----------------------------------------------------------------------------------------------

    def close(self) -> None:
        try:
            self.call("Browser.close")
        except (BrowserError, OSError):
            pass
        deadline = time.monotonic() + 10
        while os.waitpid(self.pid, os.WNOHANG) == (0, 0):
            if time.monotonic() > deadline:
                os.kill(self.pid, signal.SIGKILL)
                os.waitpid(self.pid, 0)
                break
            time.sleep(0.05)
        for fd in (self._write, self._read):
            os.close(fd)
        shutil.rmtree(self.profile, ignore_errors=True)

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _dup_above(fd: int, floor: int) -> int:
    import fcntl

    return fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, floor + 1)


def _exception_text(details: dict) -> str:
    exc = details.get("exception") or {}
    return exc.get("description") or details.get("text", "")
