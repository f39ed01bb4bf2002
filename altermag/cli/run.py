"""``altermag run``: the main job on the embedded default data."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from altermag.cli import app

EXAMPLES = Path(__file__).resolve().parents[1] / "data" / "examples"


def example_paths() -> list[Path]:
    """The bundled example structures (one file per material; POSCAR folders by their POSCAR)."""
    out = []
    for p in sorted(EXAMPLES.iterdir()):
        if p.is_dir() and (p / "POSCAR").is_file():
            out.append(p / "POSCAR")
        elif p.is_file():
            out.append(p)
    return out


@app.command(help="Run the main job on the embedded default data (the bundled examples).")
def run() -> None:
    from altermag.cli.analyze import _table, analyze_paths
    from altermag.symmetry import DEFAULT_MAGTOL, DEFAULT_SYMPREC

    records = analyze_paths(example_paths(), None, DEFAULT_SYMPREC, DEFAULT_MAGTOL, "primitive")
    Console().print(_table(records))
