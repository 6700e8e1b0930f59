"""Why an introduction, an answer or an email link was refused."""

from ..errors import Conflict, DomainError, NotFound
from ..i18n import lazy_gettext as _l
from ..tokens import LinkError


class IntroRefused(DomainError):
    """A rule of introductions refused this one; each raise says which."""

    code = "introduction_refused"


class NeedUnknown(NotFound):
    """The need an introduction would answer is not one of the member's chapters'."""

    message = _l("There is no such need in your chapters: check the link, or introduce without one.")


class NeedNotOpen(IntroRefused):
    """The need is fulfilled or closed."""

    status = 422
    message = _l("That need is no longer open, so an introduction cannot answer it.")


class IntroClosed(Conflict):
    """An answer came after the introduction completed, was declined or was cancelled."""

    message = _l("This introduction is no longer waiting for answers.")


class AlreadyAnswered(Conflict):
    """A party answered a second time."""

    message = _l("You have already answered this introduction.")


class IntroExpired(Conflict):
    """An answer came after the introduction's expiry."""

    message = _l("This introduction expired before both people answered.")


class LinkNotYours(LinkError):
    """A signed-in member opened the other party's link."""

    status = 403
    title = _l("This link is for the other person")
    message = _l(
        "This link was sent to the other person in this introduction, and only they can answer with it. "
        "Your own link is in the email we sent you."
    )


class LinkClosed(LinkError):
    """The introduction was declined, expired or cancelled before this party answered."""

    status = 410
    title = _l("This introduction is closed")
    message = _l(
        "This introduction did not go ahead, so there is nothing left to answer. "
        "No contact details were shared."
    )
