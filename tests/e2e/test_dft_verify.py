"""``verify_material``: DFT jobs in the store, from decks to a stored verdict.

The fast tests use the recorded real pw.x 6.7 run of AFM rutile CrO2 (``tests/data/qe/cro2``)
as the outputs of a deck computed elsewhere; the Slurm tests submit to a real single-node
Slurm cluster a job that copies those recorded outputs into the job folder — they test the
scheduler path (submit, poll, resume, collect), not QE, whose real runs are the ``dft`` tests
(``tests/integration/test_dft_qe_run.py``). No VASP is installed here: the VASP tests use the
same run in
VASP's formats (``tests/data/vasp``: its bands as a spin-polarised EIGENVAL, its SCF as
OUTCAR lines, both written by ``scripts/qe_to_eigenval.py``).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import altermag
from altermag.dft.verify import (
    VerifyError,
    choose_code,
    verify_many,
    verify_material,
)
from altermag.hpc import SlurmClient
from altermag.store import Store
from tests.literature import mnf2, rutile
from tests.slurm_cluster import SlurmCluster

CRO2_RUN = Path(__file__).parents[1] / "data" / "qe" / "cro2"
OUTPUTS = ("scf.out", "bands.out", "out")
VASP_DATA = Path(__file__).parents[1] / "data" / "vasp"
VASP_OUTPUTS = [
    ("bands", VASP_DATA / "cro2_eigenval" / "EIGENVAL"),
    # the explicit k-list those bands were computed on (the deck's line-mode KPOINTS asks for
    # other k-points: outputs that do not match their input are never judged)
    ("bands", VASP_DATA / "cro2_eigenval" / "KPOINTS"),
    ("scf", VASP_DATA / "cro2_scf" / "OUTCAR"),
]
ASE_VASP = Path(__import__("ase").__file__).parent / "test" / "testdata" / "vasp"


@pytest.fixture(autouse=True)
def _no_site_vasp(monkeypatch: pytest.MonkeyPatch) -> None:
    """No VASP command or POTCAR folder unless a test sets one."""
    for var in ("ALTERMAG_VASP_CMD", "ALTERMAG_VASP_PSP_DIR", "PMG_VASP_PSP_DIR"):
        monkeypatch.delenv(var, raising=False)


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
        s = cro2()
        stored = store.add_analysis(s, altermag.analyze(s), source="test", source_id="CrO2")
        mid = stored.material_id
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
        # the candidate table carries the evidence and ranks by it
        (row,) = store.candidates(sort="dft_splitting").items
        assert (row.dft_status, row.dft_splitting_ev) == ("confirmed", job.max_splitting_ev)

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
            store,
            mid,
            workdir=tmp_path,
            runner="prepare",
            overrides={"ecutwfc": 95.0, "ecutrho": 380.0},
        )
        assert a.job_id != b.job_id and a.directory != b.directory
        assert "ecutwfc = 95.0" in (Path(b.directory) / "scf.in").read_text()


def test_missing_pseudopotentials_leave_decks_for_a_cluster(
    tmp_path: Path, debian_pseudos: Path
) -> None:
    # The user's library (here Debian's quantum-espresso-data) has no PBE Mn or F: the decks
    # are written for a machine that has them, the job stays "prepared", even with
    # runner="local".
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
        # imposed: the best-ranked altermagnetic order, no ground-state search
        out = verify_material(store, mid, workdir=tmp_path, runner="prepare", ground_state=False)
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
            verify_material(store, mid, code="abinit", workdir=tmp_path)


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
        out = verify_material(store, mid, workdir=tmp_path, runner="prepare", ground_state=False)
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


# ---------------------------------------------------------------- VASP


def copy_vasp_outputs(directory: Path) -> None:
    """What the VASP steps leave behind: EIGENVAL in bands/, OUTCAR in scf/."""
    for step, src in VASP_OUTPUTS:
        shutil.copy(src, directory / step / src.name)


def _qe_segments() -> dict[str, float]:
    from altermag.dft.qe.analysis import analyze_qe

    return {s.name: s.max_splitting_ev for s in analyze_qe(CRO2_RUN).verdict.segments}


def test_vasp_decks_then_outputs_computed_elsewhere(tmp_path: Path) -> None:
    seen: list[str] = []
    with Store(f"sqlite:///{tmp_path / 'a.db'}") as store:
        mid = store.add_material(cro2())
        first = verify_material(
            store, mid, code="vasp", workdir=tmp_path, runner="auto", on_status=seen.append
        )
        # no Slurm, no VASP command, no POTCARs: the decks are written for a cluster
        assert (first.status, first.runner, first.code) == ("prepared", "prepare", "vasp")
        assert "POTCAR" in first.message
        directory = Path(first.directory)
        assert directory.name == "vasp"
        for step in ("scf", "bands"):
            names = {p.name for p in (directory / step).iterdir()}
            assert {"POSCAR", "INCAR", "KPOINTS", "POTCAR.spec"} <= names
        assert "ICHARG = 11" in (directory / "bands" / "INCAR").read_text()
        sbatch = (directory / "job.sbatch").read_text()
        assert "srun vasp_std" in sbatch and "EDIFF is reached" in sbatch
        job = store.material(mid).dft_jobs[0]
        assert (job.code, job.status, job.verdict) == ("vasp", "prepared", None)

        copy_vasp_outputs(directory)  # VASP ran on another machine
        done = verify_material(store, mid, code="vasp", workdir=tmp_path, on_status=seen.append)
        assert seen == ["pending", "prepared", "prepared", "completed"]
        assert done.status == "completed" and done.job_id == first.job_id, done.message
        job = store.material(mid).dft_jobs[0]
        v = job.verdict
        assert job.status == "completed" and v["code"] == "vasp"
        assert v["predicted_wave"] == "d" and v["fermi_energy_ev"] == pytest.approx(10.6477)
        # the same bands as the QE run: the same splitting on every segment
        segs = {s["name"]: s["max_splitting_ev"] for s in v["segments"]}
        qe = _qe_segments()
        assert segs.keys() == qe.keys()
        for name, value in qe.items():
            assert segs[name] == pytest.approx(value, abs=2e-5)
        assert segs["M-G"] >= 0.3 and segs["G-X"] <= 0.01
        assert v["observed"] == "altermagnetic splitting"
        # these OUTCAR lines have no LORBIT table: the site moments are unknown
        assert v["status"] == "inconclusive" and "site moments" in v["reason"]
        assert job.max_splitting_ev == pytest.approx(max(segs.values()))
        assert Path(v["figure"]).read_bytes()[:4] == b"\x89PNG"


def test_vasp_runner_choice_and_commands(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with Store(f"sqlite:///{tmp_path / 'a.db'}") as store:
        mid = store.add_material(cro2())
        kw = {"code": "vasp", "workdir": tmp_path}
        out = verify_material(store, mid, runner="local", **kw)
        assert out.status == "prepared" and "POTCAR" in out.message
        monkeypatch.setenv("ALTERMAG_VASP_CMD", "mpirun -np 4 /opt/vasp/bin/vasp_std")
        out = verify_material(store, mid, runner="slurm", **kw)
        # without POTCARs the default Slurm job could not run: not submitted
        assert out.status == "prepared" and "could not run" in out.message
        directory = Path(out.directory)
        sbatch = (directory / "job.sbatch").read_text()
        assert "(cd scf && mpirun -np 4 /opt/vasp/bin/vasp_std > vasp.out" in sbatch
        assert "srun" not in sbatch.split("OMP_NUM_THREADS")[1]  # its own launcher kept
        monkeypatch.setenv("ALTERMAG_VASP_CMD", "/opt/vasp/bin/vasp_std")
        verify_material(store, mid, runner="prepare", **kw)
        assert "srun /opt/vasp/bin/vasp_std" in (directory / "job.sbatch").read_text()
        assert len(store.material(mid).dft_jobs) == 1  # the command is not a setting


def test_local_vasp_runner_stops_after_an_unconverged_scf(tmp_path: Path) -> None:
    """The runner's checks on a real VASP OUTCAR whose last electronic loop did not reach
    EDIFF (ASE's test file): the bands step is not run."""
    from altermag.dft.presets import load_preset
    from altermag.dft.vasp.inputs import write_vasp_inputs
    from altermag.dft.vasp.run import run_vasp

    s = cro2()
    write_vasp_inputs(s, altermag.analyze(s), load_preset("fast"), tmp_path)
    rec = run_vasp(tmp_path, f"cp {ASE_VASP / 'convergence_OUTCAR_y_n'} OUTCAR")
    assert rec.status == "unconverged" and [st.name for st in rec.steps] == ["scf"]
    assert rec.steps[0].converged is False and (tmp_path / "run.json").is_file()
    rec = run_vasp(tmp_path, "false")
    assert rec.status == "failed" and rec.steps[0].returncode == 1
    rec = run_vasp(tmp_path, None)
    assert rec.status == "missing_executable" and "ALTERMAG_VASP_CMD" in rec.message


def test_auto_code_takes_vasp_where_qe_lacks_pseudopotentials(
    monkeypatch: pytest.MonkeyPatch, debian_pseudos: Path
) -> None:
    """The user's library, Debian's quantum-espresso-data, has PBE Cr and O but no Mn or F."""
    from altermag.dft.presets import load_preset

    fast = load_preset("fast")
    assert choose_code("auto", cro2(), fast) == "qe"
    assert choose_code("auto", mnf2(), fast) == "qe"  # VASP not configured: QE decks
    monkeypatch.setenv("ALTERMAG_VASP_CMD", "vasp_std")
    assert choose_code("auto", mnf2(), fast) == "vasp"
    assert choose_code("auto", cro2(), fast) == "qe"
    assert choose_code("qe", mnf2(), fast) == "qe"


def test_verify_many_verifies_each_material_once(tmp_path: Path) -> None:
    seen: list[tuple[int, str]] = []
    with Store(f"sqlite:///{tmp_path / 'a.db'}") as store:
        a = store.add_material(cro2())
        b = store.add_material(mnf2())
        out = verify_many(
            store,
            [a, b, a, 99],
            code="auto",
            workdir=tmp_path,
            runner="prepare",
            slurm_resources={"ntasks": 8},
            on_status=lambda m, s: seen.append((m, s)),
        )
        assert [o["material_id"] for o in out] == [a, b, 99]
        assert [o["status"] for o in out] == ["prepared", "prepared", "error"]
        assert "no material" in out[2]["message"]
        assert seen == [(a, "pending"), (a, "prepared"), (b, "pending"), (b, "prepared")]
        assert "#SBATCH --ntasks=8" in (Path(out[0]["directory"]) / "job.sbatch").read_text()


def _copy_vasp_job(delay_s: int = 0) -> list[str]:
    """Job-script commands standing in for VASP: copy the recorded outputs into place."""
    return [f"sleep {delay_s}"] + [f"cp {src} {step}/" for step, src in VASP_OUTPUTS]


@pytest.mark.slurm
def test_slurm_vasp_submit_poll_collect(slurm_cluster: SlurmCluster, tmp_path: Path) -> None:
    client = SlurmClient(env=slurm_cluster.env, poll_interval=0.5)
    seen: list[str] = []
    with Store(f"sqlite:///{tmp_path / 'a.db'}") as store:
        mid = store.add_material(cro2())
        out = verify_material(
            store,
            mid,
            code="vasp",
            workdir=tmp_path,
            runner="auto",  # a Slurm client is given: submitted
            slurm_client=client,
            slurm_commands=_copy_vasp_job(),
            wait_s=120,
            on_status=seen.append,
        )
        assert out.status == "completed" and out.runner == "slurm", out.message
        assert seen[:3] == ["pending", "prepared", "submitted"] and seen[-1] == "completed"
        job = store.material(mid).dft_jobs[0]
        v = job.verdict
        assert job.code == "vasp" and v["slurm_state"] == "COMPLETED" and v["code"] == "vasp"
        segs = {s["name"]: s["max_splitting_ev"] for s in v["segments"]}
        assert segs["M-G"] >= 0.3 and segs["G-X"] <= 0.01
        assert job.max_splitting_ev == pytest.approx(max(_qe_segments().values()), abs=2e-5)
        assert Path(v["figure"]).is_file()
