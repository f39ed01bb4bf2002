"""Figures for classification reports (matplotlib, headless Agg backend).

* :func:`crystal_figure`: the magnetic cell with up (red) and down (blue) moments as arrows.
* :func:`form_factor_planes`: the sign of the spin-splitting form factor f(k) on two planes
  of k-space, as data (so tests can check it) and :func:`form_factor_figure` drawing it with
  the nodal planes as lines.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from altermag.result import SpinGroupResult
from altermag.structure import MagneticStructure
from altermag.symmetry.harmonics import polynomial_function

__all__ = [
    "PlaneSample",
    "crystal_figure",
    "form_factor_figure",
    "form_factor_function",
    "form_factor_planes",
    "to_png",
]

UP, DOWN, NEUTRAL = "#d62728", "#1f77b4", "#9a9a9a"


PAD_INCHES = 0.1
"""White margin around a figure's drawn content in its PNG (savefig's ``pad_inches``)."""


def to_png(fig: plt.Figure, dpi: int = 110) -> bytes:
    """PNG bytes of a figure cropped to what is drawn on it with a margin of
    :data:`PAD_INCHES` (the image of ``savefig(bbox_inches="tight")``), opaque RGB; the
    figure is closed.

    The figure is drawn once and its pixels cropped (savefig with a tight box draws it twice:
    once to measure, once to paint). Content reaching outside the figure, which cropping
    would cut, is left to savefig, which enlarges the canvas instead.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from PIL import Image

    canvas = fig.canvas if isinstance(fig.canvas, FigureCanvasAgg) else FigureCanvasAgg(fig)
    fig.set_dpi(dpi)
    canvas.draw()
    box = fig.get_tightbbox(canvas.get_renderer())  # inches
    width, height = canvas.get_width_height()
    buf = io.BytesIO()
    if box.x0 < 0 or box.y0 < 0 or box.x1 * dpi > width or box.y1 * dpi > height:
        fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight", pad_inches=PAD_INCHES)
        opaque = Image.open(buf).convert("RGB")
        buf = io.BytesIO()
        opaque.save(buf, format="png", dpi=(dpi, dpi))
    else:
        box = box.padded(PAD_INCHES)
        left, right = math.floor(box.x0 * dpi), math.ceil(box.x1 * dpi)
        top, bottom = height - math.ceil(box.y1 * dpi), height - math.floor(box.y0 * dpi)
        background = np.round(255 * np.asarray(fig.get_facecolor()[:3])).astype(np.uint8)
        pixels = np.empty((bottom - top, right - left, 3), np.uint8)
        pixels[...] = background  # the margin where it reaches past the figure's edge
        drawn = np.asarray(canvas.buffer_rgba())
        rows, cols = slice(max(top, 0), min(bottom, height)), slice(max(left, 0), min(right, width))
        pixels[rows.start - top : rows.stop - top, cols.start - left : cols.stop - left] = drawn[
            rows, cols, :3
        ]
        Image.fromarray(pixels).save(buf, format="png", dpi=(dpi, dpi))
    plt.close(fig)
    return buf.getvalue()


