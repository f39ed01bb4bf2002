"""``verify_material`` on a material without moments: the DFT ground-state search first, the
band check only on an altermagnetic winner.

The energies are real pw.x 6.7 SCFs recorded with the shipped SG15 pseudopotentials
(``tests/data/qe/groundstate``: PBE+U, 35/140 Ry, 2×2×3 k-points), copied into the prepared
order folders as outputs computed elsewhere; the decks prepared here are checked to be the
recorded ones, so the outputs belong to them.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from altermag.dft.groundstate import NOT_ALTERMAGNETIC
from altermag.dft.presets import load_preset
from altermag.dft.verify import verify_material
from altermag.store import Store
from tests.literature import mnf2, rutile

RECORDED = Path(__file__).parents[1] / "data" / "qe" / "groundstate"
# the settings of the recording (the deck's basis and k-mesh; the physics is in its README)
SMALL = {
    "ecutwfc": 35.0,
    "ecutrho": 140.0,
    "conv_thr_per_atom": 1e-8,
    "mixing_beta": 0.4,
    "kpoints": [2, 2, 3],
    "kpath_density": 5.0,
}


def overrides() -> dict[str, object]:
    small: dict[str, object] = dict(SMALL)
    flat = load_preset("default").flat()
    if "ecutwfc_by_element" in flat:
        small["ecutwfc_by_element"] = {}
    for key in ("energy_kspacing", "energy_conv_thr_per_atom"):  # the recording's mesh, thr
        if key in flat:
            small[key] = None
    return small


def cro2():
    return rutile("CrO2", "Cr", "O", 4.421, 2.917, 0.3053, 2.0)


def _deck(text: str) -> str:
    return re.sub(r"pseudo_dir = .*\n", "", text)


def copy_recorded(name: str, directory: Path) -> None:
    """The recorded SCF outputs into the prepared order folders, after checking that each
    prepared deck is the recorded one."""
    for order in sorted(p.name for p in (RECORDED / name).iterdir()):
        deck = (directory / order / "scf.in").read_text()
        assert _deck(deck) == _deck((RECORDED / name / order / "scf.in").read_text()), order
        shutil.copy(RECORDED / name / order / "scf.out", directory / order / "scf.out")


def _jobs(store: Store, mid: int) -> list:
    record = store.material(mid)
    assert record is not None
    return record.dft_jobs


def test_altermagnetic_ground_state_gets_the_band_check(db_url: str, tmp_path: Path) -> None:
    """MnF2: the d-wave altermagnet AM1 is 17 meV per Mn below FM; the band check is then
    prepared for AM1 (the deck of enumeration rank 1), and the search records it."""
    with Store(db_url) as store:
        mid = store.add_material(mnf2().with_moments(None))
        seen: list[str] = []
        kw = {"workdir": tmp_path, "runner": "prepare", "overrides": overrides()}
        first = verify_material(store, mid, on_status=seen.append, **kw)  # type: ignore[arg-type]
        assert (first.status, first.runner) == ("prepared", "prepare")
        (search,) = _jobs(store, mid)
        assert search.parameters["kind"] == "groundstate" and search.status == "prepared"
        folder = Path(first.directory)
        assert sorted(p.name for p in folder.iterdir() if p.is_dir()) == ["AM1", "FM"]
        again = verify_material(store, mid, **kw)  # type: ignore[arg-type]
        assert again.status == "prepared"  # no outputs yet: still waiting, same job
        assert [j.id for j in _jobs(store, mid)] == [search.id]
        copy_recorded("mnf2", folder)
        band = verify_material(store, mid, on_status=seen.append, **kw)  # type: ignore[arg-type]
        assert band.status == "prepared" and band.job_id != search.id
        jobs = {j.id: j for j in _jobs(store, mid)}
        params = jobs[band.job_id].parameters
        assert (params["predicted_verdict"], params["predicted_wave"]) == ("altermagnet", "d")
        assert params["moments"][0] * params["moments"][1] < 0  # the antiparallel AM1 order
        assert params["ground_state_job"] == search.id
        gs = jobs[search.id].verdict
        assert jobs[search.id].status == "completed"
        assert gs["ground_state"]["label"] == "AM1" and gs["verdict"] == "altermagnet"
        assert gs["ground_state"]["margin_mev_per_magnetic_atom"] > 5.0
        assert not gs["near_degenerate"]
        # the search prepared, then completed; the band-check job registered and prepared
        assert seen == ["prepared", "completed", "pending", "prepared"]


def test_ferromagnetic_ground_state_is_not_reported_as_an_altermagnet(
    db_url: str, tmp_path: Path
) -> None:
    """CrO2: FM is hundreds of meV per Cr below the altermagnetic AM1: recorded as "ground
    state not altermagnetic" with the energies; no band-check job is made."""
    with Store(db_url) as store:
        mid = store.add_material(cro2().with_moments(None))
        kw = {"workdir": tmp_path, "runner": "prepare", "overrides": overrides()}
        first = verify_material(store, mid, **kw)  # type: ignore[arg-type]
        copy_recorded("cro2", Path(first.directory))
        out = verify_material(store, mid, **kw)  # type: ignore[arg-type]
        assert out.status == "completed" and out.job_id == first.job_id
        assert out.verdict is not None and out.verdict["status"] == NOT_ALTERMAGNETIC
        assert out.verdict["ground_state"]["label"] == "FM"
        rel = {
            o["label"]: o["relative_energy_mev_per_magnetic_atom"] for o in out.verdict["orders"]
        }
        assert rel["FM"] == 0.0 and rel["AM1"] > 100.0
        (job,) = _jobs(store, mid)  # the search only: no bands prepared
        assert job.parameters["kind"] == "groundstate"
        record = store.material(mid)
        assert record is not None and record.ground_state is not None
        assert record.ground_state["band_check"]["status"] == NOT_ALTERMAGNETIC
        assert not (Path(first.directory).parent / "bands").exists()
        stored = verify_material(store, mid, **kw)  # type: ignore[arg-type]
        assert stored.reused and stored.verdict["status"] == NOT_ALTERMAGNETIC  # type: ignore[index]


