"""``altermag dft groundstate``: which enumerated order is the DFT ground state."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from altermag.cli.dft import _parse_set, _slug, dft_app
from altermag.cli.options import (
    DbOption,
    JsonOption,
    MaxOrdersOption,
    PresetOption,
    SetOption,
    SlurmOption,
    WaitOption,
)
from altermag.dft.presets import DEFAULT_PRESET, SEARCH_ORDERS
from altermag.hpc.slurm import SLURM_WAIT_S


@dft_app.command(
    "groundstate",
    help="Spin-polarised total energies of the enumerated k = 0 orders (DFT+U as the preset "
    "says), one SCF each with the same cell, k-mesh, cut-offs and smearing; the lowest "
    "converged order whose moments kept their signs is the ground state. TARGET is a "
    "structure file or a stored material id (the result is then stored).",
)
def groundstate(
    target: Annotated[str, typer.Argument(help="Structure file or material id in the store.")],
    code: Annotated[
        str,
        typer.Option(
            help="qe, or vasp (decks only: --runner prepare; one MP-style SCF deck per order "
            "and manifest.json; the OUTCARs are read back by `altermag dft verify`)."
        ),
    ] = "qe",
    preset: PresetOption = DEFAULT_PRESET,
    max_orders: MaxOrdersOption = SEARCH_ORDERS,
    relax: Annotated[
        bool | None,
        typer.Option(
            "--relax/--no-relax",
            help="One spin-polarised vc-relax (FM order) before the energies; default on for "
            "hypothetical sources (embedded corpus), off for experimental structures.",
        ),
    ] = None,
    runner: Annotated[
        str,
        typer.Option(
            help="local (pw.x here), slurm (one batch job per order; run again to collect "
            "jobs still queued: they are polled, never resubmitted) or prepare (decks only)."
        ),
    ] = "local",
    wait: WaitOption = SLURM_WAIT_S,
    slurm: SlurmOption = None,
    set_: SetOption = None,
    workdir: Annotated[
        Path | None, typer.Option(help="Job folder (one sub-folder per order).")
    ] = None,
    db: DbOption = None,
    band_check: Annotated[
        bool,
        typer.Option(
            "--band-check/--no-band-check",
            help="Then run the band check on the ground-state order when it is altermagnetic "
            "(otherwise: 'ground state not altermagnetic').",
        ),
    ] = False,
    as_json: JsonOption = False,
    parallel: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Orders computed at once, one single-rank pw.x each (default: the available "
            "cores).",
        ),
    ] = None,
) -> None:
    from altermag.config import get_settings
    from altermag.dft.groundstate import GroundStateError, run_groundstate
    from altermag.dft.presets import PresetError, load_preset
    from altermag.errors import SettingsError
    from altermag.hpc import Resources
    from altermag.io import StructureReadError, read_structure

    if runner not in ("local", "slurm", "prepare"):
        typer.echo(f"error: runner {runner!r}: use local, slurm or prepare", err=True)
        raise typer.Exit(code=2)
    try:
        settings = load_preset(preset, _parse_set(set_))
        resources = Resources(**dict(_parse_set(slurm))) if slurm else None  # type: ignore[arg-type]
    except (PresetError, SettingsError, TypeError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=2) from None
    material_id = int(target) if target.isdigit() and not Path(target).exists() else None
    say = lambda msg: typer.echo(msg, err=True)  # noqa: E731
    if material_id is not None:
        from altermag.dft.groundstate import search_material
        from altermag.store import Store

        if runner != "local":
            typer.echo(
                "error: a stored material's search runs here (--runner local); "
                f"`altermag dft verify {material_id} --runner {runner}` searches it there",
                err=True,
            )
            raise typer.Exit(code=2)
        try:
            with Store(db) as store:
                data = search_material(
                    store,
                    material_id,
                    settings,
                    workdir,
                    max_orders,
                    relax,
                    band_check,
                    progress=say,
                    parallel=parallel,
                )
        except GroundStateError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(code=2) from None
    else:
        try:
            structure = read_structure(Path(target))
        except StructureReadError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(code=2) from None
        name = _slug(structure.label or structure.formula) + "-" + structure.content_hash()[:8]
        folder = workdir or get_settings().dft_dir / name / f"groundstate-{code}"
        from altermag.dft.groundstate import poll_groundstate
        from altermag.dft.groundstate.slurm import submitted_jobs

        source = f"file:{Path(target).name}"
        try:
            if runner == "slurm" and submitted_jobs(folder):  # submitted before: collect
                gs = poll_groundstate(
                    structure, settings, folder, max_orders, code, source=source, wait_s=wait
                )
            else:
                gs = run_groundstate(
                    structure,
                    settings,
                    folder,
                    max_orders=max_orders,
                    code=code,
                    runner=runner,
                    relax=bool(relax),  # experimental (a file): off unless asked
                    source=source,
                    progress=say,
                    parallel=parallel,
                    slurm_resources=resources,
                    wait_s=wait,
                )
        except GroundStateError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(code=2) from None
        data = gs.to_dict()
        if band_check and runner == "local":
            from altermag.dft.groundstate import band_check_winner

            check = band_check_winner(structure, gs, settings, folder, max_orders)
            data["band_check"] = {k: v for k, v in check.items() if k != "ground_state"}
    if as_json:
        typer.echo(json.dumps(data, indent=1))
        return
    _print(data)


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
    check = data.get("band_check")
    if isinstance(check, dict):
        print(f"band check on the ground state: {check['status']} ({check['reason']})")
