"""The screening corpus: size, chemistry and geometry of every entry, and reproducibility."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from altermag.cli import app
from altermag.data import CorpusEntry, corpus, corpus_size
from altermag.data.corpus_build import (
    CORPUS_FILE,
    encode_entries,
    load_prototypes,
    read_records,
)
from altermag.elements import MAGNETIC_ELEMENTS

# The first prototypes in build order; the slice holds several ionic prototypes.
SLICE = 6


@pytest.fixture(scope="module")
def entries() -> list[CorpusEntry]:
    return list(corpus())


def _min_distance(entry: CorpusEntry) -> float:
    """Smallest distance between two atoms, periodic images included."""
    from pymatgen.core import Lattice, Structure

    s = entry.structure
    pmg = Structure(Lattice(s.lattice), list(s.species), s.frac_coords)
    if len(pmg) == 1:
        return float(min(pmg.lattice.abc))
    neighbours = pmg.get_neighbor_list(1.5)
    return float(neighbours[3].min()) if len(neighbours[3]) else 1.5


def test_size_and_distinct_ids(entries: list[CorpusEntry]) -> None:
    assert len(entries) >= 5000
    assert corpus_size() == len(entries)
    assert len({e.id for e in entries}) == len(entries)


def test_every_entry_has_a_magnetic_element(entries: list[CorpusEntry]) -> None:
    for e in entries:
        assert set(e.structure.species) & MAGNETIC_ELEMENTS, e.id


def test_charge_balanced_by_stored_oxidation_states(entries: list[CorpusEntry]) -> None:
    for e in entries:
        assert len(e.oxidation_states) == len(e.structure)
        assert abs(sum(e.oxidation_states)) < 1e-6, e.id
        # cations and anions both present: an ionic compound, not all-zero states
        assert min(e.oxidation_states) < 0 < max(e.oxidation_states), e.id


def test_no_overlapping_atoms(entries: list[CorpusEntry]) -> None:
    too_close = [(e.id, d) for e in entries if (d := _min_distance(e)) <= 1.0]
    assert not too_close, too_close[:10]


def test_small_cells_without_moments(entries: list[CorpusEntry]) -> None:
    sizes = np.array([len(e.structure) for e in entries])
    assert sizes.max() <= 40
    assert np.mean(sizes <= 20) > 0.5
    assert all(e.structure.magmoms is None for e in entries)


def test_provenance(entries: list[CorpusEntry]) -> None:
    prototypes = {(p.aflow, p.formula) for p in load_prototypes()}
    for e in entries:
        prov = e.provenance
        assert (prov["prototype"], prov["prototype_formula"]) in prototypes, e.id
        assert 0 < prov["probability"] <= 1
        assert prov["substitution"], e.id  # a new compound, never the parent itself
        # the substitution maps parent species (with charges) onto the entry's species
        new_elements = {_element(v) for v in prov["substitution"].values()}
        assert new_elements <= set(e.structure.species), e.id


def _element(species: str) -> str:
    return species.rstrip("+-0123456789.")


def test_deduplicated_within_formula(entries: list[CorpusEntry]) -> None:
    """No two entries of one formula from one prototype are the same crystal."""
    from pymatgen.core import Lattice, Structure
    from pymatgen.core.structure_matcher import StructureMatcher

    groups: dict[tuple[str, str], list[CorpusEntry]] = {}
    for e in entries:
        groups.setdefault((e.formula, e.provenance["prototype"]), []).append(e)
    matcher = StructureMatcher()
    checked = 0
    for group in groups.values():
        if len(group) < 2:
            continue
        structs = [
            Structure(
                Lattice(g.structure.lattice), list(g.structure.species), g.structure.frac_coords
            )
            for g in group
        ]
        for i in range(len(structs)):
            for j in range(i):
                assert not matcher.fit(structs[i], structs[j]), (group[i].id, group[j].id)
                checked += 1
    assert checked > 0


def test_rutile_substitutions_are_physical(entries: list[CorpusEntry]) -> None:
    """MnO2 and RuO2 come from rutile TiO2 with lattice constants near the measured ones
    (MnO2 a = 4.40, c = 2.87 Å; RuO2 a = 4.49, c = 3.11 Å)."""
    by_id = {e.id: e for e in entries}
    for ident, a_exp, c_exp in (
        ("MnO2_A2B_tP6_136_f_a", 4.40, 2.87),
        ("RuO2_A2B_tP6_136_f_a", 4.49, 3.11),
    ):
        lengths = sorted(np.linalg.norm(by_id[ident].structure.lattice, axis=1))
        c, a = lengths[0], lengths[2]
        assert abs(a - a_exp) / a_exp < 0.05
        assert abs(c - c_exp) / c_exp < 0.06


def test_cli_count_and_json() -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["data", "corpus", "--count"])
    assert result.exit_code == 0, result.output
    assert int(result.stdout.strip()) == corpus_size()
    result = runner.invoke(app, ["data", "corpus", "--json", "--limit", "3"])
    assert result.exit_code == 0, result.output
    lines = [json.loads(x) for x in result.stdout.splitlines()]
    assert len(lines) == 3 and all(
        set(r["structure"]["species"]) & MAGNETIC_ELEMENTS for r in lines
    )


def test_slice_rebuild_equals_shipped_entries(tmp_path: Path) -> None:
    """`altermag data build-corpus --limit K` rebuilds exactly the shipped entries that come
    from the first K prototypes, byte for byte, and they open the shipped file."""
    out = tmp_path / "slice.jsonl.gz"
    result = CliRunner().invoke(
        app, ["data", "build-corpus", "--out", str(out), "--limit", str(SLICE), "--processes", "1"]
    )
    assert result.exit_code == 0, result.output
    rebuilt = list(read_records(out))
    assert rebuilt, "the slice must hold ionic prototypes"
    keys = {(p.aflow, p.formula) for p in load_prototypes()[:SLICE]}
    shipped = [
        r
        for r in read_records(CORPUS_FILE)
        if (r["provenance"]["prototype"], r["provenance"]["prototype_formula"]) in keys
    ]
    assert out.read_bytes() == encode_entries(shipped)
    with gzip.open(CORPUS_FILE, "rt", encoding="utf-8") as fh:
        head = [json.loads(next(fh)) for _ in range(len(rebuilt))]
    assert head == rebuilt


def test_rutile_mno2_entry_hosts_a_d_wave_altermagnet(entries: list[CorpusEntry]) -> None:
    """The spin-group engine reads corpus entries: rutile MnO2 (like RuO2, MnF2) can host a
    d-wave altermagnet in its primitive cell."""
    from altermag import analyze

    entry = next(e for e in entries if e.id == "MnO2_A2B_tP6_136_f_a")
    result = analyze(entry.structure)
    assert result.can_host_altermagnet
    assert "d" in result.host_waves
