"""The pages an email links to (an introduction's answer, a guest's "never", an invitation, the digest's
unsubscribe) show the chapter's dates in its zone, and its language to a visitor who names none."""

import re
from datetime import UTC, datetime

import pytest

from referral_hub.chapters import services
from referral_hub.extensions import db
from referral_hub.introductions import making
from referral_hub.introductions.guests import GuestDetails
from referral_hub.relationships import digest
from tests.conftest import mail_to
from tests.factories import ChapterFactory, MembershipFactory

NOTE = "Ana caters weddings and Ben runs three harbour restaurants: they should plan a tasting together."
# 20:00 UTC on 10 December is 09:00 on 11 December in Auckland (UTC+13 in summer).
DUE = datetime(2026, 12, 10, 20, 0, tzinfo=UTC)
ENGLISH = {"Accept-Language": "en"}


@pytest.fixture
def auckland():
    """A Spanish-speaking chapter in Auckland: an introducer and two members."""
    chapter = ChapterFactory(name="Auckland", slug="auckland", language="es", timezone="Pacific/Auckland")
    introducer, ana, ben = (MembershipFactory(chapter=chapter).member for _ in range(3))
    return chapter, introducer, ana, ben


def link_to(address: str, path: str) -> str:
    """The one link whose path matches `path` (a regular expression) in the emails to `address`."""
    [link] = {
        link
        for message in mail_to(address)
        for link in re.findall(r"http://localhost(" + path + r"[^\s\"<]+)", message.body_text)
    }
    return link


def page(client, path: str, **kwargs) -> str:
    response = client.get(path, **kwargs)
    assert response.status_code == 200, response.status_code
    return " ".join(response.get_data(as_text=True).split())


def test_an_introduction_link_speaks_the_chapter_s_language_and_shows_its_day(client, auckland):
    chapter, introducer, ana, ben = auckland
    intro = making.introduce(introducer, first_id=ana.id, second_id=ben.id, note=NOTE)
    intro.expires_at = DUE
    db.session.flush()
    link = link_to(ana.email, "/i/(?!never/)")
    spanish = page(client, link)
    assert '<html lang="es">' in spanish and f"Una presentación para {ana.display_name}" in spanish
    assert "Responde antes del 11 de diciembre de 2026" in spanish
    english = page(client, link, headers=ENGLISH)
    assert '<html lang="en">' in english and "Answer before December 11, 2026" in english, "the browser first"


def test_a_guest_s_links_speak_the_chapter_s_language(client, auckland):
    chapter, introducer, ana, _ben = auckland
    making.introduce(
        introducer,
        first_id=ana.id,
        guest=GuestDetails(name="Gina", email="gina@example.org", about=""),
        note=NOTE,
    )
    answer = link_to("gina@example.org", "/i/(?!never/)")
    assert "Una presentación para Gina" in page(client, answer)
    never = link_to("gina@example.org", "/i/never/")
    assert "No me enviéis nunca presentaciones" in page(client, never)


def test_an_invitation_link_speaks_the_chapter_s_language_and_shows_its_expiry_day(client, auckland):
    chapter, introducer, _ana, _ben = auckland
    invitation = services.invite(chapter, email="new@example.org", invited_by=introducer)
    invitation.expires_at = DUE
    db.session.flush()
    link = link_to("new@example.org", "/join/")
    spanish = page(client, link)
    assert "Unirte a Auckland" in spanish and "caduca el 11 de diciembre de 2026" in spanish
    assert "expires on December 11, 2026" in page(client, link, headers=ENGLISH)


def test_the_digest_s_unsubscribe_page_speaks_the_reader_s_first_chapter_s_language(client, auckland):
    _chapter, _introducer, ana, _ben = auckland
    link = "/digest/unsubscribe/" + digest.unsubscribe_token(ana)
    assert "Resumen semanal" in page(client, link)
    response = client.post(link)
    assert response.status_code == 200 and "Resumen semanal" in response.get_data(as_text=True)
    assert "Weekly digest" in page(client, link, headers=ENGLISH)


def test_a_member_s_own_language_comes_first_on_their_links_as_in_their_emails(client, auckland):
    chapter, introducer, ana, ben = auckland
    ana.language = "en"  # Ana chose English in a Spanish-speaking chapter
    intro = making.introduce(introducer, first_id=ana.id, second_id=ben.id, note=NOTE)
    intro.expires_at = DUE
    db.session.flush()
    spanish_browser = {"Accept-Language": "es"}
    answer = page(client, link_to(ana.email, "/i/(?!never/)"), headers=spanish_browser)
    assert '<html lang="en">' in answer and "Answer before December 11, 2026" in answer
    unsubscribe = page(
        client, "/digest/unsubscribe/" + digest.unsubscribe_token(ana), headers=spanish_browser
    )
    assert "Weekly digest" in unsubscribe
    # Ben chose nothing: the browser, then the chapter, as before.
    assert '<html lang="es">' in page(client, link_to(ben.email, "/i/(?!never/)"))


def test_an_invitation_to_someone_with_an_account_speaks_their_own_language(client, auckland):
    chapter, introducer, _ana, _ben = auckland
    outsider = MembershipFactory(chapter=ChapterFactory()).member
    outsider.language = "en"
    services.invite(chapter, email=outsider.email, invited_by=introducer)
    db.session.flush()
    [message] = mail_to(outsider.email)
    assert "invites you to join Auckland" in message.subject  # in English, as the page below
    joining = page(client, link_to(outsider.email, "/join/"), headers={"Accept-Language": "es"})
    assert '<html lang="en">' in joining


def test_the_link_s_reader_s_language_comes_before_whoever_is_signed_in(browser, auckland):
    chapter, introducer, ana, ben = auckland
    ana.language, introducer.language = "en", "es"
    making.introduce(introducer, first_id=ana.id, second_id=ben.id, note=NOTE)
    db.session.flush()
    browser.login(introducer.email)  # Ana forwarded her link, or opens it on a shared computer
    response = browser.get(link_to(ana.email, "/i/(?!never/)"))
    assert '<html lang="en">' in response.get_data(as_text=True)
