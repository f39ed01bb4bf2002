"""``altermag data known``: the curated known magnetic materials."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from altermag.cli.data import data_app


@data_app.command("known")
def known_command(
    as_json: Annotated[
        bool, typer.Option("--json", help="A JSON list (id, formula, label, wave, reference...).")
    ] = False,
    label: Annotated[
        str | None,
        typer.Option(
            "--label",
            help="Only one label: altermagnet, antiferromagnet, ferromagnet, ferrimagnet.",
        ),
    ] = None,
) -> None:
    """The curated known magnets (experimental structures and orders with their references)."""
    from altermag.data.known import LABELS, known_materials

    if label is not None and label not in LABELS:
        raise typer.BadParameter(f"label must be one of {', '.join(LABELS)}", param_hint="--label")
    materials = [m for m in known_materials() if label is None or m.label == label]
    if as_json:
        typer.echo(json.dumps([m.summary() for m in materials], indent=1, ensure_ascii=False))
        return
    table = Table(title=f"Known magnetic materials ({len(materials)})")
    for col in ("id", "formula", "label", "wave", "spin Laue group", "SG", "sites", "DOI"):
        table.add_column(col)
    for m in materials:
        table.add_row(
            m.id,
            m.formula,
            m.label,
            m.wave or "",
            m.spin_laue_group or "",
            str(m.space_group_number),
            str(len(m.structure)),
            m.reference["doi"],
        )
    Console().print(table)
