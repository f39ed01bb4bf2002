"""Quantum ESPRESSO (pw.x 6.7) inputs for a spin-polarised SCF and a bands step.

Choices that matter for a splitting test (docs/pitfalls.md):

- up and down sites of a magnetic element are two species (``Cr1`` up, ``Cr2`` down), each
  with its ``starting_magnetization`` given as a *fraction* (moment / saturation moment,
  clamped to ±1 as pw.x does);
- the FFT grid ``nr1, nr2, nr3`` is set explicitly, even and a multiple of every denominator
  of the crystal's fractional translations: a grid that cannot represent the half
  translation relating the sublattices breaks the symmetry that keeps nodal lines
  degenerate and fakes ~10 meV splittings;
- DFT+U (``Hubbard_U`` in eV, QE ≤ 6.x syntax) from the preset, applied like Materials
  Project only when one of ``hubbard_u_anions`` is present;
- the bands step lists explicit crystal k-points along the :class:`~altermag.dft.kpath.KPath`.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np
import spglib

from altermag.dft.deck import collinear_moments, kpoint_mesh, metadata_files, require_moments
from altermag.dft.kpath import KPath, build_kpath
from altermag.dft.protocol import InputSet
from altermag.dft.qe.pseudo import (
    PseudoError,
    Pseudopotential,
    find_pseudopotentials,
    pseudo_dir,
)
from altermag.dft.qe.version import installed_pw_version
from altermag.dft.settings import DftSettings
from altermag.hpc.slurm import Resources, local_script, slurm_script
from altermag.result import SpinGroupResult
from altermag.structure import MagneticStructure

__all__ = [
    "BOHR_ANGSTROM",
    "QEInputs",
    "collinear_moments",
    "fft_grid",
    "kpoint_mesh",
    "qe_input_set",
    "qe_species",
    "write_qe_inputs",
]

BOHR_ANGSTROM = 0.529177210903
PSEUDO_SUBDIR = "pseudo"
"""Folder of a deck that holds copies of its pseudopotentials (``pseudo_dir``)."""
MODERN_QE = "7.2"
"""Version decks are written for when neither the preset nor an installed pw.x says."""
MOMENT_TOL = 0.05  # μB: smaller moments are treated as zero when assigning species


@dataclass
class QESpecies:
    """One pw.x species: a label (≤ 3 characters), its element and its moment (μB)."""

    label: str
    element: str
    moment: float


def qe_species(structure: MagneticStructure) -> tuple[list[QESpecies], list[int]]:
    """Species of the pw.x input and each site's species index.

    Sites of one element with different moments (±|m|, or magnetic and non-magnetic) become
    different species numbered ``Cr1``, ``Cr2``…, up before down; elements with one kind of
    site keep their symbol.
    """
    moments = collinear_moments(structure)
    keys: dict[str, list[float]] = {}
    for el, m in zip(structure.species, moments, strict=True):
        vals = keys.setdefault(el, [])
        if not any(abs(v - m) <= MOMENT_TOL for v in vals):
            vals.append(float(m))
    species: list[QESpecies] = []
    for el, vals in keys.items():
        vals.sort(reverse=True)
        if len(vals) == 1:
            species.append(QESpecies(el, el, vals[0]))
        else:
            if len(vals) > 9:
                raise ValueError(f"{el}: more than 9 distinct moments cannot be labelled")
            species += [QESpecies(f"{el}{i + 1}", el, v) for i, v in enumerate(vals)]
    index = []
    for el, m in zip(structure.species, moments, strict=True):
        index.append(
            next(
                i
                for i, s in enumerate(species)
                if s.element == el and abs(s.moment - m) <= MOMENT_TOL
            )
        )
    return species, index


_GOOD = sorted(2**a * 3**b * 5**c for a in range(1, 12) for b in range(0, 7) for c in range(0, 5))


def fft_grid(structure: MagneticStructure, ecutrho: float, symprec: float = 1e-3) -> list[int]:
    """Even FFT grid for ``ecutrho`` (Ry), commensurate with the fractional translations.

    The density needs Miller indices |m_i| ≤ √ecutrho |a_i| / 2π (bohr units), hence at least
    2 m_i + 1 points; the grid is the next 2-3-5 number that is even and a multiple of every
    denominator of the translations of the non-magnetic crystal along that axis (so that pw.x
    keeps every symmetry, in particular the half translation relating the sublattices).
    """
    lattice_bohr = np.asarray(structure.lattice) / BOHR_ANGSTROM
    numbers = [sorted(set(structure.species)).index(s) for s in structure.species]
    sym = spglib.get_symmetry(
        (structure.lattice.tolist(), structure.frac_coords.tolist(), numbers), symprec=symprec
    )
    denoms = [2, 2, 2]
    for t in sym["translations"] if sym else []:
        for i in range(3):
            x = Fraction(float(t[i]) % 1.0).limit_denominator(12)
            if x.numerator % x.denominator:
                denoms[i] = math.lcm(denoms[i], x.denominator)
    grid = []
    for i in range(3):
        nmin = 2 * math.ceil(math.sqrt(ecutrho) * np.linalg.norm(lattice_bohr[i]) / (2 * np.pi))
        nmin += 1
        grid.append(next(n for n in _GOOD if n >= nmin and n % denoms[i] == 0))
    return grid


def _fmt(x: float) -> str:
    return f"{x:.10f}"


def pw_input(
    structure: MagneticStructure,
    settings: DftSettings,
    pseudos: dict[str, Pseudopotential],
    calculation: str,
    kpoints_block: str,
    prefix: str = "altermag",
    outdir: str = "./out",
    pseudo_folder: str | None = None,
    nbnd: int | None = None,
    version: str = "6.7",
) -> str:
    """Text of one pw.x input (``calculation`` = ``scf`` or ``bands``) for pw.x ``version``.

    The plane-wave cut-offs are :meth:`~altermag.dft.settings.QESettings.cutoffs` of the
    structure's elements; DFT+U is written in the syntax of ``version``
    (:func:`hubbard_lines`).
    """
    species, index = qe_species(structure)
    ecutwfc, ecutrho = settings.qe.cutoffs(structure.species)
    grid = fft_grid(structure, ecutrho)
    hub = settings.hubbard_for(structure.species)
    sat = settings.moment_saturation
    folder = (
        str(pseudos[structure.species[0]].path.parent) if pseudo_folder is None else pseudo_folder
    )
    control = [
        f"  calculation = '{calculation}'",
        f"  prefix = '{prefix}'",
        f"  outdir = '{outdir}'",
        *([f"  pseudo_dir = '{folder}'"] if folder else []),  # none: pw.x uses $ESPRESSO_PSEUDO
        "  verbosity = 'high'" if calculation == "bands" else "  verbosity = 'low'",
        "  disk_io = 'low'",
    ]
    system = [
        "  ibrav = 0",
        f"  nat = {len(structure)}",
        f"  ntyp = {len(species)}",
        f"  ecutwfc = {ecutwfc}",
        f"  ecutrho = {ecutrho}",
        "  occupations = 'smearing'",
        f"  smearing = '{settings.smearing}'",
        f"  degauss = {settings.degauss}",
        "  nspin = 2",
        f"  nr1 = {grid[0]}",
        f"  nr2 = {grid[1]}",
        f"  nr3 = {grid[2]}",
    ]
    if nbnd is not None:
        system.append(f"  nbnd = {nbnd}")
    for i, sp in enumerate(species, start=1):
        frac = max(-1.0, min(1.0, sp.moment / sat))
        system.append(f"  starting_magnetization({i}) = {frac:.4f}")
    legacy, card = hubbard_lines(species, hub, version)
    system += legacy
    electrons = [
        f"  conv_thr = {settings.conv_thr_per_atom * len(structure):.3e}",
        f"  mixing_beta = {settings.mixing_beta}",
    ]
    if calculation == "bands":
        electrons.append("  diago_full_acc = .true.")
        if settings.qe.bands_diago_thr is not None:
            # non-SCF: the Davidson threshold of every k-point (Ry); QE's default,
            # conv_thr / nelec / 10, asks for ~1e-10 Ry and costs time for nothing
            electrons.append(f"  diago_thr_init = {settings.qe.bands_diago_thr:.1e}")
    lines = ["&CONTROL", *control, "/", "&SYSTEM", *system, "/", "&ELECTRONS", *electrons, "/"]
    lines.append("ATOMIC_SPECIES")
    for sp in species:
        pp = pseudos[sp.element]
        from pymatgen.core import Element

        lines.append(f"  {sp.label} {float(Element(sp.element).atomic_mass):.4f} {pp.filename}")
    lines.append("CELL_PARAMETERS angstrom")
    lines += ["  " + " ".join(_fmt(x) for x in row) for row in np.asarray(structure.lattice)]
    lines.append("ATOMIC_POSITIONS crystal")
    for i, f in zip(index, np.asarray(structure.frac_coords), strict=True):
        lines.append(f"  {species[i].label} " + " ".join(_fmt(x) for x in f))
    lines.append(kpoints_block)
    lines += card
    return "\n".join(lines) + "\n"


def card_syntax(version: str) -> bool:
    """True when pw.x ``version`` (``6.7``, ``7.2``, ``6.7MaX``) reads DFT+U from the
    ``HUBBARD`` card (QE 7.1 and later; ``lda_plus_u``/``Hubbard_U`` are refused there)."""
    m = re.match(r"(\d+)\.(\d+)", version)
    if m is None:
        raise ValueError(f"not a pw.x version: {version!r}")
    return (int(m.group(1)), int(m.group(2))) >= (7, 1)


def hubbard_manifold(element: str) -> str:
    """The correlated shell of ``element`` as pw.x names it: ``3d`` for Mn, ``4d`` for Mo,
    ``5d`` for W, ``4f``/``5f`` for lanthanides/actinides."""
    from pymatgen.core import Element

    el = Element(element)
    if el.block == "f":
        return "5f" if el.Z >= 89 else "4f"
    if el.block != "d":
        raise ValueError(f"{element} has no d or f shell for a Hubbard U")
    return f"{el.row - 1}d"


def hubbard_lines(
    species: list[QESpecies], hub: dict[str, float], version: str
) -> tuple[list[str], list[str]]:
    """DFT+U (Dudarev, U in eV) in the syntax of pw.x ``version``: the ``&SYSTEM`` lines and
    the card after the k-points; both empty without U.

    QE < 7.1: ``lda_plus_u = .true.`` and ``Hubbard_U(i)`` per species (projection on the
    atomic orbitals, the default ``U_projection_type``). QE ≥ 7.1: a ``HUBBARD (atomic)``
    card with ``U <label>-<shell> <U>`` per species, the same projection, so decks for both
    versions compute the same thing.
    """
    if not hub:
        return [], []
    if card_syntax(version):
        card = ["HUBBARD (atomic)"]
        for sp in species:
            if hub.get(sp.element, 0.0):
                card.append(f"  U {sp.label}-{hubbard_manifold(sp.element)} {hub[sp.element]}")
        return [], card
    system = ["  lda_plus_u = .true."]
    for i, sp in enumerate(species, start=1):
        system.append(f"  Hubbard_U({i}) = {hub.get(sp.element, 0.0)}")
    return system, []


@dataclass
class QEInputs:
    """What :func:`write_qe_inputs` wrote."""

    directory: Path
    scf: Path
    bands: Path
    kpath: KPath
    prefix: str
    n_band_kpoints: int


def _pseudos(
    elements: list[str], settings: DftSettings, folder: Path, allow_missing: bool
) -> tuple[dict[str, Pseudopotential], list[str]]:
    pinned = settings.qe.pseudopotentials or None
    functional = settings.qe.functional
    try:
        return find_pseudopotentials(elements, functional, folder, pinned), []
    except PseudoError:
        if not allow_missing:
            raise
    pseudos: dict[str, Pseudopotential] = {}
    missing: list[str] = []
    for el in elements:
        try:
            pseudos.update(find_pseudopotentials([el], functional, folder, pinned))
        except PseudoError:
            missing.append(el)
            pseudos[el] = Pseudopotential(el, Path(f"{el}.{functional}.UPF"), math.nan, "missing")
    return pseudos, missing


def qe_input_set(
    structure: MagneticStructure,
    result: SpinGroupResult,
    settings: DftSettings,
    prefix: str = "altermag",
    resources: Resources | None = None,
    pseudo_folder: Path | None = None,
    allow_missing_pseudos: bool = False,
) -> InputSet:
    """``scf.in``, ``bands.in``, job scripts and metadata in memory (see :func:`write_qe_inputs`).

    ``missing`` of the result lists the elements without a pseudopotential here.
    """
    require_moments(structure)
    elements = sorted(set(structure.species))
    folder = pseudo_folder or pseudo_dir()
    pseudos, missing = _pseudos(elements, settings, folder, allow_missing_pseudos)
    kpath = build_kpath(structure, result)
    mesh = kpoint_mesh(structure, settings)
    scf_k = f"K_POINTS automatic\n  {mesh[0]} {mesh[1]} {mesh[2]} 0 0 0"
    kpts, _ = kpath.kpoints(structure.lattice, settings.kpath_density)
    band_k = "\n".join(
        [f"K_POINTS crystal\n  {len(kpts)}"]
        + [f"  {_fmt(k[0])} {_fmt(k[1])} {_fmt(k[2])} 1.0" for k in kpts]
    )
    nelec = sum(pseudos[el].z_valence for el in structure.species)
    nbnd = None if missing else math.ceil(nelec / 2 * 1.2) + settings.qe.extra_bands
    # the pseudopotentials travel with the deck (pseudo/), so no local path is baked in;
    # without them pw.x reads $ESPRESSO_PSEUDO of the machine that runs it
    folder_text = "" if missing else f"./{PSEUDO_SUBDIR}"
    version = settings.qe.version or installed_pw_version() or MODERN_QE
    scf = pw_input(
        structure,
        settings,
        pseudos,
        "scf",
        scf_k,
        prefix,
        pseudo_folder=folder_text,
        version=version,
    )
    bands = pw_input(
        structure,
        settings,
        pseudos,
        "bands",
        band_k,
        prefix,
        pseudo_folder=folder_text,
        nbnd=nbnd,
        version=version,
    )
    steps = [
        "pw.x -in scf.in > scf.out",
        f"cp out/{prefix}.save/data-file-schema.xml scf-data-file-schema.xml",
        "pw.x -in bands.in > bands.out",
    ]
    env = {"OMP_NUM_THREADS": "1"}
    srun = [s.replace("pw.x", "srun pw.x", 1) if s.startswith("pw.x") else s for s in steps]
    res = resources or settings.resources
    upf = (
        {}
        if missing
        else {f"{PSEUDO_SUBDIR}/{p.filename}": p.path.read_text() for p in pseudos.values()}
    )
    files = {
        **upf,
        "scf.in": scf,
        "bands.in": bands,
        "run.sh": local_script(steps, env=env),
        "job.sbatch": slurm_script(
            srun, res, job_name=f"altermag-{structure.label or prefix}", env=env
        ),
        **metadata_files(
            structure,
            result,
            kpath,
            settings,
            "qe",
            prefix=prefix,
            qe_version=version,
            **({"missing_pseudopotentials": missing} if missing else {}),
        ),
    }
    return InputSet("qe", files, kpath, missing=missing, summary=f"{len(kpts)} band k-points")


def write_qe_inputs(
    structure: MagneticStructure,
    result: SpinGroupResult,
    settings: DftSettings,
    directory: Path,
    prefix: str = "altermag",
    resources: Resources | None = None,
    pseudo_folder: Path | None = None,
    allow_missing_pseudos: bool = False,
) -> QEInputs:
    """Write ``scf.in``, ``bands.in``, job scripts and metadata into ``directory``.

    Besides the two pw.x inputs the folder gets ``run.sh`` (local, one MPI rank),
    ``job.sbatch`` (Slurm, ``resources``, default the preset's), ``structure.json``,
    ``spin_group.json``, ``kpath.json`` and ``settings.json``, so that ``altermag dft parse``
    can test the result against the prediction without the original files.

    With ``allow_missing_pseudos`` an element without a pseudopotential here gets the
    placeholder file name ``<El>.<functional>.UPF``: the decks are then written for a machine
    that has them (no ``pseudo_dir``, so pw.x reads ``$ESPRESSO_PSEUDO``; ``nbnd`` left to
    pw.x, which needs the valence charges), and ``settings.json`` lists the missing elements
    under ``missing_pseudopotentials``.
    """
    deck = qe_input_set(
        structure, result, settings, prefix, resources, pseudo_folder, allow_missing_pseudos
    )
    deck.write(directory)
    n_k = int(deck.files["bands.in"].split("K_POINTS crystal\n")[1].split()[0])
    scf, bands = directory / "scf.in", directory / "bands.in"
    return QEInputs(directory, scf, bands, deck.kpath, prefix, n_k)


__all__ += ["QESpecies", "pw_input"]
