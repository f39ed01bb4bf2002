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


def _a15(b_site: str) -> MagneticStructure:
    """A15 type (Pm-3n): Mn on 2a, ``b_site`` on 6c (Cr3Si-type chains)."""
    positions = [[0, 0, 0], [0.5, 0.5, 0.5]]
    positions += [[0.25, 0, 0.5], [0.75, 0, 0.5], [0.5, 0.25, 0], [0.5, 0.75, 0]]
    positions += [[0, 0.5, 0.25], [0, 0.5, 0.75]]
    return MagneticStructure(np.eye(3) * 4.75, ("Mn", "Mn") + (b_site,) * 6, positions)


def test_a15_orbit_without_moment_gives_the_i_wave_order() -> None:
    """With V on 6c no character of Pm-3n that orders the Mn pair (its stabiliser m-3 inside
    the kernel, the 4₂ and n coset flipped) is compatible with the V orbit: the i-wave order
    ¹m-3²m exists only with the V sites left without moment, and must be found as it is
    with non-magnetic Si on 6c."""
    for b_site in ("Si", "V"):
        res = analyze(_a15(b_site))
        assert "i" in res.host_waves, b_site
        iwave = [o for o in res.orders if o.result.wave == "i"]
        assert iwave and all(o.result.spin_laue_group == "¹m-3²m" for o in iwave)
        signs = np.array(iwave[0].signs)
        assert sorted(signs[:2].tolist()) == [-1, 1] and not np.any(signs[2:])
    res = analyze(_a15("V"))
    partial = [o for o in res.orders if 0 in o.signs[2:] or 0 in o.signs[:2]]
    assert all("no moment on" in o.reason for o in partial)
    # every fully ordered order still ranks ahead of a partial one of equal score
    full = [o for o in res.orders if 0 not in o.signs]
    assert {"d", "g"} <= {o.result.wave for o in full if o.result.verdict == "altermagnet"}


def test_odd_orbit_is_left_without_moment() -> None:
    """An orbit of one Mn site cannot be compensated; the even Mn orbit is still ordered."""
    s = MagneticStructure(
        np.diag([4.0, 4.0, 6.0]),
        ("Mn", "Fe", "Fe", "O"),
        [[0, 0, 0], [0.5, 0, 0.5], [0, 0.5, 0.5], [0.5, 0.5, 0]],
    )
    res = analyze(s, cell="as_given")
    assert any("orbit of 1 Mn sites" in w and "no moment" in w for w in res.warnings)
    ordered = [o for o in res.orders if o.result.verdict != "ferromagnet"]
    assert ordered and all(o.signs[0] == 0 for o in ordered)


_CAPPED = """
import resource, sys
cap = 1024**3
resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
from altermag import MagneticStructure, analyze
from tests.literature import mnf2
s = mnf2().to_pymatgen()
s.make_supercell((4, 4, 4))
s = MagneticStructure.from_pymatgen(s).with_moments(None)
res = analyze(s, cell="as_given")
print(len(s), ",".join(res.host_waves), res.orders[0].result.spin_laue_group)
"""


def test_384_atom_supercell_enumerates_under_a_1_gb_memory_cap() -> None:
    """Memory linear in atoms × operations: the 4×4×4 MnF2 supercell kept as given (384
    atoms, 1,024 operations) enumerates inside 1 GiB of address space (the whole Python
    process, imports included; BLAS limited to one thread so that its per-thread buffers do
    not count), and still finds the d-wave order."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")]),
    }
    env.update(OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    out = subprocess.run(
        [sys.executable, "-c", _CAPPED], env=env, cwd=root, capture_output=True, text=True,
        timeout=600,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["384", "d", "²4/¹m²m¹m"]
