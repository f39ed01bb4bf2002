"""Hostile and careless structure uploads, built in memory (nothing large is committed).

Each entry is (name, file name, bytes, form fields, expected status): what ``POST /analyze``
must answer, and what the readers must refuse before they build anything large. Used by the
reader tests (:mod:`tests.unit.test_limits`) and the live-server abuse test
(:mod:`tests.integration.test_abuse`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

__all__ = ["CORPUS", "Upload", "fcc_xyz"]


@dataclass(frozen=True)
class Upload:
    """One hostile upload and the status it must get."""

    key: str
    filename: str
    content: bytes
    status: int
    form: dict[str, str] = field(default_factory=dict)


def fcc_xyz(n_side: int, a: float = 3.6) -> bytes:
    """An extxyz of a simple-cubic supercell of Fe with n_side³ atoms (a valid crystal)."""
    n = n_side**3
    side = a * n_side
    lines = [
        str(n),
        f'Lattice="{side} 0 0 0 {side} 0 0 0 {side}" Properties=species:S:1:pos:R:3 pbc="T T T"',
    ]
    for i in range(n_side):
        for j in range(n_side):
            for k in range(n_side):
                lines.append(f"Fe {i * a:.4f} {j * a:.4f} {k * a:.4f}")
    return ("\n".join(lines) + "\n").encode()


def _poscar(counts: str, lattice: str = "3 0 0\n0 3 0\n0 0 3", coords: str = "0 0 0") -> bytes:
    return f"abuse\n1.0\n{lattice}\nFe\n{counts}\nDirect\n{coords}\n".encode()


_TWO_FE = _poscar("2", coords="0 0 0\n0.5 0.5 0.5")

_CIF_HEAD = (
    "data_x\n_cell_length_a 4\n_cell_length_b 4\n_cell_length_c 4\n"
    "_cell_angle_alpha 90\n_cell_angle_beta 90\n_cell_angle_gamma 90\n"
    "_symmetry_space_group_name_H-M 'P 1'\n"
)


def _deep_cif_loops() -> bytes:
    """Thousands of loops, one of them with thousands of columns, and a huge atom loop."""
    parts = [_CIF_HEAD]
    for i in range(3000):
        parts.append(f"loop_\n_x{i}_a\n_x{i}_b\n1 2\n")
    parts.append("loop_\n" + "".join(f"_wide_{i}\n" for i in range(4000)) + "1 " * 4000 + "\n")
    parts.append("loop_\n_atom_site_label\n_atom_site_fract_x\n_atom_site_fract_y\n")
    parts.append("_atom_site_fract_z\n")
    parts.extend(f"Fe{i} {i / 60000:.6f} 0 0\n" for i in range(60000))
    return "".join(parts).encode()


def _nested_cif() -> bytes:
    """CIF2-style nested lists, 20,000 deep, as a value."""
    return (_CIF_HEAD + "_deep " + "[" * 20000 + "]" * 20000 + "\n").encode()


CORPUS: list[Upload] = [
    Upload(
        "xyz-declares-1e12-atoms",
        "x.xyz",
        b'1000000000000\nLattice="3 0 0 0 3 0 0 0 3"\nFe 0 0 0\n',
        413,
    ),
    Upload("extxyz-declares-1e12-atoms", "x.extxyz", b"1000000000000\n\nFe 0 0 0\n", 413),
    Upload("xyz-declares-more-than-it-holds", "x.xyz", b"500\n\nFe 0 0 0\n", 422),
    Upload("poscar-declares-1e12-atoms", "POSCAR", _poscar("1000000000000"), 413),
    Upload("magmom-repeat-1e8", "POSCAR", _TWO_FE, 413, {"magmom": "100000000*5"}),
    Upload("magmom-many-repeats", "POSCAR", _TWO_FE, 413, {"magmom": " ".join(["999*1"] * 50)}),
    Upload("magmom-nan", "POSCAR", _TWO_FE, 422, {"magmom": "nan -5"}),
    Upload("magmom-inf", "POSCAR", _TWO_FE, 422, {"magmom": "2*inf"}),
    Upload("cif-deep-loops", "deep.cif", _deep_cif_loops(), 413),
    Upload("cif-nested-lists", "nested.cif", _nested_cif(), 422),
    Upload(
        "cif-inf-cell",
        "inf.cif",
        (
            _CIF_HEAD.replace("_cell_length_a 4", "_cell_length_a inf")
            + "loop_\n_atom_site_label\n_atom_site_fract_x\n_atom_site_fract_y\n"
            "_atom_site_fract_z\nFe1 0 0 0\n"
        ).encode(),
        422,
    ),
    Upload("poscar-nan-position", "POSCAR", _poscar("1", coords="nan 0 0"), 422),
    Upload("poscar-zero-volume", "POSCAR", _poscar("1", lattice="3 0 0\n0 3 0\n0 0 0"), 422),
    Upload("poscar-overlapping-atoms", "POSCAR", _poscar("2", coords="0 0 0\n0 0 0.01"), 422),
    Upload("extxyz-20k-atoms", "big.extxyz", fcc_xyz(28), 413),  # 21,952 atoms, ~0.9 MB
    Upload(
        "json-foreign-class",
        "x.json",
        json.dumps({"@module": "subprocess", "@class": "Popen", "args": ["true"]}).encode(),
        422,
    ),
    Upload(
        "json-foreign-class-in-site-properties",
        "x.json",
        json.dumps(
            {
                "@module": "pymatgen.core.structure",
                "@class": "Structure",
                "lattice": {"matrix": [[3, 0, 0], [0, 3, 0], [0, 0, 3]]},
                "sites": [
                    {
                        "species": [{"element": "Fe", "occu": 1}],
                        "abc": [0, 0, 0],
                        "properties": {
                            "magmom": {"@module": "os", "@class": "system", "command": "true"}
                        },
                    }
                ],
            }
        ).encode(),
        422,
    ),
    Upload(
        "json-too-many-sites",
        "x.json",
        json.dumps(
            {
                "lattice": [[3, 0, 0], [0, 3, 0], [0, 0, 3]],
                "species": ["Fe"] * 50_000,
                "frac_coords": [[0, 0, 0]] * 50_000,
            }
        ).encode(),
        413,
    ),
    Upload("upload-over-5MB", "big.cif", b"#" * (5 * 1024 * 1024 + 10), 413),
]
"""The abuse corpus: every entry gets its status (413 past a limit, 422 otherwise)."""
