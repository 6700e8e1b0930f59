"""Why an introduction, an answer or an email link was refused."""

from ..errors import Conflict, DomainError, NotFound
from ..tokens import LinkError


class IntroRefused(DomainError):
    code = "introduction_refused"


class NeedUnknown(NotFound):
    """There is no such need in your chapters: check the link, or introduce without one."""


class NeedNotOpen(IntroRefused):
    """That need is no longer open, so an introduction cannot answer it."""

    status = 422


class IntroClosed(Conflict):
    """This introduction is no longer waiting for answers."""


class AlreadyAnswered(Conflict):
    """You have already answered this introduction."""


class IntroExpired(Conflict):
    """This introduction expired before both people answered."""


class LinkNotYours(LinkError):
    status = 403
    title = "This link is for the other person"
    message = (
        "This link was sent to the other person in this introduction, and only they can answer with it. "
        "Your own link is in the email we sent you."
    )


class LinkClosed(LinkError):
    status = 410
    title = "This introduction is closed"
    message = (
        "This introduction did not go ahead, so there is nothing left to answer. "
        "No contact details were shared."
    )
