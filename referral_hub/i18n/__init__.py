"""Languages, time zones and amounts: Flask-Babel set up once, and the formats pages and emails share."""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from copy import copy
from datetime import UTC, datetime
from datetime import date as Date
from decimal import Decimal
from functools import cache, lru_cache
from zoneinfo import ZoneInfo, available_timezones

from babel import dates
from babel.numbers import format_percent
from babel.support import Translations
from flask import Flask, g, has_app_context
from flask_babel import Babel, format_decimal, get_locale, get_timezone, get_translations, refresh
from flask_babel.speaklater import LazyString
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup

# The languages the product ships, by their code, each named in itself (for a language picker).
LANGUAGES = {"en": "English", "es": "Español"}
DEFAULT_LANGUAGE = "en"

babel = Babel()


@cache
def time_zones() -> tuple[str, ...]:
    """Every IANA zone name this installation knows, sorted (the forms' lists and their check)."""
    return tuple(sorted(available_timezones() - {"localtime"}))


@cache
def time_zone_list() -> Markup:
    """The `<datalist id="time-zones">` that zone fields suggest from: ~600 names, written once."""
    options = Markup("").join(Markup('<option value="{}">').format(zone) for zone in time_zones())
    return Markup('<datalist id="time-zones">{}</datalist>').format(options)


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
    # A page's messages (dozens a page) are looked up in the page's translations, read once a page (or
    # once an email, inside `speaking`) and found through the template's context. Flask-Babel installs
    # Jinja's newstyle callables, which look the language up again for each message through Jinja's
    # wrappers (and `_` finds `gettext` through the context once more); these answer as they do.
    app.jinja_env.newstyle_gettext = True
    app.jinja_env.globals.update(_=_page_message, gettext=_page_message, ngettext=_page_plural_message)
    app.add_template_filter(date)
    app.add_template_filter(datetime_, "datetime")
    for number_filter in (money, decimal, percent):
        app.add_template_filter(number_filter)
    app.jinja_env.globals["current_language"] = lambda: str(get_locale())
    app.jinja_env.globals["time_zone_list"] = time_zone_list


def gettext(string: str, **variables) -> str:
    """Flask-Babel's `gettext`, looked up in the page's translations (read once a page, `_translations`)
    rather than found again through Flask-Babel's context for each message."""
    translated = _translations().ugettext(string) if has_app_context() else string
    return translated % variables if variables else translated


def ngettext(singular: str, plural: str, num: int, **variables) -> str:
    """Flask-Babel's `ngettext` (`num` among the variables), in the page's translations."""
    variables.setdefault("num", num)
    if has_app_context():
        translated = _translations().ungettext(singular, plural, num)
    else:
        translated = singular if num == 1 else plural
    return translated % variables


def lazy_gettext(string: str, **variables) -> LazyString:
    """Flask-Babel's `lazy_gettext` (a model's labels, a form's words), translated by `gettext` when
    shown. Untranslated outside an app (a module's constant looked at on import), as Flask-Babel's."""
    return LazyString(gettext, string, **variables)


def _translations() -> Translations:
    try:
        return g.page_translations
    except AttributeError:
        g.page_translations = get_translations()
        return g.page_translations


def _rendered(context: Context) -> Translations:
    """The page's translations (`_translations`) through the `g` Flask puts in a page's context, which
    is the request's own object: Flask's `g` proxy finds it again for each of a page's dozens of messages.
    (A macro imported without the page's context finds Flask's proxy there instead, and still answers.)"""
    try:
        return context.get("g", g).page_translations
    except AttributeError:
        return _translations()


@pass_context
def _page_message(context: Context, string: str, **variables) -> str:
    """A template's `_()`, as Jinja's newstyle gettext answers it: the message is markup, its
    variables are escaped into it, and `%%` is a percent sign (formatted only when it may differ)."""
    translated = _as_markup(context, _rendered(context).ugettext(string))
    return translated % variables if variables or "%" in translated else translated


