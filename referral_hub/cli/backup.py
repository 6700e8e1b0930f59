"""`flask db backup PATH`: an online copy of a SQLite database (PostgreSQL has pg_dump)."""

import os
import sqlite3
from contextlib import closing
from pathlib import Path

import click
from flask.cli import with_appcontext

from ..extensions import db


@click.command("backup")
@click.argument("path", type=click.Path(dir_okay=False, writable=True, path_type=Path))
@with_appcontext
def backup_command(path: Path) -> None:
    """Copy the SQLite database to PATH while the app runs (SQLite's backup API: one consistent copy)."""
    url = db.engine.url
    if url.get_backend_name() != "sqlite":
        click.echo(
            f"db backup copies SQLite databases; this one is {url.get_backend_name()}. Use its own tool: "
            "pg_dump -Fc -f PATH DATABASE_URL (restore with pg_restore -d DATABASE_URL PATH).",
            err=True,
        )
        raise SystemExit(1)
    if not url.database or not Path(url.database).is_file():
        raise click.ClickException(f"There is no database file at {url.database!r} to back up.")
    if path.exists():
        raise click.ClickException(f"{path} exists; give a new file (a backup never overwrites).")
    partial = path.with_name(path.name + ".partial")
    partial.unlink(missing_ok=True)
    with closing(sqlite3.connect(url.database)) as source, closing(sqlite3.connect(partial)) as copy:
        source.backup(copy)
    os.replace(partial, path)  # the file appears only once the copy is whole
    click.echo(f"backed up {url.database} to {path} ({path.stat().st_size} bytes)")
