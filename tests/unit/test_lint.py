"""The code base is ruff clean (lint rules and formatting from pyproject.toml)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PATHS = [
    p for p in ("altermag", "flows", "api", "tests", "benchmarks", "scripts") if (ROOT / p).exists()
]


def _ruff(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ruff", *args, *PATHS], cwd=ROOT, capture_output=True, text=True
    )


def test_ruff_check() -> None:
    out = _ruff("check", "--no-cache")
    assert out.returncode == 0, out.stdout[-3000:]


def test_ruff_format() -> None:
    out = _ruff("format", "--check", "--no-cache")
    assert out.returncode == 0, out.stdout[-3000:]
