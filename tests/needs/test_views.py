"""Needs pages through the test client: membership, the post form, escaping, closing."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from referral_hub.extensions import db
from referral_hub.ledger import posting
from referral_hub.ledger.models import Kind
from referral_hub.needs.models import Need, NeedStatus
from tests.factories import ChapterFactory, MemberFactory, MembershipFactory, NeedFactory


@pytest.fixture
def member(browser):
    membership = MembershipFactory()
    browser.login(membership.member.email)
    return membership


def fund(membership, amount=10):
    posting.post(
        membership.chapter,
        key=f"test-fund:{membership.id}",
        kind=Kind.GRANT,
        memo="test",
        caused_by=None,
        entries=[(posting.POOL, -amount), (membership.member, amount)],
    )


def test_the_board_of_another_chapter_is_not_found(browser, member):
    other = ChapterFactory()
    need = NeedFactory(chapter=other)
    assert browser.get(f"/chapters/{other.slug}/").status_code == 404
    assert browser.get(f"/needs/{need.id}").status_code == 404
    assert browser.get(f"/chapters/{other.slug}/needs/new").status_code == 404


def test_the_board_shows_each_needs_asker_day_and_state_but_not_its_details(browser, member):
    asked = datetime(2026, 3, 2, 12, tzinfo=UTC)
    common = {"chapter": member.chapter, "created_at": asked, "expires_at": asked + timedelta(days=30)}
    NeedFactory(**common, asker=MemberFactory(display_name="Olga Open"), title="An open need")
    NeedFactory(
        **common,
        asker=MemberFactory(display_name="Fred Fulfilled"),
        title="A fulfilled need",
        status=NeedStatus.FULFILLED,
        closed_at=asked + timedelta(days=1),
        details="Only on the need's own page.",
    )
    board = browser.get(f"/chapters/{member.chapter.slug}/?status=any").get_data(as_text=True)
    assert "Asked by Olga Open on Mar 2, 2026 · open until Apr 1, 2026" in board
    assert "Asked by Fred Fulfilled on Mar 2, 2026 · fulfilled" in board
    assert "Only on the need" not in board


def test_an_empty_board_says_how_to_give_first(browser, member):
    page = browser.get(f"/chapters/{member.chapter.slug}/").get_data(as_text=True)
    assert "No open needs yet" in page and "make an introduction" in page


def test_posting_without_credits_explains_how_to_earn_them_and_posts_nothing(browser, member):
    response = browser.post(
        f"/chapters/{member.chapter.slug}/needs/new", {"title": "A caterer", "details": "For forty people."}
    )
    assert response.status_code == 422
    assert "introduc" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Need)) == 0


@pytest.mark.parametrize(
    ("title", "details"), [("", "Some details"), ("x" * 121, "Some details"), ("Fine", "")]
)
def test_an_empty_or_over_long_field_re_renders_the_form(browser, member, title, details):
    fund(member)
    response = browser.post(
        f"/chapters/{member.chapter.slug}/needs/new", {"title": title, "details": details}
    )
    assert response.status_code == 422
    assert db.session.scalar(select(func.count()).select_from(Need)) == 0


def test_a_posted_need_shows_member_text_escaped(browser, member):
    fund(member)
    response = browser.post(
        f"/chapters/{member.chapter.slug}/needs/new",
        {"title": "<script>alert(1)</script>", "details": "<img src=x onerror=alert(1)>"},
    )
    assert response.status_code == 302
    page = browser.get(response.location).get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<img src=x" not in page
    board = browser.get(f"/chapters/{member.chapter.slug}/").get_data(as_text=True)
    assert "&lt;script&gt;" in board


def test_the_asker_marks_a_need_fulfilled_and_others_cannot(browser, member, client):
    need = NeedFactory(chapter=member.chapter, asker=member.member)
    response = browser.post(f"/needs/{need.id}/fulfil", form_page=f"/needs/{need.id}")
    assert response.status_code == 302
    db.session.refresh(need)
    assert need.status is NeedStatus.FULFILLED

    other_need = NeedFactory(chapter=member.chapter)
    page = browser.get(f"/needs/{other_need.id}").get_data(as_text=True)
    assert "Introduce someone" in page and "Mark fulfilled" not in page
    browser.post(f"/needs/{other_need.id}/close", {"confirm": "yes"}, form_page=f"/needs/{other_need.id}")
    db.session.refresh(other_need)
    assert other_need.status is NeedStatus.OPEN


def test_closing_a_need_asks_first_and_acts_only_on_confirm(browser, member):
    need = NeedFactory(chapter=member.chapter, asker=member.member, title="A caterer for 40")
    path = f"/needs/{need.id}/close"
    asked = browser.post(path, form_page=f"/needs/{need.id}")
    assert asked.status_code == 200 and "Close “A caterer for 40”?" in asked.get_data(as_text=True)
    db.session.refresh(need)
    assert need.status is NeedStatus.OPEN
    assert browser.post(path, {"confirm": "no"}, form_page=f"/needs/{need.id}").status_code == 200
    db.session.refresh(need)
    assert need.status is NeedStatus.OPEN, "only confirm=yes acts"
    assert browser.post(path, {"confirm": "yes"}, form_page=f"/needs/{need.id}").status_code == 302
    db.session.refresh(need)
    assert need.status is NeedStatus.CLOSED
