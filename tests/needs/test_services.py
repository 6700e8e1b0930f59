"""Need rules: posting costs credits, the board, closing, expiry."""

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from referral_hub.chapters.models import MembershipStatus
from referral_hub.chapters.policy import policy_for
from referral_hub.clock import utcnow
from referral_hub.errors import Forbidden
from referral_hub.extensions import db
from referral_hub.ledger import posting, queries
from referral_hub.ledger.models import Kind
from referral_hub.needs import services
from referral_hub.needs.models import Need, NeedStatus
from tests.factories import ChapterFactory, MembershipFactory, NeedFactory


def grant(chapter, member, amount):
    posting.post(
        chapter,
        key=f"test-grant:{member.id}:{amount}:{utcnow().timestamp()}",
        kind=Kind.GRANT,
        memo="test grant",
        caused_by=None,
        entries=[(posting.POOL, -amount), (member, amount)],
    )


@pytest.fixture
def membership():
    return MembershipFactory()


def test_posting_a_need_costs_the_policy_credits(membership):
    chapter, asker = membership.chapter, membership.member
    grant(chapter, asker, 5)
    need = services.post_need(chapter, asker, title="A caterer for 40", details="Office party in June.")
    assert need.status is NeedStatus.OPEN
    assert need.expires_at - need.created_at == timedelta(days=30)
    assert queries.balance(chapter, asker) == 5 - policy_for(chapter).need_cost


def test_without_enough_credits_nothing_is_posted_and_the_message_says_how_to_earn(membership):
    chapter, asker = membership.chapter, membership.member
    with pytest.raises(posting.InsufficientCredits, match="introduc"):
        services.post_need(chapter, asker, title="A caterer", details="Office party.")
    assert db.session.scalar(select(func.count()).select_from(Need)) == 0
    assert queries.balance(chapter, asker) == 0


def test_an_expiry_date_in_the_past_is_refused(membership):
    chapter, asker = membership.chapter, membership.member
    grant(chapter, asker, 5)
    with pytest.raises(services.DomainError, match="future"):
        services.post_need(chapter, asker, title="x", details="y", expires_on=date(2000, 1, 1))


def test_the_board_lists_open_needs_newest_first_and_searches(membership):
    chapter = membership.chapter
    old = NeedFactory(chapter=chapter, title="Old plumbing job", created_at=utcnow() - timedelta(days=2))
    new = NeedFactory(chapter=chapter, title="New accounting question")
    NeedFactory(title="Another chapter's need")
    assert [n.id for n in services.board(chapter).items] == [new.id, old.id]
    assert [n.id for n in services.board(chapter, query="PLUMB").items] == [old.id]
    assert services.board(chapter, query="100%_").items == []


def test_open_needs_are_the_member_s_own_and_others_in_their_chapters_each_newest_first_and_capped(
    membership, count_queries
):
    chapter, member = membership.chapter, membership.member
    elsewhere = MembershipFactory(member=member).chapter
    left = MembershipFactory(member=member, status=MembershipStatus.LEFT).chapter
    minutes = iter(range(100))

    def need(**fields):
        return NeedFactory(created_at=utcnow() - timedelta(minutes=next(minutes)), **fields)

    own = [need(chapter=chapter, asker=member), need(chapter=elsewhere, asker=member)]
    need(chapter=chapter, asker=member, status=NeedStatus.FULFILLED, closed_at=utcnow())
    others = [need(chapter=elsewhere), need(chapter=chapter), need(chapter=chapter)]
    need(chapter=left)  # a chapter the member left
    need(chapter=chapter, status=NeedStatus.CLOSED, closed_at=utcnow())
    need()  # a chapter the member is not in
    with count_queries() as log:
        found = services.open_needs(member)
    assert log.count == 1
    assert ([n.id for n in found.own], [n.id for n in found.others]) == (
        [n.id for n in own],
        [n.id for n in others],
    )
    capped = services.open_needs(member, own=1, others=2)
    assert ([n.id for n in capped.own], [n.id for n in capped.others]) == (
        [own[0].id],
        [others[0].id, others[1].id],
    )


