"""`jarvis store`: the store's schema, and moving a local store into a team store."""

from typing import Annotated

import typer

from jarvis_cli.cli import render, tables
from jarvis_cli.cli.common import JsonOption, get_context

app = typer.Typer(
    add_completion=False,
    name="store",
    help="The store: the local SQLite file, or a PostgreSQL team store shared by a team.",
    no_args_is_help=True,
)


@app.command("migrate")
def migrate(json_output: JsonOption = False) -> None:
    """Bring the store's schema up to date and show its version.

    The store in use is the PostgreSQL database of JARVIS_STORE_URL or of
    config.toml's store url, else the local SQLite file. jarvis also migrates
    on first use; run this in a deploy step so that no request waits for it.
    A schema newer than this jarvis is an error (exit 3): upgrade jarvis.
    """
    from jarvis_cli.core.store.migrations import SCHEMA_VERSION

    ctx = get_context()
    store = ctx.store
    before = store.migrated_from
    version = store.schema_version()
    backend = "postgresql" if ctx.store_url is not None else "sqlite"
    if json_output:
        render.emit_json(
            {
                "store": store.location,
                "backend": backend,
                "schema_version": version,
                "migrated_from": before,
                "expected_schema_version": SCHEMA_VERSION,
            }
        )
        return
    done = "already up to date" if before is None else f"migrated from version {before}"
    render.message(f"store {store.location}: schema version {version} ({done})")


@app.command("copy")
def copy(
    to: Annotated[
        str | None,
        typer.Option(
            "--to",
            help="The team store: postgresql://USER@HOST:PORT/DB. Default: JARVIS_STORE_URL "
            "or config.toml's store url. Keep the password out of argv: use those, PGPASSWORD "
            "or ~/.pgpass.",
        ),
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """Copy the local store (keys, history, attempts, log, outcomes, models) into a team store.

    Idempotent: what the team store already has is skipped, so running it
    twice copies nothing the second time. Keys travel sealed; the team store
    must use the same master key (JARVIS_MASTER_KEY). Nothing is copied if
    anything fails.

    Example: JARVIS_STORE_URL=postgresql://ci@db:5432/jarvis jarvis store copy
    """
    from jarvis_cli.core.errors import UsageError
    from jarvis_cli.core.store.copy import copy_store
    from jarvis_cli.core.store.database import Store
    from jarvis_cli.core.store.pg import PgStore
    from jarvis_cli.core.store.url import check_store_url

    ctx = get_context()
    if to is not None:
        url = check_store_url(to, "--to")
    elif ctx.store_url is not None:
        url = ctx.store_url[0]
    else:
        raise UsageError(
            "store copy needs a team store: give --to postgresql://… or set JARVIS_STORE_URL"
        )
    if not ctx.paths.db_file.exists():
        raise UsageError(f"there is no local store to copy at {ctx.paths.db_file}")
    source = Store.open(ctx.paths.db_file)
    target = PgStore.connect(url)
    try:
        report = copy_store(source, target)
    finally:
        source.close()
        target.close()
    if json_output:
        render.emit_json(report.as_json())
        return
    from jarvis_cli.cli.tables import NUM, Column

    tables.table(
        [Column("table"), Column("copied", NUM), Column("already there", NUM)],
        [(t, n, report.skipped.get(t, 0)) for t, n in report.copied.items()],
        title=f"{report.source} -> {report.target}",
    )
