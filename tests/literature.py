"""Magnetic structures built from published lattice data, for the spin-group tests.

Each builder expands the published space group and Wyckoff positions with pymatgen and sets
the moments of the published (or, for the two i-wave model structures, symmetry-designed)
collinear order. References are given per builder.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from pymatgen.core import Lattice, Structure

from altermag import MagneticStructure
from altermag.prototypes import corundum

MomentRule = Callable[[str, np.ndarray], float]


def _build(
    sg: str | int,
    lattice: Lattice,
    species: list[str],
    coords: list[list[float]],
    rule: MomentRule,
    label: str,
    supercell: tuple[int, int, int] | None = None,
) -> MagneticStructure:
    s = Structure.from_spacegroup(sg, lattice, species, coords, tol=1e-3)
    if supercell is not None:
        s.make_supercell(supercell)
    moments = [rule(site.specie.symbol, np.mod(site.frac_coords, 1.0)) for site in s]
    ms = MagneticStructure.from_pymatgen(s, label=label)
    return ms.with_moments(moments)


def _close(a: float, b: float, tol: float = 1e-3) -> bool:
    d = (a - b) % 1.0
    return min(d, 1 - d) < tol


def rutile(label: str, metal: str, anion: str, a: float, c: float, x: float, m: float):
    """Rutile MX2 (P4_2/mnm): M at 2a, X at 4f (x,x,0); M(0,0,0) up, M(½,½,½) down."""

    def rule(el: str, f: np.ndarray) -> float:
        if el != metal:
            return 0.0
        return m if _close(f[2], 0.0) else -m

    return _build(
        136, Lattice.tetragonal(a, c), [metal, anion], [[0, 0, 0], [x, x, 0]], rule, label
    )


def mnf2() -> MagneticStructure:
    """MnF2: Baur & Khan, Acta Cryst. B 27, 2133 (1971); Erickson, PR 90, 779 (1953)."""
    return rutile("MnF2", "Mn", "F", 4.8734, 3.3099, 0.3050, 4.6)


def fef2() -> MagneticStructure:
    """FeF2: Baur & Khan (1971); Erickson (1953)."""
    return rutile("FeF2", "Fe", "F", 4.6966, 3.3091, 0.3001, 4.0)


def nif2() -> MagneticStructure:
    """NiF2: Baur & Khan (1971)."""
    return rutile("NiF2", "Ni", "F", 4.6506, 3.0836, 0.3024, 2.0)


def ruo2() -> MagneticStructure:
    """RuO2: Berlijn et al., PRL 118, 077201 (2017)."""
    return rutile("RuO2", "Ru", "O", 4.492, 3.106, 0.3058, 0.23)


def nias(label: str, metal: str, anion: str, a: float, c: float, m: float):
    """NiAs type (P6_3/mmc): M at 2a, X at 2c; M(z=0) up, M(z=½) down."""

    def rule(el: str, f: np.ndarray) -> float:
        if el != metal:
            return 0.0
        return m if _close(f[2], 0.0) else -m

    return _build(
        194, Lattice.hexagonal(a, c), [metal, anion], [[0, 0, 0], [1 / 3, 2 / 3, 0.25]], rule, label
    )


def mnte() -> MagneticStructure:
    """MnTe: Kriegner et al., PRB 96, 214418 (2017)."""
    return nias("MnTe", "Mn", "Te", 4.148, 6.711, 4.7)


def crsb() -> MagneticStructure:
    """CrSb: Snow, Rev. Mod. Phys. 25, 127 (1953); Reimers et al., Nat. Commun. 15, 2116 (2024)."""
    return nias("CrSb", "Cr", "Sb", 4.121, 5.467, 2.7)


def fe2o3_hexagonal() -> MagneticStructure:
    """α-Fe2O3 above the Morin transition: Fe (001) layers ferromagnetic, stacked + − along c.

    Structure: Blake et al., Am. Mineral. 51, 123 (1966); order: Shull, Strauser & Wollan,
    PR 83, 333 (1951) — chain (½−z, z, 1−z, ½+z) = (−, +, +, −).
    """
    return corundum("Fe2O3", "Fe", 5.0355, 13.7471, 0.35530, 0.3059, 4.9, (-1, 1, 1, -1))


def fe2o3_rhombohedral() -> MagneticStructure:
    """α-Fe2O3 in its 10-atom rhombohedral primitive cell (same order)."""
    hexa = fe2o3_hexagonal().to_pymatgen()
    prim = hexa.get_primitive_structure(use_site_props=True)
    return MagneticStructure.from_pymatgen(prim, label="Fe2O3-rh")


def cr2o3() -> MagneticStructure:
    """Cr2O3: chain (½−z, z, 1−z, ½+z) = (+, −, +, −), PT-symmetric (magnetoelectric).

    Structure: Finger & Hazen, J. Appl. Phys. 51, 5362 (1980); order: Brockhouse,
    J. Chem. Phys. 21, 961 (1953).
    """
    return corundum("Cr2O3", "Cr", 4.9607, 13.599, 0.3475, 0.3058, 3.0, (1, -1, 1, -1))


def fesb2(cell: str = "1x1x1", order: str = "uudd") -> MagneticStructure:
    """FeSb2 (marcasite, Pnnm): Fe 2a, Sb 4g (x,y,0); Fe(0,0,0) up, Fe(½,½,½) down.

    Structure: Petrovic et al., PRB 67, 155205 (2003); altermagnetic order: Mazin et al.,
    PNAS 118, e2108924118 (2021). In the 1×1×2 cell the four Fe are listed sublattice by
    sublattice, (0,0,0), (0,0,½), (½,½,¼), (½,½,¾): ``uudd`` is the altermagnetic order
    doubled, ``udud`` adds a spin flip to the (0,0,½) translation (conventional AFM).
    """
    s = Structure.from_spacegroup(
        58,
        Lattice.orthorhombic(5.8328, 6.5376, 3.1973),
        ["Fe", "Sb"],
        [[0, 0, 0], [0.1885, 0.3561, 0]],
    )
    if cell == "1x1x1":
        moments = [
            (2.0 if _close(site.frac_coords[0], 0) else -2.0) if site.specie.symbol == "Fe" else 0.0
            for site in s
        ]
        return MagneticStructure.from_pymatgen(s, label="FeSb2").with_moments(moments)
    s.make_supercell([1, 1, 2])
    fe = sorted(
        [i for i, site in enumerate(s) if site.specie.symbol == "Fe"],
        key=lambda i: (round(s[i].frac_coords[0], 3), round(s[i].frac_coords[2], 3)),
    )
    pattern = {"uudd": (1, 1, -1, -1), "udud": (1, -1, 1, -1)}[order]
    moments = np.zeros(len(s))
    for i, sgn in zip(fe, pattern, strict=True):
        moments[i] = 2.0 * sgn
    return MagneticStructure.from_pymatgen(s, label=f"FeSb2-112-{order}").with_moments(moments)


def la2cuo4() -> MagneticStructure:
    """La2CuO4, low-temperature orthorhombic (LTO), Cmca setting with b the long axis.

    Structure: Reehuis et al., PRB 73, 144513 (2006) (converted from Bmab); order: Vaknin et
    al., PRL 58, 2802 (1987) — in-plane checkerboard, C-centring spin-preserving (k = 0).
    """

    def rule(el: str, f: np.ndarray) -> float:
        if el != "Cu":
            return 0.0
        # Cu at (0,0,0)+, (½,½,0)+ (C-centring); (0,½,½), (½,0,½) down
        return 0.5 if _close(f[2], 0.0) else -0.5

    return _build(
        "Cmce",
        Lattice.orthorhombic(5.3553, 13.1550, 5.4030),
        ["La", "Cu", "O", "O"],
        [[0, 0.3616, -0.0072], [0, 0, 0], [0.25, -0.0068, 0.25], [0, 0.1841, 0.0341]],
        rule,
        "La2CuO4",
    )


def kru4o8() -> MagneticStructure:
    """KRu4O8 hollandite (I4/m): Ru 8h (x,y,0), K 2b, O 8h ×2.

    Structure: Foo et al., PRB 70, 214408 (2004) (approximate positions); order as in Šmejkal,
    Sinova & Jungwirth, PRX 12, 040501 (2022): Ru related by the 4-fold have opposite spins,
    spin Laue group ²4/¹m.
    """
    x, y = 0.3515, 0.1656
    up = [(x, y), (1 - x, 1 - y)]  # (x,y,0) and its inversion partner; (-y,x,0) etc. down

    def rule(el: str, f: np.ndarray) -> float:
        if el != "Ru":
            return 0.0
        fx, fy = f[0], f[1]
        if _close(f[2], 0.5):  # body-centring (½,½,½) keeps the spin
            fx, fy = (fx - 0.5) % 1, (fy - 0.5) % 1
        return 1.0 if any(_close(fx, u) and _close(fy, v) for u, v in up) else -1.0

    return _build(
        87,
        Lattice.tetragonal(9.9671, 3.1102),
        ["K", "Ru", "O", "O"],
        [[0, 0, 0.5], [x, y, 0], [0.1535, 0.2029, 0], [0.5415, 0.1644, 0]],
        rule,
        "KRu4O8",
    )


def nio_afm2() -> MagneticStructure:
    """NiO AFM-II: rock salt (a = 4.177 Å), ferromagnetic (111) planes alternating.

    2×2×2 supercell of the fcc primitive cell; Ni at n1 a1 + n2 a2 + n3 a3 has the sign
    (−1)^(n1+n2+n3). Roth, PR 110, 1333 (1958).
    """
    a = 4.177
    prim = np.array([[0, 0.5, 0.5], [0.5, 0, 0.5], [0.5, 0.5, 0]]) * a
    s = Structure(Lattice(prim), ["Ni", "O"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    s.make_supercell([2, 2, 2])
    moments = []
    for site in s:
        if site.specie.symbol != "Ni":
            moments.append(0.0)
            continue
        n = np.round(site.frac_coords * 2).astype(int)
        moments.append(1.9 * (-1) ** int(n.sum()))
    return MagneticStructure.from_pymatgen(s, label="NiO").with_moments(moments)


def cr_bcc_afm() -> MagneticStructure:
    """Commensurate AFM bcc Cr as CsCl-type up/down (a = 2.884 Å)."""
    return MagneticStructure(
        np.eye(3) * 2.884, ("Cr", "Cr"), [[0, 0, 0], [0.5, 0.5, 0.5]], [0.6, -0.6], "Cr"
    )


def fe_bcc() -> MagneticStructure:
    """Ferromagnetic bcc Fe (a = 2.8665 Å), conventional cell."""
    return MagneticStructure(
        np.eye(3) * 2.8665, ("Fe", "Fe"), [[0, 0, 0], [0.5, 0.5, 0.5]], [2.2, 2.2], "Fe"
    )


def ferh_g_type() -> MagneticStructure:
    """G-type AFM FeRh (CsCl, a = 2.99 Å): Fe moments alternate along x, y and z.

    2×2×2 CsCl supercell; Fe at integer (i, j, k) has the sign (−1)^(i+j+k).
    Shirane et al., PR 134, A1547 (1964).
    """
    s = Structure(Lattice.cubic(2.99), ["Fe", "Rh"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    s.make_supercell([2, 2, 2])
    moments = []
    for site in s:
        if site.specie.symbol != "Fe":
            moments.append(0.0)
            continue
        n = np.round(site.frac_coords * 2).astype(int)
        moments.append(3.2 * (-1) ** int(n.sum()))
    return MagneticStructure.from_pymatgen(s, label="FeRh").with_moments(moments)


def iwave_cubic() -> MagneticStructure:
    """Model i-wave altermagnet ¹m-3²m: Pm-3m with Mn on 12h (x,½,0), x = 0.2.

    Under m-3 (the kernel of χ) 12h splits into two 6-site orbits, (±x,½,0) and cyclic, vs
    (½,±x,0) and cyclic, exchanged by the 4-fold axes and diagonal mirrors (spin-flipping).
    """
    x = 0.2

    def rule(el: str, f: np.ndarray) -> float:
        # first orbit: the coordinate equal to ½ follows the ±x one cyclically (x,½,0)
        for k in range(3):
            if _close(f[(k + 1) % 3], 0.5) and _close(f[(k + 2) % 3], 0.0):
                return 2.0
        return -2.0

    return _build(221, Lattice.cubic(6.0), ["Mn"], [[x, 0.5, 0]], rule, "cubic-i")


def iwave_hexagonal() -> MagneticStructure:
    """Model i-wave altermagnet ¹6/¹m²m²m: P6/mmm with Mn on 12j (x,y,0).

    Under 6/m (the kernel of χ) 12j splits into two 6-site orbits exchanged by the vertical
    mirrors and 2-fold axes (spin-flipping); the 6-fold axis keeps the spin.
    """
    x, y = 0.40, 0.10
    lattice = Lattice.hexagonal(7.0, 4.0)
    s = Structure.from_spacegroup(191, lattice, ["Mn"], [[x, y, 0]])
    # the 6-fold rotation orbit of (x, y, 0) is up
    rot6 = np.array([[1, -1, 0], [1, 0, 0], [0, 0, 1]])
    orbit = [np.array([x, y, 0.0])]
    for _ in range(5):
        orbit.append(rot6 @ orbit[-1])
    moments = []
    for site in s:
        f = np.mod(site.frac_coords, 1.0)
        up = any(np.allclose(np.mod(f - o + 0.5, 1.0) - 0.5, 0, atol=1e-3) for o in orbit)
        moments.append(2.0 if up else -2.0)
    return MagneticStructure.from_pymatgen(s, label="hex-i").with_moments(moments)