@pass_context
def _page_plural_message(context: Context, singular: str, plural: str, number: int, **variables) -> str:
    """A template's `ngettext()`, as Jinja's newstyle ngettext answers it (`num` among the variables)."""
    variables.setdefault("num", number)
    return _as_markup(context, _rendered(context).ungettext(singular, plural, number)) % variables


def _as_markup(context: Context, translated: str) -> str:
    """A message as markup where the template escapes (its variables are then escaped into it)."""
    if context.eval_ctx.autoescape:
        return Markup(translated)  # noqa: S704  # nosec B704: the catalog's own text, as Jinja trusts it
    return translated


def _locale_and_zone() -> tuple[str, ZoneInfo]:
    """The language and zone dates are shown in, chosen once per page (or email)."""
    try:
        return g.page_locale_and_zone
    except AttributeError:
        g.page_locale_and_zone = str(get_locale()), _zone(str(get_timezone()))
        return g.page_locale_and_zone


@cache
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def _local(moment: datetime, zone: ZoneInfo) -> datetime:
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(zone)


def date(value: Date | datetime | None, format: str = "medium") -> str:
    """`{{ x|date }}`, `{{ x|date('long') }}`: a day, or the local day of a moment, in the language."""
    if value is None:
        return ""
    locale, zone = _locale_and_zone()
    if isinstance(value, datetime):
        value = _local(value, zone).date()
    return _date(value, format, locale)


@lru_cache(maxsize=4096)
def _date(day: Date, format: str, locale: str) -> str:
    # Pages show the same few days many times over (a board's twenty needs posted this month).
    return dates.format_date(day, format, locale=locale)


def datetime_(moment: datetime | None, format: str = "medium") -> str:
    """`{{ x|datetime }}`: a moment in the page's zone and language."""
    if moment is None:
        return ""
    locale, zone = _locale_and_zone()
    return dates.format_datetime(_local(moment, zone), format, tzinfo=zone, locale=locale)


def money(amount: int | Decimal | None, currency: str | None = None) -> str:
    """`{{ amount|money(chapter.currency) }}`: "€1,500" in English, "1.500 €" in Spanish; else a number."""
    if amount is None:
        return ""
    if not currency:
        return format_decimal(amount)
    # The locale's own currency pattern (symbol before or after, separators), in whole units.
    locale = get_locale()
    return _with_places(locale.currency_formats["standard"], 0).apply(
        amount, locale, currency=currency, currency_digits=False
    )


def decimal(number: int | float | Decimal, places: int | None = None) -> str:
    """`{{ x|decimal }}`: "1.5" in English, "1,5" in Spanish (up to three places); `x|decimal(2)`: two."""
    if places is None:
        return format_decimal(number)
    locale = get_locale()
    return _with_places(locale.decimal_formats[None], places).apply(number, locale)


def percent(share: float | Decimal) -> str:
    """`{{ 0.5|percent }}`: "50%" in English, "50 %" in Spanish (whole percent)."""
    return format_percent(share, locale=get_locale())


def _with_places(pattern, places: int):
    """The locale's number pattern with exactly `places` digits after the separator: a copy, as Babel
    shares the locale's pattern with every other caller."""
    pattern = copy(pattern)
    pattern.frac_prec = (places, places)
    return pattern


@contextmanager
def speaking(language: str | None, timezone: str | None) -> Iterator[None]:
    """Render in someone's language and zone (an email to them), whatever the request's own are."""
    saved = g.get("speaking_language"), g.get("speaking_timezone")
    g.speaking_language, g.speaking_timezone = language, timezone
    forget_choices()
    try:
        yield
    finally:
        g.speaking_language, g.speaking_timezone = saved
        forget_choices()


def forget_choices() -> None:
    """After the language or zone changed mid-request (an email, a member's new choice): choose again."""
    refresh()
    g.pop("page_translations", None)
    g.pop("page_locale_and_zone", None)
