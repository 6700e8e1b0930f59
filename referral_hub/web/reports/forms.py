"""The form that creates an API token."""

from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, Length

from ...i18n import lazy_gettext as _l
from ...reports.models import NAME_LENGTH
from ..forms import Form


class TokenForm(Form):
    name = StringField(
        _l("Token name"),
        validators=[DataRequired(message=_l("Give the token a name.")), Length(max=NAME_LENGTH)],
        description=_l("What will use it, e.g. “Monthly board spreadsheet”."),
    )
    # The service checks the chapter, with a clearer message than "Not a valid choice".
    chapter = SelectField(_l("Chapter"), validate_choice=False)
