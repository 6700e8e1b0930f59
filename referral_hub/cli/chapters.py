"""`flask chapters create`, `flask chapters import` and `flask demo seed`."""

import click
from flask.cli import AppGroup

from ..accounts.services import find_by_email
from ..chapters import roster, services
from ..database import writes
from ..errors import DomainError
from ..extensions import db
from . import demo

chapters_cli = AppGroup("chapters", help="Create and manage chapters.")
demo_cli = AppGroup("demo", help="Demo data for trying the app.")


@chapters_cli.command("create")
@click.argument("name")
@click.option("--organizer", "organizer_email", required=True, help="Email of an existing account.")
@click.option("--slug", default=None, help="Web address part; defaults to the name, dashed.")
@click.option("--timezone", default=None, help="IANA time zone, such as Europe/Madrid (default UTC).")
@click.option(
    "--language", default=None, help="Language code of its pages and emails: en or es (default en)."
)
@click.option(
    "--currency", default=None, help="ISO 4217 code of business amounts, such as EUR (default none)."
)
@writes
def create_command(
    name: str,
    organizer_email: str,
    slug: str | None,
    timezone: str | None,
    language: str | None,
    currency: str | None,
) -> None:
    """Create chapter NAME with its first organizer. Prints the slug alone on the last line."""
    try:
        chapter = services.create_chapter(
            name,
            organizer_email=organizer_email,
            slug=slug,
            timezone=timezone,
            language=language,
            currency=currency,
        )
    except DomainError as error:
        db.session.rollback()
        raise click.ClickException(error.message) from error
    db.session.commit()
    click.echo(f"Created chapter {chapter.name!r}, organized by {organizer_email}.")
    click.echo(chapter.slug)


@chapters_cli.command("import")
@click.argument("file", type=click.File("rb"))
@click.option("--chapter", "slug", required=True, help="Slug of the chapter to invite people to.")
@click.option("--organizer", "organizer_email", required=True, help="Email of an organizer: the inviter.")
@click.option("--dry-run", is_flag=True, help="Only check the file; invite no one.")
@writes
def import_command(file, slug: str, organizer_email: str, dry_run: bool) -> None:
    """Invite the people in a roster CSV (name, email, headline, expertise) to a chapter.

    Rows with a problem are listed and skipped; the others are invited, all or none.
    """
    organizer = find_by_email(organizer_email)
    try:
        chapter = services.organizer_of(organizer, slug).chapter if organizer else None
    except DomainError:
        chapter = None
    if chapter is None:
        raise click.ClickException(f"{organizer_email} does not organize a chapter with the slug {slug!r}.")
    try:
        preview = roster.preview(chapter, file.read())
    except DomainError as error:
        raise click.ClickException(error.message) from error
    for row in preview.bad:
        _report_problem(row)
    good = preview.good
    if dry_run:
        click.echo(f"{len(good)} rows would be invited, {len(preview.bad)} have problems.")
        return
    with click.progressbar(length=len(good), label="Inviting") as bar:
        invited = roster.invite_good_rows(
            chapter, preview, invited_by=organizer, progress=lambda _row: bar.update(1)
        )
    db.session.commit()
    for row in good:
        if not row.ok:  # refused while inviting: someone joined or was invited meanwhile
            _report_problem(row)
    skipped = len(preview.rows) - len(invited)
    click.echo(f"Invited {len(invited)} people to {chapter.name}; {skipped} rows skipped.")


def _report_problem(row: roster.RosterRow) -> None:
    click.echo(f"line {row.line}: {row.email or '(no email)'}: {' '.join(row.problems)}", err=True)


@demo_cli.command("seed")
@click.option("--members", "member_count", default=24, show_default=True, type=click.IntRange(1, 5000))
@writes
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
