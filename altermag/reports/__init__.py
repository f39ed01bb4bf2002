"""Classification reports (HTML, JSON, PDF) for materials and screening runs."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import jinja2

TEMPLATES = Path(__file__).resolve().parent / "templates"
"""The Jinja templates of the HTML reports."""


@cache
def template(name: str) -> jinja2.Template:
    """The template ``name`` of :data:`TEMPLATES`, HTML-autoescaped, compiled once per
    process (a screening renders several pages with it)."""
    import jinja2

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True)
    return env.get_template(name)
