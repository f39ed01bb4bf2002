"""The ground-state prior's model card is held to its checkpoint, its labels, its evaluation
and to docs/model.md: the card lists exactly the MAGNDATA entries that trained it, and every
figure the model page prints is the card's (or the shift benchmark's) number."""

from __future__ import annotations

import gzip
import hashlib
import json
import re
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from altermag.cli import app
from altermag.ml.magndata import LABELS_PATH
from altermag.ml.prior import CRYSTAL_FEATURES, DEFAULT_PRIOR, ORDER_FEATURES, GroundStatePrior

ROOT = Path(__file__).resolve().parents[2]
MODEL_DOC = ROOT / "docs" / "model.md"
EVALUATION = ROOT / "benchmarks" / "eval_prior.json"
SHIFT = ROOT / "benchmarks" / "eval_prior_shift.json"


def _card() -> dict[str, Any]:
    return json.loads(DEFAULT_PRIOR.read_text())


def _labels() -> dict[str, dict[str, Any]]:
    return json.loads(gzip.decompress(LABELS_PATH.read_bytes()))


def _doc() -> str:
    return MODEL_DOC.read_text()


def _numbers(text: str) -> list[str]:
    """The three-decimal figures of a text, signs and bold markers dropped."""
    return re.findall(r"\d+\.\d{3}", text)


def _row(doc: str, label: str, occurrence: int = 0) -> str:
    """The Markdown table row of docs/model.md whose first cell starts with ``label``."""
    rows = [line for line in doc.splitlines() if line.startswith(f"| {label}")]
    assert len(rows) > occurrence, f"no table row {label!r} in docs/model.md"
    return rows[occurrence]


def test_checkpoint_version_and_features_are_the_code_and_the_weights() -> None:
    card = _card()
    # the version is the hash of the weights the checkpoint holds
    digest = hashlib.sha256(json.dumps(card["weights"], sort_keys=True).encode()).hexdigest()
    assert card["version"] == f"prior-{digest[:12]}"
    assert tuple(card["crystal_features"]) == CRYSTAL_FEATURES
    assert tuple(card["order_features"]) == ORDER_FEATURES
    assert len(card["weights"]["order"]) == len(ORDER_FEATURES)
    assert len(card["weights"]["k0"]) == len(CRYSTAL_FEATURES)
    assert GroundStatePrior.load().version == card["version"]


def test_card_lists_exactly_the_entries_that_trained_it() -> None:
    card, labels = _card(), _labels()
    data = card["data"]
    # P(k = 0) trained on every labelled entry; the ranker on the k = 0 collinear crystals
    # whose experimental order is one of the enumerated orders
    assert len(data["trained_k0_ids"]) == len(set(data["trained_k0_ids"])) == data["n_k0_model"]
    assert set(data["trained_k0_ids"]) == set(labels)
    assert sum(lab["k0"] for lab in labels.values()) == data["n_k0_positive"]
    ranker = set(data["trained_ranker_ids"])
    assert len(ranker) == len(data["trained_ranker_ids"]) == data["n_ranker"]
    assert ranker == {i for i, lab in labels.items() if lab["ground_state_found"]}
    assert all(labels[i]["k0"] and labels[i]["collinear"] for i in ranker)
    filtered = {i for i in ranker if labels[i]["ground_state_needs_moment_filter"]}
    assert len(filtered) == data["n_ranker_moment_filtered"]
    # every id is a MAGNDATA id (no file stem, no revised_ prefix)
    assert all(re.fullmatch(r"\d+\.\d+(\.\d+)?", i) for i in labels)
    # P(enumerated | k = 0) is the training fraction of k = 0 crystals whose ground state is
    # one of the enumerated orders
    p_enumerated = card["weights"]["p_enumerated_given_k0"]
    assert p_enumerated == pytest.approx(data["n_ranker"] / data["n_k0_positive"], abs=1e-6)


def test_card_is_the_evaluation_the_benchmark_wrote() -> None:
    card, labels, evaluation = _card(), _labels(), json.loads(EVALUATION.read_text())
    assert evaluation["metrics"] == card["metrics"]
    assert evaluation["skipped_files"] == card["skipped_files"]
    assert evaluation["n_entries"] == card["data"]["n_k0_model"]
    assert evaluation["n_k0"] == card["data"]["n_k0_positive"]
    assert evaluation["n_ranked"] == card["data"]["n_ranker"]
    assert evaluation["n_ranked_moment_filtered"] == card["data"]["n_ranker_moment_filtered"]
    am = sum(lab["altermagnetic_ground_state"] for lab in labels.values())
    assert evaluation["n_altermagnetic_ground_state"] == am
    assert evaluation["n_groups"] == len({lab["group"] for lab in labels.values()})


# docs/model.md table row → the card's metrics it prints, in column order
ORDER_ROWS = {
    "uniform over the orders": "uniform",
    "most antiparallel nearest magnetic neighbours": "heuristic",
    "superexchange angle": "superexchange",
    "**prior**": "model",
}
CRYSTAL_ROWS = {
    "P(AM ground state), prior": "model",
    "P(AM ground state), base rate × uniform orders": "uniform",
    "P(AM ground state), base rate × neighbour heuristic": "heuristic",
    "P(AM ground state), base rate × superexchange angle": "superexchange",
}


def _f(x: float) -> str:
    return f"{abs(x):.3f}"


