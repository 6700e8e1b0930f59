"""A page's language follows the browser until the member chooses; amounts follow the locale."""

from flask_babel import force_locale

from referral_hub.i18n import forget_choices, lazy_gettext, money, speaking


def test_the_browser_language_is_used_when_shipped(client):
    assert '<html lang="es">' in client.get("/login", headers={"Accept-Language": "es-ES,es;q=0.9"}).text
    assert '<html lang="en">' in client.get("/login", headers={"Accept-Language": "fr"}).text
    assert '<html lang="en">' in client.get("/login").text


def test_amounts_take_the_locale_and_the_currency(app):
    with app.test_request_context():
        assert money(1500, "EUR") == "€1,500"
        assert money(1500) == "1,500"
        assert money(None, "EUR") == ""
        with force_locale("es"):
            assert money(1500, "EUR") == "1.500\u00a0€"
            assert money(12500, "USD") == "12.500\u00a0US$"


def test_speaking_renders_in_another_language_and_zone_then_restores(app):
    from datetime import datetime

    from flask import render_template_string

    stamp = datetime(2026, 12, 3, 23, 30)
    page = "{{ _('Post a need') }}: {{ d|date }}, {{ d|datetime('short') }}"
    english = "Post a need: Dec 3, 2026, 12/3/26, 11:30\u202fPM"
    spanish = "Publicar una necesidad: 4 dic 2026"
    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert render_template_string(page, d=stamp) == english
        assert render_template_string("{{ d|date }}{{ d|datetime }}", d=None) == ""
        with speaking("es", "Pacific/Auckland"):
            assert render_template_string(page, d=stamp) == f"{spanish}, 4/12/26, 12:30"
        assert render_template_string(page, d=stamp) == english


def test_the_api_answers_in_english_whatever_the_browser_asks(client):
    answer = client.get("/api/v1/chapters", headers={"Accept-Language": "es"})
    assert answer.status_code == 401
    assert answer.json["error"]["message"].startswith("Send an API token")


def test_a_lazy_form_word_is_translated_when_shown_in_the_page_s_language_and_again_after_it_changes(app):
    label = lazy_gettext("Email address")
    assert str(label) == "Email address", "outside an app: as written"
    with app.test_request_context("/", headers={"Accept-Language": "es"}):
        forget_choices()  # the test's app context chose for no request
        assert str(label) == "Correo electrónico"
        with speaking("en", None):
            assert str(label) == "Email address"
        assert str(label) == "Correo electrónico"
