"""The base of every form: Flask-WTF's, WTForms' messages read once per language, our own widgets."""

from functools import cache

from babel.support import Translations
from flask import g
from flask_babel import get_locale
from flask_wtf import FlaskForm
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup, escape
from wtforms import widgets
from wtforms.i18n import messages_path
from wtforms.widgets.core import clean_key


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


def csrf_token() -> str:
    """`{{ csrf_token() }}`: Flask-WTF's token, signed once a request by its `generate_csrf`, then found in
    one look-up (`generate_csrf` reads its configuration again for every button of a page)."""
    try:
        return g.csrf_token
    except AttributeError:
        return generate_csrf()


_QUOTE, _ENTITY = Markup('"'), Markup("&quot;")


def attributes(**params) -> Markup:
    """An element's attributes as WTForms' `html_params` writes them (sorted, `True` bare, `False` left
    out), without its `Markup.format` for each: most of what drawing a form field costs."""
    written = []
    for name, value in sorted(params.items()):
        name = escape(clean_key(name))
        if value is True:
            written.append(name)
        elif value is not False:
            written.append(f'{name}="{escape(value).replace(_QUOTE, _ENTITY)}"')
    return Markup(" ".join(written))  # noqa: S704  # nosec B704: each name and value escaped above


class _Select(widgets.Select):
    """WTForms' select, its options' attributes written with `attributes` (a member picker has dozens)."""

    @classmethod
    def render_option(cls, choice, **kwargs) -> Markup:
        value = str(choice.value) if isinstance(choice.value, bool) else choice.value
        options = {"value": value, **(choice.render_kw or {}), **kwargs}
        if choice.selected:
            options["selected"] = True
        label = escape(choice.label or choice.value)
        return Markup(f"<option {attributes(**options)}>{label}</option>")  # noqa: S704  # nosec B704: escaped


# WTForms' inputs and select, each as a widget of our own that writes its attributes with `attributes`.
_WIDGETS = {
    stock: type(stock.__name__, (stock,), {"html_params": staticmethod(attributes)})()
    for stock in (
        widgets.TextInput,
        widgets.EmailInput,
        widgets.PasswordInput,
        widgets.URLInput,
        widgets.HiddenInput,
        widgets.FileInput,
        widgets.DateInput,
        widgets.NumberInput,
    )
} | {widgets.Select: _Select()}


class Form(FlaskForm):
    """Every form of ours: WTForms' messages from `_MESSAGES`, its inputs and selects drawn by `_WIDGETS`."""

    class Meta:
        def get_translations(self, form) -> _WTFormsMessages:
            return _MESSAGES

        def bind_field(self, form, unbound_field, options):
            field = super().bind_field(form, unbound_field, options)
            ours = _WIDGETS.get(type(field.widget))
            if ours is not None and vars(ours) == vars(field.widget):  # not one set up otherwise
                field.widget = ours
            return field