def test_docs_tables_print_the_cards_figures() -> None:
    m, doc = _card()["metrics"], _doc()
    for label, name in ORDER_ROWS.items():
        top1, top3 = m[f"top1_{name}"], m[f"top3_{name}"]
        expected = [_f(top1["mean"]), _f(top1["fold_std"]), _f(top3["mean"]), _f(top3["fold_std"])]
        assert _numbers(_row(doc, label)) == expected, label
    top1, top3 = m["top1_model_minus_best_baseline"], m["top3_model_minus_best_baseline"]
    diff = [_f(top1["mean"]), _f(top1["fold_std"]), _f(top3["mean"]), _f(top3["fold_std"])]
    assert _numbers(_row(doc, "prior − best baseline", 0)) == diff
    k0 = m["roc_auc_k0_model"]
    assert _numbers(_row(doc, "P(k = 0), prior")) == [
        _f(k0["mean"]),
        _f(k0["fold_std"]),
        _f(m["brier_k0_model"]["mean"]),
        _f(m["brier_k0_base_rate"]["mean"]),
    ]
    for label, name in CRYSTAL_ROWS.items():
        auc = m[f"roc_auc_am_{name}"]
        brier = m[f"brier_am_{name}"]
        expected = [_f(auc["mean"]), _f(auc["fold_std"]), _f(brier["mean"])]
        assert _numbers(_row(doc, label)) == expected, label
    am = m["roc_auc_am_model_minus_best_baseline"]
    assert _numbers(_row(doc, "prior − best baseline", 1)) == [_f(am["mean"]), _f(am["fold_std"])]
    # the figures on the crystals whose order the default enumeration finds
    flat = " ".join(doc.split())

    def default(name: str) -> tuple[float, float]:
        return (m[f"top1_{name}_default_sites"]["mean"], m[f"top3_{name}_default_sites"]["mean"])

    assert "prior top-1 {:.3f} / top-3 {:.3f};".format(*default("model")) in flat
    assert "heuristic {:.3f} / {:.3f};".format(*default("heuristic")) in flat
    assert "uniform {:.3f} / {:.3f}.".format(*default("uniform")) in flat


def test_docs_say_plainly_how_far_the_prior_beats_the_best_baseline() -> None:
    """The margins the page states, in units of their fold spread, are the card's: top-1
    barely above one spread; top-3 and P(AM ground state) between one and two spreads."""
    m, doc = _card()["metrics"], _doc()
    plainly = " ".join(doc[doc.index("**Plainly:**") :].split("\n\n")[0].split())
    for key in ("top1", "top3", "roc_auc_am"):
        diff = m[f"{key}_model_minus_best_baseline"]
        stated = f"+{diff['mean']:.3f} ± {diff['fold_std']:.3f}"
        assert stated in plainly, key
        assert 1.0 < diff["mean"] / diff["fold_std"] < 2.0, key  # what the words claim
    assert "barely more than one spread" in plainly and "less than two spreads" in plainly


def test_docs_describe_the_shipped_files_and_data() -> None:
    card, labels, doc = _card(), _labels(), " ".join(_doc().split())
    assert card["version"] in doc
    assert f"({round(DEFAULT_PRIOR.stat().st_size / 1000)} kB:" in doc
    assert f"({round(LABELS_PATH.stat().st_size / 1000)} kB," in doc
    data, skipped = card["data"], card["skipped_files"]
    assert f"{data['n_k0_model']:,} entries are usable" in doc
    assert f"({skipped['unreadable']} files do not read" in doc
    assert f"{skipped['partial occupancy']} have partially occupied sites" in doc
    assert f"{skipped['too many sites']} have more than" in doc
    assert f"| {data['n_k0_positive']} of {data['n_k0_model']:,} |" in doc
    assert f"| {data['n_ranker']} crystals |" in doc
    am = sum(lab["altermagnetic_ground_state"] for lab in labels.values())
    assert f"an altermagnet | {am} |" in doc
    assert f"in {data['n_ranker_moment_filtered']} of the {data['n_ranker']} crystals" in doc
    default_sites = data["n_ranker"] - data["n_ranker_moment_filtered"]
    assert f"given on the {default_sites} whose order" in doc
    assert f"{len({lab['group'] for lab in labels.values()}):,} groups" in doc
    p_enumerated = card["weights"]["p_enumerated_given_k0"]
    assert f"P(enumerated | k = 0) = {p_enumerated:.3f}" in doc


def test_docs_print_the_measured_shift() -> None:
    """The OT section's figures are the shift benchmark's (experimental → screening source)."""
    shift, doc = json.loads(SHIFT.read_text()), " ".join(_doc().split())
    assert f"**ROC-AUC {shift['domain_classifier_roc_auc']:.2f}**" in doc
    assert f"separates {shift['n_corpus']} corpus crystals" in doc
    assert f"from the {shift['n_magndata']:,} MAGNDATA entries" in doc
    assert (
        f"({shift['mean_p_k0_corpus']:.2f} corpus, {shift['mean_p_k0_magndata']:.2f} MAGNDATA)"
        in doc
    )


def test_docs_name_only_files_that_ship() -> None:
    doc = _doc()
    named = set(re.findall(r"`((?:altermag|benchmarks)/[\w./-]+\.\w+)`", doc))
    assert named, "docs/model.md names no file"
    assert not [p for p in named if not (ROOT / p).is_file()]
    for path in ("altermag/ml/checkpoints/ground-state-prior.json", "altermag/ml/prior.py"):
        assert path in named


def test_model_info_prints_the_card_with_its_training_ids() -> None:
    result = CliRunner().invoke(app, ["model", "info", "--json"])
    assert result.exit_code == 0, result.output
    shown, card = json.loads(result.output), _card()
    assert "weights" not in shown
    assert shown["version"] == card["version"]
    assert shown["data"]["trained_k0_ids"] == card["data"]["trained_k0_ids"]
    assert shown["data"]["trained_ranker_ids"] == card["data"]["trained_ranker_ids"]