def test_an_imposed_order_skips_the_search(tmp_path: Path) -> None:
    """``order=1`` imposes AM1 on CrO2 (the old behaviour): bands decks, no search."""
    with Store(f"sqlite:///{tmp_path / 'a.db'}") as store:
        mid = store.add_material(cro2().with_moments(None))
        out = verify_material(store, mid, workdir=tmp_path, runner="prepare", order=1)
        (job,) = _jobs(store, mid)
        assert job.parameters.get("kind") is None and job.parameters["predicted_verdict"] == (
            "altermagnet"
        )
        assert (Path(out.directory) / "bands.in").is_file()
        fm = verify_material(store, mid, workdir=tmp_path, runner="prepare", order=2)
        assert store.material(mid).dft_jobs[-1].parameters["predicted_verdict"] == "ferromagnet"  # type: ignore[union-attr]
        assert fm.job_id != out.job_id


def test_vasp_search_decks_wait_for_a_cluster(tmp_path: Path, monkeypatch) -> None:
    """``code="vasp"`` on a material without moments: one VASP SCF deck per order and the
    manifest, the search ``prepared`` (its outputs are OUTCARs computed elsewhere)."""
    import json

    for var in ("ALTERMAG_VASP_CMD", "ALTERMAG_VASP_PSP_DIR", "PMG_VASP_PSP_DIR"):
        monkeypatch.delenv(var, raising=False)
    with Store(f"sqlite:///{tmp_path / 'a.db'}") as store:
        mid = store.add_material(mnf2().with_moments(None))
        out = verify_material(store, mid, code="vasp", workdir=tmp_path, runner="auto")
        assert (out.status, out.code) == ("prepared", "vasp") and "OUTCAR" in out.message
        (job,) = _jobs(store, mid)
        assert (job.code, job.parameters["kind"]) == ("vasp", "groundstate")
    manifest = json.loads((Path(out.directory) / "manifest.json").read_text())
    assert [o["folder"] for o in manifest["orders"]] == ["AM1", "FM"]
    for order in manifest["orders"]:
        assert (Path(out.directory) / order["folder"] / "INCAR").is_file()


def test_cli_verify_searches_first_unless_an_order_is_imposed(tmp_path: Path) -> None:
    import json

    from typer.testing import CliRunner

    from altermag.cli import app

    db = f"sqlite:///{tmp_path / 'a.db'}"
    with Store(db) as store:
        mid = store.add_material(cro2().with_moments(None))
    base = ["dft", "verify", str(mid), "--db", db, "--runner", "prepare", "--json"]
    base += ["--workdir", str(tmp_path)]
    for extra, kind in (([], "groundstate"), (["--imposed"], None), (["--order", "2"], None)):
        res = CliRunner().invoke(app, [*base, *extra])
        assert res.exit_code == 0, res.output
        (out,) = json.loads(res.stdout[res.stdout.index("[") :])
        assert out["status"] == "prepared"
        with Store(db) as store:
            job = next(j for j in store.material(mid).dft_jobs if j.id == out["job_id"])  # type: ignore[union-attr]
        assert job.parameters.get("kind") == kind
        if extra == ["--imposed"]:
            assert job.parameters["predicted_verdict"] == "altermagnet"
        if extra == ["--order", "2"]:
            assert job.parameters["predicted_verdict"] == "ferromagnet"
