"""``altermag fetch``: copy structures from a source into a folder with a manifest."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn

from altermag.cli import app

_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


def _safe_name(record_id: str) -> str:
    return _SAFE.sub("_", record_id).strip("_") or "entry"


def _write(out: Path, stem: str, structure, fmt: str, render) -> str:
    """Write one structure; returns its file (or, for poscar, folder) relative to ``out``."""
    if fmt == "auto":
        fmt = "cif" if structure.magmoms is None else "mcif"
    files = render(structure, fmt, stem=stem)
    folder = out / stem if fmt == "poscar" else out
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text)
    return f"{stem}/POSCAR" if fmt == "poscar" else next(iter(files))


@app.command(
    help="Fetch structures from a source (local, magndata, optimade, materials_project) into "
    "OUT as files pymatgen and ASE read (mCIF with moments, CIF without, or --format) plus "
    "manifest.json with each record's metadata. An interrupted fetch resumes from the "
    "manifest's cursor with --resume."
)
def fetch(
    source: Annotated[str, typer.Argument(help="local | magndata | optimade | materials_project")],
    out: Annotated[Path, typer.Option("--out", help="Output folder.")],
    path: Annotated[Path | None, typer.Option(help="Folder or zip (local, magndata).")] = None,
    url: Annotated[str | None, typer.Option(help="OPTIMADE base URL.")] = None,
    filter: Annotated[str | None, typer.Option(help="OPTIMADE filter.")] = None,
    limit: Annotated[int | None, typer.Option(help="Stop after this many records.")] = None,
    page_limit: Annotated[int, typer.Option(help="Entries per request/page.")] = 100,
    mp_mode: Annotated[str, typer.Option(help="Materials Project: optimade or api.")] = "optimade",
    resume: Annotated[bool, typer.Option(help="Continue from OUT/manifest.json.")] = False,
    fmt: Annotated[
        str,
        typer.Option(
            "--format",
            help="auto (mCIF for structures with moments, CIF without), mcif, cif, json, "
            "extxyz or poscar (a folder per entry).",
        ),
    ] = "auto",
) -> None:
    from altermag.errors import InputError
    from altermag.export import FORMATS, render
    from altermag.sources import SourceError, get_source

    if fmt != "auto" and fmt not in FORMATS:
        raise typer.BadParameter(
            f"choose auto or one of {', '.join(FORMATS)}", param_hint="--format"
        )

    console = Console(stderr=True)
    options: dict = {}
    if source in ("local", "magndata"):
        if path is None:
            raise typer.BadParameter("--path is needed for this source", param_hint="--path")
        options = {"path": path, "page_size": page_limit}
    elif source == "optimade":
        if url is None:
            raise typer.BadParameter("--url is needed for an OPTIMADE provider", param_hint="--url")
        options = {"base_url": url, "filter": filter, "page_limit": page_limit}
    elif source in ("materials_project", "mp"):
        options = {"mode": mp_mode, "filter": filter, "page_limit": page_limit}
        if url:
            options["base_url"] = url
    try:
        src = get_source(source, **options)
    except (SourceError, ValueError, OSError) as exc:
        console.print(f"[red]error[/red]: {exc}")
        raise typer.Exit(code=2) from None

    out.mkdir(parents=True, exist_ok=True)
    manifest_path = out / "manifest.json"
    manifest: dict[str, Any] = {
        "source": source,
        "options": {k: str(v) for k, v in options.items()},
        "entries": [],
        "errors": [],
        "skipped": {},
        "cursor": None,
        "complete": False,
    }
    if resume and manifest_path.exists():
        manifest = json.loads(manifest_path.read_text())
    seen = {e["id"] for e in manifest["entries"]} | {e["id"] for e in manifest["errors"]}
    count = len(seen)
    failed: str | None = None
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), console=console) as bar:
        task = bar.add_task(f"fetching from {source}", total=None)
        try:
            for page in src.pages(manifest["cursor"]):
                for rec in page.records:
                    if rec.id in seen or (limit is not None and count >= limit):
                        continue
                    seen.add(rec.id)
                    count += 1
                    if rec.structure is None:
                        manifest["errors"].append({"id": rec.id, "error": rec.error})
                        continue
                    try:
                        name = _write(out, _safe_name(rec.id), rec.structure, fmt, render)
                    except InputError as exc:
                        manifest["errors"].append({"id": rec.id, "error": f"{rec.id}: {exc}"})
                        continue
                    manifest["entries"].append(
                        {
                            "id": rec.id,
                            "file": name,
                            "formula": rec.structure.formula,
                            "metadata": rec.metadata,
                        }
                    )
                for reason, n in page.skipped.items():
                    manifest["skipped"][reason] = manifest["skipped"].get(reason, 0) + n
                manifest["cursor"] = page.next_cursor
                manifest["complete"] = page.next_cursor is None
                manifest_path.write_text(json.dumps(manifest, indent=1, default=str))
                bar.update(task, description=f"{count} records from {source}")
                if limit is not None and count >= limit:
                    break
        except SourceError as exc:
            failed = str(exc)
    manifest_path.write_text(json.dumps(manifest, indent=1, default=str))
    console.print(
        f"{len(manifest['entries'])} structures, {len(manifest['errors'])} errors, "
        f"{sum(manifest['skipped'].values())} skipped → {out}"
    )
    for e in manifest["errors"]:
        console.print(f"[yellow]error[/yellow] {e['error']}")
    if failed:
        console.print(f"[red]interrupted[/red]: {failed}\nresume with --resume")
        raise typer.Exit(code=1)
