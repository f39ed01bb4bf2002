"""The ``altermag`` command line (Typer + Rich).

Each command group lives in its own module; this file only assembles them.
"""

from __future__ import annotations

import typer

app = typer.Typer(
    name="altermag",
    help="Discover altermagnets: exact spin-group screening, GNN ranking, DFT verification.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# Command modules register themselves on `app` when imported.
from altermag.cli import analyze as _analyze  # noqa: E402,F401
from altermag.cli import api as _api  # noqa: E402,F401
from altermag.cli import data as _data  # noqa: E402,F401
from altermag.cli import db as _db  # noqa: E402,F401
from altermag.cli import dft as _dft  # noqa: E402,F401
from altermag.cli import discover as _discover  # noqa: E402,F401
from altermag.cli import export as _export  # noqa: E402,F401
from altermag.cli import fetch as _fetch  # noqa: E402,F401
from altermag.cli import report as _report  # noqa: E402,F401
from altermag.cli import run as _run  # noqa: E402,F401
from altermag.cli import screen as _screen  # noqa: E402,F401
from altermag.cli import serve_flows as _serve_flows  # noqa: E402,F401
from altermag.cli import train as _train  # noqa: E402,F401
