"""Read VASP run folders (vasprun.xml, EIGENVAL, OUTCAR) and judge them like QE runs.

pymatgen's parsers do the reading: :class:`~pymatgen.io.vasp.outputs.Vasprun` (cell, k-points,
eigenvalues of both spins, Fermi level, INCAR, electronic convergence),
:class:`~pymatgen.io.vasp.outputs.Eigenval` (k-points and eigenvalues only; the cell comes
from the POSCAR/CONTCAR beside it) and :class:`~pymatgen.io.vasp.outputs.Outcar` (site
moments with ``LORBIT`` ≥ 10, total moment, Fermi level). Everything after that — segments
named after the high-symmetry points, splitting per segment, gaps, verdict — is the
code-neutral :func:`~altermag.dft.judging.judge_run`, the same as for Quantum ESPRESSO.

A folder may hold one run or two (``scf/`` and ``bands/`` as ``altermag dft prepare`` writes
them, or any other names): a run is the *bands* run when its INCAR has ``ICHARG`` ≥ 10 or its
KPOINTS is in line mode, the *SCF* otherwise. The Fermi level, convergence and moments are
taken from the SCF when there is one (VASP's Fermi level of a non-self-consistent line-mode
run is not reliable: it is computed from the path's k-points only).
"""

from __future__ import annotations

import json
import re
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from altermag.dft.judging import BandRun, judge_run, load_settings
from altermag.dft.kpath import KPath
from altermag.dft.verdict import DFTVerdict
from altermag.errors import PARSER_ERRORS, DftError
from altermag.result import SpinGroupResult
from altermag.structure import MagneticStructure

__all__ = [
    "VaspAnalysis",
    "VaspBands",
    "VaspOutputError",
    "VaspRun",
    "analyze_vasp",
    "find_vasp_runs",
    "is_vasp_folder",
    "outcar_converged",
    "read_eigenval",
    "read_outcar",
    "read_vasprun",
]

_EDIFF_REACHED = "aborting loop because EDIFF is reached"


class VaspOutputError(DftError, ValueError):
    """Missing or unreadable VASP output."""


@dataclass
class VaspBands:
    """Eigenvalues of one VASP run and its cell."""

    lattice: np.ndarray
    """3×3, rows are lattice vectors in Å."""
    elements: list[str]
    frac_coords: np.ndarray
    kpoints: np.ndarray
    """N×3 fractional coordinates in the reciprocal basis of ``lattice``."""
    eigenvalues_up: np.ndarray
    """N×nbnd, eV."""
    eigenvalues_down: np.ndarray
    """Equal to ``eigenvalues_up`` for a non-spin-polarised run (ISPIN = 1)."""
    spin_polarized: bool
    fermi_energy: float | None
    """eV, as written by VASP (None for an EIGENVAL)."""
    converged: bool | None
    magmom: list[float] | None = None
    """INCAR MAGMOM per site (collinear), None when not set."""
    source: str = ""
    problems: list[str] = field(default_factory=list)
    """Why the file cannot be trusted (truncated); its complete k-points are kept."""


@dataclass
class VaspMoments:
    """Site moments (μB, ``magnetization (x)`` totals) and the cell's total moment."""

    site_moments: list[float]
    total_moment: float | None
    fermi_energy: float | None
    converged: bool | None


def _find(folder: Path, name: str) -> Path | None:
    for cand in (folder / name, folder / f"{name}.gz"):
        if cand.is_file():
            return cand
    return None


def _collinear(magmom: Any, n: int) -> list[float] | None:
    if magmom is None:
        return None
    m = np.asarray(magmom, float)
    if m.size == 3 * n and m.size != n:
        m = m.reshape(n, 3)[:, 2]
    if m.size != n:
        return None
    return [float(x) for x in m.ravel()]


