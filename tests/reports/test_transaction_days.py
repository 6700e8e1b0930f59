"""The ledger's transactions kept per chapter local day (reports.transactions): every posting counts once
on its local day, the API's ledger total reads them with and without a period, a zone change refiles
them, erasure leaves them exact, and `reports verify` catches a count that differs."""

from datetime import UTC, date, datetime

import pytest
import time_machine
from sqlalchemy import select, update

from referral_hub.chapters.settings import change_settings
from referral_hub.extensions import db
from referral_hub.ledger import organizing, posting
from referral_hub.ledger.models import Kind
from referral_hub.needs import services as needs
from referral_hub.privacy import erasure
from referral_hub.reports import transactions
from referral_hub.reports.access import create_token
from referral_hub.reports.models import TransactionDay
from tests.factories import PASSWORD, ChapterFactory, MembershipFactory


def at(text: str) -> datetime:
    """A UTC time written `2026-11-30 12:00`."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


class Books:
    """A chapter in `zone` with an organizer (Olga) and two members (Ann, Bob), read through the API."""

    def __init__(self, client, zone: str):
        self.chapter = ChapterFactory(timezone=zone)
        self.olga, self.ann, self.bob = (
            MembershipFactory(chapter=self.chapter, organizer=index == 0).member for index in range(3)
        )
        self.client = client
        self.token = create_token(self.olga, name="Spreadsheet", chapter_slug=self.chapter.slug)[1]

    def grant(self, member, amount: int, moment: datetime):
        with time_machine.travel(moment, tick=False):
            return organizing.grant(
                self.chapter, member_id=member.id, amount=amount, memo="Thanks", granted_by=self.olga
            )

    def ledger(self, **query) -> dict:
        answer = self.client.get(
            f"/api/v1/chapters/{self.chapter.slug}/ledger",
            query_string={"per_page": 100, **query},
            headers={"Authorization": f"Bearer {self.token}"},
        )
        assert answer.status_code == 200, answer.json
        return answer.json

    def total(self, first: str | None = None, last: str | None = None) -> int:
        """The API's total, checked against the transactions it lists (all on one page here)."""
        query = {} if first is None else {"from": first, "to": last or first}
        answer = self.ledger(**query)
        assert answer["total"] == len(answer["items"])
        return answer["total"]

    def kept_days(self) -> dict[date, int]:
        return dict(
            db.session.execute(
                select(TransactionDay.day, TransactionDay.transactions).where(
                    TransactionDay.chapter_id == self.chapter.id, TransactionDay.transactions > 0
                )
            ).all()
        )


@pytest.fixture
def verify(app):
    runner = app.test_cli_runner()

    def run(*, exit_code: int = 0) -> str:
        result = runner.invoke(args=["reports", "verify"])
        assert result.exit_code == exit_code, result.output
        return result.output

    return run


def test_every_kind_of_posting_counts_once_on_its_day(client, verify):
    books = Books(client, "UTC")
    books.grant(books.ann, 10, at("2026-11-02 09:00"))
    granted = books.grant(books.bob, 4, at("2026-11-02 15:00"))
    books.grant(books.ann, -3, at("2026-11-03 09:00"))  # an organizer takes credits back
    with time_machine.travel(at("2026-11-03 10:00"), tick=False):
        needs.post_need(books.chapter, books.ann, title="A printer", details="Two hundred flyers.")  # an ask
    with time_machine.travel(at("2026-11-04 10:00"), tick=False):
        organizing.reverse(granted, memo="Granted twice by mistake", caused_by=books.olga)

    assert books.kept_days() == {date(2026, 11, 2): 2, date(2026, 11, 3): 2, date(2026, 11, 4): 1}
    assert books.total() == 5
    assert books.total("2026-11-03") == 2
    assert books.total("2026-11-03", "2026-11-04") == 3
    assert books.total("2026-11-05", "2026-11-30") == 0
    assert transactions.differences(db.session.connection()) == []
    verify()


