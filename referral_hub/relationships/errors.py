"""Why a relationship action or an ask for an introduction was refused."""

from ..errors import Conflict, DomainError


class RelationshipRefused(DomainError):
    code = "relationship_refused"


class AlreadyRecorded(Conflict):
    code = "already_recorded"


class AlreadyAsked(Conflict):
    code = "already_asked"


class RequestClosed(Conflict):
    """This request is no longer open."""

    code = "request_closed"