def _eigen(eig: dict[Any, np.ndarray]) -> tuple[np.ndarray, np.ndarray, bool]:
    from pymatgen.electronic_structure.core import Spin

    up = np.asarray(eig[Spin.up])[:, :, 0]
    if Spin.down in eig:
        return up, np.asarray(eig[Spin.down])[:, :, 0], True
    return up, up.copy(), False


def read_vasprun(path: Path) -> VaspBands:
    """Parse ``vasprun.xml`` (or ``.xml.gz``) with pymatgen's :class:`Vasprun`."""
    from pymatgen.io.vasp.outputs import Vasprun

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # POTCAR/convergence notes; read below
            # the Fermi level is in the <dos> block: parse_dos stays on
            run = Vasprun(str(path), parse_potcar_file=False, parse_projected_eigen=False)
    except PARSER_ERRORS as exc:
        raise VaspOutputError(f"{path}: {exc}") from exc
    s = run.final_structure
    if run.eigenvalues is None:
        raise VaspOutputError(f"{path}: no eigenvalues")
    up, down, spin = _eigen(run.eigenvalues)
    magmom = run.incar.get("MAGMOM", run.parameters.get("MAGMOM")) if spin else None
    return VaspBands(
        lattice=np.asarray(s.lattice.matrix),
        elements=[site.specie.symbol for site in s],
        frac_coords=np.asarray(s.frac_coords),
        kpoints=np.round(np.asarray(run.actual_kpoints, float), 8),
        eigenvalues_up=up,
        eigenvalues_down=down,
        spin_polarized=spin,
        fermi_energy=float(run.efermi) if run.efermi is not None else None,
        converged=bool(run.converged_electronic),
        magmom=_collinear(magmom, len(s)),
        source=str(path),
    )


def read_eigenval(path: Path, poscar: Path | None = None) -> VaspBands:
    """Parse ``EIGENVAL`` (pymatgen :class:`Eigenval`); the cell from ``poscar``.

    ``poscar`` defaults to ``CONTCAR`` or ``POSCAR`` beside the EIGENVAL, and the MAGMOM to
    the ``INCAR`` there. EIGENVAL has no Fermi level (``fermi_energy`` is None).
    """
    from pymatgen.io.vasp.inputs import Incar, Poscar
    from pymatgen.io.vasp.outputs import Eigenval

    folder = path.parent
    poscar = poscar or _find(folder, "CONTCAR") or _find(folder, "POSCAR")
    if poscar is None:
        raise VaspOutputError(f"no POSCAR or CONTCAR beside {path}: the cell is unknown")
    try:
        ev = Eigenval(str(path))
        s = Poscar.from_file(str(poscar)).structure
    except PARSER_ERRORS as exc:
        raise VaspOutputError(f"{path}: {exc}") from exc
    up, down, spin = _eigen(ev.eigenvalues)
    incar = _find(folder, "INCAR")
    magmom = Incar.from_file(str(incar)).get("MAGMOM") if incar and spin else None
    complete, problem = eigenval_completeness(path, int(ev.nkpt), int(ev.nbands), spin)
    kpoints = np.round(np.asarray(ev.kpoints, float), 8)[:complete]
    return VaspBands(
        lattice=np.asarray(s.lattice.matrix),
        elements=[site.specie.symbol for site in s],
        frac_coords=np.asarray(s.frac_coords),
        kpoints=kpoints.reshape(len(kpoints), 3),
        eigenvalues_up=up[:complete],
        eigenvalues_down=down[:complete],
        spin_polarized=spin,
        fermi_energy=None,
        converged=None,
        magmom=_collinear(magmom, len(s)),
        source=str(path),
        problems=[problem] if problem else [],
    )


