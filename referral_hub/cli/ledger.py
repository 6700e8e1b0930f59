"""`flask ledger verify`: check every invariant of the books and exit non-zero on any violation."""

import click
from flask.cli import AppGroup

from ..chapters.services import chapter_by_slug
from ..errors import NotFound
from ..ledger import verify
from ..wording import counted

ledger_cli = AppGroup("ledger", help="The reciprocity ledger.")

SHOWN_PER_CHECK = 20


@ledger_cli.command("verify")
@click.option("--chapter", "slug", default=None, help="Check one chapter only (its slug).")
def verify_command(slug: str | None) -> None:
    """Check that the books balance. Exits 1 when any invariant is broken."""
    chapter = None
    if slug is not None:
        try:
            chapter = chapter_by_slug(slug)
        except NotFound as error:
            raise click.UsageError(f"No chapter has the slug {slug!r}.") from error
    report = verify.verify(chapter)
    extent = ", ".join(
        counted(report.counts[plural], plural)
        for plural in ("chapters", "accounts", "transactions", "entries")
    )
    click.echo(f"Verifying the ledger of {report.scope}: {extent}.")
    for check in report.checks:
        status = "ok  " if check.ok else "FAIL"
        click.echo(f"{status}  {check.description} ({check.extent} checked)")
        for violation in check.violations[:SHOWN_PER_CHECK]:
            click.echo(f"        {violation}")
        if len(check.violations) > SHOWN_PER_CHECK:
            click.echo(f"        … and {len(check.violations) - SHOWN_PER_CHECK} more")
    if report.ok:
        click.echo(f"All {len(report.checks)} checks passed.")
        return
    failed = sum(not check.ok for check in report.checks)
    click.echo(
        f"{failed} of {len(report.checks)} checks failed, with "
        f"{counted(report.violation_count, 'violations')}.",
        err=True,
    )
    raise SystemExit(1)
