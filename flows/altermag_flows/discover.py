"""Prefect flow ``discover``: the whole engine, screening to DFT verdicts.

``screen`` (the screening flow, as a subflow: read → symmetry/enumeration → GNN + OT ranking
→ store → ``candidates.json``) → the top N candidates that can host an altermagnet → the
``verify`` flow on each (``code="auto"``, ``runner="auto"``: QE here when pseudopotentials
exist for all its elements; otherwise VASP decks when VASP is configured —
``ALTERMAG_VASP_CMD`` or a POTCAR folder — else QE decks for a machine that has the
pseudopotentials; decks that cannot run here are submitted when Slurm is configured,
``ALTERMAG_SLURM=1``) → verdicts in the store and ``discover.json`` next to the run's
candidate tables.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger

from altermag.screening_run import ScreenRequest
from altermag_flows.screen import screen
from altermag_flows.verify import verify

__all__ = ["discover", "top_candidates"]


def top_candidates(candidates_json: Path, material_ids: dict[str, int], top: int) -> list[int]:
    """Material ids of the first ``top`` ranked rows that can host an altermagnet."""
    rows = json.loads(Path(candidates_json).read_text())
    chosen: list[int] = []
    for row in rows:
        mid = material_ids.get(row["id"])
        if row["can_host_altermagnet"] and mid is not None and mid not in chosen:
            chosen.append(mid)
        if len(chosen) >= top:
            break
    return chosen


@flow(name="discover")
def discover(
    request: ScreenRequest | None = None,
    top: int = 5,
    db_url: str | None = None,
    out_dir: str | None = None,
    workdir: str | None = None,
    code: str = "auto",
    preset: str = "fast",
    runner: str = "auto",
    wait_s: float = 3600.0,
    slurm_resources: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Screen a source (``request``; default the embedded data), then verify its top ``top``
    candidates with DFT (see the module). A run started from a deployment has its parameters
    checked first (:mod:`altermag_flows.guard`)."""
    from altermag.store import Store
    from altermag_flows.guard import check_discover, served_run

    if served_run():
        check_discover(
            request, top, db_url, out_dir, workdir, code, preset, runner, wait_s, slurm_resources
        )
    logger = get_run_logger()
    screened = screen(request=request, db_url=db_url, out_dir=out_dir)
    store = Store(db_url)
    try:
        ids = store.run_material_ids(int(screened["run_id"]))
    finally:
        store.close()
    candidates_json = Path(screened["paths"]["json"])
    chosen = top_candidates(candidates_json, ids, top)
    logger.info("run %s: verifying materials %s", screened["run_id"], chosen)
    verified = verify(
        chosen,
        code=code,
        preset=preset,
        runner=runner,
        db_url=db_url,
        workdir=workdir,
        wait_s=wait_s,
        slurm_resources=slurm_resources,
    )
    summary = {"run_id": screened["run_id"], "top": top, "verified": verified}
    path = candidates_json.parent / "discover.json"
    path.write_text(json.dumps(summary, indent=1, default=str))
    return {**summary, "screen": screened, "path": str(path)}
