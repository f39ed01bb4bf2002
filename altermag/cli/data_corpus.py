"""``altermag data corpus`` and ``altermag data build-corpus``: the screening corpus."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from altermag.cli.data import data_app
from altermag.cli.tables import Column, print_table


@data_app.command("corpus")
def corpus_command(
    count: Annotated[
        bool, typer.Option("--count", help="Print only the number of entries.")
    ] = False,
    limit: Annotated[int, typer.Option("--limit", min=0, help="Show at most this many.")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="JSON lines instead of a table.")] = False,
    path: Annotated[
        Path | None, typer.Option("--path", help="Another corpus file (default: the shipped one).")
    ] = None,
) -> None:
    """The screening corpus of hypothetical magnetic compounds (AFLOW prototypes + data-mined
    ionic substitution)."""
    from altermag.data.screening_corpus import CorpusEntry, corpus, corpus_size

    if count:
        typer.echo(corpus_size(path))
        return
    entries: list[CorpusEntry] = []
    for entry in corpus(path):
        if len(entries) >= limit:
            break
        entries.append(entry)
    if as_json:
        for e in entries:
            record = {
                "id": e.id,
                "formula": e.formula,
                "structure": e.structure.to_dict(),
                "oxidation_states": list(e.oxidation_states),
                "provenance": e.provenance,
            }
            typer.echo(json.dumps(record))
        return
    columns = [
        Column("id", priority=9, wrap=True),
        Column("formula", priority=10),
        Column("sites", priority=6, justify="right"),
        Column("prototype", priority=5, wrap=True),
        Column("substitution", priority=7, wrap=True),
        Column("probability", priority=8, justify="right"),
    ]
    rows = [
        [
            e.id,
            e.formula,
            str(len(e.structure)),
            f"{e.provenance['prototype_formula']} ({e.provenance['prototype']})",
            ", ".join(f"{k}→{v}" for k, v in e.provenance.get("substitution", {}).items()),
            f"{e.provenance['probability']:.3g}",
        ]
        for e in entries
    ]
    print_table(Console(), "altermag screening corpus", columns, rows)


@data_app.command("build-corpus")
def build_corpus_command(
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Where to write (default: $ALTERMAG_HOME/data/corpus.jsonl.gz; pass "
            "altermag/data/corpus/corpus.jsonl.gz in a checkout to replace the shipped file).",
        ),
    ] = None,
    limit: Annotated[
        int | None,
        typer.Option("--limit", min=1, help="Use only the first N prototypes (a quick slice)."),
    ] = None,
    processes: Annotated[
        int | None,
        typer.Option("--processes", min=1, help="Worker processes (default: all cores)."),
    ] = None,
) -> None:
    """Rebuild the screening corpus from pymatgen's AFLOW prototypes and substitution
    probabilities (deterministic: the same pymatgen gives the same bytes)."""
    from altermag.config import get_settings
    from altermag.data.corpus_build import CORPUS_FILE, build_corpus, write_corpus

    start = time.perf_counter()
    records = build_corpus(limit=limit, processes=processes)
    path = write_corpus(out or get_settings().data_dir / CORPUS_FILE.name, records)
    elapsed = time.perf_counter() - start
    typer.echo(
        f"{len(records)} entries written to {path} ({path.stat().st_size} bytes, {elapsed:.0f} s)"
    )
