"""``altermag dft groundstate``: which enumerated order is the DFT ground state."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from altermag.cli import DB_HELP
from altermag.cli.dft import _parse_set, _slug, dft_app

HYPOTHETICAL_SOURCES = ("corpus", "embedded")
"""Sources whose structures were never measured: ``--relax`` is on by default for them."""


@dft_app.command(
    "groundstate",
    help="Spin-polarised total energies of the enumerated k = 0 orders (DFT+U as the preset "
    "says), one SCF each with the same cell, k-mesh, cut-offs and smearing; the lowest "
    "converged order whose moments kept their signs is the ground state. TARGET is a "
    "structure file or a stored material id (the result is then stored).",
)
def groundstate(
    target: Annotated[str, typer.Argument(help="Structure file or material id in the store.")],
    code: Annotated[str, typer.Option(help="qe (vasp: not yet).")] = "qe",
    preset: Annotated[str, typer.Option(help="Preset name or YAML file.")] = "default",
    max_orders: Annotated[int, typer.Option(help="Orders of the ranking to compute.")] = 8,
    relax: Annotated[
        bool | None,
        typer.Option(
            "--relax/--no-relax",
            help="One spin-polarised vc-relax (FM order) before the energies; default on for "
            "hypothetical sources (embedded corpus), off for experimental structures.",
        ),
    ] = None,
    runner: Annotated[
        str, typer.Option(help="local (pw.x here) or prepare (decks only); slurm: not yet.")
    ] = "local",
    set_: Annotated[
        list[str] | None, typer.Option("--set", help="Override a preset key: KEY=VALUE.")
    ] = None,
    workdir: Annotated[
        Path | None, typer.Option(help="Job folder (one sub-folder per order).")
    ] = None,
    db: Annotated[str | None, typer.Option(help=DB_HELP)] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    from altermag.config import get_settings
    from altermag.dft.groundstate import GroundStateError, run_groundstate
    from altermag.dft.presets import PresetError, load_preset
    from altermag.io import StructureReadError, read_structure

    if runner not in ("local", "prepare"):
        typer.echo(f"error: runner {runner!r}: use local or prepare", err=True)
        raise typer.Exit(code=2)
    try:
        settings = load_preset(preset, _parse_set(set_))
    except PresetError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=2) from None
    material_id = int(target) if target.isdigit() and not Path(target).exists() else None
    if material_id is not None:
        from altermag.store import Store

        with Store(db) as store:
            record = store.material(material_id)
        if record is None:
            typer.echo(f"error: no material {material_id}", err=True)
            raise typer.Exit(code=2)
        structure = record.magnetic_structure()
        source = record.source or "store"
    else:
        try:
            structure = read_structure(Path(target))
        except StructureReadError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(code=2) from None
        source = f"file:{Path(target).name}"
    if relax is None:
        relax = (source or "").split(":")[0] in HYPOTHETICAL_SOURCES
    name = _slug(structure.label or structure.formula) + "-" + structure.content_hash()[:8]
    folder = workdir or get_settings().dft_dir / name / f"groundstate-{code}"
    try:
        gs = run_groundstate(
            structure,
            settings,
            folder,
            max_orders=max_orders,
            code=code,
            runner=runner,
            relax=relax,
            source=source,
            progress=lambda msg: typer.echo(msg, err=True),
        )
    except GroundStateError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=2) from None
    if material_id is not None and gs.verdict != "prepared":
        from altermag.store import Store

        with Store(db) as store:
            store_ground_state(store, material_id, gs, str(folder))
    data = gs.to_dict()
    if as_json:
        typer.echo(json.dumps(data, indent=1))
        return
    _print(data)


def store_ground_state(store: object, material_id: int, gs: object, directory: str) -> int:
    """Record a ground-state search as a DFT job of kind ``groundstate`` (its result is the
    JSON contract); returns the job id."""
    from altermag.dft.groundstate import GroundState
    from altermag.store import Store

    assert isinstance(store, Store) and isinstance(gs, GroundState)
    job = store.add_dft_job(
        material_id,
        gs.code,
        directory=directory,
        parameters={"kind": "groundstate", "preset": gs.settings.get("preset")},
        status="running",
    )
    store.set_dft_result(job, gs.to_dict(), None)
    return job


def _print(data: dict[str, object]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{data['formula']}: ground-state search ({data['code']})")
    for col in ("order", "verdict", "status", "E − E_gs (meV/mag. atom)", "final moments (μB)"):
        table.add_column(col)
    gs: dict[str, object] = data.get("ground_state") or {}  # type: ignore[assignment]
    for o in data["orders"]:  # type: ignore[attr-defined]
        rel = o["relative_energy_mev_per_magnetic_atom"]
        mark = " ★" if gs and o["label"] == gs.get("label") else ""
        status = o["status"] + (f" → {o['turned_into']}" if o.get("turned_into") else "")
        table.add_row(
            o["label"] + mark,
            o["verdict"] + (f" {o['wave']}" if o.get("wave") else ""),
            status,
            "" if rel is None else f"{rel:.1f}",
            " ".join(f"{m:+.2f}" for m in o["final_moments"]),
        )
    Console().print(table)
    for msg in data.get("messages") or []:  # type: ignore[attr-defined]
        print(msg)
    print(f"verdict: {data['verdict']}")