def test_the_board_pages_through_many_needs(membership):
    for n in range(services.BOARD_PAGE_SIZE + 3):
        NeedFactory(chapter=membership.chapter, created_at=utcnow() - timedelta(minutes=n))
    first, second = services.board(membership.chapter), services.board(membership.chapter, page=2)
    assert len(first.items) == services.BOARD_PAGE_SIZE and first.has_next and not first.has_prev
    assert len(second.items) == 3 and second.has_prev and not second.has_next
    assert not {n.id for n in first.items} & {n.id for n in second.items}
    assert services.board(membership.chapter, page=3).items == []


def test_only_the_asker_closes_a_need_and_only_once(membership):
    need = NeedFactory(chapter=membership.chapter, asker=membership.member)
    other = MembershipFactory(chapter=membership.chapter).member
    with pytest.raises(Forbidden):
        services.close(need, other)
    services.mark_fulfilled(need, membership.member)
    assert need.status is NeedStatus.FULFILLED and need.closed_at is not None
    with pytest.raises(services.NeedClosed):
        services.close(need, membership.member)


def test_needs_past_their_expiry_are_expired(membership):
    past = NeedFactory(
        chapter=membership.chapter,
        created_at=utcnow() - timedelta(days=40),
        expires_at=utcnow() - timedelta(days=10),
    )
    current = NeedFactory(chapter=membership.chapter)
    assert services.expire_needs() == 1
    db.session.refresh(past)
    db.session.refresh(current)
    assert past.status is NeedStatus.EXPIRED and current.status is NeedStatus.OPEN


def test_a_need_is_not_found_for_a_non_member():
    need = NeedFactory(chapter=ChapterFactory())
    outsider = MembershipFactory().member
    with pytest.raises(services.NotFound):
        services.need_for(outsider, need.id)


def test_a_board_of_exactly_one_page_has_no_next_page_and_one_more_need_makes_one(membership):
    for n in range(services.BOARD_PAGE_SIZE):
        NeedFactory(chapter=membership.chapter, created_at=utcnow() - timedelta(minutes=n))
    full = services.board(membership.chapter)
    assert len(full.items) == services.BOARD_PAGE_SIZE and not full.has_next and full.total is None
    NeedFactory(chapter=membership.chapter, created_at=utcnow() - timedelta(days=1))
    assert services.board(membership.chapter).has_next
    last = services.board(membership.chapter, page=2)
    assert len(last.items) == 1 and last.has_prev and not last.has_next


def test_the_board_built_once_answers_each_chapter_and_filter_with_its_own_needs(membership, count_queries):
    other = MembershipFactory()
    ours = NeedFactory(
        chapter=membership.chapter, title="Ours", category="legal", created_at=utcnow() - timedelta(hours=1)
    )
    theirs = NeedFactory(chapter=other.chapter, title="Theirs", category="legal")
    closed = NeedFactory(
        chapter=membership.chapter, title="Ours, closed", status=NeedStatus.CLOSED, closed_at=utcnow()
    )
    assert [n.id for n in services.board(membership.chapter).items] == [ours.id]
    assert [n.id for n in services.board(other.chapter).items] == [theirs.id]
    assert [n.id for n in services.board(membership.chapter, status="closed").items] == [closed.id]
    assert [n.id for n in services.board(membership.chapter, status="any").items] == [closed.id, ours.id]
    assert [n.id for n in services.board(other.chapter, category="legal", query="the").items] == [theirs.id]
    assert services.board(membership.chapter, category="tax").items == []
    with count_queries() as log:
        services.board(membership.chapter, query="ours", category="legal")
    assert log.count == 1, "a page of the board is one query"
