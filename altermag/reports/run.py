"""Screening-run report: counts by verdict and wave, a ranked table, and the failed inputs.

The JSON and the HTML carry the same content. Rows link to each material's report through a
caller-supplied URL pattern (``/reports/materials/{material_id}`` in the API, a relative file
name for reports written to disk).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from altermag import __version__
from altermag.store.records import Candidate, RunRecord

__all__ = ["render_run_html", "run_candidates", "run_report"]

TEMPLATES = Path(__file__).resolve().parent / "templates"


def run_candidates(store: Any, run_id: int) -> tuple[list[Candidate], int]:
    """A run's materials, each by its most probable order, ranked by
    :func:`altermag.ranking.rank_candidates`; and the candidate count (materials that can host
    an altermagnetic order), the same count the CLI and ``summary.json`` give."""
    from altermag.ranking import rank_candidates

    best = list(store.iter_candidates(run_id=run_id, max_rank=1))
    hosts = {c.material_id for c in store.iter_candidates(run_id=run_id, verdict="altermagnet")}
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
                    "p_k0": c.p_k0,
                    "heuristic_score": c.heuristic_score,
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


def _score_figures(scores: dict[str, list[float]]) -> list[dict[str, Any]]:
    """Histogram of the model's altermagnet probability, altermagnetic orders vs the rest."""
    if not any(scores.values()):
        return []
    import base64

    from altermag.reports.figures import plt, to_png

    fig, ax = plt.subplots(figsize=(6.4, 3.4))
    bins = [i / 20 for i in range(21)]
    ax.hist(
        scores["other"],
        bins=bins,
        alpha=0.7,
        label=f"other ({len(scores['other'])})",
        color="#9a9a9a",
    )
    ax.hist(
        scores["altermagnet"],
        bins=bins,
        alpha=0.7,
        color="#2b8a3e",
        label=f"altermagnetic ({len(scores['altermagnet'])})",
    )
    ax.set_xlabel("P(altermagnetic ground state)")
    ax.set_ylabel("materials")
    ax.set_yscale("log")
    ax.legend(frameon=False, fontsize=8)
    png = base64.b64encode(to_png(fig)).decode()
    return [
        {
            "key": "score-distribution",
            "png_base64": png,
            "caption": "Distribution of the prior's P(altermagnetic ground state) over the "
            "run's materials (each by its most probable order), split by that order's exact "
            "symmetry verdict.",
        }
    ]


def render_run_html(report: dict[str, Any]) -> str:
    """Self-contained HTML of :func:`run_report`."""
    import jinja2

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True)
    return env.get_template("run.html.j2").render(**report)
