"""Structures without moments: enumeration of collinear k = 0 orders (docs/symmetry.md)."""

from __future__ import annotations

import numpy as np
import pytest

from altermag import MagneticStructure, analyze
from tests import literature as lit


def _bare(s: MagneticStructure) -> MagneticStructure:
    return s.with_moments(None)


def test_rutile_mnf2_can_host_d_wave() -> None:
    res = analyze(_bare(lit.mnf2()))
    assert res.enumerated and res.can_host_altermagnet
    assert res.host_waves == ["d"]
    assert res.orders[0].result.verdict == "altermagnet"
    assert res.orders[0].result.spin_laue_group == "²4/¹m²m¹m"
    # the ferromagnetic reference is always listed last
    assert res.orders[-1].result.verdict == "ferromagnet"


def test_nias_mnte_can_host_g_wave() -> None:
    res = analyze(_bare(lit.mnte()))
    assert res.can_host_altermagnet and res.host_waves == ["g"]


def test_corundum_orders_ranked_with_reasons() -> None:
    res = analyze(_bare(lit.cr2o3()))
    verdicts = [o.result.verdict for o in res.orders]
    assert "altermagnet" in verdicts and "antiferromagnet" in verdicts
    # the Cr2O3 order (face- and edge-sharing pairs antiparallel) ranks first
    assert res.orders[0].result.verdict == "antiferromagnet"
    assert "PT" in res.orders[0].result.afm_reason
    assert res.orders[0].score == 1.0
    assert "nearest Cr pairs" in res.orders[0].reason
    scores = [o.score for o in res.orders]
    assert scores == sorted(scores, reverse=True)
    # primitive cell used: 10 sites, 4 Cr
    assert len(res.orders[0].signs) == 10
    assert sorted(np.abs(res.orders[0].signs).tolist()).count(1) == 4


def test_rock_salt_primitive_cell_has_no_compensated_order() -> None:
    nio = MagneticStructure(
        np.array([[0, 2.0885, 2.0885], [2.0885, 0, 2.0885], [2.0885, 2.0885, 0]]),
        ("Ni", "O"),
        [[0, 0, 0], [0.5, 0.5, 0.5]],
    )
    res = analyze(nio)
    assert res.can_host_altermagnet is False
    assert res.verdict == "ferromagnet"
    assert any("orbit of 1 Ni sites" in w for w in res.warnings)


def test_no_magnetic_element() -> None:
    nacl = MagneticStructure(np.eye(3) * 5.64, ("Na", "Cl"), [[0, 0, 0], [0.5, 0.5, 0.5]])
    res = analyze(nacl)
    assert res.verdict == "nonmagnetic" and res.can_host_altermagnet is False


def test_duplicates_removed_under_symmetry_and_flip() -> None:
    res = analyze(_bare(lit.fesb2("1x1x2")), cell="as_given")
    signs = [tuple(o.signs) for o in res.orders]
    assert len(signs) == len(set(signs))
    verdicts = {o.result.verdict for o in res.orders}
    assert {"altermagnet", "antiferromagnet"} <= verdicts


def test_large_cell_uses_symmetric_orders_only() -> None:
    s = lit.mnf2().to_pymatgen()
    s.make_supercell((2, 2, 3))  # 24 Mn in one orbit: C(24,12) assignments
    res = analyze(_bare(MagneticStructure.from_pymatgen(s)), cell="as_given")
    assert any("exceed the cap" in w for w in res.warnings)
    assert res.can_host_altermagnet and "d" in res.host_waves


def test_ordered_structure_uses_the_enumeration_cell() -> None:
    """A conventional hexagonal Cr2O3 cell (30 sites) is enumerated on its 10-site primitive
    cell; the chosen order's moments go onto that cell."""
    from altermag.symmetry.enumerate import ordered_structure

    s = _bare(lit.cr2o3())
    res = analyze(s)
    assert res.order_cell is not None and len(res.order_cell["species"]) == 10
    best_am = ordered_structure(s, res)
    assert len(best_am) == 10 and analyze(best_am).verdict == "altermagnet"
    assert analyze(ordered_structure(s, res, rank=1)).verdict == "antiferromagnet"


@pytest.mark.slow
def test_every_corpus_entry_is_analyzed() -> None:
    """The whole screening corpus goes through the enumeration without an error (mixed
    valences such as Cu⁺/Cu²⁺ on inequivalent sites included)."""
    from altermag.data import corpus

    failures = []
    for entry in corpus():
        s = entry.structure
        s.properties["oxidation_states"] = list(entry.oxidation_states)
        try:
            res = analyze(s)
        except Exception as exc:  # collect them all, then fail with the list
            failures.append(f"{entry.id}: {type(exc).__name__}: {exc}")
            continue
        assert res.enumerated
    assert failures == []
