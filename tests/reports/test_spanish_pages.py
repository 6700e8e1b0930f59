"""Chapter, needs, ledger and report pages speak Spanish to a browser that asks for it."""

import re

import pytest

from referral_hub.extensions import db
from referral_hub.needs.models import Need

# Words of these pages' English that must not show in their Spanish (names, figures and codes aside).
ENGLISH = (
    "Overview",
    "Invite someone",
    "The last",
    "Members by status",
    "Dormant members",
    "Everyone in the chapter",
    "Former members",
    "Waiting for an answer",
    "Grant or take back credits",
    "Transactions",
    "Credit policy",
    "Save the policy",
    "API tokens",
    "Create a token",
    "Post a need",
    "Search needs",
    "Asked by",
    "Your credits",
    "History",
    "Your chapters",
    "introductions made for this need",
    "never",
)
MAIN = re.compile(r'<main id="main">(.*)</main>', re.DOTALL)


def main_text(response) -> str:
    assert response.status_code == 200, response.status_code
    html = response.get_data(as_text=True)
    assert '<html lang="es">' in html
    return MAIN.search(html).group(1)


@pytest.fixture
def spanish(browser, client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "es-ES,es;q=0.9"
    return browser


def test_the_pages_of_a_chapter_are_in_spanish(spanish, riverside):
    spanish.login("olga@example.org")
    need = db.session.scalar(db.select(Need).where(Need.chapter_id == riverside.chapter.id))
    pages = {
        "/chapters/riverside/organize": "Resumen",
        "/chapters/riverside/organize/members": "Miembros por estado",
        "/chapters/riverside/organize/invitations": "Invitar a alguien",
        "/chapters/riverside/ledger": "Asignar o retirar créditos",
        "/chapters/riverside/ledger/policy": "Política de créditos de Riverside",
        "/settings/tokens": "Crear un token",
        "/chapters/riverside/": "Publicar una necesidad",
        f"/needs/{need.id}": "Pedida por",
        "/ledger": "Tus créditos",
        "/dashboard": "Tus capítulos",
    }
    for path, spanish_text in pages.items():
        text = main_text(spanish.get(path))
        assert spanish_text in text, path
        assert [phrase for phrase in ENGLISH if phrase in text] == [], path


def test_dates_and_amounts_follow_the_language(spanish, riverside):
    spanish.login("olga@example.org")
    members = main_text(spanish.get("/chapters/riverside/organize/members"))
    # Babel's Spanish medium date: "3 mar 2025", not "Mar 3, 2025" nor the old "03 Mar 2025".
    assert re.search(r"\b\d{1,2} (ene|feb|mar|abr|may|jun|jul|ago|sept?|oct|nov|dic) \d{4}\b", members)
    assert not re.search(r"\b(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d", members)
