"""A material report built from what the store holds (structure, one order, scores, DFT)."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

from altermag.store.records import MaterialRecord, OrderRecord

__all__ = ["pick_order", "stored_material_report"]


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
    if order.moments is not None and len(order.moments) == len(structure):
        structure = structure.with_moments(order.moments)
    scores = [
        {"model_version": s.model_version, "raw_score": s.score, "adapted_score": s.adapted_score}
        for s in record.scores
    ]
    dft_jobs = [j for j in record.dft_jobs if j.verdict and j.status == "completed"]
    dft = dft_jobs[-1].verdict if dft_jobs else None
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
    return material_report(
        structure,
        order.spin_group_result(),
        source=record.source or "store",
        source_id=record.source_id or f"material {record.id}",
        scores=scores,
        dft=dft,
        extra_figures=extra,
    )
