"""The form for posting a need."""

from wtforms import DateField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from ...i18n import lazy_gettext as _l
from ..forms import Form


class NeedForm(Form):
    title = StringField(
        _l("What do you need?"),
        validators=[DataRequired(message=_l("Say in a line what you need.")), Length(max=120)],
        description=_l('One line, for example "An accountant who knows restaurants".'),
    )
    details = TextAreaField(
        _l("Details"),
        validators=[DataRequired(message=_l("Add a few details.")), Length(max=4000)],
        description=_l("Who would be ideal, and what would you like them to do?"),
    )
    category = StringField(
        _l("Category (optional)"),
        validators=[Optional(), Length(max=60)],
        description=_l("For example: legal, finance, marketing."),
    )
    expires_on = DateField(
        _l("Open until (optional)"),
        validators=[Optional()],
        description=_l("Defaults to 30 days from today."),
    )
