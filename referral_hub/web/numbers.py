"""Decimals and percentages on pages and in emails, written as the page's language writes them."""

from copy import copy
from decimal import Decimal

from babel.numbers import format_decimal, format_percent
from flask import Flask
from flask_babel import get_locale


def decimal(number: int | float | Decimal, places: int | None = None) -> str:
    """`{{ x|decimal }}`: "1.5" in English, "1,5" in Spanish (up to three places); `x|decimal(2)`: two."""
    locale = get_locale()
    if places is None:
        return format_decimal(number, locale=locale)
    # The locale's own pattern (separators, grouping), with exactly `places` digits after the separator:
    # a copy, as Babel shares the locale's pattern with every other caller.
    pattern = copy(locale.decimal_formats[None])
    pattern.frac_prec = (places, places)
    return pattern.apply(number, locale)


def percent(share: float | Decimal) -> str:
    """`{{ 0.5|percent }}`: "50%" in English, "50 %" in Spanish (whole percent)."""
    return format_percent(share, locale=get_locale())


def init_app(app: Flask) -> None:
    app.add_template_filter(decimal)
    app.add_template_filter(percent)
