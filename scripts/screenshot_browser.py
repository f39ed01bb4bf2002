"""Screenshots of the candidate browser for the docs (docs/img/browser-*.png).

Screens the curated known materials into a temporary store, serves it with
``altermag api`` and photographs the pages with headless Chromium::

    python scripts/screenshot_browser.py
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
PAGES = {
    "browser-candidates.png": "/?verdict=altermagnet&best=1",
    "browser-docs.png": "/docs",
}


def main() -> None:
    chromium = shutil.which("chromium") or sys.exit("chromium is not installed")
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        env = {**os.environ, "ALTERMAG_HOME": tmp}
        db = f"sqlite:///{home / 'altermag.db'}"
        cli = [sys.executable, "-m", "altermag"]
        subprocess.run(
            [
                *cli,
                "screen",
                "--source",
                "known",
                "--no-prefect",
                "--db",
                db,
                "--out",
                str(home / "candidates"),
            ],
            check=True,
            env=env,
            cwd=tmp,
            stdout=subprocess.DEVNULL,
        )
        server = subprocess.Popen(
            [*cli, "api", "--db", db, "--port", "8761", "--log-level", "warning"],
            env=env,
            cwd=tmp,
        )
        try:
            for _ in range(100):
                try:
                    httpx.get("http://127.0.0.1:8761/health", timeout=2)
                    break
                except httpx.TransportError:
                    time.sleep(0.3)
            for name, path in PAGES.items():
                subprocess.run(
                    [
                        chromium,
                        "--headless",
                        "--no-sandbox",
                        "--disable-gpu",
                        "--disable-background-networking",
                        "--hide-scrollbars",
                        f"--user-data-dir={home / 'profile'}",
                        "--window-size=1280,900",
                        "--virtual-time-budget=8000",
                        f"--screenshot={ROOT / 'docs' / 'img' / name}",
                        f"http://127.0.0.1:8761{path}",
                    ],
                    check=True,
                    capture_output=True,
                    timeout=120,
                )
                print(f"docs/img/{name}")
        finally:
            server.terminate()
            server.wait(timeout=20)


if __name__ == "__main__":
    main()
