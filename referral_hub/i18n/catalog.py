"""The message catalogs: extract the marked strings, update each language's .po, compile and check.

python -m referral_hub.i18n.catalog update     # after marking or changing strings
python -m referral_hub.i18n.catalog init fr    # a new language (then add it to LANGUAGES)
"""

import io
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

from . import DEFAULT_LANGUAGE, LANGUAGES

PACKAGE = Path(__file__).resolve().parent.parent
TEMPLATES = PACKAGE.parent / "templates"
TRANSLATIONS = PACKAGE / "translations"
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None, "lazy_ngettext": (1, 2)}
TEMPLATE_OPTIONS = {"trimmed": "true", "newstyle_gettext": "true"}


def extract() -> Catalog:
    """Every marked string in the package's Python and in the templates, as a template catalog."""
    catalog = Catalog(project="Referral Hub", charset="utf-8")
    sources = (
        (PACKAGE, [("translations/**", "ignore"), ("**.py", "python")], {}),
        (TEMPLATES, [("**.html", "jinja2"), ("**.txt", "jinja2")], {"**": TEMPLATE_OPTIONS}),
    )
    for root, methods, options in sources:
        for filename, lineno, message, comments, context in extract_from_dir(
            root, methods, options, keywords=KEYWORDS, strip_comment_tags=True
        ):
            location = (f"{root.name}/{filename}", lineno)
            catalog.add(message, None, [location], auto_comments=comments, context=context)
    return catalog


def po_path(language: str) -> Path:
    return TRANSLATIONS / language / "LC_MESSAGES" / "messages.po"


def read(language: str) -> Catalog:
    with po_path(language).open("rb") as file:
        return read_po(file, locale=language)


def compiled(catalog: Catalog) -> bytes:
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    return buffer.getvalue()


def write(language: str, catalog: Catalog) -> None:
    """The .po sorted and without line numbers (fewer merge conflicts), and its compiled .mo beside it."""
    path = po_path(language)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as file:
        write_po(file, catalog, width=100, sort_output=True, include_lineno=False, ignore_obsolete=True)
    path.with_suffix(".mo").write_bytes(compiled(read(language)))


def translated_languages() -> list[str]:
    return [language for language in LANGUAGES if language != DEFAULT_LANGUAGE]


def update() -> None:
    template = extract()
    for language in translated_languages():
        catalog = read(language)
        created = catalog.creation_date  # kept, so that an update changes only the messages
        catalog.update(template, no_fuzzy_matching=True)
        catalog.creation_date = created
        write(language, catalog)


def init(language: str) -> None:
    catalog = Catalog(locale=language, project="Referral Hub", charset="utf-8", fuzzy=False)
    catalog.update(extract(), no_fuzzy_matching=True)
    write(language, catalog)


def problems(language: str) -> list[str]:
    """What keeps a language from being complete: missing, untranslated or fuzzy messages, a stale .mo."""
    catalog = read(language)
    found = []
    for message in extract():
        if not message.id:
            continue
        entry = catalog.get(message.id, context=message.context)
        text = message.id if isinstance(message.id, str) else message.id[0]
        if entry is None:
            found.append(f"not in the catalog: {text!r}")
        elif entry.fuzzy or not all(entry.string if isinstance(entry.string, tuple) else [entry.string]):
            found.append(f"not translated: {text!r}")
    if po_path(language).with_suffix(".mo").read_bytes() != compiled(catalog):
        found.append("the .mo is older than the .po: run `python -m referral_hub.i18n.catalog update`")
    return found


def main(arguments: list[str]) -> int:
    match arguments:
        case ["update"]:
            update()
        case ["init", language]:
            init(language)
        case ["check"]:
            found = {language: problems(language) for language in translated_languages()}
            for language, messages in found.items():
                for message in messages:
                    print(f"{language}: {message}")
            return 1 if any(found.values()) else 0
        case _:
            print(__doc__)
            return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
