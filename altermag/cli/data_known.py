"""``altermag data known``: the curated known magnetic materials."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console

from altermag.cli.data import data_app
from altermag.cli.tables import Column, print_table


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
    columns = [
        Column("id", priority=9),
        Column("formula", priority=10),
        Column("label", priority=8),
        Column("wave", priority=7),
        Column("spin Laue\ngroup", priority=6),
        Column("SG", priority=4, justify="right"),
        Column("sites", priority=3, justify="right"),
        Column("DOI", priority=5, wrap=True),
    ]
    rows = [
        [
            m.id,
            m.formula,
            m.label,
            m.wave or "",
            m.spin_laue_group or "",
            str(m.space_group_number),
            str(len(m.structure)),
            m.reference["doi"],
        ]
        for m in materials
    ]
    print_table(Console(), f"Known magnetic materials ({len(materials)})", columns, rows)
