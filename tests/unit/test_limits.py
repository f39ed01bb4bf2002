"""Limits are checked before allocation: declared sizes, repeat counts, JSON classes,
crafted cursors, and the candidate page cache bounded by bytes."""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path

import pytest
from altermag_api.page_cache import PageCache

from altermag.config import PUBLIC_LIMITS, Limits, get_settings, use_limits
from altermag.errors import InputError, LimitError
from altermag.io import StructureLimitError, StructureReadError, parse_magmom
from altermag.store.candidates import decode_cursor, encode_cursor
from altermag.symmetry.request import AnalyzeRequest
from tests.abuse_corpus import CORPUS, Upload, fcc_xyz

EXAMPLES = Path(__file__).resolve().parents[2] / "altermag" / "data" / "examples"


@pytest.mark.parametrize("upload", CORPUS, ids=lambda u: u.key)
def test_the_readers_refuse_the_abuse_corpus_quickly(upload: Upload, tmp_path: Path) -> None:
    """Under the public limits every hostile file is refused with its status (413 for a
    limit, 422 for a broken file) in well under a second of its own work."""
    path = tmp_path / upload.filename
    path.write_bytes(upload.content)
    request = AnalyzeRequest(magmom=upload.form.get("magmom"))
    import pymatgen.io.cif
    import pymatgen.io.vasp  # noqa: F401

    start = time.monotonic()
    with use_limits(PUBLIC_LIMITS), pytest.raises(InputError) as info:
        request.read_and_analyze(path)
    assert time.monotonic() - start < 5.0
    assert info.value.status == upload.status, str(info.value)
    assert isinstance(info.value, StructureReadError | LimitError)
    assert isinstance(info.value, LimitError) == (upload.status == 413)


def test_magmom_repeat_counts_are_summed_before_anything_is_expanded() -> None:
    start = time.monotonic()
    with pytest.raises(LimitError, match="100,000,000 exceeds the limit of 3,000"):
        parse_magmom("100000000*5", PUBLIC_LIMITS)
    assert time.monotonic() - start < 0.01  # nothing of 10^8 values was built
    assert parse_magmom("2*5 -5 3*0", PUBLIC_LIMITS) == [5, 5, -5, 0, 0, 0]
    with pytest.raises(LimitError):
        parse_magmom([1.0] * 3001, PUBLIC_LIMITS)


def test_the_command_line_is_less_strict_than_the_public_endpoint(tmp_path: Path) -> None:
    """A 1,331-atom supercell is too large for the public endpoint, not for the CLI."""
    cli, public = get_settings().limits, get_settings().public_limits
    for name in ("max_atoms", "max_site_operations", "max_moment_values", "max_file_bytes"):
        assert getattr(public, name) < getattr(cli, name), name
    path = tmp_path / "big.extxyz"
    path.write_bytes(fcc_xyz(11))
    with use_limits(public), pytest.raises(StructureLimitError, match="max_atoms"):
        AnalyzeRequest().read_and_analyze(path)
    from altermag.io import read_structure

    assert len(read_structure(path)) == 11**3  # the CLI's limits


def test_operations_times_sites_is_bounded_before_the_permutation_tables(tmp_path: Path) -> None:
    """A 1,000-atom supercell of a one-atom crystal, enumerated in the cell as given, has
    48,000 operations × 1,000 sites: refused before the tables are built."""
    path = tmp_path / "super.extxyz"
    path.write_bytes(fcc_xyz(10))
    with use_limits(PUBLIC_LIMITS), pytest.raises(LimitError, match="max_site_operations"):
        AnalyzeRequest(cell="as_given").read_and_analyze(path)


def test_limits_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALTERMAG_PUBLIC_LIMITS__MAX_ATOMS", "50")
    monkeypatch.setenv("ALTERMAG_LIMITS__ANALYSIS_SECONDS", "30")
    s = get_settings()
    assert s.public_limits.max_atoms == 50
    assert s.public_limits.max_moment_values == PUBLIC_LIMITS.max_moment_values  # the rest
    assert s.limits.analysis_seconds == 30 and s.limits.max_atoms == Limits().max_atoms


def test_uploaded_json_is_data_only(tmp_path: Path) -> None:
    """Only a pymatgen Structure (with Magmom and numpy arrays inside) is decoded; any other
    @module/@class is refused before pymatgen or monty import anything."""
    from pymatgen.core import Lattice, Structure

    from altermag.io import read_structure

    s = Structure(Lattice.cubic(4.0), ["Mn", "Mn"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    s.add_site_property("magmom", [4.0, -4.0])
    ok = tmp_path / "ok.json"
    ok.write_text(json.dumps(s.as_dict()))
    assert read_structure(ok).magmoms is not None
    for bad in (
        {**s.as_dict(), "@module": "pymatgen.io.vasp", "@class": "Vasprun"},
        {**s.as_dict(), "properties": {"x": {"@module": "os", "@class": "system"}}},
        {**s.as_dict(), "lattice": {"@module": "builtins", "@class": "eval"}},
    ):
        path = tmp_path / "bad.json"
        path.write_text(json.dumps(bad))
        with pytest.raises(StructureReadError, match="names class"):
            read_structure(path)


def _crafted(payload: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    ("sort", "payload"),
    [
        ("score", {"s": "score", "k": {"x": 1}, "i": 1}),
        ("score", {"s": "score", "k": "1e999", "i": 1}),
        ("score", {"s": "score", "k": 0.5, "i": 2**70}),
        ("score", {"s": "score", "k": 0.5, "i": -1}),
        ("formula", {"s": "formula", "k": 3, "i": 1}),
        ("formula", {"s": "formula", "k": "Mn\u0000F2", "i": 1}),
        ("newest", {"s": "newest", "k": 10**30, "i": 1}),
        ("newest", {"s": "newest", "k": True, "i": 1}),
        ("score", {"s": "score", "k": [1, 2], "i": 1}),
    ],
)
def test_crafted_cursors_are_input_errors(sort: str, payload: dict) -> None:
    with pytest.raises(InputError, match="invalid cursor"):
        decode_cursor(_crafted(payload), sort)


def test_real_cursors_still_decode() -> None:
    for sort, key in (("score", 0.75), ("score", -1e300), ("formula", "MnF2"), ("newest", 42)):
        assert decode_cursor(encode_cursor(sort, key, 7), sort) == (key, 7)


def test_page_cache_is_bounded_by_bytes() -> None:
    cache = PageCache(max_entries=10_000, max_bytes=100_000)
    cache.get(1, "warm")  # at revision 1
    for i in range(1_500):  # 1,500 distinct queries of ~1 kB pages
        cache.put(1, f"q={i}", b"x" * 1000)
        assert cache.nbytes <= 100_000
    assert 90 <= len(cache) <= 100
    assert cache.get(1, "q=1499") is not None  # the newest pages stay
    assert cache.get(1, "q=0") is None  # the oldest went first
    cache.put(1, "huge", b"x" * 20_000)  # more than an eighth of the bound: not kept
    assert cache.get(1, "huge") is None and cache.nbytes <= 100_000
    assert cache.get(2, "q=1499") is None and cache.nbytes == 0  # a new revision: all gone
