"""Prefect flow ``discover``: the whole engine, screening to DFT verdicts.

``screen`` (the screening flow, as a subflow: read → symmetry/enumeration → ground-state prior
ranking → store → ``candidates.json``) → the top N candidates that can host an altermagnet → the
``verify`` flow on each (``code="auto"``, ``runner="auto"``: QE here when pseudopotentials
exist for all its elements; otherwise VASP decks when VASP is configured —
``ALTERMAG_VASP_CMD`` or a POTCAR folder — else QE decks for a machine that has the
pseudopotentials; decks that cannot run here are submitted when Slurm is configured,
``ALTERMAG_SLURM=1``; a candidate without moments gets the DFT ground-state search first
and the band check only when the winning order is altermagnetic) → verdicts in the store
and ``discover.json`` next to the run's candidate tables.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger

from altermag.dft.presets import DEFAULT_PRESET, MAX_SEARCH_ORDERS, SEARCH_ORDERS
from altermag.hpc.slurm import SLURM_WAIT_S
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
    preset: str = DEFAULT_PRESET,
    runner: str = "auto",
    wait_s: float = SLURM_WAIT_S,
    slurm_resources: dict[str, Any] | None = None,
    ground_state: bool = True,
    max_orders: int = SEARCH_ORDERS,
) -> dict[str, Any]:
    """Screen a source (``request``; default the embedded data), then verify its top ``top``
    candidates with DFT (see the module). A run started from a deployment has its parameters
    checked first (:mod:`altermag_flows.guard`).

    With ``ground_state`` (default) each candidate stored without moments first gets the DFT
    ground-state search (:func:`altermag.dft.groundstate.stored_search`, through the
    ``verify`` flow and its runner): the band check runs on the ground-state order only when
    it is altermagnetic; any other winner is recorded as "ground state not altermagnetic"
    with the energies. A candidate is reported as an altermagnet (``altermagnet`` True in its
    entry) only when the band check on an altermagnetic order confirmed it. False imposes
    the best-ranked altermagnetic order (no energies).
    """
    from altermag.store import Store
    from altermag_flows.guard import check_discover, served_run

    if served_run():
        check_discover(
            request, top, db_url, out_dir, workdir, code, preset, runner, wait_s, slurm_resources
        )
    if not isinstance(max_orders, int) or not 1 <= max_orders <= MAX_SEARCH_ORDERS:
        from altermag.errors import SettingsError

        raise SettingsError(f"max_orders must be an integer in 1..{MAX_SEARCH_ORDERS}")
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
        ground_state=ground_state,
        max_orders=max_orders,
    )
    for entry in verified:
        entry["altermagnet"] = _reported_altermagnet(entry)
    summary = {"run_id": screened["run_id"], "top": top, "verified": verified}
    path = candidates_json.parent / "discover.json"
    path.write_text(json.dumps(summary, indent=1, default=str))
    return {**summary, "screen": screened, "path": str(path)}


def _reported_altermagnet(entry: dict[str, Any]) -> bool:
    """A verified entry is an altermagnet when the band check of an altermagnetic order
    (the ground state's, or the imposed one) confirmed its splitting."""
    verdict = entry.get("verdict") or {}
    return verdict.get("status") == "confirmed" and verdict.get("predicted_verdict") == (
        "altermagnet"
    )
