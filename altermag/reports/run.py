"""Screening-run report: counts by verdict and wave, a ranked table, and the failed inputs.

The JSON and the HTML carry the same content. Rows link to each material's report through a
caller-supplied URL pattern (``/reports/materials/{material_id}`` in the API, a relative file
name for reports written to disk).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable
from typing import Any

from altermag import __version__
from altermag.reports import template
from altermag.store.records import Candidate, RunRecord

__all__ = ["render_run_html", "run_candidates", "run_report", "score_histogram_svg"]


def run_candidates(store: Any, run_id: int) -> tuple[list[Candidate], int]:
    """A run's materials, each by its most probable order, ranked by
    :func:`altermag.ranking.rank_candidates`; and the candidate count (materials that can host
    an altermagnetic order), the same count the CLI and ``summary.json`` give."""
    from altermag.ranking import rank_candidates

    best = list(store.iter_candidates(run_id=run_id, max_rank=1))
    hosts = store.candidate_material_ids(run_id=run_id, verdict="altermagnet")
    by_key = {c.order_id: c for c in best}
    rows = [
        {
            "id": c.source_id or str(c.material_id),
            "material_id": c.material_id,
            "order_id": c.order_id,
            "p_altermagnetic_ground_state": c.score,
            "order_rank": c.heuristic_rank or 1,
        }
        for c in best
    ]
    ranked = rank_candidates(rows)
    return [by_key[r["order_id"]] for r in ranked], len(hosts)


def run_report(
    run: RunRecord,
    candidates: Iterable[Candidate],
    *,
    top: int = 100,
    material_link: str = "/reports/materials/{material_id}",
    n_candidates: int | None = None,
) -> dict[str, Any]:
    """The report of screening run ``run`` as a JSON-ready dict.

    Parameters
    ----------
    candidates
        The run's candidates, best first (e.g. ``store.iter_candidates(run_id=..., max_rank=1)``):
        every row is counted, the first ``top`` are listed.
    material_link
        Format string of a material report's address (``{material_id}`` is filled in).
    n_candidates
        Materials that can host an altermagnetic order (:func:`run_candidates`).
    """
    by_verdict: Counter[str] = Counter()
    by_wave: Counter[str] = Counter()
    rows: list[dict[str, Any]] = []
    scores: dict[str, list[float]] = {"altermagnet": [], "other": []}
    for c in candidates:
        if c.score is not None:
            scores["altermagnet" if c.verdict == "altermagnet" else "other"].append(c.score)
        by_verdict[c.verdict] += 1
        if c.verdict == "altermagnet" and c.wave:
            by_wave[c.wave] += 1
        if len(rows) < top:
            rows.append(
                {
                    "rank": len(rows) + 1,
                    "material_id": c.material_id,
                    "order_id": c.order_id,
                    "formula": c.formula,
                    "source_id": c.source_id,
                    "verdict": c.verdict,
                    "wave": c.wave,
                    "spin_laue_group": c.spin_laue_group,
                    "form_factor": c.form_factor,
                    "score": c.score,
                    "p_altermagnetic_ground_state": c.score,
                    "p_k0": c.p_k0,
                    "p_ground_state": c.p_ground_state,
                    "heuristic_score": c.heuristic_score,
                    "dft_ground_state": c.dft_ground_state,
                    "dft_am_margin_mev": c.dft_am_margin_mev,
                    "link": material_link.format(material_id=c.material_id),
                }
            )
    errors = [*(str(e) for e in run.errors)] + [
        f"{item.input_ref}: {item.error}" for item in run.failed_inputs if item.error
    ]
    return {
        "kind": "screening-run",
        "run": {
            "id": run.id,
            "source": run.source,
            "status": run.status,
            "started_at": run.started_at.isoformat(),
            "finished_at": run.finished_at.isoformat() if run.finished_at else None,
            "n_inputs": run.n_inputs,
            "n_materials": run.n_materials,
            "n_failed": run.n_failed,
            "parameters": run.parameters,
        },
        "n_candidates": n_candidates,
        "counts_by_verdict": dict(by_verdict.most_common()),
        "counts_by_wave": dict(sorted(by_wave.items())),
        "candidates": rows,
        "errors": errors,
        "figures": _score_figures(scores),
        "provenance": {
            "altermag_version": __version__,
            "created": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        },
    }


#: Bins of the score histogram: P(altermagnetic ground state) in twentieths.
SCORE_BINS = 20
_SERIES = (("other", "other", "#9a9a9a"), ("altermagnet", "altermagnetic", "#2b8a3e"))


def _score_figures(scores: dict[str, list[float]]) -> list[dict[str, Any]]:
    """Histogram of the prior's P(altermagnetic ground state), altermagnetic orders vs the rest
    (an SVG drawn here: the run report needs no plotting library)."""
    if not any(scores.values()):
        return []
    import base64

    svg = score_histogram_svg(scores)
    return [
        {
            "key": "score-distribution",
            "svg_base64": base64.b64encode(svg.encode()).decode(),
            "caption": "Distribution of the prior's P(altermagnetic ground state) over the "
            "run's materials (each by its most probable order), split by that order's exact "
            "symmetry verdict.",
        }
    ]


def score_histogram_svg(scores: dict[str, list[float]]) -> str:
    """SVG histogram of ``scores`` (series ``altermagnet`` and ``other``) in
    :data:`SCORE_BINS` equal bins of [0, 1] (the last one closed), counts on a log axis.

    Every bar carries ``data-series``, ``data-bin`` (its lower edge) and ``data-count``.
    """
    import math

    import numpy as np

    edges = np.linspace(0.0, 1.0, SCORE_BINS + 1)
    counts = {k: np.histogram(np.clip(scores.get(k, []), 0, 1), edges)[0] for k, _, _ in _SERIES}
    top = max(1, *(int(c.max()) for c in counts.values()))
    decades = max(1, math.ceil(math.log10(top * 1.2)))
    w, h, left, right, up, down = 640, 340, 62, 180, 14, 48
    pw, ph = w - left - right, h - up - down
    low = math.log10(0.5)  # a bar of one material stays visible on the log axis

    def y(count: float) -> float:
        return up + ph * (1 - (math.log10(count) - low) / (decades - low))

    def x(p: float) -> float:
        return left + pw * p

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" width="{w}" '
        f'height="{h}" font-family="sans-serif" font-size="11">',
        f'<rect x="{left}" y="{up}" width="{pw}" height="{ph}" fill="none" stroke="#333"/>',
    ]
    for d in range(decades + 1):
        out.append(
            f'<line x1="{left - 4}" x2="{left}" y1="{y(10**d):.1f}" y2="{y(10**d):.1f}" '
            f'stroke="#333"/><text x="{left - 7}" y="{y(10**d) + 4:.1f}" '
            f'text-anchor="end">{10**d}</text>'
        )
    for i in range(0, SCORE_BINS + 1, 4):
        p = edges[i]
        out.append(
            f'<line x1="{x(p):.1f}" x2="{x(p):.1f}" y1="{up + ph}" y2="{up + ph + 4}" '
            f'stroke="#333"/><text x="{x(p):.1f}" y="{up + ph + 17}" '
            f'text-anchor="middle">{p:.1f}</text>'
        )
    out.append(
        f'<text x="{left + pw / 2}" y="{h - 8}" text-anchor="middle">'
        "P(altermagnetic ground state)</text>"
        f'<text transform="translate(14 {up + ph / 2}) rotate(-90)" '
        'text-anchor="middle">materials</text>'
    )
    for k, (key, label, colour) in enumerate(_SERIES):
        for i, n in enumerate(counts[key]):
            if n:
                out.append(
                    f'<rect data-series="{key}" data-bin="{edges[i]:.2f}" data-count="{n}" '
                    f'x="{x(edges[i]):.1f}" y="{y(n):.1f}" width="{pw / SCORE_BINS:.1f}" '
                    f'height="{up + ph - y(n):.1f}" fill="{colour}" fill-opacity="0.7"/>'
                )
        ly = up + 12 + 18 * k
        out.append(
            f'<rect x="{left + pw + 14}" y="{ly - 9}" width="12" height="10" fill="{colour}" '
            f'fill-opacity="0.7"/><text x="{left + pw + 31}" y="{ly}">{label} '
            f"({len(scores.get(key, []))})</text>"
        )
    out.append("</svg>")
    return "".join(out)


def render_run_html(report: dict[str, Any]) -> str:
    """Self-contained HTML of :func:`run_report`."""
    return template("run.html.j2").render(**report)
