"""VASP behind the :class:`~altermag.dft.protocol.DftCode` interface."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from altermag.dft.protocol import InputSet
from altermag.dft.runner import RunRecord
from altermag.dft.settings import DftSettings
from altermag.dft.vasp.parse import VaspAnalysis, VaspOutputError, analyze_vasp
from altermag.hpc.slurm import Resources
from altermag.result import SpinGroupResult
from altermag.structure import MagneticStructure

__all__ = ["VASP", "VaspCode", "vasp_configured"]


def vasp_configured() -> bool:
    """True when this site can run VASP somewhere: a VASP command (``ALTERMAG_VASP_CMD``) or
    a POTCAR folder (``ALTERMAG_VASP_PSP_DIR`` / ``PMG_VASP_PSP_DIR``) is set."""
    from altermag.dft.vasp.inputs import find_potcar_dir
    from altermag.dft.vasp.run import configured_vasp_command

    return configured_vasp_command() is not None or find_potcar_dir() is not None


class VaspCode:
    """VASP: ``scf/`` then ``bands/`` (ICHARG = 11); no VASP ships, the site configures it."""

    name = "vasp"
    prefers_slurm = True
    output_errors: tuple[type[Exception], ...] = (VaspOutputError,)

    def input_set(
        self,
        structure: MagneticStructure,
        prediction: SpinGroupResult,
        settings: DftSettings,
        resources: Resources | None = None,
    ) -> InputSet:
        from altermag.dft.vasp.inputs import vasp_input_set

        return vasp_input_set(structure, prediction, settings, resources)

    def available_here(self, structure: MagneticStructure, settings: DftSettings) -> bool:
        return vasp_configured()

    def local_command(self, override: str | None = None) -> str | None:
        from altermag.dft.vasp.run import configured_vasp_command

        return override or configured_vasp_command()

    def no_command(self, override: str | None = None) -> str:
        from altermag.dft.vasp.run import VASP_CMD_ENV

        return f"no VASP command configured: set {VASP_CMD_ENV}"

    def lacks(self, missing: list[str], settings: DftSettings) -> str:
        return "no POTCAR files here: set ALTERMAG_VASP_PSP_DIR"

    def slurm_can_run(self, missing: list[str]) -> bool:
        return not missing  # the POTCARs travel with the deck

    def outputs_complete(self, directory: Path) -> bool:
        from altermag.dft.vasp.run import vasp_outputs_complete

        return vasp_outputs_complete(directory)

    def run(self, directory: Path, command: str) -> RunRecord:
        from altermag.dft.vasp.run import run_vasp

        return run_vasp(directory, command)

    def analyze(self, directory: Path, overrides: Mapping[str, Any] | None = None) -> VaspAnalysis:
        return analyze_vasp(directory, overrides)


VASP = VaspCode()
