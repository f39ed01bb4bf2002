"""Command-line options several commands share, declared once (``Annotated`` aliases).

A command takes an option by annotating its parameter with an alias and giving the default:
``db: DbOption = None``. Options whose help differs by command (what ``--runner`` means for
``groundstate`` and for ``dft verify``) stay with their command.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from altermag.dft.presets import MAX_SEARCH_ORDERS
from altermag.screening_run import ScreenRequest

__all__ = [
    "DB_HELP",
    "AllOrdersOption",
    "DbOption",
    "FilterOption",
    "FreshOption",
    "JsonOption",
    "LimitOption",
    "MaxOrdersOption",
    "MaxPerPrototypeOption",
    "OutOption",
    "PathOption",
    "PresetOption",
    "SetOption",
    "SlurmOption",
    "SourceOption",
    "UrlOption",
    "WaitOption",
]

DB_HELP = "Database URL (default $ALTERMAG_DATABASE_URL, else $ALTERMAG_HOME/altermag.db)."
DbOption = Annotated[str | None, typer.Option(help=DB_HELP)]

# --- a screening's source and outputs (screen, run, discover) --------------------------------
SourceOption = Annotated[
    str,
    typer.Option(
        help="embedded | known | corpus | local | magndata | optimade | materials_project"
    ),
]
PathOption = Annotated[Path | None, typer.Option(help="Folder or zip (local, magndata).")]
UrlOption = Annotated[str | None, typer.Option(help="OPTIMADE base URL.")]
FilterOption = Annotated[str | None, typer.Option(help="OPTIMADE filter.")]
LimitOption = Annotated[
    int | None, typer.Option(help=str(ScreenRequest.model_fields["limit"].description))
]
OutOption = Annotated[
    Path | None,
    typer.Option(help="Folder for ranked outputs (default $ALTERMAG_HOME/candidates)."),
]
FreshOption = Annotated[bool, typer.Option(help="Start a new run instead of resuming.")]
AllOrdersOption = Annotated[
    bool, typer.Option(help="Candidate files list every order, not one per material.")
]
MaxPerPrototypeOption = Annotated[
    int | None, typer.Option(help="At most N candidate rows per structure prototype.")
]

# --- DFT (dft prepare, dft verify, groundstate, discover) -------------------------------------
PresetOption = Annotated[
    str, typer.Option(help="DFT preset: a name in altermag/dft/presets or a YAML file.")
]
SetOption = Annotated[
    list[str] | None,
    typer.Option("--set", help="Override a preset key: KEY=VALUE (repeatable)."),
]
SlurmOption = Annotated[
    list[str] | None, typer.Option(help="Slurm resource: KEY=VALUE (time=02:00:00…).")
]
WaitOption = Annotated[float, typer.Option(help="Seconds to poll the Slurm jobs (--runner slurm).")]
MaxOrdersOption = Annotated[
    int,
    typer.Option(
        min=1,
        max=MAX_SEARCH_ORDERS,
        help="Orders of the ranking the ground-state search computes.",
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]
