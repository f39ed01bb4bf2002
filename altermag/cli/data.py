"""``altermag data``: the data sets shipped with altermag.

Command modules add their commands to :data:`data_app`.
"""

from __future__ import annotations

import typer

from altermag.cli import app

data_app = typer.Typer(
    help="Data shipped with altermag: curated known magnets and the screening corpus.",
    no_args_is_help=True,
)
app.add_typer(data_app, name="data")

from altermag.cli import data_corpus as _data_corpus  # noqa: E402,F401
from altermag.cli import data_known as _data_known  # noqa: E402,F401
