"""One interface per DFT code: what :mod:`altermag.dft.verify` needs from QE, VASP or a third.

A code is an object with the :class:`DftCode` methods, registered by name in
:mod:`altermag.dft.codes`. ``verify`` only talks to this protocol: it asks the code for its
decks as an in-memory :class:`InputSet` (written into the job folder), for the command that
runs it here, whether a folder holds finished outputs, to run it, and to read the bands and
judge them (a :class:`BandAnalysis`). Everything shared — the k-path
(:mod:`altermag.dft.kpath`), the splitting (:mod:`altermag.dft.splitting`), the judging
(:mod:`altermag.dft.judging`, :mod:`altermag.dft.verdict`), the run record
(:mod:`altermag.dft.runner`) and the settings (:mod:`altermag.dft.settings`) — lives apart
from every code.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    import numpy as np

    from altermag.dft.kpath import KPath
    from altermag.dft.runner import RunRecord
    from altermag.dft.settings import DftSettings
    from altermag.dft.verdict import DFTVerdict
    from altermag.hpc.slurm import Resources
    from altermag.result import SpinGroupResult
    from altermag.structure import MagneticStructure

__all__ = ["BandAnalysis", "Bands", "DftCode", "InputSet"]


@dataclass
class InputSet:
    """A code's decks in memory: relative file name → text, written by :meth:`write`.

    ``missing`` lists what this machine lacks to run them (elements without a
    pseudopotential here, ``POTCAR``); the decks are then written for a machine that has it.
    """

    code: str
    files: dict[str, str]
    kpath: KPath
    missing: list[str] = field(default_factory=list)
    executable: tuple[str, ...] = ("run.sh",)
    summary: str = ""
    """One line for the user (band k-points, POTCARs written or not)."""
    warnings: list[str] = field(default_factory=list)

    def write(self, directory: Path) -> Path:
        """Write every file under ``directory`` (created); returns ``directory``."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        for name, text in self.files.items():
            path = directory / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
            if name in self.executable:
                path.chmod(0o755)
        return directory


class Bands(Protocol):
    """The band data of a run as a code's parser reads it (read-only view)."""

    @property
    def lattice(self) -> np.ndarray:
        """3×3, rows are lattice vectors in Å."""
        ...

    @property
    def kpoints(self) -> np.ndarray:
        """n_k × 3, fractional in the reciprocal basis of ``lattice``."""
        ...

    @property
    def eigenvalues_up(self) -> np.ndarray:
        """n_k × n_bands, eV."""
        ...

    @property
    def eigenvalues_down(self) -> np.ndarray: ...


@runtime_checkable
class BandAnalysis(Protocol):
    """What a code's parser hands back for a finished bands run (QE's and VASP's both)."""

    @property
    def verdict(self) -> DFTVerdict: ...

    @property
    def bands(self) -> Bands: ...

    @property
    def structure(self) -> MagneticStructure: ...

    @property
    def prediction(self) -> SpinGroupResult: ...

    @property
    def kpath(self) -> KPath: ...

    @property
    def ranges(self) -> list[tuple[int, int, str, str]]:
        """(first, last, start label, end label) of each segment's k-point indices."""
        ...

    @property
    def splitting(self) -> np.ndarray:
        """Largest splitting per band k-point within the window (eV)."""
        ...

    @property
    def fermi_energy(self) -> float: ...


class DftCode(Protocol):
    """A DFT code as ``verify`` uses it. Implementations: ``altermag.dft.qe.code.QE``,
    ``altermag.dft.vasp.code.VASP``."""

    name: str
    """Registry key and the ``code`` of jobs (``qe``, ``vasp``)."""
    prefers_slurm: bool
    """``runner="auto"``: submit to a configured Slurm before running here (VASP), or the
    other way round (QE)."""
    output_errors: tuple[type[Exception], ...]
    """Exceptions its parser raises for missing or unreadable outputs."""

    def input_set(
        self,
        structure: MagneticStructure,
        prediction: SpinGroupResult,
        settings: DftSettings,
        resources: Resources | None = None,
    ) -> InputSet:
        """The SCF and bands decks, job scripts and metadata, in memory."""
        ...

    def available_here(self, structure: MagneticStructure, settings: DftSettings) -> bool:
        """True when this machine has what the decks need (``code="auto"`` picks such a code)."""
        ...

    def local_command(self, override: str | None = None) -> str | None:
        """The command that runs the code here (``override`` wins); None when there is none."""
        ...

    def no_command(self, override: str | None = None) -> str:
        """Why there is no local command (for the user)."""
        ...

    def lacks(self, missing: list[str], settings: DftSettings) -> str:
        """What ``missing`` means (for the user)."""
        ...

    def slurm_can_run(self, missing: list[str]) -> bool:
        """True when a cluster job of the written decks can run although ``missing`` is not
        here (QE: the cluster's own pseudopotentials; VASP: no, the POTCARs travel)."""
        ...

    def outputs_complete(self, directory: Path) -> bool:
        """True when ``directory`` holds the outputs of a finished bands run."""
        ...

    def run(self, directory: Path, command: str) -> RunRecord:
        """Run the prepared decks in ``directory`` here (SCF, then bands)."""
        ...

    def analyze(self, directory: Path, overrides: Mapping[str, Any] | None = None) -> BandAnalysis:
        """Read the outputs of ``directory`` and judge them against the prediction."""
        ...
