"""The shipped BNS table (altermag/symmetry/bns_symbols.tsv) against spglib and pymatgen."""

from __future__ import annotations

import pytest

from altermag import analyze
from altermag.symmetry.bns import N_MAGNETIC_SPACE_GROUPS, bns_symbol, generate_table
from tests import literature as lit


def test_table_is_what_spglib_and_pymatgen_give_for_every_group() -> None:
    rows = generate_table()
    assert len(rows) == N_MAGNETIC_SPACE_GROUPS
    for uni, number, symbol in rows:
        assert bns_symbol(uni) == (number, symbol)


@pytest.mark.parametrize(
    "build",
    [lit.mnf2, lit.ruo2, lit.mnte, lit.crsb, lit.fe2o3_hexagonal, lit.cr2o3, lit.la2cuo4,
     lit.kru4o8, lit.nio_afm2, lit.fe_bcc, lit.iwave_cubic, lit.iwave_hexagonal],
)  # fmt: skip
def test_literature_msg_symbol_matches_pymatgen(build) -> None:
    """The MSG symbol reported for a literature magnet is the one pymatgen's
    MagneticSpaceGroup gives for the reported BNS number."""
    from pymatgen.symmetry.maggroups import MagneticSpaceGroup

    res = analyze(build())
    major, minor = (int(x) for x in res.magnetic_space_group_number.split("."))
    assert res.magnetic_space_group == MagneticSpaceGroup([major, minor]).sg_symbol


def test_mnf2_msg() -> None:
    res = analyze(lit.mnf2())
    assert (res.magnetic_space_group_number, res.magnetic_space_group) == ("136.499", "P4_2'/mnm'")


def test_unknown_uni_number() -> None:
    with pytest.raises(KeyError):
        bns_symbol(N_MAGNETIC_SPACE_GROUPS + 1)
