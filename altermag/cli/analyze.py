"""``altermag analyze``: spin-group classification of structure files."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from altermag.cli import app
from altermag.cli.tables import Column, print_table
from altermag.errors import AltermagError
from altermag.result import VERDICTS, SpinGroupResult
from altermag.symmetry.request import AnalyzeRequest
from altermag.symmetry.spin_group import Cell

_DEFAULTS = AnalyzeRequest()
_HELP = {name: str(f.description) for name, f in AnalyzeRequest.model_fields.items()}
_VERDICT_HELP = "\n\n".join(f"[bold]{k}[/bold]: {v}" for k, v in VERDICTS.items())
_STYLE = {
    "altermagnet": "bold green",
    "antiferromagnet": "yellow",
    "ferromagnet": "cyan",
    "ferrimagnet": "cyan",
    "compensated_ferrimagnet": "cyan",
    "nonmagnetic": "dim",
    "noncollinear": "magenta",
}


def analyze_paths(paths: list[Path], request: AnalyzeRequest) -> list[dict[str, Any]]:
    """Analyze every path; one JSON-ready record per input, errors kept in input order."""
    from altermag.io import StructureReadError

    records: list[dict[str, Any]] = []
    for path in paths:
        try:
            structure, result = request.read_and_analyze(path)
        except StructureReadError as exc:
            records.append({"source": str(path), "error": str(exc)})
            continue
        except AltermagError as exc:  # the analysis refuses this input: reported, not raised
            records.append({"source": str(path), "error": f"{path}: {type(exc).__name__}: {exc}"})
            continue
        records.append({"source": str(path), "formula": structure.formula, **result.to_dict()})
    return records


def _short(source: str) -> str:
    """A path relative to the working folder when inside it, else as given."""
    p = Path(source)
    try:
        return str(p.resolve().relative_to(Path.cwd()))
    except ValueError:
        return source


COLUMNS = [
    Column("source", priority=4, wrap=True),
    Column("formula", priority=9),
    Column("verdict", priority=10),
    Column("wave", priority=8),
    Column("spin Laue\ngroup", priority=7),
    Column("form factor", priority=6, wrap=True),
    Column("nodal planes", priority=3, wrap=True),
    Column("space group", priority=2),
    Column("MSG (BNS)", priority=1),
]


def _rows(records: list[dict[str, Any]]) -> list[list[str]]:
    rows = []
    for rec in records:
        if "error" in rec:
            rows.append(
                [_short(rec["source"]), "", "[red]error[/red]", "", "", rec["error"], "", "", ""]
            )
            continue
        res = SpinGroupResult.from_dict(rec)
        verdict = f"[{_STYLE.get(res.verdict, '')}]{res.verdict}[/]"
        if res.enumerated:
            hosts = ",".join(res.host_waves) or "none"
            verdict += f"\nbest of {len(res.orders)} orders\naltermagnetic: {hosts}"
        planes = "\n".join(
            p.equation.replace(" ", "") + ("" if p.enforced else "*") for p in res.nodal_planes
        )
        rows.append(
            [
                _short(rec["source"]),
                rec.get("formula", ""),
                verdict,
                res.wave or "",
                res.spin_laue_group or "",
                res.form_factor or "",
                planes,
                f"{res.space_group_symbol} ({res.space_group_number})",
                f"{res.magnetic_space_group or ''} ({res.magnetic_space_group_number or '?'})",
            ]
        )
    return rows


@app.command(
    help="Classify collinear magnets by their exact spin group.\n\n"
    "Reads mCIF, CIF (+--magmom), POSCAR/CONTCAR (MAGMOM from an INCAR beside it or "
    "--magmom), pymatgen JSON and extxyz. A structure without moments has its collinear "
    "k = 0 orders enumerated and ranked.\n\nVerdicts:\n\n" + _VERDICT_HELP
)
def analyze(
    paths: Annotated[list[Path], typer.Argument(help="Structure files.", show_default=False)],
    json_out: Annotated[
        bool, typer.Option("--json", help="JSON array, one object per input.")
    ] = False,
    magmom: Annotated[str | None, typer.Option(help=_HELP["magmom"])] = None,
    symprec: Annotated[float, typer.Option(help=_HELP["symprec"])] = _DEFAULTS.symprec,
    magtol: Annotated[float, typer.Option(help=_HELP["magtol"])] = _DEFAULTS.magtol,
    cell: Annotated[Cell, typer.Option(help=_HELP["cell"])] = _DEFAULTS.cell,
    max_orders: Annotated[int, typer.Option(help=_HELP["max_orders"])] = _DEFAULTS.max_orders,
) -> None:
    request = AnalyzeRequest(
        symprec=symprec, magtol=magtol, cell=cell, max_orders=max_orders, magmom=magmom
    )
    records = analyze_paths(paths, request)
    if json_out:
        sys.stdout.write(json.dumps(records, indent=2, ensure_ascii=False) + "\n")
    else:
        console = Console()
        print_table(console, "Spin-group analysis", COLUMNS, _rows(records))
        if any(not p.get("enforced", True) for r in records for p in r.get("nodal_planes", [])):
            console.print("* zero of the lowest-order form factor, not fixed by symmetry")
        for rec in records:
            for w in rec.get("warnings", []):
                console.print(f"[yellow]warning[/yellow] {rec['source']}: {w}")
    if any("error" in r for r in records):
        raise typer.Exit(code=1)
