"""``POST /analyze``: classify one uploaded structure file (stores nothing).

The answer is the object ``altermag analyze --json`` prints for one input. The upload's size
is bounded while it streams in (413, :class:`~altermag_api.security.BodyLimitMiddleware`);
the file then goes to a worker process (:mod:`altermag_api.analysis_pool`) that writes it to
a private temporary folder under a sanitised name (the reader picks the format from the
name: ``*.cif``, ``*.mcif``, ``POSCAR``/``CONTCAR``/``*.vasp``, ``*.json``,
``*.xyz``/``*.extxyz``) and reads and classifies it under the public limits (atoms,
operations × sites, moments, time, memory): a reader error is a 422 with the reader's
message, anything beyond a limit a 413 that names the limit, all workers busy a 429.
"""

from __future__ import annotations

import re
from pathlib import Path as FsPath
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, HTTPException, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from altermag.symmetry.request import AnalyzeRequest
from altermag.symmetry.spin_group import Cell
from altermag_api.deps import ReadAccess, get_settings
from altermag_api.schemas import AnalysisResult, problems

router = APIRouter(tags=["analysis"], responses=problems(401, 413, 415, 422, 429))

_DEFAULTS = AnalyzeRequest()
_HELP = {name: str(f.description) for name, f in AnalyzeRequest.model_fields.items()}

SUFFIXES = (".cif", ".mcif", ".vasp", ".poscar", ".json", ".xyz", ".extxyz")
STEMS = ("POSCAR", "CONTCAR")


def _safe_name(filename: str | None) -> str:
    """The upload's base name restricted to a safe alphabet; 415 for an unknown type."""
    name = re.sub(r"[^A-Za-z0-9._-]", "_", FsPath(filename or "").name)[-100:].lstrip(".")
    lower = name.lower()
    if lower.endswith(SUFFIXES) or any(name.upper().startswith(s) for s in STEMS):
        return name
    raise HTTPException(
        415,
        detail=f"unsupported file type {filename!r}: name it *.cif, *.mcif, POSCAR, *.vasp, "
        "*.json, *.xyz or *.extxyz",
    )


@router.post(
    "/analyze",
    response_model=AnalysisResult,
)
async def analyze_upload(
    request: Request,
    _: ReadAccess,
    file: Annotated[UploadFile, File(description="CIF, mCIF, POSCAR, pymatgen JSON or extxyz")],
    magmom: Annotated[str | None, Form(description=_HELP["magmom"])] = None,
    symprec: Annotated[float, Form(description=_HELP["symprec"])] = _DEFAULTS.symprec,
    magtol: Annotated[float, Form(description=_HELP["magtol"])] = _DEFAULTS.magtol,
    cell: Annotated[Cell, Form(description=_HELP["cell"])] = _DEFAULTS.cell,
) -> Any:
    """Spin-group analysis of one structure (k = 0 orders enumerated when it has no moments).

    Bounded by the public limits: 413 when the file, its atoms, operations × sites, its
    expanded moments, the analysis time or memory exceed them; 429 (with ``Retry-After``)
    when every analysis worker is busy and the queue is full.
    """
    from altermag_api.analysis_pool import AnalysisBusy, WorkerFailure

    try:  # the limits of every option are the request's own
        options = AnalyzeRequest(symprec=symprec, magtol=magtol, cell=cell, magmom=magmom or None)
    except ValidationError as exc:
        raise RequestValidationError(exc.errors(include_url=False)) from None
    limit = get_settings(request).max_upload_bytes
    name = _safe_name(file.filename)
    data = await file.read(limit + 1)
    if len(data) > limit:
        raise HTTPException(413, detail=f"file larger than {limit} bytes")
    if not data.strip():
        raise HTTPException(422, detail=f"{file.filename}: empty file")
    pool = request.app.state.analysis_pool
    try:
        result = await pool.analyze(name, data, options.model_dump())
    except AnalysisBusy:
        raise HTTPException(
            429,
            detail="every analysis worker is busy and the queue is full; retry in a few seconds",
            headers={"Retry-After": "5"},
        ) from None
    except WorkerFailure as exc:
        raise HTTPException(exc.status, detail=str(exc)) from None
    return {"source": file.filename or name, **result}
