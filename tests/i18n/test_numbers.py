"""Decimals and percentages on pages follow the page's language (Babel), never Python's formatting."""

import re

import pytest
from flask_babel import force_locale, get_locale
from sqlalchemy import select

from referral_hub.accounts.models import Member
from referral_hub.extensions import db
from referral_hub.i18n import decimal, money, percent
from tests.reports.conftest import riverside  # noqa: F401 - a fixture, found by name

FIGURE = re.compile(r"<dt>([^<]*)</dt><dd>([^<]*)</dd>")
GIVE_RATIO = re.compile(r'data-label="(?:Give ratio|Proporción de dar)">([^<]*)<')


def test_decimals_and_percentages_take_the_locale(app):
    with app.test_request_context():
        assert (decimal(1.5), decimal(0.25, 2), decimal(24, 1), decimal(12345)) == (
            "1.5",
            "0.25",
            "24.0",
            "12,345",
        )
        assert (percent(0.5), percent(1), percent(0.125)) == ("50%", "100%", "12%")
        with force_locale("es"):
            assert (decimal(1.5), decimal(0.25, 2), decimal(24, 1), decimal(12345)) == (
                "1,5",
                "0,25",
                "24,0",
                "12.345",
            )
            assert (percent(0.5), percent(1)) == ("50\u00a0%", "100\u00a0%")


def test_fixed_places_leave_the_locale_s_own_pattern_alone(app):
    with app.test_request_context(), force_locale("es"):
        decimal(2, 2)
        assert decimal(2) == "2" and decimal(2.5) == "2,5" and money(1500) == "1.500"
        shared = get_locale().currency_formats["standard"]
        before = shared.frac_prec
        assert money(1500, "EUR") == "1.500\u00a0€"  # whole units
        assert shared.frac_prec == before


@pytest.mark.usefixtures("riverside")
@pytest.mark.parametrize(
    "language, accepted, median, ratios, ticks",
    [
        ("en", ("Accepted", "100%"), ("Median hours to complete", "24.0"), ["0.25", "0.50", "1.00"], "2.5"),
        (
            "es",
            ("Aceptadas", "100\u00a0%"),
            ("Mediana de horas hasta completarse", "24,0"),
            ["0,25", "0,50", "1,00"],
            "2,5",
        ),
    ],
)
def test_the_organizer_s_figures_are_written_in_the_page_s_language(
    browser, client, language, accepted, median, ratios, ticks
):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = language
    browser.login("olga@example.org")
    overview = browser.get("/chapters/riverside/organize").get_data(as_text=True)
    figures = FIGURE.findall(overview)
    assert accepted in figures and median in figures
    assert f">{ticks}</text>" in overview, "the chart's gridline labels"
    members = browser.get("/chapters/riverside/organize/members").get_data(as_text=True)
    assert set(ratios) <= set(GIVE_RATIO.findall(members))


@pytest.mark.usefixtures("riverside")
def test_the_strength_thresholds_on_a_profile_are_written_in_the_page_s_language(browser, client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "es"
    browser.login("ann@example.org")
    bob = db.session.scalar(select(Member).where(Member.email == "bob@example.org"))
    profile = browser.get(f"/members/{bob.id}").get_data(as_text=True)
    assert "fuerte desde 5, cálida desde 1,5, apagándose desde 0,25" in " ".join(profile.split())
