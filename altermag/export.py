"""Writing a magnetic structure in the standard formats other tools read.

* ``mcif`` — magnetic CIF in the standard setting of its magnetic space group (BNS number and
  symbol, every magnetic symmetry operation with its time-reversal sign, the asymmetric unit
  and the moments along the crystal axes), read with its moments by pymatgen
  (``CifParser``, ``Structure.from_file``), VESTA and Bilbao's tools. The operations' spatial
  parts are listed as a plain space group too, so readers of non-magnetic CIF
  (``ase.io.read(path, format="cif")``) get every atom, without moments.
* ``cif`` — the crystal without moments (symmetrized CIF of the cell as given).
* ``poscar`` — VASP ``POSCAR`` plus an ``INCAR`` with ``ISPIN = 2`` and ``MAGMOM`` in the same
  site order (``LNONCOLLINEAR`` and 3N values for a non-collinear structure).
* ``json`` — pymatgen ``Structure`` JSON with the ``magmom`` site property.
* ``extxyz`` — extended XYZ with ``initial_magmoms`` (ASE).

The moments written are the structure's own; for a structure without moments pick an
enumerated order first (:func:`with_order`).
"""

from __future__ import annotations

import io
import re
from typing import TYPE_CHECKING

import numpy as np

from altermag.errors import InputError
from altermag.structure import MagneticStructure

if TYPE_CHECKING:
    from altermag.result import SpinGroupResult

__all__ = ["FORMATS", "render", "to_cif", "to_extxyz", "to_json", "to_mcif", "to_poscar"]

FORMATS: dict[str, str] = {
    "mcif": "magnetic CIF with its magnetic space group (moments kept)",
    "cif": "CIF of the crystal (no moments)",
    "poscar": "VASP POSCAR + INCAR (ISPIN, MAGMOM)",
    "json": "pymatgen Structure JSON (magmom site property)",
    "extxyz": "extended XYZ with initial magnetic moments (ASE)",
}

#: Position tolerance (Å) for finding the magnetic space group of the written structure.
MCIF_SYMPREC = 0.01


