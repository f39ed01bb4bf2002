"""Read Quantum ESPRESSO (6.x) outputs: ``data-file-schema.xml`` and the pw.x text output.

The XML (read with :mod:`xml.etree.ElementTree`; qeschema does not know the 6.7 schema) gives
the cell, the atoms, the k-points and the eigenvalues of both spins. The text output of the
SCF gives what the bands step's XML does not keep: convergence, the Fermi level, and the site
moments (after a bands run the XML's magnetization is 0). Any folder with a
``<prefix>.save/data-file-schema.xml`` and ``scf.out``/``bands.out`` beside it (or above it)
can be read, not only the ones altermag wrote.
"""

from __future__ import annotations

import gzip
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from altermag.dft.qe.inputs import BOHR_ANGSTROM
from altermag.errors import DftError

__all__ = [
    "HARTREE_EV",
    "QEBands",
    "QEOutputError",
    "QETextOutput",
    "find_qe_files",
    "parse_pw_output",
    "read_qe_xml",
]

HARTREE_EV = 27.211386245988


class QEOutputError(DftError, ValueError):
    """Missing or unreadable Quantum ESPRESSO output."""


@dataclass
class QEBands:
    """Eigenvalues and structure from one ``data-file-schema.xml``."""

    lattice: np.ndarray
    """3×3, rows are lattice vectors in Å."""
    labels: list[str]
    """Atom labels as in the input (``Cr1``, ``Cr2``, ``O``)."""
    elements: list[str]
    frac_coords: np.ndarray
    kpoints: np.ndarray
    """N×3 fractional coordinates in the reciprocal basis of ``lattice``."""
    eigenvalues_up: np.ndarray
    """N×nbnd, eV."""
    eigenvalues_down: np.ndarray
    fermi_energy: float | None
    """eV; None when the XML has none."""
    lsda: bool
    calculation: str
    converged: bool | None
    starting_magnetization: dict[str, float] = field(default_factory=dict)
    total_magnetization: float | None = None
    absolute_magnetization: float | None = None
    prefix: str | None = None
    """``prefix`` of the run's input."""
    nbnd: int = 0
    """Bands per spin the run computed."""
    n_kpoints_input: int | None = None
    """k-points the run's input listed (``k_points_IBZ``)."""
    problems: list[str] = field(default_factory=list)
    """What is missing (k-points without their eigenvalues); those k-points are dropped."""


def _floats(text: str | None) -> np.ndarray:
    return np.array([float(x) for x in (text or "").split()])


def _element(label: str, species_pseudo: dict[str, str]) -> str:
    from pymatgen.core import Element

    base = re.match(r"[A-Za-z]+", label)
    guess = base.group(0) if base else label
    for cand in (guess, guess[:2], guess[:1]):
        try:
            return Element(cand.capitalize()).symbol
        except ValueError:
            continue
    pp = species_pseudo.get(label, "")
    m = re.match(r"[A-Za-z]{1,2}", pp)
    if m:
        return Element(m.group(0).capitalize()).symbol
    raise QEOutputError(f"cannot tell the element of species {label!r}")


