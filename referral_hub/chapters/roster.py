"""Importing a member roster from CSV: check every row, say each row's problem, invite the good ones."""

import csv
import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select

from ..accounts.models import Member, email_key_of
from ..accounts.services import check_address
from ..clock import utcnow
from ..errors import DomainError
from ..extensions import db
from ..i18n import gettext as _
from ..i18n import lazy_gettext as _l
from .models import Chapter, Invitation, Membership, MembershipStatus
from .services import invite

COLUMNS = ("name", "email", "headline", "expertise")
REQUIRED_COLUMNS = ("email",)
LIMITS = {"name": 80, "email": 254, "headline": 120, "expertise": 300}
MAX_ROWS = 1000
MAX_FILE_BYTES = 1_000_000


class RosterRefused(DomainError):
    """The file is not a roster we can read."""

    message = _l("The file cannot be read as a roster.")

    code = "roster_refused"


@dataclass
class RosterRow:
    line: int  # in the file, the header being line 1
    name: str
    email: str
    headline: str
    expertise: str
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_record(self) -> dict[str, str]:
        return {column: getattr(self, column) for column in COLUMNS}


@dataclass
class RosterPreview:
    rows: list[RosterRow]

    @property
    def good(self) -> list[RosterRow]:
        return [row for row in self.rows if row.ok]

    @property
    def bad(self) -> list[RosterRow]:
        return [row for row in self.rows if not row.ok]

    def good_as_csv(self) -> str:
        return to_csv(self.good)


def _text(content: bytes | str) -> str:
    if isinstance(content, str):
        return content
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise RosterRefused(
            _("Save the roster as CSV in UTF-8 (most spreadsheets offer “CSV UTF-8”).")
        ) from error


def read_rows(content: bytes | str) -> list[RosterRow]:
    """Parse the CSV and check each row on its own (format, lengths, duplicates within the file)."""
    text = _text(content)
    if len(text.encode()) > MAX_FILE_BYTES:
        raise RosterRefused(_("The file is larger than %(num)d kB; split it.", num=MAX_FILE_BYTES // 1000))
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [cell.strip().lower() for cell in next(reader, [])]
        # Each record with the file line it ends on, as a spreadsheet numbers it; blank lines are skipped.
        records = [(reader.line_num, record) for record in reader if any(cell.strip() for cell in record)]
    except csv.Error as error:
        raise RosterRefused(_("This is not a CSV file we can read: %(error)s.", error=error)) from error
    missing = [column for column in REQUIRED_COLUMNS if column not in header]
    if not header or missing:
        raise RosterRefused(
            _("The first line must name the columns: name, email, headline, expertise (email is required).")
        )
    if not records:
        raise RosterRefused(_("The file has no rows under its header line."))
    if len(records) > MAX_ROWS:
        raise RosterRefused(_("A roster can have %(num)d rows at most; split the file.", num=MAX_ROWS))
    position = {column: header.index(column) for column in COLUMNS if column in header}
    rows, seen = [], {}
    for line, record in records:
        values = {
            column: " ".join(record[position[column]].split())
            if column in position and position[column] < len(record)
            else ""
            for column in COLUMNS
        }
        row = RosterRow(line=line, **values)
        _check_format(row)
        key = email_key_of(row.email)
        if row.ok and key in seen:
            row.problems.append(_("The same address as line %(line)d.", line=seen[key]))
        seen.setdefault(key, line)
        rows.append(row)
    return rows


def _check_format(row: RosterRow) -> None:
    for column, limit in LIMITS.items():
        if len(getattr(row, column)) > limit:
            row.problems.append(
                _("The %(column)s is longer than %(num)d characters.", column=column, num=limit)
            )
    if not row.email:
        row.problems.append(_("No email address."))
        return
    try:
        validate_email(row.email, check_deliverability=False)
    except EmailNotValidError:
        row.problems.append(_("“%(email)s” is not a valid email address.", email=row.email))
        return
    try:
        check_address(row.email)
    except DomainError as error:
        row.problems.append(error.message)


def check_against_chapter(chapter: Chapter, rows: list[RosterRow]) -> RosterPreview:
    """Mark rows whose person is already a member or already has an open invitation: two queries."""
    keys = {email_key_of(row.email) for row in rows if row.ok}
    members = set(
        db.session.scalars(
            select(Member.email_key)
            .join(Membership, Membership.member_id == Member.id)
            .where(
                Membership.chapter_id == chapter.id,
                Membership.status == MembershipStatus.ACTIVE,
                Member.email_key.in_(keys),
            )
        )
    )
    # Keyed here, not in SQL: the database has no NFKC case folding.
    invited = {
        email_key_of(email)
        for email in db.session.scalars(
            select(Invitation.email).where(
                Invitation.chapter_id == chapter.id,
                Invitation.accepted_at.is_(None),
                Invitation.cancelled_at.is_(None),
                Invitation.expires_at > utcnow(),
            )
        )
    } & keys
    for row in rows:
        if not row.ok:
            continue
        key = email_key_of(row.email)
        if key in members:
            row.problems.append(_("Already a member of %(chapter)s.", chapter=chapter.name))
        elif key in invited:
            row.problems.append(_("Already invited; that invitation is still open."))
    return RosterPreview(rows)


def preview(chapter: Chapter, content: bytes | str) -> RosterPreview:
    return check_against_chapter(chapter, read_rows(content))


def invite_good_rows(
    chapter: Chapter,
    preview: RosterPreview,
    *,
    invited_by: Member,
    progress: Callable[[RosterRow], None] = lambda _row: None,
) -> list[RosterRow]:
    """Invite every good row through the chapter's one invitation rule; the caller commits.

    A row the rule refuses now (someone joined meanwhile) gets that problem and is skipped.
    """
    invited = []
    for row in preview.good:
        try:
            invite(chapter, email=row.email, invited_by=invited_by)
        except DomainError as error:
            row.problems.append(error.message)
        else:
            invited.append(row)
        progress(row)
    return invited


def to_csv(rows: Iterable[RosterRow]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(row.as_record() for row in rows)
    return buffer.getvalue()
