"""Rich tables that stay readable in a narrow terminal.

Short tokens (a formula, a verdict, a space-group symbol) are never broken across lines:
their columns are ``no_wrap``. Free text (paths, form factors) folds. When the table still
does not fit the console, the lowest-priority columns are left out and named under the table,
instead of Rich squeezing every column until words break ("alterm / agnet").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich import box
from rich.cells import cell_len
from rich.console import Console, JustifyMethod
from rich.table import Table
from rich.text import Text

__all__ = ["Column", "fitted_table", "print_table"]


@dataclass(frozen=True)
class Column:
    """One column: its header, whether its cells may wrap, and how long it is kept when the
    terminal is narrow (higher priority = dropped later)."""

    header: str
    priority: int = 5
    wrap: bool = False
    justify: JustifyMethod = "left"


def _build(title: str | None, columns: Sequence[Column], rows: Sequence[Sequence[str]], keep):
    table = Table(title=title, box=box.SIMPLE_HEAD, pad_edge=False, padding=(0, 1))
    for i in keep:
        c = columns[i]
        table.add_column(
            c.header,
            no_wrap=not c.wrap,
            overflow="fold" if c.wrap else "ellipsis",
            justify=c.justify,
        )
    for row in rows:
        table.add_row(*(row[i] for i in keep))
    return table


WRAP_MIN = 12
"""Narrowest a wrapping column is allowed to become (long paths fold at this width)."""


def _min_width(column: Column, cells: Sequence[str]) -> int:
    """Width a column needs: its widest line when it does not wrap, else its longest word
    (at most :data:`WRAP_MIN`)."""
    lines = [
        line
        for cell in [column.header, *cells]
        for line in Text.from_markup(cell).plain.split("\n")
    ]
    if not column.wrap:
        return max(cell_len(line) for line in lines)
    words = [w for line in lines for w in line.split()] or [""]
    return min(WRAP_MIN, max(cell_len(w) for w in words))


def fitted_table(
    console: Console,
    title: str | None,
    columns: Sequence[Column],
    rows: Sequence[Sequence[str]],
) -> tuple[Table, list[str]]:
    """The table with as many columns as fit ``console.width``, and the headers left out."""
    need = [_min_width(c, [r[i] for r in rows]) for i, c in enumerate(columns)]
    keep = list(range(len(columns)))
    # two edge characters, then one separator and two spaces of padding between columns
    while len(keep) > 2 and sum(need[i] for i in keep) + 2 + 3 * (len(keep) - 1) > console.width:
        keep.remove(min(keep, key=lambda i: (columns[i].priority, -i)))
    left_out = [columns[i].header.replace("\n", " ") for i in range(len(columns)) if i not in keep]
    return _build(title, columns, rows, keep), left_out


def print_table(
    console: Console,
    title: str | None,
    columns: Sequence[Column],
    rows: Sequence[Sequence[str]],
    hint: str = "--json",
) -> None:
    """Print :func:`fitted_table` and, when columns were left out, say which and how to see
    them."""
    table, left_out = fitted_table(console, title, columns, rows)
    console.print(table)
    if left_out:
        console.print(
            f"[dim]not shown at this width: {', '.join(left_out)} (wider terminal or {hint})[/]"
        )
