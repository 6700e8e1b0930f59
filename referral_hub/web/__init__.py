"""The web layer: blueprints, forms and pages over the domain core, one unit of work per request."""

from flask import Flask

from .. import i18n
from ..ledger.posting import credits
from . import errors, in_app_mail, locale, metrics, navigation, unit_of_work
from .accounts import data as _account_data  # noqa: F401 - its pages join the accounts blueprint
from .accounts import views as accounts
from .chapters import views as chapters
from .introductions import views as introductions
from .ledger import views as ledger
from .mail import views as mail
from .needs import views as needs
from .relationships import views as relationships
from .reports import tokens as api_tokens
from .reports import views as reports


def init_app(app: Flask) -> None:
    i18n.init_app(app, locale=locale.language, timezone=locale.timezone)
    locale.init_app(app)
    errors.init_app(app)
    for pages in (accounts, chapters, ledger, mail, needs, introductions, relationships, reports, api_tokens):
        pages.init_app(app)
    metrics.init_app(app)
    unit_of_work.init_app(app)
    in_app_mail.init_app(app)
    navigation.init_app(app)
    app.add_template_filter(credits)  # `{{ n|credits }}`: "1 credit", "3 credits"
