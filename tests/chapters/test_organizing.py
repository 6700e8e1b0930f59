"""Membership through the web pages: invitations and their links, requests, organizer actions."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from referral_hub.chapters.models import Invitation, Membership, MembershipStatus, Role
from referral_hub.clock import utcnow
from referral_hub.extensions import db
from tests.conftest import Browser, mail_to
from tests.factories import ChapterFactory, InvitationFactory, MemberFactory, MembershipFactory

ORGANIZE = "/chapters/riverside/organize"
MEMBERS = "/chapters/riverside/organize/members"
INVITATIONS = "/chapters/riverside/organize/invitations"


@pytest.fixture
def chapter():
    chapter = ChapterFactory(name="Riverside", slug="riverside")
    MembershipFactory(chapter=chapter, organizer=True, member__email="org@example.org")
    return chapter


def status_of(chapter, member_id: int) -> tuple[MembershipStatus, Role]:
    db.session.expire_all()
    membership = db.session.scalar(select(Membership).filter_by(chapter_id=chapter.id, member_id=member_id))
    return membership.status, membership.role


def test_an_organizer_invites_by_email_from_the_invitations_section(browser, chapter):
    browser.login("org@example.org")
    response = browser.post(
        "/chapters/riverside/invitations", {"email": "guest@example.org"}, form_page=INVITATIONS
    )
    assert response.status_code == 302 and response.headers["Location"] == INVITATIONS
    assert "/join/" in mail_to("guest@example.org")[0].body_text
    assert "guest@example.org</strong> (expires" in browser.get(INVITATIONS).get_data(as_text=True)


@pytest.mark.parametrize(
    ("email", "message"),
    [("", "This field is required."), ("not-an-address", "Enter a valid email address.")],
)
def test_an_invitation_to_a_bad_address_re_renders_with_its_message(browser, chapter, email, message):
    browser.login("org@example.org")
    response = browser.post("/chapters/riverside/invitations", {"email": email}, form_page=INVITATIONS)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(select(Invitation)) is None


def test_inviting_a_current_member_says_so(browser, chapter):
    MembershipFactory(chapter=chapter, member__email="member@example.org")
    browser.login("org@example.org")
    response = browser.post(
        "/chapters/riverside/invitations", {"email": "member@example.org"}, form_page=INVITATIONS
    )
    assert response.status_code == 422
    assert "member@example.org is already a member of Riverside." in response.get_data(as_text=True)


def test_the_join_link_shows_a_visitor_the_chapter_and_ways_in(client, chapter):
    InvitationFactory(chapter=chapter, secret="join-us")
    page = client.get("/join/join-us").get_data(as_text=True)
    assert "Join Riverside" in page
    assert 'href="/register?next=/join/join-us"' in page and 'href="/login?next=/join/join-us"' in page


def test_a_visitor_who_logs_in_from_the_join_link_comes_back_to_it(browser, chapter):
    member = MemberFactory()
    InvitationFactory(chapter=chapter, secret="join-us", email=member.email)
    response = browser.post(
        "/login?next=/join/join-us", {"email": member.email, "password": "correct horse battery"}
    )
    assert response.headers["Location"] == "/join/join-us"
    assert browser.post("/join/join-us").status_code == 302
    assert status_of(chapter, member.id) == (MembershipStatus.ACTIVE, Role.MEMBER)


def test_a_visitor_posting_the_join_form_is_sent_to_log_in_first(browser, chapter):
    invitation = InvitationFactory(chapter=chapter, secret="join-us")
    response = browser.post("/join/join-us", form_page="/login")
    assert response.status_code == 302 and response.headers["Location"] == "/login?next=/join/join-us"
    db.session.refresh(invitation)
    assert invitation.accepted_at is None


def test_join_link_get_changes_nothing(browser, chapter):
    invitation = InvitationFactory(chapter=chapter, secret="join-us")
    member = MemberFactory()
    browser.login(member.email)
    for _ in range(2):
        assert browser.get("/join/join-us").status_code == 200
    assert browser.client.head("/join/join-us").status_code == 200
    db.session.refresh(invitation)
    assert invitation.accepted_at is None
    assert db.session.scalar(select(Membership).filter_by(member_id=member.id)) is None


def test_an_unverified_member_is_told_to_verify_before_joining_by_invitation(browser, chapter):
    member = MemberFactory(unverified=True)
    invitation = InvitationFactory(chapter=chapter, secret="join-us", email=member.email)
    browser.login(member.email)
    page = browser.get("/join/join-us").get_data(as_text=True)
    assert "Verify your email address first" in page and "<button" not in page.split("<main")[1]
    response = browser.post("/join/join-us", form_page="/dashboard")
    assert response.status_code == 403
    assert "Verify your email address first" in response.get_data(as_text=True)
    db.session.refresh(invitation)
    assert invitation.accepted_at is None
    assert db.session.scalar(select(Membership).filter_by(member_id=member.id)) is None


@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize(
    ("state", "status", "title"),
    [
        ("unknown", 404, "Link not recognised"),
        ("expired", 410, "Link expired"),
        ("used", 410, "Link already used"),
    ],
)
def test_unusable_invitation_links_get_a_page_that_says_why(browser, chapter, method, state, status, title):
    if state == "expired":
        InvitationFactory(chapter=chapter, secret=state, expires_at=utcnow() - timedelta(seconds=1))
    elif state == "used":
        accepted_by = MembershipFactory(chapter=chapter).member
        InvitationFactory(chapter=chapter, secret=state, accepted_at=utcnow(), accepted_by_id=accepted_by.id)
    member = MemberFactory()
    browser.login(member.email)
    path = f"/join/{state}"
    response = browser.get(path) if method == "GET" else browser.post(path, form_page="/dashboard")
    assert response.status_code == status
    assert title in response.get_data(as_text=True)
    assert db.session.scalar(select(Membership).filter_by(member_id=member.id)) is None


def test_a_member_asks_to_join_and_an_organizer_approves(app, browser, chapter):
    asker = MemberFactory(email="asker@example.org", display_name="Ann Asker")
    browser.login("asker@example.org")
    response = browser.post("/chapters/join", {"slug": "riverside"}, form_page="/dashboard")
    assert response.status_code == 302
    dashboard = browser.get("/dashboard").get_data(as_text=True)
    assert "Your request to join Riverside is with its organizers." in dashboard
    assert "request waiting for an organizer" in dashboard
    assert status_of(chapter, asker.id)[0] is MembershipStatus.PENDING

    organizer = type(browser)(app.test_client())
    organizer.login("org@example.org")
    assert "1 request to join waits for you" in organizer.get(ORGANIZE).get_data(as_text=True)
    members_page = organizer.get(MEMBERS).get_data(as_text=True)
    assert "Ann Asker (asker@example.org)" in members_page
    organizer.post(f"/chapters/riverside/members/{asker.id}/approve", form_page=MEMBERS)
    assert status_of(chapter, asker.id) == (MembershipStatus.ACTIVE, Role.MEMBER)
    assert "Ann Asker is now a member." in organizer.get(MEMBERS).get_data(as_text=True)
    assert browser.get("/chapters/riverside/members").status_code == 200


def test_an_organizer_declines_a_request(browser, chapter):
    asker = MembershipFactory(chapter=chapter, pending=True).member
    browser.login("org@example.org")
    browser.post(f"/chapters/riverside/members/{asker.id}/decline", form_page=ORGANIZE)
    assert status_of(chapter, asker.id)[0] is MembershipStatus.DECLINED


def test_an_unverified_member_is_told_to_verify_before_asking_to_join(browser, chapter):
    member = MemberFactory(unverified=True)
    browser.login(member.email)
    browser.post("/chapters/join", {"slug": "riverside"}, form_page="/dashboard")
    assert "Verify your email address first" in browser.get("/dashboard").get_data(as_text=True)
    assert db.session.scalar(select(Membership).filter_by(member_id=member.id)) is None


def test_asking_to_join_with_an_unknown_code_says_so(browser, chapter):
    member = MemberFactory()
    browser.login(member.email)
    browser.post("/chapters/join", {"slug": "nowhere"}, form_page="/dashboard")
    assert "No chapter has the code" in browser.get("/dashboard").get_data(as_text=True)


def test_an_organizer_promotes_and_removes_members(browser, chapter):
    promoted = MembershipFactory(chapter=chapter).member
    removed = MembershipFactory(chapter=chapter).member
    browser.login("org@example.org")
    browser.post(f"/chapters/riverside/members/{promoted.id}/promote", form_page=ORGANIZE)
    browser.post(f"/chapters/riverside/members/{removed.id}/remove", {"confirm": "yes"}, form_page=ORGANIZE)
    assert status_of(chapter, promoted.id) == (MembershipStatus.ACTIVE, Role.ORGANIZER)
    assert status_of(chapter, removed.id)[0] is MembershipStatus.REMOVED
    page = browser.get(MEMBERS).get_data(as_text=True)
    assert "was removed; their history stays." in page
    assert removed.email not in page.split("Everyone in the chapter")[1], "a removed member leaves the roster"


def test_removing_asks_first_and_an_organizer_readmits_the_former_member(browser, chapter):
    removed = MembershipFactory(chapter=chapter, member__display_name="Rita Removed").member
    browser.login("org@example.org")
    path = f"/chapters/riverside/members/{removed.id}/remove"
    asked = browser.post(path, form_page=ORGANIZE)
    page = asked.get_data(as_text=True)
    assert asked.status_code == 200 and "Remove Rita Removed from Riverside?" in page and "re-admit" in page
    assert status_of(chapter, removed.id)[0] is MembershipStatus.ACTIVE
    browser.post(path, {"confirm": "yes"}, form_page=ORGANIZE)
    assert status_of(chapter, removed.id)[0] is MembershipStatus.REMOVED
    former = browser.get(MEMBERS).get_data(as_text=True).split('id="former-heading"')[1]
    assert "Rita Removed" in former and "Re-admit Rita Removed" in former
    browser.post(f"/chapters/riverside/members/{removed.id}/readmit", form_page=ORGANIZE)
    assert status_of(chapter, removed.id) == (MembershipStatus.ACTIVE, Role.MEMBER)
    assert "Rita Removed is a member again." in browser.get(MEMBERS).get_data(as_text=True)


def test_an_active_member_cannot_be_readmitted(browser, chapter):
    member = MembershipFactory(chapter=chapter).member
    browser.login("org@example.org")
    browser.post(f"/chapters/riverside/members/{member.id}/readmit", form_page=ORGANIZE)
    assert "Only a member who left or was removed" in browser.get(ORGANIZE).get_data(as_text=True)
    assert status_of(chapter, member.id) == (MembershipStatus.ACTIVE, Role.MEMBER)


def test_the_last_organizer_is_told_why_they_cannot_leave(browser, chapter):
    organizer_id = db.session.scalar(select(Membership.member_id).filter_by(chapter_id=chapter.id))
    browser.login("org@example.org")
    response = browser.post("/chapters/riverside/leave", {"confirm": "yes"}, form_page=ORGANIZE)
    assert response.status_code == 302
    follow = browser.get(response.headers["Location"]).get_data(as_text=True)
    assert "A chapter needs at least one organizer" in follow
    assert status_of(chapter, organizer_id) == (MembershipStatus.ACTIVE, Role.ORGANIZER)
    browser.post(f"/chapters/riverside/members/{organizer_id}/remove", {"confirm": "yes"}, form_page=ORGANIZE)
    assert status_of(chapter, organizer_id) == (MembershipStatus.ACTIVE, Role.ORGANIZER)


def test_a_member_leaves_a_chapter(browser, chapter):
    member = MembershipFactory(chapter=chapter, member__email="member@example.org").member
    browser.login("member@example.org")
    asked = browser.post("/chapters/riverside/leave", form_page="/dashboard")
    page = asked.get_data(as_text=True)
    assert asked.status_code == 200 and "Leave Riverside?" in page
    assert 'name="confirm" value="yes"' in page and 'action="/chapters/riverside/leave"' in page
    assert status_of(chapter, member.id)[0] is MembershipStatus.ACTIVE, "asking changes nothing"
    response = browser.post("/chapters/riverside/leave", {"confirm": "yes"}, form_page="/dashboard")
    assert response.status_code == 302 and response.headers["Location"] == "/dashboard"
    assert status_of(chapter, member.id)[0] is MembershipStatus.LEFT
    assert "You left Riverside." in browser.get("/dashboard").get_data(as_text=True)


def test_the_dashboard_lists_every_chapter_of_a_member(browser, chapter):
    member = MemberFactory(email="busy@example.org")
    MembershipFactory(chapter=chapter, member=member)
    MembershipFactory(chapter=ChapterFactory(name="Hillside", slug="hillside"), member=member, organizer=True)
    browser.login("busy@example.org")
    page = browser.get("/dashboard").get_data(as_text=True)
    assert 'href="/chapters/riverside/"' in page and 'href="/chapters/hillside/"' in page
    assert 'href="/chapters/hillside/organize"' in page and 'href="/chapters/riverside/organize"' not in page


def test_an_invitation_joins_only_its_invited_address_and_stays_usable_for_it(app, browser, chapter):
    invitee = MemberFactory(email="Invitee@Example.org")
    InvitationFactory(chapter=chapter, secret="join-us", email="invitee@example.ORG")
    holder = MemberFactory()  # a member of another chapter who got hold of the link
    browser.login(holder.email)
    page = browser.get("/join/join-us").get_data(as_text=True)
    assert "This invitation was sent to another email address" in page
    assert "<button" not in page.split("<main")[1]
    response = browser.post("/join/join-us", form_page="/dashboard")
    assert response.status_code == 403
    refusal = response.get_data(as_text=True)
    assert "This invitation was sent to another email address: log in with that address" in refusal
    assert db.session.scalar(select(Membership).filter_by(member_id=holder.id, chapter_id=chapter.id)) is None
    assert db.session.scalar(select(Invitation.accepted_at).filter_by(chapter_id=chapter.id)) is None

    # The invitee, whose address differs only in case, still joins with the same link.
    invitee_browser = Browser(app.test_client())
    invitee_browser.login(invitee.email)
    assert invitee_browser.post("/join/join-us", form_page="/dashboard").status_code == 302
    assert status_of(chapter, invitee.id) == (MembershipStatus.ACTIVE, Role.MEMBER)
