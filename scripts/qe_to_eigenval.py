"""Write a recorded Quantum ESPRESSO bands run as a VASP ``EIGENVAL`` + ``POSCAR`` pair.

Used to make ``tests/data/vasp/cro2_eigenval`` from the real pw.x 6.7 run in
``tests/data/qe/cro2``: the k-points (fractional, reciprocal basis of the cell) and the
eigenvalues of both spins are copied unchanged, in VASP 5.4's spin-polarised EIGENVAL layout
(``band  E_up  E_down  occ_up  occ_down``); occupations are those of the run's smearing
(Marzari–Vanderbilt, ``degauss`` from settings.json) at the SCF Fermi level. The POSCAR has one
species per element, as a VASP run of the same cell would. ``structure.json`` and
``spin_group.json`` (the prepared order and its prediction, written by ``altermag dft
prepare``) are copied along, as they would be in a folder altermag prepared for VASP.

With a third folder, the SCF of the same run is also written as the lines of a VASP
``OUTCAR`` that altermag and pymatgen's :class:`~pymatgen.io.vasp.outputs.Outcar` read (used
to make ``tests/data/vasp/cro2_scf/OUTCAR``): k-point and band counts, FFT grid, ``ISPIN``,
the electronic loop's end ("aborting loop because EDIFF is reached" only when pw.x printed
"convergence has been achieved"), the Fermi level and the cell's total magnetization, each
copied from ``scf.out``. QE's site moments are integrals over spheres, not VASP's
``LORBIT`` s/p/d projections, so no ``magnetization (x)`` table is written (an OUTCAR of a
run without ``LORBIT``): a verdict from these files says the site moments are unknown.

Usage: ``python scripts/qe_to_eigenval.py tests/data/qe/cro2 tests/data/vasp/cro2_eigenval
[tests/data/vasp/cro2_scf]``
"""

from __future__ import annotations

import gzip
import json
import math
import re
import shutil
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
from pymatgen.core import Lattice, Structure
from pymatgen.io.vasp.inputs import Poscar

from altermag.dft.qe.parse import find_qe_files, parse_pw_output, read_qe_xml
from altermag.dft.vasp.inputs import RY_EV


def mv_occupation(e: np.ndarray, fermi: float, sigma: float) -> np.ndarray:
    """Marzari–Vanderbilt cold-smearing occupation (0…1 per spin channel)."""
    x = (e - fermi) / sigma
    u = x + 1 / math.sqrt(2)
    erfc = np.vectorize(math.erfc)
    occ = 0.5 * erfc(u) + np.exp(-(u**2)) / math.sqrt(2 * math.pi)
    return np.clip(occ, 0.0, 1.0)


def _nelec(xml: Path) -> int:
    opener = gzip.open if xml.suffix == ".gz" else open
    with opener(xml) as fh:
        root = ET.parse(fh).getroot()
    return round(float(root.findtext("output/band_structure/nelec") or 0))


def _first(pattern: str, text: str) -> str:
    found = re.search(pattern, text)
    if found is None:
        raise SystemExit(f"no {pattern!r} in the SCF output")
    return found.group(1)


