"""``altermag train``, ``altermag model info`` and ``altermag score``: the learned ranking prior."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from altermag.cli import app

train_app = typer.Typer(help="Train the crystal GNN (pre-training and fine-tuning).")
model_app = typer.Typer(help="The shipped crystal GNN checkpoint.")
app.add_typer(train_app, name="train")
app.add_typer(model_app, name="model")

_CHECKPOINT_HELP = "Checkpoint (.pt); default: the shipped altermag/ml/checkpoints/altermag-gnn.pt."


def _echo(message: str) -> None:
    typer.echo(message, err=True)


@train_app.command("labels")
def labels_cmd(
    out: Annotated[
        Path | None,
        typer.Option(
            help="Where to write (default: $ALTERMAG_HOME/data/corpus_labels.json.gz; pass "
            "altermag/ml/checkpoints/corpus_labels.json.gz in a checkout to replace the "
            "shipped labels)."
        ),
    ] = None,
) -> None:
    """Recompute the symmetry-derived labels of the shipped corpus (~3 min)."""
    from altermag.config import get_settings
    from altermag.ml.dataset import LABELS_PATH, compute_corpus_labels

    path = out or get_settings().data_dir / LABELS_PATH.name
    path.parent.mkdir(parents=True, exist_ok=True)
    labels = compute_corpus_labels(path=path)
    n_pos = sum(1 for v in labels.values() if v == 1)
    n_neg = sum(1 for v in labels.values() if v == 0)
    typer.echo(f"{len(labels)} corpus entries: {n_pos} can host, {n_neg} cannot -> {path}")


@train_app.command("pretrain")
def pretrain_cmd(
    out: Annotated[Path, typer.Option(help="Where to write the encoder weights.")] = Path(
        "encoder.pt"
    ),
    epochs: Annotated[int, typer.Option(help="Auto-encoder epochs.")] = 8,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    limit: Annotated[int | None, typer.Option(help="Use only the first N crystals.")] = None,
    threads: Annotated[int, typer.Option(help="torch CPU threads.")] = 1,
) -> None:
    """Pre-train the encoder without labels (NWR-GAE: features + OT-matched neighbour sets)."""
    import torch

    from altermag.ml.dataset import labeled_set
    from altermag.ml.graphs import GraphConfig
    from altermag.ml.model import ModelConfig
    from altermag.ml.pretrain import PretrainConfig, pretrain

    torch.set_num_threads(threads)
    graph_config = GraphConfig()
    model_config = ModelConfig(edge_dim=graph_config.n_gaussians)
    data = labeled_set(graph_config, limit=limit)
    encoder, history = pretrain(
        data.graphs, model_config, PretrainConfig(epochs=epochs, seed=seed), graph_config, _echo
    )
    torch.save({"model_config": model_config.to_dict(), "state_dict": encoder.state_dict()}, out)
    typer.echo(f"encoder ({len(data)} crystals, final loss {history[-1]['loss']:.4f}) -> {out}")


@train_app.command("finetune")
def finetune_cmd(
    out: Annotated[Path, typer.Option(help="Checkpoint to write (model card next to it).")] = Path(
        "altermag-gnn.pt"
    ),
    encoder: Annotated[
        Path | None, typer.Option(help="Pre-trained encoder from `train pretrain`.")
    ] = None,
    pretrain_epochs: Annotated[
        int, typer.Option(help="Pre-train first with this many epochs (0 = no pre-training).")
    ] = 8,
    epochs: Annotated[int, typer.Option(help="Fine-tuning epochs.")] = 25,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    limit: Annotated[int | None, typer.Option(help="Use only the first N crystals.")] = None,
    threads: Annotated[int, typer.Option(help="torch CPU threads.")] = 1,
) -> None:
    """Fine-tune the classifier on labeled crystals; write checkpoint + model card."""
    import torch

    from altermag.ml.model import CrystalEncoder, ModelConfig
    from altermag.ml.pipeline import Recipe, train_model

    torch.set_num_threads(threads)
    enc = None
    if encoder is not None:
        payload = torch.load(encoder, weights_only=True)
        enc = CrystalEncoder(ModelConfig.from_dict(payload["model_config"]))
        enc.load_state_dict(payload["state_dict"])
    recipe = Recipe(
        seed=seed,
        pretrain_epochs=pretrain_epochs,
        finetune_epochs=epochs,
        use_pretraining=enc is not None or pretrain_epochs > 0,
        limit=limit,
    )
    card = train_model(recipe, out, encoder=enc, log=_echo)
    m = card["metrics"]
    typer.echo(
        f"{out}: test ROC-AUC {m['test_roc_auc_raw']:.3f} (adapted "
        f"{m['test_roc_auc_adapted']:.3f}), PR-AUC {m['test_pr_auc_raw']:.3f}"
    )


@model_app.command("info")
def info_cmd(
    checkpoint: Annotated[Path | None, typer.Option(help=_CHECKPOINT_HELP)] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the model card as JSON.")] = False,
) -> None:
    """Show the model card of a checkpoint (data, settings, metrics, version hash)."""
    from altermag.ml.checkpoint import DEFAULT_CHECKPOINT, card_path

    path = card_path(checkpoint or DEFAULT_CHECKPOINT)
    if not path.exists():
        typer.echo(f"no model card at {path}", err=True)
        raise typer.Exit(1)
    card = json.loads(path.read_text())
    if as_json:
        card.pop("test_ids", None)
        card.pop("history", None)
        typer.echo(json.dumps(card, indent=2, sort_keys=True))
        return
    table = Table(title=f"{card.get('name', 'model')} ({card.get('version_hash', '?')})")
    table.add_column("field")
    table.add_column("value")
    for key in ("task", "checkpoint", "size_bytes", "train_seconds"):
        table.add_row(key, str(card.get(key)))
    for key, value in card.get("data", {}).items():
        table.add_row(f"data.{key}", str(value))
    for key, value in card.get("metrics", {}).items():
        table.add_row(f"metrics.{key}", f"{value:.4f}" if isinstance(value, float) else str(value))
    table.add_row("model", json.dumps(card.get("model_config")))
    Console().print(table)


@app.command("score")
def score_cmd(
    paths: Annotated[list[Path], typer.Argument(help="Structure files (moments not needed).")],
    checkpoint: Annotated[Path | None, typer.Option(help=_CHECKPOINT_HELP)] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON output.")] = False,
) -> None:
    """Raw and OT-adapted GNN probability that each crystal hosts an altermagnet (a prior)."""
    from altermag.io import StructureReadError, read_structure
    from altermag.ml.checkpoint import load_scorer

    scorer = load_scorer(checkpoint)
    records: list[dict[str, Any]] = []
    structures = []
    for path in paths:
        try:
            structure = read_structure(path)
        except StructureReadError as exc:
            records.append({"source": str(path), "error": str(exc)})
            continue
        records.append({"source": str(path), "formula": structure.formula})
        structures.append(structure)
    scores = iter(scorer.score(structures))
    for record in records:
        if "error" not in record:
            s = next(scores)
            record["probability_raw"] = s.raw
            record["probability_adapted"] = s.adapted
    if as_json:
        typer.echo(json.dumps(records, indent=2))
    else:
        table = Table(title=f"GNN prior ({scorer.card.get('version_hash', 'model')})")
        for col in ("source", "formula", "raw", "adapted"):
            table.add_column(col)
        for r in records:
            if "error" in r:
                table.add_row(r["source"], f"[red]{r['error']}[/red]", "", "")
            else:
                raw, ad = r["probability_raw"], r["probability_adapted"]
                table.add_row(r["source"], r["formula"], f"{raw:.3f}", f"{ad:.3f}")
        Console().print(table)
    if any("error" in r for r in records):
        raise typer.Exit(1)


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
