"""``altermag export``: a structure file or stored material with its order, in a standard format."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from altermag.cli import app
from altermag.export import FORMATS

_FORMAT_HELP = "; ".join(f"{k}: {v}" for k, v in FORMATS.items())


def _load(target: str, magmom: str | None, db: str | None):
    """(structure, label) of a file, or of a stored material when TARGET is its id."""
    from altermag.io import StructureReadError, read_structure

    path = Path(target)
    if target.isdigit() and not path.exists():
        from altermag.store import Store

        with Store(db) as store:
            record = store.material(int(target))
        if record is None:
            typer.echo(f"error: no material {target} in the store", err=True)
            raise typer.Exit(code=2)
        return record.magnetic_structure(), f"{record.formula}-{record.id}"
    try:
        structure = read_structure(path, magmom=magmom)
    except StructureReadError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=2) from None
    return structure, path.stem if path.stem not in ("POSCAR", "CONTCAR") else structure.formula


@app.command(
    help="Write a structure file or stored material, with its magnetic order, in a standard "
    "format.\n\nTARGET is a structure file or the id of a stored material. Formats: "
    + _FORMAT_HELP
    + ". A structure without moments gets its enumerated k = 0 order of rank --order "
    "(default 1)."
)
def export(
    target: Annotated[str, typer.Argument(help="Structure file, or the id of a stored material.")],
    fmt: Annotated[
        str, typer.Option("--format", help="mcif, cif, poscar, json or extxyz.")
    ] = "mcif",
    order: Annotated[
        int | None,
        typer.Option(min=1, help="Rank of the enumerated order (structures without moments)."),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(help="Output file (default: stdout); a folder for poscar (POSCAR + INCAR)."),
    ] = None,
    magmom: Annotated[str | None, typer.Option(help="Moments in VASP syntax.")] = None,
    db: Annotated[str | None, typer.Option(help="Store URL (material ids).")] = None,
) -> None:
    from altermag.errors import InputError
    from altermag.export import render, with_order

    if fmt not in FORMATS:
        raise typer.BadParameter(f"choose one of {', '.join(FORMATS)}", param_hint="--format")
    if fmt == "poscar" and out is None:
        raise typer.BadParameter("give the folder for POSCAR and INCAR", param_hint="--out")
    structure, stem = _load(target, magmom, db)
    try:
        ordered, result = with_order(structure, rank=order)
        files = render(ordered, fmt, stem=stem)
    except InputError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=2) from None
    what = result.verdict + (f", {result.wave}-wave" if result.wave else "")
    if structure.magmoms is None:
        what = f"enumerated order {order or 1}: {what}"
    if out is None:
        (text,) = files.values()
        sys.stdout.write(text)
        typer.echo(f"{structure.formula}: {what}", err=True)
        return
    if fmt == "poscar":
        out.mkdir(parents=True, exist_ok=True)
        paths = [out / name for name in files]
    else:
        out.parent.mkdir(parents=True, exist_ok=True)
        paths = [out]
    for path, text in zip(paths, files.values(), strict=True):
        path.write_text(text)
    typer.echo(f"{structure.formula} ({what}) → {', '.join(map(str, paths))}", err=True)
