"""Flask-WTF's and WTForms' own messages (a refused CSRF token, a field's default checks) come in the page's
language, like the application's own."""

from babel.support import Translations

from referral_hub.extensions import db
from referral_hub.relationships.models import Interaction
from referral_hub.web import forms
from tests.conftest import csrf_from
from tests.factories import ChapterFactory, MembershipFactory

SPANISH = {"Accept-Language": "es"}


def text_of(response) -> str:
    return " ".join(response.get_data(as_text=True).split())


def test_a_form_sent_without_its_csrf_token_is_refused_in_spanish(client):
    response = client.post("/login", data={"email": "ann@example.org", "password": "x"}, headers=SPANISH)
    page = text_of(response)
    assert response.status_code == 400
    assert "Falta el token CSRF. Vuelve a cargar la página y envía el formulario otra vez." in page
    assert "CSRF token is missing" not in page and "Reload the page" not in page


def test_a_forged_token_and_a_token_without_its_session_are_refused_in_spanish(app, client):
    token = csrf_from(client.get("/login").get_data(as_text=True))
    forged = client.post(
        "/login", data={"csrf_token": token + "x", "email": "a@example.org"}, headers=SPANISH
    )
    assert forged.status_code == 400 and "El token CSRF no es válido." in text_of(forged)
    # The session the token belongs to is gone (cookies cleared, or another browser).
    elsewhere = app.test_client().post("/login", data={"csrf_token": token}, headers=SPANISH)
    assert elsewhere.status_code == 400 and "Falta el token CSRF de la sesión." in text_of(elsewhere)


def test_english_pages_keep_flask_wtf_s_words_and_say_what_to_do(client):
    response = client.post("/login", data={"email": "ann@example.org"}, headers={"Accept-Language": "en"})
    assert response.status_code == 400
    assert "The CSRF token is missing. Reload the page and send the form again." in text_of(response)


def test_wtforms_own_checks_speak_spanish(browser):
    page = text_of(
        browser.post("/register", {"display_name": "", "email": "", "password": ""}, headers=SPANISH)
    )
    assert page.count("Este campo es obligatorio.") == 3 and "This field is required" not in page

    chapter = ChapterFactory()
    ana, ben = (MembershipFactory(chapter=chapter).member for _ in range(2))
    browser.login(ana.email)
    profile = f"/members/{ben.id}"
    response = browser.post(f"{profile}/one-to-ones", {"met_on": "ayer"}, form_page=profile, headers=SPANISH)
    page = text_of(response)
    assert response.status_code in (200, 422) and "No es una fecha válida." in page
    assert "Not a valid date value" not in page
    assert db.session.scalar(db.select(db.func.count(Interaction.id))) == 0, "nothing written"


def test_wtforms_catalog_is_read_from_disk_once_per_language(browser, monkeypatch):
    forms._catalog.cache_clear()
    loads = []
    load = Translations.load

    def counted_load(*args, **kwargs):
        loads.append(kwargs.get("domain"))
        return load(*args, **kwargs)

    monkeypatch.setattr(Translations, "load", counted_load)
    required = {"es": "Este campo es obligatorio.", "en": "This field is required."}
    for language in ("es", "en", "es", "en"):
        empty = {"display_name": "", "email": "", "password": ""}
        page = text_of(browser.post("/register", empty, headers={"Accept-Language": language}))
        assert page.count(required[language]) == 3
    assert loads.count("wtforms") == 2
