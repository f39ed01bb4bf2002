"""Submitting, polling and collecting batch jobs on a real single-node Slurm."""

from __future__ import annotations

from pathlib import Path

import pytest

from altermag.hpc import JobState, Resources, SlurmClient, local_script, slurm_script
from tests.slurm_cluster import SlurmCluster

pytestmark = pytest.mark.slurm


def test_script_contents() -> None:
    text = slurm_script(
        ["pw.x -in scf.in > scf.out"],
        Resources(ntasks=2, time="00:10:00", partition="debug", extra=["--exclusive"]),
        job_name="CrO2-scf",
        env={"OMP_NUM_THREADS": "1"},
        modules=["qe/6.7"],
    )
    lines = text.splitlines()
    assert lines[0] == "#!/usr/bin/env bash"
    for line in (
        "#SBATCH --job-name=CrO2-scf",
        "#SBATCH --ntasks=2",
        "#SBATCH --time=00:10:00",
        "#SBATCH --partition=debug",
        "#SBATCH --exclusive",
        "module load qe/6.7",
        "export OMP_NUM_THREADS=1",
        "pw.x -in scf.in > scf.out",
    ):
        assert line in lines
    assert local_script(["echo hi"]).startswith("#!/usr/bin/env bash\nset -euo pipefail")


def test_submit_poll_collect(slurm_cluster: SlurmCluster, tmp_path: Path) -> None:
    client = SlurmClient(env=slurm_cluster.env, poll_interval=0.5)
    ok = tmp_path / "ok"
    ok.mkdir()
    (ok / "job.sh").write_text(
        slurm_script(["echo converged > result.txt", "sleep 1"], Resources(time="00:02:00"))
    )
    job = client.submit(ok / "job.sh")
    assert job.isdigit()
    assert client.state(job) in (JobState.PENDING, JobState.RUNNING, JobState.COMPLETED)
    assert client.wait(job, timeout=120) == JobState.COMPLETED
    assert (ok / "result.txt").read_text().strip() == "converged"
    assert (ok / f"slurm-{job}.out").exists()

    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "job.sh").write_text(slurm_script(["exit 3"], Resources(time="00:02:00")))
    assert client.wait(client.submit(bad / "job.sh"), timeout=120) == JobState.FAILED


def test_cancel(slurm_cluster: SlurmCluster, tmp_path: Path) -> None:
    client = SlurmClient(env=slurm_cluster.env, poll_interval=0.5)
    (tmp_path / "job.sh").write_text(slurm_script(["sleep 120"], Resources(time="00:05:00")))
    job = client.submit(tmp_path / "job.sh")
    client.cancel(job)
    assert client.wait(job, timeout=60) == JobState.CANCELLED