def crystal_figure(structure: MagneticStructure, moments: list[float] | None) -> plt.Figure:
    """3D view of the cell: atoms by element, magnetic moments as red (up) / blue (down) arrows."""
    fig = plt.figure(figsize=(5.2, 5.0))
    # the subplot's default box moved left and up: the z label and the lowest tick labels
    # stay inside the figure (a crystal drawn past its edge would be drawn twice to crop it)
    fig.subplots_adjust(left=0.058, right=0.833, bottom=0.135, top=0.905)
    ax = fig.add_subplot(projection="3d")
    lat = structure.lattice
    corners = np.array([[i, j, k] for i in (0, 1) for j in (0, 1) for k in (0, 1)], float)
    edges = [
        corners[[a, b]] @ lat
        for a in range(8)
        for b in range(a + 1, 8)
        if np.sum(np.abs(corners[a] - corners[b])) == 1
    ]
    ax.plot(*polyline(edges).T, color="0.6", lw=0.8)
    cart = np.mod(structure.frac_coords, 1.0) @ lat
    m = np.zeros(len(structure)) if moments is None else np.asarray(moments, float)
    scale = 0.35 * np.min(np.linalg.norm(lat, axis=1)) / max(1e-9, np.max(np.abs(m)))
    elements = sorted(set(structure.species))
    cmap = plt.get_cmap("tab10")
    for idx, el in enumerate(elements):
        sel = np.array([s == el for s in structure.species])
        ax.scatter(
            *cart[sel].T,
            s=60,
            color=cmap(idx % 10),
            edgecolor="k",
            lw=0.4,
            label=el,
            depthshade=False,
        )
    for sign, colour in ((1, UP), (-1, DOWN)):
        sel = sign * m >= 1e-6
        if sel.any():
            zeros = np.zeros(int(sel.sum()))
            ax.quiver(
                *cart[sel].T,
                zeros,
                zeros,
                m[sel] * scale,
                color=colour,
                lw=2.2,
                arrow_length_ratio=0.3,
            )
    ax.plot([], [], color=UP, lw=2.2, label="spin up")
    ax.plot([], [], color=DOWN, lw=2.2, label="spin down")
    ax.set_xlabel("x (Å)")
    ax.set_ylabel("y (Å)")
    ax.set_zlabel("z (Å)")
    ax.set_box_aspect(np.ptp(np.vstack([corners @ lat, cart]), axis=0) + 1e-3)
    ax.legend(loc="upper left", fontsize=8, frameon=False)
    ax.set_title(f"{structure.formula}: magnetic cell (moments along the spin axis)", fontsize=9)
    return fig


def polyline(segments: list[np.ndarray]) -> np.ndarray:
    """Segments (pairs of 3D points) as one line broken by NaN rows: one artist, drawn like
    lines (under the markers and arrows of a 3D view, which sorts only collections by
    depth)."""
    gap = np.full((1, 3), np.nan)
    return np.vstack([part for seg in segments for part in (seg, gap)])


def form_factor_function(result: SpinGroupResult):
    """f(kx, ky, kz) as a vectorised numpy function (first basis polynomial)."""
    return polynomial_function(result.form_factor_basis[0])


@dataclass
class PlaneSample:
    """Sign of f(k) on a square grid of one plane of k-space (standard Cartesian frame).

    Points are ``origin + u * e1 + v * e2`` for u, v in ``coords``.
    """

    name: str
    origin: list[float]
    e1: list[float]
    e2: list[float]
    axis_labels: tuple[str, str]
    coords: list[float]
    sign: list[list[int]]
    """sign[i][j] at (u = coords[j], v = coords[i]), i.e. rows along e2."""
    nodal_lines: list[list[list[float]]]
    """Each nodal plane's intersection with this plane as two (u, v) end points."""

    def points(self) -> np.ndarray:
        u, v = np.meshgrid(self.coords, self.coords)
        return (
            np.array(self.origin)
            + u[..., None] * np.array(self.e1)
            + v[..., None] * np.array(self.e2)
        )


def _plane(result, f, name, origin, e1, e2, labels, n: int) -> PlaneSample:
    coords = np.linspace(-1.0, 1.0, n)
    u, v = np.meshgrid(coords, coords)
    pts = np.array(origin) + u[..., None] * np.array(e1) + v[..., None] * np.array(e2)
    val = np.asarray(f(pts[..., 0], pts[..., 1], pts[..., 2]), float) * np.ones(u.shape)
    scale = max(np.max(np.abs(val)), 1e-300)
    sign = np.where(np.abs(val) <= 1e-9 * scale, 0, np.sign(val)).astype(int)
    lines = []
    e1a, e2a, o = np.array(e1), np.array(e2), np.array(origin)
    for p in result.nodal_planes:
        nrm = np.array(p.cartesian_normal)
        a, b, c = nrm @ e1a, nrm @ e2a, nrm @ o  # a u + b v + c = 0
        if abs(a) < 1e-9 and abs(b) < 1e-9:
            continue  # the plotted plane lies in (or parallel to) the nodal plane
        if abs(b) > abs(a):
            us = np.array([-1.0, 1.0])
            vs = -(a * us + c) / b
        else:
            vs = np.array([-1.0, 1.0])
            us = -(b * vs + c) / a
        lines.append([[float(us[0]), float(vs[0])], [float(us[1]), float(vs[1])]])
    return PlaneSample(
        name,
        [float(x) for x in origin],
        [float(x) for x in e1],
        [float(x) for x in e2],
        labels,
        coords.tolist(),
        sign.tolist(),
        lines,
    )


