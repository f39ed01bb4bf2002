"""Connectors tested against real local servers of their protocol.

The OPTIMADE tests start the OPTIMADE reference server (optimade-python-tools, in-memory
database) on loopback, loaded with published magnetic structures; the malformed-response and
retry tests use a small real HTTP server on loopback that answers badly on purpose.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
import zipfile
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from altermag.cli import app
from altermag.sources import SourceError, get_source, iter_records
from altermag.sources.materials_project import MaterialsProjectSource
from altermag.sources.optimade import OptimadeSource
from tests import literature as lit
from tests.optimade_server import write_jsonl

HERE = Path(__file__).resolve().parents[1]
EXAMPLES = HERE.parent / "altermag" / "data" / "examples"
BUILDERS = [
    lit.mnf2,
    lit.fef2,
    lit.nif2,
    lit.ruo2,
    lit.mnte,
    lit.crsb,
    lit.cr2o3,
    lit.fe2o3_hexagonal,
    lit.nio_afm2,
    lit.fe_bcc,
    lit.cr_bcc_afm,
    lit.la2cuo4,
]
MAGNETIC_FILTER = 'elements HAS ANY "Mn","Cr","Fe","Ni","Ru","Cu"'


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class OptimadeServer:
    """The reference server as a subprocess that can be stopped and started again."""

    def __init__(self, jsonl: Path, port: int) -> None:
        self.jsonl, self.port = jsonl, port
        self.url = f"http://127.0.0.1:{port}"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [
                sys.executable,
                str(HERE / "optimade_server.py"),
                str(self.jsonl),
                str(self.port),
                "--prefix",
                "mp",
                "--provider-field",
                "ordering",
                "--page-limit",
                "4",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/v1/info", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.2)
        raise RuntimeError("OPTIMADE reference server did not start")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=20)
            self.proc = None


@pytest.fixture(scope="module")
def optimade_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OptimadeServer]:
    entries = []
    for i, build in enumerate(BUILDERS):
        s = build()
        ordering = "AFM" if s.magmoms is not None and s.magmoms[:, 2].sum() == 0 else "FM"
        entries.append((f"am-{i:03d}", s.with_moments(None).to_pymatgen(), {"ordering": ordering}))
    path = tmp_path_factory.mktemp("optimade") / "structures.jsonl"
    write_jsonl(path, entries)
    server = OptimadeServer(path, _free_port())
    server.start()
    yield server
    server.stop()


def test_filter_returns_several_pages(optimade_server: OptimadeServer) -> None:
    src = OptimadeSource(optimade_server.url, filter=MAGNETIC_FILTER, page_limit=4)
    pages = list(src.pages())
    assert len(pages) >= 3
    ids = [r.id for p in pages for r in p.records]
    assert len(ids) == len(set(ids)) == len(BUILDERS)
    assert pages[-1].next_cursor is None and all(p.next_cursor for p in pages[:-1])
    mnf2 = next(r for p in pages for r in p.records if r.structure.formula == "MnF2")
    assert len(mnf2.structure) == 6 and mnf2.structure.magmoms is None
    only_mn = list(iter_records(OptimadeSource(optimade_server.url, filter='elements HAS "Mn"')))
    assert sorted(r.structure.formula for r in only_mn) == ["MnF2", "MnTe"]


def test_resume_after_server_restart(optimade_server: OptimadeServer) -> None:
    src = OptimadeSource(
        optimade_server.url,
        filter=MAGNETIC_FILTER,
        page_limit=4,
        max_retries=1,
        backoff=0.05,
        timeout=5,
    )
    got: list[str] = []
    cursor = None
    pages = src.pages()
    for _ in range(2):
        page = next(pages)
        got += [r.id for r in page.records]
        cursor = page.next_cursor
    optimade_server.stop()
    with pytest.raises(SourceError) as info:
        next(pages)
    assert info.value.cursor == cursor
    optimade_server.start()
    for page in src.pages(info.value.cursor):
        got += [r.id for r in page.records]
    assert len(got) == len(set(got)) == len(BUILDERS)


def test_materials_project_through_its_optimade_mapping(optimade_server: OptimadeServer) -> None:
    src = MaterialsProjectSource(
        base_url=optimade_server.url,
        filter=MAGNETIC_FILTER,
        page_limit=4,
        extra_fields=("_mp_ordering",),
    )
    records = list(iter_records(src))
    assert len(records) == len(BUILDERS)
    by_formula = {r.structure.formula: r for r in records}
    assert by_formula["MnF2"].metadata["_mp_ordering"] == "AFM"
    assert by_formula["Fe"].metadata["_mp_ordering"] == "FM"
    assert all(r.metadata["source"] == "materials_project" for r in records)


def test_materials_project_api_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MP_API_KEY", raising=False)
    with pytest.raises(SourceError, match="needs an API key: set MP_API_KEY"):
        MaterialsProjectSource(mode="api")
    monkeypatch.setenv("MP_API_KEY", "x" * 32)
    assert MaterialsProjectSource(mode="api").api_key == "x" * 32
    result = CliRunner().invoke(
        app,
        ["fetch", "materials_project", "--mp-mode", "api", "--out", "/tmp/never"],
        env={"MP_API_KEY": ""},
    )
    assert result.exit_code == 2


class _BadProvider(BaseHTTPRequestHandler):
    """Answers /v1/structures with 503 twice, then with truncated JSON."""

    calls = 0

    def do_GET(self) -> None:
        type(self).calls += 1
        if type(self).calls <= 2:
            self.send_response(503)
            self.end_headers()
            return
        body = b'{"data": [{"id": "x", "attributes": {'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def test_retries_then_malformed_response_is_a_clear_error() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _BadProvider)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        src = OptimadeSource(url, max_retries=3, backoff=0.01)
        with pytest.raises(SourceError, match=r"malformed response \(not JSON\)"):
            list(src.pages())
        assert _BadProvider.calls == 3  # two 503s retried, then the bad body
    finally:
        server.shutdown()


def test_disordered_entries_are_skipped_and_counted(tmp_path: Path) -> None:
    from altermag.sources.optimade import structure_from_optimade

    entry = {
        "id": "d",
        "attributes": {
            "lattice_vectors": [[3, 0, 0], [0, 3, 0], [0, 0, 3]],
            "cartesian_site_positions": [[0, 0, 0]],
            "species_at_sites": ["FeCo"],
            "species": [
                {"name": "FeCo", "chemical_symbols": ["Fe", "Co"], "concentration": [0.5, 0.5]}
            ],
            "structure_features": ["disorder"],
        },
    }
    structure, reason = structure_from_optimade(entry)
    assert structure is None and reason.startswith("disordered")


def test_local_source_one_error_per_bad_file(tmp_path: Path) -> None:
    (tmp_path / "good").mkdir()
    (tmp_path / "good" / "MnF2.mcif").write_text((EXAMPLES / "MnF2.mcif").read_text())
    (tmp_path / "MnTe.json").write_text((EXAMPLES / "MnTe.json").read_text())
    (tmp_path / "broken.cif").write_text("data_x\n_cell_length_a 3\n")
    (tmp_path / "empty.cif").write_text("")
    records = list(iter_records(get_source("local", path=tmp_path, page_size=2)))
    assert [r.id for r in records] == ["MnTe.json", "broken.cif", "empty.cif", "good/MnF2.mcif"]
    errors = {r.id: r.error for r in records if r.error}
    assert set(errors) == {"broken.cif", "empty.cif"}
    assert errors["empty.cif"].endswith("the file is empty")
    # resume from a cursor in the middle
    src = get_source("local", path=tmp_path, page_size=2)
    assert [r.id for r in iter_records(src, "2")] == ["empty.cif", "good/MnF2.mcif"]


def test_magndata_zip_keeps_ids_and_references(tmp_path: Path) -> None:
    text = (EXAMPLES / "MnF2.mcif").read_text()
    text = text.replace(
        "data_MnF2",
        "data_MnF2\n_citation_journal_abbrev 'Phys. Rev.'\n"
        "_citation_journal_volume 90\n_citation_year 1953\n"
        "_citation_DOI 10.1103/PhysRev.90.779",
    )
    archive = tmp_path / "magndata.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("mcif/0.15.mcif", text)
        zf.writestr("mcif/0.1.mcif", "data_broken\n")
    records = list(iter_records(get_source("magndata", path=archive)))
    by_id = {r.id: r for r in records}
    assert set(by_id) == {"magndata:0.15", "magndata:0.1"}
    mnf2 = by_id["magndata:0.15"]
    assert mnf2.structure.magmoms is not None
    assert mnf2.metadata["reference"]["DOI"] == "10.1103/PhysRev.90.779"
    assert by_id["magndata:0.1"].error


def test_fetch_cli_writes_files_and_manifest(
    optimade_server: OptimadeServer, tmp_path: Path
) -> None:
    out = tmp_path / "fetched"
    result = CliRunner().invoke(
        app,
        [
            "fetch",
            "optimade",
            "--url",
            optimade_server.url,
            "--filter",
            'elements HAS "Mn"',
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["complete"] and len(manifest["entries"]) == 2
    import ase.io
    from pymatgen.core import Structure

    from altermag import read_structure

    for entry in manifest["entries"]:
        path = out / entry["file"]
        assert path.suffix == ".cif"  # database entries carry no moments
        formula = read_structure(path).formula
        assert formula in ("MnF2", "MnTe") and entry["formula"] == formula
        assert Structure.from_file(path).composition.reduced_formula == formula
        atoms = ase.io.read(path)
        assert Structure.from_ase_atoms(atoms).composition.reduced_formula == formula
        assert entry["metadata"]["provider_url"] == optimade_server.url
