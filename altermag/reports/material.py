"""One-material classification report: JSON, self-contained HTML, or PDF.

The JSON and the HTML carry the same content: the summary of the spin-group result, the
figures (PNG, base64-embedded) with the data behind the form-factor map, model scores and DFT
evidence when available, and provenance (source, altermag version, settings, date).
"""

from __future__ import annotations

import base64
import datetime as dt
import io
from pathlib import Path
from typing import Any

from altermag import __version__
from altermag.reports import figures
from altermag.result import VERDICTS, SpinGroupResult
from altermag.structure import MagneticStructure

__all__ = ["material_report", "render_html", "render_pdf"]

TEMPLATES = Path(__file__).resolve().parent / "templates"


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


def material_report(
    structure: MagneticStructure,
    result: SpinGroupResult,
    *,
    source: str = "file",
    source_id: str | None = None,
    scores: list[dict[str, Any]] | None = None,
    dft: dict[str, Any] | None = None,
    extra_figures: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The report as a JSON-ready dict (the single source for HTML and PDF).

    Parameters
    ----------
    scores
        Model scores: dicts with ``model_version``, ``raw_score``, ``adapted_score``.
    dft
        DFT verdict dict (``verdict``, ``reason``, ...), shown when present.
    extra_figures
        More figures (e.g. the DFT band plot): dicts with ``key``, ``caption``, ``png_base64``.
    """
    figs: list[dict[str, Any]] = []
    moments = result.moments if result.moments and len(result.moments) == len(structure) else None
    figs.append(
        {
            "key": "crystal",
            "caption": "Magnetic cell: spin-up moments red, spin-down blue.",
            "png_base64": base64.b64encode(
                figures.to_png(figures.crystal_figure(structure, moments))
            ).decode(),
        }
    )
    planes_data: list[dict[str, Any]] = []
    if result.verdict == "altermagnet" and result.form_factor_basis:
        planes = figures.form_factor_planes(result)
        planes_data = [p.__dict__ for p in planes]
        figs.append(
            {
                "key": "form-factor",
                "caption": (
                    f"Sign of the spin-splitting form factor {result.form_factor_basis[0]} on two "
                    "planes of k-space (standard Cartesian frame, arbitrary units); black lines "
                    "are "
                    "the nodal planes, where the bands stay spin-degenerate."
                ),
                "png_base64": base64.b64encode(
                    figures.to_png(figures.form_factor_figure(result, planes))
                ).decode(),
            }
        )
    figs.extend(extra_figures or [])
    return {
        "kind": "material",
        "summary": _summary(structure, result),
        "result": result.to_dict(),
        "structure": structure.to_dict(),
        "figures": figs,
        "form_factor_planes": planes_data,
        "scores": scores or [],
        "dft": dft,
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
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=jinja2.select_autoescape()
    )
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
    return env.get_template("material.html.j2").render(
        summary=report["summary"],
        summary_rows=rows,
        result=report["result"],
        figures=report["figures"],
        scores=report["scores"],
        dft=report["dft"],
        provenance=report["provenance"],
    )


def render_pdf(report: dict[str, Any]) -> bytes:
    """A PDF: one summary page, then one page per figure (matplotlib only)."""
    import matplotlib.image as mpimg
    import matplotlib.pyplot as plt
    from matplotlib.backends.backend_pdf import PdfPages

    buf = io.BytesIO()
    with PdfPages(buf) as pdf:
        fig = plt.figure(figsize=(8.27, 11.69))
        lines = [f"{report['summary']['formula']} — altermag classification report", ""]
        lines += [f"{k}: {v}" for k, v in report["summary"].items() if v not in (None, "", [])]
        lines += ["", *(f"{k}: {v}" for k, v in report["provenance"].items())]
        fig.text(
            0.06,
            0.96,
            "\n".join(str(x)[:110] for x in lines),
            va="top",
            family="monospace",
            fontsize=8,
        )
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
