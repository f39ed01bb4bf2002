"""One-material classification report: JSON, self-contained HTML, or PDF.

The JSON and the HTML carry the same content: the summary of the spin-group result, the
figures (PNG, base64-embedded) with the data behind the form-factor map, model scores and DFT
evidence when available, and provenance (source, altermag version, settings, date).
"""

from __future__ import annotations

import base64
import datetime as dt
import io
from typing import Any

from altermag import __version__
from altermag.reports import TEMPLATES, figures, template
from altermag.result import VERDICTS, SpinGroupResult
from altermag.structure import MagneticStructure

__all__ = ["TEMPLATES", "material_report", "render_html", "render_pdf"]


def _summary(structure: MagneticStructure, result: SpinGroupResult) -> dict[str, Any]:
    planes = ", ".join(
        p.equation + ("" if p.enforced else " (not symmetry-enforced)") for p in result.nodal_planes
    )
    if result.enumerated:
        order = (
            "enumerated k = 0 orders; rank-1 shown ("
            + (
                f"can host an altermagnet: {', '.join(result.host_waves)}-wave"
                if result.can_host_altermagnet
                else "no altermagnetic order"
            )
            + ")"
        )
    else:
        order = "as given"
    return {
        "formula": structure.formula,
        "verdict": result.verdict,
        "verdict_meaning": VERDICTS[result.verdict],
        "wave": result.wave,
        "spin_laue_group": result.spin_laue_group,
        "laue_group": result.laue_group,
        "form_factor": result.form_factor,
        "nodal_planes": planes,
        "space_group": f"{result.space_group_symbol} ({result.space_group_number})",
        "magnetic_space_group": (
            f"{result.magnetic_space_group or ''} ({result.magnetic_space_group_number or '?'})"
        ),
        "magnetic_order": order,
        "moments": result.moments,
        "net_moment": result.net_moment,
        "n_sites": result.n_sites,
        "afm_reason": result.afm_reason,
        "tolerances": f"symprec = {result.symprec} Å, magtol = {result.magtol} μB",
        "frame": result.frame,
    }


def _shown_result(result: SpinGroupResult) -> SpinGroupResult:
    """The classification the figures show: the structure's own, or for a structure without
    moments its rank-1 enumerated order."""
    if result.enumerated and result.orders:
        return min(result.orders, key=lambda o: o.rank).result
    return result


def _shown_structure(structure: MagneticStructure, result: SpinGroupResult) -> MagneticStructure:
    """The cell with the moments the figures show (the rank-1 order's enumeration cell)."""
    if result.enumerated and result.orders:
        from altermag.symmetry.enumerate import ordered_structure

        return ordered_structure(structure, result, rank=min(o.rank for o in result.orders))
    return structure


def _shown_order(structure: MagneticStructure, result: SpinGroupResult) -> dict[str, Any] | None:
    """For a structure given without moments: the enumerated order the figures show."""
    if not (result.enumerated and result.orders):
        return None
    best = min(result.orders, key=lambda o: o.rank)
    cell = _shown_structure(structure, result)
    return {
        "rank": best.rank,
        "verdict": best.result.verdict,
        "wave": best.result.wave,
        "signs": [int(s) for s in best.signs],
        "cell": cell.to_dict(),
    }


def _png(fig: Any) -> str:
    return base64.b64encode(figures.to_png(fig)).decode()


def _crystal_figure(structure: MagneticStructure, result: SpinGroupResult) -> dict[str, Any]:
    """The cell with its moments as arrows; for a structure given without moments, the rank-1
    enumerated order on its enumeration cell (arrows: relative signs)."""
    shown = _shown_structure(structure, result)
    caption = "Magnetic cell: spin-up moments red, spin-down blue."
    if shown is not structure:
        best = min(result.orders, key=lambda o: o.rank)
        caption = (
            f"Rank-1 enumerated order ({best.result.verdict}"
            + (f", {best.result.wave}-wave" if best.result.wave else "")
            + f") on the {len(shown)}-site enumeration cell: arrows give the relative signs "
            "(red up, blue down); the structure was given without moments."
        )
    moments = None
    if shown.magmoms is not None:
        collinear = shown.collinear_moments()
        moments = None if collinear is None else [float(v) for v in collinear[0]]
    return {
        "key": "crystal",
        "caption": caption,
        "png_base64": _png(figures.crystal_figure(shown, moments)),
    }


