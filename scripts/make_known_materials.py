"""Write the curated known magnetic materials (altermag/data/known/*.yaml) from published data.

Run from the repository root: ``python scripts/make_known_materials.py``. Each material is
given by its published space group, lattice parameters and Wyckoff positions; pymatgen expands
the positions, an optional (possibly non-diagonal) supercell gives the magnetic cell, and a
moment rule sets the published collinear order on every site. The library reads only the YAML
written here, so every file is reproducible and reviewable.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import spglib
import yaml
from pymatgen.core import Composition, Lattice, Structure
from pymatgen.symmetry.groups import SpaceGroup

from altermag.prototypes import corundum_chain, corundum_sites, r3c_chain_rule

OUT = Path(__file__).resolve().parents[1] / "altermag" / "data" / "known"

# A moment rule: (element, coordinates in units of the parent conventional cell) -> μB.
Rule = Callable[[str, np.ndarray], float]

SMEJKAL_PRX = ("10.1103/PhysRevX.12.031042", "Šmejkal, Sinova & Jungwirth, PRX 12, 031042 (2022)")
SMEJKAL_PERSP = ("10.1103/PhysRevX.12.040501", "Šmejkal, Sinova & Jungwirth, PRX 12, 040501 (2022)")
GAO = ("10.48550/arXiv.2311.04418", "Gao et al., Natl. Sci. Rev. (2025), arXiv:2311.04418")
NAKA = ("10.1103/PhysRevB.103.125114", "Naka, Motome & Seo, PRB 103, 125114 (2021)")


@dataclass
class Spec:
    """One material: published crystal data, its collinear order and its references."""

    id: str
    name: str
    label: str
    wave: str | None
    sg: str | int
    lattice: tuple[float, float, float, float, float, float]
    sites: list[tuple[str, tuple[float, float, float]]]
    rule: Rule
    reference: tuple[str, str]
    structure_reference: str
    note: str
    spin_laue_group: str | None = None
    supercell: list[list[float]] | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def close(a: float, b: float, tol: float = 1e-3) -> bool:
    """True when fractional coordinates a and b agree modulo 1."""
    d = (a - b) % 1.0
    return min(d, 1.0 - d) < tol


def on(metal: str, sign: Callable[[np.ndarray], int], m: float) -> Rule:
    """Moment ``m * sign(f)`` on ``metal`` sites, zero elsewhere."""

    def rule(el: str, f: np.ndarray) -> float:
        return float(m * sign(f)) if el == metal else 0.0

    return rule


def parity(*axes: int) -> Callable[[np.ndarray], int]:
    """(−1)^round(2 Σ f_axis): the sign pattern of antiferromagnetic planes on a half grid."""
    return lambda f: -1 if round(2 * sum(f[i] for i in axes)) % 2 else 1


def int_parity(*axes: int) -> Callable[[np.ndarray], int]:
    """(−1)^round(Σ f_axis) on an integer grid (fcc / simple-cubic supercells)."""
    return lambda f: -1 if round(sum(f[i] for i in axes)) % 2 else 1


def ferro(moments: dict[str, float]) -> Rule:
    """Every site of an element carries the same moment."""
    return lambda el, f: moments.get(el, 0.0)


# --- structure families --------------------------------------------------------------------


def rutile(mid, metal, anion, a, c, x, m, label, wave, ref, sref, note, slg="²4/¹m²m¹m"):
    """Rutile MX2, P4_2/mnm: M 2a, X 4f (x,x,0); M(0,0,0) and M(½,½,½) antiparallel."""
    sign = (lambda f: 1) if label == "ferromagnet" else (lambda f: 1 if close(f[2], 0) else -1)
    return Spec(
        mid,
        f"rutile {mid}",
        label,
        wave,
        136,
        (a, a, c, 90, 90, 90),
        [(metal, (0, 0, 0)), (anion, (x, x, 0))],
        on(metal, sign, m),
        ref,
        sref,
        note,
        slg if label == "altermagnet" else None,
    )


def nias(mid, metal, anion, a, c, m, ref, sref, note):
    """NiAs type, P6_3/mmc: M 2a, X 2c; ferromagnetic M planes stacked + − along c."""
    return Spec(
        mid,
        f"NiAs-type {mid}",
        "altermagnet",
        "g",
        194,
        (a, a, c, 90, 90, 120),
        [(metal, (0, 0, 0)), (anion, (1 / 3, 2 / 3, 0.25))],
        on(metal, lambda f: 1 if close(f[2], 0) else -1, m),
        ref,
        sref,
        note,
        "²6/²m²m¹m",
    )


def perovskite(mid, a_site, b_site, pbnm, a_xy, o1_xy, o2, order, m, ref, sref, note):
    """GdFeO3-type perovskite, given in Pbnm and written in the standard Pnma setting.

    Pbnm (a, b, c; x, y, z) → Pnma (b, c, a; y, z, x). B at 4b: (0,0,½), (½,0,0), (0,½,½),
    (½,½,0); b (Pnma) is the pseudocubic stacking axis. A-type: ferromagnetic ac planes,
    antiparallel along b; C-type: antiparallel in the ac plane, parallel along b; G-type:
    every B–O–B neighbour antiparallel.
    """
    ab, bb, cb = pbnm
    sign = {"A": parity(1), "C": parity(0), "G": parity(0, 1)}[order]
    return Spec(
        mid,
        f"{order}-type perovskite {mid}",
        "altermagnet",
        "d",
        "Pnma",
        (bb, cb, ab, 90, 90, 90),
        [
            (a_site, (a_xy[1], 0.25, a_xy[0])),
            (b_site, (0, 0, 0.5)),
            ("O", (o1_xy[1], 0.25, o1_xy[0])),
            ("O", (o2[1], o2[2], o2[0])),
        ],
        on(b_site, sign, m),
        ref,
        sref,
        note,
        "²m²m¹m",
    )


def rocksalt_afm2(mid, metal, anion, a, m, ref, sref, note):
    """Rock salt MX with AFM-II order: ferromagnetic (111) planes alternating (k = ½,½,½).

    Magnetic cell: the rhombohedral cell (1,½,½), (½,1,½), (½,½,1) of the cubic one; the metal
    at cubic (x,y,z) has the sign (−1)^(x+y+z), a translation flips every spin.
    """
    return Spec(
        mid,
        f"rock-salt {mid} (AFM-II)",
        "antiferromagnet",
        None,
        225,
        (a, a, a, 90, 90, 90),
        [(metal, (0, 0, 0)), (anion, (0.5, 0.5, 0.5))],
        on(metal, int_parity(0, 1, 2), m),
        ref,
        sref,
        note,
        supercell=[[1, 0.5, 0.5], [0.5, 1, 0.5], [0.5, 0.5, 1]],
    )


# --- the materials ---------------------------------------------------------------------------

BAUR = "Baur & Khan, Acta Cryst. B 27, 2133 (1971)"
ERICKSON = "order: Erickson, Phys. Rev. 90, 779 (1953), Mn/Fe/Co/Ni(0,0,0) antiparallel to (½,½,½)"


def specs() -> list[Spec]:
    """All curated materials."""
    s: list[Spec] = []
    # ---------------- the 13 positives of the original engine ----------------
    s.append(
        rutile(
            "RuO2",
            "Ru",
            "O",
            4.492,
            3.106,
            0.3058,
            0.23,
            "altermagnet",
            "d",
            ("10.1103/PhysRevLett.118.077201", "Berlijn et al., PRL 118, 077201 (2017)"),
            "Berlijn et al., PRL 118, 077201 (2017): rutile cell and Ru moments ±0.23 μB",
            "d-wave altermagnet of Šmejkal et al. PRX 12, 031042 (2022); the small moment "
            "and its very existence are debated, the label is the symmetry of the order.",
        )
    )
    s.append(
        rutile(
            "MnF2",
            "Mn",
            "F",
            4.8734,
            3.3099,
            0.3050,
            4.6,
            "altermagnet",
            "d",
            SMEJKAL_PRX,
            f"{BAUR}; {ERICKSON}",
            "Prototype d-wave altermagnet.",
        )
    )
    s.append(
        Spec(
            "CuF2",
            "CuF2 (distorted rutile)",
            "altermagnet",
            "d",
            "P12_1/n1",
            (3.2973, 4.5624, 4.6157, 90, 96.725, 90),
            [("Cu", (0, 0, 0)), ("F", (0.0, 0.297, 0.300))],
            on("Cu", lambda f: 1 if close(f[1], 0) else -1, 0.9),
            GAO,
            "Fischer et al., J. Phys. C 7, 1915 (1974): P2_1/n, a=3.2973, b=4.5624, c=4.6157 Å, "
            "β=96.725°; F kept at a rutile-like position (0, 0.297, 0.300)",
            "Jahn–Teller distorted rutile, Cu(0,0,0) antiparallel to Cu(½,½,½); a positive of Gao "
            "et al. The F coordinates are rutile-like, not the refined ones: the spin group "
            "does not depend on them.",
            "²2/²m",
        )
    )
    # Mn5Si3 (hexagonal parent, P6_3/mcm); AFM2-like collinear order of Reichlová et al.
    x2 = 0.2358

    def mn5si3(el: str, f: np.ndarray) -> float:
        if el != "Mn" or not close(f[2] % 0.5, 0.25):
            return 0.0  # Mn1 (4d) carries no moment in this phase
        pos = (round(f[0] % 1.0, 3), round(f[1] % 1.0, 3))
        up = {(round(x2, 3), 0.0), (round(1 - x2, 3), 0.0)}
        down = {(round(1 - x2, 3), round(1 - x2, 3)), (round(x2, 3), round(x2, 3))}
        return 2.0 if pos in up else (-2.0 if pos in down else 0.0)

    s.append(
        Spec(
            "Mn5Si3",
            "Mn5Si3 (collinear AFM phase)",
            "altermagnet",
            "d",
            193,
            (6.910, 6.910, 4.814, 90, 90, 120),
            [("Mn", (1 / 3, 2 / 3, 0)), ("Mn", (x2, 0, 0.25)), ("Si", (0.5992, 0, 0.25))],
            mn5si3,
            ("10.1038/s41467-024-48493-w", "Reichlová et al., Nat. Commun. 15, 4961 (2024)"),
            "hexagonal parent P6_3/mcm (Brown et al., J. Phys.: Condens. Matter 4, 10007 (1992))",
            "Simplified collinear AFM phase in the hexagonal cell, following the description of "
            "Reichlová et al. (Mn1 non-magnetic, two thirds of Mn2 ordered, orthorhombic d-wave "
            "²m²m¹m): (x,0,¼) and (−x,0,¾) up, (−x,−x,¼) and (x,x,¾) down, the (0,x,¼)/(0,−x,¾) "
            "pair without moment. Not the refined neutron structure of the AFM2 phase (whose "
            "cell is orthorhombic and larger); its spin group is the one they report.",
            "²m²m¹m",
        )
    )
    s.append(
        perovskite(
            "CaCrO3",
            "Ca",
            "Cr",
            (5.2870, 5.3158, 7.4853),
            (0.992, 0.038),
            (0.065, 0.493),
            (0.712, 0.288, 0.034),
            "C",
            1.2,
            ("10.1103/PhysRevLett.101.167204", "Komarek et al., PRL 101, 167204 (2008)"),
            "Komarek et al. (2008): Pbnm lattice; Ca/O positions typical GdFeO3-type values",
            "C-type order (Komarek et al.); a positive of Gao et al. The oxygen and Ca positions "
            "are typical tilt values, not the refined ones: the spin group does not depend on "
            "them.",
        )
    )
    s.append(
        rutile(
            "beta-MnO2",
            "Mn",
            "O",
            4.3983,
            2.8730,
            0.3046,
            2.4,
            "altermagnet",
            "d",
            SMEJKAL_PRX,
            "Bolzan et al., Aust. J. Chem. 46, 939 (1993)",
            "Real β-MnO2 orders as an incommensurate screw; the collinear k = 0 rutile "
            "order used here is the one classified by Šmejkal et al. and Gao et al.",
        )
    )
    s.append(
        perovskite(
            "LaMnO3",
            "La",
            "Mn",
            (5.5367, 5.7473, 7.6929),
            (-0.0078, 0.0491),
            (0.0732, 0.4855),
            (0.7256, 0.3066, 0.0382),
            "A",
            3.87,
            ("10.1103/PhysRevB.57.R3189", "Rodríguez-Carvajal et al., PRB 57, R3189 (1998)"),
            "Rodríguez-Carvajal et al. (1998), Pbnm at low temperature",
            "A-type order (ferromagnetic ab planes of Pbnm); listed as an altermagnet by Šmejkal "
            "et al. PRX 12, 040501 and Gao et al.",
        )
    )
    s.append(
        Spec(
            "La2CuO4",
            "La2CuO4 (LTO)",
            "altermagnet",
            "d",
            "Cmce",
            (5.3553, 13.1550, 5.4030, 90, 90, 90),
            [
                ("La", (0, 0.3616, -0.0072)),
                ("Cu", (0, 0, 0)),
                ("O", (0.25, -0.0068, 0.25)),
                ("O", (0, 0.1841, 0.0341)),
            ],
            on("Cu", lambda f: 1 if close(f[2], 0) else -1, 0.5),
            ("10.1103/PhysRevLett.58.2802", "Vaknin et al., PRL 58, 2802 (1987)"),
            "Reehuis et al., PRB 73, 144513 (2006), Bmab converted to Cmca (b long)",
            "In-plane checkerboard, C-centring spin-preserving (k = 0); d-wave per Šmejkal et al. "
            "PRX 12, 031042.",
            "²m²m¹m",
        )
    )
    z = 0.35530
    s.append(
        Spec(
            "alpha-Fe2O3",
            "hematite α-Fe2O3 (above the Morin transition)",
            "altermagnet",
            "g",
            167,
            (5.0355, 5.0355, 13.7471, 90, 90, 120),
            corundum_sites("Fe", z, 0.3059),
            r3c_chain_rule("Fe", 4.9, corundum_chain(z), [-1, 1, 1, -1]),
            SMEJKAL_PERSP,
            "Blake et al., Am. Mineral. 51, 123 (1966); order Shull, Strauser & Wollan, PR 83, 333 "
            "(1951)",
            "Chain (½−z, z, 1−z, ½+z) = (−, +, +, −): inversion keeps the spin.",
            "¹-3²m",
        )
    )
    s.append(
        nias(
            "MnTe",
            "Mn",
            "Te",
            4.148,
            6.711,
            4.7,
            ("10.1038/s41586-023-06907-7", "Krempaský et al., Nature 626, 517 (2024)"),
            "Kriegner et al., PRB 96, 214418 (2017)",
            "g-wave altermagnet (ARPES).",
        )
    )
    s.append(
        nias(
            "CrSb",
            "Cr",
            "Sb",
            4.121,
            5.467,
            2.7,
            ("10.1038/s41467-024-46476-5", "Reimers et al., Nat. Commun. 15, 2116 (2024)"),
            "Snow, Rev. Mod. Phys. 25, 127 (1953)",
            "g-wave altermagnet (ARPES).",
        )
    )
    xr, yr = 0.3515, 0.1656

    def kru4o8(el: str, f: np.ndarray) -> float:
        if el != "Ru":
            return 0.0
        fx, fy = f[0], f[1]
        if close(f[2], 0.5):
            fx, fy = (fx - 0.5) % 1, (fy - 0.5) % 1
        up = [(xr, yr), (1 - xr, 1 - yr)]
        return 1.0 if any(close(fx, u) and close(fy, v) for u, v in up) else -1.0

    s.append(
        Spec(
            "KRu4O8",
            "hollandite KRu4O8",
            "altermagnet",
            "d",
            87,
            (9.9671, 9.9671, 3.1102, 90, 90, 90),
            [
                ("K", (0, 0, 0.5)),
                ("Ru", (xr, yr, 0)),
                ("O", (0.1535, 0.2029, 0)),
                ("O", (0.5415, 0.1644, 0)),
            ],
            kru4o8,
            SMEJKAL_PERSP,
            "Foo et al., PRB 70, 214408 (2004) (positions approximate)",
            "Ru related by the 4-fold axis antiparallel, by inversion parallel (²4/¹m).",
            "²4/¹m",
        )
    )
    s.append(
        Spec(
            "FeSb2",
            "marcasite FeSb2",
            "altermagnet",
            "d",
            58,
            (5.8328, 6.5376, 3.1973, 90, 90, 90),
            [("Fe", (0, 0, 0)), ("Sb", (0.1885, 0.3561, 0))],
            on("Fe", lambda f: 1 if close(f[0], 0) else -1, 2.0),
            ("10.1073/pnas.2108924118", "Mazin et al., PNAS 118, e2108924118 (2021)"),
            "Petrovic et al., PRB 67, 155205 (2003)",
            "Fe(0,0,0) antiparallel to Fe(½,½,½): the order Mazin et al. predict for doped FeSb2.",
            "²m²m¹m",
        )
    )
    # ---------------- further reported altermagnets ----------------
    s.append(
        rutile(
            "FeF2",
            "Fe",
            "F",
            4.6966,
            3.3091,
            0.3001,
            4.0,
            "altermagnet",
            "d",
            SMEJKAL_PRX,
            f"{BAUR}; {ERICKSON}",
            "Rutile difluoride, d-wave.",
        )
    )
    s.append(
        rutile(
            "CoF2",
            "Co",
            "F",
            4.6951,
            3.1796,
            0.3027,
            2.6,
            "altermagnet",
            "d",
            SMEJKAL_PRX,
            f"{BAUR}; {ERICKSON}",
            "Rutile difluoride, d-wave.",
        )
    )
    s.append(
        rutile(
            "NiF2",
            "Ni",
            "F",
            4.6506,
            3.0836,
            0.3024,
            2.0,
            "altermagnet",
            "d",
            SMEJKAL_PRX,
            f"{BAUR}; {ERICKSON}",
            "Rutile difluoride, d-wave.",
        )
    )
    s.append(
        perovskite(
            "LaFeO3",
            "La",
            "Fe",
            (5.557, 5.565, 7.862),
            (-0.0071, 0.0294),
            (0.0716, 0.4872),
            (0.7232, 0.2776, 0.0389),
            "G",
            4.6,
            NAKA,
            "orthoferrite Pbnm cell (Koehler & Wollan, J. Phys. Chem. Solids 2, 100 (1957) for the "
            "G-type order); positions typical of LaFeO3",
            "G-type orthoferrite; Pnma perovskites with k = 0 order are d-wave altermagnets "
            "(Naka et al.).",
        )
    )
    s.append(
        perovskite(
            "YFeO3",
            "Y",
            "Fe",
            (5.282, 5.595, 7.605),
            (-0.0189, 0.0689),
            (0.1108, 0.4612),
            (0.6929, 0.3040, 0.0578),
            "G",
            4.6,
            NAKA,
            "orthoferrite Pbnm cell (du Boulay et al., Acta Cryst. B 51, 921 (1995)); G-type order",
            "G-type orthoferrite, d-wave altermagnet.",
        )
    )
    s.append(
        perovskite(
            "CaMnO3",
            "Ca",
            "Mn",
            (5.2819, 5.2658, 7.4424),
            (-0.0065, 0.0325),
            (0.066, 0.491),
            (0.7135, 0.287, 0.0335),
            "G",
            2.6,
            NAKA,
            "Poeppelmeier et al., J. Solid State Chem. 45, 71 (1982) lattice; positions typical; "
            "G-type order (Wollan & Koehler, PR 100, 545 (1955))",
            "G-type, d-wave altermagnet.",
        )
    )
    s.append(
        perovskite(
            "LaCrO3",
            "La",
            "Cr",
            (5.479, 5.513, 7.756),
            (-0.004, 0.019),
            (0.066, 0.493),
            (0.723, 0.277, 0.036),
            "G",
            2.8,
            NAKA,
            "Pbnm room-temperature cell; positions typical; G-type order",
            "G-type, d-wave altermagnet.",
        )
    )
    s.append(
        Spec(
            "KV2Se2O",
            "KV2Se2O",
            "altermagnet",
            "d",
            123,
            (3.9065, 3.9065, 7.27, 90, 90, 90),
            [("K", (0, 0, 0.5)), ("V", (0.5, 0, 0)), ("O", (0, 0, 0)), ("Se", (0.5, 0.5, 0.24))],
            on("V", lambda f: 1 if close(f[0], 0.5) else -1, 2.0),
            ("10.1038/s41567-025-02822-y", "Jiang et al., Nat. Phys. 21, 754 (2025)"),
            "P4/mmm V2O anti-CuO2 layer (V 2f, O 1a, Se 2h, K 1b); c and z(Se) approximate",
            "C-type checkerboard of V(½,0,0) up, V(0,½,0) down: the 4-fold flips the spin, d-wave "
            "with kx²−ky² form (Jiang et al., spin-resolved ARPES).",
            "²4/¹m²m¹m",
        )
    )
    for mid, a, c, metal, other, x, m, sref in (
        (
            "FeBO3",
            4.626,
            14.493,
            "Fe",
            "B",
            0.2981,
            4.7,
            "Diehl, Solid State Commun. 17, 743 (1975) (calcite type)",
        ),
        (
            "MnCO3",
            4.7768,
            15.6702,
            "Mn",
            "C",
            0.2728,
            4.6,
            "Effenberger et al., Z. Kristallogr. 156, 233 (1981) (calcite type)",
        ),
    ):
        s.append(
            Spec(
                mid,
                f"calcite-type {mid} (weak ferromagnet)",
                "altermagnet",
                "g",
                167,
                (a, a, c, 90, 90, 120),
                [(metal, (0, 0, 0)), (other, (0, 0, 0.25)), ("O", (x, 0, 0.25))],
                r3c_chain_rule(metal, m, [0.0, 0.5], [1, -1]),
                SMEJKAL_PRX,
                sref,
                "Metal (001) layers ferromagnetic, alternating along c; the two metal sites of the "
                "primitive cell are related by the 2-fold axes, not by inversion: Laue −3m, "
                "g-wave, like hematite (Dzyaloshinsky's weak ferromagnet is, without SOC, an "
                "altermagnet). The label follows from the spin-group classification of the "
                "reference (Laue −3m hosts a g-wave altermagnet); the reference does not list "
                "this compound by name.",
                "¹-3²m",
            )
        )
    # ---------------- conventional antiferromagnets ----------------
    roth = ("10.1103/PhysRev.110.1333", "Roth, Phys. Rev. 110, 1333 (1958)")
    s.append(
        rocksalt_afm2(
            "NiO",
            "Ni",
            "O",
            4.1771,
            1.9,
            roth,
            "rock salt a = 4.1771 Å",
            "AFM-II; the rhombohedral distortion is ignored.",
        )
    )
    s.append(
        rocksalt_afm2(
            "MnO",
            "Mn",
            "O",
            4.4448,
            4.58,
            ("10.1103/PhysRev.83.333", "Shull, Strauser & Wollan, PR 83, 333 (1951)"),
            "rock salt a = 4.4448 Å",
            "AFM-II, first magnetic structure by neutrons.",
        )
    )
    s.append(
        rocksalt_afm2(
            "CoO",
            "Co",
            "O",
            4.2615,
            3.8,
            roth,
            "rock salt a = 4.2615 Å",
            "AFM-II; tetragonal distortion ignored.",
        )
    )
    s.append(
        rocksalt_afm2(
            "FeO",
            "Fe",
            "O",
            4.3326,
            4.2,
            roth,
            "rock salt a = 4.3326 Å",
            "AFM-II; rhombohedral distortion ignored.",
        )
    )
    z = 0.3475
    s.append(
        Spec(
            "Cr2O3",
            "corundum Cr2O3",
            "antiferromagnet",
            None,
            167,
            (4.9607, 4.9607, 13.599, 90, 90, 120),
            corundum_sites("Cr", z, 0.3058),
            r3c_chain_rule("Cr", 3.0, corundum_chain(z), [1, -1, 1, -1]),
            ("10.1063/1.1699098", "Brockhouse, J. Chem. Phys. 21, 961 (1953)"),
            "Finger & Hazen, J. Appl. Phys. 51, 5362 (1980)",
            "Chain (+, −, +, −): inversion flips the spin (PT symmetric, magnetoelectric).",
        )
    )
    s.append(
        Spec(
            "Cr",
            "bcc Cr (commensurate AFM)",
            "antiferromagnet",
            None,
            229,
            (2.8846,) * 3 + (90, 90, 90),
            [("Cr", (0, 0, 0))],
            on("Cr", lambda f: 1 if close(f[0], 0) else -1, 0.6),
            ("10.1103/RevModPhys.60.209", "Fawcett, Rev. Mod. Phys. 60, 209 (1988)"),
            "bcc a = 2.8846 Å",
            "Commensurate approximant of the spin-density wave: corner and body "
            "centre antiparallel, a translation flips every spin.",
        )
    )
    s.append(
        Spec(
            "FeRh",
            "FeRh (G-type, CsCl)",
            "antiferromagnet",
            None,
            221,
            (2.99,) * 3 + (90, 90, 90),
            [("Fe", (0, 0, 0)), ("Rh", (0.5, 0.5, 0.5))],
            on("Fe", int_parity(0, 1, 2), 3.3),
            ("10.1038/nmat3861", "Marti et al., Nat. Mater. 13, 367 (2014)"),
            "CsCl a = 2.99 Å",
            "G-type Fe order (Rh without moment), magnetic cell (1,1,0), (0,1,1), (1,0,1).",
            supercell=[[1, 1, 0], [0, 1, 1], [1, 0, 1]],
        )
    )
    zm = 0.335

    def mn2au(el: str, f: np.ndarray) -> float:
        if el != "Mn":
            return 0.0
        z0 = f[2] - 0.5 if close(f[0], 0.5) else f[2]
        return 3.6 if close(z0, zm) else -3.6

    s.append(
        Spec(
            "Mn2Au",
            "Mn2Au",
            "antiferromagnet",
            None,
            139,
            (3.328, 3.328, 8.539, 90, 90, 90),
            [("Au", (0, 0, 0)), ("Mn", (0, 0, zm))],
            mn2au,
            ("10.1038/ncomms3892", "Barthem et al., Nat. Commun. 4, 2892 (2013)"),
            "Barthem et al. (2013), I4/mmm",
            "Mn(0,0,z) and Mn(0,0,−z) are inversion partners with "
            "opposite spins: PT symmetric, spin-degenerate bands (not an altermagnet).",
        )
    )
    s.append(
        Spec(
            "CuMnAs",
            "tetragonal CuMnAs",
            "antiferromagnet",
            None,
            129,
            (3.820, 3.820, 6.318, 90, 90, 90),
            [("Cu", (0, 0, 0)), ("Mn", (0.5, 0, 0.670)), ("As", (0.5, 0, 0.265))],
            on("Mn", lambda f: 1 if close(f[0], 0.5) else -1, 3.6),
            ("10.1126/science.aab1031", "Wadley et al., Science 351, 587 (2016)"),
            "Wadley et al., Nat. Commun. 4, 2322 (2013), P4/nmm, written in origin choice 1 "
            "(pymatgen's setting: origin-2 positions shifted by (¼, −¼, 0))",
            "The two Mn are inversion partners with opposite spins: PT symmetric.",
        )
    )
    s.append(
        Spec(
            "MnPt",
            "L1_0 MnPt",
            "antiferromagnet",
            None,
            123,
            (2.830, 2.830, 3.670, 90, 90, 90),
            [("Mn", (0, 0, 0)), ("Pt", (0.5, 0.5, 0.5))],
            on("Mn", int_parity(0, 1), 4.3),
            ("10.1103/PhysRev.171.574", "Krén et al., Phys. Rev. 171, 574 (1968)"),
            "L1_0 in the primitive tetragonal cell (a = a_fct/√2)",
            "In-plane checkerboard, magnetic cell √2×√2: a translation flips every spin.",
            supercell=[[1, 1, 0], [-1, 1, 0], [0, 0, 1]],
        )
    )
    # ---------------- ferromagnets ----------------
    cg = ("10.1098/rspa.1971.0044", "Crangle & Goodman, Proc. R. Soc. A 321, 477 (1971)")
    s.append(
        Spec(
            "Fe",
            "bcc Fe",
            "ferromagnet",
            None,
            229,
            (2.8665,) * 3 + (90, 90, 90),
            [("Fe", (0, 0, 0))],
            ferro({"Fe": 2.22}),
            cg,
            "bcc a = 2.8665 Å",
            "Ferromagnet.",
        )
    )
    s.append(
        Spec(
            "Ni",
            "fcc Ni",
            "ferromagnet",
            None,
            225,
            (3.524,) * 3 + (90, 90, 90),
            [("Ni", (0, 0, 0))],
            ferro({"Ni": 0.6}),
            cg,
            "fcc a = 3.524 Å",
            "Ferromagnet.",
        )
    )
    s.append(
        Spec(
            "Co",
            "hcp Co",
            "ferromagnet",
            None,
            194,
            (2.507, 2.507, 4.070, 90, 90, 120),
            [("Co", (1 / 3, 2 / 3, 0.25))],
            ferro({"Co": 1.72}),
            ("10.1103/PhysRev.136.A195", "Moon, Phys. Rev. 136, A195 (1964)"),
            "hcp a = 2.507, c = 4.070 Å",
            "Ferromagnet.",
        )
    )
    s.append(
        Spec(
            "Gd",
            "hcp Gd",
            "ferromagnet",
            None,
            194,
            (3.636, 3.636, 5.783, 90, 90, 120),
            [("Gd", (1 / 3, 2 / 3, 0.25))],
            ferro({"Gd": 7.6}),
            ("10.1103/PhysRev.132.1092", "Nigh, Legvold & Spedding, PR 132, 1092 (1963)"),
            "hcp a = 3.636, c = 5.783 Å",
            "Ferromagnet below 293 K.",
        )
    )
    s.append(
        rutile(
            "CrO2",
            "Cr",
            "O",
            4.4218,
            2.9182,
            0.3024,
            2.0,
            "ferromagnet",
            None,
            ("10.1088/0305-4608/16/9/002", "Schwarz, J. Phys. F 16, L211 (1986)"),
            "Porta et al., J. Solid State Chem. 5, 275 (1972)",
            "Half-metallic ferromagnet.",
        )
    )
    s.append(
        Spec(
            "EuO",
            "EuO",
            "ferromagnet",
            None,
            225,
            (5.144,) * 3 + (90, 90, 90),
            [("Eu", (0, 0, 0)), ("O", (0.5, 0.5, 0.5))],
            ferro({"Eu": 7.0}),
            ("10.1103/PhysRevLett.7.160", "Matthias, Bozorth & Van Vleck, PRL 7, 160 (1961)"),
            "rock salt a = 5.144 Å",
            "Ferromagnetic semiconductor.",
        )
    )
    s.append(
        Spec(
            "CrI3",
            "CrI3 (low-temperature R-3)",
            "ferromagnet",
            None,
            148,
            (6.867, 6.867, 19.807, 90, 90, 120),
            [("Cr", (0, 0, 0.3334)), ("I", (0.6647, 0.0003, 0.0786))],
            ferro({"Cr": 3.1}),
            ("10.1021/cm504242t", "McGuire et al., Chem. Mater. 27, 612 (2015)"),
            "McGuire et al. (2015), R-3 at low temperature (positions approximate)",
            "Layered ferromagnet.",
        )
    )
    # ---------------- ferrimagnets ----------------
    s.append(
        Spec(
            "Fe3O4",
            "magnetite Fe3O4 (above the Verwey transition)",
            "ferrimagnet",
            None,
            227,
            (8.396,) * 3 + (90, 90, 90),
            [
                ("Fe", (0.125, 0.125, 0.125)),
                ("Fe", (0.5, 0.5, 0.5)),
                ("O", (0.2549, 0.2549, 0.2549)),
            ],
            lambda el, f: 0.0 if el != "Fe" else (-5.0 if _tet(f) else 4.2),
            ("10.1103/PhysRev.84.912", "Shull, Wollan & Koehler, PR 84, 912 (1951)"),
            "Fleet, Acta Cryst. B 37, 917 (1981), Fd-3m origin choice 2",
            "Néel ferrimagnet: tetrahedral Fe (8a) antiparallel to octahedral Fe (16d).",
        )
    )
    s.append(
        Spec(
            "Y3Fe5O12",
            "yttrium iron garnet Y3Fe5O12 (YIG)",
            "ferrimagnet",
            None,
            230,
            (12.376,) * 3 + (90, 90, 90),
            [
                ("Y", (0.125, 0, 0.25)),
                ("Fe", (0, 0, 0)),
                ("Fe", (0.375, 0, 0.25)),
                ("O", (-0.0270, 0.0570, 0.1504)),
            ],
            lambda el, f: 0.0 if el != "Fe" else (-5.0 if _garnet_tet(f) else 5.0),
            (
                "10.1016/0370-1573(93)90107-O",
                "Cherepanov, Kolokolov & L'vov, Phys. Rep. 229, 81 (1993)",
            ),
            "Geller & Gilleo, J. Phys. Chem. Solids 3, 30 (1957), Ia-3d",
            "Néel ferrimagnet: 16 octahedral Fe (16a) antiparallel to 24 tetrahedral Fe (24d), "
            "nominal Fe3+ moments of 5 μB, 5 μB per formula unit net.",
        )
    )
    s.append(
        Spec(
            "Mn4N",
            "antiperovskite Mn4N",
            "ferrimagnet",
            None,
            221,
            (3.865,) * 3 + (90, 90, 90),
            [("Mn", (0, 0, 0)), ("Mn", (0.5, 0.5, 0)), ("N", (0.5, 0.5, 0.5))],
            lambda el, f: 0.0 if el != "Mn" else (3.85 if all(close(v, 0) for v in f) else -0.90),
            ("10.1103/PhysRev.125.1893", "Takei, Shirane & Frazer, PR 125, 1893 (1962)"),
            "Takei et al. (1962), Pm-3m",
            "Collinear model: corner Mn 3.85 μB, face Mn −0.90 μB.",
        )
    )
    return s


def _tet(f: np.ndarray) -> bool:
    """Tetrahedral 8a site of Fd-3m (origin choice 2): all coordinates ≡ 1/8 mod 1/4."""
    return all(close((v - 0.125) * 4 % 1, 0) for v in f)


def _garnet_tet(f: np.ndarray) -> bool:
    """Tetrahedral 24d site of Ia-3d: one coordinate ≡ 1/8 mod 1/4 (16a has none)."""
    return any(close((v - 0.125) * 4 % 1, 0) for v in f)


def build(spec: Spec) -> tuple[Structure, list[float]]:
    """Expand the Wyckoff positions, make the magnetic cell and set the moments."""
    a, b, c, al, be, ga = spec.lattice
    parent = Structure.from_spacegroup(
        spec.sg,
        Lattice.from_parameters(a, b, c, al, be, ga),
        [el for el, _ in spec.sites],
        [list(x) for _, x in spec.sites],
        tol=1e-3,
    )
    if spec.supercell is None:
        cell = parent
    else:
        mat = np.asarray(spec.supercell, dtype=float)
        new_lat = Lattice(mat @ parent.lattice.matrix)
        big = parent.copy()
        big.make_supercell([3, 3, 3])
        species, coords = [], []
        for site in big:
            f = np.mod(new_lat.get_fractional_coords(site.coords), 1.0)
            f[np.isclose(f, 1.0, atol=1e-6)] = 0.0
            if any(np.allclose(f, g, atol=1e-4) for g in coords):
                continue
            species.append(site.specie.symbol)
            coords.append(f)
        cell = Structure(new_lat, species, coords)
        n_expect = round(len(parent) * abs(np.linalg.det(mat)))
        assert len(cell) == n_expect, (spec.id, len(cell), n_expect)
    # coordinates in units of the parent cell, not wrapped: supercell rules count cells
    inv = np.linalg.inv(parent.lattice.matrix)
    moments = [round(float(spec.rule(site.specie.symbol, site.coords @ inv)), 4) for site in cell]
    return cell, moments


def sg_number(cell: Structure) -> int:
    """spglib space-group number of the non-magnetic crystal."""
    numbers = [site.specie.Z for site in cell]
    ds = spglib.get_symmetry_dataset((cell.lattice.matrix, cell.frac_coords, numbers), symprec=1e-3)
    return int(ds.number)


def record(spec: Spec) -> dict[str, Any]:
    """The YAML record of one material."""
    cell, moments = build(spec)

    formula = Composition(cell.composition.reduced_formula).reduced_formula
    published = spec.sg if isinstance(spec.sg, int) else SpaceGroup(spec.sg).int_number
    found = sg_number(cell)
    if found != published:
        raise ValueError(f"{spec.id}: spglib finds {found}, published space group {published}")
    lat = cell.lattice
    return {
        "id": spec.id,
        "name": spec.name,
        "formula": formula,
        "label": spec.label,
        "wave": spec.wave,
        "spin_laue_group": spec.spin_laue_group,
        "reference": {"doi": spec.reference[0], "citation": spec.reference[1]},
        "structure_reference": spec.structure_reference,
        "note": spec.note,
        "space_group_number": published,
        "lattice": {
            "a": round(lat.a, 6),
            "b": round(lat.b, 6),
            "c": round(lat.c, 6),
            "alpha": round(lat.alpha, 6),
            "beta": round(lat.beta, 6),
            "gamma": round(lat.gamma, 6),
            "matrix": [[round(float(v), 6) for v in row] for row in lat.matrix],
        },
        "sites": [
            {
                "element": site.specie.symbol,
                "frac": [round(float(v), 6) % 1.0 for v in site.frac_coords],
                "moment": m,
            }
            for site, m in zip(cell, moments, strict=True)
        ],
    }


def main() -> None:
    """Write one YAML file per material."""
    OUT.mkdir(parents=True, exist_ok=True)
    for spec in specs():
        rec = record(spec)
        path = OUT / f"{spec.id}.yaml"
        text = yaml.safe_dump(rec, sort_keys=False, allow_unicode=True, width=100)
        path.write_text(text, encoding="utf-8")
        print(
            f"{spec.id:12s} {rec['formula']:10s} SG {rec['space_group_number']:3d} "
            f"{len(rec['sites']):3d} sites  {spec.label}"
        )


if __name__ == "__main__":
    main()
