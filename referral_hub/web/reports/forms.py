"""Forms for API tokens and for importing a member roster."""

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired, FileSize
from wtforms import HiddenField, SelectField, StringField
from wtforms.validators import DataRequired, Length

from ...chapters.roster import MAX_FILE_BYTES
from ...reports.models import NAME_LENGTH


class TokenForm(FlaskForm):
    name = StringField(
        "Token name",
        validators=[DataRequired(message="Give the token a name."), Length(max=NAME_LENGTH)],
        description="What will use it, e.g. “Monthly board spreadsheet”.",
    )
    # The service checks the chapter, with a clearer message than "Not a valid choice".
    chapter = SelectField("Chapter", validate_choice=False)


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
