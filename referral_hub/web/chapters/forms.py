"""Forms for invitations, join requests and roster imports."""

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired, FileSize
from wtforms import EmailField, HiddenField, StringField, TextAreaField
from wtforms.validators import DataRequired, Email, Length, Optional

from ...chapters.roster import MAX_FILE_BYTES
from ...chapters.services import INVITATION_MESSAGE_LENGTH


class InviteForm(FlaskForm):
    email = EmailField(
        "Email address to invite",
        validators=[DataRequired(), Length(max=254), Email(message="Enter a valid email address.")],
    )
    message = TextAreaField(
        "A personal message (optional)",
        validators=[
            Optional(),
            Length(
                max=INVITATION_MESSAGE_LENGTH,
                message=f"Keep the message to {INVITATION_MESSAGE_LENGTH} characters or fewer.",
            ),
        ],
        description="Shown in the invitation email and on the join page: why you thought of them.",
    )


class JoinRequestForm(FlaskForm):
    slug = StringField(
        "Chapter code",
        validators=[DataRequired(), Length(max=60)],
        description="Your organizer can tell you the code, for example: downtown-professionals.",
    )


class RosterUploadForm(FlaskForm):
    roster = FileField(
        "Roster file (CSV)",
        validators=[
            FileRequired(message="Choose a CSV file."),
            FileSize(MAX_FILE_BYTES, message=f"The file is larger than {MAX_FILE_BYTES // 1000} kB."),
        ],
        description="Columns: name, email, headline, expertise. The first line names the columns.",
    )


class RosterConfirmForm(FlaskForm):
    # The good rows of the preview, as CSV; they are checked again before anyone is invited.
    rows = HiddenField(validators=[DataRequired()])
