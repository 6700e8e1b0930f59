"""The form that creates an API token."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, Length

from ...reports.models import NAME_LENGTH


class TokenForm(FlaskForm):
    name = StringField(
        _l("Token name"),
        validators=[DataRequired(message=_l("Give the token a name.")), Length(max=NAME_LENGTH)],
        description=_l("What will use it, e.g. “Monthly board spreadsheet”."),
    )
    # The service checks the chapter, with a clearer message than "Not a valid choice".
    chapter = SelectField(_l("Chapter"), validate_choice=False)
