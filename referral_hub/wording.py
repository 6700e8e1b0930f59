"""How a number is written in a sentence, shared by the domain's messages, the pages and the commands."""

from .i18n import ngettext

# Each noun a number is written with, by its English plural: `%(num)d` in the reader's language.
NOUNS = {
    "accounts": lambda n: ngettext("%(num)d account", "%(num)d accounts", n),
    "chapters": lambda n: ngettext("%(num)d chapter", "%(num)d chapters", n),
    "credits": lambda n: ngettext("%(num)d credit", "%(num)d credits", n),
    "days": lambda n: ngettext("%(num)d day", "%(num)d days", n),
    "entries": lambda n: ngettext("%(num)d entry", "%(num)d entries", n),
    "hours": lambda n: ngettext("%(num)d hour", "%(num)d hours", n),
    "member accounts": lambda n: ngettext("%(num)d member account", "%(num)d member accounts", n),
    "minutes": lambda n: ngettext("%(num)d minute", "%(num)d minutes", n),
    "parties": lambda n: ngettext("%(num)d party", "%(num)d parties", n),
    "reversals": lambda n: ngettext("%(num)d reversal", "%(num)d reversals", n),
    "transactions": lambda n: ngettext("%(num)d transaction", "%(num)d transactions", n),
    "violations": lambda n: ngettext("%(num)d violation", "%(num)d violations", n),
}


def counted(count: int, plural: str) -> str:
    """`3 entries`, `1 entry`, `1 credit` (`1 crédito` in Spanish): a number with its noun."""
    return NOUNS[plural](count)