def test_a_repeated_or_refused_posting_counts_nothing(client):
    books = Books(client, "UTC")
    moment = at("2026-11-02 09:00")
    for _ in range(2):  # the same event under its key: recorded once
        with time_machine.travel(moment, tick=False):
            posting.post(
                books.chapter,
                key="test-grant:once",
                kind=Kind.GRANT,
                memo="Starting credits",
                caused_by=books.olga,
                entries=[(posting.POOL, -5), (books.ann, 5)],
            )
    with pytest.raises(organizing.CannotTakeBack):  # below zero: refused, nothing written
        books.grant(books.ann, -6, moment)
    assert books.kept_days() == {date(2026, 11, 2): 1}
    assert books.total() == 1


def test_the_period_filter_counts_on_the_chapter_s_days_across_local_midnight(client, verify):
    honolulu = Books(client, "Pacific/Honolulu")  # UTC−10: local midnight is 10:00 UTC
    honolulu.grant(honolulu.ann, 5, at("2026-12-01 09:59"))  # 23:59 on 30 November locally
    honolulu.grant(honolulu.bob, 5, at("2026-12-01 10:00"))  # 00:00 on 1 December locally
    honolulu.grant(honolulu.bob, 1, at("2026-12-02 09:59"))  # 23:59 on 1 December locally

    assert honolulu.kept_days() == {date(2026, 11, 30): 1, date(2026, 12, 1): 2}
    assert honolulu.total("2026-11-30") == 1
    assert honolulu.total("2026-12-01") == 2
    assert honolulu.total("2026-11-30", "2026-12-01") == 3
    assert honolulu.total("2026-12-02") == 0
    assert honolulu.total() == 3
    verify()


def test_a_zone_change_refiles_the_counted_days(client, verify):
    books = Books(client, "UTC")
    books.grant(books.ann, 5, at("2026-11-30 12:00"))
    books.grant(books.bob, 5, at("2026-11-30 09:00"))
    assert books.kept_days() == {date(2026, 11, 30): 2}

    change_settings(books.chapter, changed_by=books.olga, timezone="Pacific/Auckland")
    # 12:00 UTC is 01:00 on 1 December in Auckland; 09:00 UTC is still 22:00 on 30 November.
    assert books.kept_days() == {date(2026, 11, 30): 1, date(2026, 12, 1): 1}
    assert (books.total("2026-11-30"), books.total("2026-12-01")) == (1, 1)
    verify()


def test_erasing_a_member_keeps_the_count_exact(client, verify):
    books = Books(client, "UTC")
    books.grant(books.ann, 5, at("2026-11-02 09:00"))
    books.grant(books.bob, 5, at("2026-11-02 10:00"))
    erasure.erase(books.ann, password=PASSWORD)
    db.session.flush()
    # The ledger is append-only: the erased member's transactions stay, counted, under "Former member".
    assert books.kept_days() == {date(2026, 11, 2): 2}
    assert books.total() == 2
    verify()


def test_verify_catches_a_kept_count_that_differs(client, verify):
    books = Books(client, "UTC")
    books.grant(books.ann, 5, at("2026-11-02 09:00"))
    books.grant(books.bob, 5, at("2026-11-03 09:00"))
    db.session.execute(
        update(TransactionDay)
        .where(TransactionDay.chapter_id == books.chapter.id, TransactionDay.day == date(2026, 11, 2))
        .values(transactions=TransactionDay.transactions + 1)
    )
    output = verify(exit_code=1)
    assert (
        f"report_transaction_days (chapter_id {books.chapter.id}, day 2026-11-02): "
        "transactions is 2, the sources say 1"
    ) in output
    assert "2026-11-03" not in output

    transactions.rebuild(db.session.connection())
    assert books.kept_days() == {date(2026, 11, 2): 1, date(2026, 11, 3): 1}
    verify()