def _expected_kpoints(folder: Path) -> int | None:
    """k-points the KPOINTS in ``folder`` asks for: divisions × lines in line mode, the list's
    length for an explicit list; None for an automatic mesh (VASP reduces it) or no file."""
    from pymatgen.io.vasp.inputs import Kpoints

    path = _find(folder, "KPOINTS")
    if path is None:
        return None
    try:
        kp = Kpoints.from_file(str(path))
    except PARSER_ERRORS:
        return None
    if kp.style == Kpoints.supported_modes.Line_mode:
        return int(kp.num_kpts) * (len(kp.kpts) // 2)
    if kp.style in (Kpoints.supported_modes.Reciprocal, Kpoints.supported_modes.Cartesian):
        return int(kp.num_kpts) if kp.num_kpts > 0 else None
    return None


def eigenval_completeness(path: Path, nkpt: int, nbands: int, spin: bool) -> tuple[int, str | None]:
    """How many k-points of an EIGENVAL are complete, and what is missing (None: nothing).

    The header promises ``nkpt`` blocks of a k-point line and ``nbands`` band lines (index,
    energies, occupations: 5 columns when spin-polarised, 3 otherwise); a file cut short
    (copy interrupted, job killed while writing) has fewer.
    """
    import gzip

    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", errors="replace") as fh:
        lines = [x.split() for x in fh.read().splitlines()[6:] if x.strip()]
    width = 5 if spin else 3
    complete = 0
    i = 0
    while complete < nkpt and i + nbands < len(lines):
        block = lines[i + 1 : i + 1 + nbands]
        if len(block) < nbands or any(len(row) < width for row in block):
            break
        complete += 1
        i += 1 + nbands
    if complete < nkpt:
        return complete, (
            f"{path.name} holds {complete} complete k-points of the {nkpt} its header "
            f"announces ({nbands} bands each): truncated"
        )
    return complete, None


def read_outcar(path: Path) -> VaspMoments:
    """Site moments, total moment, Fermi level and convergence from an ``OUTCAR``.

    Site moments need ``LORBIT`` ≥ 10 (the ``magnetization (x)`` table; its ``tot``
    column, integrated in the PAW spheres); convergence is VASP's "aborting loop because
    EDIFF is reached" line.
    """
    from pymatgen.io.vasp.outputs import Outcar

    try:
        out = Outcar(str(path))
    except PARSER_ERRORS as exc:
        raise VaspOutputError(f"{path}: {exc}") from exc
    sites = [float(m["tot"]) for m in (out.magnetization or ()) if "tot" in m]
    total = out.total_mag
    if total is None:
        found = _grep_last(path, r"number of electron\s+\S+\s+magnetization\s+(\S+)")
        total = float(found) if found else None
    return VaspMoments(
        site_moments=sites,
        total_moment=float(total) if total is not None else None,
        fermi_energy=float(out.efermi) if out.efermi is not None else None,
        converged=outcar_converged(path),
    )


def outcar_converged(path: Path) -> bool:
    """Did the last electronic loop of the OUTCAR reach EDIFF?

    VASP ends each converged loop with "aborting loop because EDIFF is reached"; VASP 6
    ends an unconverged one (NELM hit) with "aborting loop EDIFF was not reached
    (unconverged)", VASP 5 with nothing. The last such line decides.
    """
    found = _grep_last(path, r"aborting loop[^\n]*")
    return found is not None and _EDIFF_REACHED in found


def _grep_last(path: Path, pattern: str) -> str | None:
    import gzip

    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", errors="replace") as fh:
        found = re.findall(pattern, fh.read())
    return found[-1] if found else None


@dataclass
class VaspRun:
    """The output files of one VASP run (one folder)."""

    folder: Path
    vasprun: Path | None
    eigenval: Path | None
    outcar: Path | None
    kind: str
    """``bands`` (ICHARG ≥ 10 or line-mode KPOINTS), ``scf``, or ``unknown`` (no INCAR,
    KPOINTS or vasprun.xml to tell: a bare EIGENVAL is taken as the bands run)."""


def _kind(folder: Path, vasprun: Path | None) -> str:
    from pymatgen.io.vasp.inputs import Incar, Kpoints

    incar, kpoints = _find(folder, "INCAR"), _find(folder, "KPOINTS")
    if incar is not None and int(Incar.from_file(str(incar)).get("ICHARG", 0)) >= 10:
        return "bands"
    if kpoints is not None:
        try:
            if Kpoints.from_file(str(kpoints)).style == Kpoints.supported_modes.Line_mode:
                return "bands"
        except PARSER_ERRORS:  # an unreadable KPOINTS says nothing about the run
            pass
    if vasprun is not None:
        import gzip

        opener = gzip.open if vasprun.suffix == ".gz" else open
        with opener(vasprun, "rt", errors="replace") as fh:
            head = fh.read(20_000)
        icharg = re.search(r'name="ICHARG">\s*(\d+)', head)
        if (icharg and int(icharg.group(1)) >= 10) or "listgenerated" in head:
            return "bands"
    if vasprun is None and incar is None and kpoints is None:
        return "unknown"
    return "scf"


def is_vasp_folder(directory: Path) -> bool:
    """True when ``directory`` (or a folder below it) holds vasprun.xml, EIGENVAL or OUTCAR."""
    return bool(find_vasp_runs(directory)) if directory.is_dir() else False


def find_vasp_runs(directory: Path) -> list[VaspRun]:
    """Every folder at or below ``directory`` with VASP outputs, classified scf/bands."""
    folders: dict[Path, None] = {}
    for pattern in ("vasprun.xml*", "EIGENVAL*", "OUTCAR*"):
        for p in sorted(directory.rglob(pattern)):
            folders.setdefault(p.parent, None)
    runs = []
    for folder in folders:
        vr = _find(folder, "vasprun.xml")
        runs.append(
            VaspRun(
                folder, vr, _find(folder, "EIGENVAL"), _find(folder, "OUTCAR"), _kind(folder, vr)
            )
        )
    return runs


@dataclass
class VaspAnalysis:
    """Everything read and derived from one VASP folder (fields as in ``QEAnalysis``)."""

    verdict: DFTVerdict
    bands: VaspBands
    scf: VaspMoments | None
    structure: MagneticStructure
    prediction: SpinGroupResult
    kpath: KPath
    ranges: list[tuple[int, int, str, str]]
    splitting: np.ndarray
    """Largest splitting per band k-point within the window (eV)."""
    fermi_energy: float
    runs: list[VaspRun] = field(default_factory=list)


def _bands_of(run: VaspRun) -> VaspBands:
    if run.vasprun is not None:
        return read_vasprun(run.vasprun)
    if run.eigenval is not None:
        return read_eigenval(run.eigenval)
    raise VaspOutputError(f"{run.folder}: no vasprun.xml or EIGENVAL (eigenvalues)")


def analyze_vasp(
    directory: Path,
    overrides: Mapping[str, Any] | None = None,
    fermi_energy: float | None = None,
) -> VaspAnalysis:
    """Parse the VASP run(s) under ``directory`` and judge them against the prediction.

    Parameters
    ----------
    directory
        A VASP run folder, or a folder with an SCF and a bands run below it.
    overrides
        Threshold overrides (``split_min_ev``, ``noise_ev``, ``window_ev``…).
    fermi_energy
        eV; wins over the files (needed when only an EIGENVAL is there, which has none).

    The prediction comes from ``spin_group.json`` when altermag prepared the folder;
    otherwise from :func:`altermag.analyze` on the cell with the INCAR MAGMOM (no MAGMOM or
    ISPIN = 1: no moments, a nonmagnetic reference).
    """
    if not directory.is_dir():
        raise VaspOutputError(f"{directory} is not a folder")
    runs = find_vasp_runs(directory)
    with_eig = [r for r in runs if r.vasprun or r.eigenval]
    if not with_eig:
        raise VaspOutputError(f"no vasprun.xml or EIGENVAL under {directory}")
    band_runs = [r for r in with_eig if r.kind == "bands"]
    band_runs = band_runs or [r for r in with_eig if r.kind == "unknown"]
    bands_run = band_runs[0] if band_runs else with_eig[0]
    scf_runs = [r for r in runs if r.kind == "scf" and r.folder != bands_run.folder]
    scf_run = scf_runs[0] if scf_runs else None
    bands = _bands_of(bands_run)
    settings = load_settings(directory, overrides)
    warnings_: list[str] = []
    if bands_run.kind == "scf":
        warnings_.append(
            f"no line-mode bands run found: splitting measured on the k-points of "
            f"{bands_run.folder.name or directory.name}"
        )

    scf_bands = read_vasprun(scf_run.vasprun) if scf_run is not None and scf_run.vasprun else None
    outcar = scf_run.outcar if scf_run is not None and scf_run.outcar else None
    if outcar is None and scf_run is None:
        outcar = bands_run.outcar
    mom = read_outcar(outcar) if outcar is not None else None

    fermi = fermi_energy
    for cand in (
        scf_bands.fermi_energy if scf_bands else None,
        mom.fermi_energy if mom else None,
        bands.fermi_energy,
    ):
        if fermi is None and cand is not None:
            fermi = cand
    if fermi is None:
        raise VaspOutputError(
            f"no Fermi level under {directory} (EIGENVAL has none): add the SCF's vasprun.xml "
            "or OUTCAR, or pass it (--fermi)"
        )
    if fermi_energy is None and scf_bands is None and mom is None and band_runs:
        warnings_.append("no SCF run found: the bands run's own Fermi level is used")

    if scf_bands is not None:
        converged = bool(scf_bands.converged)
    elif mom is not None and mom.converged is not None:
        converged = mom.converged
    elif bands.converged is not None:
        converged = bands.converged
    else:
        converged = None

    moments = list(mom.site_moments) if mom else []
    if bands.spin_polarized and not moments:
        warnings_.append("no site moments (OUTCAR with LORBIT >= 10) found")
    total = mom.total_moment if mom else None

    magmom = bands.magmom or (scf_bands.magmom if scf_bands else None)
    saved = directory / "structure.json"
    structure = MagneticStructure(
        bands.lattice,
        tuple(bands.elements),
        bands.frac_coords,
        np.asarray(magmom if magmom is not None else [0.0] * len(bands.elements), float),
        label="vasp",
    )
    if magmom is None and saved.is_file():
        prepared = MagneticStructure.from_dict(json.loads(saved.read_text()))
        if prepared.species == structure.species and prepared.magmoms is not None:
            structure = structure.with_moments(prepared.magmoms)
    prepared_moments = (
        [float(m[2]) for m in structure.magmoms] if structure.magmoms is not None else []
    )
    problems = list(bands.problems)
    expected = _expected_kpoints(bands_run.folder)
    if expected is not None and len(bands.kpoints) < expected:
        problems.append(
            f"the bands run holds {len(bands.kpoints)} of the {expected} k-points its KPOINTS "
            "asks for"
        )
    if moments and len(moments) != len(structure):
        problems.append(
            f"the OUTCAR has {len(moments)} site moments for a cell of {len(structure)} sites: "
            "it belongs to another run"
        )
    if scf_bands is not None and (
        len(scf_bands.elements) != len(bands.elements)
        or not np.allclose(scf_bands.lattice, bands.lattice, atol=1e-3)
    ):
        problems.append("the SCF and the bands run have different cells")
    run = BandRun(
        structure=structure,
        kpoints=bands.kpoints,
        eigenvalues_up=bands.eigenvalues_up,
        eigenvalues_down=bands.eigenvalues_down,
        fermi=fermi,
        converged=converged,
        moments=moments,
        total_moment=total,
        absolute_moment=None,
        prepared_moments=prepared_moments,
        code="vasp",
        warnings=warnings_,
        problems=problems,
    )
    j = judge_run(directory, run, settings)
    return VaspAnalysis(
        j.verdict, bands, mom, structure, j.prediction, j.kpath, j.ranges, j.splitting, fermi, runs
    )
