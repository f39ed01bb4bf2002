"""Do a QE folder's outputs hold everything the deck asked for, and do they belong together?

A damaged or mixed-up folder must never give a verdict (a 30 %-truncated output still has
some segments to measure; an ``scf.out`` of another run beside the bands still has a Fermi
level and moments). :func:`qe_problems` lists what is wrong, for
:func:`altermag.dft.judging.judge_run` to answer ``inconclusive`` with it:

- the bands XML has fewer k-points than its input (or the deck's ``bands.in``) listed, or
  fewer bands per k-point than ``bands.in`` asked for;
- the SCF text output is not the SCF of these bands: another ``prefix`` (the
  ``<prefix>.save`` it wrote), another cell or other atoms (``alat``, ``a(i)``, the species
  and positions it printed, compared with the XML's);
- the SCF output stops before its end (no "JOB DONE").
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from altermag.dft.qe.parse import QEBands

__all__ = ["PwIdentity", "deck_expectations", "pw_identity", "qe_problems"]

_FLOAT = r"[-+]?\d+\.?\d*(?:[eEdD][-+]?\d+)?"


@dataclass
class PwIdentity:
    """What a pw.x text output says about the run it belongs to."""

    prefix: str | None
    """From "Writing output data file ./out/<prefix>.save/"; None when not printed."""
    lattice_bohr: np.ndarray | None
    """3×3 rows, from ``alat`` and ``a(i)``."""
    labels: list[str] = field(default_factory=list)
    positions_bohr: np.ndarray | None = None
    """n × 3 Cartesian positions (first printed block, bohr)."""


def pw_identity(path: Path) -> PwIdentity:
    """Read the prefix, cell and atoms a pw.x text output printed."""
    text = path.read_text(errors="replace")
    m = re.search(r"Writing output data file\s+\S*?([^/\s]+)\.save/?", text)
    prefix = m.group(1) if m else None
    alat = re.search(rf"lattice parameter \(alat\)\s*=\s*({_FLOAT})", text)
    rows = re.findall(rf"a\(([123])\) = \(\s*({_FLOAT})\s+({_FLOAT})\s+({_FLOAT})\s*\)", text)
    lattice = None
    if alat and len(rows) >= 3:
        a = float(alat.group(1))
        lattice = np.array([[float(x) for x in r[1:]] for r in rows[:3]]) * a
    atoms = re.findall(
        rf"^\s*(\d+)\s+(\S+)\s+tau\(\s*\d+\)\s*=\s*\(\s*({_FLOAT})\s+({_FLOAT})\s+({_FLOAT})",
        text,
        flags=re.M,
    )
    labels: list[str] = []
    pos: list[list[float]] = []
    for n, label, *xyz in atoms:
        if int(n) <= len(labels):  # a second block (crystal units) starts again at 1
            break
        labels.append(label)
        pos.append([float(x) for x in xyz])
    positions = np.array(pos) * float(alat.group(1)) if alat and pos else None
    return PwIdentity(prefix, lattice, labels, positions)


def deck_expectations(directory: Path) -> tuple[int | None, int | None]:
    """(k-points, bands) the deck's ``bands.in`` asked for; None where there is no deck."""
    path = directory / "bands.in"
    if not path.is_file():
        return None, None
    text = path.read_text(errors="replace")
    k = re.search(r"K_POINTS\s*\S*\s*\n\s*(\d+)", text)
    nbnd = re.search(r"\bnbnd\s*=\s*(\d+)", text)
    return (int(k.group(1)) if k else None), (int(nbnd.group(1)) if nbnd else None)


def _same_cell(identity: PwIdentity, bands: QEBands, tol: float = 1e-3) -> str | None:
    """Why the text output's cell and atoms are not those of the XML (None: they are)."""
    from altermag.dft.qe.inputs import BOHR_ANGSTROM

    if identity.lattice_bohr is None or not identity.labels:
        return "it prints no cell or atoms"
    cell = np.asarray(bands.lattice) / BOHR_ANGSTROM
    if not np.allclose(identity.lattice_bohr, cell, atol=tol * max(1.0, float(np.abs(cell).max()))):
        return "another cell"
    if identity.labels != list(bands.labels):
        return f"other atoms ({' '.join(identity.labels)} vs {' '.join(bands.labels)})"
    if identity.positions_bohr is not None:
        xml_pos = np.asarray(bands.frac_coords) @ cell
        diff = identity.positions_bohr - xml_pos
        frac = diff @ np.linalg.inv(cell)
        frac -= np.round(frac)
        if np.abs(frac @ cell).max() > 1e-2:
            return "other atomic positions"
    return None


def qe_problems(
    directory: Path, bands: QEBands, scf_out: Path | None, scf_job_done: bool | None
) -> list[str]:
    """Everything that makes the outputs of ``directory`` unfit for a verdict (see module)."""
    problems = list(bands.problems)
    want_k, want_nbnd = deck_expectations(directory)
    want_k = want_k or bands.n_kpoints_input
    if want_k is not None and len(bands.kpoints) < want_k:
        problems.append(f"the bands XML holds {len(bands.kpoints)} of the {want_k} k-points")
    if want_nbnd is not None and bands.nbnd < want_nbnd:
        problems.append(f"the bands XML holds {bands.nbnd} of the {want_nbnd} bands")
    if scf_out is not None:
        ident = pw_identity(scf_out)
        if ident.prefix is not None and bands.prefix is not None and ident.prefix != bands.prefix:
            problems.append(
                f"{scf_out.name} belongs to prefix {ident.prefix!r}, the bands to {bands.prefix!r}"
            )
        why = _same_cell(ident, bands)
        if why is not None:
            problems.append(f"{scf_out.name} is not the SCF of these bands: {why}")
        if scf_job_done is False:
            problems.append(f"{scf_out.name} stops before the end of the run (no JOB DONE)")
    return problems
