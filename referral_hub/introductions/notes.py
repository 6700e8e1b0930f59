"""What makes an introducer's note personal: long enough, not canned, not reused."""

import hashlib
import re
import unicodedata

from ..errors import DomainError
from ..i18n import gettext as _
from ..i18n import lazy_gettext as _l

MIN_LENGTH = 40
MAX_LENGTH = 2000

# Phrases that say nothing about why these two people should meet (normalised: see `normalise`).
CANNED_PHRASES = (
    "i d like to add you to my professional network",
    "i would like to add you to my professional network",
    "i d like to add you to my network",
    "i would like to add you to my network",
    "i d like to connect with you",
    "i would like to connect with you",
    "i d like to introduce you to each other",
    "i would like to introduce you to each other",
    "i think you two should meet",
    "you two should connect",
    "you should connect",
    "you should meet",
    "please connect",
    "let s connect",
    "happy to introduce you",
    "i thought you might like to meet",
    "would like to add you as a friend",
    "you ve got a friend request",
    "hope you are well",
    "hope this helps",
)
# After the canned phrases are taken out, a note must still say this much in its own words.
MIN_OWN_WORDS_LENGTH = 30

WHY_PERSONAL = _l(
    "A personal note is what makes an introduction work: say in your own words why these two "
    "should meet and what each can do for the other."
)


def used_before() -> str:
    return _("You have used this note before. %(why)s", why=WHY_PERSONAL)


class NoteRefused(DomainError):
    code = "note_refused"


def normalise(note: str) -> str:
    """Letters and digits of any script, case-folded, words separated by single spaces."""
    return " ".join(re.sub(r"[\W_]+", " ", unicodedata.normalize("NFKC", note).casefold()).split())


def fingerprint(note: str) -> str:
    return hashlib.sha256(normalise(note).encode()).hexdigest()


def check(note: str) -> str:
    """The note, trimmed, or NoteRefused saying why it is not personal enough."""
    note = note.strip()
    if len(note) < MIN_LENGTH:
        raise NoteRefused(_("Write at least %(n)d characters. %(why)s", n=MIN_LENGTH, why=WHY_PERSONAL))
    if len(note) > MAX_LENGTH:
        raise NoteRefused(
            _(
                "Keep the note under %(n)d characters: the reason they should meet, not an essay.",
                n=MAX_LENGTH,
            )
        )
    own_words = f" {normalise(note)} "
    for phrase in CANNED_PHRASES:
        own_words = own_words.replace(f" {phrase} ", " ")
    if len(own_words.strip()) < MIN_OWN_WORDS_LENGTH:
        raise NoteRefused(_("That reads like a stock phrase. %(why)s", why=WHY_PERSONAL))
    return note
