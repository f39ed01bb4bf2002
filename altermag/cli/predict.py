"""``altermag predict``: the ground-state prior on structure files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from altermag.cli import app
from altermag.cli.tables import Column, print_table

COLUMNS = [
    Column("source", priority=3, wrap=True),
    Column("formula", priority=10),
    Column("P(k=0)", priority=8, justify="right"),
    Column("P(AM\nground)", priority=9, justify="right"),
    Column("top order", priority=7),
    Column("P(top)", priority=6, justify="right"),
    Column("orders", priority=4, justify="right"),
    Column("input\nrank", priority=5, justify="right"),
]


@app.command()
def predict(
    paths: Annotated[list[Path], typer.Argument(help="Structure files (moments optional).")],
    as_json: Annotated[bool, typer.Option("--json", help="JSON output.")] = False,
    adapt: Annotated[
        str,
        typer.Option(
            "--adapt",
            help="'none' (default) or 'ot': transport the files' descriptors onto the "
            "training descriptors first (optimal transport over the whole batch; measured "
            "in docs/model.md, not a default).",
        ),
    ] = "none",
) -> None:
    """P(k = 0), P(ground state) of every enumerated k = 0 collinear order and P(altermagnetic
    ground state) of each structure, from the crystal alone (the shipped ground-state prior).

    When a file carries moments they are not used for the prediction; ``input_order_rank``
    says where the input's own order ranks among the enumerated ones (1 = the prior's top
    order; empty when it is not among them). ``--adapt ot`` moves the batch's descriptors
    onto the training distribution before scoring (:mod:`altermag.ml.transport`); the result
    of a file then depends on the other files scored with it.
    """
    from altermag.errors import AltermagError
    from altermag.io import StructureReadError, read_structure
    from altermag.ml.prior import load_prior
    from altermag.ml.prior import predict as predict_one

    prior = load_prior()
    if prior is None:
        typer.echo("error: no ground-state prior installed (altermag train prior)", err=True)
        raise typer.Exit(2)
    if adapt not in ("none", "ot"):
        typer.echo(f"error: --adapt must be 'none' or 'ot', not {adapt!r}", err=True)
        raise typer.Exit(2)
    records: list[dict[str, Any]] = []
    batch: list[tuple[int, Any]] = []
    for path in paths:
        try:
            structure = read_structure(path)
            if adapt == "ot":
                batch.append((len(records), structure))
                records.append({"source": str(path)})
                continue
            records.append({"source": str(path), **predict_one(structure, prior=prior).to_dict()})
        except (StructureReadError, AltermagError) as exc:
            records.append({"source": str(path), "error": str(exc)})
    if batch:
        from altermag.ml.transport import predict_adapted

        preds = predict_adapted([s for _, s in batch], prior=prior)
        for (i, _), p in zip(batch, preds, strict=True):
            records[i].update(p.to_dict())
    if as_json:
        typer.echo(json.dumps(records, indent=1))
    else:
        rows = []
        for r in records:
            if "error" in r:
                rows.append([r["source"], f"[red]{r['error']}[/red]", "", "", "", "", "", ""])
                continue
            top = r["orders"][0] if r["orders"] else None
            rows.append(
                [
                    r["source"],
                    r["formula"],
                    f"{r['p_k0']:.2f}",
                    f"{r['p_altermagnetic_ground_state']:.2f}",
                    f"{top['verdict']} {top['wave'] or ''}".strip() if top else "",
                    f"{top['p_ground_state']:.2f}" if top else "",
                    str(len(r["orders"])),
                    "" if r["input_order_rank"] is None else str(r["input_order_rank"]),
                ]
            )
        print_table(Console(), f"Ground-state prior ({prior.version})", COLUMNS, rows)
    if any("error" in r for r in records):
        raise typer.Exit(1)
