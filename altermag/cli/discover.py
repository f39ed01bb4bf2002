"""``altermag dft verify`` and ``altermag discover``: DFT verification of stored materials and
the whole engine (screen → top candidates → verify) as Prefect flows."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from altermag.cli import app
from altermag.cli.dft import _parse_set, dft_app
from altermag.cli.options import (
    DbOption,
    FilterOption,
    JsonOption,
    LimitOption,
    MaxOrdersOption,
    OutOption,
    PathOption,
    PresetOption,
    SetOption,
    SlurmOption,
    SourceOption,
    UrlOption,
    WaitOption,
)
from altermag.cli.screen import _DEFAULTS, _source_options
from altermag.cli.tables import Column, print_table
from altermag.config import prefect_environment
from altermag.dft.presets import DEFAULT_PRESET, SEARCH_ORDERS
from altermag.hpc.slurm import SLURM_WAIT_S
from altermag.screening_run import ScreenRequest

RUNNER_HELP = (
    "auto (QE here when pseudopotentials exist for every element, else Slurm when "
    "ALTERMAG_SLURM=1, else decks only; VASP: Slurm, else here with ALTERMAG_VASP_CMD) | "
    "local | slurm | prepare"
)
CODE_HELP = (
    "qe | vasp | auto (QE when its pseudopotentials exist here for every element, else VASP "
    "when ALTERMAG_VASP_CMD or ALTERMAG_VASP_PSP_DIR is set)"
)


def _resources(values: list[str] | None) -> dict[str, Any] | None:
    return dict(_parse_set(values)) or None


OUTCOME_COLUMNS = [
    Column("material", priority=10, justify="right"),
    Column("job", priority=6, justify="right"),
    Column("status", priority=9),
    Column("runner", priority=5),
    Column("DFT verdict", priority=8),
    Column("max split\n(eV)", priority=7, justify="right"),
    Column("folder", priority=4, wrap=True),
]


def _outcome_rows(outcomes: list[dict[str, Any]]) -> list[list[str]]:
    rows = []
    for o in outcomes:
        v = o.get("verdict") or {}
        split = o.get("max_splitting_ev")
        rows.append(
            [
                str(o["material_id"]),
                str(o.get("job_id", "")),
                o["status"],
                o.get("runner", ""),
                v.get("status", "") if "status" in v else "",
                "" if split is None else f"{split:.3f}",
                o.get("directory", o.get("message", "")),
            ]
        )
    return rows


def _report(outcomes: list[dict[str, Any]], as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(outcomes, indent=1, default=str))
    else:
        console = Console()
        print_table(console, None, OUTCOME_COLUMNS, _outcome_rows(outcomes))
        for o in outcomes:
            console.print(f"material {o['material_id']}: {o['message']}")
    if any(o["status"] in ("failed", "error") for o in outcomes):
        raise typer.Exit(code=1)


@dft_app.command(
    "verify",
    help="Verify stored materials with DFT: prepare, run here or on Slurm, parse, store the "
    "verdict and band figure. A material without moments first gets the ground-state search "
    "(energies of the enumerated orders); the band check runs on the winner only when it is "
    "altermagnetic ('ground state not altermagnetic' otherwise). Idempotent: stored verdicts "
    "are not recomputed.",
)
def verify(
    material_ids: Annotated[list[int], typer.Argument(help="Material ids in the store.")],
    code: Annotated[str, typer.Option(help=CODE_HELP)] = "qe",
    preset: PresetOption = DEFAULT_PRESET,
    runner: Annotated[str, typer.Option(help=RUNNER_HELP)] = "auto",
    db: DbOption = None,
    workdir: Annotated[
        Path | None, typer.Option(help="Parent of the job folders (dft_inputs/generated).")
    ] = None,
    wait: WaitOption = SLURM_WAIT_S,
    set_: SetOption = None,
    slurm: SlurmOption = None,
    order: Annotated[
        int | None,
        typer.Option(
            help="Impose the enumerated order of this rank on a material without moments "
            "(no ground-state search)."
        ),
    ] = None,
    imposed: Annotated[
        bool,
        typer.Option(
            "--imposed",
            help="Impose the best-ranked altermagnetic order (no ground-state search).",
        ),
    ] = False,
    max_orders: MaxOrdersOption = SEARCH_ORDERS,
    prefect: Annotated[bool, typer.Option(help="Run as the Prefect flow `verify`.")] = False,
    as_json: JsonOption = False,
) -> None:
    overrides = _parse_set(set_)
    ground_state = not imposed and order is None
    resources = _resources(slurm)
    wd = str(workdir) if workdir else None
    if prefect:
        prefect_environment()
        from altermag_flows.verify import verify as verify_flow

        if order is not None:
            typer.echo("error: --order is not a flow parameter: run without --prefect", err=True)
            raise typer.Exit(code=2)
        outcomes = verify_flow(
            list(material_ids),
            code,
            preset,
            runner,
            db,
            wd,
            wait,
            overrides,
            resources,
            ground_state,
            max_orders,
        )
    else:
        from altermag.dft.verify import verify_many
        from altermag.store import Store

        with Store(db) as store:
            outcomes = verify_many(
                store,
                material_ids,
                code,
                preset,
                wd,
                runner,  # type: ignore[arg-type]
                resources,
                overrides=overrides,
                wait_s=wait,
                on_status=lambda m, s: typer.echo(f"material {m}: {s}", err=True),
                ground_state=ground_state,
                order=order,
                max_orders=max_orders,
            )
    _report(outcomes, as_json)


@app.command(
    help="The whole engine as a Prefect flow: screen a source, then verify the top N "
    "candidates with DFT (QE here, or QE/VASP decks prepared and submitted to Slurm)."
)
def discover(
    source: SourceOption = _DEFAULTS.source,
    path: PathOption = None,
    url: UrlOption = None,
    filter: FilterOption = None,
    limit: LimitOption = None,
    top: Annotated[int, typer.Option(help="Verify the N best candidates.")] = 5,
    db: DbOption = None,
    out: OutOption = None,
    workdir: Annotated[
        Path | None, typer.Option(help="Parent of the DFT job folders (dft_inputs/generated).")
    ] = None,
    code: Annotated[str, typer.Option(help=CODE_HELP)] = "auto",
    preset: PresetOption = DEFAULT_PRESET,
    runner: Annotated[str, typer.Option(help=RUNNER_HELP)] = "auto",
    wait: WaitOption = SLURM_WAIT_S,
    slurm: SlurmOption = None,
    ground_state: Annotated[
        bool,
        typer.Option(
            "--ground-state/--imposed",
            help="Candidates without moments: first compute which enumerated order is the DFT "
            "ground state, and run the band check on it only when it is altermagnetic "
            "(default); --imposed: the best-ranked altermagnetic order, no energies.",
        ),
    ] = True,
    max_orders: MaxOrdersOption = SEARCH_ORDERS,
    as_json: JsonOption = False,
) -> None:
    prefect_environment()
    from altermag_flows.discover import discover as discover_flow

    request = ScreenRequest(
        source=source, source_options=_source_options(source, path, url, filter), limit=limit
    )
    result = discover_flow(
        request=request,
        top=top,
        db_url=db,
        out_dir=str(out) if out is not None else None,
        workdir=str(workdir) if workdir else None,
        code=code,
        preset=preset,
        runner=runner,
        wait_s=wait,
        slurm_resources=_resources(slurm),
        ground_state=ground_state,
        max_orders=max_orders,
    )
    if not as_json:
        counts = result["screen"]["counts"]
        typer.echo(
            f"run {result['run_id']}: {counts.get('screened', 0)} screened; "
            f"verified {len(result['verified'])}; summary {result['path']}"
        )
    _report(result["verified"], as_json)
