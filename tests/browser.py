"""Headless Chromium driven over the Chrome DevTools Protocol, for the browser tests.

A real browser (Debian's ``chromium``) loads the pages from a real server; the test clicks,
types and reads the DOM through a small CDP client (a websocket, JSON messages): no
Selenium or Playwright needed. Console errors, uncaught exceptions and Content-Security-
Policy violations are collected, so a test can require a clean console.
"""

from __future__ import annotations

import base64
import contextlib
import json
import re
import shutil
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import httpx
from websockets.sync.client import connect

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--window-size=1280,1400",
]


def chromium_path() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


class Browser:
    """One headless Chromium with one page."""

    def __init__(self, profile: Path, timeout: float = 60.0) -> None:
        exe = chromium_path()
        if exe is None:
            raise RuntimeError("chromium is not installed (scripts/apt-packages.txt installs it)")
        self.timeout = timeout
        self.proc = subprocess.Popen(
            [exe, *FLAGS, f"--user-data-dir={profile}", "--remote-debugging-port=0", "about:blank"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self._endpoint: str | None = None
        ready = threading.Event()

        def read_stderr() -> None:
            assert self.proc.stderr is not None
            for line in self.proc.stderr:
                m = re.search(r"DevTools listening on (ws://\S+)", line)
                if m and self._endpoint is None:
                    self._endpoint = m.group(1)
                    ready.set()

        threading.Thread(target=read_stderr, daemon=True).start()
        if not ready.wait(timeout):
            self.close()
            raise RuntimeError("chromium did not open its DevTools endpoint")
        assert self._endpoint is not None
        http = "http://" + self._endpoint.split("/")[2]
        page = next(
            t for t in httpx.get(f"{http}/json/list", timeout=10).json() if t["type"] == "page"
        )
        self.ws = connect(page["webSocketDebuggerUrl"], max_size=None, open_timeout=timeout)
        self._id = 0
        self.events: list[dict[str, Any]] = []
        for domain in ("Page", "Runtime", "Log"):
            self.send(f"{domain}.enable")

    # ------------------------------------------------------------------ protocol
    def send(self, method: str, **params: Any) -> dict[str, Any]:
        """Call a CDP method and return its result (events met meanwhile are kept)."""
        self._id += 1
        self.ws.send(json.dumps({"id": self._id, "method": method, "params": params}))
        deadline = time.monotonic() + self.timeout
        while True:
            msg = json.loads(self.ws.recv(timeout=max(0.1, deadline - time.monotonic())))
            if msg.get("id") == self._id:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})
            self.events.append(msg)

    def _wait_event(self, method: str) -> dict[str, Any]:
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            for i, ev in enumerate(self.events):
                if ev.get("method") == method:
                    return self.events.pop(i)
            msg = json.loads(self.ws.recv(timeout=max(0.1, deadline - time.monotonic())))
            if "id" not in msg:
                self.events.append(msg)
        raise TimeoutError(f"no {method} within {self.timeout} s")

    # ------------------------------------------------------------------ actions
    def goto(self, url: str) -> None:
        self.events = [e for e in self.events if e.get("method") != "Page.loadEventFired"]
        self.send("Page.navigate", url=url)
        self._wait_event("Page.loadEventFired")

    def evaluate(self, expression: str) -> Any:
        result = self.send(
            "Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True
        )
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def click(self, selector: str) -> None:
        """Click an element that loads a new page, and wait for it."""
        self.events = [e for e in self.events if e.get("method") != "Page.loadEventFired"]
        self.evaluate(f"document.querySelector({json.dumps(selector)}).click()")
        self._wait_event("Page.loadEventFired")

    def wait_for(self, expression: str, timeout: float | None = None) -> Any:
        """Poll a JavaScript expression until it is truthy; returns its value."""
        deadline = time.monotonic() + (timeout or self.timeout)
        while time.monotonic() < deadline:
            value = self.evaluate(expression)
            if value:
                return value
            time.sleep(0.2)
        raise TimeoutError(f"{expression} stayed false")

    def url(self) -> str:
        return str(self.evaluate("location.href"))

    def screenshot(self, path: Path) -> None:
        data = self.send("Page.captureScreenshot", format="png", captureBeyondViewport=True)
        path.write_bytes(base64.b64decode(data["data"]))

    def console_errors(self) -> list[str]:
        """Errors the pages reported: console.error, uncaught exceptions, CSP violations,
        failed loads."""
        out = []
        for ev in self.events:
            method, p = ev.get("method"), ev.get("params", {})
            if method == "Runtime.consoleAPICalled" and p.get("type") == "error":
                out.append(" ".join(str(a.get("value", a.get("description"))) for a in p["args"]))
            elif method == "Runtime.exceptionThrown":
                out.append(p["exceptionDetails"].get("text", "exception"))
            elif method == "Log.entryAdded" and p["entry"].get("level") == "error":
                out.append(p["entry"].get("text", ""))
        return out

    def close(self) -> None:
        with contextlib.suppress(Exception):  # closed already, or never opened
            self.ws.close()
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def require_chromium() -> str:
    """Chromium's path; a missing browser skips here and fails under CI."""
    from tests.requirements import need

    need("chromium")
    path = chromium_path()
    assert path is not None
    return path
