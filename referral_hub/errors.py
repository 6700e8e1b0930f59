"""Domain errors: a rule refused an action; the web layer turns them into pages and JSON."""

from .i18n import lazy_gettext as _l


class DomainError(Exception):
    """A rule refused an action. `status` is the HTTP status a view answers with.

    The message a member reads is the class's `message` (`message = _l("…")`, in the request's
    language; the API's is English), or, for a class that has none yet, its docstring.
    """

    status = 400
    code = "refused"
    message = _l("That did not work.")

    def __init__(self, message: str | None = None):
        self.message = str(message or self._own_message())
        super().__init__(self.message)

    @classmethod
    def _own_message(cls) -> str:
        """The most specific class's message: its `message`, else its docstring."""
        for kind in cls.__mro__:
            own = vars(kind)
            if own.get("message") is not None:
                return own["message"]
            if own.get("__doc__"):
                return own["__doc__"].strip()
        return DomainError.message


class NotFound(DomainError):
    """Nothing to show: the page or record does not exist for the one asking."""

    status = 404
    code = "not_found"
    message = _l("That page does not exist, or you do not have access to it.")


class Forbidden(DomainError):
    """The one asking may not do that."""

    status = 403
    code = "forbidden"
    message = _l("You are not allowed to do that.")


class Conflict(DomainError):
    """The action clashes with the record's current state."""

    status = 409
    code = "conflict"
    message = _l("That clashes with a change made meanwhile. Reload the page and try again.")


class Unauthorized(DomainError):
    """No valid API token."""

    status = 401
    code = "unauthorized"
    message = _l("Send a valid API token: Authorization: Bearer <token>.")


class InvalidInput(DomainError):
    """Some parameters are not valid. `fields` maps each one to what is wrong with it."""

    status = 422
    code = "invalid_parameters"

    def __init__(self, fields: dict[str, list[str]]):
        self.fields = fields
        super().__init__(
            "; ".join(f"{name}: {' '.join(problems)}" for name, problems in sorted(fields.items()))
        )
