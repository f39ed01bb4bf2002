"""Quantum ESPRESSO behind the :class:`~altermag.dft.protocol.DftCode` interface."""

from __future__ import annotations

import shutil
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from altermag.dft.protocol import InputSet
from altermag.dft.qe.analysis import QEAnalysis, analyze_qe
from altermag.dft.qe.parse import QEOutputError, parse_pw_output
from altermag.dft.runner import RunRecord
from altermag.dft.settings import DftSettings
from altermag.hpc.slurm import Resources
from altermag.result import SpinGroupResult
from altermag.structure import MagneticStructure

__all__ = ["QE", "QECode", "missing_qe_pseudopotentials", "qe_outputs_complete"]


def missing_qe_pseudopotentials(elements: Iterable[str], settings: DftSettings) -> list[str]:
    """Elements without a pseudopotential of the preset's functional in the folder here."""
    from altermag.dft.qe.pseudo import PseudoError, find_pseudopotentials

    missing = []
    for el in dict.fromkeys(elements):
        try:
            find_pseudopotentials(
                [el], settings.qe.functional, None, settings.qe.pseudopotentials or None
            )
        except PseudoError:
            missing.append(el)
    return missing


def qe_outputs_complete(directory: Path) -> bool:
    """``scf.out``, a ``bands.out`` that printed JOB DONE, and a ``data-file-schema.xml``."""
    bands_out = directory / "bands.out"
    if not bands_out.is_file() or not (directory / "scf.out").is_file():
        return False
    xml = [*directory.glob("**/*.save/data-file-schema.xml*")]
    return bool(xml) and parse_pw_output(bands_out).job_done


class QECode:
    """pw.x: ``scf.in`` then ``bands.in`` in one folder; runs here with one MPI rank."""

    name = "qe"
    prefers_slurm = False
    output_errors: tuple[type[Exception], ...] = (QEOutputError,)

    def input_set(
        self,
        structure: MagneticStructure,
        prediction: SpinGroupResult,
        settings: DftSettings,
        resources: Resources | None = None,
    ) -> InputSet:
        from altermag.dft.qe.inputs import qe_input_set

        return qe_input_set(
            structure, prediction, settings, resources=resources, allow_missing_pseudos=True
        )

    def available_here(self, structure: MagneticStructure, settings: DftSettings) -> bool:
        return not missing_qe_pseudopotentials(structure.species, settings)

    def local_command(self, override: str | None = None) -> str | None:
        pw = override or "pw.x"
        return pw if shutil.which(pw) is not None else None

    def no_command(self, override: str | None = None) -> str:
        return f"{override or 'pw.x'} not installed"

    def lacks(self, missing: list[str], settings: DftSettings) -> str:
        return f"no {settings.qe.functional} pseudopotential here for {', '.join(missing)}"

    def slurm_can_run(self, missing: list[str]) -> bool:
        return True  # the cluster's pw.x reads its own $ESPRESSO_PSEUDO

    def outputs_complete(self, directory: Path) -> bool:
        return qe_outputs_complete(directory)

    def run(self, directory: Path, command: str) -> RunRecord:
        from altermag.dft.qe.run import run_qe

        return run_qe(directory, command)

    def analyze(self, directory: Path, overrides: Mapping[str, Any] | None = None) -> QEAnalysis:
        return analyze_qe(directory, overrides)


QE = QECode()