def read_qe_xml(path: Path) -> QEBands:
    """Parse a pw.x ``data-file-schema.xml`` (or a gzip-compressed ``.xml.gz`` copy).

    Energies are converted from Hartree to eV, positions from bohr to Å, and the k-points
    (Cartesian, units 2π/alat) to fractional coordinates of the cell's reciprocal basis.
    """
    try:
        if path.suffix == ".gz":
            with gzip.open(path) as fh:
                root = ET.parse(fh).getroot()
        else:
            root = ET.parse(path).getroot()
    except (ET.ParseError, OSError) as exc:
        raise QEOutputError(f"{path}: {exc}") from exc
    out = root.find("output")
    if out is None:
        raise QEOutputError(f"{path}: no <output> element (run did not finish?)")
    struct = out.find("atomic_structure")
    if struct is None:
        raise QEOutputError(f"{path}: no atomic_structure")
    alat = float(struct.get("alat", "1"))
    cell = np.array([_floats(struct.findtext(f"cell/a{i}")) for i in (1, 2, 3)])
    labels, cart = [], []
    for atom in struct.iter("atom"):
        labels.append(atom.get("name", "X"))
        cart.append(_floats(atom.text))
    species_pseudo: dict[str, str] = {}
    start_mag: dict[str, float] = {}
    for sp in out.iter("species"):
        name = sp.get("name", "")
        species_pseudo[name] = sp.findtext("pseudo_file", "")
        sm = sp.findtext("starting_magnetization")
        if sm is not None:
            start_mag[name] = float(sm)
    frac = np.array(cart) @ np.linalg.inv(cell)
    bs = out.find("band_structure")
    if bs is None:
        raise QEOutputError(f"{path}: no band_structure")
    lsda = bs.findtext("lsda", "false").strip() == "true"
    nbnd_up = int(bs.findtext("nbnd_up") or bs.findtext("nbnd") or 0)
    nbnd_dw = int(bs.findtext("nbnd_dw") or nbnd_up)
    per_k = nbnd_up + nbnd_dw if lsda else nbnd_up
    ef = bs.findtext("fermi_energy")
    kpts, eigs = [], []
    short = 0
    for ks in bs.iter("ks_energies"):
        values = _floats(ks.findtext("eigenvalues")) * HARTREE_EV
        if per_k == 0 or len(values) != per_k:
            short += 1
            continue
        kpts.append(_floats(ks.findtext("k_point")))
        eigs.append(values)
    problems = []
    if short:
        problems.append(
            f"{path.name}: {short} k-point(s) without their {per_k} eigenvalues"
            + (" (no eigenvalues at all)" if not kpts else "")
        )
    n_input = root.findtext("input/k_points_IBZ/nk")
    eig = np.array(eigs).reshape(len(eigs), per_k)
    k_cart = np.array(kpts).reshape(len(kpts), 3) * (2 * np.pi / alat)  # 1/bohr
    k_frac = k_cart @ cell.T / (2 * np.pi)
    up = eig[:, :nbnd_up] if lsda else eig
    down = eig[:, nbnd_up:] if lsda else eig
    conv = root.findtext("output/convergence_info/scf_conv/convergence_achieved")
    calc = root.findtext("input/control_variables/calculation", "").strip()
    mag = out.find("magnetization")
    tot = mag.findtext("total") if mag is not None else None
    absm = mag.findtext("absolute") if mag is not None else None
    return QEBands(
        lattice=cell * BOHR_ANGSTROM,
        labels=labels,
        elements=[_element(x, species_pseudo) for x in labels],
        frac_coords=frac,
        kpoints=np.round(k_frac, 8),
        eigenvalues_up=up,
        eigenvalues_down=down,
        fermi_energy=float(ef) * HARTREE_EV if ef is not None else None,
        lsda=lsda,
        calculation=calc,
        converged=None if conv is None else conv.strip() == "true",
        starting_magnetization=start_mag,
        total_magnetization=float(tot) if tot is not None else None,
        absolute_magnetization=float(absm) if absm is not None else None,
        prefix=(root.findtext("input/control_variables/prefix") or "").strip() or None,
        nbnd=nbnd_up,
        n_kpoints_input=int(n_input) if n_input and n_input.strip().isdigit() else None,
        problems=problems,
    )


@dataclass
class QETextOutput:
    """What a pw.x text output says about its run."""

    calculation: str | None
    converged: bool
    """"convergence has been achieved" printed (always False for a bands run)."""
    iterations: int | None
    fermi_energy: float | None
    """eV (last value printed)."""
    total_magnetization: float | None
    """μB per cell (last SCF iteration)."""
    absolute_magnetization: float | None
    site_moments: list[float]
    """μB per atom from the last "Magnetic moment per site" block."""
    job_done: bool
    wall_s: float | None
    cpu_s: float | None
    version: str | None
    errors: list[str] = field(default_factory=list)


_FLOAT = r"[-+]?\d+\.?\d*(?:[eEdD][-+]?\d+)?"


def _duration(s: str) -> float:
    s = s.replace(" ", "")
    total = 0.0
    for value, unit in re.findall(r"(\d+\.?\d*)([hms])", s):
        total += float(value) * {"h": 3600, "m": 60, "s": 1}[unit]
    return total


