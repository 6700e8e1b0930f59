"""Emails speak the recipient's language: a member who chose Spanish gets Spanish, others stay English."""

from datetime import timedelta

import pytest
from babel.dates import format_date

from referral_hub.chapters import services as chapters
from referral_hub.clock import utcnow
from referral_hub.introductions import making
from referral_hub.introductions.outcomes import send_outcome_prompts
from referral_hub.relationships import connector_requests, connectors, digest, interactions
from tests.conftest import mail_to
from tests.factories import (
    ChapterFactory,
    ConsentFactory,
    IntroductionFactory,
    MemberFactory,
    MembershipFactory,
)
from tests.relationships.conftest import ANN_AND_BOB_NOTE, ASK_NOTE, give, interact


@pytest.fixture
def chapter():
    return ChapterFactory(name="Riverside")


def member(chapter, name: str, language: str | None):
    person = MemberFactory(display_name=name, email=f"{name.lower()}@example.org", language=language)
    MembershipFactory(chapter=chapter, member=person)
    return person


def only_mail(person, template: str):
    [message] = [m for m in mail_to(person.email) if m.template == template]
    return message


def both_parts(message) -> str:
    return f"{message.subject}\n{message.body_text}\n{message.body_html}"


@pytest.mark.parametrize(
    ("language", "expected", "not_expected"),
    [
        ("es", ["te invita a unirte a Riverside", "El enlace funciona una vez"], ["invites you", "Hello"]),
        (None, ["invites you to join Riverside", "The link works once"], ["te invita", "Hola"]),
    ],
)
def test_an_invitation_to_a_member_is_in_their_language(app, chapter, language, expected, not_expected):
    organizer = member(chapter, "Olga", None)
    invited = MemberFactory(display_name="Inés", email="ines@example.org", language=language)
    chapters.invite(chapter, email=invited.email, invited_by=organizer)
    text = both_parts(only_mail(invited, "invitation"))
    assert all(words in text for words in expected), text
    assert not any(words in text for words in not_expected), text


def test_the_weekly_digest_is_in_the_members_language(app, chapter):
    ana, bob = member(chapter, "Ana", "es"), member(chapter, "Bob", None)
    dan = member(chapter, "Dan", None)
    making.introduce(dan, first_id=ana.id, second_id=bob.id, note=ANN_AND_BOB_NOTE)
    assert digest.send_digest(ana) and digest.send_digest(bob)
    spanish, english = both_parts(only_mail(ana, "digest")), both_parts(only_mail(bob, "digest"))
    assert "Tu semana en Referral Hub: 1 te espera" in spanish
    assert "Dan quiere presentarte a Bob" in spanish and "Hola, Ana:" in spanish
    assert "would like" not in spanish and "Your dashboard" not in spanish
    assert "Your week in Referral Hub: 1 waiting for you" in english
    assert "Dan would like to introduce you to Ana" in english and "quiere" not in english


def test_an_outcome_prompt_is_in_each_partys_language(app, chapter):
    ana, bob = member(chapter, "Ana", "es"), member(chapter, "Bob", "en")
    intro = IntroductionFactory(
        completed=True, chapter=chapter, first=ana, second=bob, completed_at=utcnow() - timedelta(days=15)
    )
    for party in intro.parties:
        ConsentFactory(introduction=intro, member=party)
    assert send_outcome_prompts(utcnow()) == 2
    spanish, english = only_mail(ana, "outcome_prompt"), only_mail(bob, "outcome_prompt")
    assert spanish.subject == "¿Qué salió de conocer a Bob?"
    assert (
        "Cuéntanos qué salió de ello" in spanish.body_html
        and "Solo lo preguntamos una vez." in spanish.body_text
    )
    assert "What came of it" not in both_parts(spanish)
    assert english.subject == "What came of meeting Ana?"
    assert "We ask only once." in english.body_text


def test_a_thank_you_note_is_in_the_recipients_language_and_the_chapters_when_they_chose_none(app):
    spanish_chapter = ChapterFactory(name="Valencia", language="es")
    ana, bob = member(spanish_chapter, "Ana", None), member(spanish_chapter, "Bob", "en")
    cleo = member(spanish_chapter, "Cleo", None)
    intro = IntroductionFactory(
        completed=True, chapter=spanish_chapter, first=ana, second=bob, introducer=cleo
    )
    interactions.send_thanks(ana, cleo.id, note="¡Gracias por presentarme a Bob!", introduction_id=intro.id)
    interactions.send_thanks(cleo, bob.id, note="Thanks for meeting Ana.")
    to_cleo, to_bob = only_mail(cleo, "thanks_note"), only_mail(bob, "thanks_note")
    assert to_cleo.subject == "Ana te envió una nota de agradecimiento"
    assert (
        "por la presentación de Ana y Bob" in to_cleo.body_text
        and "Ver el perfil de Ana" in to_cleo.body_html
    )
    assert to_bob.subject == "Cleo sent you a thank-you note"
    assert "See Cleo's profile" in to_bob.body_text


def test_a_connector_request_and_its_decline_are_in_each_members_language(app, chapter):
    ana, tom, eva = member(chapter, "Ana", "es"), member(chapter, "Tom", None), member(chapter, "Eva", "es")
    interact(eva, ana)
    interact(eva, tom)
    give(chapter, ana, 1)
    request = connectors.ask(ana, connector_id=eva.id, target_id=tom.id, note=ASK_NOTE)
    asked = only_mail(eva, "intro_request_to_connector")
    assert asked.subject == "Ana te pide que le presentes a Tom"
    until = format_date(request.expires_at, "long", locale="es")
    assert f"La solicitud sigue abierta hasta el {until}." in asked.body_text and " de 20" in until
    connector_requests.decline(request, eva)
    declined = only_mail(ana, "intro_request_declined")
    assert declined.subject == "Eva no pudo presentarte a Tom"
    assert "Tu 1 crédito ha vuelto a tu cuenta de Riverside." in declined.body_text
