"""A material report built from what the store holds (structure, one order, scores, DFT)."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

from altermag.store.records import DftJobRecord, MaterialRecord, OrderRecord

__all__ = ["dft_settings_of", "pick_order", "stored_material_report", "stored_orders"]


def pick_order(record: MaterialRecord, order_id: int | None = None) -> OrderRecord | None:
    """The order a report shows: ``order_id`` if given, else the order given with the
    structure (no heuristic rank), else the most plausible enumerated one (rank 1)."""
    if order_id is not None:
        return next((o for o in record.orders if o.id == order_id), None)
    if not record.orders:
        return None
    return min(record.orders, key=lambda o: (o.heuristic_rank or 0, o.id))


def stored_material_report(record: MaterialRecord, order_id: int | None = None) -> dict[str, Any]:
    """:func:`altermag.reports.material.material_report` of a stored material.

    The structure carries the chosen order's moments; model scores and the latest parsed DFT
    verdict of the material are included. Raises ``LookupError`` when the order is unknown.
    """
    from altermag.reports.material import material_report

    order = pick_order(record, order_id)
    if order is None:
        raise LookupError(f"material {record.id} has no stored order {order_id or ''}".strip())
    structure = record.magnetic_structure()
    if order.moments is not None:
        if len(order.moments) == len(structure):
            structure = structure.with_moments(order.moments)
        else:  # an enumerated order lives on the enumeration (primitive) cell
            from altermag.symmetry.order_cell import signs_on_structure

            symprec = float((order.settings or {}).get("symprec", 0.1))
            signs = signs_on_structure(structure, order.moments, symprec=symprec)
            if signs is not None:
                structure = structure.with_moments(signs)
    scores = [
        {
            "model_version": s.model_version,
            "p_altermagnetic_ground_state": s.score,
            "p_k0": s.p_k0,
        }
        for s in record.scores
    ]
    done = [j for j in record.dft_jobs if j.verdict and j.status == "completed"]
    dft_jobs = [j for j in done if (j.parameters or {}).get("kind") != "groundstate"]
    searches = [j for j in done if (j.parameters or {}).get("kind") == "groundstate"]
    ground_state = searches[-1].verdict if searches else None
    dft = dft_jobs[-1].verdict if dft_jobs else None
    dft_settings = dft_settings_of(dft_jobs[-1]) if dft_jobs else None
    extra = []
    figure = (dft or {}).get("figure")
    if dft is not None and figure and Path(figure).is_file():  # the verify stage's band plot
        extra.append(
            {
                "key": "dft-bands",
                "caption": "DFT band structure, both spins, with the spin splitting per segment "
                f"(verdict: {dft.get('status', '')}; {dft.get('reason', '')})",
                "png_base64": base64.b64encode(Path(figure).read_bytes()).decode(),
            }
        )
    if ground_state is not None:
        from altermag.reports.material import ground_state_figure

        extra.append(ground_state_figure(ground_state))
    report = material_report(
        structure,
        order.spin_group_result(),
        source=record.source or "store",
        source_id=record.source_id or f"material {record.id}",
        scores=scores,
        dft=dft,
        extra_figures=extra,
        dft_settings=dft_settings,
    )
    report["ground_state"] = ground_state
    report["stored_orders"] = stored_orders(record, order)
    return report


def stored_orders(record: MaterialRecord, shown: OrderRecord) -> list[dict[str, Any]]:
    """The material's stored orders under the shown order's settings, most probable first:
    rank, verdict, wave, spin Laue group, the prior's P(ground state) and the signs."""
    same = [o for o in record.orders if o.settings_hash == shown.settings_hash]
    return [
        {
            "order_id": o.id,
            "rank": o.heuristic_rank,
            "verdict": o.verdict,
            "wave": o.wave,
            "spin_laue_group": o.spin_laue_group,
            "p_ground_state": o.p_ground_state,
            "signs": "" if o.moments is None else " ".join(_sign(m) for m in o.moments),
            "shown": o.id == shown.id,
        }
        for o in sorted(same, key=lambda o: (o.heuristic_rank or 0, o.id))
    ]


def _sign(m: float) -> str:
    return "+" if m > 1e-6 else "-" if m < -1e-6 else "0"


#: Settings of a DFT check shown in reports, with their units.
DFT_SETTINGS = {
    "functional": "",
    "ecutwfc": "Ry",
    "ecutrho": "Ry",
    "encut": "eV",
    "kpoints": "",
    "kspacing": "Å⁻¹",
    "smearing": "",
    "degauss": "Ry",
    "hubbard_u": "eV",
    "conv_thr_per_atom": "Ry",
    "mixing_beta": "",
    "split_min_ev": "eV",
    "noise_ev": "eV",
}


def dft_settings_of(job: DftJobRecord) -> dict[str, str]:
    """What a DFT check ran with: code and preset, and the settings the job folder recorded
    (``settings.json``, written when the inputs were prepared) when it is still readable."""
    import json

    out = {"code": job.code}
    params = job.parameters or {}
    if params.get("preset"):
        out["preset"] = str(params["preset"])
    if params.get("overrides"):
        out["overrides"] = ", ".join(f"{k}={v}" for k, v in params["overrides"].items())
    path = Path(job.directory or "") / "settings.json"
    if job.directory and path.is_file():
        settings = json.loads(path.read_text())
        code_keys = {"ecutwfc", "ecutrho"} if job.code == "vasp" else {"encut"}
        for key, unit in DFT_SETTINGS.items():
            value = settings.get(key)
            if key in code_keys or value in (None, {}, []):
                continue
            if isinstance(value, dict):
                value = ", ".join(f"{k} {v}" for k, v in value.items())
            elif isinstance(value, list):
                value = "×".join(str(v) for v in value)
            out[key] = f"{value} {unit}".strip()
    return out
