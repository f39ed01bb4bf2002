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


@app.command(
    help="Fetch structures from a source (local, magndata, optimade, materials_project) into "
    "OUT as altermag JSON files plus manifest.json. An interrupted fetch resumes from the "
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
) -> None:
    from altermag.sources import SourceError, get_source

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
                    name = _safe_name(rec.id) + ".json"
                    payload = {**rec.structure.to_dict(), "id": rec.id, "metadata": rec.metadata}
                    (out / name).write_text(json.dumps(payload, indent=1, default=str))
                    manifest["entries"].append(
                        {"id": rec.id, "file": name, "formula": rec.structure.formula}
                    )
                for reason, n in page.skipped.items():
                    manifest["skipped"][reason] = manifest["skipped"].get(reason, 0) + n
                manifest["cursor"] = page.next_cursor
                manifest["complete"] = page.next_cursor is None
                manifest_path.write_text(json.dumps(manifest, indent=1))
                bar.update(task, description=f"{count} records from {source}")
                if limit is not None and count >= limit:
                    break
        except SourceError as exc:
            failed = str(exc)
    manifest_path.write_text(json.dumps(manifest, indent=1))
    console.print(
        f"{len(manifest['entries'])} structures, {len(manifest['errors'])} errors, "
        f"{sum(manifest['skipped'].values())} skipped → {out}"
    )
    for e in manifest["errors"]:
        console.print(f"[yellow]error[/yellow] {e['error']}")
    if failed:
        console.print(f"[red]interrupted[/red]: {failed}\nresume with --resume")
        raise typer.Exit(code=1)
