"""Write the bundled example structures (altermag/data/examples) from published data.

Run from the repository root: ``python scripts/make_examples.py``. The structures come from
tests/literature.py (published lattice data with references); MnF2.mcif is hand-written.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from ase.io import write as ase_write
from pymatgen.io.cif import CifWriter
from pymatgen.io.vasp import Poscar

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests import literature as lit

OUT = Path(__file__).resolve().parents[1] / "altermag" / "data" / "examples"


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    # NiO AFM-II: POSCAR + INCAR (MAGMOM in VASP syntax)
    nio = lit.nio_afm2()
    folder = OUT / "NiO"
    folder.mkdir(exist_ok=True)
    Poscar(nio.with_moments(None).to_pymatgen(), comment="NiO AFM-II (Roth 1958)").write_file(
        folder / "POSCAR"
    )
    mag = " ".join(f"{m:g}" for m in nio.magmoms[:, 2])
    (folder / "INCAR").write_text(f"SYSTEM = NiO AFM-II\nISPIN = 2\nMAGMOM = {mag}\n")
    # MnTe: pymatgen Structure JSON with a magmom site property
    mnte = lit.mnte().to_pymatgen()  # scalar moments: a collinear magnet
    (OUT / "MnTe.json").write_text(json.dumps(mnte.as_dict(), indent=1))
    # CrSb: extxyz with initial magnetic moments
    crsb = lit.crsb()
    atoms = crsb.with_moments(None).to_pymatgen().to_ase_atoms()
    atoms.set_initial_magnetic_moments(crsb.magmoms[:, 2])
    ase_write(OUT / "CrSb.extxyz", atoms, format="extxyz")
    # alpha-Fe2O3: rhombohedral cell as an mCIF written by pymatgen (P1 listing)
    fe2o3 = lit.fe2o3_rhombohedral().to_pymatgen()
    CifWriter(fe2o3, write_magmoms=True).write_file(OUT / "Fe2O3.mcif")
    # Cr2O3 without moments: a plain CIF, analysed by enumerating its k = 0 orders
    CifWriter(lit.cr2o3().with_moments(None).to_pymatgen(), symprec=0.01).write_file(
        OUT / "Cr2O3.cif"
    )


if __name__ == "__main__":
    main()
