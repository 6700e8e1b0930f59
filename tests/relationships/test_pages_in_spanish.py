"""Relationship pages in Spanish: a browser that asks for Spanish gets every word, date and label in it."""

from datetime import timedelta

from referral_hub.clock import utcnow
from referral_hub.relationships.models import InteractionKind
from tests.conftest import Browser

from .conftest import ASK_NOTE, give, interact

SPANISH = {"Accept-Language": "es"}


def test_a_profile_and_a_connector_request_read_in_spanish(client, chapter, member_of):
    ann, tom, dan = member_of("Ann"), member_of("Tom"), member_of("Dan")
    interact(ann, dan, InteractionKind.ONE_TO_ONE, at=utcnow() - timedelta(days=3))
    interact(dan, tom, InteractionKind.ONE_TO_ONE, at=utcnow() - timedelta(days=3))
    give(chapter, ann, 1)
    browser = Browser(client)
    browser.login(ann.email)

    profile = browser.get(f"/members/{dan.id}", headers=SPANISH).get_data(as_text=True)
    assert "Cómo os conocéis" in profile and "una reunión individual" in profile
    assert "Registra una reunión individual con Dan" in profile and "¿Cuándo os reunisteis?" in profile
    assert "How you know each other" not in profile and "Log the one-to-one" not in profile

    asking = browser.get(f"/members/{tom.id}", headers=SPANISH).get_data(as_text=True)
    assert "Quién puede presentarte" in asking and "Pide a Dan que te presente" in asking
    response = browser.post(
        f"/members/{tom.id}/ask",
        {"connector_id": dan.id, "ask_note": ASK_NOTE},
        form_page=f"/members/{tom.id}",
        headers=SPANISH,
        follow_redirects=True,
    )
    page = response.get_data(as_text=True)
    assert "Hemos enviado tu solicitud a Dan por correo." in page
    assert "Ann quiere conocer a Tom" in page and "abierta" in page
    assert "would like to meet" not in page and "Waiting for" not in page
