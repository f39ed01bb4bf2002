"""One interface per DFT code: a third code plugs into ``verify`` through the registry alone.

The code registered here is a stand-in whose "run" copies the recorded pw.x outputs of AFM
rutile CrO2 into the job folder (a real third code would call its executable); everything
else — job key, folder, statuses, parse, judging, store — is the unchanged ``verify`` path.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from altermag.dft import codes
from altermag.dft.kpath import build_kpath
from altermag.dft.protocol import BandAnalysis, InputSet
from altermag.dft.qe.analysis import analyze_qe
from altermag.dft.qe.parse import QEOutputError
from altermag.dft.runner import RunRecord, StepRecord
from altermag.dft.verify import VerifyError, verify_material
from altermag.store import Store
from tests.literature import rutile

CRO2_RUN = Path(__file__).parents[1] / "data" / "qe" / "cro2"


class RecordedCode:
    name = "recorded"
    prefers_slurm = False
    output_errors: tuple[type[Exception], ...] = (QEOutputError,)

    def input_set(self, structure, prediction, settings, resources=None) -> InputSet:
        deck = f"{structure.formula} ecut {settings.qe.cutoffs(structure.species)[0]}\n"
        return InputSet(self.name, {"deck.txt": deck}, build_kpath(structure, prediction))

    def available_here(self, structure, settings) -> bool:
        return False

    def local_command(self, override: str | None = None) -> str | None:
        return override or "copy-recorded"

    def no_command(self, override: str | None = None) -> str:
        return "none"

    def lacks(self, missing, settings) -> str:
        return ", ".join(missing)

    def slurm_can_run(self, missing) -> bool:
        return True

    def outputs_complete(self, directory: Path) -> bool:
        return (directory / "bands.out").is_file()

    def run(self, directory: Path, command: str) -> RunRecord:
        for name in ("scf.out", "bands.out", "spin_group.json"):
            shutil.copy(CRO2_RUN / name, directory / name)
        shutil.copytree(CRO2_RUN / "out", directory / "out", dirs_exist_ok=True)
        step = StepRecord("all", [command], 0, 0.0, False, True, True, "bands.out")
        return RunRecord(str(directory), "completed", "copied", "", "", [step], self.name)

    def analyze(self, directory: Path, overrides: Mapping[str, Any] | None = None):
        return analyze_qe(directory, overrides)


@pytest.fixture
def recorded(monkeypatch: pytest.MonkeyPatch) -> RecordedCode:
    monkeypatch.setattr(codes, "_REGISTRY", dict(codes._REGISTRY))
    code = RecordedCode()
    codes.register(code)
    return code


def test_a_registered_third_code_runs_through_verify(tmp_path: Path, recorded) -> None:
    assert "recorded" in codes.available_codes()
    with Store(f"sqlite:///{tmp_path / 'a.db'}") as store:
        mid = store.add_material(rutile("CrO2", "Cr", "O", 4.421, 2.917, 0.3053, 2.0))
        out = verify_material(store, mid, code="recorded", workdir=tmp_path, runner="local")
        assert out.status == "completed" and out.code == "recorded", out.message
        assert Path(out.directory).name == "recorded"
        assert (Path(out.directory) / "deck.txt").read_text().startswith("CrO2 ecut")
        assert out.verdict is not None and out.verdict["status"] == "confirmed"
        job = store.material(mid).dft_jobs[0]
        assert job.code == "recorded" and job.status == "completed"
        assert isinstance(recorded.analyze(Path(out.directory)), BandAnalysis)


def test_an_unknown_code_is_refused_with_the_known_ones(tmp_path: Path) -> None:
    with Store(f"sqlite:///{tmp_path / 'a.db'}") as store:
        mid = store.add_material(rutile("CrO2", "Cr", "O", 4.421, 2.917, 0.3053, 2.0))
        with pytest.raises(VerifyError, match="qe"):
            verify_material(store, mid, code="castep", workdir=tmp_path)
