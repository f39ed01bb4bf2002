"""``altermag dft``: prepare, run and parse first-principles checks of a prediction."""

from __future__ import annotations

import gzip
import json
import re
import stat
import zlib
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from altermag.cli import app
from altermag.cli.options import JsonOption, PresetOption, SetOption
from altermag.dft.presets import DEFAULT_PRESET

dft_app = typer.Typer(
    help="First-principles verification: QE/VASP inputs, local runs, parsing and verdicts.",
    no_args_is_help=True,
)
app.add_typer(dft_app, name="dft")

DEFAULT_MOMENT = 3.0  # μB given to each site of an enumerated order


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_") or "structure"


def _not_regular(directory: Path, max_entries: int = 100_000) -> Path | None:
    """The first entry under ``directory`` (itself included) that is neither a folder nor a
    regular file (a FIFO, socket or device would block or never end when read); None if all
    are. Links are followed, as the parsers would."""
    entries = [directory]
    if directory.is_dir():
        for n, path in enumerate(directory.rglob("*")):
            if n >= max_entries:
                break
            entries.append(path)
    for path in entries:
        try:
            mode = path.stat().st_mode
        except OSError:
            continue  # a dangling link: the parsers report a missing file
        if not (stat.S_ISDIR(mode) or stat.S_ISREG(mode)):
            return path
    return None


def _parse_set(values: list[str] | None) -> dict[str, object]:
    import yaml

    out: dict[str, object] = {}
    for item in values or []:
        if "=" not in item:
            raise typer.BadParameter(f"{item!r}: use KEY=VALUE", param_hint="--set")
        key, value = item.split("=", 1)
        out[key.strip()] = yaml.safe_load(value)
    return out


@dft_app.command(help="Write SCF + bands inputs and job scripts for a structure file.")
def prepare(
    target: Annotated[str, typer.Argument(help="Structure file (mCIF, CIF, POSCAR, JSON…).")],
    code: Annotated[str, typer.Option(help="qe or vasp (any registered DFT code).")] = "qe",
    preset: PresetOption = DEFAULT_PRESET,
    out: Annotated[
        Path | None, typer.Option(help="Folder (default dft_inputs/generated/<id>/<code>).")
    ] = None,
    magmom: Annotated[str | None, typer.Option(help="Moments in VASP syntax.")] = None,
    set_: SetOption = None,
    order: Annotated[int, typer.Option(help="Rank of the enumerated order (no moments).")] = 1,
) -> None:
    from altermag.config import get_settings
    from altermag.dft.codes import UnknownCodeError, available_codes, get_code
    from altermag.dft.presets import PresetError, load_preset
    from altermag.io import StructureReadError, read_structure
    from altermag.symmetry import analyze

    try:
        impl = get_code(code)
    except UnknownCodeError:
        known = " or ".join(available_codes())
        raise typer.BadParameter(
            f"code must be {known}, not {code!r}", param_hint="--code"
        ) from None
    try:
        structure = read_structure(Path(target), magmom=magmom)
        settings = load_preset(preset, _parse_set(set_))
    except (StructureReadError, PresetError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=2) from None
    result = analyze(structure)
    if result.enumerated:
        if not result.orders:
            typer.echo("error: no compensated collinear order to compute", err=True)
            raise typer.Exit(code=2)
        from altermag.symmetry.enumerate import ordered_structure

        chosen = next((o for o in result.orders if o.rank == order), None)
        if chosen is None:
            raise typer.BadParameter(f"no order of rank {order}", param_hint="--order")
        structure = ordered_structure(structure, result, rank=order, moment=DEFAULT_MOMENT)
        result = chosen.result
        typer.echo(f"order {order}: {chosen.reason}", err=True)
    name = _slug(structure.label or Path(target).stem) + "-" + structure.content_hash()[:8]
    folder = out or get_settings().dft_dir / name / code
    try:
        deck = impl.input_set(structure, result, settings)
    except ValueError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=2) from None
    deck.write(folder)
    kpath, extra = deck.kpath, deck.summary
    if deck.missing:
        typer.echo(
            f"warning: {impl.lacks(deck.missing, settings)}; the decks name the standard files "
            "and run where they exist",
            err=True,
        )
    typer.echo(
        f"wrote {folder} ({result.verdict}"
        + (f", {result.wave}-wave {result.form_factor}" if result.wave else "")
        + f"; {extra}; segments "
        + ", ".join(f"{s.name}:{s.kind}" for s in kpath.segments)
        + ")"
    )


