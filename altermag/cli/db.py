"""``altermag db``: create or migrate the store, inspect it, list candidates, manage API keys."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from altermag.cli import app
from altermag.cli.tables import Column, print_table

db_app = typer.Typer(
    help="The screening store (SQLite file by default, PostgreSQL by URL): schema, "
    "contents, candidates and API keys. The URL comes from --db or $ALTERMAG_DATABASE_URL.",
    no_args_is_help=True,
)
app.add_typer(db_app, name="db")

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        help="Database URL (sqlite:///altermag.db, postgresql+psycopg://user@host/db); "
        "default $ALTERMAG_DATABASE_URL, else $ALTERMAG_HOME/altermag.db.",
    ),
]


def _safe(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


@db_app.command(help="Create the schema or migrate it to the newest revision.")
def upgrade(db: DbOption = None, revision: str = "head") -> None:
    from altermag.store import current_revision, database_url
    from altermag.store import upgrade as do_upgrade

    url = database_url(db)
    do_upgrade(url, revision)
    Console().print(f"{_safe(url)}: schema at revision {current_revision(url)}")


@db_app.command(help="Step the schema back to REVISION ('base' drops every store table).")
def downgrade(
    revision: Annotated[str, typer.Argument(help="Target revision, e.g. base.")],
    db: DbOption = None,
) -> None:
    from altermag.store import current_revision, database_url
    from altermag.store import downgrade as do_downgrade

    url = database_url(db)
    do_downgrade(url, revision)
    Console().print(f"{_safe(url)}: schema at revision {current_revision(url) or 'base'}")


@db_app.command(
    help="Compact the store: SQLite rewrites its file (free space returned, 8 kB pages for a "
    "store made with 4 kB ones); PostgreSQL reclaims dead rows and renews its statistics. "
    "Stop the API and flows that use an SQLite store first."
)
def vacuum(db: DbOption = None) -> None:
    from altermag.store import database_url
    from altermag.store import vacuum as do_vacuum

    url = database_url(db)
    done = do_vacuum(url)
    line = f"{_safe(url)}: {done.bytes_before / 1e6:.1f} MB → {done.bytes_after / 1e6:.1f} MB"
    if done.page_size_before is not None:
        line += f", pages of {done.page_size_before} → {done.page_size_after} bytes"
    Console(soft_wrap=True).print(line)


@db_app.command(help="Show the database, its schema revision and the rows in every table.")
def status(db: DbOption = None) -> None:
    from altermag.store import Store, current_revision, database_url, head

    url = database_url(db)
    console = Console()
    rev, newest = current_revision(url), head()
    console.print(f"database: {_safe(url)}")
    console.print(f"schema revision: {rev or 'none'} (newest {newest})")
    if rev is None:
        console.print("empty database: run `altermag db upgrade`")
        return
    with Store(url, migrate=False) as store:
        table = Table("table", "rows")
        for name, n in store.row_counts().items():
            table.add_row(name, str(n))
        console.print(table)


@db_app.command(
    help="List stored candidates, best first: one row per material (its most probable order) "
    "by default, every order with --all-orders."
)
def candidates(
    db: DbOption = None,
    verdict: Annotated[list[str] | None, typer.Option(help="Keep this verdict.")] = None,
    wave: Annotated[list[str] | None, typer.Option(help="Keep this wave (d, g, i).")] = None,
    element: Annotated[
        list[str] | None, typer.Option(help="The material must contain this element.")
    ] = None,
    source: Annotated[str | None, typer.Option(help="Source of the material.")] = None,
    run: Annotated[int | None, typer.Option(help="Only materials seen by this run id.")] = None,
    min_score: Annotated[float | None, typer.Option(help="Lowest model score.")] = None,
    best_order: Annotated[
        bool,
        typer.Option(
            "--best-order/--all-orders",
            help="One row per material (its most probable order), or every order.",
        ),
    ] = True,
    sort: Annotated[
        str,
        typer.Option(
            help="score (P(altermagnetic ground state)), dft_splitting, dft_ground_state "
            "(altermagnetic DFT ground states first, by margin), heuristic_score, formula or "
            "newest."
        ),
    ] = "score",
    max_per_prototype: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="At most N rows per structure prototype (anonymous formula and space group), "
            "the best ranked ones, as `altermag screen --max-per-prototype`.",
        ),
    ] = None,
    limit: Annotated[int, typer.Option(min=1, help="Rows per page (at most 500).")] = 20,
    cursor: Annotated[str | None, typer.Option(help="next_cursor of the previous page.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the page as JSON.")] = False,
) -> None:
    from altermag.store import Store, database_url
    from altermag.store.candidates import order_cap

    with Store(database_url(db)) as store:
        try:
            page = store.candidates(
                sort=sort,
                cursor=cursor,
                limit=limit,
                verdict=verdict or None,
                wave=wave or None,
                elements=element or (),
                source=source,
                run_id=run,
                min_score=min_score,
                max_rank=order_cap(None, all_orders=not best_order),
                max_per_prototype=max_per_prototype,
            )
        except ValueError as exc:
            raise typer.BadParameter(str(exc)) from exc
    if as_json:
        typer.echo(json.dumps(page.to_dict(), indent=1))
        return
    columns = [
        Column("material", priority=8, justify="right"),
        Column("formula", priority=10),
        Column("verdict", priority=9),
        Column("wave", priority=8),
        Column("spin Laue\ngroup", priority=6),
        Column("form factor", priority=3, wrap=True),
        Column("order\nrank", priority=4, justify="right"),
        Column("P(AM\nground)", priority=7, justify="right"),
        Column("P(k=0)", priority=5, justify="right"),
        Column("P(order)", priority=5, justify="right"),
        Column("DFT ground\nstate", priority=6),
        Column("source", priority=2, wrap=True),
    ]
    rows = [
        [
            str(c.material_id),
            c.formula,
            c.verdict,
            c.wave or "",
            c.spin_laue_group or "",
            c.form_factor or "",
            "" if c.heuristic_rank is None else str(c.heuristic_rank),
            "" if c.score is None else f"{c.score:.3f}",
            "" if c.p_k0 is None else f"{c.p_k0:.3f}",
            "" if c.p_ground_state is None else f"{c.p_ground_state:.3f}",
            c.ground_state_label,
            f"{c.source or ''} {c.source_id or ''}".strip(),
        ]
        for c in page.items
    ]
    console = Console()
    print_table(console, f"Stored candidates (sort: {sort})", columns, rows)
    if page.next_cursor:
        console.print(f"next page: --cursor {page.next_cursor}")


@db_app.command("create-key", help="Create an API key called NAME and print it (shown once).")
def create_key(
    name: str,
    db: DbOption = None,
    scope: Annotated[
        str,
        typer.Option(
            help="read (reads, when they are private), write (also changes: screenings) or "
            "admin (also creates, lists and revokes keys)."
        ),
    ] = "write",
) -> None:
    from altermag.store import Store, database_url

    with Store(database_url(db)) as store:
        key = store.create_api_key(name, scope)  # StoreError/SettingsError: message, exit 1
    typer.echo(key)


@db_app.command("revoke-key", help="Revoke the API key called NAME.")
def revoke_key(name: str, db: DbOption = None) -> None:
    from altermag.store import Store, database_url

    with Store(database_url(db)) as store:
        if not store.revoke_api_key(name):
            typer.echo(f"no active API key called {name!r}", err=True)
            raise typer.Exit(1)
    typer.echo(f"revoked {name}")
