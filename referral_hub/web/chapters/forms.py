"""Forms for invitations, join requests and roster imports."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired, FileSize
from wtforms import EmailField, HiddenField, StringField, TextAreaField
from wtforms.validators import DataRequired, Email, Length, Optional

from ...chapters.roster import MAX_FILE_BYTES
from ...chapters.services import INVITATION_MESSAGE_LENGTH


class InviteForm(FlaskForm):
    email = EmailField(
        _l("Email address to invite"),
        validators=[DataRequired(), Length(max=254), Email(message=_l("Enter a valid email address."))],
    )
    message = TextAreaField(
        _l("A personal message (optional)"),
        validators=[
            Optional(),
            Length(
                max=INVITATION_MESSAGE_LENGTH,
                message=_l("Keep the message to %(num)d characters or fewer.", num=INVITATION_MESSAGE_LENGTH),
            ),
        ],
        description=_l("Shown in the invitation email and on the join page: why you thought of them."),
    )


class JoinRequestForm(FlaskForm):
    slug = StringField(
        _l("Chapter code"),
        validators=[DataRequired(), Length(max=60)],
        description=_l("Your organizer can tell you the code, for example: downtown-professionals."),
    )


class RosterUploadForm(FlaskForm):
    roster = FileField(
        _l("Roster file (CSV)"),
        validators=[
            FileRequired(message=_l("Choose a CSV file.")),
            FileSize(
                MAX_FILE_BYTES, message=_l("The file is larger than %(num)d kB.", num=MAX_FILE_BYTES // 1000)
            ),
        ],
        description=_l("Columns: name, email, headline, expertise. The first line names the columns."),
    )


class RosterConfirmForm(FlaskForm):
    # The good rows of the preview, as CSV; they are checked again before anyone is invited.
    rows = HiddenField(validators=[DataRequired()])
