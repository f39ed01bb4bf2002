"""The corundum builder shared by the known-materials generator and the test structures."""

from __future__ import annotations

import numpy as np
import pytest

import altermag
from altermag.data.known import known_material
from altermag.prototypes import corundum, corundum_chain, r3c_chain_rule


def _sites(structure) -> list[tuple[str, tuple[float, ...], float]]:
    moments = [float(m[2]) for m in structure.magmoms]
    rows = [
        (el, tuple(np.round(np.mod(f, 1.0), 4) % 1.0), round(m, 3))
        for el, f, m in zip(structure.species, structure.frac_coords, moments, strict=True)
    ]
    return sorted(rows)


@pytest.mark.parametrize(
    ("known_id", "args", "verdict"),
    [
        (
            "alpha-Fe2O3",
            ("Fe", 5.0355, 13.7471, 0.35530, 0.3059, 4.9, (-1, 1, 1, -1)),
            "altermagnet",
        ),
        ("Cr2O3", ("Cr", 4.9607, 13.599, 0.3475, 0.3058, 3.0, (1, -1, 1, -1)), "antiferromagnet"),
    ],
)
def test_corundum_is_the_shipped_known_material(known_id, args, verdict) -> None:
    built = corundum(known_id, *args)
    shipped = known_material(known_id).structure
    assert len(built) == len(shipped) == 30
    assert np.allclose(built.lattice, shipped.lattice, atol=1e-5)
    assert _sites(built) == _sites(shipped)
    assert sum(float(m[2]) for m in built.magmoms) == pytest.approx(0.0)
    assert altermag.analyze(built).verdict == verdict


def test_chain_rule_keeps_the_spin_under_r_centring_and_refuses_other_heights() -> None:
    z = 0.3475
    rule = r3c_chain_rule("Cr", 3.0, corundum_chain(z), [1, -1, 1, -1])
    assert rule("Cr", np.array([0.0, 0.0, z])) == -3.0
    assert rule("Cr", np.array([2 / 3, 1 / 3, z + 1 / 3])) == -3.0  # centring copy
    assert rule("O", np.array([0.3058, 0.0, 0.25])) == 0.0
    with pytest.raises(ValueError, match="unexpected Cr site"):
        rule("Cr", np.array([0.0, 0.0, 0.1]))