@dft_app.command(
    help="Run a prepared QE folder here: pw.x SCF, then bands (one MPI rank), with live "
    "progress (SCF iteration and accuracy, bands k-point, elapsed time) on stderr."
)
def run(
    directory: Annotated[Path, typer.Argument(help="Folder written by `altermag dft prepare`.")],
    pw: Annotated[str, typer.Option(help="pw.x executable.")] = "pw.x",
    timeout_scf: Annotated[float | None, typer.Option(help="SCF limit (s).")] = None,
    timeout_bands: Annotated[float | None, typer.Option(help="Bands limit (s).")] = None,
) -> None:
    from altermag.dft.qe.run import run_qe

    if not (directory / "scf.in").is_file():
        typer.echo(f"error: no scf.in in {directory}", err=True)
        raise typer.Exit(code=2)
    from altermag.cli.progress import follow_pw

    with follow_pw([("SCF", directory / "scf.out"), ("bands", directory / "bands.out")]):
        rec = run_qe(directory, pw, timeout_scf, timeout_bands)
    for step in rec.steps:
        typer.echo(
            f"{step.name}: {step.wall_s:.1f} s, rc={step.returncode}, converged={step.converged}"
        )
    typer.echo(f"{rec.status}: {rec.message}")
    if not rec.ok:
        raise typer.Exit(code=1)


@dft_app.command(
    help="Parse QE or VASP outputs under DIR: splitting per segment, gaps, moments, verdict."
)
def parse(
    directory: Annotated[
        Path, typer.Argument(help="Run folder (QE outdir and *.out files, or VASP run(s)).")
    ],
    as_json: JsonOption = False,
    figure: Annotated[Path | None, typer.Option(help="Write the band figure (.png/.svg).")] = None,
    set_: Annotated[
        list[str] | None, typer.Option("--set", help="Override a threshold: KEY=VALUE.")
    ] = None,
    fermi: Annotated[
        float | None, typer.Option(help="Fermi level (eV) for a VASP EIGENVAL without SCF.")
    ] = None,
) -> None:
    from altermag.dft.qe.analysis import QEAnalysis, analyze_qe
    from altermag.dft.qe.parse import QEOutputError
    from altermag.dft.vasp.parse import VaspAnalysis, VaspOutputError, analyze_vasp, is_vasp_folder

    odd = _not_regular(directory)
    if odd is not None:
        typer.echo(
            f"error: {odd} is not a regular file or folder (a FIFO, socket or device); "
            "dft parse reads only regular files",
            err=True,
        )
        raise typer.Exit(code=2)
    qe = directory.is_dir() and any(directory.rglob("data-file-schema.xml*"))
    vasp_deck = not qe and directory.is_dir() and any(directory.rglob("INCAR"))
    if vasp_deck and not is_vasp_folder(directory):
        typer.echo(
            f"error: VASP inputs but no outputs (vasprun.xml, EIGENVAL, OUTCAR) under "
            f"{directory}: has the job run?",
            err=True,
        )
        raise typer.Exit(code=2)
    res: QEAnalysis | VaspAnalysis
    try:
        if not qe and is_vasp_folder(directory):
            res = analyze_vasp(directory, _parse_set(set_), fermi_energy=fermi)
        else:
            res = analyze_qe(directory, _parse_set(set_))
    except (QEOutputError, VaspOutputError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=2) from None
    except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
        typer.echo(
            f"error: a compressed output under {directory} is truncated or damaged ({exc}); "
            "copy it again or decompress it to check",
            err=True,
        )
        raise typer.Exit(code=2) from None
    v = res.verdict
    if figure is not None:
        from altermag.dft.plot import band_figure

        fmt = figure.suffix.lstrip(".") or "png"
        figure.write_bytes(band_figure(res, fmt=fmt))
    if as_json:
        typer.echo(json.dumps(v.to_dict(), indent=1, ensure_ascii=False))
        return
    console = Console()
    console.print(
        f"[bold]{v.formula}[/]: predicted {v.predicted_verdict}"
        + (f" ({v.predicted_wave}-wave, f = {v.form_factor})" if v.predicted_wave else "")
    )
    table = Table("segment", "expected", "max |f|", "max splitting (eV)")
    for s in v.segments:
        table.add_row(s.name, s.expected, f"{s.form_factor_max:.3f}", f"{s.max_splitting_ev:.4f}")
    console.print(table)
    console.print(
        f"E_F = {v.fermi_energy_ev:.3f} eV, gap {v.gap_ev:.3f} eV (up {v.gap_up_ev:.3f}, "
        f"down {v.gap_down_ev:.3f}): {v.electronic}; moments "
        + ", ".join(f"{m:+.2f}" for m in v.site_moments)
        + f" μB, total {v.total_moment} μB"
    )
    console.print(f"[bold]{v.status}[/] ({v.observed}): {v.reason}")
    for w in v.warnings:
        console.print(f"[yellow]warning:[/] {w}")
