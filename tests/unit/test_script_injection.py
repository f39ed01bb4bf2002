"""Job scripts cannot be turned into shell commands by labels, resources or module names.

A structure label ends up in ``#SBATCH --job-name=``; a newline in it used to start a new
shell line that ran when the script ran. Each test runs the written script with bash and
checks that the injected command did not run.
"""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
from pathlib import Path

import pytest

import altermag
from altermag.dft.presets import load_preset
from altermag.dft.qe.inputs import write_qe_inputs
from altermag.dft.vasp.inputs import write_vasp_inputs
from altermag.errors import SettingsError
from altermag.hpc import Resources, slurm_script
from tests.literature import rutile
from tests.requirements import requires

TOUCH = shutil.which("touch") or "/usr/bin/touch"


def _payload(marker: Path) -> str:
    return f"CrO2\n{TOUCH} {marker}\n$({TOUCH} {marker}) `{TOUCH} {marker}`"


def _run(script: Path) -> None:
    """Run a job script with bash as sbatch would, with no DFT code on PATH.

    The payloads call ``touch`` by its absolute path, so they would run without PATH.
    """
    bash = shutil.which("bash")
    assert bash is not None
    subprocess.run(
        [bash, script.name],
        cwd=script.parent,
        env={"PATH": "/nonexistent", "HOME": str(script.parent)},
        capture_output=True,
        timeout=30,
        check=False,
    )


def _labelled(marker: Path):
    s = rutile("CrO2", "Cr", "O", 4.421, 2.917, 0.3053, 2.0)
    return dataclasses.replace(s, label=_payload(marker))


def test_a_label_with_a_newline_or_command_substitution_does_not_run_from_a_vasp_job(
    tmp_path: Path,
) -> None:
    marker = tmp_path / "pwned"
    s = _labelled(marker)
    write_vasp_inputs(s, altermag.analyze(s), load_preset("fast"), tmp_path / "d")
    script = tmp_path / "d" / "job.sbatch"
    names = [x for x in script.read_text().splitlines() if x.startswith("#SBATCH --job-name=")]
    assert len(names) == 1
    assert all(c not in names[0].split("=", 1)[1] for c in "$`() ")
    _run(script)
    assert not marker.exists()


@requires("qe-pseudos")
def test_a_label_with_a_newline_does_not_run_from_a_qe_job(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    s = _labelled(marker)
    write_qe_inputs(s, altermag.analyze(s), load_preset("fast"), tmp_path / "d")
    _run(tmp_path / "d" / "job.sbatch")
    _run(tmp_path / "d" / "run.sh")
    assert not marker.exists()


@pytest.mark.parametrize(
    "field",
    [
        {"partition": "debug\ntouch MARK"},
        {"account": "a;touch MARK"},
        {"qos": "$(touch MARK)"},
        {"mem": "4G touch"},
        {"time": "01:00:00\ntouch MARK"},
        {"ntasks": "2\ntouch MARK"},
        {"extra": ["--exclusive\ntouch MARK"]},
        {"extra": ["--comment=`touch MARK`"]},
        {"extra": "--exclusive"},
    ],
)
def test_resources_that_are_not_one_plain_word_are_refused(field: dict) -> None:
    with pytest.raises(SettingsError):
        Resources(**field)


def test_module_names_env_names_and_multi_line_commands_are_refused(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    with pytest.raises(SettingsError):
        slurm_script(["true"], modules=[f"qe\n{TOUCH} {marker}"])
    with pytest.raises(SettingsError):
        slurm_script(["true"], env={f"X=1; {TOUCH} {marker}; Y": "1"})
    with pytest.raises(SettingsError):
        slurm_script([f"true\n{TOUCH} {marker}"])
    # a hostile environment value is quoted, not run
    script = tmp_path / "job.sbatch"
    script.write_text(slurm_script(["true"], env={"X": f"$({TOUCH} {marker})\n{TOUCH} {marker}"}))
    _run(script)
    assert not marker.exists()


def test_plain_resources_still_give_their_directives() -> None:
    res = Resources(ntasks="4", time="1-00:00", mem="16G", partition="debug", extra=["--exclusive"])
    text = slurm_script(["true"], res, job_name="altermag-CrO2 (rutile)")
    lines = text.splitlines()
    for line in (
        "#SBATCH --job-name=altermag-CrO2__rutile_",
        "#SBATCH --ntasks=4",
        "#SBATCH --time=1-00:00",
        "#SBATCH --mem=16G",
        "#SBATCH --partition=debug",
        "#SBATCH --exclusive",
    ):
        assert line in lines