def write_outcar(src: Path, dst: Path) -> None:
    """The SCF of the QE run in ``src`` as OUTCAR lines in ``dst/OUTCAR`` (see the module)."""
    files = find_qe_files(src)
    if files.scf_out is None:
        raise SystemExit(f"no scf.out in {src}")
    text = files.scf_out.read_text()
    scf = parse_pw_output(files.scf_out)
    if scf.fermi_energy is None or scf.total_magnetization is None:
        raise SystemExit("the SCF output has no Fermi level or total magnetization")
    nk = int(_first(r"number of k points=\s+(\d+)", text))
    nbands = int(_first(r"number of Kohn-Sham states=\s+(\d+)", text))
    nelec = float(_first(r"number of electrons\s+=\s+(\S+)", text))
    fft = [int(x) for x in _first(r"Dense  grid:.*FFT dimensions: \(([^)]*)\)", text).split(",")]
    mag = _first(r"total magnetization\s+=\s+(\S+) Bohr mag/cell\s+absolute[^!]*$", text)
    loop = (
        "aborting loop because EDIFF is reached"
        if scf.converged
        else "aborting loop EDIFF was not reached (unconverged)"
    )
    lines = [
        f" OUTCAR lines written by scripts/qe_to_eigenval.py from {files.scf_out.name} of "
        f"pw.x {scf.version} (a Quantum ESPRESSO SCF, not a VASP run)",
        f"   k-points           NKPTS = {nk:6d}   k-points in BZ     NKDIM = {nk:6d}"
        f"   number of bands    NBANDS= {nbands:6d}",
        f"   total plane-waves  NPLWV = {fft[0] * fft[1] * fft[2]:6d}",
        "   ISPIN  =      2    spin polarized calculation?",
        "   IBRION =     -1    ionic relax: 0-MD 1-quasi-New 2-CG",
        f"--------------------------------------- Iteration      1({scf.iterations:4d})"
        "  ---------------------------------------",
        f" ------------------------ {loop} ----------------------------------------",
        f" E-fermi : {scf.fermi_energy:10.4f}",
        f" number of electron {nelec:15.7f} magnetization {mag:>15}",
    ]
    dst.mkdir(parents=True, exist_ok=True)
    (dst / "OUTCAR").write_text("\n".join(lines) + "\n")
    print(f"wrote {dst / 'OUTCAR'} (E_F = {scf.fermi_energy} eV, converged = {scf.converged})")


def main(src: Path, dst: Path) -> None:
    files = find_qe_files(src)
    bands = read_qe_xml(files.xml)
    scf = parse_pw_output(files.scf_out) if files.scf_out else None
    if scf is None or scf.fermi_energy is None:
        raise SystemExit("the SCF output with a Fermi level is needed for the occupations")
    settings = json.loads((src / "settings.json").read_text())
    sigma = float(settings["degauss"]) * RY_EV
    dst.mkdir(parents=True, exist_ok=True)
    cell = Structure(Lattice(bands.lattice), bands.elements, bands.frac_coords)
    order = list(dict.fromkeys(bands.elements))
    cell = cell.get_sorted_structure(key=lambda site: order.index(site.specie.symbol))
    Poscar(cell, comment=f"{cell.formula} from the QE run in {src}").write_file(dst / "POSCAR")

    up, down = bands.eigenvalues_up, bands.eigenvalues_down
    nk, nb = up.shape
    occ_up = mv_occupation(up, scf.fermi_energy, sigma)
    occ_dn = mv_occupation(down, scf.fermi_energy, sigma)
    a, b, c = (np.linalg.norm(v) * 1e-10 for v in bands.lattice)
    n = len(bands.elements)
    lines = [
        f"{n:5d}{n:5d}{1:5d}{2:5d}",
        f"  {cell.volume:.7E}  {a:.7E}  {b:.7E}  {c:.7E}  {0.5e-15:.7E}",
        "  1.000000000000000E-004",
        "  CAR",
        f" {cell.formula}",
        f"  {_nelec(files.xml):5d}  {nk:5d}  {nb:5d}",
    ]
    weight = 1.0 / nk
    for i in range(nk):
        lines.append("")
        k = bands.kpoints[i]
        lines.append(f"  {k[0]:.7E}  {k[1]:.7E}  {k[2]:.7E}  {weight:.7E}")
        for j in range(nb):
            lines.append(
                f"{j + 1:5d}  {up[i, j]:13.6f}  {down[i, j]:13.6f}"
                f"  {occ_up[i, j]:9.6f}  {occ_dn[i, j]:9.6f}"
            )
    (dst / "EIGENVAL").write_text("\n".join(lines) + "\n")
    for name in ("structure.json", "spin_group.json"):
        shutil.copy(src / name, dst / name)
    print(f"wrote {dst / 'EIGENVAL'} ({nk} k-points, {nb} bands, 2 spins) and POSCAR")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
    if len(sys.argv) > 3:
        write_outcar(Path(sys.argv[1]), Path(sys.argv[3]))
