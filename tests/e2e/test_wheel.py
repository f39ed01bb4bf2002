"""The wheel, installed (not editable) into a scratch environment, works outside the checkout.

The wheel is built from the repository's files (tracked and new, not ignored), installed with
``pip --no-deps`` into a fresh virtual environment whose only other path entry is the project
environment's site-packages (the dependencies: no network, no reinstall), and run from an
empty working directory with ``ALTERMAG_HOME`` pointing elsewhere and no ``PYTHONPATH``. So
the checkout is never imported: what runs is what a user gets from ``pip install altermag``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import site
import socket
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.requirements import requires

ROOT = Path(__file__).resolve().parents[2]
BILBAO = re.compile(rb'_audit_creation_method\s+"Bilbao Crystallographic Server"')
"""The CIF item by which (nearly) every MAGNDATA mCIF names its origin."""


@dataclass(frozen=True)
class Installed:
    wheel: Path
    venv: Path
    package: Path  # the installed altermag package folder
    cwd: Path
    home: Path

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "ALTERMAG_"))}
        return {
            **env,
            "ALTERMAG_HOME": str(self.home),
            "PATH": f"{self.venv / 'bin'}:{env['PATH']}",
        }

    def run(self, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.venv / "bin" / args[0]), *args[1:]],
            cwd=self.cwd,
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=timeout,
        )


def _source_files() -> list[str]:
    """The repository's files a release is built from: tracked and new, not ignored."""
    out = subprocess.run(
        ["git", "-C", str(ROOT), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        capture_output=True,
        check=True,
    ).stdout
    return [f for f in out.decode().split("\0") if f and (ROOT / f).is_file()]


def _snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    """(size, mtime) of every file of the installed package, byte-code caches aside."""
    return {
        str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in folder.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Installed]:
    base = tmp_path_factory.mktemp("wheel")
    src = base / "src"
    for rel in _source_files():
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, src / rel)
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run(
        [*pip, "wheel", "--no-deps", "--no-build-isolation", "--no-index", str(src)],
        cwd=base,
        check=True,
    )
    (wheel,) = base.glob("altermag-*.whl")
    venv = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    (venv_site,) = venv.glob("lib/python*/site-packages")
    # the dependencies: the project environment's site-packages, after the venv's own
    (venv_site / "_project_dependencies.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    target = str(venv / "bin" / "python")
    # --ignore-installed: the project environment (on the path through the .pth) holds the
    # editable altermag of the same version, which pip would otherwise take as installed
    install = [*pip, "--python", target, "install", "--no-deps", "--ignore-installed"]
    subprocess.run([*install, str(wheel)], check=True)
    cwd, home = base / "work", base / "home"
    cwd.mkdir()
    yield Installed(wheel, venv, venv_site / "altermag", cwd, home)


def test_wheel_holds_the_packages_and_their_data(installed: Installed) -> None:
    names = zipfile.ZipFile(installed.wheel).namelist()
    tops = {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")}
    assert tops == {"altermag", "altermag_api", "altermag_flows"}  # no bare api/ or flows/
    for needed in (
        "altermag/py.typed",
        "altermag/dft/presets/fast.yaml",
        "altermag/dft/presets/default.yaml",
        "altermag/ml/checkpoints/ground-state-prior.json",
        "altermag/ml/checkpoints/magndata_labels.json.gz",
        "altermag/reports/templates/material.html.j2",
        "altermag/store/migrations/versions/0001_initial.py",
        "altermag/data/corpus/corpus.jsonl.gz",
        "altermag/symmetry/bns_symbols.tsv",
        "altermag/symmetry/spin_laue_groups.tsv",
    ):
        assert needed in names, needed
    assert not any(n.startswith(("tests/", "benchmarks/", "docs/")) for n in names)
    with zipfile.ZipFile(installed.wheel) as z:
        assert not [n for n in names if BILBAO.search(z.read(n))], "a MAGNDATA file is in the wheel"


def test_wheel_ships_the_sg15_pseudopotentials_with_their_licence(installed: Installed) -> None:
    """The default QE library travels with the package: one UPF per element of the SG15 set,
    the CC BY-SA 4.0 notice and legal code and the attribution beside them, and the installed
    package finds them without ALTERMAG_PSEUDO_DIR."""
    names = zipfile.ZipFile(installed.wheel).namelist()
    sg15 = "altermag/dft/qe/sg15/"
    upfs = sorted(n[len(sg15) :] for n in names if n.startswith(sg15) and n.endswith(".UPF"))
    shipped = ROOT / "altermag" / "dft" / "qe" / "sg15"
    assert upfs == sorted(p.name for p in shipped.glob("*.UPF"))
    assert len(upfs) == 69 and {"Mn.UPF", "F.UPF", "Te.UPF", "Sb.UPF", "Ru.UPF"} <= set(upfs)
    with zipfile.ZipFile(installed.wheel) as z:
        assert "CC BY-SA 4.0" in z.read(sg15 + "LICENCE").decode()
        assert "Attribution-ShareAlike 4.0" in z.read(sg15 + "CC-BY-SA-4.0.txt").decode()
        readme = z.read(sg15 + "README.md").decode()
        assert "Schlipf" in readme and "CC BY-SA 4.0" in readme
        mn = z.read(sg15 + "Mn.UPF").decode()
        assert 'element="Mn"' in mn and 'functional="PBE"' in mn
    code = (
        "from altermag.dft.qe.pseudo import find_pseudopotentials as f; "
        "print(f(['Mn', 'F'])['Mn'].path)"
    )
    done = installed.run("python", "-c", code)
    assert done.returncode == 0, done.stderr
    assert Path(done.stdout.strip()) == installed.package / "dft" / "qe" / "sg15" / "Mn.UPF"


def test_installed_package_is_the_one_that_runs(installed: Installed) -> None:
    code = "import altermag, altermag_api, altermag_flows; print(altermag.__file__)"
    done = installed.run("python", "-c", code)
    assert done.returncode == 0, done.stderr
    assert Path(done.stdout.strip()).parent == installed.package  # not the checkout


def test_cli_and_api_work_outside_the_checkout(installed: Installed) -> None:
    """analyze, dft prepare, report, screen, data build-corpus and the API's /health, run
    from an empty folder: outputs land under ALTERMAG_HOME, nothing in the package."""
    before = _snapshot(installed.package)
    mnf2 = installed.package / "data" / "examples" / "MnF2.mcif"

    done = installed.run("altermag", "analyze", "--json", str(mnf2))
    assert done.returncode == 0, done.stderr
    (result,) = json.loads(done.stdout)
    assert (result["verdict"], result["wave"]) == ("altermagnet", "d")  # rutile MnF2

    done = installed.run("altermag", "dft", "prepare", str(mnf2), "--code", "vasp")
    assert done.returncode == 0, done.stderr  # the presets are package data
    (deck,) = (installed.home / "dft_inputs" / "generated").glob("MnF2-*/vasp")
    assert (deck / "bands" / "KPOINTS").is_file() and (deck / "scf" / "INCAR").is_file()

    report = installed.home / "MnF2.json"
    done = installed.run("altermag", "report", str(mnf2), "--format", "json", "--out", str(report))
    assert done.returncode == 0, done.stderr
    assert json.loads(report.read_text())["result"]["spin_laue_group"] is not None

    done = installed.run("altermag", "screen", "--source", "known", "--limit", "4", "--no-prefect")
    assert done.returncode == 0, done.stderr
    assert list((installed.home / "candidates").glob("*/candidates.csv"))
    assert (installed.home / "altermag.db").is_file()

    done = installed.run("altermag", "data", "build-corpus", "--limit", "1", "--processes", "1")
    assert done.returncode == 0, done.stderr
    assert (installed.home / "data" / "corpus.jsonl.gz").is_file()

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen(
        [str(installed.venv / "bin" / "altermag"), "api", "--port", str(port)],
        cwd=installed.cwd,
        env=installed.env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        health = None
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and server.poll() is None:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/health", timeout=2)
                break
            except httpx.TransportError:
                time.sleep(0.5)
        assert health is not None, server.stderr.read().decode() if server.stderr else ""
        assert health.status_code == 200 and health.json()["status"] == "ok"
    finally:
        server.terminate()
        server.wait(timeout=30)

    assert not list(installed.cwd.iterdir()), "something was written into the working folder"
    assert _snapshot(installed.package) == before, "something was written into the package"


@requires("magndata")
def test_wheel_holds_no_magndata_file(installed: Installed) -> None:
    """MAGNDATA's mCIFs may not be redistributed: none is in the wheel, byte for byte."""
    from altermag.config import get_settings

    magndata = {p.read_bytes() for p in get_settings().magndata_dir.rglob("*.mcif")}
    with zipfile.ZipFile(installed.wheel) as z:
        assert not [n for n in z.namelist() if z.read(n) in magndata]
