"""The ``altermag`` command line (Typer + Rich).

Each command group lives in its own module; this file only assembles them. An
:class:`~altermag.errors.AltermagError` raised by any command (a file that cannot be read,
an unknown preset, DFT outputs that do not parse...) is the user's to fix: its message is
printed as ``error: ...`` on standard error and the command exits with status 1; options a
request object refuses (:class:`pydantic.ValidationError`) exit with status 2, as other
usage errors do. A disk that is full, read-only or not writable (``OSError`` with
``ENOSPC``, ``EDQUOT``, ``EROFS``, ``EACCES`` or ``EPERM``) is not a bug either: it is named
with the file and exits 1. Any other exception is a bug and keeps its traceback.
"""

from __future__ import annotations

import errno
from typing import Annotated, Any, NoReturn

import typer
from pydantic import ValidationError
from typer.core import TyperGroup, TyperOption

from altermag.errors import AltermagError

_DISK_ERRORS = {
    errno.ENOSPC: "no space left on the device (the disk is full)",
    errno.EDQUOT: "disk quota exceeded",
    errno.EROFS: "read-only file system",
    errno.EACCES: "permission denied",
    errno.EPERM: "operation not permitted",
}
"""Errors of the machine's disks, reported as a message rather than a traceback."""


class _Commands(TyperGroup):
    """The root command group: user errors become a message and exit status 1 (or 2)."""

    def invoke(self, ctx: Any) -> Any:  # a typer (vendored click) Context
        try:
            return super().invoke(ctx)
        except AltermagError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(code=1) from None
        except OSError as exc:
            if exc.errno not in _DISK_ERRORS:
                raise
            where = f" {exc.filename}" if exc.filename else " a file"
            typer.echo(f"error: cannot write{where}: {_DISK_ERRORS[exc.errno]}", err=True)
            raise typer.Exit(code=1) from None
        except ValidationError as exc:
            if not exc.title.endswith("Request"):  # not the user's options: a bug
                raise
            for err in exc.errors():
                option = "--" + "-".join(str(p) for p in err["loc"]).replace("_", "-")
                typer.echo(f"error: {option}: {err['msg']}", err=True)
            raise typer.Exit(code=2) from None


app = typer.Typer(
    name="altermag",
    cls=_Commands,
    help="Discover altermagnets: spin-group screening, a ground-state prior, DFT checks.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

_value_type = TyperOption.display_type_rich


def _flags_take_no_value(self: TyperOption, ctx: Any) -> str | None:
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
    """Discover altermagnets: spin-group screening, a ground-state prior, DFT checks."""


# Command modules register themselves on `app` when imported.
from altermag.cli import analyze as _analyze  # noqa: E402,F401
from altermag.cli import api as _api  # noqa: E402,F401
from altermag.cli import data as _data  # noqa: E402,F401
from altermag.cli import db as _db  # noqa: E402,F401
from altermag.cli import dft as _dft  # noqa: E402,F401
from altermag.cli import discover as _discover  # noqa: E402,F401
from altermag.cli import export as _export  # noqa: E402,F401
from altermag.cli import fetch as _fetch  # noqa: E402,F401
from altermag.cli import groundstate as _groundstate  # noqa: E402,F401
from altermag.cli import predict as _predict  # noqa: E402,F401
from altermag.cli import report as _report  # noqa: E402,F401
from altermag.cli import run as _run  # noqa: E402,F401
from altermag.cli import screen as _screen  # noqa: E402,F401
from altermag.cli import serve_flows as _serve_flows  # noqa: E402,F401
from altermag.cli import train as _train  # noqa: E402,F401


def entry_point() -> NoReturn:
    """The ``altermag`` command: run it, then end the process without tearing its heap down.

    A Python process that ends the usual way frees its objects one by one and clears every
    module it imported: after a screening (some 1,700 modules: pymatgen, SQLAlchemy,
    matplotlib) that is about 0.8 s of CPU spent on memory the operating system takes back
    whole anyway. Once the command has returned, its exit handlers run (the worker pool,
    logging, temporary folders), standard output and error are flushed, and the process
    ends with :func:`os._exit` and the command's status. A command that leaves a thread
    running that Python would wait for ends the usual way, after it.
    """
    import atexit
    import os
    import sys
    import threading

    code: int | str | None = 0
    try:
        app(prog_name="altermag")
    except SystemExit as exc:
        code = exc.code
    waiting = [
        t for t in threading.enumerate() if t is not threading.main_thread() and not t.daemon
    ]
    if waiting:
        sys.exit(code)
    if isinstance(code, str):
        print(code, file=sys.stderr)
        code = 1
    atexit._run_exitfuncs()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except OSError:  # the reader went away (a closed pipe): as CPython's own exit says
        os._exit(120)
    os._exit(code or 0)
