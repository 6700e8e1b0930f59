"""The base of every form: Flask-WTF's, with WTForms' own messages read from disk once per language."""

from functools import cache

from babel.support import Translations
from flask_babel import get_locale
from flask_wtf import FlaskForm
from wtforms.i18n import messages_path


class _WTFormsMessages:
    """WTForms' messages ("Not a valid choice.") in the page's language, chosen when one is shown.

    Flask-WTF's own reads the catalog from disk again in every request that shows one (~1.5 ms).
    """

    def gettext(self, string: str) -> str:
        return _catalog(str(get_locale())).ugettext(string)

    def ngettext(self, singular: str, plural: str, number: int) -> str:
        return _catalog(str(get_locale())).ungettext(singular, plural, number)


_MESSAGES = _WTFormsMessages()


@cache
def _catalog(language: str) -> Translations:
    return Translations.load(messages_path(), [language], domain="wtforms")


class Form(FlaskForm):
    class Meta:
        def get_translations(self, form) -> _WTFormsMessages:
            return _MESSAGES
