"""User errors are AltermagErrors with a message; the command line turns them into exit 1."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import altermag
from altermag.cli import app
from altermag.errors import AltermagError, AnalysisError, InputError, SettingsError
from altermag.structure import MagneticStructure

ROCKSALT = np.array([[0.0, 0.0, 0.0], [0.5, 0.5, 0.5]])


@pytest.mark.parametrize("moments", [[5.0, 0.0], None])
def test_non_finite_lattice_is_an_input_error(moments: list[float] | None) -> None:
    """spglib segfaults on a NaN lattice; the analysis refuses it first (both paths)."""
    s = MagneticStructure(np.eye(3) * np.nan, ("Mn", "O"), ROCKSALT, moments)
    with pytest.raises(InputError, match="NaN or infinite values in the lattice"):
        altermag.analyze(s)


def test_degenerate_lattice_is_an_analysis_error() -> None:
    """Two parallel lattice vectors (zero volume): no space group, for given or enumerated
    moments alike, and the reason is spglib's."""
    lattice = np.array([[1.0, 0.0, 0.0], [2.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    for moments in ([5.0, 0.0], None):
        with pytest.raises(AnalysisError, match="spglib could not find the symmetry"):
            altermag.analyze(MagneticStructure(lattice, ("Mn", "O"), ROCKSALT, moments))


def test_unknown_enumeration_cell_is_a_settings_error() -> None:
    s = MagneticStructure(np.eye(3) * 4.4, ("Mn", "O"), ROCKSALT, None)
    with pytest.raises(SettingsError, match="cell must be"):
        altermag.analyze(s, cell="supercell")


def test_cli_prints_a_user_error_and_exits_1(tmp_path: Path) -> None:
    """A MAGNDATA 'folder' that is a plain file: one line naming it, status 1, no traceback."""
    not_a_folder = tmp_path / "magndata.txt"
    not_a_folder.write_text("not an archive")
    db = f"sqlite:///{tmp_path / 'altermag.db'}"
    args = ["screen", "--source", "magndata", "--path", str(not_a_folder), "--db", db]
    res = CliRunner().invoke(app, [*args, "--out", str(tmp_path / "out"), "--no-prefect"])
    assert res.exit_code == 1
    assert f"error: {not_a_folder}: neither a folder nor a zip archive" in res.output
    assert isinstance(res.exception, SystemExit)  # handled, not a crash


def test_cli_lets_a_bug_raise(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """An exception that is not an AltermagError is a bug: it reaches the caller unchanged."""

    def broken(*args: object, **kwargs: object) -> None:
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr("altermag.symmetry.analyze", broken)
    cif = Path(altermag.__file__).parent / "data" / "examples" / "Cr2O3.cif"
    res = CliRunner().invoke(app, ["analyze", str(cif)])
    assert isinstance(res.exception, ZeroDivisionError)
    assert not isinstance(res.exception, AltermagError)
