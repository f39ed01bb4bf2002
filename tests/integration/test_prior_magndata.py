"""The prior's labels and evaluation recomputed from MAGNDATA files (slow; needs the folder)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from altermag.config import get_settings
from altermag.ml.magndata import LABELS_PATH, build_entries, entry_labels
from altermag.ml.train_prior import cross_validate, grouped_folds
from tests.requirements import requires

pytestmark = [pytest.mark.slow, requires("magndata")]


def test_labels_recomputed_from_the_files_equal_the_shipped_ones() -> None:
    entries, _ = build_entries(get_settings().magndata_dir, limit=80)
    shipped = json.loads(gzip.decompress(LABELS_PATH.read_bytes()))
    assert len(entries) > 40
    for e in entries:
        assert entry_labels(e) == shipped[e.id], e.id
    # an experimental k = 0 collinear order found among the enumerated ones is one of them
    found = [e for e in entries if e.ground_state is not None]
    assert found and all(e.k0 and e.collinear for e in found)
    assert all(0 <= int(e.ground_state or 0) < len(e.order_verdicts) for e in found)


def test_grouped_evaluation_runs_and_keeps_compounds_together() -> None:
    entries, _ = build_entries(get_settings().magndata_dir, limit=150)
    groups = [e.group for e in entries]
    fold = grouped_folds(groups, 3, seed=0)
    for g in set(groups):
        assert len({int(f) for f, h in zip(fold, groups, strict=True) if h == g}) == 1
    summary, pooled = cross_validate(entries, n_folds=3, seeds=(0,))
    for k in (1, 3):
        assert 0.0 <= summary[f"top{k}_uniform"]["mean"] <= 1.0
    assert summary["top1_uniform"]["mean"] <= summary["top3_uniform"]["mean"]
    assert summary["top1_model"]["mean"] <= summary["top3_model"]["mean"]
    assert len(pooled["p_k0"]) == len(entries)


def _snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    """(size, mtime) of every file under ``folder`` but bytecode caches."""
    return {
        str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in folder.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }


def test_train_prior_writes_under_altermag_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``altermag train prior`` on a few MAGNDATA files, run from an empty folder: the
    checkpoint (a model card naming exactly the entries that trained it) lands in
    ``$ALTERMAG_HOME/data``; nothing is written into the working folder, the package or the
    checkout (the shipped prior is unchanged)."""
    from typer.testing import CliRunner

    import altermag
    from altermag.cli import app as cli
    from altermag.ml.prior import DEFAULT_PRIOR

    folder = get_settings().magndata_dir.resolve()
    checkout = Path(__file__).resolve().parents[2]
    package = Path(altermag.__file__).resolve().parent
    home, cwd = tmp_path / "home", tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    shipped = DEFAULT_PRIOR.read_bytes()
    before = _snapshot(package), sorted(p.name for p in checkout.iterdir())
    result = CliRunner().invoke(
        cli,
        ["train", "prior", "--magndata", str(folder), "--limit", "60", "--seeds", "1"],
        env={"ALTERMAG_HOME": str(home)},
    )
    assert result.exit_code == 0, result.output
    checkpoint = home / "data" / "ground-state-prior.json"
    card = json.loads(checkpoint.read_text())
    entries, _ = build_entries(folder, limit=60)
    assert entries and sorted(card["data"]["trained_k0_ids"]) == sorted(e.id for e in entries)
    assert str(checkpoint) in result.output
    assert not list(cwd.iterdir()), "something was written into the working folder"
    assert (_snapshot(package), sorted(p.name for p in checkout.iterdir())) == before
    assert DEFAULT_PRIOR.read_bytes() == shipped
