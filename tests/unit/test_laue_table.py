"""The shipped spin Laue group table (altermag/symmetry/spin_laue_groups.tsv)."""

from __future__ import annotations

import pytest

from altermag import analyze
from altermag.symmetry import laue_table, spin_group
from altermag.symmetry.spin_group import (
    _group_key,
    _kspace,
    _kspace_computed,
    _laue,
    _laue_computed,
    clear_caches,
)
from tests import literature as lit


def test_every_row_is_the_computation_from_scratch() -> None:
    keys = laue_table.spin_laue_group_keys()
    # 41 Laue groups (30 subgroups of m-3m and 16 of 6/mmm containing -1, of which -1,
    # 2/m along x, y, z and mmm are common to both frames), each with every χ
    assert len({tuple(row[:9] for row in k) for k in keys}) == 41
    rows = dict(laue_table.generate_table())
    shipped = laue_table.TABLE.read_text(encoding="utf-8").splitlines()[1:]
    assert len(shipped) == len(rows) == len(keys)
    for key in keys:
        row = laue_table.lookup(key)
        assert row == rows[laue_table.digest(key)]
        clear_caches()
        assert _laue(key) == _laue_computed(key)
        if any(r[-1] == -1 for r in key):
            assert _kspace(key) == _kspace_computed(key)


def test_the_ten_altermagnetic_spin_laue_groups() -> None:
    """Over all orientations in the two standard frames the table holds the 11 Laue classes
    with χ ≡ +1 and exactly the 10 spin Laue groups with spin-flipping elements of Šmejkal,
    Sinova & Jungwirth (PRX 12, 031042 (2022)), written in the project's canonical form."""
    symbols: dict[str, set[str]] = {}
    for key in laue_table.spin_laue_group_keys():
        row = laue_table.lookup(key)
        assert row is not None
        laue, spin, _ = row["laue"]
        symbols.setdefault(laue, set()).add(spin)
        assert ("kspace" in row) == ("²" in spin)
    assert symbols == {
        "-1": {"¹-1"},
        "2/m": {"¹2/¹m", "²2/²m"},
        "mmm": {"¹m¹m¹m", "²m²m¹m"},
        "4/m": {"¹4/¹m", "²4/¹m"},
        "4/mmm": {"¹4/¹m¹m¹m", "²4/¹m²m¹m", "¹4/¹m²m²m"},
        "-3": {"¹-3"},
        "-3m": {"¹-3¹m", "¹-3²m"},
        "6/m": {"¹6/¹m", "²6/²m"},
        "6/mmm": {"¹6/¹m¹m¹m", "²6/²m²m¹m", "¹6/¹m²m²m"},
        "m-3": {"¹m-3"},
        "m-3m": {"¹m-3¹m", "¹m-3²m"},
    }


@pytest.mark.parametrize(
    ("build", "symbol", "wave"),
    [
        (lit.mnf2, "²4/¹m²m¹m", "d"),
        (lit.ruo2, "²4/¹m²m¹m", "d"),
        (lit.mnte, "²6/²m²m¹m", "g"),
        (lit.crsb, "²6/²m²m¹m", "g"),
        (lit.fe2o3_rhombohedral, "¹-3²m", "g"),
        (lit.iwave_cubic, "¹m-3²m", "i"),
        (lit.iwave_hexagonal, "¹6/¹m²m²m", "i"),
    ],
)
def test_literature_altermagnets_come_from_the_table(build, symbol, wave, monkeypatch) -> None:
    """A cold analysis of a literature altermagnet finds its spin Laue group in the table and
    never falls back to computing it."""

    def refuse(key: tuple) -> None:
        raise AssertionError("spin Laue group missing from the shipped table")

    monkeypatch.setattr(spin_group, "_laue_computed", refuse)
    monkeypatch.setattr(spin_group, "_kspace_computed", refuse)
    clear_caches()
    res = analyze(build())
    assert (res.verdict, res.spin_laue_group, res.wave) == ("altermagnet", symbol, wave)


def test_group_outside_the_table_is_computed() -> None:
    """A key the table lacks (here a spin Laue group in a rotated frame) is computed, not lost."""
    import numpy as np

    c, s = np.cos(0.3), np.sin(0.3)
    rz = np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]])
    two_x = rz @ np.diag([1.0, -1, -1]) @ rz.T
    rots = np.array([np.eye(3), -np.eye(3), two_x, -two_x])
    key = _group_key(rots, np.array([1, 1, -1, -1]))
    assert laue_table.lookup(key) is None
    clear_caches()
    assert _laue(key).spin_symbol == "²2/²m"
    assert _kspace(key) == _kspace_computed(key)
