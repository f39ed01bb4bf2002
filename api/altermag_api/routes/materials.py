"""``GET /materials/{id}``: a stored material with all its orders, scores and DFT jobs."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Request

from altermag_api.deps import ReadAccess, StoreDep
from altermag_api.schemas import MaterialOut, problems

router = APIRouter(tags=["materials"], responses=problems(401, 404, 503))

MaterialId = Annotated[int, Path(ge=1, le=2**31 - 1)]


@router.get("/materials/{material_id}", response_model=MaterialOut)
def get_material(material_id: MaterialId, request: Request, store: StoreDep, _: ReadAccess) -> Any:
    """Structure, every stored (given or enumerated) order with its verdict, scores, DFT."""
    record = store.material(material_id)
    if record is None:
        raise HTTPException(404, detail=f"no material {material_id}")
    report = str(request.url_for("material_report", material_id=material_id).path)
    return {
        **{k: getattr(record, k) for k in MaterialOut.model_fields if k != "links"},
        "created_at": record.created_at.isoformat(),
        "links": {"report_html": f"{report}?format=html", "report_json": f"{report}?format=json"},
    }
