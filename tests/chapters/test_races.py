"""Races between organizers: a chapter keeps at least one organizer whatever arrives at once."""

from functools import partial

from sqlalchemy import func, select

from referral_hub.chapters.models import Membership, MembershipStatus, Role
from referral_hub.extensions import db
from tests.accounts.conftest import race
from tests.conftest import Browser, csrf_from
from tests.factories import ChapterFactory, MembershipFactory


def organizers_of(chapter_id: int) -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(Membership)
        .where(
            Membership.chapter_id == chapter_id,
            Membership.status == MembershipStatus.ACTIVE,
            Membership.role == Role.ORGANIZER,
        )
    )


def two_organizers(app):
    chapter = ChapterFactory(slug="riverside")
    organizers = [MembershipFactory(chapter=chapter, organizer=True).member for _ in range(2)]
    chapter_id, ids, emails = chapter.id, [o.id for o in organizers], [o.email for o in organizers]
    # Commit and read nothing more here: on SQLite a read would pin this session to the old snapshot.
    db.session.commit()
    browsers = []
    for email in emails:
        browser = Browser(app.test_client())
        browser.login(email)
        browsers.append(browser)
    tokens = [csrf_from(browser.get("/dashboard").get_data(as_text=True)) for browser in browsers]
    return chapter_id, ids, browsers, tokens


def test_two_organizers_leaving_at_once_leave_one_organizer(app, committed):
    chapter_id, _, browsers, tokens = two_organizers(app)
    answers = race(
        *(
            partial(
                browser.client.post, "/chapters/riverside/leave", data={"csrf_token": token, "confirm": "yes"}
            )
            for browser, token in zip(browsers, tokens, strict=True)
        )
    )
    assert all(answer.status_code == 302 for answer in answers)
    assert organizers_of(chapter_id) == 1


def test_two_organizers_removing_each_other_at_once_leave_one_organizer(app, committed):
    chapter_id, (first, second), browsers, tokens = two_organizers(app)
    answers = race(
        partial(
            browsers[0].client.post,
            f"/chapters/riverside/members/{second}/remove",
            data={"csrf_token": tokens[0], "confirm": "yes"},
        ),
        partial(
            browsers[1].client.post,
            f"/chapters/riverside/members/{first}/remove",
            data={"csrf_token": tokens[1], "confirm": "yes"},
        ),
    )
    assert all(answer.status_code in (302, 403, 404) for answer in answers)
    assert organizers_of(chapter_id) == 1


def test_a_double_submitted_join_request_makes_one_pending_membership(app, committed):
    chapter = ChapterFactory(slug="harbour")
    member = MembershipFactory(chapter=ChapterFactory()).member  # verified, but not in "harbour"
    chapter_id, email = chapter.id, member.email
    db.session.commit()
    browser = Browser(app.test_client())
    browser.login(email)
    token = csrf_from(browser.get("/dashboard").get_data(as_text=True))
    submit = partial(browser.client.post, "/chapters/join", data={"slug": "harbour", "csrf_token": token})
    answers = race(submit, submit, submit)
    assert [answer.status_code for answer in answers] == [302, 302, 302]
    pending = db.session.scalar(
        select(func.count())
        .select_from(Membership)
        .where(Membership.chapter_id == chapter_id, Membership.status == MembershipStatus.PENDING)
    )
    assert pending == 1
