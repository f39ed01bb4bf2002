"""Running jobs: local shell scripts and Slurm batch jobs (submit, poll, collect)."""

from __future__ import annotations

from altermag.hpc.slurm import (
    JobState,
    Resources,
    SlurmClient,
    job_name,
    local_script,
    slurm_script,
)

__all__ = ["JobState", "Resources", "SlurmClient", "job_name", "local_script", "slurm_script"]
