"""How a rule's refusal shows on a page: on the form that asked, or as a flash message. With
errors.py (pages and JSON), the one place that turns domain errors into what a member sees."""

from flask import flash

from ..errors import DomainError
from .forms import Form
from .unit_of_work import undo


class Refusal:
    """Runs the service calls in its block. A DomainError they raise is undone (what they wrote is
    rolled back) and shown on `form` (on `field`, else above the form) or, without a form, flashed;
    the block's caller reads `if not refused:` for success.

        with Refusal(form) as refused:
            member = services.register(...)
        if not refused:
            return redirect(...)
    """

    def __init__(self, form: Form | None = None, field: str | None = None):
        self.form, self.field = form, field
        self.error: DomainError | None = None

    def __bool__(self) -> bool:
        return self.error is not None

    def __enter__(self) -> "Refusal":
        return self

    def __exit__(self, _kind, error, _traceback) -> bool:
        if not isinstance(error, DomainError):
            return False
        undo()
        self.error = error
        if self.form is None:
            flash(error.message, "error")
        elif self.field is None:
            self.form.form_errors.append(error.message)
        else:
            self.form[self.field].errors.append(error.message)
        return True
