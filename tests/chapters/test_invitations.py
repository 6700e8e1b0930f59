"""Pending invitations: a personal message, resending (a new link; the old one stops) and cancelling."""

import pytest
from sqlalchemy import select

from referral_hub.chapters import services
from referral_hub.chapters.models import Invitation
from referral_hub.extensions import db
from tests.conftest import link_in, mail_to
from tests.factories import ChapterFactory, MemberFactory, MembershipFactory

INVITATIONS = "/chapters/riverside/organize/invitations"


@pytest.fixture
def chapter():
    chapter = ChapterFactory(name="Riverside", slug="riverside")
    MembershipFactory(chapter=chapter, organizer=True, member__email="org@example.org")
    return chapter


def invite(browser, email="guest@example.org", message=""):
    browser.login("org@example.org")
    response = browser.post(
        "/chapters/riverside/invitations", {"email": email, "message": message}, form_page=INVITATIONS
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    return db.session.scalar(
        select(Invitation).where(Invitation.email == email).order_by(Invitation.id.desc())
    )


def test_the_invite_form_is_at_the_top_of_its_section_and_one_click_from_the_overview(browser, chapter):
    browser.login("org@example.org")
    overview = browser.get("/chapters/riverside/organize").get_data(as_text=True)
    assert f'href="{INVITATIONS}#invite-heading"' in overview
    section = browser.get(INVITATIONS).get_data(as_text=True)
    assert section.index('id="invite-heading"') < section.index('id="pending-heading"')


def test_a_personal_message_travels_escaped_in_the_email_and_on_the_join_page(browser, client, chapter):
    message = "Dear Guest, <script>alert('x')</script> you & the bakers should meet."
    invite(browser, message=message)
    email = mail_to("guest@example.org")[-1]
    assert message in email.body_text
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; you &amp; the bakers" in email.body_html
    assert "<script>alert" not in email.body_html
    join_page = client.get(link_in(email, "/join/")).get_data(as_text=True)
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in join_page and "<script>alert" not in join_page


def test_a_message_longer_than_the_limit_is_refused_and_nothing_is_sent(browser, chapter):
    browser.login("org@example.org")
    response = browser.post(
        "/chapters/riverside/invitations",
        {"email": "guest@example.org", "message": "x" * (services.INVITATION_MESSAGE_LENGTH + 1)},
        form_page=INVITATIONS,
    )
    assert response.status_code == 422
    assert "Keep the message to 500 characters or fewer." in response.get_data(as_text=True)
    assert db.session.scalar(select(Invitation)) is None and mail_to("guest@example.org") == []


def test_the_service_refuses_a_long_message_too(chapter):
    with pytest.raises(services.DomainError, match="500 characters"):
        services.invite(chapter, email="a@example.org", invited_by=MemberFactory(), message="y" * 501)


def test_resending_mails_a_new_link_and_the_old_link_says_a_newer_one_was_sent(browser, client, chapter):
    first = invite(browser, message="See you Tuesday.")
    old_link = link_in(mail_to("guest@example.org")[-1], "/join/")
    response = browser.post(f"/chapters/riverside/invitations/{first.id}/resend", form_page=INVITATIONS)
    assert response.status_code == 302 and response.headers["Location"] == INVITATIONS
    emails = mail_to("guest@example.org")
    assert len(emails) == 2
    new_link = link_in(emails[-1], "/join/")
    assert new_link != old_link and "See you Tuesday." in emails[-1].body_text
    old_page = client.get(old_link)
    assert old_page.status_code == 410
    assert "A newer invitation was sent" in old_page.get_data(as_text=True)
    assert client.get(new_link).status_code == 200
    section = browser.get(INVITATIONS).get_data(as_text=True)
    assert section.count("guest@example.org</strong>") == 1, "only the latest invitation is listed"


def test_a_cancelled_invitation_link_shows_a_clear_page_and_joins_no_one(browser, client, chapter):
    invitation = invite(browser)
    link = link_in(mail_to("guest@example.org")[-1], "/join/")
    response = browser.post(
        f"/chapters/riverside/invitations/{invitation.id}/cancel", {"confirm": "yes"}, form_page=INVITATIONS
    )
    assert response.status_code == 302 and response.headers["Location"] == INVITATIONS
    assert "The invitation to guest@example.org is cancelled" in browser.get(INVITATIONS).get_data(
        as_text=True
    )
    page = client.get(link)
    assert page.status_code == 410
    assert "Invitation cancelled" in page.get_data(as_text=True)
    guest = MemberFactory(email="guest@example.org")
    db.session.expire_all()
    with pytest.raises(services.InvitationCancelled):
        services.accept_invitation(link.rsplit("/", 1)[1], guest)


def test_a_cancelled_invitation_cannot_be_resent_or_cancelled_again(browser, chapter):
    invitation = invite(browser)
    cancel = {"confirm": "yes"}
    browser.post(f"/chapters/riverside/invitations/{invitation.id}/cancel", cancel, form_page=INVITATIONS)
    for action in ("resend", "cancel"):
        browser.post(
            f"/chapters/riverside/invitations/{invitation.id}/{action}", cancel, form_page=INVITATIONS
        )
        page = browser.get(INVITATIONS).get_data(as_text=True)
        assert "was accepted or cancelled already" in page, action
    assert len(mail_to("guest@example.org")) == 1


def test_an_invitation_of_another_chapter_is_not_found(browser, chapter):
    other = ChapterFactory()
    stranger = services.invite(other, email="x@example.org", invited_by=MemberFactory())
    browser.login("org@example.org")
    response = browser.post(f"/chapters/riverside/invitations/{stranger.id}/cancel", form_page=INVITATIONS)
    assert response.status_code == 404
    db.session.refresh(stranger)
    assert stranger.cancelled_at is None


def test_cancelling_asks_first_and_changes_nothing_until_confirmed(browser, client, chapter):
    invitation = invite(browser)
    link = link_in(mail_to("guest@example.org")[-1], "/join/")
    response = browser.post(f"/chapters/riverside/invitations/{invitation.id}/cancel", form_page=INVITATIONS)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Cancel the invitation to guest@example.org?" in page
    assert "Its link stops working at once" in page
    assert '<input type="hidden" name="confirm" value="yes">' in page
    assert f'action="/chapters/riverside/invitations/{invitation.id}/cancel"' in page
    assert f'href="{INVITATIONS}"' in page, "the way back is the invitations section"
    db.session.refresh(invitation)
    assert invitation.cancelled_at is None
    assert client.get(link).status_code == 200, "the link still works"

    browser.post(
        f"/chapters/riverside/invitations/{invitation.id}/cancel", {"confirm": "yes"}, form_page=INVITATIONS
    )
    db.session.refresh(invitation)
    assert invitation.cancelled_at is not None
    again = invite(browser)
    assert again.id != invitation.id and again.cancelled_at is None, "the address may be invited again"
