"""``altermag report``: a material's classification report."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from altermag.cli import app


@app.command(
    help="Classification report of a structure file or stored material: summary, crystal and "
    "form-factor figures, provenance.\n\nHTML is self-contained; JSON has the same content. "
    "Without --out the report goes to stdout when it is redirected, and to "
    "reports/<name>.<format> under ALTERMAG_HOME (default: here) on a terminal. "
    "With --run RUN-ID: the screening report of a stored run (counts, ranked table, errors)."
)
def report(
    target: Annotated[
        str | None, typer.Argument(help="Structure file, or the id of a stored material.")
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="html, json or pdf.")] = "html",
    out: Annotated[
        Path | None,
        typer.Option(help="Output file (default: stdout, or reports/<name> on a terminal)."),
    ] = None,
    magmom: Annotated[str | None, typer.Option(help="Moments in VASP syntax.")] = None,
    run: Annotated[
        int | None,
        typer.Option("--run", min=1, help="Report of a stored screening run instead (html/json)."),
    ] = None,
    db: Annotated[str | None, typer.Option(help="Store URL (material ids, --run).")] = None,
) -> None:
    if run is not None:
        _run_report(run, fmt, out, db)
        return
    if target is None:
        raise typer.BadParameter("give a structure file or --run RUN-ID", param_hint="TARGET")
    from altermag.io import StructureReadError, read_structure
    from altermag.reports.material import material_report, render_html, render_pdf
    from altermag.symmetry import analyze

    if fmt not in ("html", "json", "pdf"):
        raise typer.BadParameter("format must be html, json or pdf", param_hint="--format")
    path = Path(target)
    if target.isdigit() and not path.exists():  # a stored material id
        rep = _stored_report(int(target), db)
        name = f"material-{target}"
    else:
        try:
            structure = read_structure(path, magmom=magmom)
        except StructureReadError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(code=2) from None
        result, scores = _scored(structure, analyze(structure), str(path))
        rep = material_report(structure, result, source="file", source_id=str(path), scores=scores)
        name = path.stem if path.stem not in ("POSCAR", "CONTCAR") else structure.formula
    if fmt == "json":
        data: bytes = json.dumps(rep, indent=1, ensure_ascii=False).encode()
    elif fmt == "html":
        data = render_html(rep).encode()
    else:
        data = render_pdf(rep)
    _write(data, out, name, fmt)


def _scored(structure: Any, result: Any, name: str) -> tuple[Any, list[dict[str, Any]] | None]:
    """The result with its enumerated orders ranked by the ground-state prior (as a screening
    ranks them, :func:`altermag.screening.score_entries`) and the prior's numbers; unchanged
    when the structure came with its order or no prior is installed."""
    from altermag.screening import ScreenedEntry, score_entries

    entry = ScreenedEntry(name, "file", structure, result)
    score_entries([entry])
    if entry.model_version is None or entry.model_score is None:
        return result, None
    scores = [
        {
            "model_version": entry.model_version,
            "p_altermagnetic_ground_state": entry.model_score,
            "p_k0": entry.p_k0,
        }
    ]
    return entry.result, scores


def _write(data: bytes, out: Path | None, name: str, fmt: str) -> None:
    """To ``out``; without it to stdout, unless stdout is a terminal and the format is not
    text to read there (HTML, PDF): then to ``<home>/reports/<name>.<fmt>``."""
    if out is None and (fmt == "json" or not sys.stdout.isatty()):
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return
    if out is None:
        from altermag.config import get_settings

        out = get_settings().home / "reports" / f"{name}.{fmt}"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(data)
    typer.echo(f"wrote {out}", err=True)


def _stored_report(material_id: int, db: str | None) -> dict:
    """The report of a stored material (its structure, orders, scores and DFT evidence)."""
    from altermag.reports.stored import stored_material_report
    from altermag.store import Store

    with Store(db) as store:
        record = store.material(material_id)
    if record is None:
        typer.echo(f"error: no material {material_id} in the store", err=True)
        raise typer.Exit(code=2)
    return stored_material_report(record)


def _run_report(run_id: int, fmt: str, out: Path | None, db: str | None) -> None:
    """Write the screening report of stored run ``run_id`` (HTML or JSON)."""
    from altermag.reports.run import render_run_html, run_candidates, run_report
    from altermag.store import Store

    if fmt not in ("html", "json"):
        raise typer.BadParameter("a run report is html or json", param_hint="--format")
    with Store(db) as store:
        record = store.run(run_id)
        if record is None:
            typer.echo(f"error: no screening run {run_id}", err=True)
            raise typer.Exit(code=2)
        candidates, n_candidates = run_candidates(store, run_id)
        rep = run_report(
            record,
            candidates,
            material_link="material-{material_id}.html",
            n_candidates=n_candidates,
        )
    text = json.dumps(rep, indent=1, ensure_ascii=False) if fmt == "json" else render_run_html(rep)
    _write(text.encode(), out, f"run-{run_id}", fmt)
