"""The curated known magnets: the spin-group engine must give every literature label.

Each entry of ``altermag/data/known/`` is an experimental (or literature) structure with its
published collinear order; ``analyze`` has to return the label (altermagnet with its wave type
and, where the entry gives it, the spin Laue group; conventional antiferromagnet; ferromagnet;
ferrimagnet) without any hint from the data.
"""

from __future__ import annotations

import importlib.util
import json
import re
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest
import spglib
import yaml
from typer.testing import CliRunner

from altermag import analyze
from altermag.cli import app
from altermag.data import KnownMaterial, known_material, known_materials
from altermag.data.known import KNOWN_DIR, LABELS
from altermag.structure import MagneticStructure

MATERIALS = known_materials()
IDS = [m.id for m in MATERIALS]
ROOT = Path(__file__).resolve().parents[2]

ORIGINAL_POSITIVES = {
    "RuO2", "CuF2", "Mn5Si3", "CaCrO3", "MnF2", "beta-MnO2", "LaMnO3", "La2CuO4",
    "alpha-Fe2O3", "MnTe", "CrSb", "KRu4O8", "FeSb2",
}  # fmt: skip
DOI = re.compile(r"^10\.\d{4,9}/\S+$")


def test_set_size_and_balance() -> None:
    labels = [m.label for m in MATERIALS]
    assert len(MATERIALS) >= 40
    assert set(IDS) >= ORIGINAL_POSITIVES
    further = [m for m in MATERIALS if m.label == "altermagnet" and m.id not in ORIGINAL_POSITIVES]
    assert len(further) >= 10
    negatives = [lab for lab in labels if lab != "altermagnet"]
    assert len(negatives) >= 15
    assert {"antiferromagnet", "ferromagnet", "ferrimagnet"} <= set(negatives)
    assert set(labels) <= set(LABELS)
    assert len(set(IDS)) == len(IDS)


@pytest.mark.parametrize("material", MATERIALS, ids=IDS)
def test_analysis_gives_the_literature_label(material: KnownMaterial) -> None:
    result = analyze(material.structure)
    assert result.verdict == material.label, material.note
    if material.label == "altermagnet":
        assert result.wave == material.wave
        assert material.wave in {"d", "g", "i"}
        # the form factor's degree is the wave's: d = 2, g = 4, i = 6
        assert result.form_factor is not None
    else:
        assert material.wave is None
    if material.spin_laue_group is not None:
        assert result.spin_laue_group == material.spin_laue_group


# magnetite (56 sites) with 0.01 Å noise makes spglib 2.8 raise "too close distance between
# atoms" at symprec 0.1 Å: the engine then retries at a smaller symprec (with a warning).
NOISE_CASES = [pytest.param(m, id=m.id) for m in MATERIALS]


@pytest.mark.parametrize("material", NOISE_CASES)
def test_label_survives_experimental_noise(material: KnownMaterial) -> None:
    """0.01 Å position noise and ±0.03 μB moment noise leave the verdict unchanged."""
    s = material.structure
    rng = np.random.default_rng(zlib.crc32(material.id.encode()))
    cart_noise = rng.normal(scale=0.01 / np.sqrt(3), size=s.frac_coords.shape)
    frac = s.frac_coords + cart_noise @ np.linalg.inv(s.lattice)
    m = s.magmoms[:, 2]
    m = np.where(np.abs(m) > 0, m + rng.uniform(-0.03, 0.03, size=m.shape), 0.0)
    noisy = MagneticStructure(s.lattice, s.species, frac, m, label=s.label)
    result = analyze(noisy)
    assert result.verdict == material.label
    if material.wave is not None:
        assert result.wave == material.wave


@pytest.mark.parametrize(
    "material", [m for m in MATERIALS if m.label == "altermagnet"], ids=lambda m: m.id
)
def test_enumeration_finds_the_altermagnetic_wave(material: KnownMaterial) -> None:
    """With the moments removed, the k = 0 orders of the magnetic cell include the wave type."""
    result = analyze(material.structure.with_moments(None), cell="as_given")
    assert result.can_host_altermagnet
    assert material.wave in result.host_waves


@pytest.mark.parametrize("material", MATERIALS, ids=IDS)
def test_reference_and_published_space_group(material: KnownMaterial) -> None:
    assert DOI.match(material.reference["doi"]), material.reference
    assert material.reference["citation"]
    assert material.structure_reference
    s = material.structure
    numbers = [sorted(set(s.species)).index(el) for el in s.species]
    ds = spglib.get_symmetry_dataset((s.lattice, s.frac_coords, numbers), symprec=1e-3)
    assert ds.number == material.space_group_number


@pytest.mark.parametrize("material", MATERIALS, ids=IDS)
def test_moments_match_the_label(material: KnownMaterial) -> None:
    """Compensated orders sum to zero; ferromagnets are all parallel; ferrimagnets are not."""
    m = material.structure.magmoms[:, 2]
    assert np.allclose(material.structure.magmoms[:, :2], 0.0)  # collinear along z
    assert np.any(m != 0)
    if material.label in {"altermagnet", "antiferromagnet"}:
        assert abs(m.sum()) < 1e-6
    elif material.label == "ferromagnet":
        assert np.all(m[m != 0] > 0)
    else:
        assert abs(m.sum()) > 0.1 and np.any(m < 0) and np.any(m > 0)


@pytest.mark.slow
def test_yaml_files_are_what_the_generator_writes() -> None:
    """Every committed YAML file is reproduced exactly by scripts/make_known_materials.py.

    Slow (~20 s): pymatgen expands the cubic space groups (Fm-3m, Fd-3m) slowly.
    """
    path = ROOT / "scripts" / "make_known_materials.py"
    spec = importlib.util.spec_from_file_location("make_known_materials", path)
    assert spec is not None and spec.loader is not None
    gen = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = gen  # dataclasses look their module up while the file runs
    spec.loader.exec_module(gen)
    written = {s.id: gen.record(s) for s in gen.specs()}
    on_disk = {
        p.stem: yaml.safe_load(p.read_text(encoding="utf-8")) for p in KNOWN_DIR.glob("*.yaml")
    }
    assert written.keys() == on_disk.keys()
    for mid, rec in written.items():
        assert rec == on_disk[mid], mid


def test_known_material_lookup() -> None:
    mnf2 = known_material("mnf2")
    assert mnf2.id == "MnF2" and mnf2.formula == "MnF2" and len(mnf2.structure) == 6
    with pytest.raises(KeyError, match="no known material"):
        known_material("unobtainium")


def test_cli_known_json_and_table() -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["data", "known", "--json"])
    assert result.exit_code == 0, result.output
    entries = json.loads(result.output)
    assert [e["id"] for e in entries] == IDS
    for e in entries:
        assert {"id", "formula", "label", "wave", "reference"} <= e.keys()
        assert DOI.match(e["reference"]["doi"])
    only = json.loads(
        runner.invoke(app, ["data", "known", "--json", "--label", "ferrimagnet"]).output
    )
    assert {e["label"] for e in only} == {"ferrimagnet"}
    table = runner.invoke(app, ["data", "known"], env={"COLUMNS": "200"})
    assert table.exit_code == 0 and "alpha-Fe2O3" in table.output and "²4/¹m²m¹m" in table.output
    bad = runner.invoke(app, ["data", "known", "--label", "paramagnet"])
    assert bad.exit_code != 0
