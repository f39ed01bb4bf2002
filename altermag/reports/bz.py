"""The spin-splitting form factor drawn in the Brillouin zone, high-symmetry points labelled.

Two planar sections of the first Brillouin zone (the Wigner–Seitz cell of the primitive
reciprocal lattice, in Å⁻¹, 2π included) in the standard Cartesian frame of the form factor:

1. the horizontal section kz = 0, or the zone-boundary plane kz = kmax (through A/Z/T…)
   when f vanishes identically on kz = 0 (MnTe);
2. the vertical section, containing kz, farthest from every vertical nodal plane.

Each section is the polygon where the plane cuts the zone, the sign of f(k) sampled inside
it (red > 0, blue < 0), the nodal planes as lines, and the labelled points of the
Setyawan–Curtarolo path that lie in the plane. A 3D view of the zone shows every labelled
point and the sign of f on the zone's surface. The sections are returned as data
(:class:`ZoneSection`) so tests can check them against f(k).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np
from pymatgen.core import Lattice
from scipy.spatial import ConvexHull

from altermag.reports.figures import DOWN, UP, form_factor_function, plt, polyline
from altermag.result import SpinGroupResult
from altermag.structure import MagneticStructure

__all__ = ["ZoneSection", "brillouin_zone", "zone_figure", "zone_sections"]

GREEK = {"G": "Γ", "Sigma": "Σ", "Delta": "Δ", "Lambda": "Λ"}


def _display(label: str) -> str:
    for ascii_name, greek in GREEK.items():
        if label.startswith(ascii_name):
            return greek + label[len(ascii_name) :]
    return label


@dataclass
class Zone:
    """The first Brillouin zone in the standard frame: vertices (Å⁻¹), its convex hull, and
    the labelled points (name → Cartesian k)."""

    vertices: np.ndarray
    hull: Any
    points: dict[str, np.ndarray]

    @property
    def kmax(self) -> np.ndarray:
        return np.max(np.abs(self.vertices), axis=0)

    def inside(self, k: np.ndarray, tol: float = 1e-9) -> np.ndarray:
        """True for points on or inside the zone."""
        eq = self.hull.equations  # n·x + d ≤ 0 inside
        return np.all(k @ eq[:, :3].T + eq[:, 3] <= tol * np.abs(eq[:, 3]).max(), axis=1)


def brillouin_zone(structure: MagneticStructure, result: SpinGroupResult) -> Zone:
    """The zone of the cell the path tool uses (non-magnetic primitive cell, or the magnetic
    cell when the order enlarges it) with its Setyawan–Curtarolo points, rotated into the
    frame of ``result.form_factor``."""
    import spglib

    from altermag.dft.kpath import _path_cell, _standard_points

    symprec = result.symprec or 0.1
    _, labels = _path_cell(structure, symprec)
    numbers = [sorted(set(labels)).index(s) for s in labels]
    std = spglib.standardize_cell(
        (structure.lattice.tolist(), structure.frac_coords.tolist(), numbers),
        to_primitive=True,
        no_idealize=True,
        symprec=symprec,
    )
    if std is None:
        raise ValueError("spglib could not find the primitive cell")
    lat = np.asarray(std[0], float)
    q = np.asarray(result.frame_rotation, float)
    # the zone's faces bisect lattice vectors G = n·b with n in {-1, 0, 1}³ once the basis b
    # is Niggli-reduced
    recip = Lattice(lat).reciprocal_lattice.get_niggli_reduced_lattice().matrix
    g = np.array([n for n in itertools.product(range(-1, 2), repeat=3) if any(n)], float) @ recip
    # Wigner–Seitz cell: intersection of the half-spaces k·G ≤ |G|²/2, via its vertices
    planes = g[np.array(list(itertools.combinations(range(len(g)), 3)))]  # 3 planes each
    planes = planes[np.abs(np.linalg.det(planes)) >= 1e-9]  # that meet in one point
    cand = np.linalg.solve(planes, 0.5 * (planes * planes).sum(2)[..., None])[..., 0]
    keep = np.all(cand @ g.T <= 0.5 * (g * g).sum(1) + 1e-7, axis=1)
    verts = np.unique(np.round(cand[keep], 9), axis=0) @ q.T
    frac_points, _ = _standard_points(structure, symprec)
    input_recip = Lattice(structure.lattice).reciprocal_lattice.matrix
    points = {
        name: (np.asarray(frac, float) @ input_recip) @ q.T for name, frac in frac_points.items()
    }
    return Zone(verts, ConvexHull(verts), points)


@dataclass
class ZoneSection:
    """One planar section: k = origin + u e1 + v e2 (Cartesian, Å⁻¹, standard frame)."""

    name: str
    origin: list[float]
    e1: list[float]
    e2: list[float]
    axis_labels: tuple[str, str]
    polygon: list[list[float]]
    """The zone's outline in (u, v), counter-clockwise."""
    u: list[float]
    v: list[float]
    sign: list[list[int | None]]
    """sign[i][j] of f at (u[j], v[i]); None outside the zone."""
    labels: list[tuple[str, float, float]] = field(default_factory=list)
    nodal_lines: list[list[list[float]]] = field(default_factory=list)

    def point(self, u: float, v: float) -> np.ndarray:
        return np.array(self.origin) + u * np.array(self.e1) + v * np.array(self.e2)

    def to_dict(self) -> dict[str, Any]:
        """The section as a JSON-ready dict (its own lists, not copies)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


def _section(
    zone: Zone, result: SpinGroupResult, f, name, origin, e1, e2, axes, n: int
) -> ZoneSection:
    origin, e1, e2 = (np.asarray(x, float) for x in (origin, e1, e2))
    normal = np.cross(e1, e2)
    tol = 1e-6 * float(np.abs(zone.vertices).max())
    # the polygon: the zone's vertices in the plane and its edges crossing it, as (u, v)
    rel = zone.vertices - origin
    dist = rel @ normal
    pts = list(rel[np.abs(dist) <= tol])
    for simplex in zone.hull.simplices:
        for a, b in itertools.combinations(simplex, 2):
            da, db = dist[a], dist[b]
            if abs(da) > tol and abs(db) > tol and da * db < 0:
                pts.append(rel[a] + (rel[b] - rel[a]) * da / (da - db))
    uv = np.unique(np.round([[p @ e1, p @ e2] for p in pts], 7), axis=0)
    hull = ConvexHull(uv)
    polygon = uv[hull.vertices]
    lo, hi = polygon.min(axis=0), polygon.max(axis=0)
    us, vs = np.linspace(lo[0], hi[0], n), np.linspace(lo[1], hi[1], n)
    uu, vv = np.meshgrid(us, vs)
    k = origin + uu[..., None] * e1 + vv[..., None] * e2
    val = np.asarray(f(k[..., 0], k[..., 1], k[..., 2]), float) * np.ones(uu.shape)
    scale = max(float(np.max(np.abs(val))), 1e-300)
    sign = np.where(np.abs(val) <= 1e-9 * scale, 0, np.sign(val)).astype(int)
    inside = zone.inside(k.reshape(-1, 3), tol=1e-6).reshape(uu.shape)
    grid = [
        [int(s) if ok else None for s, ok in zip(row, m, strict=True)]
        for row, m in zip(sign, inside, strict=True)
    ]
    size = float(np.max(hi - lo))
    labels = []
    for label, kp in zone.points.items():
        d = kp - origin
        if abs(d @ normal) < 1e-6 * size:
            labels.append((_display(label), float(d @ e1), float(d @ e2)))
    lines = []
    for p in result.nodal_planes:
        nrm = np.asarray(p.cartesian_normal, float)
        a, b, c = nrm @ e1, nrm @ e2, nrm @ origin
        if abs(a) < 1e-9 and abs(b) < 1e-9:
            continue
        if abs(b) > abs(a):
            u_end = np.array([lo[0], hi[0]])
            ends = np.column_stack([u_end, -(a * u_end + c) / b])
        else:
            v_end = np.array([lo[1], hi[1]])
            ends = np.column_stack([-(b * v_end + c) / a, v_end])
        lines.append(ends.tolist())
    return ZoneSection(
        name,
        origin.tolist(),
        e1.tolist(),
        e2.tolist(),
        axes,
        polygon.tolist(),
        us.tolist(),
        vs.tolist(),
        grid,
        labels,
        lines,
    )


def zone_sections(
    structure: MagneticStructure, result: SpinGroupResult, n: int = 161, zone: Zone | None = None
) -> list[ZoneSection]:
    """The horizontal and the vertical section of the zone (see the module docstring)."""
    from altermag.reports.figures import form_factor_planes

    zone = zone or brillouin_zone(structure, result)
    f = form_factor_function(result)
    ex, ey, ez = np.eye(3)
    first = _section(zone, result, f, "kz = 0", np.zeros(3), ex, ey, ("kx (Å⁻¹)", "ky (Å⁻¹)"), n)
    if not any(s for row in first.sign for s in row if s is not None):
        top = float(zone.kmax[2])
        tops = [k[2] for k in zone.points.values() if abs(k[2]) > 1e-6]
        height = min(tops, key=abs) if tops else top  # the plane of A, Z, T…: a face
        first = _section(
            zone,
            result,
            f,
            f"kz = {height:.3f} Å⁻¹ (zone face)",
            height * ez,
            ex,
            ey,
            ("kx (Å⁻¹)", "ky (Å⁻¹)"),
            n,
        )
    # the vertical plane of the arbitrary-units figure: farthest from vertical nodal planes
    vertical = form_factor_planes(result, n=3)[1]
    e1 = np.asarray(vertical.e1, float)
    angle = float(np.degrees(np.arctan2(e1[1], e1[0])))
    second = _section(
        zone,
        result,
        f,
        f"vertical plane at {angle:g}° from kx",
        np.zeros(3),
        e1,
        ez,
        (vertical.axis_labels[0].replace("along", "Å⁻¹, along"), "kz (Å⁻¹)"),
        n,
    )
    return [first, second]


def zone_figure(
    structure: MagneticStructure,
    result: SpinGroupResult,
    sections: list[ZoneSection] | None = None,
    zone: Zone | None = None,
):
    """Sections with sign maps, nodal lines and labels, and the 3D zone with its points."""
    from matplotlib.colors import ListedColormap
    from matplotlib.patches import Polygon

    zone = zone or brillouin_zone(structure, result)
    sections = sections or zone_sections(structure, result, zone=zone)
    cmap = ListedColormap([DOWN, "white", UP])
    fig = plt.figure(figsize=(13.5, 4.6))
    for i, sec in enumerate(sections):
        ax = fig.add_subplot(1, 3, i + 1)
        sign = np.array([[np.nan if s is None else s for s in row] for row in sec.sign], float)
        ax.pcolormesh(sec.u, sec.v, sign, cmap=cmap, vmin=-1, vmax=1, shading="nearest")
        outline = Polygon(sec.polygon, closed=True, fill=False, lw=1.4, color="k")
        ax.add_patch(outline)
        for line in sec.nodal_lines:
            (u0, v0), (u1, v1) = line
            ax.plot([u0, u1], [v0, v1], color="k", lw=1.2, ls="--", clip_path=outline)
        if sec.labels:
            ax.plot(
                [u for _, u, _ in sec.labels], [v for *_, v in sec.labels], "o", color="k", ms=3.5
            )
        for label, u, v in sec.labels:
            ax.annotate(label, (u, v), textcoords="offset points", xytext=(4, 4), fontsize=10)
        poly = np.array(sec.polygon)
        pad = 0.08 * float(np.ptp(poly, axis=0).max())
        ax.set_xlim(poly[:, 0].min() - pad, poly[:, 0].max() + pad)
        ax.set_ylim(poly[:, 1].min() - pad, poly[:, 1].max() + pad)
        ax.set_aspect("equal")
        ax.set_xlabel(sec.axis_labels[0], fontsize=8)
        ax.set_ylabel(sec.axis_labels[1], fontsize=8)
        ax.set_title(sec.name, fontsize=9, y=1.0)
    ax3 = fig.add_subplot(1, 3, 3, projection="3d")
    pairs = {tuple(sorted(p)) for t in zone.hull.simplices for p in itertools.combinations(t, 2)}
    # draw only true edges: the segment lies on two faces that are not coplanar
    edges = [
        zone.vertices[list(p)] for p in sorted(pairs) if _is_edge(zone, zone.vertices[list(p)])
    ]
    ax3.plot(*polyline(edges).T, color="0.35", lw=0.8)
    surface = _surface_points(zone)
    f = form_factor_function(result)
    val = np.asarray(f(surface[:, 0], surface[:, 1], surface[:, 2]), float) * np.ones(len(surface))
    scale = max(float(np.max(np.abs(val))), 1e-300)
    colors = np.where(val > 1e-9 * scale, UP, np.where(val < -1e-9 * scale, DOWN, "0.8"))
    ax3.scatter(*surface.T, c=colors, s=7, alpha=0.6, depthshade=False)
    ax3.scatter(*np.array(list(zone.points.values())).reshape(-1, 3).T, color="k", s=10)
    for label, k in zone.points.items():
        ax3.text(*k, " " + _display(label), fontsize=8)
    ax3.set_box_aspect(np.ptp(zone.vertices, axis=0) + 1e-9)
    ax3.set_axis_off()
    ax3.set_title("first Brillouin zone: sign of f on its surface", fontsize=9, y=1.0)
    fig.suptitle(
        f"f(k) = {result.form_factor_basis[0]}   (red: f > 0, blue: f < 0; dashed: nodal planes;"
        " standard Cartesian frame)",
        fontsize=9,
    )
    fig.subplots_adjust(left=0.06, right=0.99, bottom=0.12, top=0.87, wspace=0.28)
    return fig


def _is_edge(zone: Zone, seg: np.ndarray) -> bool:
    mid = seg.mean(axis=0)
    eq = zone.hull.equations
    on = np.abs(mid @ eq[:, :3].T + eq[:, 3]) < 1e-7
    normals = np.unique(np.round(eq[on, :3], 6), axis=0)
    return len(normals) >= 2


def _surface_points(zone: Zone, n: int = 1500) -> np.ndarray:
    """Points on the zone's surface: rays from Γ on a Fibonacci sphere, cut at the surface."""
    i = np.arange(n) + 0.5
    phi = np.arccos(1 - 2 * i / n)
    theta = np.pi * (1 + 5**0.5) * i
    dirs = np.column_stack([np.cos(theta) * np.sin(phi), np.sin(theta) * np.sin(phi), np.cos(phi)])
    eq = zone.hull.equations
    # along t·d the face n·x + d0 = 0 is reached at t = −d0 / (n·d) for n·d > 0
    nd = dirs @ eq[:, :3].T
    t = np.where(nd > 1e-12, -eq[:, 3][None, :] / np.where(nd > 1e-12, nd, 1.0), np.inf)
    return dirs * t.min(axis=1)[:, None]
