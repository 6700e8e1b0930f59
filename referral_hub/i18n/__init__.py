"""Languages, time zones and amounts: Flask-Babel set up once, and the formats pages and emails share."""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from functools import cache
from zoneinfo import available_timezones

from babel.numbers import parse_pattern
from flask import Flask, g
from flask_babel import (
    Babel,
    format_date,
    format_datetime,
    format_decimal,
    format_time,
    get_locale,
    gettext,
    refresh,
)

# The languages the product ships, by their code, each named in itself (for a language picker).
LANGUAGES = {"en": "English", "es": "Español"}
DEFAULT_LANGUAGE = "en"

babel = Babel()


@cache
def time_zones() -> tuple[str, ...]:
    """Every IANA zone name this installation knows, sorted (the forms' lists and their check)."""
    return tuple(sorted(available_timezones() - {"localtime"}))


def not_a_time_zone(zone: str) -> str:
    """The one message for a zone name that is not in `time_zones()`."""
    return gettext("%(zone)s is not a time zone: choose one such as Europe/Madrid.", zone=zone or '""')


def init_app(app: Flask, *, locale: Callable[[], str | None], timezone: Callable[[], str | None]) -> None:
    """Set Flask-Babel up with the web layer's choice of language and zone for a request.

    `speaking()` overrides both while an email is rendered for someone else.
    """
    babel.init_app(
        app,
        default_locale=DEFAULT_LANGUAGE,
        default_timezone="UTC",
        locale_selector=lambda: g.get("speaking_language") or locale() or DEFAULT_LANGUAGE,
        timezone_selector=lambda: g.get("speaking_timezone") or timezone() or "UTC",
    )
    # `{% trans %}` blocks are written over several lines; their whitespace is not part of the message.
    app.jinja_env.policies["ext.i18n.trimmed"] = True
    for name, function in (("date", format_date), ("datetime", format_datetime), ("time", format_time)):
        app.add_template_filter(function, name)
    app.add_template_filter(money)
    app.jinja_env.globals["current_language"] = lambda: str(get_locale())


def money(amount: int | Decimal | None, currency: str | None = None) -> str:
    """`{{ amount|money(chapter.currency) }}`: "€1,500" in English, "1.500 €" in Spanish; else a number."""
    if amount is None:
        return ""
    if not currency:
        return format_decimal(amount)
    # The locale's own currency pattern (symbol before or after, separators), in whole units.
    locale = get_locale()
    pattern = parse_pattern(locale.currency_formats["standard"])
    pattern.frac_prec = (0, 0)
    return pattern.apply(amount, locale, currency=currency, currency_digits=False)


@contextmanager
def speaking(language: str | None, timezone: str | None) -> Iterator[None]:
    """Render in someone's language and zone (an email to them), whatever the request's own are."""
    saved = g.get("speaking_language"), g.get("speaking_timezone")
    g.speaking_language, g.speaking_timezone = language, timezone
    refresh()
    try:
        yield
    finally:
        g.speaking_language, g.speaking_timezone = saved
        refresh()
