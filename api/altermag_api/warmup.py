"""Warm-up at start: the first ``POST /analyze`` answers as fast as the next ones.

An analysis runs in a worker process (:mod:`altermag_api.analysis_pool`) that is spawned on
first use and imports the structure readers and the symmetry stack (pymatgen, spglib) before
it can answer: 7–14 s on this machine under load, which the first request after a start paid
in full. :func:`warm_up` runs the analysis of a bundled structure (MnF2, a d-wave
altermagnet) on every worker of the pool during the app's start, so the workers are spawned,
imported and idle, and the server reports ready (its lifespan start returns, ``/health``
answers) only then. A warm-up that fails is logged and the start goes on: requests then pay
the start-up as before.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import altermag
from altermag_api.analysis_pool import AnalysisPool

__all__ = ["WARM_UP_FILE", "warm_up"]

log = logging.getLogger(__name__)

WARM_UP_FILE = Path(altermag.__file__).parent / "data" / "examples" / "MnF2.mcif"
"""The structure analysed at start (bundled example, six atoms)."""


async def warm_up(pool: AnalysisPool, path: Path = WARM_UP_FILE) -> bool:
    """Analyse ``path`` once on each of the pool's workers (all at once, without the
    per-request time limit: a start under load may take longer); True when all did.

    The verdict is checked: MnF2 with its given moments is an altermagnet, so a worker that
    answers anything else is reported (it would answer real requests wrongly too).
    """
    try:
        data = path.read_bytes()
        answers = await asyncio.to_thread(pool.warm, path.name, data)
    except Exception as exc:  # the server starts anyway
        log.warning("analysis warm-up failed (%s: %s)", type(exc).__name__, exc)
        return False
    wrong = [a.get("verdict") for a in answers if a.get("verdict") != "altermagnet"]
    if wrong:
        log.warning("analysis warm-up: MnF2 came back as %s, not altermagnet", wrong)
        return False
    return True
