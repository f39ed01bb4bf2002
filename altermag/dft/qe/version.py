"""The version of the installed pw.x, read from its own banner (``Program PWSCF v.6.7MaX``).

pw.x prints its version before it reads the input; run with an empty input it stops at once.
The answer is cached per executable for the process.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
import tempfile

__all__ = ["installed_pw_version", "parse_pw_version"]

_BANNER = re.compile(r"Program PWSCF v\.(\d+\.\d+(?:\.\d+)?)")


def parse_pw_version(text: str) -> str | None:
    """``6.7`` from a pw.x banner or output (``Program PWSCF v.6.7MaX starts``), else None."""
    m = _BANNER.search(text)
    return m.group(1) if m else None


@functools.cache
def installed_pw_version(pw: str = "pw.x") -> str | None:
    """The version of ``pw`` on PATH (``6.7``), None when it is not installed or says none."""
    exe = shutil.which(pw)
    if exe is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:  # pw.x may leave a CRASH file behind
        try:
            proc = subprocess.run(
                [exe],
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                cwd=tmp,
                timeout=60,
                env={**os.environ, "OMP_NUM_THREADS": "1"},
            )
        except (OSError, subprocess.TimeoutExpired):
            return None
    return parse_pw_version(proc.stdout + proc.stderr)