def _zone_figure(
    structure: MagneticStructure, result: SpinGroupResult, planes: list[Any]
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The form factor in the Brillouin zone (sections and 3D, labelled points), or — when the
    zone or its path cannot be built — on two planes in arbitrary units."""
    from altermag.reports import bz

    caption = (
        f"Sign of the spin-splitting form factor {result.form_factor_basis[0]} in the first "
        "Brillouin zone (standard Cartesian frame, Å⁻¹): two sections with the high-symmetry "
        "points of the Setyawan–Curtarolo path that lie in them, and the zone's surface. "
        "Dashed lines are the nodal planes, where the bands stay spin-degenerate."
    )
    try:
        zone = bz.brillouin_zone(structure, result)
        sections = bz.zone_sections(structure, result, n=101, zone=zone)
        fig = bz.zone_figure(structure, result, sections, zone)
    except (ValueError, ArithmeticError, LookupError, RuntimeError) as exc:  # no zone or path
        caption = (
            f"Sign of the spin-splitting form factor {result.form_factor_basis[0]} on two "
            "planes of k-space (standard Cartesian frame, arbitrary units; the Brillouin zone "
            f"could not be drawn: {exc}); black lines are the nodal planes."
        )
        fig, sections = figures.form_factor_figure(result, planes), []
    data = [s.to_dict() for s in sections]
    return {"key": "form-factor", "caption": caption, "png_base64": _png(fig)}, data


def material_report(
    structure: MagneticStructure,
    result: SpinGroupResult,
    *,
    source: str = "file",
    source_id: str | None = None,
    scores: list[dict[str, Any]] | None = None,
    dft: dict[str, Any] | None = None,
    extra_figures: list[dict[str, Any]] | None = None,
    dft_settings: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The report as a JSON-ready dict (the single source for HTML and PDF).

    Parameters
    ----------
    scores
        The prior's scores: dicts with ``model_version``, ``p_altermagnetic_ground_state``
        and ``p_k0`` (None when the model gave none).
    dft
        DFT verdict dict (``verdict``, ``reason``, ...), shown when present.
    extra_figures
        More figures (e.g. the DFT band plot): dicts with ``key``, ``caption``, ``png_base64``.
    dft_settings
        The settings of the DFT check (code, preset, cut-offs, k-points, U…), shown with it.
    """
    figs: list[dict[str, Any]] = [_crystal_figure(structure, result)]
    planes_data: list[dict[str, Any]] = []
    zone_data: list[dict[str, Any]] = []
    shown = _shown_result(result)
    if shown.verdict == "altermagnet" and shown.form_factor_basis:
        planes = figures.form_factor_planes(shown)
        planes_data = [p.__dict__ for p in planes]
        figure, zone_data = _zone_figure(_shown_structure(structure, result), shown, planes)
        figs.append(figure)
    figs.extend(extra_figures or [])
    return {
        "kind": "material",
        "summary": _summary(structure, result),
        "result": result.to_dict(),
        "structure": structure.to_dict(),
        "figures": figs,
        "form_factor_planes": planes_data,
        "brillouin_zone": zone_data,
        "shown_order": _shown_order(structure, result),
        "scores": scores or [],
        "dft": dft,
        "dft_settings": dft_settings,
        "provenance": {
            "source": source,
            "source_id": source_id,
            "altermag_version": __version__,
            "created": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "settings": f"symprec={result.symprec} Å, magtol={result.magtol} μB",
        },
    }


def render_html(report: dict[str, Any]) -> str:
    """Self-contained HTML (figures embedded), readable offline."""
    labels = {
        "verdict_meaning": "meaning",
        "spin_laue_group": "spin Laue group",
        "laue_group": "Laue group",
        "form_factor": "form factor f(k)",
        "nodal_planes": "nodal planes",
        "space_group": "space group",
        "magnetic_space_group": "magnetic space group (BNS)",
        "magnetic_order": "magnetic order",
        "net_moment": "net moment (μB)",
        "n_sites": "sites",
        "afm_reason": "why conventional",
        "frame": "k-space frame",
    }
    rows = [
        (labels.get(k, k.replace("_", " ")), v)
        for k, v in report["summary"].items()
        if v not in (None, "", []) and k not in ("formula", "verdict")
    ]
    return template("material.html.j2").render(
        summary=report["summary"],
        summary_rows=rows,
        result=report["result"],
        figures=report["figures"],
        scores=report["scores"],
        dft=report["dft"],
        dft_settings=report.get("dft_settings"),
        ground_state=report.get("ground_state"),
        stored_orders=report.get("stored_orders") or [],
        provenance=report["provenance"],
    )


def ground_state_figure(gs: dict[str, Any]) -> dict[str, Any]:
    """Bar chart of a ground-state search (:mod:`altermag.dft.groundstate` JSON): the energy of
    every converged order above the ground state in meV per magnetic atom, the winner marked
    (★, zero height, drawn as a thin bar); orders that collapsed, flipped or did not converge
    are listed under their label without a bar."""
    import matplotlib.pyplot as plt

    orders = gs.get("orders") or []
    winner = (gs.get("ground_state") or {}).get("label")
    labels, heights, colours = [], [], []
    for o in orders:
        rel = o.get("relative_energy_mev_per_magnetic_atom")
        mark = " ★" if o["label"] == winner else ""
        status = "" if o.get("status") == "converged" else f"\n({o.get('status')})"
        labels.append(f"{o['label']}{mark}{status}")
        heights.append(0.0 if rel is None else float(rel))
        colours.append(VERDICT_COLOURS.get(o.get("verdict", ""), "#dee2e6"))
    fig, ax = plt.subplots(figsize=(max(3.0, 0.9 * len(labels) + 1.5), 3.0))
    xs = range(len(labels))
    top = max([*heights, 1.0])
    bars = [h if h > 0 else top * 0.01 for h in heights]
    ax.bar(xs, bars, color=colours, edgecolor="#343a40")
    for x, o, h in zip(xs, orders, heights, strict=True):
        if o.get("relative_energy_mev_per_magnetic_atom") is not None:
            ax.text(x, h + top * 0.02, f"{h:.1f}", ha="center", va="bottom", fontsize=8)
    ax.set_xticks(list(xs), labels, fontsize=8)
    ax.set_ylabel("E − E(ground state)\n(meV per magnetic atom)", fontsize=8)
    ax.set_ylim(0, top * 1.2)
    margin = (gs.get("ground_state") or {}).get("margin_mev_per_magnetic_atom")
    caption = (
        f"DFT total energies of the enumerated orders ({gs.get('code')}, preset "
        f"{(gs.get('settings') or {}).get('preset')}); ground state {winner} "
        f"({gs.get('verdict')})"
        + (f", {margin:.1f} meV per magnetic atom below the next order" if margin else "")
        + ("; near-degenerate" if gs.get("near_degenerate") else "")
    )
    fig.tight_layout()
    return {"key": "dft-ground-state", "caption": caption, "png_base64": _png(fig)}


VERDICT_COLOURS = {
    "altermagnet": "#d8f3dc",
    "antiferromagnet": "#fff3bf",
    "ferromagnet": "#d0ebff",
    "ferrimagnet": "#d0ebff",
    "compensated_ferrimagnet": "#d0ebff",
}


def _facts(report: dict[str, Any]) -> list[tuple[str, str]]:
    """The summary page's table: what a reader needs first, in order."""
    s = report["summary"]
    rows = [
        ("verdict", s["verdict_meaning"]),
        ("spin Laue group", s.get("spin_laue_group") or "—"),
        ("form factor f(k)", s.get("form_factor") or "—"),
        ("nodal planes", s.get("nodal_planes") or "—"),
        ("space group", s["space_group"]),
        ("magnetic space group", s["magnetic_space_group"]),
        ("magnetic order", s["magnetic_order"]),
        ("net moment", f"{s['net_moment']:.3g} μB" if s.get("net_moment") is not None else "—"),
    ]
    if s.get("afm_reason"):
        rows.append(("why conventional", s["afm_reason"]))
    for score in report.get("scores") or []:
        p_k0 = score.get("p_k0")
        rows.append(
            (
                f"model ({score['model_version']})",
                f"P(altermagnetic ground state) = {score['p_altermagnetic_ground_state']:.3f}"
                + (f", P(k = 0) = {p_k0:.3f}" if p_k0 is not None else "")
                + " (ranking prior, not the verdict)",
            )
        )
    dft = report.get("dft")
    if dft:
        settings = report.get("dft_settings") or {}
        how = ", ".join(f"{k} {v}" for k, v in settings.items() if k in ("code", "preset"))
        rows.append(
            (
                "DFT check",
                f"{dft.get('status', '')}: {dft.get('reason', '')}" + (f" ({how})" if how else ""),
            )
        )
    return rows


def _summary_page(report: dict[str, Any]):
    """Page 1 of the PDF: title and verdict, the key facts, the two main figures."""
    import textwrap

    import matplotlib.image as mpimg
    import matplotlib.pyplot as plt

    s, prov = report["summary"], report["provenance"]
    fig = plt.figure(figsize=(8.27, 11.69))
    fig.text(0.06, 0.955, s["formula"], fontsize=22, weight="bold", va="top")
    verdict = s["verdict"].replace("_", " ") + (f" · {s['wave']}-wave" if s.get("wave") else "")
    fig.text(
        0.94,
        0.95,
        verdict,
        fontsize=14,
        ha="right",
        va="top",
        bbox={
            "boxstyle": "round,pad=0.4",
            "fc": VERDICT_COLOURS.get(s["verdict"], "#eeeeee"),
            "ec": "none",
        },
    )
    fig.text(
        0.06,
        0.915,
        f"altermag classification report · {prov['created']} · source: "
        f"{prov['source']} {prov.get('source_id') or ''}".strip(),
        fontsize=8.5,
        color="0.35",
    )
    y = 0.885
    for label, value in _facts(report):
        lines = textwrap.wrap(str(value), 78) or [""]
        fig.text(0.06, y, label, fontsize=9, weight="bold", va="top")
        fig.text(0.30, y, "\n".join(lines), fontsize=9, va="top")
        y -= 0.017 * len(lines) + 0.006
    images = {f["key"]: f for f in report["figures"]}
    slots = [("crystal", (0.05, y - 0.30, 0.42, 0.29)), ("dft-bands", (0.52, y - 0.30, 0.43, 0.29))]
    if "form-factor" in images:
        slots.append(("form-factor", (0.03, 0.05, 0.94, max(0.12, y - 0.37))))
    for key, rect in slots:
        if key in images and rect[3] > 0.05:
            ax = fig.add_axes(rect)
            ax.imshow(mpimg.imread(io.BytesIO(base64.b64decode(images[key]["png_base64"]))))
            ax.axis("off")
    orders = report["result"].get("orders") or []
    if orders and "form-factor" not in images:  # room below the crystal: the other orders
        y -= 0.33
        fig.text(0.06, y, "enumerated collinear k = 0 orders", fontsize=9, weight="bold")
        for o in orders[:12]:
            y -= 0.018
            r = o["result"]
            fig.text(
                0.06,
                y,
                f"{o['rank']:>3}  {r['verdict']:<24} {r.get('wave') or '':<2} "
                f"{r.get('spin_laue_group') or '':<12} score {o['score']:.2f}",
                fontsize=8.5,
                family="monospace",
            )
    fig.text(
        0.06,
        0.02,
        f"altermag {prov['altermag_version']} · {prov['settings']}",
        fontsize=7.5,
        color="0.45",
    )
    return fig


def render_pdf(report: dict[str, Any]) -> bytes:
    """A PDF: a summary page (verdict, key facts, crystal and form-factor figures), then one
    page per figure with its caption (matplotlib only)."""
    import matplotlib.image as mpimg
    import matplotlib.pyplot as plt
    from matplotlib.backends.backend_pdf import PdfPages

    buf = io.BytesIO()
    with PdfPages(buf) as pdf:
        fig = _summary_page(report)
        pdf.savefig(fig)
        plt.close(fig)
        for f in report["figures"]:
            img = mpimg.imread(io.BytesIO(base64.b64decode(f["png_base64"])), format="png")
            fig = plt.figure(figsize=(8.27, 11.69))
            ax = fig.add_axes((0.05, 0.2, 0.9, 0.7))
            ax.imshow(img)
            ax.axis("off")
            fig.text(0.05, 0.15, f["caption"], wrap=True, fontsize=9)
            pdf.savefig(fig)
            plt.close(fig)
    return buf.getvalue()
