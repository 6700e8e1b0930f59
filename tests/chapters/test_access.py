"""Who sees what: a chapter's pages exist only for its members, organizer actions only for organizers."""

import pytest
from sqlalchemy import select

from referral_hub.chapters.models import Invitation, Membership, MembershipStatus, Role
from referral_hub.extensions import db
from tests.factories import ChapterFactory, MemberFactory, MembershipFactory

PAGES = ["/chapters/riverside/", "/chapters/riverside/members", "/chapters/riverside/organize"]
ORGANIZER_POSTS = ["invitations", "members/{target}/approve", "members/{target}/decline"] + [
    "members/{target}/promote",
    "members/{target}/remove",
]


@pytest.fixture
def riverside():
    chapter = ChapterFactory(name="Riverside", slug="riverside")
    organizer = MembershipFactory(chapter=chapter, organizer=True, member__email="org@example.org")
    member = MembershipFactory(chapter=chapter, member__email="member@example.org")
    pending = MembershipFactory(chapter=chapter, pending=True)
    return chapter, organizer, member, pending


def memberships_snapshot(chapter) -> list[tuple]:
    db.session.expire_all()
    rows = db.session.scalars(select(Membership).filter_by(chapter_id=chapter.id).order_by(Membership.id))
    return [(m.member_id, m.status, m.role) for m in rows]


def post_action(browser, path: str):
    return browser.post(path, {"email": "guest@example.org", "confirm": "yes"}, form_page="/dashboard")


@pytest.mark.parametrize("path", PAGES)
def test_a_visitor_is_sent_to_log_in(client, riverside, path):
    response = client.get(path)
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


@pytest.mark.parametrize("path", PAGES)
def test_chapter_pages_are_404_to_a_logged_in_non_member(browser, riverside, path):
    MembershipFactory(member__email="outsider@example.org")
    browser.login("outsider@example.org")
    response = browser.get(path)
    assert response.status_code == 404
    assert "Riverside" not in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "status", [MembershipStatus.PENDING, MembershipStatus.REMOVED, MembershipStatus.LEFT]
)
@pytest.mark.parametrize("path", PAGES)
def test_chapter_pages_are_404_to_a_former_or_pending_member(browser, riverside, status, path):
    chapter = riverside[0]
    MembershipFactory(chapter=chapter, status=status, member__email="almost@example.org")
    browser.login("almost@example.org")
    assert browser.get(path).status_code == 404


@pytest.mark.parametrize("action", ORGANIZER_POSTS + ["leave"])
def test_chapter_actions_are_404_to_a_logged_in_non_member(browser, riverside, action):
    chapter, _, member, _ = riverside
    before = memberships_snapshot(chapter)
    MemberFactory(email="outsider@example.org")
    browser.login("outsider@example.org")
    response = post_action(browser, f"/chapters/riverside/{action.format(target=member.member_id)}")
    assert response.status_code == 404
    assert memberships_snapshot(chapter) == before
    assert db.session.scalar(select(Invitation)) is None


def test_the_organize_page_is_refused_to_a_plain_member(browser, riverside):
    browser.login("member@example.org")
    assert browser.get("/chapters/riverside/organize").status_code in (403, 404)


@pytest.mark.parametrize("action", ORGANIZER_POSTS)
def test_organizer_actions_are_refused_to_a_plain_member_and_change_nothing(browser, riverside, action):
    chapter, organizer, _, pending = riverside
    before = memberships_snapshot(chapter)
    browser.login("member@example.org")
    target = pending.member_id if action.endswith(("approve", "decline")) else organizer.member_id
    response = post_action(browser, f"/chapters/riverside/{action.format(target=target)}")
    assert response.status_code in (403, 404)
    assert memberships_snapshot(chapter) == before
    assert db.session.scalar(select(Invitation)) is None


def test_an_organizer_cannot_act_on_someone_outside_the_chapter(browser, riverside):
    outsider = MembershipFactory()
    browser.login("org@example.org")
    response = post_action(browser, f"/chapters/riverside/members/{outsider.member_id}/promote")
    assert response.status_code == 404
    db.session.refresh(outsider)
    assert outsider.role is Role.MEMBER


def test_an_unknown_organizer_action_is_404(browser, riverside):
    browser.login("org@example.org")
    member = riverside[2]
    assert post_action(browser, f"/chapters/riverside/members/{member.member_id}/explode").status_code == 404


def test_chapter_pages_are_404_for_a_chapter_that_does_not_exist(browser, riverside):
    browser.login("org@example.org")
    for path in ("/chapters/nowhere/", "/chapters/nowhere/members", "/chapters/nowhere/organize"):
        assert browser.get(path).status_code == 404


def test_a_member_profile_is_404_unless_you_share_a_chapter(browser, riverside):
    chapter, _, member, pending = riverside
    stranger = MembershipFactory().member
    browser.login("member@example.org")
    assert browser.get(f"/members/{member.member_id}").status_code == 200, "your own profile"
    neighbour = MembershipFactory(chapter=chapter).member
    assert browser.get(f"/members/{neighbour.id}").status_code == 200
    assert browser.get(f"/members/{stranger.id}").status_code == 404
    assert browser.get(f"/members/{pending.member_id}").status_code == 404
    assert browser.get("/members/999999").status_code == 404


def test_a_member_profile_becomes_404_when_the_shared_chapter_is_left(browser, riverside):
    chapter, organizer, member, _ = riverside
    browser.login("member@example.org")
    assert browser.get(f"/members/{organizer.member_id}").status_code == 200
    assert post_action(browser, "/chapters/riverside/leave").status_code == 302
    assert browser.get(f"/members/{organizer.member_id}").status_code == 404
    assert browser.get("/chapters/riverside/members").status_code == 404