def _times(text: str) -> tuple[float | None, float | None]:
    """(CPU, wall) seconds from pw.x's final ``PWSCF : 1m15.46s CPU 3m 0.03s WALL`` line."""
    m = re.findall(r"PWSCF\s*:\s*(.*?)\s+CPU\s+(.*?)\s+WALL", text)
    if not m:
        return None, None
    return _duration(m[-1][0]), _duration(m[-1][1])


def parse_pw_output(path: Path) -> QETextOutput:
    """Parse a pw.x text output (``scf.out`` or ``bands.out``)."""
    try:
        text = path.read_text(errors="replace")
    except OSError as exc:
        raise QEOutputError(f"{path}: {exc}") from exc
    conv = re.search(r"convergence has been achieved in\s+(\d+)\s+iterations", text)
    ef = re.findall(rf"the Fermi energy is\s+({_FLOAT})\s+ev", text)
    tot = re.findall(rf"total magnetization\s+=\s+({_FLOAT})", text)
    absm = re.findall(rf"absolute magnetization\s+=\s+({_FLOAT})", text)
    blocks = re.split(r"Magnetic moment per site", text)
    moments: list[float] = []
    if len(blocks) > 1:
        # 6.x: "atom:    1    charge:   10.97    magn:    2.05    constr:    0.00"
        # 7.x: "atom    1 (R=0.xxx)  charge= 10.97  magn= 2.05"
        last = blocks[-1].split("\n\n")[0]
        moments = [float(x) for x in re.findall(rf"magn[:=]\s*({_FLOAT})", last)]
    calc = None
    if re.search(r"Band Structure Calculation", text):
        calc = "bands"
    elif re.search(r"Self-consistent Calculation", text):
        calc = "scf"
    version = re.search(r"Program PWSCF v\.(\S+)", text)
    errors = re.findall(r"%{5,}\s*\n(.*?)\n\s*%{5,}", text, flags=re.S)
    return QETextOutput(
        calculation=calc,
        converged=conv is not None,
        iterations=int(conv.group(1)) if conv else None,
        fermi_energy=float(ef[-1]) if ef else None,
        total_magnetization=float(tot[-1]) if tot else None,
        absolute_magnetization=float(absm[-1]) if absm else None,
        site_moments=moments,
        job_done="JOB DONE." in text,
        wall_s=_times(text)[1],
        cpu_s=_times(text)[0],
        version=version.group(1) if version else None,
        errors=[" ".join(e.split()) for e in errors],
    )


@dataclass
class QEFiles:
    """Where the outputs of one QE run are."""

    xml: Path
    scf_out: Path | None
    bands_out: Path | None
    scf_xml: Path | None


def find_qe_files(directory: Path) -> QEFiles:
    """Locate ``data-file-schema.xml`` and the text outputs under ``directory``.

    The XML is the newest ``*.save/data-file-schema.xml`` (the bands step when it ran; a
    gzip-compressed ``data-file-schema.xml.gz`` is read too);
    ``scf.out``/``bands.out`` are looked for in ``directory``, beside the ``.save`` folder and
    one level above it, and recognised by content when named differently (``*.out``).
    """
    if not directory.is_dir():
        raise QEOutputError(f"{directory} is not a folder")
    xmls = sorted(
        [*directory.rglob("data-file-schema.xml"), *directory.rglob("data-file-schema.xml.gz")],
        key=lambda p: p.stat().st_mtime,
    )
    if not xmls:
        raise QEOutputError(f"no data-file-schema.xml under {directory}")
    xml = xmls[-1]
    places = list(dict.fromkeys([directory, xml.parent.parent, xml.parent.parent.parent]))
    scf_out = bands_out = None
    for place in places:
        for cand in sorted(place.glob("*.out")) + sorted(place.glob("*.log")):
            head = cand.read_text(errors="replace")[:200_000]
            if "Program PWSCF" not in head:
                continue
            if "Band Structure Calculation" in head:
                bands_out = bands_out or cand
            elif "Self-consistent Calculation" in head:
                scf_out = scf_out or cand
    scf_xml = next(
        (
            p / "scf-data-file-schema.xml"
            for p in places
            if (p / "scf-data-file-schema.xml").is_file()
        ),
        None,
    )
    return QEFiles(xml, scf_out, bands_out, scf_xml)
