"""Forms: log a one-to-one, send a thank-you note, ask a connector for an introduction."""

from wtforms import DateField, HiddenField, IntegerField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, StopValidation

from ...clock import utcnow
from ...i18n import lazy_gettext as _l
from ...relationships.connectors import ASK_NOTE_MIN
from ...relationships.interactions import ONE_TO_ONE_NOTE_LENGTH
from ...relationships.models import NOTE_LENGTH
from ..forms import Form
from ..http import id_from


class OneToOneForm(Form):
    met_on = DateField(
        _l("When did you meet?"),
        default=lambda: utcnow().date(),
        validators=[InputRequired(message=_l("Choose the day you met."))],
    )
    meeting_note = StringField(
        _l("One line about it (optional)"),
        validators=[Optional(), Length(max=ONE_TO_ONE_NOTE_LENGTH)],
        description=_l("The other member sees this line too."),
    )


class ThanksForm(Form):
    thanks_note = TextAreaField(
        _l("Your thank-you note"),
        validators=[DataRequired(message=_l("Write your note.")), Length(max=NOTE_LENGTH)],
    )
    # Set when the note thanks someone for an introduction.
    introduction_id = HiddenField()


class ConnectorField(IntegerField):
    """The connector's member id as the profile page sends it; anything else (too large for an id,
    not ASCII digits) is refused here with a message, before it reaches a query."""

    def process_formdata(self, valuelist):
        self.data = id_from(valuelist[0]) if valuelist else None

    def pre_validate(self, form):
        if self.raw_data and self.raw_data[0] and self.data is None:
            raise StopValidation(_l("Choose who to ask from the list of members who know you both."))


class AskConnectorForm(Form):
    connector_id = ConnectorField(validators=[InputRequired(message=_l("Choose who to ask."))])
    ask_note = TextAreaField(
        _l("Your note to them"),
        validators=[
            DataRequired(message=_l("Write a short personal note.")),
            Length(
                min=ASK_NOTE_MIN,
                max=NOTE_LENGTH,
                message=_l(
                    "Write %(min)d to %(max)d characters: who you want to meet and why.",
                    min=ASK_NOTE_MIN,
                    max=NOTE_LENGTH,
                ),
            ),
        ],
    )
    chapter = HiddenField()
