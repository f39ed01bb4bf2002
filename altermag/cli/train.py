"""``altermag train prior`` and ``altermag model info``: the ground-state prior's training and
its model card."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from altermag.cli import app

train_app = typer.Typer(help="Retrain the ground-state prior from MAGNDATA.")
model_app = typer.Typer(help="The shipped ground-state prior.")
app.add_typer(train_app, name="train")
app.add_typer(model_app, name="model")


def _echo(message: str) -> None:
    typer.echo(message, err=True)


@model_app.command("info")
def info_cmd(
    checkpoint: Annotated[
        Path | None,
        typer.Option(help="Prior checkpoint (default: the shipped ground-state-prior.json)."),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the whole model card (ids included) as JSON.")
    ] = False,
) -> None:
    """Show the prior's model card: version, data (how many MAGNDATA entries trained which
    model), grouped cross-validated metrics against the baselines."""
    from altermag.ml.prior import DEFAULT_PRIOR

    path = checkpoint or DEFAULT_PRIOR
    if not path.is_file():
        typer.echo(f"no prior checkpoint at {path}", err=True)
        raise typer.Exit(1)
    card = json.loads(path.read_text())
    if as_json:
        card.pop("weights", None)
        typer.echo(json.dumps(card, indent=2, sort_keys=True))
        return
    table = Table(title=f"{card.get('name', 'model')} ({card.get('version', '?')})")
    table.add_column("field")
    table.add_column("value")
    for key in ("task", "train_seconds"):
        table.add_row(key, str(card.get(key)))
    for key, value in card.get("data", {}).items():
        shown = f"{len(value)} ids" if isinstance(value, list) else str(value)
        table.add_row(f"data.{key}", shown)
    for key, value in card.get("metrics", {}).items():
        spread = f" ± {value['fold_std']:.3f} (folds)" if "fold_std" in value else ""
        table.add_row(f"metrics.{key}", f"{value['mean']:.3f}{spread}")
    Console().print(table)


@train_app.command("prior")
def prior_cmd(
    magndata: Annotated[
        Path | None,
        typer.Option(help="Folder of MAGNDATA mCIF files (default: Settings.magndata_dir)."),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            help="Checkpoint to write (default: $ALTERMAG_HOME/data/ground-state-prior.json; "
            "pass altermag/ml/checkpoints/ground-state-prior.json in a checkout to replace "
            "the shipped prior)."
        ),
    ] = None,
    labels: Annotated[
        Path | None, typer.Option(help="Also write the derived labels (gzip JSON) here.")
    ] = None,
    seeds: Annotated[int, typer.Option(help="Repeats of the grouped 5-fold evaluation.")] = 5,
    limit: Annotated[int | None, typer.Option(help="Use only the first N files.")] = None,
) -> None:
    """Retrain the ground-state prior on MAGNDATA (~15 min on 2 cores, mostly enumeration):
    grouped cross-validation against the baselines, then a fit on every entry."""
    from altermag.config import get_settings
    from altermag.ml.magndata import build_entries, save_labels
    from altermag.ml.train_prior import cross_validate, train_prior

    folder = magndata or get_settings().magndata_dir
    if not folder.is_dir():
        typer.echo(f"error: {folder} is not a folder of MAGNDATA mCIF files", err=True)
        raise typer.Exit(2)
    entries, skipped = build_entries(folder, limit=limit, log=_echo)
    metrics, _ = cross_validate(entries, seeds=tuple(range(seeds)), log=_echo)
    path = out or get_settings().data_dir / "ground-state-prior.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    card = train_prior(entries, path, metrics=metrics, extra={"skipped_files": skipped})
    if labels is not None:
        save_labels(entries, labels)
    m = metrics
    typer.echo(
        f"{path} ({card['version']}): top-1 {m['top1_model']['mean']:.3f} "
        f"(neighbour heuristic {m['top1_heuristic']['mean']:.3f}), "
        f"ROC-AUC P(k=0) {m['roc_auc_k0_model']['mean']:.3f}, "
        f"P(AM ground state) {m['roc_auc_am_model']['mean']:.3f}"
    )
