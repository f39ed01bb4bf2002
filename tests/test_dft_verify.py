"""``verify_material``: DFT jobs in the store, from decks to a stored verdict.

The fast tests use the recorded real pw.x 6.7 run of AFM rutile CrO2 (``tests/data/qe/cro2``)
as the outputs of a deck computed elsewhere; the Slurm tests submit to a real single-node
Slurm cluster a job that copies those recorded outputs into the job folder — they test the
scheduler path (submit, poll, resume, collect), not QE, whose real runs are the ``dft`` tests
(``tests/test_dft_qe_run.py``).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from altermag.dft.verify import VerifyError, verify_material
from altermag.hpc import SlurmClient
from altermag.store import Store
from tests.literature import mnf2, rutile
from tests.slurm_cluster import SlurmCluster

CRO2_RUN = Path(__file__).parent / "data" / "qe" / "cro2"
OUTPUTS = ("scf.out", "bands.out", "out")


def cro2():
    return rutile("CrO2", "Cr", "O", 4.421, 2.917, 0.3053, 2.0)


def copy_outputs(directory: Path) -> None:
    for name in OUTPUTS:
        src = CRO2_RUN / name
        if src.is_dir():
            shutil.copytree(src, directory / name, dirs_exist_ok=True)
        else:
            shutil.copy(src, directory / name)


def test_outputs_computed_elsewhere_become_a_stored_verdict(db_url: str, tmp_path: Path) -> None:
    seen: list[str] = []
    with Store(db_url) as store:
        mid = store.add_material(cro2(), source="test", source_id="CrO2")
        first = verify_material(
            store, mid, workdir=tmp_path, runner="prepare", on_status=seen.append
        )
        assert (first.status, first.runner, first.reused) == ("prepared", "prepare", False)
        directory = Path(first.directory)
        assert (directory / "scf.in").is_file() and (directory / "job.sbatch").is_file()
        job = store.material(mid).dft_jobs[0]
        assert (job.status, job.verdict) == ("prepared", None)
        assert job.parameters["predicted_verdict"] == "altermagnet"
        assert job.parameters["moments"] == [2.0, -2.0, 0.0, 0.0, 0.0, 0.0]

        copy_outputs(directory)  # the decks ran on another machine
        done = verify_material(
            store, mid, workdir=tmp_path, runner="prepare", on_status=seen.append
        )
        assert seen == ["pending", "prepared", "prepared", "completed"]
        assert done.job_id == first.job_id and done.status == "completed"
        rec = store.material(mid)
        assert len(rec.dft_jobs) == 1
        job = rec.dft_jobs[0]
        assert job.status == "completed"
        assert job.verdict["status"] == "confirmed" and job.verdict["predicted_wave"] == "d"
        segs = {s["name"]: s["max_splitting_ev"] for s in job.verdict["segments"]}
        assert segs["M-G"] >= 0.3 and segs["G-X"] <= 0.01
        assert job.max_splitting_ev == pytest.approx(max(segs.values()))
        assert job.max_splitting_ev >= 0.3
        figure = Path(job.verdict["figure"])
        assert figure.parent == directory and figure.read_bytes()[:4] == b"\x89PNG"

        again = verify_material(store, mid, workdir=tmp_path, on_status=seen.append)
        assert again.reused and again.runner == "stored" and again.status == "completed"
        assert again.verdict["status"] == "confirmed"
        assert len(seen) == 4  # nothing moved
        assert len(store.material(mid).dft_jobs) == 1


def test_other_settings_make_a_new_job(tmp_path: Path) -> None:
    with Store(f"sqlite:///{tmp_path / 'a.db'}") as store:
        mid = store.add_material(cro2())
        a = verify_material(store, mid, workdir=tmp_path, runner="prepare")
        b = verify_material(
            store, mid, workdir=tmp_path, runner="prepare", overrides={"ecutwfc": 35.0}
        )
        assert a.job_id != b.job_id and a.directory != b.directory
        assert "ecutwfc = 35.0" in (Path(b.directory) / "scf.in").read_text()


def test_missing_pseudopotentials_leave_decks_for_a_cluster(tmp_path: Path) -> None:
    # Debian's quantum-espresso-data has no PBE Mn or F: the decks are written for a machine
    # that has them, the job stays "prepared", even with runner="local".
    with Store(f"sqlite:///{tmp_path / 'a.db'}") as store:
        mid = store.add_material(mnf2())
        out = verify_material(store, mid, workdir=tmp_path, runner="local")
        assert out.status == "prepared" and "Mn" in out.message and "F" in out.message
        scf = (Path(out.directory) / "scf.in").read_text()
        assert "Mn.pbe.UPF" in scf and "F.pbe.UPF" in scf and "pseudo_dir" not in scf
        assert "starting_magnetization(1) = 0.9200" in scf
        assert store.material(mid).dft_jobs[0].status == "prepared"


def test_enumerated_order_of_a_structure_without_moments(tmp_path: Path) -> None:
    bare = mnf2().with_moments(None)
    with Store(f"sqlite:///{tmp_path / 'a.db'}") as store:
        mid = store.add_material(bare)
        out = verify_material(store, mid, workdir=tmp_path, runner="prepare")
        params = store.material(mid).dft_jobs[0].parameters
        assert params["predicted_verdict"] == "altermagnet" and params["predicted_wave"] == "d"
        assert sorted(params["moments"][:2]) == [-3.0, 3.0] and params["moments"][2:] == [0] * 4
        assert out.status == "prepared"


def test_unknown_material_and_code(tmp_path: Path) -> None:
    with Store(f"sqlite:///{tmp_path / 'a.db'}") as store:
        with pytest.raises(VerifyError, match="no material"):
            verify_material(store, 42, workdir=tmp_path)
        mid = store.add_material(cro2())
        with pytest.raises(VerifyError, match="qe"):
            verify_material(store, mid, code="vasp", workdir=tmp_path)


# ---------------------------------------------------------------- scheduler path (real Slurm)


def _copy_job(delay_s: int = 0) -> list[str]:
    """Job-script commands standing in for pw.x: copy the recorded outputs into place."""
    return [f"sleep {delay_s}"] + [f"cp -r {CRO2_RUN / name} ." for name in OUTPUTS]


@pytest.mark.slurm
def test_slurm_submit_poll_collect(slurm_cluster: SlurmCluster, tmp_path: Path) -> None:
    client = SlurmClient(env=slurm_cluster.env, poll_interval=0.5)
    seen: list[str] = []
    with Store(f"sqlite:///{tmp_path / 'a.db'}") as store:
        mid = store.add_material(cro2())
        out = verify_material(
            store,
            mid,
            workdir=tmp_path,
            runner="slurm",
            slurm_client=client,
            slurm_commands=_copy_job(),
            wait_s=120,
            on_status=seen.append,
        )
        assert out.status == "completed", out.message
        assert seen[:3] == ["pending", "prepared", "submitted"] and seen[-1] == "completed"
        assert out.slurm_job_id and (Path(out.directory) / f"slurm-{out.slurm_job_id}.out").exists()
        job = store.material(mid).dft_jobs[0]
        assert job.verdict["status"] == "confirmed" and job.verdict["slurm_state"] == "COMPLETED"
        assert job.max_splitting_ev >= 0.3


@pytest.mark.slurm
def test_slurm_job_still_running_is_resumed_not_resubmitted(
    slurm_cluster: SlurmCluster, tmp_path: Path
) -> None:
    client = SlurmClient(env=slurm_cluster.env, poll_interval=0.5)
    with Store(f"sqlite:///{tmp_path / 'a.db'}") as store:
        mid = store.add_material(cro2())
        kw = {"workdir": tmp_path, "runner": "slurm", "slurm_client": client}
        first = verify_material(store, mid, slurm_commands=_copy_job(4), wait_s=0, **kw)
        assert first.status in ("submitted", "running"), first.message
        assert store.material(mid).dft_jobs[0].status == first.status
        # the second call polls the same Slurm job (its commands would fail: never run)
        second = verify_material(store, mid, slurm_commands=["exit 7"], wait_s=120, **kw)
        assert second.status == "completed", second.message
        assert second.slurm_job_id == first.slurm_job_id
        assert store.material(mid).dft_jobs[0].verdict["status"] == "confirmed"

        failing = store.add_material(mnf2())
        bad = verify_material(store, failing, slurm_commands=["exit 3"], wait_s=120, **kw)
        assert bad.status == "failed" and "FAILED" in bad.message
        job = store.material(failing).dft_jobs[0]
        assert job.status == "failed" and "FAILED" in job.verdict["error"]


def test_material_report_shows_the_completed_verdict_only(tmp_path: Path) -> None:
    import altermag
    from altermag.reports.material import render_html
    from altermag.reports.stored import stored_material_report

    s = cro2()
    with Store(f"sqlite:///{tmp_path / 'a.db'}") as store:
        mid = store.add_analysis(s, altermag.analyze(s)).material_id
        prepared = verify_material(store, mid, workdir=tmp_path, runner="prepare")
        assert stored_material_report(store.material(mid))["dft"] is None  # not computed yet
        copy_outputs(Path(prepared.directory))
        verify_material(store, mid, workdir=tmp_path, runner="prepare")
        html = render_html(stored_material_report(store.material(mid)))
        assert "First-principles evidence" in html
        assert "<b>confirmed</b>: M-G splits by 0.477 eV" in html


def test_order_on_the_enumeration_cell(tmp_path: Path) -> None:
    # conventional hexagonal Cr2O3 (30 sites) without moments: its orders are enumerated on
    # the 10-site primitive cell, and the decks are written for that cell
    from tests.literature import cr2o3

    with Store(f"sqlite:///{tmp_path / 'a.db'}") as store:
        mid = store.add_material(cr2o3().with_moments(None))
        out = verify_material(store, mid, workdir=tmp_path, runner="prepare")
        params = store.material(mid).dft_jobs[0].parameters
        assert params["predicted_verdict"] == "altermagnet" and len(params["moments"]) == 10
        assert "nat = 10" in (Path(out.directory) / "scf.in").read_text()


def test_nonmagnetic_material_is_refused_before_any_job(tmp_path: Path) -> None:
    s = cro2().with_moments([0.0] * 6)
    with Store(f"sqlite:///{tmp_path / 'a.db'}") as store:
        mid = store.add_material(s)
        with pytest.raises(VerifyError, match="no moments"):
            verify_material(store, mid, workdir=tmp_path)
        assert store.material(mid).dft_jobs == []
