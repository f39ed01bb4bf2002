"""The ``altermag`` command line (Typer + Rich).

Each command group lives in its own module; this file only assembles them.
"""

from __future__ import annotations

from typing import Annotated

import typer
from typer.core import TyperOption

app = typer.Typer(
    name="altermag",
    help="Discover altermagnets: exact spin-group screening, GNN ranking, DFT verification.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

_value_type = TyperOption.display_type_rich


def _flags_take_no_value(self: TyperOption, ctx: typer.Context) -> str | None:
    """Typer's Rich help writes ``--json <bool>`` as if a flag took a value; a flag shows
    none (``--json``, ``--prefect/--no-prefect``)."""
    return None if self.is_flag else _value_type(self, ctx)


TyperOption.display_type_rich = _flags_take_no_value  # type: ignore[method-assign]


def _print_version(value: bool) -> None:
    if value:
        from altermag import __version__

        typer.echo(f"altermag {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Discover altermagnets: exact spin-group screening, GNN ranking, DFT verification."""


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
