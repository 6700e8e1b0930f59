"""Domain errors: a rule refused an action; the web layer turns them into pages and JSON."""


class DomainError(Exception):
    """A rule refused an action. `status` is the HTTP status a view answers with."""

    status = 400
    code = "refused"

    def __init__(self, message: str | None = None):
        super().__init__(message or self.__doc__)
        self.message = message or (self.__doc__ or "").strip()


class NotFound(DomainError):
    """That page does not exist, or you do not have access to it."""

    status = 404
    code = "not_found"


class Forbidden(DomainError):
    """You are not allowed to do that."""

    status = 403
    code = "forbidden"


class Conflict(DomainError):
    status = 409
    code = "conflict"


class Unauthorized(DomainError):
    """Send a valid API token: Authorization: Bearer <token>."""

    status = 401
    code = "unauthorized"


class InvalidInput(DomainError):
    """Some parameters are not valid. `fields` maps each one to what is wrong with it."""

    status = 422
    code = "invalid_parameters"

    def __init__(self, fields: dict[str, list[str]]):
        self.fields = fields
        super().__init__(
            "; ".join(f"{name}: {' '.join(problems)}" for name, problems in sorted(fields.items()))
        )
