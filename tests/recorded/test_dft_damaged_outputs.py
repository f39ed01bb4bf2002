"""Damaged or mixed-up outputs never give a verdict.

Each test takes a real recorded run (the pw.x 6.7 run of AFM rutile CrO2 in
``tests/data/qe/cro2``, its bands as a VASP EIGENVAL in ``tests/data/vasp``), checks that the
intact copy is ``confirmed`` d-wave, then damages it the way it happens in practice — a file
cut short while copying, an XML written without eigenvalues, the ``scf.out`` of another run
beside the bands — and requires ``inconclusive`` with the reason, where the unchecked parser
answered ``confirmed`` or ``contradicted``.
"""

from __future__ import annotations

import gzip
import re
import shutil
from pathlib import Path

import pytest

from altermag.dft.qe.analysis import analyze_qe
from altermag.dft.qe.parse import QEOutputError
from altermag.dft.vasp.parse import analyze_vasp

DATA = Path(__file__).parents[1] / "data"
QE_CRO2 = DATA / "qe" / "cro2"
QE_CR = DATA / "qe" / "cr_afm"
XML = Path("out") / "altermag.save" / "data-file-schema.xml.gz"


def _qe_copy(tmp_path: Path) -> Path:
    folder = tmp_path / "cro2"
    shutil.copytree(QE_CRO2, folder)
    return folder


def _rewrite_xml(folder: Path, change) -> None:
    path = folder / XML
    text = gzip.decompress(path.read_bytes()).decode()
    path.write_bytes(gzip.compress(change(text).encode()))


def test_the_intact_recorded_run_is_confirmed(tmp_path: Path) -> None:
    v = analyze_qe(_qe_copy(tmp_path)).verdict
    assert v.status == "confirmed" and v.predicted_wave == "d", v.reason


def test_xml_with_a_third_of_its_kpoints_cut_is_inconclusive(tmp_path: Path) -> None:
    """A well-formed XML that lost its last 16 of 49 k-points (written by a killed job)."""
    folder = _qe_copy(tmp_path)

    def drop(text: str) -> str:
        blocks = re.findall(r"\s*<ks_energies>.*?</ks_energies>", text, flags=re.S)
        assert len(blocks) == 49
        for block in blocks[-16:]:
            text = text.replace(block, "", 1)
        return text

    _rewrite_xml(folder, drop)
    v = analyze_qe(folder).verdict
    assert v.status == "inconclusive"
    assert "33 of the 49 k-points" in v.reason


def test_xml_without_eigenvalues_is_inconclusive(tmp_path: Path) -> None:
    folder = _qe_copy(tmp_path)
    _rewrite_xml(
        folder,
        lambda t: re.sub(r"(<eigenvalues[^>]*>).*?(</eigenvalues>)", r"\1\2", t, flags=re.S),
    )
    v = analyze_qe(folder).verdict
    assert v.status == "inconclusive" and v.segments == []
    assert "no eigenvalues at all" in v.reason


def test_truncated_xml_is_unreadable_not_judged(tmp_path: Path) -> None:
    """A gzip copy cut at 70 %: no verdict is read from it (verify stores inconclusive)."""
    folder = _qe_copy(tmp_path)
    path = folder / XML
    text = gzip.decompress(path.read_bytes())
    path.write_bytes(gzip.compress(text[: int(len(text) * 0.7)]))
    with pytest.raises(QEOutputError):
        analyze_qe(folder)


def test_foreign_scf_out_beside_the_bands_is_inconclusive(tmp_path: Path) -> None:
    """The SCF output of another run (bcc Cr) beside the CrO2 bands."""
    folder = _qe_copy(tmp_path)
    shutil.copy(QE_CR / "scf.out", folder / "scf.out")
    v = analyze_qe(folder).verdict
    assert v.status == "inconclusive"
    assert "scf.out is not the SCF of these bands" in v.reason


def test_scf_out_of_another_prefix_is_inconclusive(tmp_path: Path) -> None:
    folder = _qe_copy(tmp_path)
    scf = folder / "scf.out"
    scf.write_text(scf.read_text().replace("/altermag.save/", "/other.save/"))
    v = analyze_qe(folder).verdict
    assert v.status == "inconclusive" and "prefix 'other'" in v.reason


def test_bands_deck_asking_for_more_bands_than_computed_is_inconclusive(tmp_path: Path) -> None:
    folder = _qe_copy(tmp_path)
    deck = folder / "bands.in"
    deck.write_text(deck.read_text().replace("nbnd = 36", "nbnd = 40"))
    v = analyze_qe(folder).verdict
    assert v.status == "inconclusive" and "36 of the 40 bands" in v.reason


def _vasp_copy(tmp_path: Path) -> Path:
    folder = tmp_path / "vasp"
    shutil.copytree(DATA / "vasp" / "cro2_eigenval", folder / "bands")
    (folder / "scf").mkdir()
    shutil.copy(DATA / "vasp" / "cro2_scf" / "OUTCAR", folder / "scf" / "OUTCAR")
    # the decks' INCARs say which run is the SCF and which the bands (ICHARG = 11)
    for step in ("scf", "bands"):
        shutil.copy(DATA / "vasp" / "inputs" / "cro2" / step / "INCAR", folder / step / "INCAR")
    shutil.copy(QE_CRO2 / "spin_group.json", folder / "spin_group.json")
    return folder


def test_truncated_eigenval_is_inconclusive(tmp_path: Path) -> None:
    """EIGENVAL cut at 70 %: pymatgen still reads 35 k-points (3 of 9 segments looked fine)."""
    folder = _vasp_copy(tmp_path)
    intact = analyze_vasp(folder).verdict
    # these OUTCAR lines carry no site moments: inconclusive for that reason alone
    assert intact.status == "inconclusive" and "site moments" in intact.reason
    assert intact.observed == "altermagnetic splitting"
    path = folder / "bands" / "EIGENVAL"
    text = path.read_text()
    path.write_text(text[: int(len(text) * 0.7)])
    v = analyze_vasp(folder).verdict
    assert v.status == "inconclusive" and v.reason.startswith("outputs unusable")
    assert "of the 49 its header announces" in v.reason and "truncated" in v.reason