def form_factor_planes(result: SpinGroupResult, n: int = 121) -> list[PlaneSample]:
    """Two planes of k-space showing the sign pattern of f and the nodal planes.

    1. The kz = 0 plane, or kz = ½ (arbitrary units) when f vanishes identically on kz = 0
       (e.g. MnTe, where kz = 0 is itself a nodal plane).
    2. The vertical plane (containing kz) farthest in angle from every vertical nodal plane,
       which shows the horizontal nodal planes and the kz dependence.
    """
    f = form_factor_function(result)
    z = np.zeros(3)
    ex, ey, ez = np.eye(3)
    first = _plane(result, f, "kz = 0", z, ex, ey, ("kx", "ky"), n)
    if not np.any(np.array(first.sign)):
        first = _plane(result, f, "kz = 1/2", 0.5 * ez, ex, ey, ("kx", "ky"), n)
    vertical = [
        np.array(p.cartesian_normal)
        for p in result.nodal_planes
        if abs(p.cartesian_normal[2]) < 1e-6
    ]
    best, best_gap = 0.0, -1.0
    for deg in np.arange(0.0, 180.0, 2.5):
        t = np.radians(deg)
        normal = np.array([-np.sin(t), np.cos(t), 0.0])  # plane spanned by (cos t, sin t, 0), z
        gap = min(
            (np.degrees(np.arccos(min(1.0, abs(normal @ nv)))) for nv in vertical), default=90.0
        )
        if gap > best_gap + 1e-9:
            best, best_gap = deg, gap
    t = np.radians(best)
    e1 = np.array([np.cos(t), np.sin(t), 0.0])
    label = "k∥" if best else "kx"
    second = _plane(
        result,
        f,
        f"vertical plane at {best:g}° from kx",
        z,
        e1,
        ez,
        (f"{label} (along {best:g}° from kx)", "kz"),
        n,
    )
    return [first, second]


def form_factor_figure(result: SpinGroupResult, planes: list[PlaneSample]) -> plt.Figure:
    """Red/blue map of sign f(k) on each plane with the nodal planes drawn as black lines."""
    from matplotlib.colors import ListedColormap

    fig, axes = plt.subplots(1, len(planes), figsize=(4.4 * len(planes), 4.2))
    cmap = ListedColormap([DOWN, "white", UP])
    for ax, plane in zip(np.atleast_1d(axes), planes, strict=True):
        c = np.array(plane.coords)
        ax.pcolormesh(c, c, np.array(plane.sign), cmap=cmap, vmin=-1, vmax=1, shading="nearest")
        for (u0, v0), (u1, v1) in plane.nodal_lines:
            ax.plot([u0, u1], [v0, v1], color="k", lw=1.6)
        ax.set_xlim(-1, 1)
        ax.set_ylim(-1, 1)
        ax.set_aspect("equal")
        ax.set_xlabel(plane.axis_labels[0])
        ax.set_ylabel(plane.axis_labels[1])
        ax.set_title(plane.name, fontsize=9)
    fig.suptitle(
        f"sign of f(k) = {result.form_factor_basis[0]}   (red: f > 0, blue: f < 0, "
        "white: f = 0; black lines: nodal planes)",
        fontsize=9,
    )
    return fig
