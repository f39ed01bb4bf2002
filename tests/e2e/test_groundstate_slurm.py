"""The ground-state search on a real single-node Slurm cluster: one batch job per order.

As ``tests/e2e/test_dft_verify.py`` does for the band check, the jobs stand in for pw.x by
copying the recorded real pw.x outputs of each order (``tests/data/qe/groundstate``;
``$ALTERMAG_ORDER`` names the order inside its job): the scheduler path is tested (one job
per order, submit, poll, resume without resubmitting, collect), not QE.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from altermag.dft.groundstate import NOT_ALTERMAGNETIC, run_groundstate
from altermag.dft.presets import load_preset
from altermag.dft.verify import verify_material
from altermag.hpc import SlurmClient
from altermag.store import Store
from tests.e2e.test_verify_ground_state import RECORDED, copy_recorded, cro2, overrides
from tests.literature import mnf2
from tests.slurm_cluster import SlurmCluster

pytestmark = pytest.mark.slurm


def _copy(name: str, delay_s: int = 0) -> list[str]:
    """Job commands standing in for pw.x: the recorded SCF output of this job's order."""
    return [f"sleep {delay_s}", f'cp "{RECORDED / name}/$ALTERMAG_ORDER/scf.out" scf.out']


def test_one_slurm_job_per_order(slurm_cluster: SlurmCluster, tmp_path: Path) -> None:
    client = SlurmClient(env=slurm_cluster.env, poll_interval=0.5)
    settings = load_preset("default", overrides())
    gs = run_groundstate(
        mnf2(),
        settings,
        tmp_path,
        runner="slurm",
        use_prior=False,
        slurm_client=client,
        slurm_commands=_copy("mnf2"),
        wait_s=120,
    )
    jobs = json.loads((tmp_path / "slurm.json").read_text())["jobs"]
    assert sorted(jobs) == ["AM1", "FM"] and len(set(jobs.values())) == 2
    for label, job in jobs.items():
        script = (tmp_path / label / "job.sbatch").read_text()
        assert f"#SBATCH --job-name=altermag-gs-{label}" in script
        assert f"export ALTERMAG_ORDER={label}" in script
        assert (tmp_path / label / f"slurm-{job}.out").exists()
    assert all(o.status == "converged" for o in gs.orders), [o.message for o in gs.orders]
    assert gs.ground_state is not None and gs.ground_state["label"] == "AM1"
    assert gs.ground_state["margin_mev_per_magnetic_atom"] > 5.0
    copy_recorded("mnf2", tmp_path)  # the submitted decks are the recorded ones


def test_verify_submits_the_search_then_resumes_it(
    slurm_cluster: SlurmCluster, tmp_path: Path
) -> None:
    """CrO2 without moments through ``verify_material(runner="slurm")``: the search's jobs
    still running after the first call are polled by the second (whose own commands would
    fail: never run), and FM wins: "ground state not altermagnetic", no band-check job."""
    client = SlurmClient(env=slurm_cluster.env, poll_interval=0.5)
    with Store(f"sqlite:///{tmp_path / 'a.db'}") as store:
        mid = store.add_material(cro2().with_moments(None))
        kw = {
            "workdir": tmp_path,
            "runner": "slurm",
            "slurm_client": client,
            "overrides": overrides(),
        }
        first = verify_material(store, mid, ground_state_commands=_copy("cro2", 4), wait_s=0, **kw)
        assert first.status == "submitted", first.message
        (job,) = store.material(mid).dft_jobs
        assert (job.status, job.parameters["kind"]) == ("submitted", "groundstate")
        ids = json.loads((Path(first.directory) / "slurm.json").read_text())["jobs"]
        out = verify_material(store, mid, ground_state_commands=["exit 7"], wait_s=120, **kw)
        assert out.status == "completed", out.message
        assert json.loads((Path(first.directory) / "slurm.json").read_text())["jobs"] == ids
        assert out.verdict is not None and out.verdict["status"] == NOT_ALTERMAGNETIC
        assert out.verdict["ground_state"]["label"] == "FM"
        (job,) = store.material(mid).dft_jobs
        assert job.status == "completed"
