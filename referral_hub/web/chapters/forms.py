"""Forms for invitations, join requests, roster imports and the chapter's settings."""

from flask_wtf.file import FileField, FileRequired, FileSize
from wtforms import EmailField, HiddenField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Email, Length, Optional, ValidationError

from ...chapters.roster import MAX_FILE_BYTES
from ...chapters.services import INVITATION_MESSAGE_LENGTH
from ...chapters.settings import InvalidChapterSetting, checked_settings
from ...i18n import LANGUAGES
from ...i18n import lazy_gettext as _l
from ..forms import Form


class InviteForm(Form):
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


class JoinRequestForm(Form):
    slug = StringField(
        _l("Chapter code"),
        validators=[DataRequired(), Length(max=60)],
        description=_l("Your organizer can tell you the code, for example: downtown-professionals."),
    )


class RosterUploadForm(Form):
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


class RosterConfirmForm(Form):
    # The good rows of the preview, as CSV; they are checked again before anyone is invited.
    rows = HiddenField(validators=[DataRequired()])


def _chapter_setting(name: str):
    """A field checked by the chapter-settings rule itself, its message shown on the field."""

    def check(_form, field) -> None:
        try:
            checked_settings(**{name: field.data or ""})
        except InvalidChapterSetting as error:
            raise ValidationError(error.message) from error

    return check


class ChapterSettingsForm(Form):
    timezone = StringField(
        _l("Time zone"),
        validators=[DataRequired(message=_l("Choose a time zone.")), _chapter_setting("timezone")],
        render_kw={"list": "time-zones", "autocomplete": "off", "spellcheck": "false"},
        description=_l(
            "An IANA name such as Europe/Madrid or America/New_York: dates on the chapter's pages and "
            "emails, its daily limits and the Monday digest follow it."
        ),
    )
    language = SelectField(
        _l("Language"),
        choices=[SelectChoice(code, name) for code, name in LANGUAGES.items()],
        validators=[_chapter_setting("language")],
        description=_l("For members whose browser asks for no language we offer."),
    )
    currency = StringField(
        _l("Currency (optional)"),
        validators=[Optional(), _chapter_setting("currency")],
        render_kw={"list": "currencies", "autocomplete": "off", "maxlength": 3},
        description=_l("A three-letter ISO 4217 code such as EUR or USD; leave it empty for plain numbers."),
    )
