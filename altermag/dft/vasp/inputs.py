"""VASP inputs for a spin-polarised SCF and a non-self-consistent bands step.

Layout of a prepared folder (``dft_inputs/<id>/vasp`` by default)::

    scf/    POSCAR INCAR KPOINTS POTCAR.spec (POTCAR when a pseudopotential folder is set)
    bands/  POSCAR INCAR KPOINTS POTCAR.spec   (reads ../scf/CHGCAR)
    run.sh  job.sbatch  structure.json spin_group.json kpath.json settings.json

``run.sh`` and ``job.sbatch`` run the SCF, stop unless it reached EDIFF, copy ``CHGCAR`` to
``bands/`` and run the bands step; the VASP command is ``ALTERMAG_VASP_CMD`` or the preset's
``vasp_command``, under ``srun`` in the Slurm script and ``mpirun -np N`` locally when the
preset's resources ask for N > 1 tasks (:mod:`altermag.dft.vasp.run`).

Choices that matter for a splitting test (docs/pitfalls.md):

- one POSCAR species per element: VASP takes the up/down pattern from ``MAGMOM`` (one value
  per site), unlike pw.x, which needs up and down sites as two species;
- the bands step keeps the SCF's ``MAGMOM`` and sets ``ICHARG = 11`` and ``ISYM = 0``:
  pymatgen's ``MPNonSCFSet`` drops ``MAGMOM``, and VASP would then symmetrise the frozen
  density as a ferromagnet's;
- DFT+U (Dudarev, ``LDAUTYPE = 2``) with the preset's ``hubbard_u`` (the Materials Project
  values by default), applied like MP only when one of ``hubbard_u_anions`` (O, F) is present;
  ``LDAUL``/``LDAUU``/``LDAUJ`` follow the POSCAR species order;
- SCF k-points: a Γ-centred mesh (the same as the QE mesh of the preset); bands: line mode
  (reciprocal coordinates) along the :class:`~altermag.dft.kpath.KPath` of the non-magnetic
  cell, form-factor split and nodal segments included;
- POTCARs are the Materials Project choices (``Cr_pv``, ``Mn_pv``, ``O``…); no POTCAR is
  shipped, so ``POTCAR.spec`` lists the symbols, and real POTCAR files are concatenated when
  ``ALTERMAG_VASP_PSP_DIR`` (or pymatgen's ``PMG_VASP_PSP_DIR``) names a folder that has them.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from pymatgen.core import Element, Lattice, Structure
from pymatgen.io.vasp.inputs import Incar, Kpoints, Poscar

from altermag.dft.deck import collinear_moments, kpoint_mesh, metadata_files, require_moments
from altermag.dft.kpath import KPath, build_kpath
from altermag.dft.protocol import InputSet
from altermag.dft.settings import DftSettings
from altermag.dft.vasp.run import launched, vasp_command, vasp_steps
from altermag.errors import DftError
from altermag.hpc.slurm import Resources, local_script, slurm_script
from altermag.result import SpinGroupResult
from altermag.structure import MagneticStructure

__all__ = [
    "VaspInputs",
    "VaspPotcarError",
    "bands_incar",
    "find_potcar_dir",
    "line_kpoints",
    "poscar_site_order",
    "potcar_symbols",
    "scf_files",
    "scf_incar",
    "vasp_input_set",
    "write_vasp_inputs",
]

PSP_ENV = ("ALTERMAG_VASP_PSP_DIR", "PMG_VASP_PSP_DIR")
PSP_SUBDIRS = (
    "",
    "potpaw_PBE.64",
    "potpaw_PBE.54",
    "potpaw_PBE.52",
    "potpaw_PBE",
    "POT_PAW_PBE_64",
    "POT_GGA_PAW_PBE_54",
    "POT_GGA_PAW_PBE_52",
    "POT_GGA_PAW_PBE",
)
"""Where POTCAR sets are looked for under the pseudopotential folder, in order: VASP's own
distribution names (``<set>/<symbol>/POTCAR``) and pymatgen's ``pmg config`` layout (also
``<set>/POTCAR.<symbol>``, gzip-compressed or not)."""


class VaspPotcarError(DftError, ValueError):
    """A POTCAR named by the spec is missing from the pseudopotential folder."""


def potcar_symbols(elements: list[str]) -> list[str]:
    """Materials Project POTCAR symbols (``Cr`` → ``Cr_pv``) for ``elements``, in order."""
    from pymatgen.io.vasp.sets import MPRelaxSet

    table = MPRelaxSet.CONFIG["POTCAR"]
    return [str(table.get(el, el)) for el in elements]


def find_potcar_dir(folder: Path | None = None) -> Path | None:
    """The pseudopotential folder: ``folder``, else the first of ``PSP_ENV`` that is set."""
    if folder is not None:
        return Path(folder)
    for var in PSP_ENV:
        if os.environ.get(var):
            return Path(os.environ[var])
    return None


def _read_potcar(path: Path) -> str:
    if path.suffix == ".gz":
        import gzip

        return gzip.decompress(path.read_bytes()).decode()
    return path.read_text()


def _potcar_text(symbols: list[str], folder: Path) -> str:
    """Concatenated POTCARs of ``symbols`` from the first set under ``folder`` that has all.

    Sets are never mixed (a PBE.54 Cr with a PBE.64 O would be a different calculation).
    """
    for sub in PSP_SUBDIRS:
        found = []
        for sym in symbols:
            base = folder / sub
            cands = [
                base / sym / "POTCAR",
                base / sym / "POTCAR.gz",
                base / f"POTCAR.{sym}",
                base / f"POTCAR.{sym}.gz",
            ]
            path = next((c for c in cands if c.is_file()), None)
            if path is None:
                break
            found.append(path)
        else:
            texts = [_read_potcar(path) for path in found]
            return "".join(x if x.endswith("\n") else x + "\n" for x in texts)
    raise VaspPotcarError(
        f"no POTCAR set under {folder} has all of {', '.join(symbols)} (looked in "
        + ", ".join(str(folder / s) for s in PSP_SUBDIRS)
        + ", each with <symbol>/POTCAR)"
    )


def _elements(structure: MagneticStructure) -> list[str]:
    """POSCAR species order: elements in order of first appearance."""
    return list(dict.fromkeys(structure.species))


def poscar_site_order(structure: MagneticStructure) -> list[int]:
    """The structure's site indices in POSCAR order (grouped by element, stable): POSCAR
    site ``k`` (and OUTCAR's ``k``-th site moment) is structure site ``order[k]``."""
    order = _elements(structure)
    return sorted(range(len(structure)), key=lambda i: order.index(structure.species[i]))


def _sorted_structure(structure: MagneticStructure) -> tuple[Structure, list[float]]:
    """pymatgen structure grouped by element (POSCAR order) and the matching MAGMOM."""
    moments = collinear_moments(structure)
    idx = poscar_site_order(structure)
    pmg = Structure(
        Lattice(structure.lattice),
        [structure.species[i] for i in idx],
        np.asarray(structure.frac_coords)[idx],
    )
    return pmg, [round(float(moments[i]), 4) + 0.0 for i in idx]


def _ldau(structure: MagneticStructure, settings: DftSettings) -> dict[str, Any]:
    """``LDAU*`` tags (Dudarev) ordered like the POSCAR species; empty without U.

    As the Materials Project sets write them: ``LDAUL`` 2 (d) or 3 (f) for an element with a
    U and 0 for the others, ``LDAUJ`` 0, ``LDAUPRINT`` 1.
    """
    hub = settings.hubbard_for(structure.species)
    if not hub:
        return {}
    els = _elements(structure)
    return {
        "LDAU": True,
        "LDAUTYPE": 2,
        "LDAUL": [(3 if Element(el).block == "f" else 2) if el in hub else 0 for el in els],
        "LDAUU": [hub.get(el, 0) for el in els],
        "LDAUJ": [0 for _ in els],
        "LDAUPRINT": 1,
    }


def lmaxmix(elements: list[str]) -> int | None:
    """``LMAXMIX`` as the Materials Project sets choose it: 6 when an element beyond Ba is
    present (f shells from La on), 4 when one beyond Ca is (d shells from Sc on), else VASP's
    default (None). VASP's default (2) mixes only s and p parts of the density, so a
    restarted or non-self-consistent step of a d or f magnet would start from a density
    whose d (f) occupations were lost."""
    z = [Element(el).Z for el in elements]
    if any(n > 56 for n in z):
        return 6
    if any(n > 20 for n in z):
        return 4
    return None


def scf_incar(structure: MagneticStructure, settings: DftSettings) -> Incar:
    """INCAR of the spin-polarised SCF (``ISPIN = 2``, ``MAGMOM`` per POSCAR site).

    The tags of pymatgen's ``MPStaticSet`` for a magnetic transition-metal compound, key by
    key (``tests/unit/test_dft_vasp_inputs.py`` checks them): ``PREC = Accurate``,
    ``ALGO = Fast``, ``ENCUT`` (520 eV in the presets), ``EDIFF`` = ``vasp_ediff_per_atom``
    × atoms (5e-5 eV per atom), ``NELM = 100``, ``NSW = 0``, ``ISMEAR = -5`` (tetrahedra)
    with ``SIGMA = 0.05``, ``LASPH`` (aspherical PAW gradient corrections, needed for d and
    f elements and for +U), ``LREAL = .FALSE.``, ``LORBIT = 11`` (site moments), ``LMAXMIX``
    (:func:`lmaxmix`), DFT+U as :func:`_ldau`, ``LCHARG`` (the bands step reads the
    density), no WAVECAR. The preset's ``vasp_incar`` tags win over all of these.
    """
    _, magmom = _sorted_structure(structure)
    tags: dict[str, Any] = {
        "SYSTEM": structure.label or structure.formula,
        "PREC": "Accurate",
        "ALGO": "Fast",
        "ENCUT": settings.vasp.encut,
        "EDIFF": settings.vasp.ediff_per_atom * len(structure),
        "NELM": 100,
        "NSW": 0,
        "ISPIN": 2,
        "MAGMOM": magmom,
        "ISMEAR": -5,
        "SIGMA": 0.05,
        "LASPH": True,
        "LREAL": False,
        "LORBIT": 11,
        "LCHARG": True,
        "LWAVE": False,
        **_ldau(structure, settings),
    }
    mix = lmaxmix(_elements(structure))
    if mix is not None:
        tags["LMAXMIX"] = mix
    tags.update(settings.vasp.incar)
    return Incar(tags)


def bands_incar(scf: Incar) -> Incar:
    """INCAR of the bands step: the SCF's with ``ICHARG = 11``, ``ISYM = 0``, same MAGMOM.

    Tetrahedra need a mesh, so the line-mode step uses Gaussian smearing (``ISMEAR = 0``,
    same ``SIGMA``) and the Davidson solver (``ALGO = Normal``) on the frozen density.
    """
    tags = dict(scf)
    tags.update(
        {
            "ICHARG": 11,
            "ISYM": 0,
            "ISMEAR": 0,
            "ALGO": "Normal",
            "LCHARG": False,
            "LWAVE": False,
        }
    )
    return Incar(tags)


def line_kpoints(kpath: KPath, lattice: np.ndarray, density: float) -> Kpoints:
    """Line-mode KPOINTS (reciprocal coordinates) over the segments of ``kpath``.

    VASP uses one division count for every line; it is chosen so that the longest segment
    gets ``density`` points per 1/Å (2π included), so no segment is sampled more coarsely.
    """
    recip = Lattice(lattice).reciprocal_lattice.matrix
    longest = max(
        float(np.linalg.norm((np.array(s.end) - np.array(s.start)) @ recip)) for s in kpath.segments
    )
    n = max(2, math.ceil(longest * density)) + 1
    kpts: list[list[float]] = []
    labels: list[str] = []
    for seg in kpath.segments:
        kpts += [list(seg.start), list(seg.end)]
        labels += [seg.start_label, seg.end_label]
    return Kpoints(
        comment="altermag k-path: " + " | ".join(f"{s.name} {s.kind}" for s in kpath.segments),
        num_kpts=n,
        style=Kpoints.supported_modes.Line_mode,
        coord_type="Reciprocal",
        kpts=kpts,
        labels=labels,
    )


@dataclass
class VaspInputs:
    """What :func:`write_vasp_inputs` wrote."""

    directory: Path
    scf: Path
    bands: Path
    kpath: KPath
    potcar_symbols: list[str]
    potcar_written: bool


def scf_files(
    structure: MagneticStructure, settings: DftSettings, potcar_dir: Path | None = None
) -> dict[str, str]:
    """One spin-polarised SCF deck: ``POSCAR`` (sites grouped by element,
    :func:`poscar_site_order`), ``INCAR`` (:func:`scf_incar`, MAGMOM in POSCAR order),
    ``KPOINTS`` (the Γ-centred mesh of the settings), ``POTCAR.spec`` and, when a POTCAR
    folder is set, ``POTCAR``."""
    pmg, _ = _sorted_structure(structure)
    mesh = kpoint_mesh(structure, settings)
    symbols = potcar_symbols(_elements(structure))
    folder = find_potcar_dir(potcar_dir)
    files = {
        "POSCAR": Poscar(pmg, comment=structure.label or structure.formula).get_str(),
        "INCAR": str(scf_incar(structure, settings)),
        "KPOINTS": str(
            Kpoints.gamma_automatic((mesh[0], mesh[1], mesh[2]), comment="altermag SCF mesh")
        ),
        "POTCAR.spec": "\n".join(symbols) + "\n",
    }
    if folder is not None:
        files["POTCAR"] = _potcar_text(symbols, folder)
    return files


def vasp_input_set(
    structure: MagneticStructure,
    result: SpinGroupResult,
    settings: DftSettings,
    resources: Resources | None = None,
    potcar_dir: Path | None = None,
) -> InputSet:
    """The ``scf/`` and ``bands/`` decks, job scripts and metadata in memory (see
    :func:`write_vasp_inputs`); ``missing`` is ``["POTCAR"]`` when no POTCAR folder is set."""
    require_moments(structure)
    kpath = build_kpath(structure, result)
    scf = scf_incar(structure, settings)
    step_files = scf_files(structure, settings, potcar_dir)
    potcar = step_files.get("POTCAR")
    bands_step = {
        **step_files,
        "INCAR": str(bands_incar(scf)),
        "KPOINTS": str(line_kpoints(kpath, structure.lattice, settings.kpath_density)),
    }
    files: dict[str, str] = {}
    for step, deck in (("scf", step_files), ("bands", bands_step)):
        files.update({f"{step}/{name}": text for name, text in deck.items()})
    exe = vasp_command(settings)
    res = resources or settings.resources
    env = {"OMP_NUM_THREADS": "1"}
    local = vasp_steps(launched(exe, "mpirun", res.ntasks))
    files["run.sh"] = local_script(local, env=env)
    files["job.sbatch"] = slurm_script(
        vasp_steps(launched(exe, "srun")),
        res,
        job_name=f"altermag-{structure.label or structure.formula}",
        env=env,
    )
    files.update(metadata_files(structure, result, kpath, settings, "vasp"))
    written = "POTCAR" if potcar is not None else ""
    return InputSet(
        "vasp",
        files,
        kpath,
        missing=[] if potcar is not None else ["POTCAR"],
        summary=written or "POTCAR.spec only: set ALTERMAG_VASP_PSP_DIR for POTCARs",
    )


def write_vasp_inputs(
    structure: MagneticStructure,
    result: SpinGroupResult,
    settings: DftSettings,
    directory: Path,
    resources: Resources | None = None,
    potcar_dir: Path | None = None,
) -> VaspInputs:
    """Write the ``scf/`` and ``bands/`` VASP decks, job scripts and metadata.

    Parameters
    ----------
    structure
        Magnetic cell with collinear moments (one POSCAR species per element).
    result
        Its spin-group prediction (form factor → split and nodal k-path segments).
    settings
        A preset (:func:`~altermag.dft.presets.load_preset`): ``encut``, ``kpoints`` or
        ``kspacing``, ``hubbard_u``, ``vasp_incar``, ``vasp_command``, ``resources``…
    directory
        Output folder.
    resources
        Slurm resources; default from the preset's ``resources``.
    potcar_dir
        Folder with POTCARs; default ``ALTERMAG_VASP_PSP_DIR`` / ``PMG_VASP_PSP_DIR``. Without
        one only ``POTCAR.spec`` is written.
    """
    deck = vasp_input_set(structure, result, settings, resources, potcar_dir)
    deck.write(directory)
    symbols = deck.files["scf/POTCAR.spec"].split()
    return VaspInputs(
        directory,
        directory / "scf",
        directory / "bands",
        deck.kpath,
        symbols,
        not deck.missing,
    )