def _data_name(label: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", label).strip("_") or "structure"


def _cartesian_rotations(lattice: np.ndarray, rotations: np.ndarray) -> np.ndarray:
    """Rotations acting on fractional column vectors, as Cartesian matrices (rows of
    ``lattice`` are the lattice vectors: r_cart = Lᵀ r_frac)."""
    lt = lattice.T
    return np.einsum("ij,gjk,kl->gil", lt, rotations, np.linalg.inv(lt))


def _orbits(
    lattice: np.ndarray,
    positions: np.ndarray,
    moments: np.ndarray,
    rotations: np.ndarray,
    translations: np.ndarray,
    time_reversals: np.ndarray,
    tol: float,
) -> list[int]:
    """Representatives of the site orbits under the magnetic operations (the asymmetric
    unit). Every image must carry the transformed moment, m' = (−1)^θ det(R) R m."""
    n = len(positions)
    owner = np.full(n, -1)
    cart_rot = _cartesian_rotations(lattice, rotations)
    reps: list[int] = []
    for i in range(n):
        if owner[i] >= 0:
            continue
        reps.append(i)
        for r, t, rc, tr in zip(rotations, translations, cart_rot, time_reversals, strict=True):
            image = r @ positions[i] + t
            d = positions - image
            d -= np.round(d)
            dist = np.linalg.norm(d @ lattice, axis=1)
            j = int(np.argmin(dist))
            if dist[j] > tol:
                raise InputError("the structure is not invariant under its own symmetry")
            moment = (-1.0 if tr else 1.0) * np.linalg.det(rc) * rc @ moments[i]
            if np.linalg.norm(moment - moments[j]) > 1e-3 * max(1.0, np.abs(moments).max()):
                raise InputError("a magnetic operation does not map the moments onto themselves")
            owner[j] = i
    return reps


def _spatial_operations(
    lattice: np.ndarray, rotations: np.ndarray, translations: np.ndarray, symprec: float
) -> str:
    """The operations' spatial parts as a plain space group (number and operations): what
    readers of non-magnetic CIF (ASE) need to expand the asymmetric unit; magnetic readers
    use the magnetic operations above."""
    import spglib
    from pymatgen.core.operations import SymmOp

    seen: dict[tuple, tuple[np.ndarray, np.ndarray]] = {}
    for r, t in zip(rotations, translations, strict=True):
        t = np.mod(np.round(t, 6), 1.0) % 1.0
        seen.setdefault((*r.ravel().tolist(), *np.round(t, 4).tolist()), (r, t))
    rots = np.array([r for r, _ in seen.values()], dtype=np.intc)
    trans = np.array([t for _, t in seen.values()])
    sg = spglib.get_spacegroup_type_from_symmetry(rots, trans, lattice, symprec=symprec)
    text = "" if sg is None else f"\n_space_group.IT_number           {sg.number}\n"
    text += "\nloop_\n_space_group_symop.id\n_space_group_symop.operation_xyz\n"
    for k, (r, t) in enumerate(zip(rots, trans, strict=True)):
        xyz = SymmOp.from_rotation_and_translation(r, t).as_xyz_str().replace(" ", "")
        text += f"{k + 1} {xyz}\n"
    return text


def to_mcif(structure: MagneticStructure, *, symprec: float = MCIF_SYMPREC) -> str:
    """Magnetic CIF of ``structure`` in the standard setting of its magnetic space group.

    Raises
    ------
    InputError
        When the structure has no moments or spglib finds no magnetic symmetry.
    """
    import spglib
    from pymatgen.core.operations import MagSymmOp

    from altermag import __version__
    from altermag.symmetry.spin_group import _bns_symbol

    if structure.magmoms is None:
        raise InputError(
            "no moments to write: pick an enumerated order (--order N), or write the crystal "
            "alone as cif"
        )
    names = sorted(set(structure.species))
    types = [names.index(s) + 1 for s in structure.species]
    cell = (
        structure.lattice.tolist(),
        structure.frac_coords.tolist(),
        types,
        structure.magmoms.tolist(),
    )
    dataset = spglib.get_magnetic_symmetry_dataset(cell, symprec=symprec)
    if dataset is None:
        raise InputError("spglib found no magnetic space group for this structure")
    lattice = np.asarray(dataset.std_lattice)
    positions = np.mod(np.asarray(dataset.std_positions), 1.0)
    std_types = list(dataset.std_types)
    moments = np.asarray(dataset.std_tensors, dtype=float).reshape(-1, 3)
    ops = spglib.get_magnetic_symmetry(
        (lattice.tolist(), positions.tolist(), std_types, moments.tolist()),
        symprec=symprec,
        is_axial=True,
    )
    if ops is None:  # pragma: no cover - the standardized cell has the group found above
        raise InputError("spglib found no magnetic operations in the standard setting")
    rotations = np.asarray(ops["rotations"])
    translations = np.asarray(ops["translations"])
    time_reversals = np.asarray(ops["time_reversals"], dtype=int)
    reps = _orbits(
        lattice, positions, moments, rotations, translations, time_reversals, tol=2 * symprec
    )
    bns_number, bns_symbol = _bns_symbol(int(dataset.uni_number))
    a, b, c = np.linalg.norm(lattice, axis=1)
    alpha, beta, gamma = (
        float(np.degrees(np.arccos(np.dot(lattice[i], lattice[j]) / (n1 * n2))))
        for i, j, n1, n2 in ((1, 2, b, c), (0, 2, a, c), (0, 1, a, b))
    )
    unit = lattice / np.linalg.norm(lattice, axis=1)[:, None]
    crystal_axis_moments = moments @ np.linalg.inv(unit)  # m = Σ M_i a_i/|a_i|
    out = io.StringIO()
    out.write(
        f"# {structure.formula}: written by altermag {__version__}\n"
        "# standard setting of the magnetic space group; moments in Bohr magnetons along the "
        "unit vectors of a, b, c\n"
    )
    out.write(f"data_{_data_name(structure.label or structure.formula)}\n\n")
    out.write(f"_chemical_formula_sum '{structure.formula}'\n")
    for tag, value in (
        ("_cell_length_a", a),
        ("_cell_length_b", b),
        ("_cell_length_c", c),
        ("_cell_angle_alpha", alpha),
        ("_cell_angle_beta", beta),
        ("_cell_angle_gamma", gamma),
    ):
        out.write(f"{tag:<34}{value:.6f}\n")
    out.write(f"\n_space_group_magn.number_BNS      {bns_number}\n")
    if bns_symbol:
        out.write(f'_space_group_magn.name_BNS        "{bns_symbol}"\n')
    out.write(
        "\nloop_\n_space_group_symop_magn_operation.id\n_space_group_symop_magn_operation.xyz\n"
    )
    for k, (r, t, tr) in enumerate(zip(rotations, translations, time_reversals, strict=True)):
        op = MagSymmOp.from_rotation_and_translation_and_time_reversal(
            r, np.mod(np.round(t, 6), 1.0), -1 if tr else 1
        )
        out.write(f"{k + 1} {op.as_xyzt_str().replace(' ', '')}\n")
    out.write(_spatial_operations(lattice, rotations, translations, symprec))
    out.write(
        "\nloop_\n_atom_site_label\n_atom_site_type_symbol\n_atom_site_fract_x\n"
        "_atom_site_fract_y\n_atom_site_fract_z\n_atom_site_occupancy\n"
    )
    labels: dict[int, str] = {}
    count: dict[str, int] = {}
    for i in reps:
        el = names[std_types[i] - 1]
        count[el] = count.get(el, 0) + 1
        labels[i] = f"{el}{count[el]}"
        x, y, z = positions[i]
        out.write(f"{labels[i]} {el} {x:.6f} {y:.6f} {z:.6f} 1\n")
    magnetic = [i for i in reps if np.linalg.norm(moments[i]) > 1e-8]
    if magnetic:
        out.write(
            "\nloop_\n_atom_site_moment.label\n_atom_site_moment.crystalaxis_x\n"
            "_atom_site_moment.crystalaxis_y\n_atom_site_moment.crystalaxis_z\n"
        )
        for i in magnetic:
            mx, my, mz = (round(float(v), 5) + 0.0 for v in crystal_axis_moments[i])
            out.write(f"{labels[i]} {mx:.5f} {my:.5f} {mz:.5f}\n")
    return out.getvalue()


def to_cif(structure: MagneticStructure, *, symprec: float = MCIF_SYMPREC) -> str:
    """CIF of the crystal in the cell as given, with its space-group operations (moments are
    not part of a plain CIF)."""
    from pymatgen.io.cif import CifWriter

    crystal = structure.with_moments(None).to_pymatgen()
    return str(CifWriter(crystal, symprec=symprec, refine_struct=False))


def to_poscar(structure: MagneticStructure) -> tuple[str, str | None]:
    """``POSCAR`` (sites grouped by element) and the ``INCAR`` with ``MAGMOM`` in the same
    order (None without moments)."""
    from pymatgen.io.vasp import Incar, Poscar

    order = sorted(range(len(structure)), key=lambda i: (structure.species[i], i))
    sorted_structure = MagneticStructure(
        structure.lattice,
        tuple(structure.species[i] for i in order),
        structure.frac_coords[order],
        None if structure.magmoms is None else structure.magmoms[order],
        structure.label,
    )
    poscar = Poscar(
        sorted_structure.with_moments(None).to_pymatgen(),
        comment=structure.label or structure.formula,
    ).get_str()
    if sorted_structure.magmoms is None:
        return poscar, None
    collinear = sorted_structure.collinear_moments()
    if collinear is not None:
        incar = Incar({"ISPIN": 2, "MAGMOM": [round(float(v), 4) + 0.0 for v in collinear[0]]})
    else:
        flat = [round(float(v), 4) + 0.0 for v in sorted_structure.magmoms.ravel()]
        incar = Incar({"ISPIN": 2, "LNONCOLLINEAR": True, "MAGMOM": flat})
    return poscar, incar.get_str()


def to_json(structure: MagneticStructure) -> str:
    """pymatgen ``Structure`` JSON (``Structure.from_file`` reads it back with moments)."""
    return structure.to_pymatgen().to(fmt="json")


def to_extxyz(structure: MagneticStructure) -> str:
    """Extended XYZ with the lattice and ``initial_magmoms`` (``ase.io.read`` reads it)."""
    from ase.io import write

    buf = io.StringIO()
    write(buf, structure.to_ase(), format="extxyz")
    return buf.getvalue()


def render(structure: MagneticStructure, fmt: str, stem: str = "structure") -> dict[str, str]:
    """The files of ``structure`` in format ``fmt``: ``{file name: text}`` (``POSCAR`` and
    ``INCAR`` for ``poscar``, ``<stem>.<ext>`` otherwise)."""
    if fmt == "mcif":
        return {f"{stem}.mcif": to_mcif(structure)}
    if fmt == "cif":
        return {f"{stem}.cif": to_cif(structure)}
    if fmt == "poscar":
        poscar, incar = to_poscar(structure)
        return {"POSCAR": poscar, **({} if incar is None else {"INCAR": incar})}
    if fmt == "json":
        return {f"{stem}.json": to_json(structure)}
    if fmt == "extxyz":
        return {f"{stem}.extxyz": to_extxyz(structure)}
    raise InputError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")


def with_order(
    structure: MagneticStructure, result: SpinGroupResult | None = None, rank: int | None = None
) -> tuple[MagneticStructure, SpinGroupResult]:
    """The structure carrying the moments to export, and their classification.

    A structure with moments is returned as it is (``rank`` must then be None). Without
    moments its k = 0 collinear orders are enumerated and order ``rank`` (default 1, the
    most plausible) is put on the enumeration cell with the default moment size.

    Raises
    ------
    InputError
        For ``rank`` on a structure with moments, a rank that does not exist, or a crystal
        that hosts no compensated collinear order.
    """
    from altermag.symmetry import analyze
    from altermag.symmetry.enumerate import ordered_structure

    if structure.magmoms is not None:
        if rank is not None:
            raise InputError(
                "the structure carries its own moments; --order is for structures without moments"
            )
        return structure, result if result is not None else analyze(structure)
    result = result if result is not None and result.enumerated else analyze(structure)
    if not result.orders:
        raise InputError(f"{structure.formula} hosts no compensated collinear k = 0 order")
    rank = 1 if rank is None else rank
    chosen = next((o for o in result.orders if o.rank == rank), None)
    if chosen is None:
        raise InputError(f"no enumerated order of rank {rank} (1 … {len(result.orders)})")
    return ordered_structure(structure, result, rank=rank), chosen.result
