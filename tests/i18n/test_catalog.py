"""Every marked string has its translation in each shipped language, and no template text is left unmarked."""

import re
from pathlib import Path

import pytest

from referral_hub.i18n import catalog

TEMPLATES = catalog.TEMPLATES
# Template folders whose strings are not marked yet; each is removed from here as it is done.
NOT_YET_MARKED = ()
# Words that are the same in every language: the product's name, acronyms, units.
UNTRANSLATED_WORDS = {
    *("Referral", "Hub", "API", "CSV", "JSON", "OpenAPI", "UTC", "TOTP", "QR", "PNG", "JPEG", "WebP", "MB"),
}

JINJA = re.compile(r"\{#.*?#\}|\{%-?\s*trans\b.*?\{%-?\s*endtrans\s*-?%\}|\{\{.*?\}\}|\{%.*?%\}", re.DOTALL)
# Not read by anyone: scripts, styles, comments, and the viewport's settings (`width=device-width`).
HIDDEN = re.compile(
    r"<(script|style)\b.*?</\1>|<!--.*?-->|<meta\s+name=\"viewport\"[^>]*>", re.DOTALL | re.IGNORECASE
)
READ_ATTRIBUTES = re.compile(r'\b(?:aria-label|title|placeholder|alt|content)\s*=\s*"([^"]*)"', re.IGNORECASE)
TAG = re.compile(r"<[^>]*>", re.DOTALL)
WORD = re.compile(r"[A-Za-z][A-Za-z']+")


def unmarked_words(source: str, *, html: bool) -> list[str]:
    """The words a reader would see that do not come from the catalog."""
    text = JINJA.sub(" ", source)
    if html:
        text = HIDDEN.sub(" ", text)
        shown = READ_ATTRIBUTES.findall(text)
        text = " ".join([TAG.sub(" ", text), *shown])
        text = re.sub(r"&[a-z]+;|&#\d+;", " ", text)
    return [word for word in WORD.findall(text) if word not in UNTRANSLATED_WORDS]


def templates() -> list[str]:
    names = (str(path.relative_to(TEMPLATES)) for path in TEMPLATES.rglob("*.*"))
    shown = (name for name in names if name.endswith((".html", ".txt")))
    return sorted(name for name in shown if not name.startswith(NOT_YET_MARKED))


@pytest.mark.parametrize("language", catalog.translated_languages())
def test_every_marked_string_is_translated(language):
    assert catalog.problems(language) == []


@pytest.mark.parametrize("name", templates())
def test_template_text_comes_from_the_catalog(name):
    source = (TEMPLATES / name).read_text()
    assert unmarked_words(source, html=name.endswith(".html")) == []


def test_the_check_finds_unmarked_text_and_passes_marked_text():
    unmarked = '<p title="Open it">{{ _("Hello") }} there</p>'
    assert unmarked_words(unmarked, html=True) == ["there", "Open", "it"]
    marked = "<p title=\"{{ _('Open') }}\">{% trans name=x %}Hi {{ name }}{% endtrans %}</p><style></style>"
    assert unmarked_words(marked, html=True) == []
    assert unmarked_words("Dear {{ name }},\n{{ _('Thanks') }}", html=False) == ["Dear"]


def test_a_stale_compiled_catalog_is_reported(tmp_path, monkeypatch):
    po = catalog.po_path("es")
    copy = tmp_path / "es" / "LC_MESSAGES"
    copy.mkdir(parents=True)
    (copy / "messages.po").write_bytes(po.read_bytes())
    (copy / "messages.mo").write_bytes(b"")
    monkeypatch.setattr(catalog, "TRANSLATIONS", Path(tmp_path))
    assert catalog.problems("es")[-1].startswith("the .mo is older than the .po")
