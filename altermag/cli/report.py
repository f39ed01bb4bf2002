"""``altermag report``: a material's classification report."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from altermag.cli import app


@app.command(
    help="Classification report of a structure file: summary, crystal and form-factor figures, "
    "provenance. HTML is self-contained; JSON has the same content; stdout without --out."
)
def report(
    target: Annotated[str, typer.Argument(help="Structure file.")],
    fmt: Annotated[str, typer.Option("--format", help="html, json or pdf.")] = "html",
    out: Annotated[Path | None, typer.Option(help="Output file (default: stdout).")] = None,
    magmom: Annotated[str | None, typer.Option(help="Moments in VASP syntax.")] = None,
) -> None:
    from altermag.io import StructureReadError, read_structure
    from altermag.reports.material import material_report, render_html, render_pdf
    from altermag.symmetry import analyze

    if fmt not in ("html", "json", "pdf"):
        raise typer.BadParameter("format must be html, json or pdf", param_hint="--format")
    path = Path(target)
    try:
        structure = read_structure(path, magmom=magmom)
    except StructureReadError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=2) from None
    rep = material_report(structure, analyze(structure), source="file", source_id=str(path))
    if fmt == "json":
        data: bytes = json.dumps(rep, indent=1, ensure_ascii=False).encode()
    elif fmt == "html":
        data = render_html(rep).encode()
    else:
        data = render_pdf(rep)
    if out is None:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    else:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(data)
        typer.echo(f"wrote {out}", err=True)
