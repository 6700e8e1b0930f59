"""The newcomer's journey through the web pages, from registering to finding a fellow member."""

from referral_hub.accounts.services import find_by_email
from referral_hub.chapters.models import Membership, MembershipStatus
from referral_hub.extensions import db
from tests.conftest import Browser, link_in, mail_to
from tests.factories import ChapterFactory, MemberFactory, MembershipFactory


def test_newcomer_registers_verifies_logs_in_joins_edits_profile_and_finds_a_member(app, browser):
    chapter = ChapterFactory(name="Riverside Professionals", slug="riverside")
    organizer = MembershipFactory(chapter=chapter, organizer=True).member
    dentist = MembershipFactory(
        chapter=chapter,
        member=MemberFactory(
            display_name="Dina Dentist", headline="Smiles", expertise="Orthodontics, implants"
        ),
    ).member

    # Register: the page says to check the email (as it would for a taken address); nobody is logged in.
    response = browser.post(
        "/register",
        {"display_name": "Nora Newcomer", "email": "Nora@Example.org", "password": "a long passphrase"},
    )
    assert response.status_code == 200 and "Check your email" in response.get_data(as_text=True)
    assert browser.get("/dashboard").status_code == 302

    # An unverified account can log in.
    browser.login("nora@example.org", "a long passphrase")
    assert "Verify your email address" in browser.get("/dashboard").get_data(as_text=True)

    # Verify from the outbox link: GET only shows a button, the POST verifies.
    verify_path = link_in(mail_to("Nora@Example.org")[-1], "/verify/")
    assert "Verify my address</button>" in browser.get(verify_path).get_data(as_text=True)
    assert not find_by_email("nora@example.org").is_verified
    assert browser.post(verify_path).status_code == 302
    newcomer = find_by_email("nora@example.org")
    db.session.refresh(newcomer)
    assert newcomer.is_verified

    # Log out and in again.
    browser.post("/logout", form_page="/dashboard")
    browser.login("nora@example.org", "a long passphrase")

    # The organizer invites the newcomer; the newcomer joins from the emailed link.
    organizer_browser = Browser(app.test_client())
    organizer_browser.login(organizer.email)
    invited = organizer_browser.post(
        "/chapters/riverside/invitations",
        {"email": "nora@example.org"},
        form_page="/chapters/riverside/organize",
    )
    assert invited.status_code == 302
    join_path = link_in(mail_to("nora@example.org")[-1], "/join/")
    join_page = browser.get(join_path).get_data(as_text=True)
    assert (
        "Riverside Professionals" in join_page
        and "Join Riverside Professionals as Nora Newcomer" in join_page
    )
    response = browser.post(join_path)
    assert response.status_code == 302 and response.headers["Location"] == "/chapters/riverside/"
    membership = db.session.scalar(db.select(Membership).filter_by(chapter=chapter, member=newcomer))
    assert membership.status is MembershipStatus.ACTIVE

    # Edit the profile.
    profile = {
        "display_name": "Nora Newcomer",
        "headline": "I plan weddings people remember",
        "expertise": "weddings, corporate events",
        "ideal_referral": "Couples newly engaged",
    }
    assert browser.post("/profile", profile).status_code == 302

    # Find a member by a word of their expertise, in any case, and open their profile.
    directory = browser.get("/chapters/riverside/members?q=ORTHODONTIC").get_data(as_text=True)
    assert "Dina Dentist" in directory and organizer.display_name not in directory
    assert f'href="/members/{dentist.id}"' in directory
    assert "Orthodontics, implants" in browser.get(f"/members/{dentist.id}").get_data(as_text=True)

    # And the organizer finds the newcomer by a word of the new profile.
    found = organizer_browser.get("/chapters/riverside/members?q=wedding").get_data(as_text=True)
    assert "Nora Newcomer" in found and "I plan weddings people remember" in found
