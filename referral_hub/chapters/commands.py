"""`flask chapters create` and `flask demo seed`."""

import click
from flask.cli import AppGroup

from ..errors import DomainError
from ..extensions import db
from . import demo, services

chapters_cli = AppGroup("chapters", help="Create and manage chapters.")
demo_cli = AppGroup("demo", help="Demo data for trying the app.")


@chapters_cli.command("create")
@click.argument("name")
@click.option("--organizer", "organizer_email", required=True, help="Email of an existing account.")
@click.option("--slug", default=None, help="Web address part; defaults to the name, dashed.")
def create_command(name: str, organizer_email: str, slug: str | None) -> None:
    """Create chapter NAME with its first organizer. Prints the slug alone on the last line."""
    try:
        chapter = services.create_chapter(name, organizer_email=organizer_email, slug=slug)
    except DomainError as error:
        db.session.rollback()
        raise click.ClickException(error.message) from error
    db.session.commit()
    click.echo(f"Created chapter {chapter.name!r}, organized by {organizer_email}.")
    click.echo(chapter.slug)


@demo_cli.command("seed")
@click.option("--members", "member_count", default=24, show_default=True, type=click.IntRange(1, 5000))
def seed_command(member_count: int) -> None:
    """Create (or complete) the demo chapter. Running it again changes nothing."""
    created = 0
    with click.progressbar(length=member_count, label="Seeding demo members") as bar:
        for created_now in demo.seed(member_count):
            created += created_now
            bar.update(1)
    db.session.commit()
    click.echo(f"Demo chapter {demo.CHAPTER_NAME!r} ready: {created} new members.")
    click.echo(f"Log in at /login as {demo.ORGANIZER_EMAIL} with password {demo.PASSWORD}")
